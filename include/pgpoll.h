/* SPDX-License-Identifier: MIT */
/*
 * PQconnectPoll() steps that do cryptography, run on worker threads.
 * Owns: the worker threads, their job queues and the descriptor that
 * wakes the loop when a job is done.
 *
 * A SCRAM-SHA-256 login derives its key (PBKDF2, about 8 ms of CPU)
 * inside one PQconnectPoll() call, and a TLS handshake computes inside
 * another; on the loop, every timer and HTTP answer would wait behind
 * them. The loop hands such a call to a worker and gets the result back
 * as an event. The loop still owns the PGconn, its socket events and the
 * attempt's deadline: a worker only makes the one call, on the
 * non-blocking socket the loop saw ready, so it never waits on the
 * network either. Only the loop thread calls these functions.
 */
#ifndef READYD_PGPOLL_H
#define READYD_PGPOLL_H

#include <event2/event.h>
#include <libpq-fe.h>
#include <stdint.h>

/* At most this many workers, whatever the number of CPUs. */
#define PGPOLL_MAX_THREADS 4

/* Workers run this much nicer than the loop (its timers, HTTP) */
#define PGPOLL_NICE 5

struct pgpoll_job;

/* A job's result, on the loop. */
typedef void pgpoll_fn(void *arg, PostgresPollingStatusType st);

/*
 * Start nthreads workers (0: one per online CPU, at most
 * PGPOLL_MAX_THREADS) whose results come back on base. 0, or -1 with err
 * set. Until this succeeds (and after pgpoll_stop()) every call runs on
 * the loop: pgpoll_submit() returns -1.
 */
int
pgpoll_start(struct event_base *base, int nthreads, char *err, size_t errlen);

/*
 * Stop and join the workers; the connections of abandoned jobs are closed.
 * Call after every owner has let go of its jobs, before freeing base.
 */
void pgpoll_stop(void);

/* Workers running (0: calls run on the loop). */
int pgpoll_threads(void);

/* Calls handed to workers since start-up. */
uint64_t pgpoll_steps(void);

/* ...of which their owner let go before they came back (a deadline). */
uint64_t pgpoll_abandoned(void);

/*
 * The next PQconnectPoll(conn), after its socket was seen ready: when it
 * may compute (TLS or the authentication exchange) and workers run, hand
 * it to one and return 0; *slot holds the job until fn(arg, result) is
 * called from the loop (*slot is NULL again by then). Otherwise -1: the
 * caller makes the call itself. The caller must not touch conn while
 * *slot is set, except through pgpoll_finish().
 */
int
pgpoll_submit(PGconn *conn, struct pgpoll_job **slot, pgpoll_fn *fn, void *arg);

/*
 * PQfinish(conn), now or, while *slot is in flight, once the worker is
 * done with it (fn is then never called). *slot is NULL after; slot may
 * be NULL when no job was ever submitted.
 */
void pgpoll_finish(PGconn *conn, struct pgpoll_job **slot);

#endif /* READYD_PGPOLL_H */
