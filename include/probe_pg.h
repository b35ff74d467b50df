/* SPDX-License-Identifier: MIT */
/*
 * The PostgreSQL wire protocol probe shared by the postgres and pgbouncer
 * kinds: async login with libpq, then SELECT 1.
 * Owns: nothing beyond probe.h; this header is for probe_*.c only.
 */
#ifndef READYD_PROBE_PG_H
#define READYD_PROBE_PG_H

#include "probe.h"

#include <libpq-fe.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Map an error to a reason. msg is libpq's verbose error text (newlines
 * kept); sqlstate is the 5-character code or NULL when there is none.
 * May append a hint for the operator to hint (hintlen bytes, "" if none).
 */
typedef enum probe_status probe_pg_classify_fn(
    const char *msg, const char *sqlstate, char *hint, size_t hintlen);

/* The postgres kind's classifier, by SQLSTATE then by libpq's text. */
enum probe_status probe_pg_classify(
    const char *msg, const char *sqlstate, char *hint, size_t hintlen);

/* The pgbouncer kind's classifier: PgBouncer's texts, then the above. */
enum probe_status probe_pgbouncer_classify(
    const char *msg, const char *sqlstate, char *hint, size_t hintlen);

/*
 * Extract the SQLSTATE from a verbose libpq error ("FATAL:  28P01: ...")
 * into code (6 bytes). Returns code, or NULL when msg carries none.
 */
const char *probe_pg_sqlstate(const char *msg, char *code);

/*
 * What the probe's own query read besides its verdict, for findings only:
 * -1 when the server sent no plain number within INT_MAX (the finding
 * that needs it is skipped, the verdict stands); 0 also means unknown
 * for version_num.
 */
struct probe_pg_row {
	int version_num;	  /* server_version_num, 150010 */
	int max_connections;	  /* max_connections */
	int reserved;		  /* superuser_reserved_connections */
	int reserved_connections; /* PostgreSQL 16+; 0 when it has none */
};

/*
 * Read the numbers of the probe's query's row (res: its one row, columns
 * in PG_QUERY's order) into row: each -1 unless a plain number within
 * INT_MAX; a NULL reserved_connections (a server before 16) is 0.
 */
void probe_pg_read_row(const PGresult *res, struct probe_pg_row *row);

/*
 * The answers of PgBouncer's admin console in one attempt, one result
 * per query of the kind (NULL: not asked, refused or failed).
 */
#define PROBE_PG_ADMIN_MAX 4
struct probe_pg_admin {
	const PGresult *res[PROBE_PG_ADMIN_MAX]; /* borrowed for the call */
	size_t nres;				 /* entries in res */
};

/*
 * What a kind adds to the shared attempt.
 *
 * classify: map a failure to a reason.
 * admin_queries, nadmin: when the check sets admin_user, the queries run
 *     on PgBouncer's admin console (database pgbouncer, simple query
 *     protocol) alongside the probe's own login and query.
 * judge: after the probe's query succeeded (and the admin console
 *     answered or gave up): add findings to p, return PROBE_OK, or a
 *     failure with p->errstr set. NULL: PROBE_OK.
 * patience: the admin console answered while the probe's own query is
 *     not done: how long (ms, counted from when the query was sent) to
 *     wait for it before impatient decides; < 0 waits for the query (or
 *     the deadline). NULL: < 0.
 * impatient: the query waited that long: set p->errstr (or findings) and
 *     return the attempt's outcome; waited_s is how long it waited.
 */
struct probe_pg_kind {
	probe_pg_classify_fn *classify;
	const char *const *admin_queries;
	size_t nadmin;
	enum probe_status (*judge)(struct probe *p,
	    const struct probe_pg_row *row, const struct probe_pg_admin *a);
	int64_t (*patience)(struct probe *p, const struct probe_pg_admin *a);
	enum probe_status (*impatient)(
	    struct probe *p, const struct probe_pg_admin *a, double waited_s);
};

/* Start an attempt of that kind. */
int probe_pg_start(struct probe *p, const struct probe_pg_kind *kind);

/*
 * The postgres kind's judge, shared: server_version_num against the
 * check's expect_version (drift when the major is lower).
 */
void probe_pg_judge_version(struct probe *p, const struct probe_pg_row *row);

/* probe_ops.cancel for both kinds. */
void probe_pg_cancel(struct probe *p);

/* probe_ops.unwatch for both kinds. */
void probe_pg_unwatch(struct probe *p);

/*
 * The keys both kinds take: dbname, user, password, password_file,
 * options, expect_version (PROBE_PG_KEYS for a kind's own table).
 */
#define PROBE_PG_NKEYS 6
extern const struct probe_key probe_pg_keys[PROBE_PG_NKEYS];
const char *probe_pg_check_dbname(const char *v);
#define PROBE_PG_KEYS                                                          \
	{.name = "dbname",                                                     \
	    .type = PROBE_KEY_TEXT,                                            \
	    .offset = offsetof(struct check_cfg, dbname),                      \
	    .accepted = "letters, digits and \"_\"",                           \
	    .check = probe_pg_check_dbname},                                   \
	    PROBE_KEYS_USER_PASSWORD,                                          \
	    {.name = "options",                                                \
		.type = PROBE_KEY_TEXT,                                        \
		.offset = offsetof(struct check_cfg, options)},                \
	{                                                                      \
		.name = "expect_version", .type = PROBE_KEY_INT, .min = 0,     \
		.max = 99,                                                     \
		.offset = offsetof(struct check_cfg, expect_version),          \
		.accepted = "a PostgreSQL major version such as 16, or empty", \
		.optional = true                                               \
	}

/* probe_ops.heartbeat for both kinds: the probe's query, no login. */
int probe_pg_heartbeat(struct probe *p);

/* probe_ops.validate for both kinds. */
int probe_pg_validate(
    const struct check_cfg *cfg, const char **key, char *err, size_t errlen);

/* probe_ops.target for both kinds: "host:port/dbname". */
void probe_pg_target(const struct check_cfg *cfg, char *buf, size_t len);

/* probe_ops.same for both kinds. */
bool probe_pg_same(const struct check_cfg *a, const struct check_cfg *b);

#endif /* READYD_PROBE_PG_H */
