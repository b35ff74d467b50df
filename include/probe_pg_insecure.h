/* SPDX-License-Identifier: MIT */
/*
 * The production profile's question to PostgreSQL: does a login without
 * a password over the network get in? A second libpq connection of the
 * postgres kind's attempt, on the event loop, whose success is a finding
 * (insecure). For probe_pg.c only.
 * Owns: nothing beyond struct pg_insecure.
 */
#ifndef READYD_PROBE_PG_INSECURE_H
#define READYD_PROBE_PG_INSECURE_H

#include "probe.h"

struct pg_insecure;

/* Called once the login without a password is through (see _end). */
typedef void probe_pg_insecure_fn(void *arg, enum probe_status st);

/*
 * Start the login without a password for the attempt of p (the check's
 * host address, port, database and user; no password, no password file),
 * when p's check is in the production profile; else, or when it cannot
 * start, NULL (nothing to check). The caller owns the result.
 */
struct pg_insecure *probe_pg_insecure_start(struct probe *p);

/*
 * The main attempt of p ended with st. When the login without a password
 * is through (or st is a failure, or *ins is NULL), add its finding to p
 * if st is PROBE_OK and it got in, free *ins, set it NULL and return 1:
 * the caller reports st now. Otherwise return 0: cb(arg, st) is called
 * later from the event loop, once, after the finding is added and *ins
 * freed (the caller must not use *ins after cb, and sets it NULL there);
 * until then the caller keeps its attempt, and may cancel with _free.
 * The wait ends at three quarters of p's deadline (counted from _start):
 * then, or at once when that has passed, the login is abandoned, p gets
 * a skip (key "insecure") and st stands.
 */
int probe_pg_insecure_end(struct pg_insecure **ins, struct probe *p,
    enum probe_status st, probe_pg_insecure_fn *cb, void *arg);

/* Abandon it; no callback. NULL does nothing. */
void probe_pg_insecure_free(struct pg_insecure *ins);

#endif /* READYD_PROBE_PG_INSECURE_H */
