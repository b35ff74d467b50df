/* SPDX-License-Identifier: MIT */
/*
 * `readyd serve`: start-up, the loop, SIGHUP reload and SIGTERM drain.
 * Owns: struct serve: the runtime, the HTTP server, the systemd notifier
 * and the drain timer.
 */
#include "serve.h"

#include "clock.h"
#include "config.h"
#include "http.h"
#include "log.h"
#include "notify.h"
#include "runtime.h"

#include <event2/event.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

struct serve {
	struct runtime rt;	  /* owned */
	struct http_server *http; /* owned */
	struct notify *notify;	  /* owned */
	struct event *drain;	  /* owned; ends the drain */
	bool stopping;		  /* a stop signal came */
	const char *path;	  /* borrowed from argv; NULL = default */
};

static void
serve_attempt_cb(struct sched *s, size_t i, void *arg)
{
	struct serve *sv = arg;

	(void)i;
	notify_status(sv->notify, sv->rt.cfg, s);
}

/* ---- SIGTERM and SIGINT: drain, then stop ---- */

static void
serve_drained_cb(evutil_socket_t fd, short what, void *arg)
{
	struct serve *sv = arg;

	(void)fd;
	(void)what;
	log_info("drain over: exiting");
	event_base_loopexit(sv->rt.base, NULL);
}

/*
 * SIGTERM or SIGINT. With [daemon] drain, /ready answers 503 at once while
 * /live stays 200 for that long, so that load balancers stop sending
 * before readyd goes; a second signal ends the drain early.
 */
static void
serve_stop_cb(evutil_socket_t sig, short what, void *arg)
{
	struct serve *sv = arg;
	int64_t drain_ms = sv->rt.cfg->drain_ms;
	struct timeval tv;

	(void)what;
	if (sv->stopping || sv->http == NULL || drain_ms <= 0) {
		sv->stopping = true; /* a SIGHUP from now on does nothing */
		runtime_exit(&sv->rt, (int)sig);
		return;
	}
	sv->stopping = true;
	notify_stopping(sv->notify, true);
	http_set_draining(sv->http, true);
	log_info("signal %d: draining for %lldms: /ready answers 503", (int)sig,
	    (long long)drain_ms);
	tv = clock_tv(drain_ms);
	sv->drain = evtimer_new(sv->rt.base, serve_drained_cb, sv);
	if (sv->drain == NULL || evtimer_add(sv->drain, &tv) != 0)
		event_base_loopexit(sv->rt.base, NULL);
}

/* ---- SIGHUP: reload ---- */

/*
 * A scheduler for cfg that keeps the state of the running one's checks
 * that probe the same server; NULL (logged) when it cannot start.
 */
static struct sched *
serve_new_sched(struct serve *sv, const struct config *cfg, size_t *kept)
{
	struct runtime *rt = &sv->rt;
	struct sched *s;
	char err[256];

	s = sched_new(rt->base, rt->clock, rt->resolver, cfg, SCHED_MODE_SERVE,
	    NULL, err, sizeof(err));
	if (s == NULL) {
		log_error(
		    "reload: %s; still running the old configuration", err);
		return NULL;
	}
	*kept = sched_adopt(s, rt->s);
	if (sched_start(s) < 0) {
		log_error(
		    "reload: cannot start the scheduler; still running the old configuration");
		sched_free(s);
		return NULL;
	}
	return s;
}

/*
 * SIGHUP: read the configuration again. A valid one replaces the old one
 * between loop iterations (checks that still probe the same server keep
 * their state); an invalid one is rejected and the old one keeps running.
 */
