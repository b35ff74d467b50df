/* SPDX-License-Identifier: MIT */
/*
 * What every probing command (serve, once, wait) runs on: the loaded
 * configuration, the event loop, the clock, the resolver, the scheduler
 * and the signal handlers.
 * Owns: struct runtime and everything it points to.
 */
#ifndef READYD_RUNTIME_H
#define READYD_RUNTIME_H

#include "sched.h"

#include <event2/util.h>
#include <stdbool.h>

#define RUNTIME_EXIT_READY     0  /* ready, or a command that worked */
#define RUNTIME_EXIT_NOT_READY 1  /* not ready, or a run-time failure */
#define RUNTIME_EXIT_USAGE     64 /* bad command line */

struct event;

/* A signal handler, as libevent calls it. */
typedef void runtime_signal_fn(evutil_socket_t sig, short what, void *arg);

struct runtime {
	struct config *cfg;	   /* owned */
	struct event_base *base;   /* owned */
	struct clock *clock;	   /* owned; the scheduler's */
	struct resolver *resolver; /* owned */
	struct sched *s;	   /* owned */
	struct event *sigs[3];	   /* owned; INT, TERM, HUP */
};

/*
 * Load the configuration at path (NULL: the default search), printing
 * each error line to stderr, or with as_log (a reload, on the event loop:
 * the file must be a regular file, see config_load()) to the log. NULL
 * on failure.
 */
struct config *runtime_load_config(const char *path, bool as_log);

/*
 * With rt->cfg loaded: create the loop, clock, resolver and a scheduler
 * in mode for the checks only selects (NULL: all), and install stop for
 * SIGINT and SIGTERM and hup (NULL: ignore it) for SIGHUP, with arg.
 * Returns 0, or -1 after logging why.
 */
int runtime_setup(struct runtime *rt, enum sched_mode mode, const bool *only,
    runtime_signal_fn *stop, runtime_signal_fn *hup, void *arg)
    __attribute__((warn_unused_result));

/* Signal sig asks to stop: log it, tell systemd, and leave the loop. */
void runtime_exit(struct runtime *rt, int sig);

/* Free everything rt owns (the configuration too); safe when half set up. */
void runtime_teardown(struct runtime *rt);

#endif /* READYD_RUNTIME_H */
