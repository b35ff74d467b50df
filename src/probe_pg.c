/* SPDX-License-Identifier: MIT */
/*
 * PostgreSQL probe: PQconnectStartParams/PQconnectPoll with hostaddr set,
 * then one query with PQsendQuery that also asks whether the session can
 * write, all on the event loop; the same query is the heartbeat on the
 * watched connection.
 * Owns: struct pg_check, the PGconn and the socket event of an attempt.
 */
#include "probe_pg.h"

#include "config.h"
#include "pgpoll.h"
#include "probe_pg_insecure.h"

#include <ctype.h>
#include <event2/event.h>
#include <libpq-fe.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

enum pg_step { PG_STEP_CONNECT, PG_STEP_QUERY, PG_STEP_COUNT };

static const char *const pg_step_names[PG_STEP_COUNT] = {
    [PG_STEP_CONNECT] = "connect",
    [PG_STEP_QUERY] = "query",
};

/*
 * One round trip: is the server in recovery, and is a new transaction of
 * this session read-only (default_transaction_read_only, a standby)? The
 * application's first write would fail on either. The rest feeds
 * findings: the version, and the connection slots left to ordinary roles
 * (reserved_connections is PostgreSQL 16's: NULL before, missing_ok).
 */
#define PG_QUERY                                                                 \
	"SELECT pg_is_in_recovery(), current_setting('transaction_read_only'), " \
	"current_setting('server_version_num'), "                                \
	"current_setting('max_connections'), "                                   \
	"current_setting('superuser_reserved_connections'), "                    \
	"current_setting('reserved_connections', true)"

struct pg_admin;

struct pg_check {
	struct probe *p;		  /* borrowed from sched */
	PGconn *conn;			  /* owned; PQfinish exactly once */
	struct event *ev;		  /* owned; on PQsocket() */
	enum pg_step step;		  /* where the attempt is */
	bool got_row;			  /* the query returned its row */
	enum probe_status row_st;	  /* what the row says */
	struct probe_pg_row row;	  /* ...and what else it read */
	probe_pg_classify_fn *classify;	  /* static, from the kind */
	const struct probe_pg_kind *kind; /* static */
	struct pg_admin *admin;	      /* owned; the admin console, or NULL */
	bool query_done;	      /* the own query succeeded; waits */
	struct timeval query_sent;    /* when the own query was sent */
	int64_t patience_ms;	      /* from the kind; < 0: none */
	struct event *patience;	      /* owned; the kind's patience timer */
	struct pg_insecure *insecure; /* owned; production, or NULL */
	struct pgpoll_job *job;	      /* a login step on a worker, or NULL */
};

/*
 * PgBouncer's admin console, asked alongside the attempt's own query:
 * its own connection, one query at a time (simple protocol only).
 */
struct pg_admin {
	struct pg_check *pc;		   /* borrowed, the owner */
	PGconn *conn;			   /* owned; NULL once over */
	struct event *ev;		   /* owned; on PQsocket() */
	bool connected;			   /* logged in */
	size_t next;			   /* query in flight */
	PGresult *res[PROBE_PG_ADMIN_MAX]; /* owned answers */
	bool failed;			   /* this query failed */
	bool done;			   /* answered or gave up */
	struct pgpoll_job *job;		   /* a login step on a worker */
};

/* A connection kept open and idle after a success, to see it drop. */
struct pg_watch {
	struct probe *p;		/* borrowed from sched */
	PGconn *conn;			/* owned */
	struct event *ev;		/* owned; EV_READ on PQsocket() */
	struct event *wev;		/* owned; EV_WRITE while flushing */
	probe_pg_classify_fn *classify; /* static, from the kind */
	bool beating;			/* a heartbeat query is in flight */
	bool got_row;			/* ...and its row came */
	enum probe_status row_st;	/* what the row says */
	enum probe_status err_st;	/* its error, or PROBE_OK */
	bool closing;			/* the server ends the session */
};

static void pg_event_cb(evutil_socket_t fd, short what, void *arg);
static void pg_admin_free(struct pg_admin *a);
static void pg_complete(struct pg_check *pc);
static void pg_admin_answered(struct pg_check *pc);
static void
pg_watch_start(struct probe *p, PGconn *conn, probe_pg_classify_fn *classify);

/*
 * Bounded (probe_parse_uint): the numbers only feed findings, so a value
 * that is no plain number (a fork, a proxy, a setting past INT_MAX that
 * atoi wrapped into a plausible one) is -1 and its finding is skipped,
 * not the readiness verdict failed: the server answered the query, and a
 * red check for an optional inspection is a false alarm.
 */
