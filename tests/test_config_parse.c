/* SPDX-License-Identifier: MIT */
/* Value parsers: numbers, booleans, durations, hosts, listen, names. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "config_parse.h"

#include <stdlib.h>
#include <string.h>

static void
test_config_parse_int(void **state)
{
	int64_t v = -7;

	(void)state;
	assert_int_equal(config_parse_int("15", 0, 15, &v), 0);
	assert_int_equal(v, 15);
	assert_int_equal(config_parse_int("16", 0, 15, &v), -2);
	assert_int_equal(config_parse_int("-1", 0, 15, &v), -2);
	assert_int_equal(config_parse_int("1x", 0, 15, &v), -1);
	assert_int_equal(config_parse_int("", 0, 15, &v), -1);
	assert_int_equal(
	    config_parse_int("99999999999999999999", 0, 15, &v), -2);
	assert_int_equal(v, 15);
}

static void
test_config_parse_bool(void **state)
{
	bool b = false;

	(void)state;
	assert_int_equal(config_parse_bool("YES", &b), 0);
	assert_true(b);
	assert_int_equal(config_parse_bool("off", &b), 0);
	assert_false(b);
	assert_int_equal(config_parse_bool("1", &b), 0);
	assert_true(b);
	assert_int_equal(config_parse_bool("nope", &b), -1);
}

static void
test_config_parse_format_duration(void **state)
{
	static const struct {
		int64_t ms;
		const char *want;
	} cases[] = {{0, "0s"}, {250, "250ms"}, {30000, "30s"}, {120000, "2m"},
	    {3600000, "1h"}, {90000, "90s"}, {1500, "1500ms"}};
	char buf[32], err[128];
	int64_t back;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		config_parse_format_duration(cases[i].ms, buf, sizeof(buf));
		assert_string_equal(buf, cases[i].want);
		assert_int_equal(
		    config_parse_duration(buf, &back, err, sizeof(err)), 0);
		assert_int_equal(back, cases[i].ms);
	}
}

static void
test_config_parse_host(void **state)
{
	char *h;

	(void)state;
	assert_int_equal(config_parse_host("db-1.example", 12, &h), 0);
	assert_string_equal(h, "db-1.example");
	free(h);
	assert_int_equal(config_parse_host("[::1]", 5, &h), 0);
	assert_string_equal(h, "::1");
	free(h);
	assert_int_equal(config_parse_host("fe80::1", 7, &h), 0);
	free(h);
	assert_int_equal(config_parse_host("-db", 3, &h), -1);
	assert_int_equal(config_parse_host("a b", 3, &h), -1);
	assert_int_equal(config_parse_host("", 0, &h), -1);
	assert_int_equal(config_parse_host("[nope]", 6, &h), -1);
	assert_null(h);
}

static void
test_config_parse_listen(void **state)
{
	static const struct {
		const char *in;
		const char *err;
	} bad[] = {{"8080", "missing port"}, {":8080", "missing address"},
	    {"::1:80", "IPv6 address without brackets"},
	    {"1.2.3.4:x", "invalid port"}, {"1.2.3.4:0", "port out of range"},
	    {"[::1]80", "invalid address"},
	    {"localhost:80",
		"not a numeric address (such as 127.0.0.1, 0.0.0.0 or [::])"}};
	char err[128], *host;
	int port = 0;

	(void)state;
	assert_int_equal(
	    config_parse_listen("[::]:9000", &host, &port, err, sizeof(err)),
	    0);
	assert_string_equal(host, "::");
	assert_int_equal(port, 9000);
	free(host);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(config_parse_listen(
				     bad[i].in, &host, &port, err, sizeof(err)),
		    -1);
		assert_string_equal(err, bad[i].err);
		assert_null(host);
	}
}

static void
test_config_parse_names(void **state)
{
	char **v;

	(void)state;
	assert_int_equal(config_parse_names(" a, b  a,,c ", &v), 3);
	assert_string_equal(v[0], "a");
	assert_string_equal(v[1], "b");
	assert_string_equal(v[2], "c");
	assert_null(v[3]);
	config_parse_free_names(v);
	assert_int_equal(config_parse_names(" , ", &v), 0);
	assert_null(v);
	config_parse_free_names(NULL);
}

static void
test_config_parse_text_helpers(void **state)
{
	char s[] = " \t x y \r\n";

	(void)state;
	assert_string_equal(config_parse_trim(s), "x y");
	assert_true(config_parse_is_name("redis-cache.1_a"));
	assert_false(config_parse_is_name(""));
	assert_false(config_parse_is_name("a b"));
	assert_true(config_parse_is_blank('\v'));
	assert_false(config_parse_is_blank('x'));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_config_parse_int),
	    cmocka_unit_test(test_config_parse_bool),
	    cmocka_unit_test(test_config_parse_format_duration),
	    cmocka_unit_test(test_config_parse_host),
	    cmocka_unit_test(test_config_parse_listen),
	    cmocka_unit_test(test_config_parse_names),
	    cmocka_unit_test(test_config_parse_text_helpers),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
