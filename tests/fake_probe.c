/* SPDX-License-Identifier: MIT */
/*
 * A fake probe for scheduler tests: answers from a timer, as set by the
 * test, and counts what the scheduler asked of it.
 * Owns: struct fake_check and the counters.
 */
#include "fake_probe.h"

#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "config.h"

int fake_probe_starts;
int fake_probe_cancels;
int fake_probe_in_flight;
int fake_probe_max_in_flight;

static enum probe_status fake_status = PROBE_OK;
static const char *fake_only_name;	   /* check with its own outcome */
static enum probe_status fake_only_status; /* ...which is this */
static int fake_delay_ms;
static int fake_watch_token;	 /* what p->watch points at when kept */
static struct clock *fake_clock; /* borrowed from the test; answers */
static enum probe_status fake_beat_status = PROBE_OK;
static int fake_beat_delay_ms;
int fake_probe_beats;
int fake_probe_beats_dropped;
static enum probe_status fake_finding_reason; /* of a success's finding */
static const char *fake_finding_key;	      /* ...about this key */
static const char *fake_finding_text;	      /* ...saying this; or NULL */
static double fake_gauge = -1;		      /* a success's gauge; < 0: none */
static const char *fake_skip;		      /* a success's skip, or NULL */

void
fake_probe_set_finding(
    enum probe_status reason, const char *key, const char *text)
{
	fake_finding_reason = reason;
	fake_finding_key = key;
	fake_finding_text = text;
}

void
fake_probe_set_gauge(double gauge)
{
	fake_gauge = gauge;
}

void
fake_probe_set_skip(const char *skip)
{
	fake_skip = skip;
}

/* The heartbeat in flight (one check watches at a time in the tests). */
static struct fake_beat {
	struct probe *p;	/* borrowed */
	struct clock_timer *ev; /* owned */
	enum probe_status st;	/* the answer */
} * fake_beat;

struct fake_check {
	struct probe *p;	/* borrowed */
	struct clock_timer *ev; /* owned; the answer */
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
fake_probe_use_clock(struct clock *c)
{
	fake_clock = c;
}

void
fake_probe_set_beat(enum probe_status st, int delay_ms)
{
	fake_beat_status = st;
	fake_beat_delay_ms = delay_ms;
}

static void
fake_beat_free(void)
{
	if (fake_beat == NULL)
		return;
	clock_timer_free(fake_beat->ev);
	free(fake_beat);
	fake_beat = NULL;
}

static void
fake_beat_cb(void *arg)
{
	struct probe *p = ((struct fake_beat *)arg)->p;
	enum probe_status st = ((struct fake_beat *)arg)->st;

	fake_beat_free();
	if (st != PROBE_OK)
		probe_seterr(p, "fake heartbeat: %s", probe_status_name(st));
	p->beat(p, st);
}

static int
fake_heartbeat(struct probe *p)
{
	if (p->watch == NULL || fake_beat != NULL)
		return -1;
	fake_beat = calloc(1, sizeof(*fake_beat));
	if (fake_beat == NULL)
		return -1;
	fake_beat->p = p;
	fake_beat->st = fake_beat_status;
	fake_beat->ev = clock_timer_new(fake_clock, fake_beat_cb, fake_beat);
	if (fake_beat->ev == NULL)
		abort();
	if (fake_beat_delay_ms >= 0 &&
	    clock_timer_add(fake_beat->ev, fake_beat_delay_ms) != 0)
		abort();
	fake_probe_beats++;
	return 0;
}

void
fake_probe_reset(void)
{
	fake_beat_free();
	fake_probe_beats = 0;
	fake_probe_beats_dropped = 0;
	fake_probe_set_beat(PROBE_OK, 0);
	fake_only_name = NULL;
	fake_probe_starts = 0;
	fake_probe_cancels = 0;
	fake_probe_in_flight = 0;
	fake_probe_max_in_flight = 0;
	fake_probe_set(PROBE_OK, 0);
	fake_probe_set_finding(PROBE_OK, NULL, NULL);
	fake_probe_set_gauge(-1);
	fake_probe_set_skip(NULL);
}

static void
fake_answer_cb(void *arg)
{
	struct fake_check *fc = arg;
	struct probe *p = fc->p;
	enum probe_status st = fc->st;

	clock_timer_free(fc->ev);
	free(fc);
	p->priv = NULL;
	fake_probe_in_flight--;
	if (st != PROBE_OK)
		probe_seterr(p, "fake: %s", probe_status_name(st));
	else if (p->keep)
		p->watch = &fake_watch_token;
	if (st == PROBE_OK && fake_finding_text != NULL)
		probe_finding(p, fake_finding_reason, fake_finding_key, "%s",
		    fake_finding_text);
	if (st == PROBE_OK && fake_gauge >= 0)
		probe_gauge(
		    p, "fake_waiting", "Fake clients waiting.", fake_gauge);
	if (fake_skip != NULL)
		probe_skip(p, fake_skip, "fake: %s refused", fake_skip);
	p->done(p, st);
}

static int
fake_start(struct probe *p)
{
	struct fake_check *fc = calloc(1, sizeof(*fc));

	if (fc == NULL)
		return -1;
	fc->p = p;
	fc->st = fake_only_name != NULL && p->cfg != NULL &&
		strcmp(p->cfg->name, fake_only_name) == 0
	    ? fake_only_status
	    : fake_status;
	fc->ev = clock_timer_new(fake_clock, fake_answer_cb, fc);
	if (fc->ev == NULL) {
		free(fc);
		return -1;
	}
	fake_probe_starts++;
	if (++fake_probe_in_flight > fake_probe_max_in_flight)
		fake_probe_max_in_flight = fake_probe_in_flight;
	if (fake_delay_ms >= 0 && clock_timer_add(fc->ev, fake_delay_ms) != 0)
		abort(); /* a fake clock's timers cannot fail */
	p->priv = fc;
	return 0;
}

static void
fake_cancel(struct probe *p)
{
	struct fake_check *fc = p->priv;

	if (fc == NULL)
		return;
	clock_timer_free(fc->ev);
	free(fc);
	p->priv = NULL;
	fake_probe_cancels++;
	fake_probe_in_flight--;
}

static void
fake_unwatch(struct probe *p)
{
	if (fake_beat != NULL && fake_beat->p == p) {
		fake_beat_free();
		fake_probe_beats_dropped++;
	}
	p->watch = NULL;
}

void
fake_probe_lose(struct probe *p)
{
	if (p->watch == NULL)
		return;
	if (fake_beat != NULL && fake_beat->p == p)
		fake_beat_free();
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
    .heartbeat = fake_heartbeat,
};