void
probe_pg_read_row(const PGresult *res, struct probe_pg_row *row)
{
	row->version_num = -1;
	row->max_connections = -1;
	row->reserved = -1;
	row->reserved_connections = -1;
	if (PQntuples(res) != 1 || PQnfields(res) < 6)
		return;
	row->version_num = probe_parse_uint(PQgetvalue(res, 0, 2));
	row->max_connections = probe_parse_uint(PQgetvalue(res, 0, 3));
	row->reserved = probe_parse_uint(PQgetvalue(res, 0, 4));
	row->reserved_connections = PQgetisnull(res, 0, 5)
	    ? 0
	    : probe_parse_uint(PQgetvalue(res, 0, 5));
}

/*
 * Judge the query's row: PROBE_OK, PROBE_UNWRITABLE (unless the check
 * accepts a read-only server) or PROBE_PROTOCOL, with p->errstr set.
 */
static enum probe_status
pg_judge_row(struct probe *p, const PGresult *res, struct probe_pg_row *row)
{
	const char *recovery, *ro;

	if (row != NULL)
		probe_pg_read_row(res, row);
	if (PQntuples(res) != 1 || PQnfields(res) < 2) {
		probe_seterr(p,
		    "query: unexpected result (%d rows, %d columns)",
		    PQntuples(res), PQnfields(res));
		return PROBE_PROTOCOL;
	}
	recovery = PQgetvalue(res, 0, 0);
	ro = PQgetvalue(res, 0, 1);
	if (!p->cfg->writable)
		return PROBE_OK;
	if (strcmp(recovery, "t") == 0) {
		probe_seterr(p,
		    "query: the server is in recovery (read-only): writes fail");
		return PROBE_UNWRITABLE;
	}
	if (strcmp(ro, "on") == 0) {
		probe_seterr(p,
		    "query: transaction_read_only is on (default_transaction_read_only): writes fail");
		return PROBE_UNWRITABLE;
	}
	if (strcmp(recovery, "f") != 0 || strcmp(ro, "off") != 0) {
		probe_seterr(p, "query: unexpected row");
		return PROBE_PROTOCOL;
	}
	return PROBE_OK;
}

/* Probes never log: the outcome speaks through done() and errstr. */
static void
pg_notice_cb(void *arg, const char *message)
{
	(void)arg;
	(void)message;
}

/* ---- classification ---- */

const char *
probe_pg_sqlstate(const char *msg, char *code)
{
	static const char *const sev[] = {"FATAL:  ", "ERROR:  ", "PANIC:  "};

	for (size_t i = 0; i < sizeof(sev) / sizeof(sev[0]); i++) {
		const char *s = strstr(msg, sev[i]);
		size_t n;

		if (s == NULL)
			continue;
		s += strlen(sev[i]);
		for (n = 0; n < 5; n++)
			if (!isupper((unsigned char)s[n]) &&
			    !isdigit((unsigned char)s[n]))
				break;
		if (n == 5 && s[5] == ':') {
			memcpy(code, s, 5);
			code[5] = '\0';
			return code;
		}
	}
	return NULL;
}

static bool
pg_contains_any(const char *msg, const char *const *needles)
{
	for (; *needles != NULL; needles++)
		if (strcasestr(msg, *needles) != NULL)
			return true;
	return false;
}

enum probe_status
probe_pg_classify(
    const char *msg, const char *sqlstate, char *hint, size_t hintlen)
{
	static const char *const refused[] = {"Connection refused", NULL};
	static const char *const local[] = {"out of memory",
	    "cannot watch socket", "could not set socket to", NULL};
	static const char *const timeout[] = {
	    "timeout expired", "timed out", NULL};
	static const char *const dns[] = {
	    "could not translate host name", NULL};
	static const char *const io[] = {"server closed the connection",
	    "could not receive", "could not send", "Connection reset",
	    "Broken pipe", "end of file", "EOF detected", "SSL SYSCALL error",
	    "SSL connection has been closed", NULL};
	static const char *const protocol[] = {"expected authentication",
	    "invalid", "unexpected", "protocol", "SSL", "received", NULL};

	if (hintlen > 0)
		hint[0] = '\0';
	if (sqlstate != NULL) {
		if (strcmp(sqlstate, "57P03") == 0)
			/* cannot connect now: shutting down, or starting up */
			return strstr(msg, "shutting down") != NULL
			    ? PROBE_REFUSED
			    : PROBE_STARTING;
		if (strncmp(sqlstate, "53", 2) == 0)
			return PROBE_SATURATED; /* 53300 too many clients */
		if (strncmp(sqlstate, "28", 2) == 0 ||
		    strcmp(sqlstate, "42501") == 0)
			return PROBE_AUTH;
		if (strcmp(sqlstate, "3D000") == 0 ||
		    strcmp(sqlstate, "42704") == 0 ||
		    strcmp(sqlstate, "22023") == 0)
			return PROBE_REJECTED; /* database, bad options */
		if (strcmp(sqlstate, "08P01") == 0 &&
		    strstr(msg, "unsupported startup parameter") != NULL)
			return PROBE_REJECTED;
		if (strncmp(sqlstate, "57P", 3) == 0)
			return PROBE_IO; /* shutting down, crashed */
		if (strncmp(sqlstate, "08", 2) == 0)
			return PROBE_PROTOCOL;
		return PROBE_PROTOCOL;
	}
	/* readyd's own trouble: no descriptor, no memory */
	if (probe_text_is_local(msg) || pg_contains_any(msg, local))
		return PROBE_LOCAL;
	if (pg_contains_any(msg, refused))
		return PROBE_REFUSED;
	if (pg_contains_any(msg, timeout))
		return PROBE_TIMEOUT;
	if (pg_contains_any(msg, dns))
		return PROBE_DNS;
	if (pg_contains_any(msg, io))
		return PROBE_IO;
	if (pg_contains_any(msg, protocol))
		return PROBE_PROTOCOL;
	return PROBE_IO;
}

