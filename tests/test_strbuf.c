/* SPDX-License-Identifier: MIT */
/* The growing string: appends, quoting, taking, and growing arrays. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "strbuf.h"

#include <stdlib.h>
#include <string.h>

static void
test_strbuf_appends(void **state)
{
	struct strbuf b = {0};
	char *s;

	(void)state;
	strbuf_puts(&b, "a");
	strbuf_add(&b, "bcd", 2);
	strbuf_printf(&b, "-%d-%s", 42, "x");
	s = strbuf_take(&b);
	assert_string_equal(s, "abc-42-x");
	assert_null(b.s);
	assert_int_equal(b.len, 0);
	free(s);
}

static void
test_strbuf_empty_take(void **state)
{
	struct strbuf b = {0};
	char *s;

	(void)state;
	s = strbuf_take(&b);
	assert_string_equal(s, "");
	free(s);
}

/* Both growth paths keep the bytes: realloc, and the wiping copy. */
static void
test_strbuf_grows(void **state)
{
	struct strbuf plain = {0}, wiped = {.wipe = true};
	char *a, *b;

	(void)state;
	for (int i = 0; i < 1000; i++) {
		strbuf_printf(&plain, "%03d", i);
		strbuf_printf(&wiped, "%03d", i);
	}
	strbuf_printf(&plain, "%300s", "long");
	strbuf_printf(&wiped, "%300s", "long");
	assert_int_equal(plain.len, 3300);
	a = strbuf_take(&plain);
	b = strbuf_take(&wiped);
	assert_string_equal(a, b);
	assert_memory_equal(a, "000001002", 9);
	free(a);
	free(b);
}

static void
test_strbuf_quote(void **state)
{
	struct strbuf b = {0};
	char *s;

	(void)state;
	strbuf_quote(&b, "a\"b\\c\n\x7f", 100);
	strbuf_puts(&b, " ");
	strbuf_quote(&b, "abcdef", 3);
	s = strbuf_take(&b);
	assert_string_equal(s, "\"a\\\"b\\\\c\\x0a\\x7f\" \"abc...\"");
	free(s);
}

static void
test_strbuf_oom_sticks(void **state)
{
	struct strbuf b = {0};

	(void)state;
	strbuf_puts(&b, "x");
	b.oom = true;
	strbuf_puts(&b, "y");
	assert_int_equal(b.len, 1);
	assert_null(strbuf_take(&b));
	assert_null(b.s);
}

static void
test_strbuf_grow_array(void **state)
{
	size_t cap = 0;
	int *v = NULL, *nv;

	(void)state;
	for (int i = 0; i < 100; i++) {
		nv = strbuf_grow_array(v, &cap, (size_t)i + 1, sizeof(*v));
		assert_non_null(nv);
		v = nv;
		v[i] = i;
	}
	assert_true(cap >= 100);
	assert_int_equal(v[99], 99);
	assert_ptr_equal(strbuf_grow_array(v, &cap, 10, sizeof(*v)), v);
	free(v);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_strbuf_appends),
	    cmocka_unit_test(test_strbuf_empty_take),
	    cmocka_unit_test(test_strbuf_grows),
	    cmocka_unit_test(test_strbuf_quote),
	    cmocka_unit_test(test_strbuf_oom_sticks),
	    cmocka_unit_test(test_strbuf_grow_array),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
