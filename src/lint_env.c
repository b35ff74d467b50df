/* SPDX-License-Identifier: MIT */
/*
 * readyd lint-env: the data model's environment schema
 * (../shared/seed/data-model.md, "Environment Variable Schema" and the
 * validation rules of each entity) applied to env files.
 * Owns: the parsed variables of one file while it is checked.
 */
#include "lint_env.h"

#include "config.h"
#include "runtime.h"

#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LINT_ENV_MAX_FILE (1024 * 1024)

struct lint_env_var {
	char *key;
	char *value; /* may be a secret: wiped before it is freed */
	int line;
	bool bad; /* its value did not parse: told once, then ignored */
};

struct lint_env {
	const char *file;
	struct lint_env_var *vars;
	size_t n, cap;
	struct strbuf *out;
	int errors, warnings;
	bool production;
};

/* Variables the schema says are required (VAR or VAR_FILE). */
static const char *const lint_env_required[] = {
    "POSTGRES_USER", "POSTGRES_PASSWORD", "DB_USER", "DB_PASSWORD"};

static void
lint_env_msg(struct lint_env *l, bool warn, int line, const char *key,
    const char *problem, const char *accepted)
{
	strbuf_printf(l->out, "%s:%d: %s%s: %s (accepted: %s)\n", l->file, line,
	    warn ? "warning: " : "", key, problem, accepted);
	if (warn)
		l->warnings++;
	else
		l->errors++;
}

static void
lint_env_wipe(char *s)
{
	if (s != NULL) {
		explicit_bzero(s, strlen(s));
		free(s);
	}
}

/* The last assignment of key (compose: the last one wins). */
static struct lint_env_var *
lint_env_last(struct lint_env *l, const char *key)
{
	for (size_t i = l->n; i > 0; i--)
		if (strcmp(l->vars[i - 1].key, key) == 0)
			return &l->vars[i - 1];
	return NULL;
}

/* The last assignment of key, or NULL (also when its value is bad). */
static struct lint_env_var *
lint_env_get(struct lint_env *l, const char *key)
{
	struct lint_env_var *v = lint_env_last(l, key);

	return v != NULL && !v->bad ? v : NULL;
}

static bool
lint_env_is_bad(struct lint_env *l, const char *key)
{
	struct lint_env_var *v = lint_env_last(l, key);

	return v != NULL && v->bad;
}

static int
lint_env_put(struct lint_env *l, const char *key, size_t keylen,
    struct strbuf *value, int line, bool bad)
{
	struct lint_env_var *v;

	v = strbuf_grow_array(l->vars, &l->cap, l->n + 1, sizeof(*v));
	if (v == NULL)
		return -1;
	l->vars = v;
	v = &l->vars[l->n];
	v->key = strndup(key, keylen);
	v->value = strbuf_take(value);
	v->line = line;
	v->bad = bad;
	if (v->key == NULL || v->value == NULL) {
		free(v->key);
		lint_env_wipe(v->value);
		return -1;
	}
	l->n++;
	return 0;
}

/*
 * Parse the value after '=' on one line [p, end): 'single' (literal),
 * "double" (\n \t \\ \" \$ escapes), or bare (trailing blanks and a
 * " #comment" dropped), as docker compose reads env files. Returns 0,
 * or -1 with *problem set.
 */
