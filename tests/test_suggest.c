/* SPDX-License-Identifier: MIT */
/* "Did you mean": edit distance, closest candidate, prefix fallback. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "suggest.h"

#include <limits.h>
#include <string.h>

static void
test_suggest_distance(void **state)
{
	char big[80];

	(void)state;
	assert_int_equal(suggest_distance("", ""), 0);
	assert_int_equal(suggest_distance("abc", ""), 3);
	assert_int_equal(suggest_distance("tiemout", "timeout"), 2);
	assert_int_equal(suggest_distance("kitten", "sitting"), 3);
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(suggest_distance(big, "a"), INT_MAX);
}

static void
test_suggest_closest(void **state)
{
	static const char *const keys[] = {
	    "interval", NULL, "timeout", "start_period", "start_interval"};

	(void)state;
	assert_string_equal(suggest("tiemout", keys, 5), "timeout");
	assert_string_equal(suggest("intervals", keys, 5), "interval");
	/* no close one: a candidate the word starts */
	assert_string_equal(suggest("start", keys, 5), "start_period");
	assert_null(suggest("frobnicate", keys, 5));
	assert_null(suggest("s", keys, 5));
}

/* A distance as long as the candidate is no suggestion ("db" for "x"). */
static void
test_suggest_not_whole_word(void **state)
{
	static const char *const kinds[] = {"db", "redis"};

	(void)state;
	assert_null(suggest("xy", kinds, 2));
	assert_string_equal(suggest("redsi", kinds, 2), "redis");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_suggest_distance),
	    cmocka_unit_test(test_suggest_closest),
	    cmocka_unit_test(test_suggest_not_whole_word),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
