/* SPDX-License-Identifier: MIT */
/*
 * Reading Redis's save points, database count and persistence state from
 * the text of its replies, and comparing them with what a check expects.
 * Owns: nothing.
 */
#include "redis_inspect.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* How much of a server's value a message quotes. */
#define REDIS_INSPECT_QUOTE 64

static bool
redis_inspect_is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* A decimal number >= min at *s (no sign), advancing *s past it. */
static int
redis_inspect_number(const char **s, long long min, long long *out)
{
	const char *p = *s;
	char *end;

	if (*p < '0' || *p > '9')
		return -1;
	errno = 0;
	*out = strtoll(p, &end, 10);
	if (errno != 0 || *out < min ||
	    (*end != '\0' && !redis_inspect_is_blank(*end)))
		return -1;
	*s = end;
	return 0;
}

static int
redis_inspect_point_cmp(const void *a, const void *b)
{
	const struct redis_save_point *x = a, *y = b;

	if (x->seconds != y->seconds)
		return x->seconds < y->seconds ? -1 : 1;
	if (x->changes != y->changes)
		return x->changes < y->changes ? -1 : 1;
	return 0;
}

int
redis_inspect_parse_save(const char *s, struct redis_save *out)
{
	struct redis_save_point pt;
	size_t i, n = 0;

	out->n = 0;
	for (;;) {
		while (redis_inspect_is_blank(*s))
			s++;
		if (*s == '\0')
			break;
		if (redis_inspect_number(&s, 1, &pt.seconds) < 0)
			return -1;
		while (redis_inspect_is_blank(*s))
			s++;
		if (redis_inspect_number(&s, 0, &pt.changes) < 0)
			return -1;
		if (n == REDIS_INSPECT_SAVE_MAX)
			return -1;
		out->pt[n++] = pt;
	}
	qsort(out->pt, n, sizeof(out->pt[0]), redis_inspect_point_cmp);
	/* a point given twice is the same point */
	for (i = 0; i < n; i++)
		if (out->n == 0 ||
		    redis_inspect_point_cmp(
			&out->pt[out->n - 1], &out->pt[i]) != 0)
			out->pt[out->n++] = out->pt[i];
	return 0;
}

int
redis_inspect_parse_expect_save(const char *s, struct redis_save *out)
{
	if (strcmp(s, "none") == 0) {
		out->n = 0;
		return 0;
	}
	if (redis_inspect_parse_save(s, out) < 0)
		return -1;
	/* "none" says no save points; an empty list is a mistake */
	return out->n > 0 ? 0 : -1;
}

const char *
redis_inspect_check_expect_save(const char *v)
{
	struct redis_save s;

	if (*v == '\0')
		return NULL; /* not checked */
	if (redis_inspect_parse_expect_save(v, &s) < 0)
		return "invalid save points";
	return NULL;
}

bool
redis_inspect_save_equal(const struct redis_save *a, const struct redis_save *b)
{
	if (a->n != b->n)
		return false;
	for (size_t i = 0; i < a->n; i++)
		if (redis_inspect_point_cmp(&a->pt[i], &b->pt[i]) != 0)
			return false;
	return true;
}

/* Copy at most REDIS_INSPECT_QUOTE bytes of s, printable ASCII only. */
static void
redis_inspect_quote(const char *s, char *buf, size_t len)
{
	size_t i, n = 0;

	for (i = 0; s[i] != '\0' && n + 1 < len; i++) {
		if (i == REDIS_INSPECT_QUOTE) {
			if (n + 3 < len) {
				memcpy(buf + n, "...", 3);
				n += 3;
			}
			break;
		}
		buf[n++] = s[i] >= 0x20 && s[i] < 0x7f ? s[i] : '?';
	}
	buf[n] = '\0';
}

/* "900 1 300 10": expect as written, its blanks made single spaces. */
static void
redis_inspect_words(const char *s, char *buf, size_t len)
{
	size_t n = 0;
	bool gap = false;

	for (; *s != '\0' && n + 1 < len; s++) {
		if (redis_inspect_is_blank(*s)) {
			gap = n > 0;
			continue;
		}
		if (gap && n + 2 < len)
			buf[n++] = ' ';
		gap = false;
		buf[n++] = *s >= 0x20 && *s < 0x7f ? *s : '?';
	}
	buf[n] = '\0';
}