static void
serve_hup_cb(evutil_socket_t sig, short what, void *arg)
{
	struct serve *sv = arg;
	struct runtime *rt = &sv->rt;
	struct config *cfg;
	struct sched *s;
	size_t kept;

	(void)sig;
	(void)what;
	if (sv->stopping || sv->http == NULL) {
		/* the scheduler and configuration may be gone already */
		log_info("SIGHUP ignored: shutting down");
		return;
	}
	log_info(
	    "SIGHUP: reloading %s", sv->path ? sv->path : "the configuration");
	cfg = runtime_load_config(sv->path, true);
	if (cfg == NULL) {
		log_error(
		    "reload: configuration rejected; still running the old one");
		return;
	}
	if (strcmp(cfg->listen_host, rt->cfg->listen_host) != 0 ||
	    cfg->listen_port != rt->cfg->listen_port)
		log_warn(
		    "reload: a new listen address needs a restart; still listening on %s:%d",
		    rt->cfg->listen_host, rt->cfg->listen_port);
	s = serve_new_sched(sv, cfg, &kept);
	if (s == NULL) {
		config_free(cfg);
		return;
	}
	sched_set_notify(s, serve_attempt_cb, sv);
	http_set_source(sv->http, cfg, s);
	sched_free(rt->s);
	config_free(rt->cfg);
	rt->s = s;
	rt->cfg = cfg;
	log_info("reload: %zu checks (%zu kept their state), %zu groups",
	    cfg->nchecks, kept, cfg->ngroups);
	notify_status(sv->notify, rt->cfg, rt->s);
}

/* ---- start-up ---- */

static void
serve_raise_nofile(void)
{
	struct rlimit rl;

	/* idle HTTP clients cost a descriptor each: take all we may */
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		(void)setrlimit(RLIMIT_NOFILE, &rl);
	}
}

/* Set up, bind and start probing; -1 (logged) on failure. */
static int
serve_start(struct serve *sv, const char *host, int port)
{
	struct runtime *rt = &sv->rt;
	char err[512];

	serve_raise_nofile();
	sv->notify = notify_new();
	if (sv->notify == NULL ||
	    runtime_setup(rt, SCHED_MODE_SERVE, NULL, serve_stop_cb,
		serve_hup_cb, sv) < 0)
		return -1;
	sv->http =
	    http_new(rt->base, host, port, rt->cfg, rt->s, err, sizeof(err));
	if (sv->http == NULL) {
		log_error("%s", err);
		return -1;
	}
	sched_set_notify(rt->s, serve_attempt_cb, sv);
	if (sched_start(rt->s) < 0 ||
	    notify_start_watchdog(sv->notify, rt->base) < 0) {
		log_error("cannot start the scheduler");
		return -1;
	}
	log_info(
	    "readyd %s: listening on %s:%d (max_clients %zu), %zu checks, %zu groups, config %s",
	    READYD_VERSION, host, port, http_max_clients(rt->cfg),
	    rt->cfg->nchecks, rt->cfg->ngroups, rt->cfg->path);
	/* the socket is bound: systemd may start what depends on us */
	notify_ready(host, port, rt->cfg->nchecks);
	return 0;
}

int
serve_run(const char *path, const char *host, int port)
{
	struct serve sv = {.path = path};
	sigset_t hup;
	int result = RUNTIME_EXIT_NOT_READY;

	if (getenv("JOURNAL_STREAM") != NULL)
		log_set_timestamps(false); /* the journal stamps lines */
	/*
	 * A SIGHUP before the loop runs (systemctl reload while starting)
	 * must not kill us: held until the handler is installed, then it
	 * reloads.
	 */
	sigemptyset(&hup);
	sigaddset(&hup, SIGHUP);
	sigprocmask(SIG_BLOCK, &hup, NULL);
	sv.rt.cfg = runtime_load_config(path, false);
	if (sv.rt.cfg == NULL)
		return CONFIG_EXIT;
	if (host == NULL) {
		host = sv.rt.cfg->listen_host;
		port = sv.rt.cfg->listen_port;
	}
	if (serve_start(&sv, host, port) == 0) {
		sigprocmask(SIG_UNBLOCK, &hup, NULL);
		event_base_dispatch(sv.rt.base);
		log_info("stopped");
		result = RUNTIME_EXIT_READY;
	}
	/*
	 * Shutting down: a SIGHUP from now on must neither reload into what
	 * the teardown frees (runtime_teardown() runs the loop once more)
	 * nor, once libevent gives the signal back, kill us: hold it.
	 */
	sv.stopping = true;
	sigprocmask(SIG_BLOCK, &hup, NULL);
	notify_free(sv.notify);
	if (sv.drain != NULL)
		event_free(sv.drain);
	http_free(sv.http);
	sv.http = NULL;
	runtime_teardown(&sv.rt);
	return result;
}
