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

/*
 * How long a body may go on showing older per-attempt figures (latency,
 * last check, counters) than the newest: they move at every attempt's end
 * (hundreds a second with many checks), what a body otherwise shows only
 * when something changed.
 */
#define HTTP_CACHE_FIGURES_MS 1000

/*
 * What a body shows, at a time. gen moves with anything shown but the
 * per-attempt figures (a state, reason, output, failures in a row, a
 * verdict, a reload): a body of another gen is never served. figures
 * moves with those figures only: a body of other figures is served until
 * HTTP_CACHE_FIGURES_MS after it was rendered.
 */
struct http_cache_stamp {
	uint64_t gen;	  /* the scheduler's generation */
	uint64_t figures; /* the scheduler's figures (and the lag's count) */
	int64_t now_ms;	  /* monotonic: when asked, or rendered */
};

/* Forget every body (a reload: a new scheduler, new generations). */
void http_cache_clear(struct http_cache *c);

/*
 * Append to out the body kept for key that may be served at (same gen;
 * same figures, or rendered less than HTTP_CACHE_FIGURES_MS before). Returns
 * true on a hit; false (out untouched) when there is none.
 */
bool http_cache_get(struct http_cache *c, const char *key,
    const struct http_cache_stamp *at, struct evbuffer *out);

/* Keep a copy of body for key, rendered at (best effort). */
void http_cache_put(struct http_cache *c, const char *key,
    const struct http_cache_stamp *at, struct evbuffer *body);

/* Hits and misses since creation, for tests and the benchmark. */
void
http_cache_counts(const struct http_cache *c, uint64_t *hits, uint64_t *misses);

#endif /* READYD_HTTP_CACHE_H */
