/* SPDX-License-Identifier: MIT */
/*
 * `readyd once` and `readyd wait`: probe without serving, print, exit.
 * Owns: struct once: the runtime and the selection of checks.
 */
#include "once.h"

#include "clock.h"
#include "config.h"
#include "log.h"
#include "render.h"
#include "runtime.h"
#include "verdict.h"

#include <event2/buffer.h>
#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>

struct once {
	struct runtime rt; /* owned */
	bool *only;	   /* owned; selected checks or NULL */
	bool *named;	   /* owned; checks named on argv */
	size_t *idx;	   /* owned; the selected checks in order */
	size_t nidx;	   /* entries in idx */
};

/* Mark the checks NAMES select (a check, or a group's checks). */
static int
once_select(struct once *o, int argc, char **argv)
{
	const struct config *cfg = o->rt.cfg;

	if (argc == 0)
		return 0;
	o->only = calloc(cfg->nchecks, sizeof(bool));
	o->named = calloc(cfg->nchecks, sizeof(bool));
	if (o->only == NULL || o->named == NULL)
		return -1;
	for (int a = 0; a < argc; a++) {
		int i = config_find_check(cfg, argv[a]);
		int g = config_find_group(cfg, argv[a]);

		if (i >= 0) {
			o->only[i] = o->named[i] = true;
		} else if (g >= 0) {
			for (size_t k = 0; k < cfg->groups[g].nchecks; k++)
				o->only[cfg->groups[g].checks[k]] = true;
		} else {
			fprintf(stderr, "readyd: %s: no such check or group\n",
			    argv[a]);
			return -1;
		}
	}
	o->idx = calloc(cfg->nchecks ? cfg->nchecks : 1, sizeof(*o->idx));
	if (o->idx == NULL)
		return -1;
	for (size_t i = 0; i < cfg->nchecks; i++)
		if (o->only[i])
			o->idx[o->nidx++] = i;
	return 0;
}

/* Judge the selected checks into v; free it with verdict_free(). */
static int
once_judge(const struct once *o, struct verdict *v)
{
	struct verdict_set set = {.idx = o->idx,
	    .nidx = o->nidx,
	    .named = o->named,
	    .grouped = o->rt.cfg->grouped};

	return sched_judge(o->rt.s, &set, v);
}

/* The verdict over the selected checks. */
static enum verdict_status
once_verdict(const struct once *o)
{
	struct verdict v;
	enum verdict_status st = VERDICT_STATUS_FAIL;

	if (once_judge(o, &v) == 0)
		st = v.status;
	verdict_free(&v);
	return st;
}

static bool
once_is_ready(const struct once *o)
{
	return verdict_status_is_ready(once_verdict(o));
}

static void
once_stop_cb(evutil_socket_t sig, short what, void *arg)
{
	struct once *o = arg;

	(void)what;
	runtime_exit(&o->rt, (int)sig);
}

/*
 * Load the configuration, select the checks NAMES (argv) name, and start
 * probing them. Returns -1 when probing runs, else the exit status.
 */
static int
once_start(struct once *o, const char *path, int argc, char **argv,
    enum sched_mode mode)
{
	o->rt.cfg = runtime_load_config(path, false);
	if (o->rt.cfg == NULL)
		return CONFIG_EXIT;
	if (once_select(o, argc, argv) < 0)
		return RUNTIME_EXIT_USAGE;
	log_set_level(LOG_LEVEL_ERROR); /* the result is the output */
	if (runtime_setup(&o->rt, mode, o->only, once_stop_cb, NULL, o) < 0 ||
	    sched_start(o->rt.s) < 0)
		return RUNTIME_EXIT_NOT_READY;
	return -1;
}

static int
once_end(struct once *o, int result)
{
	runtime_teardown(&o->rt);
	free(o->only);
	free(o->named);
	free(o->idx);
	return result;
}

/*
 * Print one line per selected check, then the verdict; a failing check
 * the verdict does not need is marked as in ?verbose.
 */
