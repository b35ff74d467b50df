/* SPDX-License-Identifier: MIT */
/*
 * A growing string, wiping its copies when it carries secrets.
 * Owns: the bytes of each struct strbuf.
 */
#include "strbuf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void
strbuf_free(struct strbuf *b)
{
	if (b->s != NULL) {
		if (b->wipe)
			explicit_bzero(b->s, b->cap);
		free(b->s);
	}
	b->s = NULL;
	b->len = b->cap = 0;
}

static int
strbuf_grow(struct strbuf *b, size_t need)
{
	size_t cap = b->cap != 0 ? b->cap : 64;
	char *ns;

	while (cap < need)
		cap *= 2;
	if (!b->wipe) {
		ns = realloc(b->s, cap);
		if (ns == NULL)
			return -1;
	} else {
		/* No realloc: it could leave a copy of a secret behind. */
		ns = malloc(cap);
		if (ns == NULL)
			return -1;
		if (b->s != NULL) {
			memcpy(ns, b->s, b->len);
			explicit_bzero(b->s, b->cap);
			free(b->s);
		}
	}
	b->s = ns;
	b->cap = cap;
	return 0;
}

void
strbuf_add(struct strbuf *b, const char *s, size_t n)
{
	if (b->oom)
		return;
	if (b->len + n + 1 > b->cap && strbuf_grow(b, b->len + n + 1) < 0) {
		b->oom = true;
		return;
	}
	memcpy(b->s + b->len, s, n);
	b->len += n;
	b->s[b->len] = '\0';
}

void
strbuf_puts(struct strbuf *b, const char *s)
{
	strbuf_add(b, s, strlen(s));
}

void
strbuf_vprintf(struct strbuf *b, const char *fmt, va_list ap)
{
	char small[256];
	va_list aq;
	char *big;
	int n;

	va_copy(aq, ap);
	n = vsnprintf(small, sizeof(small), fmt, aq);
	va_end(aq);
	if (n < 0) {
		b->oom = true;
		return;
	}
	if ((size_t)n < sizeof(small)) {
		strbuf_add(b, small, (size_t)n);
		return;
	}
	big = malloc((size_t)n + 1);
	if (big == NULL) {
		b->oom = true;
		return;
	}
	vsnprintf(big, (size_t)n + 1, fmt, ap);
	strbuf_add(b, big, (size_t)n);
	if (b->wipe)
		explicit_bzero(big, (size_t)n);
	free(big);
}

void
strbuf_printf(struct strbuf *b, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	strbuf_vprintf(b, fmt, ap);
	va_end(ap);
}

void
strbuf_quote(struct strbuf *b, const char *s, size_t max)
{
	size_t i;

	strbuf_puts(b, "\"");
	for (i = 0; s[i] != '\0' && i < max; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '"' || c == '\\')
			strbuf_printf(b, "\\%c", c);
		else if (c < 0x20 || c == 0x7f)
			strbuf_printf(b, "\\x%02x", c);
		else
			strbuf_add(b, s + i, 1);
	}
	if (s[i] != '\0')
		strbuf_puts(b, "...");
	strbuf_puts(b, "\"");
}

char *
strbuf_take(struct strbuf *b)
{
	char *s;

	if (b->oom) {
		strbuf_free(b);
		return NULL;
	}
	if (b->s == NULL)
		return strdup("");
	s = b->s;
	b->s = NULL;
	b->len = b->cap = 0;
	return s;
}

void *
strbuf_grow_array(void *arr, size_t *cap, size_t need, size_t size)
{
	size_t ncap;
	void *p;

	if (need <= *cap)
		return arr;
	ncap = *cap != 0 ? *cap * 2 : 8;
	while (ncap < need)
		ncap *= 2;
	p = realloc(arr, ncap * size);
	if (p == NULL)
		return NULL;
	*cap = ncap;
	return p;
}
