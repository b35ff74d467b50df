/* SPDX-License-Identifier: MIT */
/*
 * The production profile's login without a password: PQconnectStartParams
 * and PQconnectPoll to the postgres check's server over TCP (hostaddr
 * set), as the check's user, with no password and no password file. If the
 * server lets it in without asking for one (trust in pg_hba.conf), the
 * check warns, reason insecure. Nothing blocks the event loop. Once the
 * check's own query succeeded, the login gets until three quarters of the
 * attempt's deadline, like the admin console's patience: a login that
 * hangs (an ident server that never answers, a frozen accept) is then
 * abandoned and skipped, the check passes, instead of a timeout caused by
 * an optional inspection.
 * Owns: struct pg_insecure, its PGconn, socket event and patience timer.
 */
#include "probe_pg_insecure.h"

#include "config.h"

#include <event2/event.h>
#include <libpq-fe.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/time.h>

struct pg_insecure {
	struct probe *p;	  /* borrowed from sched */
	PGconn *conn;		  /* owned; NULL once through */
	struct event *ev;	  /* owned; on PQsocket() */
	bool through;		  /* the login is over */
	bool got_in;		  /* ...and needed no password */
	struct pg_insecure **ref; /* the caller's pointer, while waiting */
	probe_pg_insecure_fn *cb; /* set while the caller waits */
	void *arg;		  /* for cb */
	enum probe_status st;	  /* the main attempt's outcome */
	struct timeval started;	  /* when the login (and attempt) began */
	struct event *patience;	  /* owned; while the caller waits */
};

static void pg_insecure_event_cb(evutil_socket_t fd, short what, void *arg);

/* Probes never log. */
static void
pg_insecure_notice_cb(void *arg, const char *message)
{
	(void)arg;
	(void)message;
}

static void
pg_insecure_release(struct pg_insecure *ins)
{
	if (ins->ev != NULL) {
		event_free(ins->ev);
		ins->ev = NULL;
	}
	if (ins->patience != NULL) {
		event_free(ins->patience);
		ins->patience = NULL;
	}
	PQfinish(ins->conn); /* NULL does nothing */
	ins->conn = NULL;
}

void
probe_pg_insecure_free(struct pg_insecure *ins)
{
	if (ins == NULL)
		return;
	pg_insecure_release(ins);
	free(ins);
}

/* The finding, when the attempt passed and the login got in. */
static void
pg_insecure_report(
    struct pg_insecure *ins, struct probe *p, enum probe_status st)
{
	const struct check_cfg *cfg = p->cfg;

	if (st != PROBE_OK || !ins->got_in)
		return;
	probe_finding(p, PROBE_INSECURE, "auth",
	    "a login as %s without a password over the network (%s port %d) got in: pg_hba.conf trusts it (use scram-sha-256)",
	    cfg->user != NULL ? cfg->user : "(default user)", cfg->host,
	    cfg->port);
}

/* The login is over: if the main attempt waits for it, end that too. */
static void
pg_insecure_through(struct pg_insecure *ins, bool got_in)
{
	probe_pg_insecure_fn *cb = ins->cb;
	void *arg = ins->arg;
	enum probe_status st = ins->st;

	ins->through = true;
	ins->got_in = got_in;
	pg_insecure_release(ins);
	if (cb == NULL)
		return; /* the main attempt asks in probe_pg_insecure_end */
	pg_insecure_report(ins, ins->p, st);
	*ins->ref = NULL;
	free(ins);
	cb(arg, st); /* last */
}

static int
pg_insecure_arm(struct pg_insecure *ins, short what)
{
	int fd = PQsocket(ins->conn);

	if (ins->ev != NULL) {
		event_free(ins->ev);
		ins->ev = NULL;
	}
	if (fd < 0)
		return -1;
	ins->ev = event_new(ins->p->base, fd, what, pg_insecure_event_cb, ins);
	if (ins->ev == NULL || event_add(ins->ev, NULL) != 0)
		return -1;
	return 0;
}

static void
pg_insecure_poll(struct pg_insecure *ins)
{
	switch (PQconnectPoll(ins->conn)) {
	case PGRES_POLLING_OK:
		/* in: without a password unless libpq found one (PGPASSWORD) */
		pg_insecure_through(ins, !PQconnectionUsedPassword(ins->conn));
		return;
	case PGRES_POLLING_READING:
		if (pg_insecure_arm(ins, EV_READ) < 0)
			pg_insecure_through(ins, false);
		return;
	case PGRES_POLLING_WRITING:
		if (pg_insecure_arm(ins, EV_WRITE) < 0)
			pg_insecure_through(ins, false);
		return;
	case PGRES_POLLING_FAILED:
	default:
		/* "no password supplied", refused, ...: not in */
		pg_insecure_through(ins, false);
		return;
	}
}

