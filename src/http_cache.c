/* SPDX-License-Identifier: MIT */
/*
 * Rendered HTTP bodies kept while the state they show does not change
 * (and their per-attempt figures, for up to HTTP_CACHE_FIGURES_MS).
 * Owns: struct http_cache and the bodies in it.
 */
#include "http_cache.h"

#include <event2/buffer.h>
#include <stdlib.h>
#include <string.h>

struct http_cache_entry {
	char *key;		    /* owned; NULL when the slot is free */
	struct http_cache_stamp at; /* what it shows, when rendered */
	struct evbuffer *body;	    /* owned */
};

struct http_cache {
	struct http_cache_entry slots[HTTP_CACHE_SLOTS];
	size_t next;	 /* the slot a new key takes (round robin) */
	uint64_t hits;	 /* bodies served from the cache */
	uint64_t misses; /* bodies rendered */
};

struct http_cache *
http_cache_new(void)
{
	return calloc(1, sizeof(struct http_cache));
}

static void
http_cache_entry_clear(struct http_cache_entry *e)
{
	free(e->key);
	if (e->body != NULL)
		evbuffer_free(e->body);
	memset(e, 0, sizeof(*e));
}

void
http_cache_clear(struct http_cache *c)
{
	if (c == NULL)
		return;
	for (size_t i = 0; i < HTTP_CACHE_SLOTS; i++)
		http_cache_entry_clear(&c->slots[i]);
	c->next = 0;
}

void
http_cache_free(struct http_cache *c)
{
	http_cache_clear(c);
	free(c);
}

static struct http_cache_entry *
http_cache_find(struct http_cache *c, const char *key)
{
	for (size_t i = 0; i < HTTP_CACHE_SLOTS; i++)
		if (c->slots[i].key != NULL &&
		    strcmp(c->slots[i].key, key) == 0)
			return &c->slots[i];
	return NULL;
}

/* Whether e may be served at: see http_cache_get() in the header. */
static bool
http_cache_fresh(
    const struct http_cache_entry *e, const struct http_cache_stamp *at)
{
	if (e->at.gen != at->gen)
		return false;
	if (e->at.figures == at->figures)
		return true;
	return at->now_ms >= e->at.now_ms &&
	    at->now_ms - e->at.now_ms < HTTP_CACHE_FIGURES_MS;
}

bool
http_cache_get(struct http_cache *c, const char *key,
    const struct http_cache_stamp *at, struct evbuffer *out)
{
	struct http_cache_entry *e;
	size_t len;
	unsigned char *data;

	if (c == NULL)
		return false;
	e = http_cache_find(c, key);
	if (e == NULL || !http_cache_fresh(e, at)) {
		c->misses++;
		return false;
	}
	len = evbuffer_get_length(e->body);
	data = evbuffer_pullup(e->body, -1); /* contiguous once, then free */
	if (len > 0 && (data == NULL || evbuffer_add(out, data, len) != 0)) {
		c->misses++;
		return false;
	}
	c->hits++;
	return true;
}

void
http_cache_put(struct http_cache *c, const char *key,
    const struct http_cache_stamp *at, struct evbuffer *body)
{
	struct http_cache_entry *e;
	size_t len = evbuffer_get_length(body);
	unsigned char *data;

	if (c == NULL)
		return;
	e = http_cache_find(c, key);
	if (e == NULL) {
		e = &c->slots[c->next];
		c->next = (c->next + 1) % HTTP_CACHE_SLOTS;
	}
	http_cache_entry_clear(e);
	data = evbuffer_pullup(body, -1);
	if (len > 0 && data == NULL)
		return;
	e->key = strdup(key);
	e->body = evbuffer_new();
	if (e->key == NULL || e->body == NULL ||
	    (len > 0 && evbuffer_add(e->body, data, len) != 0)) {
		http_cache_entry_clear(e);
		return;
	}
	e->at = *at;
}

void
http_cache_counts(const struct http_cache *c, uint64_t *hits, uint64_t *misses)
{
	*hits = c != NULL ? c->hits : 0;
	*misses = c != NULL ? c->misses : 0;
}