static int
lint_env_value(
    const char *p, const char *end, struct strbuf *v, const char **problem)
{
	if (p < end && (*p == '\'' || *p == '"')) {
		char q = *p++;

		for (; p < end && *p != q; p++) {
			if (q == '"' && *p == '\\' && p + 1 < end) {
				p++;
				strbuf_add(v,
				    *p == 'n'	    ? "\n"
					: *p == 't' ? "\t"
						    : p,
				    1);
				continue;
			}
			strbuf_add(v, p, 1);
		}
		if (p >= end) {
			*problem = "unterminated quote";
			return -1;
		}
		for (p++; p < end && (*p == ' ' || *p == '\t'); p++)
			;
		if (p < end && *p != '#') {
			*problem = "text after the closing quote";
			return -1;
		}
		return 0;
	}
	const char *e = p;

	for (; e < end; e++)
		if (*e == '#' && (e == p || e[-1] == ' ' || e[-1] == '\t'))
			break;
	while (e > p && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
		e--;
	strbuf_add(v, p, (size_t)(e - p));
	return 0;
}

static void
lint_env_parse(struct lint_env *l, const char *text, size_t len)
{
	const char *p = text, *end = text + len;
	int line = 0;

	while (p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		const char *le = eol != NULL ? eol : end;
		const char *k, *problem = NULL;
		struct strbuf v = {.wipe = true};
		bool bad;

		line++;
		while (p < le && (*p == ' ' || *p == '\t'))
			p++;
		if (le > p && le[-1] == '\r')
			le--;
		if (p == le || *p == '#')
			goto next;
		if ((size_t)(le - p) > 7 && strncmp(p, "export", 6) == 0 &&
		    (p[6] == ' ' || p[6] == '\t'))
			for (p += 7; p < le && (*p == ' ' || *p == '\t'); p++)
				;
		k = p;
		if (p < le && (isalpha((unsigned char)*p) || *p == '_'))
			while (
			    p < le && (isalnum((unsigned char)*p) || *p == '_'))
				p++;
		if (p == k || p >= le || *p != '=') {
			lint_env_msg(l, false, line, "-", "malformed line",
			    "KEY=VALUE, export KEY=VALUE, # comment, "
			    "blank");
			goto next;
		}
		bad = lint_env_value(p + 1, le, &v, &problem) < 0;
		if (bad) {
			char *key = strndup(k, (size_t)(p - k));

			lint_env_msg(l, false, line, key ? key : "?", problem,
			    "'literal', \"escaped\" or a bare value");
			free(key);
			strbuf_free(&v); /* wiped: part of a secret maybe */
		}
		if (v.oom ||
		    lint_env_put(l, k, (size_t)(p - k), &v, line, bad) < 0)
			lint_env_msg(
			    l, false, line, "lint-env", "out of memory", "-");
	next:
		strbuf_free(&v);
		p = eol != NULL ? eol + 1 : end;
	}
}

/*
 * Set to a non-empty value, directly or as VAR_FILE (readyd's ${VAR}
 * reads VAR_FILE when VAR is unset or empty, as the postgres image does).
 */
static bool
lint_env_is_filled(struct lint_env *l, const char *key)
{
	struct lint_env_var *v = lint_env_get(l, key), *f;
	char fkey[64];

	if (v != NULL && v->value[0] != '\0')
		return true;
	snprintf(fkey, sizeof(fkey), "%s_FILE", key);
	f = lint_env_get(l, fkey);
	return f != NULL && f->value[0] != '\0';
}

static bool
lint_env_int(const char *s, long min, long max, long *out)
{
	char *e;
	long n;

	if (*s == '\0' || !isdigit((unsigned char)*s))
		return false;
	errno = 0;
	n = strtol(s, &e, 10);
	if (errno != 0 || *e != '\0' || n < min || n > max)
		return false;
	if (out != NULL)
		*out = n;
	return true;
}

static void
lint_env_required_vars(struct lint_env *l)
{
	size_t n = sizeof(lint_env_required) / sizeof(lint_env_required[0]);

	for (size_t i = 0; i < n; i++) {
		const char *key = lint_env_required[i];
		struct lint_env_var *v = lint_env_get(l, key);
		char fkey[64];

		snprintf(fkey, sizeof(fkey), "%s_FILE", key);
		if (lint_env_is_bad(l, key) || lint_env_is_bad(l, fkey))
			continue; /* told already */
		if (v == NULL && lint_env_get(l, fkey) == NULL)
			lint_env_msg(l, false, 0, key, "required, missing",
			    "a non-empty value, or VAR_FILE");
		else if (!lint_env_is_filled(l, key))
			/* a template: fatal only in production */
			lint_env_msg(l, !l->production,
			    v != NULL ? v->line : lint_env_get(l, fkey)->line,
			    key,
			    l->production ? "empty in the production profile"
					  : "empty: fill it in before use",
			    "a non-empty value, or VAR_FILE");
	}
}

static void
lint_env_names(struct lint_env *l)
{
	static const char *const keys[] = {"POSTGRES_DB", "DB_NAME"};

	for (size_t i = 0; i < 2; i++) {
		struct lint_env_var *v = lint_env_get(l, keys[i]);
		const char *s;

		if (v == NULL)
			continue;
		for (s = v->value; isalnum((unsigned char)*s) || *s == '_'; s++)
			;
		if (v->value[0] == '\0' || *s != '\0')
			lint_env_msg(l, false, v->line, keys[i],
			    "not a valid database name", "[A-Za-z0-9_]+");
	}
}

/* Every *_PORT in 1-65535; DB_PORT on PgBouncer. */
static void
lint_env_ports(struct lint_env *l)
{
	for (size_t i = 0; i < l->n; i++) {
		struct lint_env_var *v = &l->vars[i];
		size_t kl = strlen(v->key);

		if (lint_env_get(l, v->key) != v) /* an earlier duplicate */
			continue;
		if (kl < 5 || strcmp(v->key + kl - 5, "_PORT") != 0)
			continue;
		if (!lint_env_int(v->value, 1, 65535, NULL))
			lint_env_msg(l, false, v->line, v->key,
			    "not a port number", "1-65535");
	}
}

static void
lint_env_pgbouncer(struct lint_env *l)
{
	struct lint_env_var *v = lint_env_get(l, "PGBOUNCER_POOL_SIZE");
	struct lint_env_var *pg = lint_env_get(l, "POSTGRES_PORT");
	long port;

	if (v != NULL && !lint_env_int(v->value, 25, 50, NULL))
		lint_env_msg(l, false, v->line, "PGBOUNCER_POOL_SIZE",
		    "out of range", "25-50");
	v = lint_env_get(l, "DB_HOST");
	if (v != NULL && strcmp(v->value, "postgres") == 0)
		lint_env_msg(l, true, v->line, "DB_HOST",
		    "services would bypass PgBouncer",
		    "pgbouncer, PgBouncer's address");
	v = lint_env_get(l, "DB_PORT");
	if (v == NULL || !lint_env_int(v->value, 1, 65535, &port))
		return; /* absent: default 6432; bad: told by ports */
	if (port == 5432 ||
	    (pg != NULL && strcmp(pg->value, v->value) == 0 && port != 6432))
		lint_env_msg(l, true, v->line, "DB_PORT",
		    "services would bypass PgBouncer (PostgreSQL's "
		    "port)",
		    "6432");
	else if (port != 6432)
		lint_env_msg(l, true, v->line, "DB_PORT",
		    "not PgBouncer's standard port", "6432");
}

static void
lint_env_misc(struct lint_env *l)
{
	struct lint_env_var *v = lint_env_get(l, "DB_CONNECT_TIMEOUT");

	if (v != NULL && !lint_env_int(v->value, 1, 2147483647, NULL))
		lint_env_msg(l, false, v->line, "DB_CONNECT_TIMEOUT",
		    "not a positive integer", "seconds, 1 or more");
	v = lint_env_get(l, "READYD_PROFILE");
	if (v != NULL && v->value[0] != '\0' &&
	    strcmp(v->value, "development") != 0 &&
	    strcmp(v->value, "production") != 0)
		lint_env_msg(l, false, v->line, "READYD_PROFILE",
		    "unknown profile", "development, production");
	if (l->production && !lint_env_is_filled(l, "REDIS_PASSWORD") &&
	    !lint_env_is_bad(l, "REDIS_PASSWORD") &&
	    !lint_env_is_bad(l, "REDIS_PASSWORD_FILE")) {
		struct lint_env_var *r = lint_env_get(l, "REDIS_PASSWORD");

		lint_env_msg(l, false, r != NULL ? r->line : 0,
		    "REDIS_PASSWORD",
		    r != NULL ? "empty in the production profile"
			      : "missing in the production profile",
		    "a non-empty value, or REDIS_PASSWORD_FILE");
	}
}

int
lint_env(const char *file, const char *text, size_t len, struct strbuf *out,
    int *warnings)
{
	struct lint_env l = {.file = file, .out = out};
	struct lint_env_var *prof;

	lint_env_parse(&l, text, len);
	prof = lint_env_get(&l, "READYD_PROFILE");
	l.production = prof != NULL && strcmp(prof->value, "production") == 0;
	lint_env_required_vars(&l);
	lint_env_names(&l);
	lint_env_ports(&l);
	lint_env_pgbouncer(&l);
	lint_env_misc(&l);
	for (size_t i = 0; i < l.n; i++) {
		free(l.vars[i].key);
		lint_env_wipe(l.vars[i].value);
	}
	free(l.vars);
	if (warnings != NULL)
		*warnings = l.warnings;
	return l.errors;
}

/* Read a whole file (at most LINT_ENV_MAX_FILE bytes) into *buf. */
static int
lint_env_read(const char *path, struct strbuf *buf, const char **why)
{
	FILE *f = fopen(path, "r");
	char chunk[4096];
	size_t n;

	if (f == NULL) {
		*why = strerror(errno);
		return -1;
	}
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
		strbuf_add(buf, chunk, n);
		if (buf->len > LINT_ENV_MAX_FILE) {
			*why = "larger than 1 MiB";
			fclose(f);
			return -1;
		}
	}
	explicit_bzero(chunk, sizeof(chunk));
	if (ferror(f) || buf->oom) {
		*why = buf->oom ? "out of memory" : "read error";
		fclose(f);
		return -1;
	}
	fclose(f);
	return 0;
}

