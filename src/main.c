/* SPDX-License-Identifier: MIT */
/*
 * readyd: a readiness daemon for PostgreSQL, PgBouncer and Redis.
 * Owns: argv, the event_base, signals, the loop and the process's
 * mutable globals.
 */
#include "client.h"
#include "clock.h"
#include "config.h"
#include "http.h"
#include "log.h"
#include "probe.h"
#include "render.h"
#include "resolve.h"
#include "sched.h"
#include "verdict.h"

#include <errno.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <getopt.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <systemd/sd-daemon.h>

#define EXIT_READY     0
#define EXIT_NOT_READY 1
#define EXIT_USAGE     64

static const char usage_text[] =
    "usage: readyd [serve] [-c FILE] [--listen ADDR:PORT] [--verbose]\n"
    "       readyd once   [-c FILE] [--json] [NAME...]\n"
    "       readyd wait   [-c FILE] [--timeout DUR] [NAME...]\n"
    "       readyd check  [--url URL] [--timeout DUR]\n"
    "       readyd config [-c FILE]\n"
    "       readyd --help | --version\n"
    "\n"
    "Probes PostgreSQL, PgBouncer and Redis the way the applications\n"
    "connect and serves the verdict at /ready. NAME is a check or group.\n"
    "Exit: 0 ready, 1 not ready, 64 usage error, 78 configuration error.\n"
    "See readyd(8) and README.md.\n";

/* What a command runs on; set up by main_setup(), freed by main_teardown(). */
struct main_ctx {
	struct config *cfg;	   /* owned */
	struct event_base *base;   /* owned */
	struct clock *clock;	   /* owned; the scheduler's */
	struct resolver *resolver; /* owned */
	struct sched *s;	   /* owned */
	struct http_server *http;  /* owned */
	struct event *sigs[4];	   /* owned; INT, TERM, HUP */
	bool *only;		   /* owned; selected checks or NULL */
	bool *named;		   /* owned; checks named on argv */
	size_t *idx;		   /* owned; the selected checks in order */
	size_t nidx;		   /* entries in idx */
	int result;		   /* exit status of the command */
	const char *path;	   /* borrowed from argv; NULL = default */
	struct event *watchdog;	   /* owned; WATCHDOG=1 under systemd */
	struct event *drain;	   /* owned; ends the drain */
	bool stopping;		   /* a stop signal came */
	char status[160];	   /* last STATUS= sent to systemd */
};

