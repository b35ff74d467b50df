/* SPDX-License-Identifier: MIT */
/*
 * What every probing command runs on, set up and torn down in one place.
 * Owns: struct runtime and everything it points to.
 */
#include "runtime.h"

#include "clock.h"
#include "config.h"
#include "log.h"
#include "notify.h"
#include "pgpoll.h"
#include "resolve.h"

#include <event2/event.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

struct config *
runtime_load_config(const char *path, bool as_log)
{
	char err[CONFIG_ERRLEN];
	/* a reload runs on the loop: nothing that could block */
	struct config *cfg = as_log
	    ? config_load(path, err, sizeof(err))
	    : config_load_startup(path, err, sizeof(err));

	if (cfg == NULL) {
		char *line, *save = NULL;

		for (line = strtok_r(err, "\n", &save); line != NULL;
		     line = strtok_r(NULL, "\n", &save))
			if (as_log)
				log_error("%s", line);
			else
				fprintf(stderr, "readyd: %s\n", line);
	}
	return cfg;
}

/* SIGHUP where nothing reloads: not fatal, and nothing to do. */
static void
runtime_ignore_cb(evutil_socket_t sig, short what, void *arg)
{
	(void)sig;
	(void)what;
	(void)arg;
}

int
runtime_setup(struct runtime *rt, enum sched_mode mode, const bool *only,
    runtime_signal_fn *stop, runtime_signal_fn *hup, void *arg)
{
	char err[256];

	rt->base = event_base_new();
	if (rt->base == NULL) {
		log_error("cannot create the event loop");
		return -1;
	}
	/* SCRAM and TLS login steps off the loop; without, on it */
	if (pgpoll_start(rt->base, 0, err, sizeof(err)) < 0)
		log_warn(
		    "%s: PostgreSQL login steps run on the event loop", err);
	rt->resolver = resolve_new(rt->base, err, sizeof(err));
	if (rt->resolver == NULL) {
		log_error("resolver: %s", err);
		return -1;
	}
	rt->clock = clock_new(rt->base);
	if (rt->clock == NULL) {
		log_error("cannot create the clock");
		return -1;
	}
	rt->s = sched_new(rt->base, rt->clock, rt->resolver, rt->cfg, mode,
	    only, err, sizeof(err));
	if (rt->s == NULL) {
		log_error("scheduler: %s", err);
		return -1;
	}
	rt->sigs[0] = evsignal_new(rt->base, SIGINT, stop, arg);
	rt->sigs[1] = evsignal_new(rt->base, SIGTERM, stop, arg);
	rt->sigs[2] = evsignal_new(
	    rt->base, SIGHUP, hup != NULL ? hup : runtime_ignore_cb, arg);
	for (int i = 0; i < 3; i++)
		if (rt->sigs[i] == NULL ||
		    evsignal_add(rt->sigs[i], NULL) != 0) {
			log_error("cannot install signal handlers");
			return -1;
		}
	return 0;
}

void
runtime_exit(struct runtime *rt, int sig)
{
	log_info("signal %d: shutting down", sig);
	notify_stopping(NULL, false);
	event_base_loopexit(rt->base, NULL);
}

void
runtime_teardown(struct runtime *rt)
{
	sched_free(rt->s);	    /* cancels probes and lookups */
	resolve_free(rt->resolver); /* runs their deferred callbacks */
	pgpoll_stop();		    /* closes what the probes let go */
	clock_free(rt->clock);
	for (size_t i = 0; i < sizeof(rt->sigs) / sizeof(rt->sigs[0]); i++)
		if (rt->sigs[i] != NULL)
			event_free(rt->sigs[i]);
	if (rt->base != NULL)
		event_base_free(rt->base);
	config_free(rt->cfg);
	libevent_global_shutdown();
}
