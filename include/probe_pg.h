/* SPDX-License-Identifier: MIT */
/*
 * The PostgreSQL wire protocol probe shared by the postgres and pgbouncer
 * kinds: async login with libpq, then SELECT 1.
 * Owns: nothing beyond probe.h; this header is for probe_*.c only.
 */
#ifndef READYD_PROBE_PG_H
#define READYD_PROBE_PG_H

#include "probe.h"

#include <stdbool.h>
#include <stddef.h>

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

/* Start an attempt that classifies failures with classify. */
int probe_pg_start(struct probe *p, probe_pg_classify_fn *classify);

/* probe_ops.cancel for both kinds. */
void probe_pg_cancel(struct probe *p);

/* probe_ops.unwatch for both kinds. */
void probe_pg_unwatch(struct probe *p);

/* The keys both kinds take: dbname, user, password, password_file, options. */
#define PROBE_PG_NKEYS 5
extern const struct probe_key probe_pg_keys[PROBE_PG_NKEYS];

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
