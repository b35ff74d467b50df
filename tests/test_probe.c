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

#include "config.h"
#include "probe.h"
#include "probe_pg.h"
#include "probe_redis.h"

#include <arpa/inet.h>
#include <errno.h>
#include <hiredis/hiredis.h>
#include <event2/event.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

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
	assert_ptr_equal(probe_find("tcp"), &probe_tcp_ops);
	assert_string_equal(
	    probe_kinds(), "postgres | pgbouncer | redis | tcp");
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

static char s_db[] = "db", s_app[] = "app", s_app_db[] = "app_db";
static char s_cache[] = "cache", s_u[] = "u", s_p[] = "p", s_q[] = "q";
static char s_opts[] = "-c a=1", s_opts_nl[] = "-c a=1\n";

static void
test_probe_ops_target(void **state)
{
	struct check_cfg c = {.host = s_db, .port = 5432, .user = s_app};
	char buf[128];

	(void)state;
	c.ops = &probe_pg_ops;
	probe_target(&c, buf, sizeof(buf));
	/* No dbname: PostgreSQL's default, the user's database. */
	assert_string_equal(buf, "db:5432/app");
	c.dbname = s_app_db;
	probe_target(&c, buf, sizeof(buf));
	assert_string_equal(buf, "db:5432/app_db");
	c = (struct check_cfg){.host = s_cache, .port = 6379, .db = 2};
	c.ops = &probe_redis_ops;
	probe_target(&c, buf, sizeof(buf));
	assert_string_equal(buf, "cache:6379/2");
	c.ops = NULL; /* a kind without a target of its own */
	probe_target(&c, buf, sizeof(buf));
	assert_string_equal(buf, "cache:6379");
}

static void
test_probe_ops_same(void **state)
{
	struct check_cfg a = {.ops = &probe_pg_ops,
	    .host = s_db,
	    .port = 5432,
	    .dbname = s_app_db,
	    .user = s_u,
	    .password = s_p};
	struct check_cfg b = a;

	(void)state;
	assert_true(probe_same(&a, &b));
	b.options = s_opts;
	assert_false(probe_same(&a, &b));
	b = a;
	b.password = s_q;
	assert_false(probe_same(&a, &b));
	b = a;
	b.ops = &probe_pgbouncer_ops;
	assert_false(probe_same(&a, &b));
	a = (struct check_cfg){
	    .ops = &probe_redis_ops, .host = s_cache, .port = 1};
	b = a;
	assert_true(probe_same(&a, &b));
	b.db = 3;
	assert_false(probe_same(&a, &b));
}

/* A key name means one type in every kind; each kind's keys resolve. */
static void
test_probe_ops_keys(void **state)
{
	const struct probe_ops *o, *o2;
	const struct probe_key *k, *k2;

	(void)state;
	for (size_t i = 0; (o = probe_kind(i)) != NULL; i++) {
		assert_non_null(o->start);
		assert_non_null(o->cancel);
		for (size_t j = 0; j < o->nkeys; j++) {
			k = &o->keys[j];
			assert_ptr_equal(probe_find_key(o, k->name), k);
			for (size_t m = 0; (o2 = probe_kind(m)) != NULL; m++) {
				k2 = probe_find_key(o2, k->name);
				if (k2 != NULL)
					assert_int_equal(k2->type, k->type);
			}
		}
	}
	assert_null(probe_kind(1000));
	assert_non_null(probe_find_key(&probe_pg_ops, "dbname"));
	assert_null(probe_find_key(&probe_redis_ops, "dbname"));
	assert_non_null(probe_find_key(&probe_redis_ops, "db"));
	assert_int_equal(probe_pg_ops.port, 5432);
	assert_int_equal(probe_pgbouncer_ops.port, 6432);
	assert_int_equal(probe_redis_ops.port, 6379);
	assert_true(probe_pg_ops.auth);
	assert_false(probe_redis_ops.auth);
}