static int
usage_error(const char *fmt, const char *arg)
{
	fprintf(stderr, "readyd: ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, "\n%s", usage_text);
	return EXIT_USAGE;
}

static struct config *
main_load_config_as(const char *path, bool as_log)
{
	char err[CONFIG_ERRLEN];
	struct config *cfg = config_load(path, err, sizeof(err));

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

static struct config *
main_load_config(const char *path)
{
	return main_load_config_as(path, false);
}

/* Split "ADDR:PORT" ("[v6]:PORT" too) into host (hostlen) and port. */
static int
main_parse_listen(const char *s, char *host, size_t hostlen, int *port)
{
	char err[128], *h = NULL;

	if (config_parse_listen(s, &h, port, err, sizeof(err)) < 0)
		return -1;
	snprintf(host, hostlen, "%s", h);
	free(h);
	return 0;
}

/* Mark the checks NAMES select (a check, or a group's checks). */
static int
main_select(struct main_ctx *m, int argc, char **argv)
{
	const struct config *cfg = m->cfg;

	if (argc == 0)
		return 0;
	m->only = calloc(cfg->nchecks, sizeof(bool));
	m->named = calloc(cfg->nchecks, sizeof(bool));
	if (m->only == NULL || m->named == NULL)
		return -1;
	for (int a = 0; a < argc; a++) {
		int i = config_find_check(cfg, argv[a]);
		int g = config_find_group(cfg, argv[a]);

		if (i >= 0) {
			m->only[i] = m->named[i] = true;
		} else if (g >= 0) {
			for (size_t k = 0; k < cfg->groups[g].nchecks; k++)
				m->only[cfg->groups[g].checks[k]] = true;
		} else {
			fprintf(stderr, "readyd: %s: no such check or group\n",
			    argv[a]);
			return -1;
		}
	}
	m->idx = calloc(cfg->nchecks ? cfg->nchecks : 1, sizeof(*m->idx));
	if (m->idx == NULL)
		return -1;
	for (size_t i = 0; i < cfg->nchecks; i++)
		if (m->only[i])
			m->idx[m->nidx++] = i;
	return 0;
}

/* Whether the selected checks make a "ready" verdict. */
static bool
main_is_ready(const struct main_ctx *m)
{
	struct verdict_set set = {
	    .idx = m->idx, .nidx = m->nidx, .named = m->named};
	struct verdict v;
	bool ready;

	ready = sched_judge(m->s, &set, &v) == 0 &&
	    verdict_status_is_ready(v.status);
	verdict_free(&v);
	return ready;
}

/* ---- signals ---- */

/* ---- systemd ---- */

/* Tell systemd (when it started us) a one-line summary, on change. */
static void
main_update_status(struct main_ctx *m)
{
	char status[sizeof(m->status)];
	struct verdict_set all = {0};
	struct verdict vd;
	size_t len;
	int w;

	if (m->stopping)
		return;
	if (sched_judge(m->s, &all, &vd) < 0) {
		verdict_free(&vd);
		return;
	}
	w = snprintf(status, sizeof(status), "%zu/%zu checks pass",
	    vd.nmembers - vd.nnotpass, vd.nmembers);
	len = w > 0 ? (size_t)w : 0;
	for (size_t k = 0; k < vd.nnotpass && len < sizeof(status); k++) {
		struct render_check v;
		bool why;

		sched_view(m->s, vd.notpass[k], false, &v);
		why = v.reason != PROBE_OK;
		w = snprintf(status + len, sizeof(status) - len, "%s%s%s%s",
		    k == 0 ? "; not passing: " : ", ", v.name, why ? "=" : "",
		    why ? probe_status_name(v.reason) : "");
		if (w < 0)
			break;
		len += (size_t)w;
	}
	verdict_free(&vd);
	if (strcmp(status, m->status) == 0)
		return;
	snprintf(m->status, sizeof(m->status), "%s", status);
	sd_notifyf(0, "STATUS=%s", m->status);
}

static void
main_attempt_cb(struct sched *s, size_t i, void *arg)
{
	(void)s;
	(void)i;
	main_update_status(arg);
}

/* From a timer on the loop: a wedged loop starves the watchdog. */
static void
main_watchdog_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
	sd_notify(0, "WATCHDOG=1");
}

static int
main_start_watchdog(struct main_ctx *m)
{
	uint64_t usec = 0;
	struct timeval tv;

	if (sd_watchdog_enabled(0, &usec) <= 0 || usec == 0)
		return 0;
	tv = clock_tv((int64_t)(usec / 2000)); /* half the watchdog period */
	m->watchdog = event_new(m->base, -1, EV_PERSIST, main_watchdog_cb, m);
	if (m->watchdog == NULL || event_add(m->watchdog, &tv) != 0)
		return -1;
	sd_notify(0, "WATCHDOG=1");
	return 0;
}

/* ---- signals: stop, drain, reload ---- */

static void
main_drained_cb(evutil_socket_t fd, short what, void *arg)
{
	struct main_ctx *m = arg;

	(void)fd;
	(void)what;
	log_info("drain over: exiting");
	event_base_loopexit(m->base, NULL);
}

/*
 * SIGTERM or SIGINT. With [daemon] drain, /ready answers 503 at once while
 * /live stays 200 for that long, so that load balancers stop sending
 * before readyd goes; a second signal ends the drain early.
 */
static void
main_stop_cb(evutil_socket_t sig, short what, void *arg)
{
	struct main_ctx *m = arg;
	struct timeval tv;

	(void)what;
	if (m->stopping || m->http == NULL || m->cfg->drain_ms <= 0) {
		log_info("signal %d: shutting down", (int)sig);
		sd_notify(0, "STOPPING=1");
		event_base_loopexit(m->base, NULL);
		return;
	}
	m->stopping = true;
	sd_notify(0, "STOPPING=1\nSTATUS=draining");
	http_set_draining(m->http, true);
	log_info("signal %d: draining for %lldms: /ready answers 503", (int)sig,
	    (long long)m->cfg->drain_ms);
	tv = clock_tv(m->cfg->drain_ms);
	m->drain = evtimer_new(m->base, main_drained_cb, m);
	if (m->drain == NULL || evtimer_add(m->drain, &tv) != 0)
		event_base_loopexit(m->base, NULL);
}

/*
 * SIGHUP: read the configuration again. A valid one replaces the old one
 * between loop iterations (checks that still probe the same server keep
 * their state); an invalid one is rejected and the old one keeps running.
 */
static void
main_hup_cb(evutil_socket_t sig, short what, void *arg)
{
	struct main_ctx *m = arg;
	struct config *cfg;
	struct sched *s;
	char err[256];
	size_t kept;

	(void)sig;
	(void)what;
	if (m->stopping || m->http == NULL)
		return;
	log_info(
	    "SIGHUP: reloading %s", m->path ? m->path : "the configuration");
	cfg = main_load_config_as(m->path, true);
	if (cfg == NULL) {
		log_error("reload: configuration rejected; still running the "
			  "old one");
		return;
	}
	if (strcmp(cfg->listen_host, m->cfg->listen_host) != 0 ||
	    cfg->listen_port != m->cfg->listen_port)
		log_warn("reload: a new listen address needs a restart; still "
			 "listening on %s:%d",
		    m->cfg->listen_host, m->cfg->listen_port);
	s = sched_new(m->base, m->clock, m->resolver, cfg, SCHED_MODE_SERVE,
	    NULL, err, sizeof(err));
	if (s == NULL) {
		log_error(
		    "reload: %s; still running the old configuration", err);
		config_free(cfg);
		return;
	}
	kept = sched_adopt(s, m->s);
	if (sched_start(s) < 0) {
		log_error("reload: cannot start the scheduler; still running "
			  "the old configuration");
		sched_free(s);
		config_free(cfg);
		return;
	}
	sched_set_notify(s, main_attempt_cb, m);
	http_set_source(m->http, cfg, s);
	sched_free(m->s);
	config_free(m->cfg);
	m->s = s;
	m->cfg = cfg;
	log_info("reload: %zu checks (%zu kept their state), %zu groups",
	    cfg->nchecks, kept, cfg->ngroups);
	main_update_status(m);
}

/* ---- set-up and tear-down shared by the commands ---- */

static int
main_setup(struct main_ctx *m, enum sched_mode mode)
{
	char err[256];

	m->base = event_base_new();
	if (m->base == NULL) {
		log_error("cannot create the event loop");
		return -1;
	}
	m->resolver = resolve_new(m->base, err, sizeof(err));
	if (m->resolver == NULL) {
		log_error("resolver: %s", err);
		return -1;
	}
	m->clock = clock_new(m->base);
	if (m->clock == NULL) {
		log_error("cannot create the clock");
		return -1;
	}
	m->s = sched_new(m->base, m->clock, m->resolver, m->cfg, mode, m->only,
	    err, sizeof(err));
	if (m->s == NULL) {
		log_error("scheduler: %s", err);
		return -1;
	}
	m->sigs[0] = evsignal_new(m->base, SIGINT, main_stop_cb, m);
	m->sigs[1] = evsignal_new(m->base, SIGTERM, main_stop_cb, m);
	m->sigs[2] = evsignal_new(m->base, SIGHUP, main_hup_cb, m);
	for (int i = 0; i < 3; i++)
		if (m->sigs[i] == NULL || evsignal_add(m->sigs[i], NULL) != 0) {
			log_error("cannot install signal handlers");
			return -1;
		}
	return 0;
}

static void
main_teardown(struct main_ctx *m)
{
	if (m->watchdog != NULL)
		event_free(m->watchdog);
	if (m->drain != NULL)
		event_free(m->drain);
	http_free(m->http);
	sched_free(m->s);	   /* cancels probes and lookups */
	resolve_free(m->resolver); /* runs their deferred callbacks */
	clock_free(m->clock);
	for (size_t i = 0; i < sizeof(m->sigs) / sizeof(m->sigs[0]); i++)
		if (m->sigs[i] != NULL)
			event_free(m->sigs[i]);
	if (m->base != NULL)
		event_base_free(m->base);
	free(m->only);
	free(m->named);
	free(m->idx);
	config_free(m->cfg);
	libevent_global_shutdown();
}

static void
main_raise_nofile(void)
{
	struct rlimit rl;

	/* idle HTTP clients cost a descriptor each: take all we may */
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		(void)setrlimit(RLIMIT_NOFILE, &rl);
	}
}

