/* SPDX-License-Identifier: MIT */
/*
 * A fake probe for scheduler tests: answers from a timer, as set by the
 * test, and counts what the scheduler asked of it.
 * Owns: struct fake_check and the counters.
 */
#include "fake_probe.h"

#include <event2/event.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"

int fake_probe_starts;
int fake_probe_cancels;
int fake_probe_in_flight;
int fake_probe_max_in_flight;

static enum probe_status fake_status = PROBE_OK;
static const char *fake_only_name;	   /* check with its own outcome */
static enum probe_status fake_only_status; /* ...which is this */
static int fake_delay_ms;
static int fake_watch_token; /* what p->watch points at when kept */

struct fake_check {
	struct probe *p;  /* borrowed */
	struct event *ev; /* owned; the answer */
	enum probe_status st;
};

void
fake_probe_set(enum probe_status st, int delay_ms)
{
	fake_status = st;
	fake_delay_ms = delay_ms;
}

void
fake_probe_set_for(const char *name, enum probe_status st)
{
	fake_only_name = name;
	fake_only_status = st;
}

void
fake_probe_reset(void)
{
	fake_only_name = NULL;
	fake_probe_starts = 0;
	fake_probe_cancels = 0;
	fake_probe_in_flight = 0;
	fake_probe_max_in_flight = 0;
	fake_probe_set(PROBE_OK, 0);
}

static void
fake_answer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct fake_check *fc = arg;
	struct probe *p = fc->p;
	enum probe_status st = fc->st;

	(void)fd;
	(void)what;
	event_free(fc->ev);
	free(fc);
	p->priv = NULL;
	fake_probe_in_flight--;
	if (st != PROBE_OK)
		probe_seterr(p, "fake: %s", probe_status_name(st));
	else if (p->keep)
		p->watch = &fake_watch_token;
	p->done(p, st);
}

static int
fake_start(struct probe *p)
{
	struct fake_check *fc = calloc(1, sizeof(*fc));
	struct timeval tv;

	if (fc == NULL)
		return -1;
	fc->p = p;
	fc->st = fake_only_name != NULL && p->cfg != NULL &&
		strcmp(p->cfg->name, fake_only_name) == 0
	    ? fake_only_status
	    : fake_status;
	fc->ev = evtimer_new(p->base, fake_answer_cb, fc);
	fake_probe_starts++;
	if (++fake_probe_in_flight > fake_probe_max_in_flight)
		fake_probe_max_in_flight = fake_probe_in_flight;
	if (fake_delay_ms >= 0) {
		tv.tv_sec = fake_delay_ms / 1000;
		tv.tv_usec = (fake_delay_ms % 1000) * 1000;
		evtimer_add(fc->ev, &tv);
	}
	p->priv = fc;
	return 0;
}

static void
fake_cancel(struct probe *p)
{
	struct fake_check *fc = p->priv;

	if (fc == NULL)
		return;
	event_free(fc->ev);
	free(fc);
	p->priv = NULL;
	fake_probe_cancels++;
	fake_probe_in_flight--;
}

static void
fake_unwatch(struct probe *p)
{
	p->watch = NULL;
}

void
fake_probe_lose(struct probe *p)
{
	if (p->watch == NULL)
		return;
	p->watch = NULL;
	p->lost(p);
}

static int
fake_validate(
    const struct check_cfg *cfg, const char **key, char *err, size_t errlen)
{
	(void)cfg;
	(void)key;
	(void)err;
	(void)errlen;
	return 0;
}

const struct probe_ops fake_probe_ops = {
    .name = "fake",
    .validate = fake_validate,
    .start = fake_start,
    .cancel = fake_cancel,
    .unwatch = fake_unwatch,
};