/* validate names the key it is about instead of text to parse back. */
static void
test_probe_pg_validate_names_key(void **state)
{
	struct check_cfg c = {.ops = &probe_pg_ops, .options = s_opts_nl};
	const char *key = NULL;
	char err[256];

	(void)state;
	assert_int_equal(probe_pg_validate(&c, &key, err, sizeof(err)), -1);
	assert_string_equal(key, "options");
	assert_non_null(strstr(err, "contains a newline (accepted: "));
	c.options = s_opts;
	assert_int_equal(probe_pg_validate(&c, &key, err, sizeof(err)), 0);
}

/* ---- the tcp kind, against real sockets on loopback ---- */

struct tcp_run {
	int done;	      /* done calls */
	int lost;	      /* lost calls */
	enum probe_status st; /* of the last done */
};

static void
tcp_done_cb(struct probe *p, enum probe_status st)
{
	struct tcp_run *r = p->arg;

	r->done++;
	r->st = st;
}

static void
tcp_lost_cb(struct probe *p)
{
	struct tcp_run *r = p->arg;

	r->lost++;
}

/* A listening socket on 127.0.0.1, port in *port. */
static int
tcp_listener(int *port)
{
	struct sockaddr_in sin = {.sin_family = AF_INET};
	socklen_t len = sizeof(sin);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	assert_true(fd >= 0);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(listen(fd, 8), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
	*port = ntohs(sin.sin_port);
	return fd;
}

static char s_loopback[] = "127.0.0.1";

static void
tcp_setup(struct probe *p, struct check_cfg *c, struct event_base *base,
    struct tcp_run *r, int port)
{
	memset(r, 0, sizeof(*r));
	*c = (struct check_cfg){
	    .ops = &probe_tcp_ops, .host = s_loopback, .port = port};
	memset(p, 0, sizeof(*p));
	p->ops = &probe_tcp_ops;
	p->cfg = c;
	p->base = base;
	p->done = tcp_done_cb;
	p->lost = tcp_lost_cb;
	p->arg = r;
	strcpy(p->addr, "127.0.0.1");
}

/* Run the loop until done (or lost) was called, 5 s at most. */
static void
tcp_loop_until(struct event_base *base, const int *counter)
{
	for (int i = 0; i < 500 && *counter == 0; i++) {
		struct timeval tv = {.tv_usec = 10000};

		event_base_loopexit(base, &tv);
		event_base_dispatch(base);
	}
}

static void
test_probe_tcp_open_port(void **state)
{
	struct event_base *base = event_base_new();
	struct check_cfg c;
	struct tcp_run r;
	struct probe p;
	int port, lfd = tcp_listener(&port);
	char target[64];

	(void)state;
	tcp_setup(&p, &c, base, &r, port);
	assert_int_equal(probe_tcp_ops.start(&p), 0);
	assert_int_equal(r.done, 0); /* later, from the loop */
	tcp_loop_until(base, &r.done);
	assert_int_equal(r.done, 1);
	assert_int_equal(r.st, PROBE_OK);
	assert_null(p.priv);
	assert_null(p.watch); /* keep not set */
	probe_target(&c, target, sizeof(target));
	snprintf(p.errstr, sizeof(p.errstr), "127.0.0.1:%d", port);
	assert_string_equal(target, p.errstr);
	close(lfd);
	event_base_free(base);
}

static void
test_probe_tcp_closed_port(void **state)
{
	struct event_base *base = event_base_new();
	struct check_cfg c;
	struct tcp_run r;
	struct probe p;
	int port, lfd = tcp_listener(&port);

	(void)state;
	close(lfd); /* nothing listens there now */
	tcp_setup(&p, &c, base, &r, port);
	if (probe_tcp_ops.start(&p) == 0) {
		tcp_loop_until(base, &r.done);
		assert_int_equal(r.done, 1);
	} else {
		r.st = p.status; /* refused at once: done is never called */
		assert_int_equal(r.done, 0);
	}
	assert_int_equal(r.st, PROBE_REFUSED);
	assert_non_null(strstr(p.errstr, "connect: 127.0.0.1 port "));
	assert_non_null(strstr(p.errstr, "Connection refused"));
	assert_null(p.priv);
	event_base_free(base);
}

/* With keep, the connection stays; the peer closing it is a loss. */
static void
test_probe_tcp_watch_lost(void **state)
{
	struct event_base *base = event_base_new();
	struct check_cfg c;
	struct tcp_run r;
	struct probe p;
	int port, lfd = tcp_listener(&port), cfd;

	(void)state;
	tcp_setup(&p, &c, base, &r, port);
	p.keep = true;
	assert_int_equal(probe_tcp_ops.start(&p), 0);
	tcp_loop_until(base, &r.done);
	assert_int_equal(r.st, PROBE_OK);
	assert_non_null(p.watch);
	cfd = accept(lfd, NULL, NULL);
	assert_true(cfd >= 0);
	assert_int_equal(write(cfd, "banner\n", 7), 7); /* ignored */
	tcp_loop_until(base, &r.lost);
	assert_int_equal(r.lost, 0);
	assert_non_null(p.watch);
	close(cfd);
	tcp_loop_until(base, &r.lost);
	assert_int_equal(r.lost, 1);
	assert_null(p.watch);

	/* unwatch closes a kept connection without a loss */
	assert_int_equal(probe_tcp_ops.start(&p), 0);
	r.done = 0;
	tcp_loop_until(base, &r.done);
	assert_non_null(p.watch);
	probe_tcp_ops.unwatch(&p);
	assert_null(p.watch);
	assert_int_equal(r.lost, 1);
	probe_tcp_ops.unwatch(&p); /* a no-op when there is none */
	close(lfd);
	event_base_free(base);
}

/* cancel releases the attempt at once; done never comes. */
static void
test_probe_tcp_cancel(void **state)
{
	struct event_base *base = event_base_new();
	struct check_cfg c;
	struct tcp_run r;
	struct probe p;
	int port, lfd = tcp_listener(&port);

	(void)state;
	tcp_setup(&p, &c, base, &r, port);
	assert_int_equal(probe_tcp_ops.start(&p), 0);
	probe_tcp_ops.cancel(&p);
	assert_null(p.priv);
	event_base_loop(base, EVLOOP_NONBLOCK);
	assert_int_equal(r.done, 0);
	probe_tcp_ops.cancel(&p); /* a no-op when idle */
	close(lfd);
	event_base_free(base);
}

/* A tcp check needs a port and takes no credentials. */
/* readyd's own trouble, as the libraries word it, is reason "local". */
static void
test_probe_local_reasons(void **state)
{
	(void)state;
	assert_true(probe_errno_is_local(EMFILE));
	assert_true(probe_errno_is_local(ENFILE));
	assert_true(probe_errno_is_local(ENOMEM));
	assert_true(probe_errno_is_local(ENOBUFS));
	assert_false(probe_errno_is_local(ECONNREFUSED));
	assert_false(probe_errno_is_local(ETIMEDOUT));
	/* libpq 15 */
	assert_int_equal(
	    pg("could not create socket: Too many open files\n"), PROBE_LOCAL);
	assert_int_equal(pg("could not create socket: Too many open files in "
			    "system\n"),
	    PROBE_LOCAL);
	assert_int_equal(pg("out of memory\n"), PROBE_LOCAL);
	assert_int_equal(pg("could not set socket to nonblocking mode: Cannot "
			    "allocate memory\n"),
	    PROBE_LOCAL);
	/* through PgBouncer too */
	assert_int_equal(bouncer("could not create socket: No buffer space "
				 "available\n",
			     NULL, 0),
	    PROBE_LOCAL);
	/* the backend's trouble stays the backend's */
	assert_int_equal(pg("connection to server at \"127.0.0.1\", port 1 "
			    "failed: Connection refused\n"),
	    PROBE_REFUSED);
	assert_int_equal(pg("FATAL:  53200: out of memory\n"), PROBE_SATURATED);
	/* hiredis 0.14: socket() failing, its own allocation failing */
	assert_int_equal(probe_redis_classify_conn(REDIS_ERR_OTHER,
			     "Can't create socket: Too many open files"),
	    PROBE_LOCAL);
	assert_int_equal(
	    probe_redis_classify_conn(REDIS_ERR_IO, "Too many open files"),
	    PROBE_LOCAL);
	assert_int_equal(
	    probe_redis_classify_conn(REDIS_ERR_OOM, "Out of memory"),
	    PROBE_LOCAL);
	assert_int_equal(
	    probe_redis_classify_conn(REDIS_ERR_IO, "Connection refused"),
	    PROBE_REFUSED);
	assert_int_equal(probe_redis_classify_conn(REDIS_ERR_OTHER,
			     "OOM command not allowed when used memory > "
			     "'maxmemory'."),
	    PROBE_UNWRITABLE);
	assert_int_equal(
	    probe_redis_classify_conn(REDIS_ERR_EOF, "Server closed"),
	    PROBE_IO);
	assert_string_equal(probe_status_name(PROBE_LOCAL), "local");
}

static char s_ldb[] = "hdms_db", s_user[] = "u", s_pw[] = "p";

/*
 * Out of descriptors for real (RLIMIT_NOFILE at the descriptors already
 * open): each kind's attempt cannot start, and says "local".
 */
static void
test_probe_local_out_of_descriptors(void **state)
{
	const struct probe_ops *kinds[] = {&probe_tcp_ops, &probe_redis_ops,
	    &probe_pg_ops, &probe_pgbouncer_ops};
	struct event_base *base = event_base_new();
	struct rlimit old, low;
	int port, lfd = tcp_listener(&port);
	int fd;

	(void)state;
	assert_int_equal(getrlimit(RLIMIT_NOFILE, &old), 0);
	/* the lowest free descriptor: the limit leaves none free */
	fd = dup(0);
	assert_true(fd >= 0);
	close(fd);
	low = old;
	low.rlim_cur = (rlim_t)fd;
	for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++) {
		struct check_cfg c;
		struct tcp_run r;
		struct probe p;
		int rc;

		tcp_setup(&p, &c, base, &r, port);
		c.ops = p.ops = kinds[k];
		c.dbname = s_ldb;
		c.user = s_user;
		c.password = s_pw;
		assert_int_equal(setrlimit(RLIMIT_NOFILE, &low), 0);
		rc = p.ops->start(&p);
		assert_int_equal(setrlimit(RLIMIT_NOFILE, &old), 0);
		if (rc == 0) { /* not expected: fail with what happened */
			tcp_loop_until(base, &r.done);
			p.status = r.st;
		}
		if (rc != -1 || p.status != PROBE_LOCAL)
			fail_msg("%s: start %d, reason %s: %s", p.ops->name, rc,
			    probe_status_name(p.status), p.errstr);
		assert_non_null(strstr(p.errstr, "Too many open files"));
		assert_null(p.priv);
	}
	close(lfd);
	event_base_free(base);
}