/* ---- serve ---- */

static int
cmd_serve(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"config", required_argument, NULL, 'c'},
	    {"listen", required_argument, NULL, 'l'},
	    {"verbose", no_argument, NULL, 'v'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	struct main_ctx m = {0};
	const char *path = NULL, *listen = NULL;
	char host[256], err[512];
	sigset_t hup;
	int port, c;

	while ((c = getopt_long(argc, argv, "+c:l:vh", opts, NULL)) != -1) {
		switch (c) {
		case 'v':
			log_set_level(LOG_LEVEL_DEBUG);
			break;
		case 'c':
			path = optarg;
			break;
		case 'l':
			listen = optarg;
			break;
		case 'h':
			fputs(usage_text, stdout);
			return EXIT_READY;
		default:
			return usage_error("serve: bad option", "");
		}
	}
	if (optind != argc)
		return usage_error(
		    "serve: unexpected argument: %s", argv[optind]);
	if (listen != NULL &&
	    main_parse_listen(listen, host, sizeof(host), &port) < 0)
		return usage_error("--listen %s: expected ADDR:PORT with a "
				   "numeric ADDR (127.0.0.1, 0.0.0.0, [::]) "
				   "and a port of 1-65535",
		    listen);
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
	m.path = path;
	m.cfg = main_load_config(path);
	if (m.cfg == NULL)
		return CONFIG_EXIT;
	if (listen == NULL) {
		snprintf(host, sizeof(host), "%s", m.cfg->listen_host);
		port = m.cfg->listen_port;
	}
	main_raise_nofile();
	if (main_setup(&m, SCHED_MODE_SERVE) < 0) {
		m.result = EXIT_NOT_READY;
		goto out;
	}
	m.http = http_new(m.base, host, port, m.cfg, m.s, err, sizeof(err));
	if (m.http == NULL) {
		log_error("%s", err);
		m.result = EXIT_NOT_READY;
		goto out;
	}
	sched_set_notify(m.s, main_attempt_cb, &m);
	if (sched_start(m.s) < 0 || main_start_watchdog(&m) < 0) {
		log_error("cannot start the scheduler");
		m.result = EXIT_NOT_READY;
		goto out;
	}
	log_info("readyd %s: listening on %s:%d, %zu checks, %zu groups, "
		 "config %s",
	    READYD_VERSION, host, port, m.cfg->nchecks, m.cfg->ngroups,
	    m.cfg->path);
	/* the socket is bound: systemd may start what depends on us */
	sd_notifyf(0, "READY=1\nSTATUS=listening on %s:%d, %zu checks starting",
	    host, port, m.cfg->nchecks);
	sigprocmask(SIG_UNBLOCK, &hup, NULL);
	event_base_dispatch(m.base);
	log_info("stopped");
	m.result = EXIT_READY;
out:
	main_teardown(&m);
	return m.result;
}