int
lint_env_main(int argc, char **argv)
{
	int errors = 0;

	if (argc < 2) {
		fprintf(stderr,
		    "readyd: lint-env: no FILE given\n"
		    "usage: readyd lint-env FILE...\n");
		return RUNTIME_EXIT_USAGE;
	}
	for (int i = 1; i < argc; i++)
		if (argv[i][0] == '-') {
			fprintf(stderr,
			    "readyd: lint-env: unknown option: %s\n"
			    "usage: readyd lint-env FILE...\n",
			    argv[i]);
			return RUNTIME_EXIT_USAGE;
		}
	for (int i = 1; i < argc; i++) {
		struct strbuf text = {.wipe = true}, out = {0};
		const char *why = NULL;

		if (lint_env_read(argv[i], &text, &why) < 0) {
			printf("%s:0: -: cannot read: %s (accepted: a "
			       "readable env file)\n",
			    argv[i], why);
			errors++;
		} else {
			errors += lint_env(argv[i], text.s ? text.s : "",
			    text.len, &out, NULL);
			if (out.s != NULL)
				fputs(out.s, stdout);
		}
		strbuf_free(&text);
		strbuf_free(&out);
	}
	fflush(stdout);
	return errors > 0 ? CONFIG_EXIT : RUNTIME_EXIT_READY;
}
