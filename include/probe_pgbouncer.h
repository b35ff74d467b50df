/* SPDX-License-Identifier: MIT */
/*
 * PgBouncer's admin console as the pgbouncer kind reads it: pure functions
 * over SHOW POOLS, SHOW CONFIG and SHOW DATABASES results, for
 * probe_pgbouncer.c and its tests.
 * Owns: nothing; the results are the caller's.
 */
#ifndef READYD_PROBE_PGBOUNCER_H
#define READYD_PROBE_PGBOUNCER_H

#include "probe_pg.h"

#include <libpq-fe.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct check_cfg;

/*
 * The thresholds' defaults. One client waiting while every server
 * connection is busy means the pool is full now; a wait of a second is
 * what a web request notices; five seconds of wait is half the default
 * probe timeout and far past any query the stack expects.
 */
#define PROBE_PGBOUNCER_WARN_CL_WAITING 1
#define PROBE_PGBOUNCER_FAIL_CL_WAITING 0 /* never */
#define PROBE_PGBOUNCER_WARN_MAXWAIT_MS 1000
#define PROBE_PGBOUNCER_FAIL_MAXWAIT_MS 5000

/* SHOW POOLS summed over the rows (users) of one database. */
struct probe_pgbouncer_pool {
	bool found;	    /* a row of that database */
	long cl_active;	    /* clients paired with a server */
	long cl_waiting;    /* clients waiting for a server */
	long sv_active;	    /* server connections in use */
	long sv_idle;	    /* ...idle, ready */
	long sv_used;	    /* ...idle, to be checked */
	long sv_login;	    /* ...logging in */
	double maxwait_s;   /* the oldest wait (maxwait + maxwait_us) */
	char pool_mode[16]; /* the pool's mode (first row) */
};

/*
 * Sum db's rows of SHOW POOLS into out (columns found by name). Returns
 * 0, or -1 when res is not SHOW POOLS.
 */
int probe_pgbouncer_pool(
    const PGresult *res, const char *db, struct probe_pgbouncer_pool *out);

/* The value of key in SHOW CONFIG, or NULL. */
const char *probe_pgbouncer_config(const PGresult *res, const char *key);

/* One database of SHOW DATABASES. */
struct probe_pgbouncer_db {
	char host[128];	     /* the server it points at; "" if none */
	int port;	     /* its port */
	int pool_size;	     /* effective pool size */
	int reserve_pool;    /* extra connections allowed */
	int max_connections; /* max_db_connections; 0: no limit */
	char pool_mode[16];  /* its own pool_mode; "" for the default */
};

/* Find db's row of SHOW DATABASES into out. Returns 0, or -1. */
int probe_pgbouncer_database(
    const PGresult *res, const char *db, struct probe_pgbouncer_db *out);

/*
 * The server connections PgBouncer may open to host:port: for each
 * database pointing there, pool_size + reserve_pool (at most its
 * max_db_connections). Their names go into names, comma-separated.
 */
int probe_pgbouncer_server_demand(const PGresult *res, const char *host,
    int port, char *names, size_t nameslen);

/*
 * The connection slots PostgreSQL leaves ordinary roles such as
 * PgBouncer's: max_connections less superuser_reserved_connections and
 * (PostgreSQL 16+) reserved_connections, whose slots only roles with
 * pg_use_reserved_connections may take; at least 0. -1 when one of them
 * is unknown (not a plain number).
 */
int64_t probe_pgbouncer_room(const struct probe_pg_row *row);

/*
 * The fit of the pools on host:port (names, comma-separated) that may
 * open demand server connections, against row's room: a finding of p
 * (drift, key max_connections) when they do not fit; a skip when the room
 * is unknown; nothing when max_connections is 0 (not read).
 */
void probe_pgbouncer_fit(struct probe *p, const struct probe_pg_row *row,
    int demand, const char *names, const char *host, int port);

/*
 * Drift: pool_mode (SHOW POOLS, else SHOW DATABASES, else SHOW CONFIG),
 * the pool size (SHOW DATABASES, else default_pool_size), max_client_conn
 * and listen_port against p's check's expect_* keys, each a finding of p.
 * A setting that is not a plain number differs from any expected one.
 * conf and dbs may be NULL (not answered).
 */
void probe_pgbouncer_drift(struct probe *p, const PGresult *conf,
    const PGresult *dbs, const struct probe_pgbouncer_pool *pool);

/* "25" or "25-50" into lo..hi. Returns 0, or -1 when malformed. */
int probe_pgbouncer_parse_range(const char *s, int *lo, int *hi);

/* Whether clients queue while every server connection serves someone. */
bool probe_pgbouncer_is_saturated(const struct probe_pgbouncer_pool *pool);

enum probe_pgbouncer_pressure {
	PROBE_PGBOUNCER_CALM, /* no client queues, or under the thresholds */
	PROBE_PGBOUNCER_WARN, /* over a warn threshold */
	PROBE_PGBOUNCER_FAIL, /* over a fail threshold */
	PROBE_PGBOUNCER_PRESSURE_COUNT
};

/* The pool's pressure against cfg's warn_ and fail_ thresholds. */
enum probe_pgbouncer_pressure probe_pgbouncer_pressure(
    const struct check_cfg *cfg, const struct probe_pgbouncer_pool *pool);

#endif /* READYD_PROBE_PGBOUNCER_H */