/* ---- once and wait ---- */

/*
 * Load the configuration, select the checks NAMES (argv) name, and start
 * probing them. Returns -1 when probing runs, else the exit status (the
 * caller still calls main_teardown).
 */
static int
main_start_probing(struct main_ctx *m, const char *path, int argc, char **argv,
    enum sched_mode mode)
{
	m->cfg = main_load_config(path);
	if (m->cfg == NULL)
		return CONFIG_EXIT;
	if (main_select(m, argc, argv) < 0)
		return EXIT_USAGE;
	log_set_level(LOG_LEVEL_ERROR); /* the result is the output */
	if (main_setup(m, mode) < 0 || sched_start(m->s) < 0)
		return EXIT_NOT_READY;
	return -1;
}

static void
main_print_result(const struct main_ctx *m, FILE *out)
{
	for (size_t i = 0; i < m->cfg->nchecks; i++) {
		struct render_check v;
		bool why;

		if (m->only != NULL && !m->only[i])
			continue;
		sched_view(m->s, i, true, &v);
		why = v.reason != PROBE_OK;
		if (v.state == VERDICT_PASS)
			fprintf(
			    out, "[+]%s ok (%.1f ms)\n", v.name, v.latency_ms);
		else
			fprintf(out, "[-]%s %s: %s: %s\n", v.name,
			    why ? "failed" : verdict_state_name(v.state),
			    why ? probe_status_name(v.reason) : "no answer yet",
			    v.output != NULL ? v.output : "");
	}
	fprintf(out, "%s\n", main_is_ready(m) ? "ready" : "not ready");
}