static void
once_print_text(const struct once *o, FILE *out)
{
	struct verdict v;

	if (once_judge(o, &v) < 0) {
		verdict_free(&v);
		fprintf(out, "not ready\n");
		return;
	}
	for (size_t k = 0; k < v.nmembers; k++) {
		struct render_check c;
		bool why, warn;

		sched_view(o->rt.s, v.members[k], true, &c);
		why = c.reason != PROBE_OK;
		warn = !v.counts[k] && c.state == VERDICT_FAIL;
		if (c.state == VERDICT_PASS)
			fprintf(
			    out, "[+]%s ok (%.1f ms)\n", c.name, c.latency_ms);
		else if (c.state == VERDICT_WARN)
			fprintf(out, "[!]%s warn: %s: %s (%.1f ms)\n", c.name,
			    probe_status_name(c.reason),
			    c.output != NULL ? c.output : "", c.latency_ms);
		else
			fprintf(out, "[%c]%s %s: %s: %s%s\n", warn ? '!' : '-',
			    c.name,
			    why ? "failed" : verdict_state_name(c.state),
			    why ? probe_status_name(c.reason) : "no answer yet",
			    c.output != NULL ? c.output : "",
			    warn ? (c.required ? " (in no group: warn)"
					       : " (not required: warn)")
				 : "");
	}
	fprintf(out, "%s\n",
	    v.status == VERDICT_STATUS_WARN	    ? "ready (warn)"
		: verdict_status_is_ready(v.status) ? "ready"
						    : "not ready");
	verdict_free(&v);
}

static int
once_print_json(const struct once *o)
{
	struct render_view rv = {0};
	struct evbuffer *buf = evbuffer_new();
	struct render_check *views = NULL;
	struct verdict v;
	int rc = -1;

	if (once_judge(o, &v) == 0 && buf != NULL)
		views = calloc(v.nmembers ? v.nmembers : 1, sizeof(*views));
	if (views != NULL) {
		for (size_t k = 0; k < v.nmembers; k++) {
			sched_view(o->rt.s, v.members[k], true, &views[k]);
			views[k].not_needed = !v.counts[k];
		}
		rv.checks = views;
		rv.nchecks = v.nmembers;
		rv.status = v.status;
		if (render_json(&rv, buf) == 0) {
			fwrite(evbuffer_pullup(buf, -1), 1,
			    evbuffer_get_length(buf), stdout);
			rc = 0;
		}
	}
	verdict_free(&v);
	free(views);
	if (buf != NULL)
		evbuffer_free(buf);
	return rc;
}

static void
once_settled_cb(struct sched *s, size_t i, void *arg)
{
	struct once *o = arg;

	(void)i;
	if (sched_is_settled(s))
		event_base_loopbreak(o->rt.base);
}

int
once_run(const char *path, int argc, char **argv, bool json)
{
	struct once o = {0};
	int result;

	result = once_start(&o, path, argc, argv, SCHED_MODE_ONCE);
	if (result >= 0)
		return once_end(&o, result);
	sched_set_notify(o.rt.s, once_settled_cb, &o);
	event_base_dispatch(o.rt.base);
	if (!sched_is_settled(o.rt.s)) {
		fprintf(stderr, "readyd: interrupted\n");
		return once_end(&o, RUNTIME_EXIT_NOT_READY);
	}
	if (json)
		(void)once_print_json(&o);
	else
		once_print_text(&o, stdout);
	result =
	    once_is_ready(&o) ? RUNTIME_EXIT_READY : RUNTIME_EXIT_NOT_READY;
	return once_end(&o, result);
}

static void
once_ready_cb(struct sched *s, size_t i, void *arg)
{
	struct once *o = arg;

	(void)s;
	(void)i;
	if (once_is_ready(o))
		event_base_loopbreak(o->rt.base);
}

static void
once_timeout_cb(evutil_socket_t fd, short what, void *arg)
{
	struct once *o = arg;

	(void)fd;
	(void)what;
	event_base_loopbreak(o->rt.base);
}

int
once_wait(const char *path, int argc, char **argv, int64_t timeout_ms)
{
	struct once o = {0};
	struct event *timer;
	struct timeval tv = clock_tv(timeout_ms);
	int result;

	result = once_start(&o, path, argc, argv, SCHED_MODE_WAIT);
	if (result >= 0)
		return once_end(&o, result);
	sched_set_notify(o.rt.s, once_ready_cb, &o);
	timer = evtimer_new(o.rt.base, once_timeout_cb, &o);
	if (timer == NULL)
		return once_end(&o, RUNTIME_EXIT_NOT_READY);
	evtimer_add(timer, &tv);
	event_base_dispatch(o.rt.base);
	result =
	    once_is_ready(&o) ? RUNTIME_EXIT_READY : RUNTIME_EXIT_NOT_READY;
	once_print_text(&o, result == RUNTIME_EXIT_READY ? stdout : stderr);
	event_free(timer);
	return once_end(&o, result);
}
