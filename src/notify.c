/* SPDX-License-Identifier: MIT */
/*
 * systemd notification and watchdog, through sd_notify(3).
 * Owns: struct notify, the watchdog timer and the last STATUS= sent.
 */
#include "notify.h"

#include "clock.h"
#include "config.h"
#include "render.h"
#include "sched.h"
#include "verdict.h"

#include <event2/event.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-daemon.h>

struct notify {
	struct event *watchdog; /* owned; WATCHDOG=1 under systemd */
	bool stopping;		/* STOPPING=1 was sent */
	char status[160];	/* last STATUS= sent */
};

struct notify *
notify_new(void)
{
	return calloc(1, sizeof(struct notify));
}

void
notify_free(struct notify *n)
{
	if (n == NULL)
		return;
	if (n->watchdog != NULL)
		event_free(n->watchdog);
	free(n);
}

/* From a timer on the loop: a wedged loop starves the watchdog. */
static void
notify_watchdog_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
	sd_notify(0, "WATCHDOG=1");
}

int
notify_start_watchdog(struct notify *n, struct event_base *base)
{
	uint64_t usec = 0;
	struct timeval tv;

	if (sd_watchdog_enabled(0, &usec) <= 0 || usec == 0)
		return 0;
	tv = clock_tv((int64_t)(usec / 2000)); /* half the watchdog period */
	n->watchdog = event_new(base, -1, EV_PERSIST, notify_watchdog_cb, n);
	if (n->watchdog == NULL || event_add(n->watchdog, &tv) != 0)
		return -1;
	sd_notify(0, "WATCHDOG=1");
	return 0;
}

void
notify_ready(const char *host, int port, size_t nchecks)
{
	sd_notifyf(0, "READY=1\nSTATUS=listening on %s:%d, %zu checks starting",
	    host, port, nchecks);
}

/* Whether check i counts toward v. */
static bool
notify_counts(const struct verdict *v, size_t i)
{
	for (size_t k = 0; k < v->nmembers; k++)
		if (v->members[k] == i)
			return v->counts[k];
	return true;
}

/*
 * Append ", NAME=REASON" for each check of v that does not pass, with
 * " (not needed)" for those the verdict does not count.
 */
static void
notify_not_passing(const struct sched *s, const struct verdict *v, char *buf,
    size_t size, size_t len)
{
	for (size_t k = 0; k < v->nnotpass && len < size; k++) {
		struct render_check c;
		bool why;
		int w;

		sched_view(s, v->notpass[k], false, &c);
		why = c.reason != PROBE_OK;
		w = snprintf(buf + len, size - len, "%s%s%s%s%s",
		    k == 0 ? "; not passing: " : ", ", c.name, why ? "=" : "",
		    why ? probe_status_name(c.reason) : "",
		    notify_counts(v, v->notpass[k]) ? "" : " (not needed)");
		if (w < 0)
			break;
		len += (size_t)w;
	}
}

void
notify_status(struct notify *n, const struct config *cfg, const struct sched *s)
{
	char status[sizeof(n->status)];
	struct verdict_set all = {.grouped = cfg->grouped};
	struct verdict v;
	int w;

	if (n->stopping)
		return;
	if (sched_judge(s, &all, &v) < 0) {
		verdict_free(&v);
		return;
	}
	w = snprintf(status, sizeof(status), "%zu/%zu checks pass%s",
	    v.nmembers - v.nnotpass, v.nmembers,
	    v.status == VERDICT_STATUS_WARN ? " (warn: ready)" : "");
	notify_not_passing(
	    s, &v, status, sizeof(status), w > 0 ? (size_t)w : 0);
	verdict_free(&v);
	if (strcmp(status, n->status) == 0)
		return;
	snprintf(n->status, sizeof(n->status), "%s", status);
	sd_notifyf(0, "STATUS=%s", n->status);
}

void
notify_stopping(struct notify *n, bool draining)
{
	if (n != NULL && draining)
		n->stopping = true; /* the drain's status stays */
	sd_notify(0, draining ? "STOPPING=1\nSTATUS=draining" : "STOPPING=1");
}
