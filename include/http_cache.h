/* SPDX-License-Identifier: MIT */
/*
 * Rendered HTTP bodies kept while the state they show does not change, so
 * that a request costs a copy of bytes, not a render.
 * Owns: struct http_cache and the bodies in it.
 */
#ifndef READYD_HTTP_CACHE_H
#define READYD_HTTP_CACHE_H

#include <stdbool.h>
#include <stdint.h>

struct evbuffer;
struct http_cache;

/* Bodies kept at most; the oldest entry makes room for a new key. */
#define HTTP_CACHE_SLOTS 64

/* A new, empty cache; NULL when out of memory. */
struct http_cache *http_cache_new(void);

/* Free c and every body in it; NULL does nothing. */
void http_cache_free(struct http_cache *c);

/* Forget every body (a reload: a new scheduler, new generations). */
void http_cache_clear(struct http_cache *c);

/*
 * Append to out the body kept for key at generation gen. Returns true on a
 * hit; false (out untouched) when there is none, or only an older one.
 */
bool http_cache_get(
    struct http_cache *c, const char *key, uint64_t gen, struct evbuffer *out);

/* Keep a copy of body for key at generation gen (best effort). */
void http_cache_put(
    struct http_cache *c, const char *key, uint64_t gen, struct evbuffer *body);

/* Hits and misses since creation, for tests and the benchmark. */
void
http_cache_counts(const struct http_cache *c, uint64_t *hits, uint64_t *misses);

#endif /* READYD_HTTP_CACHE_H */
