/* SPDX-License-Identifier: MIT */
/*
 * Probe tests without sockets: the reason each backend's error maps to,
 * with the error text the real servers send (see PITFALLS.md).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "probe.h"
#include "probe_pg.h"
#include "probe_redis.h"

#include <string.h>

static enum probe_status
pg(const char *msg)
{
	char code[6], hint[160];

	return probe_pg_classify(
	    msg, probe_pg_sqlstate(msg, code), hint, sizeof(hint));
}

static enum probe_status
bouncer(const char *msg, char *hint, size_t hintlen)
{
	char code[6];

	return probe_pgbouncer_classify(
	    msg, probe_pg_sqlstate(msg, code), hint, hintlen);
}

static void
test_probe_pg_sqlstate_extracted(void **state)
{
	char code[6];

	(void)state;
	assert_string_equal(probe_pg_sqlstate("connection to server at "
					      "\"127.0.0.1\", port 5432 "
					      "failed: FATAL:  28P01: "
					      "password authentication failed",
				code),
	    "28P01");
	assert_null(
	    probe_pg_sqlstate("could not connect: Connection refused", code));
	assert_null(probe_pg_sqlstate("FATAL:  short", code));
}

static void
test_probe_pg_reasons(void **state)
{
	(void)state;
	assert_int_equal(pg("connection to server at \"127.0.0.1\", port 1 "
			    "failed: Connection refused\n\tIs the server "
			    "running on that host and accepting TCP/IP "
			    "connections?\n"),
	    PROBE_REFUSED);
	assert_int_equal(pg("FATAL:  57P03: the database system is starting "
			    "up\n"),
	    PROBE_STARTING);
	assert_int_equal(pg("FATAL:  53300: sorry, too many clients already\n"),
	    PROBE_SATURATED);
	assert_int_equal(pg("FATAL:  57P03: the database system is shutting "
			    "down\n"),
	    PROBE_REFUSED);
	assert_int_equal(pg("FATAL:  28P01: password authentication failed "
			    "for user \"app\"\n"),
	    PROBE_AUTH);
	assert_int_equal(
	    pg("FATAL:  28000: no pg_hba.conf entry for host\n"), PROBE_AUTH);
	assert_int_equal(pg("FATAL:  3D000: database \"nope\" does not "
			    "exist\n"),
	    PROBE_REJECTED);
	assert_int_equal(pg("FATAL:  57P01: terminating connection due to "
			    "administrator command\n"),
	    PROBE_IO);
	/* a TLS session cut by a dying server is io, not garbage */
	assert_int_equal(pg("SSL SYSCALL error: EOF detected\n"), PROBE_IO);
	assert_int_equal(
	    pg("SSL connection has been closed unexpectedly\n"), PROBE_IO);
	assert_int_equal(pg("received invalid response to SSL negotiation: "
			    "X\n"),
	    PROBE_PROTOCOL);
	assert_int_equal(
	    pg("server closed the connection unexpectedly\n"), PROBE_IO);
	assert_int_equal(pg("expected authentication request from server, "
			    "but received H\n"),
	    PROBE_PROTOCOL);
}

static void
test_probe_pgbouncer_reasons(void **state)
{
	char hint[160];

	(void)state;
	assert_int_equal(bouncer("ERROR:  08P01: unsupported startup "
				 "parameter: options\n",
			     hint, sizeof(hint)),
	    PROBE_REJECTED);
	assert_non_null(strstr(hint, "ignore_startup_parameters"));
	assert_int_equal(bouncer("FATAL:  08P01: no such database: nope\n",
			     hint, sizeof(hint)),
	    PROBE_REJECTED);
	assert_string_equal(hint, "");
	assert_int_equal(bouncer("FATAL:  08P01: SASL authentication failed\n",
			     hint, sizeof(hint)),
	    PROBE_AUTH);
	assert_int_equal(bouncer("ERROR:  08P01: server login has been "
				 "failing, try again later "
				 "(server_login_retry)\n",
			     hint, sizeof(hint)),
	    PROBE_REFUSED);
	assert_int_equal(bouncer("FATAL:  08P01: no more connections allowed "
				 "(max_client_conn)\n",
			     hint, sizeof(hint)),
	    PROBE_SATURATED);
	assert_int_equal(bouncer("FATAL:  08P01: sorry, too many clients "
				 "already\n",
			     hint, sizeof(hint)),
	    PROBE_SATURATED);
	assert_int_equal(bouncer("FATAL:  08P01: server login has been "
				 "failing, try again later "
				 "(server_login_retry)\nserver closed the "
				 "connection unexpectedly\n",
			     hint, sizeof(hint)),
	    PROBE_REFUSED);
	assert_int_equal(bouncer("connection to server at \"127.0.0.1\", port "
				 "6432 failed: Connection refused\n",
			     hint, sizeof(hint)),
	    PROBE_REFUSED);
}