static void
main_once_cb(struct sched *s, size_t i, void *arg)
{
	struct main_ctx *m = arg;

	(void)i;
	if (sched_is_settled(s))
		event_base_loopbreak(m->base);
}

static int
main_print_json(const struct main_ctx *m)
{
	struct render_check *views;
	struct render_view v = {.status = main_is_ready(m)
		? VERDICT_STATUS_PASS
		: VERDICT_STATUS_FAIL};
	struct evbuffer *buf = evbuffer_new();
	size_t n = 0;
	int rc = -1;

	views = calloc(m->cfg->nchecks, sizeof(*views));
	if (views != NULL && buf != NULL) {
		for (size_t i = 0; i < m->cfg->nchecks; i++)
			if (m->only == NULL || m->only[i])
				sched_view(m->s, i, true, &views[n++]);
		v.checks = views;
		v.nchecks = n;
		if (render_json(&v, buf) == 0) {
			fwrite(evbuffer_pullup(buf, -1), 1,
			    evbuffer_get_length(buf), stdout);
			rc = 0;
		}
	}
	free(views);
	if (buf != NULL)
		evbuffer_free(buf);
	return rc;
}

static int
cmd_once(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"config", required_argument, NULL, 'c'},
	    {"json", no_argument, NULL, 'j'},
	    {NULL, 0, NULL, 0},
	};
	struct main_ctx m = {0};
	const char *path = NULL;
	bool json = false;
	int c;

	while ((c = getopt_long(argc, argv, "+c:j", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			path = optarg;
			break;
		case 'j':
			json = true;
			break;
		default:
			return usage_error("once: bad option", "");
		}
	}
	m.result = main_start_probing(
	    &m, path, argc - optind, argv + optind, SCHED_MODE_ONCE);
	if (m.result >= 0)
		goto out;
	sched_set_notify(m.s, main_once_cb, &m);
	event_base_dispatch(m.base);
	if (!sched_is_settled(m.s)) {
		fprintf(stderr, "readyd: interrupted\n");
		m.result = EXIT_NOT_READY;
		goto out;
	}
	if (json)
		(void)main_print_json(&m);
	else
		main_print_result(&m, stdout);
	m.result = main_is_ready(&m) ? EXIT_READY : EXIT_NOT_READY;
out:
	main_teardown(&m);
	return m.result;
}

