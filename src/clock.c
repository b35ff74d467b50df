/* SPDX-License-Identifier: MIT */
/*
 * The scheduler's clock, real or fake, and its one-shot timers.
 * Owns: struct clock, struct clock_timer and, on a fake clock, the list
 * of its timers.
 */
#include "clock.h"

#include <event2/event.h>
#include <stdbool.h>
#include <stdlib.h>

struct clock {
	struct event_base *base;    /* borrowed; NULL: a fake clock */
	int64_t now_us;		    /* fake: monotonic microseconds */
	time_t wall;		    /* fake: wall seconds at now_us 0 */
	struct clock_timer *timers; /* fake: every timer, armed or not */
	uint64_t seq;		    /* fake: arming order */
	int64_t late_us;	    /* fake: timers fire this late */
};

struct clock_timer {
	struct clock *c;	  /* borrowed, the owner */
	clock_timer_fn *fn;	  /* called when due */
	void *arg;		  /* for fn */
	struct event *ev;	  /* owned; real clocks only */
	bool armed;		  /* fake: waiting to fall due */
	int64_t due_us;		  /* when it falls (or fell) due */
	uint64_t seq;		  /* fake: arming order, for ties */
	struct clock_timer *next; /* fake: the clock's list */
};

struct timeval
clock_tv(int64_t ms)
{
	struct timeval tv;

	if (ms < 0)
		ms = 0;
	tv.tv_sec = (time_t)(ms / 1000);
	tv.tv_usec = (suseconds_t)((ms % 1000) * 1000);
	return tv;
}

static int64_t
clock_mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int64_t
clock_mono_ms(void)
{
	return clock_mono_us() / 1000;
}

struct clock *
clock_new(struct event_base *base)
{
	struct clock *c = calloc(1, sizeof(*c));

	if (c != NULL)
		c->base = base;
	return c;
}

struct clock *
clock_new_fake(int64_t mono_ms, time_t wall)
{
	struct clock *c = calloc(1, sizeof(*c));

	if (c == NULL)
		return NULL;
	c->now_us = mono_ms * 1000;
	c->wall = wall - (time_t)(mono_ms / 1000);
	return c;
}

void
clock_free(struct clock *c)
{
	free(c);
}

int64_t
clock_now_us(const struct clock *c)
{
	return c->base != NULL ? clock_mono_us() : c->now_us;
}

int64_t
clock_now_ms(const struct clock *c)
{
	return clock_now_us(c) / 1000;
}

time_t
clock_wall(const struct clock *c)
{
	return c->base != NULL ? time(NULL)
			       : c->wall + (time_t)(c->now_us / 1000000);
}

static void
clock_event_cb(evutil_socket_t fd, short what, void *arg)
{
	struct clock_timer *t = arg;

	(void)fd;
	(void)what;
	t->fn(t->arg);
}

struct clock_timer *
clock_timer_new(struct clock *c, clock_timer_fn *fn, void *arg)
{
	struct clock_timer *t = calloc(1, sizeof(*t));

	if (t == NULL)
		return NULL;
	t->c = c;
	t->fn = fn;
	t->arg = arg;
	if (c->base == NULL) {
		t->next = c->timers;
		c->timers = t;
		return t;
	}
	t->ev = evtimer_new(c->base, clock_event_cb, t);
	if (t->ev == NULL) {
		free(t);
		return NULL;
	}
	return t;
}

int
clock_timer_add(struct clock_timer *t, int64_t delay_ms)
{
	struct timeval tv = clock_tv(delay_ms);

	t->due_us = clock_now_us(t->c) + (delay_ms > 0 ? delay_ms * 1000 : 0);
	if (t->ev != NULL)
		return evtimer_add(t->ev, &tv);
	t->armed = true;
	t->seq = t->c->seq++;
	return 0;
}

int64_t
clock_timer_due_us(const struct clock_timer *t)
{
	return t->due_us;
}

void
clock_timer_del(struct clock_timer *t)
{
	if (t->ev != NULL)
		evtimer_del(t->ev);
	t->armed = false;
}

void
clock_timer_free(struct clock_timer *t)
{
	struct clock_timer **pp;

	if (t == NULL)
		return;
	if (t->ev != NULL)
		event_free(t->ev);
	for (pp = &t->c->timers; *pp != NULL; pp = &(*pp)->next)
		if (*pp == t) {
			*pp = t->next;
			break;
		}
	free(t);
}

/* The fake clock's next timer due by until_us, or NULL. */
static struct clock_timer *
clock_next_due(const struct clock *c, int64_t until_us)
{
	struct clock_timer *best = NULL;

	for (struct clock_timer *t = c->timers; t != NULL; t = t->next) {
		if (!t->armed || t->due_us > until_us)
			continue;
		if (best == NULL || t->due_us < best->due_us ||
		    (t->due_us == best->due_us && t->seq < best->seq))
			best = t;
	}
	return best;
}

void
clock_advance(struct clock *c, int64_t ms)
{
	int64_t until = c->now_us + ms * 1000;
	struct clock_timer *t;

	while ((t = clock_next_due(c, until - c->late_us)) != NULL) {
		if (t->due_us + c->late_us > c->now_us)
			c->now_us = t->due_us + c->late_us;
		t->armed = false;
		t->fn(t->arg);
	}
	c->now_us = until;
}

void
clock_set_late(struct clock *c, int64_t late_ms)
{
	c->late_us = late_ms > 0 ? late_ms * 1000 : 0;
}