/* ---- attempt lifecycle ---- */

/* The attempt is over: report (the last thing done with p). */
static void
pg_report_cb(void *arg, enum probe_status st)
{
	struct pg_check *pc = arg;
	struct probe *p = pc->p;

	p->priv = NULL;
	free(pc);
	p->done(p, st);
}

/* Release everything, then report. */
static void
pg_finish(struct pg_check *pc, enum probe_status st)
{
	struct probe *p = pc->p;

	if (pc->ev != NULL)
		event_free(pc->ev);
	pc->ev = NULL;
	if (pc->patience != NULL)
		event_free(pc->patience);
	pc->patience = NULL;
	pg_admin_free(pc->admin);
	pc->admin = NULL;
	/* a connection whose query still waits is no use to watch */
	if (st == PROBE_OK && p->keep && pc->query_done) {
		probe_pg_unwatch(p); /* the fresh one replaces it */
		pg_watch_start(p, pc->conn, pc->classify); /* takes it */
	} else
		pgpoll_finish(pc->conn, &pc->job);
	pc->conn = NULL;
	/* production: the login without a password may still be on its way */
	if (probe_pg_insecure_end(&pc->insecure, p, st, pg_report_cb, pc) == 0)
		return;
	pg_report_cb(pc, st);
}

static void
pg_fail(struct pg_check *pc, const char *msg, const char *sqlstate)
{
	char code[6], hint[160], text[PROBE_ERRLEN];
	enum probe_status st;
	char *cut;

	if (sqlstate == NULL)
		sqlstate = probe_pg_sqlstate(msg, code);
	st = pc->classify(msg, sqlstate, hint, sizeof(hint));
	/* verbose mode adds source locations: no use to an operator */
	snprintf(text, sizeof(text), "%s", msg);
	if ((cut = strstr(text, "LOCATION:")) != NULL)
		*cut = '\0';
	/* keep the hint whole: cut the server's text instead */
	probe_seterr(pc->p, "%s: %.*s%s", pg_step_names[pc->step],
	    (int)(sizeof(text) - strlen(hint) - 16), text, hint);
	pg_finish(pc, st);
}

static int
pg_arm(struct pg_check *pc, short what)
{
	int fd = PQsocket(pc->conn);

	if (pc->ev != NULL) {
		event_free(pc->ev);
		pc->ev = NULL;
	}
	if (fd < 0)
		return -1;
	pc->ev = event_new(pc->p->base, fd, what, pg_event_cb, pc);
	if (pc->ev == NULL || event_add(pc->ev, NULL) != 0)
		return -1;
	return 0;
}

/* Send what libpq buffered; wait for the reply once all is sent. */
static void
pg_flush(struct pg_check *pc)
{
	int rc = PQflush(pc->conn);

	if (rc < 0) {
		pg_fail(pc, PQerrorMessage(pc->conn), NULL);
		return;
	}
	if (pg_arm(pc, rc == 1 ? EV_READ | EV_WRITE : EV_READ) < 0)
		pg_fail(pc, "cannot watch socket", NULL);
}

/* The own query succeeded: judge now, or once the admin console is done. */
static void
pg_query_ok(struct pg_check *pc)
{
	if (pc->ev != NULL) {
		event_free(pc->ev);
		pc->ev = NULL;
	}
	pc->query_done = true;
	if (pc->admin != NULL && !pc->admin->done)
		return; /* pg_admin_answered() goes on */
	pg_complete(pc);
}

/* The admin console's answers as the kind reads them. */
static void
pg_admin_view(const struct pg_check *pc, struct probe_pg_admin *a)
{
	memset(a, 0, sizeof(*a));
	if (pc->admin == NULL)
		return;
	a->nres = pc->kind->nadmin;
	for (size_t i = 0; i < a->nres; i++)
		a->res[i] = pc->admin->res[i];
}

/* Both are over and the query succeeded: the kind's judgement decides. */
static void
pg_complete(struct pg_check *pc)
{
	struct probe_pg_admin a;
	enum probe_status st = PROBE_OK;

	pg_admin_view(pc, &a);
	if (pc->kind->judge != NULL)
		st = pc->kind->judge(pc->p, &pc->row, &a);
	pg_finish(pc, st);
}

