/* SPDX-License-Identifier: MIT */
/*
 * Helpers of the fuzz targets: reading fields from the fuzzer's bytes,
 * and checking that outputs are UTF-8 and Prometheus text.
 * Owns: nothing.
 */
#include "fuzz.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void
fuzz_fail(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("fuzz: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	abort();
}

/* ---- reading the input ---- */

uint8_t
fuzz_byte(struct fuzz_in *in)
{
	if (in->n == 0)
		return 0;
	in->n--;
	return *in->p++;
}

uint32_t
fuzz_u32(struct fuzz_in *in)
{
	uint32_t v = 0;

	for (int i = 0; i < 4; i++)
		v |= (uint32_t)fuzz_byte(in) << (8 * i);
	return v;
}

char *
fuzz_strndup(const uint8_t *d, size_t n)
{
	char *s = malloc(n + 1);

	if (s == NULL)
		fuzz_fail("out of memory");
	if (n > 0)
		memcpy(s, d, n);
	s[n] = '\0';
	return s;
}

char *
fuzz_field(struct fuzz_in *in)
{
	const uint8_t *end = memchr(in->p, FUZZ_SEP, in->n);
	size_t len = end != NULL ? (size_t)(end - in->p) : in->n;
	char *s = fuzz_strndup(in->p, len);

	in->p += len;
	in->n -= len;
	if (in->n > 0) { /* the separator */
		in->p++;
		in->n--;
	}
	return s;
}

/* ---- UTF-8 ---- */

bool
fuzz_utf8_valid(const char *s, size_t n)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0;

	while (i < n) {
		unsigned char c = u[i];
		uint32_t cp;
		size_t len;

		if (c < 0x80) {
			i++;
			continue;
		} else if ((c & 0xe0) == 0xc0) {
			len = 2;
			cp = c & 0x1f;
		} else if ((c & 0xf0) == 0xe0) {
			len = 3;
			cp = c & 0x0f;
		} else if ((c & 0xf8) == 0xf0) {
			len = 4;
			cp = c & 0x07;
		} else {
			return false;
		}
		if (i + len > n)
			return false;
		for (size_t k = 1; k < len; k++) {
			if ((u[i + k] & 0xc0) != 0x80)
				return false;
			cp = (cp << 6) | (u[i + k] & 0x3f);
		}
		if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) ||
		    (len == 4 && cp < 0x10000) || cp > 0x10ffff ||
		    (cp >= 0xd800 && cp <= 0xdfff))
			return false;
		i += len;
	}
	return true;
}

/* ---- Prometheus text format ---- */

static bool
prom_is_name_start(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
	    c == ':';
}

static bool
prom_is_name_char(char c)
{
	return prom_is_name_start(c) || (c >= '0' && c <= '9');
}

/* Length of the metric (colons) or label name at s; 0 if none. */
static size_t
prom_name(const char *s, const char *end, bool label)
{
	size_t n = 0;

	if (s >= end || !prom_is_name_start(s[0]) || (label && s[0] == ':'))
		return 0;
	while (
	    s + n < end && prom_is_name_char(s[n]) && !(label && s[n] == ':'))
		n++;
	return n;
}

/* A sample value: a float as Go's ParseFloat takes it, NaN, +Inf, -Inf. */
static bool
prom_value_ok(const char *s, size_t n)
{
	char buf[64], *end;

	if (n == 0 || n >= sizeof(buf))
		return false;
	memcpy(buf, s, n);
	buf[n] = '\0';
	if (strcmp(buf, "NaN") == 0 || strcmp(buf, "+Inf") == 0 ||
	    strcmp(buf, "-Inf") == 0)
		return true;
	for (size_t i = 0; i < n; i++)
		if (strchr("0123456789+-.eE", buf[i]) == NULL)
			return false;
	strtod(buf, &end);
	return *end == '\0';
}