static void
main_wait_cb(struct sched *s, size_t i, void *arg)
{
	struct main_ctx *m = arg;

	(void)s;
	(void)i;
	if (main_is_ready(m))
		event_base_loopbreak(m->base);
}

static void
main_wait_timeout_cb(evutil_socket_t fd, short what, void *arg)
{
	struct main_ctx *m = arg;

	(void)fd;
	(void)what;
	event_base_loopbreak(m->base);
}

static int
cmd_wait(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"config", required_argument, NULL, 'c'},
	    {"timeout", required_argument, NULL, 't'},
	    {NULL, 0, NULL, 0},
	};
	struct main_ctx m = {0};
	const char *path = NULL;
	int64_t timeout_ms = 60000;
	struct event *timer = NULL;
	struct timeval tv;
	char err[256];
	int c;

	while ((c = getopt_long(argc, argv, "+c:t:", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			path = optarg;
			break;
		case 't':
			if (config_parse_duration(
				optarg, &timeout_ms, err, sizeof(err)) < 0)
				return usage_error("--timeout: %s", err);
			break;
		default:
			return usage_error("wait: bad option", "");
		}
	}
	m.result = main_start_probing(
	    &m, path, argc - optind, argv + optind, SCHED_MODE_WAIT);
	if (m.result >= 0)
		goto out;
	sched_set_notify(m.s, main_wait_cb, &m);
	timer = evtimer_new(m.base, main_wait_timeout_cb, &m);
	if (timer == NULL) {
		m.result = EXIT_NOT_READY;
		goto out;
	}
	tv = clock_tv(timeout_ms);
	evtimer_add(timer, &tv);
	event_base_dispatch(m.base);
	m.result = main_is_ready(&m) ? EXIT_READY : EXIT_NOT_READY;
	main_print_result(&m, m.result == EXIT_READY ? stdout : stderr);
out:
	if (timer != NULL)
		event_free(timer);
	main_teardown(&m);
	return m.result;
}

/* ---- check: the compose healthcheck ---- */

/* Name the failing checks of a health+json body into out. */
static void
main_summarize(const char *body, char *out, size_t outlen)
{
	json_t *root = json_loads(body, 0, NULL), *checks, *c;
	const char *name;
	size_t len = 0;

	out[0] = '\0';
	if (root == NULL)
		return;
	checks = json_object_get(root, "checks");
	json_object_foreach(checks, name, c)
	{
		const char *st =
		    json_string_value(json_object_get(c, "status"));
		const char *why =
		    json_string_value(json_object_get(c, "reason"));
		int n;

		if (st == NULL || strcmp(st, "pass") == 0)
			continue;
		n = snprintf(out + len, outlen - len, "%s%s=%s",
		    len ? " " : ": ", name, why ? why : st);
		if (n < 0 || (size_t)n >= outlen - len)
			break;
		len += (size_t)n;
	}
	json_decref(root);
}