/* Milliseconds since the own query was sent. */
static int64_t
pg_query_waited_ms(const struct pg_check *pc)
{
	return probe_waited_ms(pc->p, &pc->query_sent);
}

/* The own query waited as long as the kind's patience: it decides. */
static void
pg_patience_cb(evutil_socket_t fd, short what, void *arg)
{
	struct pg_check *pc = arg;
	struct probe_pg_admin a;
	enum probe_status st;

	(void)fd;
	(void)what;
	pg_admin_view(pc, &a);
	st = pc->kind->impatient(
	    pc->p, &a, (double)pg_query_waited_ms(pc) / 1000.0);
	pg_finish(pc, st);
}

/* Arm the patience timer once the query is sent and the kind asked. */
static void
pg_patience_arm(struct pg_check *pc)
{
	if (pc->patience_ms < 0 || pc->step != PG_STEP_QUERY ||
	    pc->patience != NULL)
		return;
	pc->patience = probe_timer_in(pc->p,
	    pc->patience_ms - pg_query_waited_ms(pc), pg_patience_cb, pc);
}

/* The admin console is done (answered or gave up). */
static void
pg_admin_answered(struct pg_check *pc)
{
	struct probe_pg_admin a;

	if (pc->query_done) {
		pg_complete(pc);
		return;
	}
	/* the own query still waits: how long the kind will wait for it */
	if (pc->kind->patience == NULL)
		return;
	pg_admin_view(pc, &a);
	pc->patience_ms = pc->kind->patience(pc->p, &a);
	pg_patience_arm(pc);
}

static void
pg_read_result(struct pg_check *pc)
{
	PGresult *res;

	if (PQconsumeInput(pc->conn) == 0) {
		pg_fail(pc, PQerrorMessage(pc->conn), NULL);
		return;
	}
	while (!PQisBusy(pc->conn)) {
		res = PQgetResult(pc->conn);
		if (res == NULL) {
			if (pc->got_row && pc->row_st == PROBE_OK) {
				pg_query_ok(pc);
			} else if (pc->got_row) {
				pg_finish(pc, pc->row_st);
			} else {
				probe_seterr(pc->p, "query: no row returned");
				pg_finish(pc, PROBE_PROTOCOL);
			}
			return;
		}
		if (PQresultStatus(res) == PGRES_TUPLES_OK) {
			if (!pc->got_row) {
				pc->got_row = true;
				pc->row_st = pg_judge_row(pc->p, res, &pc->row);
			}
			PQclear(res);
			continue;
		}
		{
			char msg[PROBE_ERRLEN];
			const char *state;

			snprintf(
			    msg, sizeof(msg), "%s", PQresultErrorMessage(res));
			if (msg[0] == '\0')
				snprintf(msg, sizeof(msg), "unexpected %s",
				    PQresStatus(PQresultStatus(res)));
			state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
			if (state != NULL) {
				char code[6];

				snprintf(code, sizeof(code), "%s", state);
				PQclear(res);
				pg_fail(pc, msg, code);
			} else {
				PQclear(res);
				pg_fail(pc, msg, NULL);
			}
			return;
		}
	}
	if (pg_arm(pc, EV_READ) < 0)
		pg_fail(pc, "cannot watch socket", NULL);
}

static void
pg_connected(struct pg_check *pc)
{
	pc->step = PG_STEP_QUERY;
	if (PQsetnonblocking(pc->conn, 1) != 0 ||
	    PQsendQuery(pc->conn, PG_QUERY) == 0) {
		pg_fail(pc, PQerrorMessage(pc->conn), NULL);
		return;
	}
	event_base_gettimeofday_cached(pc->p->base, &pc->query_sent);
	pg_patience_arm(pc); /* the admin console may have answered */
	pg_flush(pc);
}

static void
pg_polled(void *arg, PostgresPollingStatusType st)
{
	struct pg_check *pc = arg;

	switch (st) {
	case PGRES_POLLING_OK:
		pg_connected(pc);
		return;
	case PGRES_POLLING_READING:
		if (pg_arm(pc, EV_READ) < 0)
			pg_fail(pc, "cannot watch socket", NULL);
		return;
	case PGRES_POLLING_WRITING:
		if (pg_arm(pc, EV_WRITE) < 0)
			pg_fail(pc, "cannot watch socket", NULL);
		return;
	case PGRES_POLLING_FAILED:
	default:
		pg_fail(pc, PQerrorMessage(pc->conn), NULL);
		return;
	}
}

/* The next login step: on a worker when it may compute (SCRAM, TLS). */
static void
pg_poll(struct pg_check *pc)
{
	if (pgpoll_submit(pc->conn, &pc->job, pg_polled, pc) == 0)
		return;
	pg_polled(pc, PQconnectPoll(pc->conn));
}