static bool
prom_timestamp_ok(const char *s, size_t n)
{
	size_t i = (n > 0 && s[0] == '-') ? 1 : 0;

	if (i == n)
		return false;
	for (; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return true;
}

#define PROM_MAX_LABELS 16

/* One sample line [s, end). Returns NULL or the problem. */
static const char *
prom_sample(const char *s, const char *end)
{
	const char *labels[PROM_MAX_LABELS];
	size_t lablen[PROM_MAX_LABELS], nlab = 0;
	size_t n = prom_name(s, end, false);
	const char *sp;

	if (n == 0)
		return "no metric name";
	s += n;
	if (s < end && *s == '{') {
		s++;
		while (s < end && *s != '}') {
			n = prom_name(s, end, true);
			if (n == 0)
				return "bad label name";
			for (size_t k = 0; k < nlab; k++)
				if (lablen[k] == n &&
				    memcmp(labels[k], s, n) == 0)
					return "label given twice";
			if (nlab == PROM_MAX_LABELS)
				return "too many labels";
			labels[nlab] = s;
			lablen[nlab++] = n;
			s += n;
			if (end - s < 2 || s[0] != '=' || s[1] != '"')
				return "label without =\"";
			s += 2;
			while (s < end && *s != '"') {
				if (*s == '\\') {
					if (s + 1 >= end ||
					    strchr("\\\"n", s[1]) == NULL)
						return "bad escape in label";
					s++;
				}
				s++;
			}
			if (s >= end)
				return "unterminated label value";
			s++; /* the quote */
			if (s < end && *s == ',')
				s++;
			else if (s < end && *s != '}')
				return "junk after label value";
		}
		if (s >= end)
			return "unterminated label set";
		s++;
	}
	if (s >= end || *s != ' ')
		return "no space before the value";
	s++;
	sp = memchr(s, ' ', (size_t)(end - s));
	if (!prom_value_ok(s, (size_t)((sp != NULL ? sp : end) - s)))
		return "bad value";
	if (sp != NULL && !prom_timestamp_ok(sp + 1, (size_t)(end - sp - 1)))
		return "bad timestamp";
	return NULL;
}

/* "# HELP name text" or "# TYPE name kind"; other comments pass. */
static const char *
prom_comment(const char *s, const char *end)
{
	static const char *const kinds[] = {
	    "counter", "gauge", "histogram", "summary", "untyped"};
	bool help;
	size_t n;

	if (end - s >= 7 && memcmp(s, "# HELP ", 7) == 0)
		help = true;
	else if (end - s >= 7 && memcmp(s, "# TYPE ", 7) == 0)
		help = false;
	else
		return NULL;
	s += 7;
	n = prom_name(s, end, false);
	if (n == 0)
		return "HELP or TYPE without a metric name";
	s += n;
	if (help) {
		if (s < end && *s != ' ')
			return "junk after the HELP name";
		for (; s < end; s++)
			if (*s == '\\' &&
			    (s + 1 >= end || (s[1] != '\\' && s[1] != 'n')))
				return "bad escape in HELP";
			else if (*s == '\\')
				s++;
		return NULL;
	}
	if (s >= end || *s != ' ')
		return "TYPE without a kind";
	s++;
	for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++)
		if ((size_t)(end - s) == strlen(kinds[k]) &&
		    memcmp(s, kinds[k], (size_t)(end - s)) == 0)
			return NULL;
	return "unknown TYPE";
}

int
fuzz_prom_check(
    const char *text, size_t len, bool utf8, char *why, size_t whylen)
{
	const char *s = text, *end = text + len;
	int line = 0;

	if (utf8 && !fuzz_utf8_valid(text, len)) {
		snprintf(why, whylen, "not UTF-8");
		return -1;
	}
	if (len > 0 && text[len - 1] != '\n') {
		snprintf(why, whylen, "no final newline");
		return -1;
	}
	if (memchr(text, '\0', len) != NULL) {
		snprintf(why, whylen, "a NUL byte");
		return -1;
	}
	while (s < end) {
		const char *nl = memchr(s, '\n', (size_t)(end - s));
		const char *problem;

		line++;
		if (nl == s)
			problem = NULL; /* empty lines are ignored */
		else if (*s == '#')
			problem = prom_comment(s, nl);
		else
			problem = prom_sample(s, nl);
		if (problem != NULL) {
			snprintf(why, whylen, "line %d: %s: %.*s", line,
			    problem, (int)(nl - s > 200 ? 200 : nl - s), s);
			return -1;
		}
		s = nl + 1;
	}
	return 0;
}