bool
redis_inspect_save_drift(
    const char *live, const char *expect, char *text, size_t len)
{
	struct redis_save l, e;
	char lq[REDIS_INSPECT_QUOTE + 4], words[160], eq[164];
	bool lok = redis_inspect_parse_save(live, &l) == 0;

	if (redis_inspect_parse_expect_save(expect, &e) < 0)
		e.n = 0; /* config.c refused it: not reached */
	if (lok && redis_inspect_save_equal(&l, &e))
		return false;
	redis_inspect_quote(live, lq, sizeof(lq));
	if (e.n == 0) {
		snprintf(eq, sizeof(eq), "none");
	} else {
		redis_inspect_words(expect, words, sizeof(words));
		snprintf(eq, sizeof(eq), "\"%s\"", words);
	}
	snprintf(text, len, "save is \"%s\"%s, expected %s", lq,
	    !lok ? " (not save points)" : (l.n == 0 ? " (no snapshots)" : ""),
	    eq);
	return true;
}

bool
redis_inspect_databases_drift(
    const char *live, int expect, char *text, size_t len)
{
	char lq[REDIS_INSPECT_QUOTE + 4];
	const char *s = live;
	long long n;

	if (redis_inspect_number(&s, 0, &n) == 0 && *s == '\0' && n >= expect)
		return false;
	redis_inspect_quote(live, lq, sizeof(lq));
	snprintf(
	    text, len, "databases is %s, expected at least %d", lq, expect);
	return true;
}

/* ---- INFO persistence ---- */

struct redis_inspect_field {
	const char *key;  /* the INFO field */
	bool aof;	  /* only with aof_enabled:1 */
	const char *what; /* what a value other than ok means */
};

static const struct redis_inspect_field redis_inspect_fields[] = {
    {"rdb_last_bgsave_status", false,
	"the last background save failed (see the Redis log)"},
    {"aof_last_write_status", true,
	"writing the append-only file failed (see the Redis log)"},
    {"aof_last_bgrewrite_status", true,
	"the last rewrite of the append-only file failed (see the Redis log)"},
};

#define REDIS_INSPECT_NFIELDS \
	(sizeof(redis_inspect_fields) / sizeof(redis_inspect_fields[0]))

/*
 * The value of field key in info into buf (len bytes, truncated):
 * true when found.
 */
static bool
redis_inspect_info_value(
    const char *info, const char *key, char *buf, size_t len)
{
	size_t klen = strlen(key), n;
	const char *line = info, *end;

	while (*line != '\0') {
		end = line + strcspn(line, "\r\n");
		if ((size_t)(end - line) > klen && line[klen] == ':' &&
		    strncmp(line, key, klen) == 0) {
			line += klen + 1;
			n = (size_t)(end - line);
			if (n >= len)
				n = len - 1;
			memcpy(buf, line, n);
			buf[n] = '\0';
			return true;
		}
		line = end + strspn(end, "\r\n");
	}
	return false;
}

size_t
redis_inspect_persistence(
    const char *info, struct redis_inspect_problem *out, size_t max)
{
	char v[REDIS_INSPECT_QUOTE + 1], q[REDIS_INSPECT_QUOTE + 4];
	const struct redis_inspect_field *f;
	bool aof;
	size_t n = 0;

	aof = redis_inspect_info_value(info, "aof_enabled", v, sizeof(v)) &&
	    strcmp(v, "1") == 0;
	for (size_t i = 0; i < REDIS_INSPECT_NFIELDS && n < max; i++) {
		f = &redis_inspect_fields[i];
		if ((f->aof && !aof) ||
		    !redis_inspect_info_value(info, f->key, v, sizeof(v)) ||
		    strcmp(v, "ok") == 0)
			continue;
		redis_inspect_quote(v, q, sizeof(q));
		snprintf(out[n].key, sizeof(out[n].key), "%s", f->key);
		snprintf(out[n].text, sizeof(out[n].text), "%s is %s: %s",
		    f->key, q, f->what);
		n++;
	}
	return n;
}

/* ---- the production profile ---- */

bool
redis_inspect_noauth_answered(bool is_error, const char *text)
{
	static const char *const past_auth[] = {
	    "LOADING", "BUSY", "MASTERDOWN", "MISCONF", "OOM", "READONLY"};
	size_t n;

	if (!is_error)
		return true;
	if (text == NULL)
		return false;
	for (size_t i = 0; i < sizeof(past_auth) / sizeof(past_auth[0]); i++) {
		n = strlen(past_auth[i]);
		if (strncmp(text, past_auth[i], n) == 0 &&
		    (text[n] == ' ' || text[n] == '\0'))
			return true;
	}
	return false;
}

void
redis_inspect_auth_error(
    const char *reply, const char *password, char *buf, size_t len)
{
	const char *args = strstr(reply, ", with args beginning with");
	size_t n = args != NULL ? (size_t)(args - reply) : strlen(reply);

	if (len == 0)
		return;
	if (n >= len)
		n = len - 1;
	memcpy(buf, reply, n);
	buf[n] = '\0';
	if (password != NULL && password[0] != '\0' &&
	    strstr(buf, password) != NULL)
		snprintf(
		    buf, len, "(the reply quoted the password: not shown)");
}