static void
pg_event_cb(evutil_socket_t fd, short what, void *arg)
{
	struct pg_check *pc = arg;

	(void)fd;
	if (pc->step == PG_STEP_CONNECT) {
		pg_poll(pc);
		return;
	}
	if (what & EV_READ) {
		pg_read_result(pc);
		return;
	}
	pg_flush(pc);
}

/* The database logged into: dbname, else PostgreSQL's default, the user. */
static const char *
pg_dbname(const struct check_cfg *cfg)
{
	return cfg->dbname != NULL ? cfg->dbname : cfg->user;
}

/* ---- PgBouncer's admin console, alongside ---- */

static void pg_admin_cb(evutil_socket_t fd, short what, void *arg);

static void
pg_admin_free(struct pg_admin *a)
{
	if (a == NULL)
		return;
	if (a->ev != NULL)
		event_free(a->ev);
	if (a->conn != NULL)
		pgpoll_finish(a->conn, &a->job);
	for (size_t i = 0; i < PROBE_PG_ADMIN_MAX; i++)
		PQclear(a->res[i]);
	free(a);
}

/*
 * Stop asking: close the connection, keep the answers, tell the attempt
 * (last: it may finish and free a).
 */
static void
pg_admin_over(struct pg_admin *a)
{
	if (a->ev != NULL) {
		event_free(a->ev);
		a->ev = NULL;
	}
	if (a->conn != NULL) {
		pgpoll_finish(a->conn, &a->job);
		a->conn = NULL;
	}
	a->done = true;
	pg_admin_answered(a->pc);
}

/* The console refused or broke: say so (logged once), carry on without. */
static void
pg_admin_give_up(
    struct pg_admin *a, const char *key, const char *what, const char *msg)
{
	char text[200];
	char *cut;

	snprintf(text, sizeof(text), "%s", msg != NULL ? msg : "");
	if ((cut = strstr(text, "LOCATION:")) != NULL)
		*cut = '\0';
	probe_skip(a->pc->p, key,
	    "admin console (user %s, database pgbouncer): %s: %s; its checks are skipped",
	    a->pc->p->cfg->admin_user, what, text);
	pg_admin_over(a);
}

static int
pg_admin_arm(struct pg_admin *a, short what)
{
	int fd = PQsocket(a->conn);

	if (a->ev != NULL) {
		event_free(a->ev);
		a->ev = NULL;
	}
	if (fd < 0)
		return -1;
	a->ev = event_new(a->pc->p->base, fd, what, pg_admin_cb, a);
	if (a->ev == NULL || event_add(a->ev, NULL) != 0)
		return -1;
	return 0;
}

/* Send the next query, or end when all are answered. */
static void
pg_admin_send(struct pg_admin *a)
{
	int rc;

	if (a->next >= a->pc->kind->nadmin) {
		pg_admin_over(a);
		return;
	}
	a->failed = false;
	if (PQsendQuery(a->conn, a->pc->kind->admin_queries[a->next]) == 0) {
		pg_admin_give_up(a, "admin", "send", PQerrorMessage(a->conn));
		return;
	}
	rc = PQflush(a->conn);
	if (rc < 0 || pg_admin_arm(a, rc == 1 ? EV_READ | EV_WRITE : EV_READ))
		pg_admin_give_up(a, "admin", "send", PQerrorMessage(a->conn));
}

static void
pg_admin_read(struct pg_admin *a)
{
	const char *q = a->pc->kind->admin_queries[a->next];
	PGresult *res;

	if (PQconsumeInput(a->conn) == 0) {
		pg_admin_give_up(a, "admin", q, PQerrorMessage(a->conn));
		return;
	}
	while (!PQisBusy(a->conn)) {
		res = PQgetResult(a->conn);
		if (res == NULL) {
			a->next++;
			pg_admin_send(a);
			return;
		}
		if (PQresultStatus(res) == PGRES_TUPLES_OK &&
		    a->res[a->next] == NULL && !a->failed) {
			a->res[a->next] = res;
			continue;
		}
		if (PQresultStatus(res) != PGRES_TUPLES_OK && !a->failed) {
			/* this one refused (a stats user, an old PgBouncer) */
			a->failed = true;
			probe_skip(a->pc->p, q,
			    "admin console (user %s): %s refused: %.120s; its checks are skipped",
			    a->pc->p->cfg->admin_user, q,
			    PQresultErrorMessage(res));
		}
		PQclear(res);
	}
	if (pg_admin_arm(a, EV_READ) < 0)
		pg_admin_give_up(a, "admin", q, "cannot watch socket");
}

static void
pg_admin_polled(void *arg, PostgresPollingStatusType st)
{
	struct pg_admin *a = arg;

	switch (st) {
	case PGRES_POLLING_OK:
		a->connected = true;
		if (PQsetnonblocking(a->conn, 1) != 0) {
			pg_admin_give_up(
			    a, "admin", "login", PQerrorMessage(a->conn));
			return;
		}
		pg_admin_send(a);
		return;
	case PGRES_POLLING_READING:
		if (pg_admin_arm(a, EV_READ) < 0)
			pg_admin_give_up(
			    a, "admin", "login", "cannot watch socket");
		return;
	case PGRES_POLLING_WRITING:
		if (pg_admin_arm(a, EV_WRITE) < 0)
			pg_admin_give_up(
			    a, "admin", "login", "cannot watch socket");
		return;
	case PGRES_POLLING_FAILED:
	default:
		pg_admin_give_up(
		    a, "admin", "login refused", PQerrorMessage(a->conn));
		return;
	}
}

