/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of the rendered-body cache: a body is served only for the
 * generation it was rendered at, per key; clear forgets all.
 */
#include "http_cache.h"

#include <event2/buffer.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

static char *
text_of(struct evbuffer *b)
{
	static char buf[256];
	size_t n = evbuffer_get_length(b);

	if (n >= sizeof(buf))
		n = sizeof(buf) - 1;
	evbuffer_copyout(b, buf, n);
	buf[n] = '\0';
	return buf;
}

static void
test_http_cache_generation_and_keys(void **state)
{
	struct http_cache *c = http_cache_new();
	struct evbuffer *in = evbuffer_new(), *out = evbuffer_new();
	uint64_t hits, misses;

	(void)state;
	assert_non_null(c);
	assert_false(http_cache_get(c, "ready 0 1 0 ", 7, out));
	evbuffer_add_printf(in, "{\"status\":\"pass\"}");
	http_cache_put(c, "ready 0 1 0 ", 7, in);
	assert_true(http_cache_get(c, "ready 0 1 0 ", 7, out));
	assert_string_equal(text_of(out), "{\"status\":\"pass\"}");
	/* a change (new generation) is never served from the old body */
	evbuffer_drain(out, evbuffer_get_length(out));
	assert_false(http_cache_get(c, "ready 0 1 0 ", 8, out));
	assert_int_equal(evbuffer_get_length(out), 0);
	/* another key (details hidden, a group) is its own entry */
	assert_false(http_cache_get(c, "ready 0 0 0 ", 7, out));
	assert_false(http_cache_get(c, "ready 0 1 0 user-service", 7, out));
	/* put replaces the key's body */
	evbuffer_drain(in, evbuffer_get_length(in));
	evbuffer_add_printf(in, "{\"status\":\"fail\"}");
	http_cache_put(c, "ready 0 1 0 ", 8, in);
	assert_true(http_cache_get(c, "ready 0 1 0 ", 8, out));
	assert_string_equal(text_of(out), "{\"status\":\"fail\"}");
	/* a reload clears everything */
	http_cache_clear(c);
	evbuffer_drain(out, evbuffer_get_length(out));
	assert_false(http_cache_get(c, "ready 0 1 0 ", 8, out));
	http_cache_counts(c, &hits, &misses);
	assert_int_equal(hits, 2);
	assert_int_equal(misses, 5);
	evbuffer_free(in);
	evbuffer_free(out);
	http_cache_free(c);
	http_cache_free(NULL);
}

static void
test_http_cache_many_keys_evict_oldest(void **state)
{
	struct http_cache *c = http_cache_new();
	struct evbuffer *in = evbuffer_new(), *out = evbuffer_new();
	char key[32];

	(void)state;
	for (int i = 0; i < HTTP_CACHE_SLOTS + 1; i++) {
		snprintf(key, sizeof(key), "ready 0 1 0 c%d", i);
		evbuffer_drain(in, evbuffer_get_length(in));
		evbuffer_add_printf(in, "body %d", i);
		http_cache_put(c, key, 1, in);
	}
	/* the first key made room for the last */
	assert_false(http_cache_get(c, "ready 0 1 0 c0", 1, out));
	snprintf(key, sizeof(key), "ready 0 1 0 c%d", HTTP_CACHE_SLOTS);
	assert_true(http_cache_get(c, key, 1, out));
	snprintf(key, sizeof(key), "body %d", HTTP_CACHE_SLOTS);
	assert_string_equal(text_of(out), key);
	/* an empty body is a body */
	evbuffer_drain(in, evbuffer_get_length(in));
	http_cache_put(c, "empty", 3, in);
	evbuffer_drain(out, evbuffer_get_length(out));
	assert_true(http_cache_get(c, "empty", 3, out));
	assert_int_equal(evbuffer_get_length(out), 0);
	evbuffer_free(in);
	evbuffer_free(out);
	http_cache_free(c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_http_cache_generation_and_keys),
	    cmocka_unit_test(test_http_cache_many_keys_evict_oldest),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