static void
pg_insecure_event_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	pg_insecure_poll(arg);
}

struct pg_insecure *
probe_pg_insecure_start(struct probe *p)
{
	const struct check_cfg *cfg = p->cfg;
	const char *keys[12], *vals[12];
	struct pg_insecure *ins;
	char port[8];
	int n = 0;

	if (!cfg->production)
		return NULL;
	ins = calloc(1, sizeof(*ins));
	if (ins == NULL)
		return NULL;
	ins->p = p;
	event_base_gettimeofday_cached(p->base, &ins->started);
	snprintf(port, sizeof(port), "%d", cfg->port);
	/* over TCP to the address the check uses; no password of any kind */
	keys[n] = "host", vals[n++] = cfg->host;
	keys[n] = "hostaddr", vals[n++] = p->addr;
	keys[n] = "port", vals[n++] = port;
	keys[n] = "dbname",
	vals[n++] = cfg->dbname != NULL ? cfg->dbname : cfg->user;
	if (cfg->user != NULL)
		keys[n] = "user", vals[n++] = cfg->user;
	/* a path that cannot exist: libpq looks for no ~/.pgpass, silently */
	keys[n] = "passfile", vals[n++] = "/dev/null/none";
	keys[n] = "gssencmode", vals[n++] = "disable";
	keys[n] = "application_name", vals[n++] = "readyd-insecure-check";
	keys[n] = NULL, vals[n] = NULL;
	ins->conn = PQconnectStartParams(keys, vals, 0);
	if (ins->conn == NULL || PQstatus(ins->conn) == CONNECTION_BAD) {
		probe_pg_insecure_free(ins);
		return NULL;
	}
	PQsetNoticeProcessor(ins->conn, pg_insecure_notice_cb, NULL);
	/* before the first poll, act as if PQconnectPoll said WRITING */
	if (pg_insecure_arm(ins, EV_WRITE) < 0) {
		probe_pg_insecure_free(ins);
		return NULL;
	}
	return ins;
}

/* How long the attempt may still wait for the login (ms), <= 0: none. */
static int64_t
pg_insecure_left_ms(const struct pg_insecure *ins)
{
	return ins->p->deadline_ms * 3 / 4 -
	    probe_waited_ms(ins->p, &ins->started);
}

/* The login had no answer in time: skipped (logged once per check). */
static void
pg_insecure_skip(struct pg_insecure *ins)
{
	const struct check_cfg *cfg = ins->p->cfg;

	probe_skip(ins->p, "insecure",
	    "the login as %s without a password (%s port %d) had no answer within %lldms (3/4 of the timeout): its check is skipped, the check passes",
	    cfg->user != NULL ? cfg->user : "(default user)", cfg->host,
	    cfg->port, (long long)(ins->p->deadline_ms * 3 / 4));
}

/* The attempt waited as long as it may: give up the login, report. */
static void
pg_insecure_patience_cb(evutil_socket_t fd, short what, void *arg)
{
	struct pg_insecure *ins = arg;
	probe_pg_insecure_fn *cb = ins->cb;
	void *cbarg = ins->arg;
	enum probe_status st = ins->st;

	(void)fd;
	(void)what;
	pg_insecure_skip(ins);
	*ins->ref = NULL;
	probe_pg_insecure_free(ins);
	cb(cbarg, st); /* last */
}

/* Wait until the cap; 0, or -1 when it has passed (or no timer). */
static int
pg_insecure_patience_arm(struct pg_insecure *ins)
{
	int64_t left;

	if (ins->p->deadline_ms <= 0)
		return 0; /* no deadline: wait for the login */
	left = pg_insecure_left_ms(ins);
	if (left <= 0)
		return -1;
	ins->patience =
	    probe_timer_in(ins->p, left, pg_insecure_patience_cb, ins);
	return ins->patience != NULL ? 0 : -1;
}

int
probe_pg_insecure_end(struct pg_insecure **ref, struct probe *p,
    enum probe_status st, probe_pg_insecure_fn *cb, void *arg)
{
	struct pg_insecure *ins = *ref;

	if (ins == NULL)
		return 1;
	if (ins->through || st != PROBE_OK) {
		pg_insecure_report(ins, p, st);
		probe_pg_insecure_free(ins);
		*ref = NULL;
		return 1;
	}
	if (pg_insecure_patience_arm(ins) < 0) {
		/* past three quarters of the deadline already: no wait */
		pg_insecure_skip(ins);
		probe_pg_insecure_free(ins);
		*ref = NULL;
		return 1;
	}
	ins->ref = ref;
	ins->cb = cb;
	ins->arg = arg;
	ins->st = st;
	return 0;
}
