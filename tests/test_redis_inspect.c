/* SPDX-License-Identifier: MIT */
/*
 * The Redis inspection: save points against expect_save, the database
 * count against expect_databases, INFO persistence read into problems.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "redis_inspect.h"

#include <stdio.h>
#include <string.h>

static void
test_redis_inspect_parse_save(void **state)
{
	struct redis_save s;
	char many[1024];
	size_t n = 0;

	(void)state;
	assert_int_equal(
	    redis_inspect_parse_save("900 1 300 10 60 10000", &s), 0);
	assert_int_equal(s.n, 3);
	/* sorted */
	assert_int_equal(s.pt[0].seconds, 60);
	assert_int_equal(s.pt[0].changes, 10000);
	assert_int_equal(s.pt[2].seconds, 900);
	assert_int_equal(s.pt[2].changes, 1);
	assert_int_equal(redis_inspect_parse_save("", &s), 0);
	assert_int_equal(s.n, 0);
	assert_int_equal(redis_inspect_parse_save("  \t ", &s), 0);
	assert_int_equal(s.n, 0);
	/* blanks of any kind and number, the same point twice */
	assert_int_equal(redis_inspect_parse_save(" 900\t1  900 1\n", &s), 0);
	assert_int_equal(s.n, 1);
	assert_int_equal(redis_inspect_parse_save("3600 0", &s), 0);
	assert_int_equal(s.n, 1);

	assert_int_equal(redis_inspect_parse_save("900", &s), -1);
	assert_int_equal(redis_inspect_parse_save("900 1 300", &s), -1);
	assert_int_equal(redis_inspect_parse_save("0 1", &s), -1);
	assert_int_equal(redis_inspect_parse_save("-900 1", &s), -1);
	assert_int_equal(redis_inspect_parse_save("+900 1", &s), -1);
	assert_int_equal(redis_inspect_parse_save("900 1x", &s), -1);
	assert_int_equal(redis_inspect_parse_save("900s 1", &s), -1);
	assert_int_equal(redis_inspect_parse_save("900,1", &s), -1);
	assert_int_equal(redis_inspect_parse_save("none", &s), -1);
	assert_int_equal(
	    redis_inspect_parse_save("99999999999999999999 1", &s), -1);

	/* up to REDIS_INSPECT_SAVE_MAX points */
	for (size_t i = 1; i <= REDIS_INSPECT_SAVE_MAX; i++)
		n += (size_t)snprintf(many + n, sizeof(many) - n, "%zu 1 ", i);
	assert_int_equal(redis_inspect_parse_save(many, &s), 0);
	assert_int_equal(s.n, REDIS_INSPECT_SAVE_MAX);
	snprintf(many + n, sizeof(many) - n, "99999 1");
	assert_int_equal(redis_inspect_parse_save(many, &s), -1);
}

static void
test_redis_inspect_expect_save(void **state)
{
	struct redis_save s;

	(void)state;
	assert_int_equal(redis_inspect_parse_expect_save("none", &s), 0);
	assert_int_equal(s.n, 0);
	assert_int_equal(redis_inspect_parse_expect_save("60 10000", &s), 0);
	assert_int_equal(s.n, 1);
	/* an empty list is "none" spelt out, not a blank */
	assert_int_equal(redis_inspect_parse_expect_save(" ", &s), -1);
	assert_int_equal(redis_inspect_parse_expect_save("None", &s), -1);

	assert_null(redis_inspect_check_expect_save(""));
	assert_null(redis_inspect_check_expect_save("none"));
	assert_null(redis_inspect_check_expect_save("900 1 300 10 60 10000"));
	assert_string_equal(redis_inspect_check_expect_save("900 1 300"),
	    "invalid save points");
	assert_string_equal(
	    redis_inspect_check_expect_save("always"), "invalid save points");
}