static void
pg_admin_poll(struct pg_admin *a)
{
	if (pgpoll_submit(a->conn, &a->job, pg_admin_polled, a) == 0)
		return;
	pg_admin_polled(a, PQconnectPoll(a->conn));
}

static void
pg_admin_cb(evutil_socket_t fd, short what, void *arg)
{
	struct pg_admin *a = arg;
	int rc;

	(void)fd;
	if (!a->connected) {
		pg_admin_poll(a);
		return;
	}
	if (what & EV_READ) {
		pg_admin_read(a);
		return;
	}
	rc = PQflush(a->conn);
	if (rc < 0 || pg_admin_arm(a, rc == 1 ? EV_READ | EV_WRITE : EV_READ))
		pg_admin_give_up(a, "admin", "send", PQerrorMessage(a->conn));
}

/*
 * Start asking the admin console, when the kind has questions and the
 * check an admin_user. A console that cannot even start is skipped.
 */
static void
pg_admin_start(struct pg_check *pc)
{
	const struct check_cfg *cfg = pc->p->cfg;
	const char *keys[10], *vals[10];
	struct pg_admin *a;
	char port[8];
	int n = 0;

	if (pc->kind->nadmin == 0 || cfg->admin_user == NULL)
		return;
	a = calloc(1, sizeof(*a));
	if (a == NULL)
		return;
	a->pc = pc;
	snprintf(port, sizeof(port), "%d", cfg->port);
	keys[n] = "host", vals[n++] = cfg->host;
	keys[n] = "hostaddr", vals[n++] = pc->p->addr;
	keys[n] = "port", vals[n++] = port;
	keys[n] = "dbname", vals[n++] = "pgbouncer";
	keys[n] = "user", vals[n++] = cfg->admin_user;
	if (cfg->admin_password != NULL)
		keys[n] = "password", vals[n++] = cfg->admin_password;
	keys[n] = "gssencmode", vals[n++] = "disable";
	keys[n] = "application_name", vals[n++] = "readyd";
	keys[n] = NULL, vals[n] = NULL;
	a->conn = PQconnectStartParams(keys, vals, 0);
	if (a->conn == NULL) {
		free(a);
		return;
	}
	PQsetNoticeProcessor(a->conn, pg_notice_cb, NULL);
	pc->admin = a;
	if (PQstatus(a->conn) == CONNECTION_BAD ||
	    pg_admin_arm(a, EV_WRITE) < 0) {
		/* not on the stack of the attempt's caller: just skip */
		a->done = true;
		PQfinish(a->conn);
		a->conn = NULL;
	}
}

int
probe_pg_start(struct probe *p, const struct probe_pg_kind *kind)
{
	const struct check_cfg *cfg = p->cfg;
	const char *keys[16], *vals[16];
	char port[8];
	struct pg_check *pc;
	int n = 0;

	pc = calloc(1, sizeof(*pc));
	if (pc == NULL) {
		probe_seterr(p, "connect: out of memory");
		p->status = PROBE_LOCAL;
		return -1;
	}
	pc->p = p;
	pc->kind = kind;
	pc->patience_ms = -1;
	pc->classify = kind->classify;
	snprintf(port, sizeof(port), "%d", cfg->port);
	/* host names the server for messages; hostaddr avoids any lookup */
	keys[n] = "host", vals[n++] = cfg->host;
	keys[n] = "hostaddr", vals[n++] = p->addr;
	keys[n] = "port", vals[n++] = port;
	keys[n] = "dbname", vals[n++] = pg_dbname(cfg);
	if (cfg->user != NULL)
		keys[n] = "user", vals[n++] = cfg->user;
	if (cfg->password != NULL)
		keys[n] = "password", vals[n++] = cfg->password;
	if (cfg->options != NULL)
		keys[n] = "options", vals[n++] = cfg->options;
	keys[n] = "gssencmode", vals[n++] = "disable";
	keys[n] = "application_name", vals[n++] = "readyd";
	keys[n] = NULL, vals[n] = NULL;

	pc->conn = PQconnectStartParams(keys, vals, 0);
	if (pc->conn == NULL) {
		probe_seterr(p, "connect: out of memory");
		p->status = PROBE_LOCAL;
		free(pc);
		return -1;
	}
	PQsetErrorVerbosity(pc->conn, PQERRORS_VERBOSE);
	/* libpq would print notices (and a watched session's FATAL) raw */
	PQsetNoticeProcessor(pc->conn, pg_notice_cb, NULL);
	if (PQstatus(pc->conn) == CONNECTION_BAD) {
		char code[6], hint[160];
		const char *msg = PQerrorMessage(pc->conn);

		p->status = kind->classify(
		    msg, probe_pg_sqlstate(msg, code), hint, sizeof(hint));
		probe_seterr(p, "connect: %s%s", msg, hint);
		PQfinish(pc->conn);
		free(pc);
		return -1;
	}
	p->priv = pc;
	/* before the first poll, act as if PQconnectPoll said WRITING */
	if (pg_arm(pc, EV_WRITE) < 0) {
		probe_seterr(p, "connect: cannot watch socket");
		p->status = PROBE_LOCAL;
		p->priv = NULL;
		PQfinish(pc->conn);
		free(pc);
		return -1;
	}
	pg_admin_start(pc);
	if (kind->classify == probe_pg_classify) /* the postgres kind */
		pc->insecure = probe_pg_insecure_start(p);
	return 0;
}

