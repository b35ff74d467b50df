/* SPDX-License-Identifier: MIT */
/*
 * The scheduler's rules, pure functions of one check's state: the compose
 * state machine (retries, rise, start_period), the spacing of attempts,
 * the deadline rule, jitter and staleness. No timers, no I/O; sched.c
 * applies them and tests/test_sched.c drives them directly.
 * Owns: nothing; every write goes to the struct target it is given.
 */
#include "sched.h"

#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A check's own state; the verdict shown is set by sched_refresh(). */
static void
target_set_state(struct target *t, enum verdict_state st, time_t wall)
{
	if (t->state == st)
		return;
	t->state = st;
	t->since = wall;
}

void
sched_record(struct target *t, enum sched_mode mode, enum probe_status st,
    const char *errstr, int64_t now_ms, time_t wall)
{
	bool counted;

	t->attempts++;
	t->last_check = wall;
	t->last_end_ms = now_ms;
	t->reason = st;
	if (st == PROBE_OK) {
		t->errstr[0] = '\0';
		t->failures = 0;
		t->successes++;
		/* rise: successes needed to come back from fail */
		if (t->state != VERDICT_FAIL || t->successes >= t->cfg->rise ||
		    mode != SCHED_MODE_SERVE)
			target_set_state(t, VERDICT_PASS, wall);
		return;
	}
	snprintf(t->errstr, sizeof(t->errstr), "%s", errstr ? errstr : "");
	t->successes = 0;
	/* compose: failures inside start_period do not count */
	counted = mode != SCHED_MODE_SERVE || t->state != VERDICT_STARTING ||
	    now_ms - t->started_ms >= t->cfg->start_period_ms;
	if (!counted)
		return;
	t->failures++;
	/* once and wait judge each attempt: all must pass at the same time */
	if (mode != SCHED_MODE_SERVE || t->failures >= t->cfg->retries)
		target_set_state(t, VERDICT_FAIL, wall);
}

int64_t
sched_next_delay(const struct target *t, enum sched_mode mode)
{
	if (mode == SCHED_MODE_WAIT)
		return t->cfg->fast_interval_ms;
	if (t->state == VERDICT_STARTING)
		return t->cfg->start_interval_ms;
	/*
	 * HAProxy's fastinter/downinter: re-check soon after a failure, and
	 * while shown failed for a dependency that came back (sched_hold)
	 */
	if (t->state == VERDICT_FAIL || t->reason != PROBE_OK ||
	    t->hold != NULL)
		return t->cfg->fast_interval_ms;
	return t->cfg->interval_ms;
}

void
sched_latency_add(struct sched_latencies *l, double ms)
{
	l->ms[l->next] = ms;
	l->next = (l->next + 1) % SCHED_LATENCIES;
	if (l->n < SCHED_LATENCIES)
		l->n++;
}

static int
sched_double_cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

int64_t
sched_latency_deadline(const struct sched_latencies *l, int64_t cap)
{
	double v[SCHED_LATENCIES], high;
	int64_t d;

	if (l->n == 0)
		return cap;
	/*
	 * The 75th percentile of the last few, three times over: room for a
	 * bad day, while one outlier (an attempt that waited out a freeze)
	 * does not stretch the deadline of the next eight.
	 */
	memcpy(v, l->ms, sizeof(v[0]) * (size_t)l->n);
	qsort(v, (size_t)l->n, sizeof(v[0]), sched_double_cmp);
	high = v[(3 * l->n + 3) / 4 - 1];
	d = (int64_t)(3 * high + 0.999);
	if (d < 1000)
		d = 1000;
	return d < cap ? d : cap;
}

int64_t
sched_attempt_timeout(const struct target *t, enum sched_mode mode)
{
	/*
	 * HAProxy uses min(fastinter, timeout check) for the re-checks that
	 * confirm a failure; ours follows the backend: three times its
	 * slowest recent success (1 s at least). Recovery probes while
	 * `fail` get the whole timeout, so a slow server can still come
	 * back; with fast_interval = interval (compose) nothing changes.
	 */
	if (mode == SCHED_MODE_SERVE && t->state != VERDICT_FAIL &&
	    t->failures > 0 && t->cfg->fast_interval_ms < t->cfg->interval_ms)
		return sched_latency_deadline(&t->logins, t->cfg->timeout_ms);
	return t->cfg->timeout_ms;
}

int64_t
sched_beat_timeout(const struct target *t)
{
	return sched_latency_deadline(&t->beats, t->cfg->timeout_ms);
}

int64_t
sched_jitter(int64_t delay_ms, uint32_t rnd)
{
	/* +-5%, so that many checks and instances do not probe in step */
	return delay_ms + delay_ms * ((int64_t)(rnd % 1001) - 500) / 10000;
}

int64_t
sched_stale_after_ms(const struct check_cfg *c)
{
	int64_t gap = c->interval_ms;

	if (c->start_interval_ms > gap)
		gap = c->start_interval_ms;
	if (c->fast_interval_ms > gap)
		gap = c->fast_interval_ms;
	/* the margin covers jitter and a busy loop */
	return gap + c->timeout_ms + 2000 + c->interval_ms / 10;
}

bool
sched_target_is_stale(const struct target *t, int64_t now_ms)
{
	int64_t ref = t->attempts > 0 ? t->last_end_ms : t->started_ms;

	return now_ms - ref > sched_stale_after_ms(t->cfg);
}