static int
cmd_check(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"url", required_argument, NULL, 'u'},
	    {"timeout", required_argument, NULL, 't'},
	    {NULL, 0, NULL, 0},
	};
	const char *url = NULL, *env;
	int64_t timeout_ms = 5000;
	char urlbuf[300], host[256], err[256], summary[200];
	char *body = NULL;
	int status = 0, port, c;

	while ((c = getopt_long(argc, argv, "+u:t:", opts, NULL)) != -1) {
		switch (c) {
		case 'u':
			url = optarg;
			break;
		case 't':
			if (config_parse_duration(
				optarg, &timeout_ms, err, sizeof(err)) < 0) {
				printf("readyd check: --timeout: %s\n", err);
				return EXIT_NOT_READY; /* docker reserves 2+ */
			}
			break;
		default:
			printf("readyd check: bad option\n");
			return EXIT_NOT_READY;
		}
	}
	if (url == NULL) {
		/* the daemon's own listen address, as the container sets it */
		env = getenv("READYD_LISTEN");
		if (env == NULL ||
		    main_parse_listen(env, host, sizeof(host), &port) < 0) {
			snprintf(host, sizeof(host), "127.0.0.1");
			port = 8080;
		}
		if (strcmp(host, "0.0.0.0") == 0 || host[0] == '\0')
			snprintf(host, sizeof(host), "127.0.0.1");
		else if (strcmp(host, "::") == 0)
			snprintf(host, sizeof(host), "::1");
		snprintf(urlbuf, sizeof(urlbuf), "http://%s%s%s:%d/ready",
		    strchr(host, ':') ? "[" : "", host,
		    strchr(host, ':') ? "]" : "", port);
		url = urlbuf;
	}
	if (client_get(url, timeout_ms, &status, &body, err, sizeof(err)) < 0) {
		printf("not ready: %s: %s\n", url, err);
		return EXIT_NOT_READY;
	}
	main_summarize(body ? body : "", summary, sizeof(summary));
	free(body);
	if (status == 200) {
		printf("ready: HTTP 200\n");
		return EXIT_READY;
	}
	printf("not ready: HTTP %d%s\n", status, summary);
	return EXIT_NOT_READY;
}

/* ---- config ---- */

static int
cmd_config(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"config", required_argument, NULL, 'c'},
	    {NULL, 0, NULL, 0},
	};
	const char *path = NULL;
	struct config *cfg;
	int c;

	while ((c = getopt_long(argc, argv, "+c:", opts, NULL)) != -1) {
		if (c != 'c')
			return usage_error("config: bad option", "");
		path = optarg;
	}
	if (optind != argc)
		return usage_error(
		    "config: unexpected argument: %s", argv[optind]);
	cfg = main_load_config(path);
	if (cfg == NULL)
		return CONFIG_EXIT;
	config_print(cfg, stdout);
	config_free(cfg);
	return EXIT_READY;
}

/*
 * libevent's own messages ("[msg] Nameserver ... has failed") go through
 * our log, not raw to stderr: the probes already report what they mean.
 */
static void
main_event_log_cb(int severity, const char *msg)
{
	if (severity >= EVENT_LOG_ERR)
		log_warn("libevent: %s", msg);
	else
		log_debug("libevent: %s", msg);
}

int
main(int argc, char **argv)
{
	const char *cmd = argc > 1 ? argv[1] : "serve";

	/* hiredis and evhttp write() to sockets a peer may have closed */
	signal(SIGPIPE, SIG_IGN);
	event_set_log_callback(main_event_log_cb);
	if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 ||
	    strcmp(cmd, "help") == 0) {
		fputs(usage_text, stdout);
		return EXIT_READY;
	}
	if (strcmp(cmd, "--version") == 0 || strcmp(cmd, "-V") == 0) {
		printf("readyd %s\n", READYD_VERSION);
		return EXIT_READY;
	}
	if (cmd[0] == '-') /* options alone: serve */
		return cmd_serve(argc, argv);
	argc--;
	argv++;
	if (strcmp(cmd, "serve") == 0)
		return cmd_serve(argc, argv);
	if (strcmp(cmd, "once") == 0)
		return cmd_once(argc, argv);
	if (strcmp(cmd, "wait") == 0)
		return cmd_wait(argc, argv);
	if (strcmp(cmd, "check") == 0)
		return cmd_check(argc, argv);
	if (strcmp(cmd, "config") == 0)
		return cmd_config(argc, argv);
	return usage_error("unknown command: %s", cmd);
}