static void
test_probe_redis_reasons(void **state)
{
	(void)state;
	assert_int_equal(probe_redis_classify("LOADING Redis is loading the "
					      "dataset in memory"),
	    PROBE_STARTING);
	assert_int_equal(probe_redis_classify("BUSY Redis is busy running a "
					      "script."),
	    PROBE_BUSY);
	assert_int_equal(probe_redis_classify("NOAUTH Authentication "
					      "required."),
	    PROBE_AUTH);
	assert_int_equal(probe_redis_classify("WRONGPASS invalid "
					      "username-password pair or user "
					      "is disabled."),
	    PROBE_AUTH);
	assert_int_equal(probe_redis_classify("ERR AUTH <password> called "
					      "without any password "
					      "configured for the default "
					      "user."),
	    PROBE_AUTH);
	assert_int_equal(probe_redis_classify("MASTERDOWN Link with MASTER is "
					      "down"),
	    PROBE_STARTING);
	assert_int_equal(probe_redis_classify("DENIED Redis is running in "
					      "protected mode"),
	    PROBE_REJECTED);
	assert_int_equal(probe_redis_classify("ERR DB index is out of range"),
	    PROBE_REJECTED);
	assert_int_equal(probe_redis_classify("ERR max number of clients "
					      "reached"),
	    PROBE_SATURATED);
	assert_int_equal(
	    probe_redis_classify("ERR unknown command 'PING'"), PROBE_PROTOCOL);
	/* writes refused: the applications fail, PING may still answer */
	assert_int_equal(
	    probe_redis_classify(
		"OOM command not allowed when used memory > 'maxmemory'."),
	    PROBE_UNWRITABLE);
	assert_int_equal(
	    probe_redis_classify(
		"READONLY You can't write against a read only replica."),
	    PROBE_UNWRITABLE);
	assert_int_equal(probe_redis_classify(
			     "NOREPLICAS Not enough good replicas to write."),
	    PROBE_UNWRITABLE);
	assert_int_equal(
	    probe_redis_classify(
		"MISCONF Redis is configured to save RDB snapshots, but it's currently unable to persist to disk."),
	    PROBE_UNWRITABLE);
	assert_int_equal(
	    probe_redis_classify(
		"NOPERM User readyd has no permissions to run the 'set' command"),
	    PROBE_AUTH);
	assert_string_equal(probe_status_name(PROBE_UNWRITABLE), "unwritable");
	assert_string_equal(probe_status_name(PROBE_LOCAL), "local");
}

static void
test_probe_table_and_names(void **state)
{
	(void)state;
	assert_ptr_equal(probe_find("postgres"), &probe_pg_ops);
	assert_ptr_equal(probe_find("pgbouncer"), &probe_pgbouncer_ops);
	assert_ptr_equal(probe_find("redis"), &probe_redis_ops);
	assert_null(probe_find("mysql"));
	assert_string_equal(probe_kinds(), "postgres | pgbouncer | redis");
	assert_string_equal(probe_status_name(PROBE_OK), "ok");
	assert_string_equal(probe_status_name(PROBE_SATURATED), "saturated");
	assert_string_equal(probe_status_name(PROBE_STALE), "stale");
	for (int i = 0; i < PROBE_STATUS_COUNT; i++)
		assert_string_not_equal(probe_status_name(i), "unknown");
}

static void
test_probe_seterr_one_line(void **state)
{
	struct probe p;

	(void)state;
	memset(&p, 0, sizeof(p));
	probe_seterr(&p, "connect: %s", "line one\n\tline two\n");
	assert_string_equal(p.errstr, "connect: line one  line two");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_probe_pg_sqlstate_extracted),
	    cmocka_unit_test(test_probe_pg_reasons),
	    cmocka_unit_test(test_probe_pgbouncer_reasons),
	    cmocka_unit_test(test_probe_redis_reasons),
	    cmocka_unit_test(test_probe_table_and_names),
	    cmocka_unit_test(test_probe_seterr_one_line),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
