/* SPDX-License-Identifier: MIT */
/*
 * A growing NUL-terminated string for building messages and values.
 * Owns: the bytes of each struct strbuf.
 */
#ifndef READYD_STRBUF_H
#define READYD_STRBUF_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

/*
 * Start with struct strbuf b = {0}; set .wipe when secrets may pass
 * through it: every copy it lets go of is zeroed first (no realloc,
 * which could leave one behind). An allocation failure sets oom; later
 * appends do nothing and strbuf_take returns NULL.
 */
struct strbuf {
	char *s;    /* owned; NUL-terminated when not NULL */
	size_t len; /* bytes in s */
	size_t cap; /* bytes allocated */
	bool oom;   /* an allocation failed; s is stale */
	bool wipe;  /* zero memory before freeing it */
};

/* Free the bytes (wiped if b->wipe) and empty b. */
void strbuf_free(struct strbuf *b);

/* Append n bytes of s. */
void strbuf_add(struct strbuf *b, const char *s, size_t n);

/* Append the string s. */
void strbuf_puts(struct strbuf *b, const char *s);

/* Append formatted text. */
void strbuf_printf(struct strbuf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void strbuf_vprintf(struct strbuf *b, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

/*
 * Append s between double quotes, '"' and '\' escaped, control bytes as
 * \xNN, cut after max bytes with "...".
 */
void strbuf_quote(struct strbuf *b, const char *s, size_t max);

/*
 * The string built so far ("" when nothing was added), for the caller to
 * free; b is left empty. NULL if an allocation failed.
 */
char *strbuf_take(struct strbuf *b);

/*
 * Grow an array of size-byte elements to hold need of them, doubling
 * *cap. Returns the (maybe moved) array, or NULL if out of memory (arr
 * is then untouched).
 */
void *strbuf_grow_array(void *arr, size_t *cap, size_t need, size_t size);

#endif /* READYD_STRBUF_H */
