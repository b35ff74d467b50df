/* SPDX-License-Identifier: MIT */
/* Raw sections as written, the kinds' keys, and message collection. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "config_parser.h"

#include <string.h>

static void
test_config_parser_sections(void **state)
{
	struct config_parser ps;
	const struct raw_section *sec;
	char err[1024];

	(void)state;
	config_parser_init(&ps, "t.conf",
	    "[daemon]\nlisten = 127.0.0.1:1\n"
	    "[check pg]\nkind = postgres\ndbname = x\n"
	    "[group g]\nchecks = pg\n");
	config_parser_read(&ps);
	assert_int_equal(ps.nerrs, 0);
	assert_int_equal(ps.nsecs, 3);
	assert_int_equal(ps.secs[0].type, CONFIG_SECTION_DAEMON);
	sec = &ps.secs[1];
	assert_int_equal(sec->type, CONFIG_SECTION_CHECK);
	assert_string_equal(sec->name, "pg");
	assert_int_equal(sec->line, 3);
	assert_int_equal(sec->nkv, 2);
	assert_int_equal(sec->kv[0].id, CONFIG_KEY_KIND);
	/* dbname is a kind's key: its id follows the generic ones */
	assert_true(sec->kv[1].id >= CONFIG_KEY_COUNT);
	assert_string_equal(
	    config_parser_key_name(&ps, sec->kv[1].id), "dbname");
	assert_string_equal(sec->kv[1].value, "x");
	assert_int_equal(ps.secs[2].type, CONFIG_SECTION_GROUP);
	config_parser_errors(&ps, err, sizeof(err));
	assert_string_equal(err, "");
	config_parser_free(&ps);
}

/* Every kind's key once; credentials are found by their type. */
static void
test_config_parser_kind_keys(void **state)
{
	struct config_parser ps;
	long id;

	(void)state;
	config_parser_init(&ps, "t.conf", "");
	assert_true(ps.nkkeys >= 6);
	for (size_t i = 0; i < ps.nkkeys; i++)
		for (size_t j = i + 1; j < ps.nkkeys; j++)
			assert_string_not_equal(
			    ps.kkeys[i]->name, ps.kkeys[j]->name);
	id = config_parser_kind_key_id(&ps, PROBE_KEY_PASSWORD_FILE);
	assert_true(id >= CONFIG_KEY_COUNT);
	assert_string_equal(
	    config_parser_key_name(&ps, (size_t)id), "password_file");
	config_parser_free(&ps);
}

/* Messages: in line order, repeats dropped, secrets masked. */
static void
test_config_parser_messages(void **state)
{
	struct config_parser ps;
	char err[1024];

	(void)state;
	config_parser_init(&ps, "t.conf", "[check c]\npasswd = hunter2\nbad\n");
	config_parser_read(&ps);
	config_parser_report(
	    &ps, 0, NULL, NULL, NULL, NULL, "about the %s", "file");
	config_parser_report(&ps, 1, &ps.secs[0], "host", "a\"b", "x", "no");
	config_parser_report(&ps, 1, &ps.secs[0], "host", "a\"b", "x", "no");
	config_parser_errors(&ps, err, sizeof(err));
	assert_string_equal(err,
	    "t.conf:1: [check c] host = \"a\\\"b\" (expands to \"x\"): no\n"
	    "t.conf:2: [check c] passwd = \"***\": unknown key (did you mean \"password\"?)\n"
	    "t.conf:3: syntax error (accepted: \"[SECTION]\", \"KEY = VALUE\" or a comment starting with \"#\" or \";\")\n"
	    "t.conf: about the file");
	config_parser_free(&ps);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_config_parser_sections),
	    cmocka_unit_test(test_config_parser_kind_keys),
	    cmocka_unit_test(test_config_parser_messages),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