void
probe_pg_cancel(struct probe *p)
{
	struct pg_check *pc = p->priv;

	if (pc == NULL)
		return;
	if (pc->ev != NULL)
		event_free(pc->ev);
	if (pc->patience != NULL)
		event_free(pc->patience);
	pg_admin_free(pc->admin);
	pgpoll_finish(pc->conn, &pc->job);
	probe_pg_insecure_free(pc->insecure);
	free(pc);
	p->priv = NULL;
}

/* ---- the watched connection ---- */

static void
pg_watch_free(struct pg_watch *w)
{
	if (w->ev != NULL)
		event_free(w->ev);
	if (w->wev != NULL)
		event_free(w->wev);
	PQfinish(w->conn);
	free(w);
}

/* The connection broke: tell sched (last: p may start a new attempt). */
static void
pg_watch_lost(struct pg_watch *w)
{
	struct probe *p = w->p;

	p->watch = NULL;
	pg_watch_free(w);
	p->lost(p);
}

/* The heartbeat's outcome; the connection stays watched. */
static void
pg_beat_done(struct pg_watch *w, enum probe_status st)
{
	w->beating = false;
	w->p->beat(w->p, st); /* last: may unwatch, which frees w */
}

/* Read the heartbeat's results; true when the heartbeat is over. */
static bool
pg_beat_read(struct pg_watch *w)
{
	struct probe *p = w->p;
	PGresult *res;

	while (!PQisBusy(w->conn)) {
		res = PQgetResult(w->conn);
		if (res == NULL) {
			enum probe_status st = w->err_st;

			if (w->closing) {
				/*
				 * A FATAL: the server closes this session
				 * (idle_session_timeout, PgBouncer's
				 * client_idle_timeout, a shutdown). A drop,
				 * not a failure: a fresh probe decides.
				 */
				pg_watch_lost(w);
				return true;
			}
			if (st == PROBE_OK && !w->got_row) {
				probe_seterr(p, "query: no row returned");
				st = PROBE_PROTOCOL;
			} else if (st == PROBE_OK)
				st = w->row_st;
			pg_beat_done(w, st);
			return true;
		}
		if (PQresultStatus(res) == PGRES_TUPLES_OK) {
			if (!w->got_row) {
				w->got_row = true;
				w->row_st = pg_judge_row(p, res, NULL);
			}
		} else if (w->err_st == PROBE_OK) {
			const char *msg = PQresultErrorMessage(res);
			const char *state =
			    PQresultErrorField(res, PG_DIAG_SQLSTATE);
			const char *sev = PQresultErrorField(
			    res, PG_DIAG_SEVERITY_NONLOCALIZED);
			char code[6] = "", hint[160];

			if (sev != NULL &&
			    (strcmp(sev, "FATAL") == 0 ||
				strcmp(sev, "PANIC") == 0))
				w->closing = true;

			if (state != NULL)
				snprintf(code, sizeof(code), "%s", state);
			w->err_st = w->classify(
			    msg, state ? code : NULL, hint, sizeof(hint));
			if (w->err_st == PROBE_OK)
				w->err_st = PROBE_PROTOCOL;
			probe_seterr(p, "query: %s", msg);
		}
		PQclear(res);
	}
	return false;
}

static void
pg_watch_cb(evutil_socket_t fd, short what, void *arg)
{
	struct pg_watch *w = arg;
	PGnotify *n;

	(void)fd;
	(void)what;
	/* an idle session hears only notices, or its end */
	if (PQconsumeInput(w->conn) == 0 ||
	    PQstatus(w->conn) != CONNECTION_OK) {
		pg_watch_lost(w);
		return;
	}
	while ((n = PQnotifies(w->conn)) != NULL)
		PQfreemem(n);
	if (w->beating)
		(void)pg_beat_read(w);
}