static void
test_probe_tcp_config(void **state)
{
	char err[CONFIG_ERRLEN];
	struct config *cfg;

	(void)state;
	cfg = config_load_string("t.conf",
	    "[check web]\nkind = tcp\nhost = web\nport = 8000\n", err,
	    sizeof(err));
	assert_non_null(cfg);
	assert_ptr_equal(cfg->checks[0].ops, &probe_tcp_ops);
	config_free(cfg);
	cfg = config_load_string("t.conf",
	    "[check web]\nkind = tcp\nhost = web\npassword = x\n", err,
	    sizeof(err));
	assert_null(cfg);
	assert_string_equal(err,
	    "t.conf:1: [check web] port: missing (accepted: 1-65535)\n"
	    "t.conf:4: [check web] password = \"***\": not used by kind tcp (accepted: postgres, pgbouncer and redis checks only)");
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
	    cmocka_unit_test(test_probe_ops_target),
	    cmocka_unit_test(test_probe_ops_same),
	    cmocka_unit_test(test_probe_ops_keys),
	    cmocka_unit_test(test_probe_pg_validate_names_key),
	    cmocka_unit_test(test_probe_tcp_open_port),
	    cmocka_unit_test(test_probe_tcp_closed_port),
	    cmocka_unit_test(test_probe_tcp_watch_lost),
	    cmocka_unit_test(test_probe_tcp_cancel),
	    cmocka_unit_test(test_probe_tcp_config),
	    cmocka_unit_test(test_probe_local_reasons),
	    cmocka_unit_test(test_probe_local_out_of_descriptors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
