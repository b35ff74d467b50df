/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of the rendered-body cache: a body is served only for the
 * generation it was rendered at, per key, and for other figures only within
 * HTTP_CACHE_FIGURES_MS of its rendering; clear forgets all.
 */
#include "http_cache.h"

#include <event2/buffer.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

/* What a body shows (generation, figures) at a time of a fake clock (ms). */
#define AT(gen, figures, ms) \
	(&(struct http_cache_stamp){(gen), (figures), (ms)})

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
	assert_false(http_cache_get(c, "ready 0 1 0 ", AT(7, 0, 0), out));
	evbuffer_add_printf(in, "{\"status\":\"pass\"}");
	http_cache_put(c, "ready 0 1 0 ", AT(7, 0, 0), in);
	assert_true(http_cache_get(c, "ready 0 1 0 ", AT(7, 0, 0), out));
	assert_string_equal(text_of(out), "{\"status\":\"pass\"}");
	/* a change (new generation) is never served from the old body */
	evbuffer_drain(out, evbuffer_get_length(out));
	assert_false(http_cache_get(c, "ready 0 1 0 ", AT(8, 0, 0), out));
	assert_int_equal(evbuffer_get_length(out), 0);
	/* another key (details hidden, a group) is its own entry */
	assert_false(http_cache_get(c, "ready 0 0 0 ", AT(7, 0, 0), out));
	assert_false(
	    http_cache_get(c, "ready 0 1 0 user-service", AT(7, 0, 0), out));
	/* put replaces the key's body */
	evbuffer_drain(in, evbuffer_get_length(in));
	evbuffer_add_printf(in, "{\"status\":\"fail\"}");
	http_cache_put(c, "ready 0 1 0 ", AT(8, 0, 0), in);
	assert_true(http_cache_get(c, "ready 0 1 0 ", AT(8, 0, 0), out));
	assert_string_equal(text_of(out), "{\"status\":\"fail\"}");
	/* a reload clears everything */
	http_cache_clear(c);
	evbuffer_drain(out, evbuffer_get_length(out));
	assert_false(http_cache_get(c, "ready 0 1 0 ", AT(8, 0, 0), out));
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
		http_cache_put(c, key, AT(1, 0, 0), in);
	}
	/* the first key made room for the last */
	assert_false(http_cache_get(c, "ready 0 1 0 c0", AT(1, 0, 0), out));
	snprintf(key, sizeof(key), "ready 0 1 0 c%d", HTTP_CACHE_SLOTS);
	assert_true(http_cache_get(c, key, AT(1, 0, 0), out));
	snprintf(key, sizeof(key), "body %d", HTTP_CACHE_SLOTS);
	assert_string_equal(text_of(out), key);
	/* an empty body is a body */
	evbuffer_drain(in, evbuffer_get_length(in));
	http_cache_put(c, "empty", AT(3, 0, 0), in);
	evbuffer_drain(out, evbuffer_get_length(out));
	assert_true(http_cache_get(c, "empty", AT(3, 0, 0), out));
	assert_int_equal(evbuffer_get_length(out), 0);
	evbuffer_free(in);
	evbuffer_free(out);
	http_cache_free(c);
}

/*
 * A request that comes after attempts ended (figures moved at each) with
 * nothing else changed: each would have re-rendered the body before. Now
 * a state change is seen by the next request, and the figures alone
 * within HTTP_CACHE_FIGURES_MS of the last rendering, once. The clock is
 * the caller's (ms), here a fake one.
 */
static void
test_http_cache_figures_at_most_once_a_second(void **state)
{
	struct http_cache *c = http_cache_new();
	struct evbuffer *in = evbuffer_new(), *out = evbuffer_new();
	uint64_t hits, misses, fig = 100;
	int64_t ms = 5000;
	int renders = 0;

	(void)state;
	/* render: latency 1 ms at generation 7 */
	evbuffer_add_printf(in, "pass 1ms");
	http_cache_put(c, "ready", AT(7, fig, ms), in);
	renders++;
	/* 500 attempts end over 0.99 s, a request after each */
	for (int i = 0; i < 500; i++) {
		fig++;
		ms = 5000 + (i + 1) * (HTTP_CACHE_FIGURES_MS - 10) / 500;
		evbuffer_drain(out, evbuffer_get_length(out));
		if (!http_cache_get(c, "ready", AT(7, fig, ms), out)) {
			evbuffer_drain(in, evbuffer_get_length(in));
			evbuffer_add_printf(in, "pass %dms", i);
			http_cache_put(c, "ready", AT(7, fig, ms), in);
			renders++;
		}
	}
	assert_int_equal(renders, 1); /* not once per attempt */
	assert_string_equal(text_of(out), "pass 1ms");
	/* a state change (new generation): the very next request sees it */
	evbuffer_drain(out, evbuffer_get_length(out));
	assert_false(http_cache_get(c, "ready", AT(8, fig, ms), out));
	assert_int_equal(evbuffer_get_length(out), 0);
	evbuffer_drain(in, evbuffer_get_length(in));
	evbuffer_add_printf(in, "fail");
	http_cache_put(c, "ready", AT(8, fig, ms), in);
	assert_true(http_cache_get(c, "ready", AT(8, fig, ms), out));
	assert_string_equal(text_of(out), "fail");
	/* a latency alone: served old until a second after the rendering... */
	fig++;
	evbuffer_drain(out, evbuffer_get_length(out));
	assert_true(http_cache_get(c, "ready", AT(8, fig, ms + 999), out));
	assert_string_equal(text_of(out), "fail");
	/* ...and re-rendered from then on */
	evbuffer_drain(out, evbuffer_get_length(out));
	assert_false(http_cache_get(
	    c, "ready", AT(8, fig, ms + HTTP_CACHE_FIGURES_MS), out));
	/* the same figures are served however old the body */
	assert_true(
	    http_cache_get(c, "ready", AT(8, fig - 1, ms + 60000), out));
	/* a clock that went back never serves older figures */
	assert_false(http_cache_get(c, "ready", AT(8, fig, ms - 1), out));
	http_cache_counts(c, &hits, &misses);
	assert_int_equal(misses, 3);
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
	    cmocka_unit_test(test_http_cache_figures_at_most_once_a_second),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