static void
pg_beat_flush_cb(evutil_socket_t fd, short what, void *arg)
{
	struct pg_watch *w = arg;
	int rc;

	(void)fd;
	(void)what;
	rc = PQflush(w->conn);
	if (rc < 0) {
		pg_watch_lost(w);
		return;
	}
	if (rc == 1 && event_add(w->wev, NULL) != 0)
		pg_watch_lost(w);
}

int
probe_pg_heartbeat(struct probe *p)
{
	struct pg_watch *w = p->watch;
	int rc;

	if (w == NULL || w->beating)
		return -1;
	if (PQsendQuery(w->conn, PG_QUERY) == 0)
		return -1;
	w->beating = true;
	w->got_row = false;
	w->closing = false;
	w->err_st = PROBE_OK;
	rc = PQflush(w->conn);
	if (rc == 1) {
		if (w->wev == NULL)
			w->wev = event_new(p->base, PQsocket(w->conn), EV_WRITE,
			    pg_beat_flush_cb, w);
		if (w->wev == NULL || event_add(w->wev, NULL) != 0)
			rc = -1;
	}
	if (rc < 0) {
		/* the next read sees the broken connection */
		w->beating = false;
		return -1;
	}
	return 0;
}

static void
pg_watch_start(struct probe *p, PGconn *conn, probe_pg_classify_fn *classify)
{
	struct pg_watch *w = calloc(1, sizeof(*w));

	if (w == NULL) {
		PQfinish(conn);
		return;
	}
	w->p = p;
	w->conn = conn;
	w->classify = classify;
	w->ev = event_new(
	    p->base, PQsocket(conn), EV_READ | EV_PERSIST, pg_watch_cb, w);
	if (w->ev == NULL || event_add(w->ev, NULL) != 0) {
		pg_watch_free(w);
		return;
	}
	p->watch = w;
}

void
probe_pg_unwatch(struct probe *p)
{
	struct pg_watch *w = p->watch;

	if (w == NULL)
		return;
	p->watch = NULL;
	pg_watch_free(w);
}

/* dbname: PostgreSQL accepts more, the stack's names need no quoting. */
const char *
probe_pg_check_dbname(const char *v)
{
	size_t i;

	if (*v == '\0')
		return "empty";
	for (i = 0; v[i] != '\0'; i++)
		if (!((v[i] >= '0' && v[i] <= '9') ||
			(v[i] >= 'a' && v[i] <= 'z') ||
			(v[i] >= 'A' && v[i] <= 'Z') || v[i] == '_'))
			return "invalid database name";
	return NULL;
}

const struct probe_key probe_pg_keys[PROBE_PG_NKEYS] = {PROBE_PG_KEYS};

int
probe_pg_validate(
    const struct check_cfg *cfg, const char **key, char *err, size_t errlen)
{
	if (cfg->options != NULL && strchr(cfg->options, '\n') != NULL) {
		*key = "options";
		snprintf(err, errlen,
		    "contains a newline (accepted: libpq startup options such as -c statement_timeout=0)");
		return -1;
	}
	return 0;
}

void
probe_pg_target(const struct check_cfg *cfg, char *buf, size_t len)
{
	snprintf(buf, len, "%s:%d/%s", cfg->host, cfg->port,
	    pg_dbname(cfg) != NULL ? pg_dbname(cfg) : "");
}

bool
probe_pg_same(const struct check_cfg *a, const struct check_cfg *b)
{
	return probe_same_endpoint(a, b) &&
	    probe_same_str(a->dbname, b->dbname) &&
	    probe_same_str(a->options, b->options);
}

void
probe_pg_judge_version(struct probe *p, const struct probe_pg_row *row)
{
	int want = p->cfg->expect_version;

	if (want <= 0)
		return; /* not checked */
	if (row->version_num < 0) {
		probe_skip(p, "server_version",
		    "server_version_num is not a plain number: expect_version is not checked");
		return;
	}
	if (row->version_num == 0)
		return; /* not known */
	if (row->version_num / 10000 < want)
		probe_finding(p, PROBE_DRIFT, "server_version",
		    "PostgreSQL %d (server_version_num %d) is older than the expected %d",
		    row->version_num / 10000, row->version_num, want);
}

static enum probe_status
pg_judge(struct probe *p, const struct probe_pg_row *row,
    const struct probe_pg_admin *a)
{
	(void)a;
	probe_pg_judge_version(p, row);
	return PROBE_OK;
}

static const struct probe_pg_kind pg_kind = {
    .classify = probe_pg_classify,
    .judge = pg_judge,
};

static int
pg_start(struct probe *p)
{
	return probe_pg_start(p, &pg_kind);
}

const struct probe_ops probe_pg_ops = {
    .name = "postgres",
    .port = 5432,
    .auth = true,
    .keys = probe_pg_keys,
    .nkeys = PROBE_PG_NKEYS,
    .validate = probe_pg_validate,
    .target = probe_pg_target,
    .same = probe_pg_same,
    .start = pg_start,
    .cancel = probe_pg_cancel,
    .unwatch = probe_pg_unwatch,
    .heartbeat = probe_pg_heartbeat,
};