static void
test_redis_inspect_save_drift(void **state)
{
	char text[200];

	(void)state;
	/* the same points in any order: no drift */
	assert_false(redis_inspect_save_drift("900 1 300 10 60 10000",
	    "900 1 300 10 60 10000", text, sizeof(text)));
	assert_false(redis_inspect_save_drift("60 10000 900 1 300 10",
	    "300 10  900 1 60 10000", text, sizeof(text)));
	assert_false(redis_inspect_save_drift("", "none", text, sizeof(text)));

	assert_true(redis_inspect_save_drift(
	    "", "900 1 300 10 60 10000", text, sizeof(text)));
	assert_string_equal(text,
	    "save is \"\" (no snapshots), expected \"900 1 300 10 60 10000\"");
	assert_true(redis_inspect_save_drift("3600 1 300 100 60 10000",
	    " 900  1 300 10\t60 10000 ", text, sizeof(text)));
	assert_string_equal(text,
	    "save is \"3600 1 300 100 60 10000\", expected \"900 1 300 10 60 10000\"");
	/* a subset is drift too */
	assert_true(redis_inspect_save_drift(
	    "900 1", "900 1 300 10", text, sizeof(text)));
	assert_true(
	    redis_inspect_save_drift("900 1", "none", text, sizeof(text)));
	assert_string_equal(text, "save is \"900 1\", expected none");
	/* what does not parse differs, shown printable and cut */
	assert_true(
	    redis_inspect_save_drift("bogus\x01", "900 1", text, sizeof(text)));
	assert_string_equal(
	    text, "save is \"bogus?\" (not save points), expected \"900 1\"");
	assert_true(redis_inspect_save_drift(
	    "1111111111 2222222222 3333333333 4444444444 5555555555 6666666666 7777777777",
	    "900 1", text, sizeof(text)));
	assert_non_null(strstr(text, "...\" (not save points)"));
	/* a small buffer is cut, terminated */
	memset(text, 'X', sizeof(text));
	assert_true(redis_inspect_save_drift("", "900 1", text, 8));
	assert_string_equal(text, "save is");
	assert_int_equal(text[8], 'X');
}

static void
test_redis_inspect_databases(void **state)
{
	char text[200];

	(void)state;
	assert_false(
	    redis_inspect_databases_drift("16", 3, text, sizeof(text)));
	assert_false(redis_inspect_databases_drift("3", 3, text, sizeof(text)));
	assert_true(redis_inspect_databases_drift("2", 3, text, sizeof(text)));
	assert_string_equal(text, "databases is 2, expected at least 3");
	assert_true(redis_inspect_databases_drift("1", 3, text, sizeof(text)));
	assert_string_equal(text, "databases is 1, expected at least 3");
	assert_true(redis_inspect_databases_drift("", 3, text, sizeof(text)));
	assert_string_equal(text, "databases is , expected at least 3");
	assert_true(
	    redis_inspect_databases_drift("16x", 3, text, sizeof(text)));
	assert_true(
	    redis_inspect_databases_drift("-16", 3, text, sizeof(text)));
}

/* INFO persistence as Redis 7.0 answers it, with the statuses given. */
static void
info_text(char *buf, size_t len, const char *bgsave, const char *aof,
    const char *aofwrite, const char *rewrite)
{
	snprintf(buf, len,
	    "# Persistence\r\n"
	    "loading:0\r\n"
	    "async_loading:0\r\n"
	    "rdb_changes_since_last_save:0\r\n"
	    "rdb_bgsave_in_progress:0\r\n"
	    "rdb_last_save_time:1764493200\r\n"
	    "rdb_last_bgsave_status:%s\r\n"
	    "rdb_last_bgsave_time_sec:0\r\n"
	    "aof_enabled:%s\r\n"
	    "aof_rewrite_in_progress:0\r\n"
	    "aof_last_bgrewrite_status:%s\r\n"
	    "aof_last_write_status:%s\r\n"
	    "aof_last_cow_size:0\r\n",
	    bgsave, aof, rewrite, aofwrite);
}

static void
test_redis_inspect_persistence(void **state)
{
	struct redis_inspect_problem pr[4];
	char info[1024];

	(void)state;
	info_text(info, sizeof(info), "ok", "0", "ok", "ok");
	assert_int_equal(redis_inspect_persistence(info, pr, 4), 0);

	info_text(info, sizeof(info), "err", "0", "ok", "ok");
	assert_int_equal(redis_inspect_persistence(info, pr, 4), 1);
	assert_string_equal(pr[0].key, "rdb_last_bgsave_status");
	assert_string_equal(pr[0].text,
	    "rdb_last_bgsave_status is err: the last background save failed (see the Redis log)");

	/* the AOF statuses count only with the AOF on */
	info_text(info, sizeof(info), "ok", "0", "err", "err");
	assert_int_equal(redis_inspect_persistence(info, pr, 4), 0);
	info_text(info, sizeof(info), "ok", "1", "err", "ok");
	assert_int_equal(redis_inspect_persistence(info, pr, 4), 1);
	assert_string_equal(pr[0].key, "aof_last_write_status");
	assert_string_equal(pr[0].text,
	    "aof_last_write_status is err: writing the append-only file failed (see the Redis log)");
	info_text(info, sizeof(info), "err", "1", "err", "err");
	assert_int_equal(redis_inspect_persistence(info, pr, 4), 3);
	assert_string_equal(pr[2].key, "aof_last_bgrewrite_status");
	/* max caps what is filled */
	assert_int_equal(redis_inspect_persistence(info, pr, 2), 2);
	assert_int_equal(redis_inspect_persistence(info, pr, 0), 0);

	/* "\n" lines, a field named like another's prefix, odd values */
	assert_int_equal(
	    redis_inspect_persistence("rdb_last_bgsave_status_x:err\n"
				      "rdb_last_bgsave_status:ok\n",
		pr, 4),
	    0);
	assert_int_equal(
	    redis_inspect_persistence("rdb_last_bgsave_status:\n", pr, 4), 1);
	assert_string_equal(pr[0].text,
	    "rdb_last_bgsave_status is : the last background save failed (see the Redis log)");
	assert_int_equal(redis_inspect_persistence(
			     "rdb_last_bgsave_status:e\x7f\x01r\r\n", pr, 4),
	    1);
	assert_non_null(strstr(pr[0].text, " is e??r: "));
	/* nothing known: nothing to say */
	assert_int_equal(redis_inspect_persistence("", pr, 4), 0);
	assert_int_equal(redis_inspect_persistence("\r\n\r\n#\n:\n", pr, 4), 0);
	assert_int_equal(
	    redis_inspect_persistence("rdb_last_bgsave_status", pr, 4), 0);
}

