/* SPDX-License-Identifier: MIT */
/* Building one check from its raw keys, on top of a template. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "config_parser.h"

#include <stdlib.h>
#include <string.h>

/* The checks are built into a config, freed by config_free. */
static struct config *
new_config(void)
{
	struct config *cfg = calloc(1, sizeof(*cfg));

	assert_non_null(cfg);
	cfg->checks = calloc(1, sizeof(*cfg->checks));
	assert_non_null(cfg->checks);
	cfg->nchecks = 1;
	return cfg;
}

/* Build the first section of text as a check; returns the messages. */
static void
build(const char *text, struct check_cfg *c, char *err, size_t errlen)
{
	struct config_src tsrc[CONFIG_ALL_KEYS];
	struct check_cfg tmpl = {.interval_ms = 30000, .timeout_ms = 10000};
	struct config_parser ps;
	const struct raw_kv *depends;

	memset(tsrc, 0, sizeof(tsrc));
	config_parser_init(&ps, "t.conf", text);
	config_parser_read(&ps);
	assert_true(ps.nsecs >= 1);
	config_check_build(&ps, &ps.secs[0], &tmpl, tsrc, c, &depends);
	config_parser_errors(&ps, err, errlen);
	config_parser_free(&ps);
}

static void
test_config_check_kind_keys(void **state)
{
	struct config *cfg = new_config();
	struct check_cfg *c = &cfg->checks[0];
	char err[1024];

	(void)state;
	build("[check r]\nkind = redis\nhost = h\ndb = 7\nuser = u\n"
	      "password = p\ntimeout = 2s\ndepends_on = a b\n",
	    c, err, sizeof(err));
	assert_string_equal(err, "");
	assert_string_equal(c->ops->name, "redis");
	assert_int_equal(c->port, 6379); /* the kind's default */
	assert_int_equal(c->db, 7);
	assert_string_equal(c->user, "u");
	assert_string_equal(c->password, "p");
	assert_null(c->dbname);
	assert_int_equal(c->timeout_ms, 2000);
	assert_int_equal(c->interval_ms, 30000); /* the template's */
	assert_int_equal(c->ndepends, 2);
	config_free(cfg);
}

static void
test_config_check_refusals(void **state)
{
	struct config *cfg = new_config();
	struct check_cfg *c = &cfg->checks[0];
	char err[2048];

	(void)state;
	build("[check p]\nkind = postgres\nhost = h\ndb = 1\ndbname = a-b\n"
	      "timeout = 1m\n",
	    c, err, sizeof(err));
	assert_string_equal(err,
	    "t.conf:1: [check p] user: missing (accepted: a non-empty user name)\n"
	    "t.conf:1: [check p] password: missing (accepted: a non-empty password or password_file)\n"
	    "t.conf:4: [check p] db = \"1\": not used by kind postgres (accepted: redis checks only)\n"
	    "t.conf:5: [check p] dbname = \"a-b\": invalid database name (accepted: letters, digits and \"_\")\n"
	    "t.conf:6: [check p] timeout = \"1m\": 1m is longer than the interval 30s (accepted: at most the interval)");
	config_free(cfg);
}

/* config_check_apply parses by type into the field at the key's offset. */
static void
test_config_check_apply(void **state)
{
	struct config_parser ps;
	struct check_cfg c = {0};
	struct config_src src[CONFIG_ALL_KEYS];

	(void)state;
	config_parser_init(&ps, "t.conf",
	    "[defaults]\nretries = 5\nwatch = off\nstart_period = 2m\n"
	    "rise = 0\n");
	config_parser_read(&ps);
	memset(src, 0, sizeof(src));
	config_parser_find_srcs(&ps.secs[0], src);
	assert_int_equal(
	    config_check_apply(&ps, &src[CONFIG_KEY_RETRIES], &c), 0);
	assert_int_equal(c.retries, 5);
	c.watch = true;
	assert_int_equal(
	    config_check_apply(&ps, &src[CONFIG_KEY_WATCH], &c), 0);
	assert_false(c.watch);
	assert_int_equal(
	    config_check_apply(&ps, &src[CONFIG_KEY_START_PERIOD], &c), 0);
	assert_int_equal(c.start_period_ms, 120000);
	assert_int_equal(
	    config_check_apply(&ps, &src[CONFIG_KEY_RISE], &c), -1);
	assert_int_equal(ps.nerrs, 1);
	assert_string_equal(ps.errs[0].text,
	    "t.conf:5: [defaults] rise = \"0\": out of range (accepted: 1-1000)");
	config_parser_free(&ps);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_config_check_kind_keys),
	    cmocka_unit_test(test_config_check_refusals),
	    cmocka_unit_test(test_config_check_apply),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
