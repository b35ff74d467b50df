/* SPDX-License-Identifier: MIT */
/* The INI lexer: inih's comment rules, headers, keys, limits. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "config_lex.h"

#include <stdlib.h>
#include <string.h>

static void
test_config_lex_lines(void **state)
{
	struct config_lex lx;
	struct config_lex_item it;

	(void)state;
	config_lex_init(&lx,
	    "\xEF\xBB\xBF# comment\n"
	    "\n"
	    "  ; also a comment\n"
	    "[ check  pg ]  # trailing comment\r\n"
	    "host = db # a comment after a blank\n"
	    "password=a#b;c\n"
	    "options : -c x=1\n"
	    "empty =   \n"
	    "=value\n"
	    "no separator\n"
	    "[daemon] junk\n"
	    "[unclosed\n"
	    "last = line");
	assert_int_equal(config_lex_next(&lx, &it), CONFIG_LEX_BLANK);
	assert_int_equal(lx.lineno, 1);
	assert_int_equal(config_lex_next(&lx, &it), CONFIG_LEX_BLANK);
	assert_int_equal(config_lex_next(&lx, &it), CONFIG_LEX_BLANK);
	assert_int_equal(config_lex_next(&lx, &it), CONFIG_LEX_SECTION);
	assert_string_equal(it.name, "check  pg");
	assert_int_equal(config_lex_next(&lx, &it), CONFIG_LEX_KEY);
	assert_string_equal(it.name, "host");
	assert_string_equal(it.value, "db");
	assert_true(it.cut);
	assert_int_equal(config_lex_next(&lx, &it), CONFIG_LEX_KEY);
	assert_string_equal(it.name, "password");
	assert_string_equal(it.value, "a#b;c"); /* no blank: no comment */
	assert_false(it.cut);
	assert_int_equal(config_lex_next(&lx, &it), CONFIG_LEX_KEY);
	assert_string_equal(it.name, "options");
	assert_string_equal(it.value, "-c x=1");
	assert_int_equal(config_lex_next(&lx, &it), CONFIG_LEX_KEY);
	assert_string_equal(it.value, "");
	assert_int_equal(config_lex_next(&lx, &it), CONFIG_LEX_KEY);
	assert_string_equal(it.name, "");
	assert_string_equal(it.value, "value");
	assert_int_equal(config_lex_next(&lx, &it), CONFIG_LEX_BAD_LINE);
	assert_int_equal(config_lex_next(&lx, &it), CONFIG_LEX_BAD_HEADER);
	assert_int_equal(config_lex_next(&lx, &it), CONFIG_LEX_BAD_HEADER);
	assert_int_equal(lx.lineno, 12);
	assert_int_equal(config_lex_next(&lx, &it), CONFIG_LEX_KEY);
	assert_string_equal(it.value, "line");
	assert_int_equal(config_lex_next(&lx, &it), CONFIG_LEX_END);
	config_lex_done(&lx);
}

/* A comment right after "=" leaves an empty value, not a cut one. */
static void
test_config_lex_comment_only_value(void **state)
{
	struct config_lex lx;
	struct config_lex_item it;

	(void)state;
	config_lex_init(&lx, "password = # nothing\nkey = a ; b\n");
	assert_int_equal(config_lex_next(&lx, &it), CONFIG_LEX_KEY);
	assert_string_equal(it.value, "");
	assert_false(it.cut);
	assert_int_equal(config_lex_next(&lx, &it), CONFIG_LEX_KEY);
	assert_string_equal(it.value, "a");
	assert_true(it.cut);
	config_lex_done(&lx);
}

/* A ";" or "#" after a blank ends the key too: no separator left. */
static void
test_config_lex_comment_in_key(void **state)
{
	struct config_lex lx;
	struct config_lex_item it;

	(void)state;
	config_lex_init(&lx, "key #= value\n");
	assert_int_equal(config_lex_next(&lx, &it), CONFIG_LEX_BAD_LINE);
	config_lex_done(&lx);
}

static void
test_config_lex_too_long(void **state)
{
	struct config_lex lx;
	struct config_lex_item it;
	size_t n = CONFIG_LEX_MAX_LINE + 1;
	char *text = malloc(2 * n + 16);

	(void)state;
	assert_non_null(text);
	memset(text, 'k', n);		  /* one too many */
	memcpy(text + n, "\r\n", 2);	  /* CR is not counted */
	memset(text + n + 2, 'k', n - 3); /* "kk...=v": exactly the limit */
	strcpy(text + n + 2 + n - 3, "=v\nx=y\n");
	config_lex_init(&lx, text);
	assert_int_equal(config_lex_next(&lx, &it), CONFIG_LEX_TOO_LONG);
	assert_int_equal(config_lex_next(&lx, &it), CONFIG_LEX_KEY);
	assert_string_equal(it.value, "v");
	assert_int_equal(config_lex_next(&lx, &it), CONFIG_LEX_KEY);
	assert_int_equal(lx.lineno, 3);
	config_lex_done(&lx);
	free(text);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_config_lex_lines),
	    cmocka_unit_test(test_config_lex_comment_only_value),
	    cmocka_unit_test(test_config_lex_comment_in_key),
	    cmocka_unit_test(test_config_lex_too_long),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