static void
test_redis_inspect_noauth(void **state)
{
	(void)state;
	/* answered: anyone gets in */
	assert_true(redis_inspect_noauth_answered(false, "PONG"));
	assert_true(redis_inspect_noauth_answered(false, NULL));
	assert_true(redis_inspect_noauth_answered(
	    true, "LOADING Redis is loading the dataset in memory"));
	assert_true(redis_inspect_noauth_answered(true, "MISCONF Redis is"));
	assert_true(redis_inspect_noauth_answered(true, "BUSY"));
	/* refused: what production wants, or nothing either way */
	assert_false(redis_inspect_noauth_answered(
	    true, "NOAUTH Authentication required."));
	assert_false(redis_inspect_noauth_answered(true,
	    "NOPERM this user has no permissions to run the 'ping' command"));
	assert_false(redis_inspect_noauth_answered(true, "DENIED Redis is"));
	assert_false(redis_inspect_noauth_answered(
	    true, "ERR max number of clients reached"));
	assert_false(redis_inspect_noauth_answered(true, "BUSYKEY x"));
	assert_false(redis_inspect_noauth_answered(true, ""));
	assert_false(redis_inspect_noauth_answered(true, NULL));
}

/* AUTH's error text never shows the password it may quote. */
static void
test_redis_inspect_auth_error(void **state)
{
	char buf[128];

	(void)state;
	/* Redis 7 with rename-command AUTH "" */
	redis_inspect_auth_error(
	    "ERR unknown command 'AUTH', with args beginning with: 'app' 's3cret' ",
	    "s3cret", buf, sizeof(buf));
	assert_string_equal(buf, "ERR unknown command 'AUTH'");
	/* Redis 6.0's quotes; a password cut short by Redis' 128 bytes */
	redis_inspect_auth_error(
	    "ERR unknown command `AUTH`, with args beginning with: `s3c`, ",
	    "s3cret", buf, sizeof(buf));
	assert_string_equal(buf, "ERR unknown command `AUTH`");
	/* the password anywhere else: the text is withheld */
	redis_inspect_auth_error(
	    "ERR no such user or password s3cret", "s3cret", buf, sizeof(buf));
	assert_string_equal(buf, "(the reply quoted the password: not shown)");
	/* the usual answers pass as they are */
	redis_inspect_auth_error(
	    "WRONGPASS invalid username-password pair or user is disabled.",
	    "s3cret", buf, sizeof(buf));
	assert_string_equal(buf,
	    "WRONGPASS invalid username-password pair or user is disabled.");
	redis_inspect_auth_error(
	    "ERR wrong number of arguments for 'auth' command", NULL, buf,
	    sizeof(buf));
	assert_string_equal(
	    buf, "ERR wrong number of arguments for 'auth' command");
	/* cut to the buffer */
	redis_inspect_auth_error("WRONGPASS invalid", "", buf, 10);
	assert_string_equal(buf, "WRONGPASS");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_redis_inspect_parse_save),
	    cmocka_unit_test(test_redis_inspect_expect_save),
	    cmocka_unit_test(test_redis_inspect_save_drift),
	    cmocka_unit_test(test_redis_inspect_databases),
	    cmocka_unit_test(test_redis_inspect_persistence),
	    cmocka_unit_test(test_redis_inspect_noauth),
	    cmocka_unit_test(test_redis_inspect_auth_error),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
