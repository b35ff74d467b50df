/* SPDX-License-Identifier: MIT */
/*
 * The scheduler: per-check timers, one deadline per attempt covering
 * lookup, connect, auth and query, and the docker compose state machine.
 * Owns: struct sched, struct target and every write to target state.
 */
#include "sched.h"

#include "clock.h"
#include "config.h"
#include "log.h"
#include "resolve.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SCHED_TICK_MS 1000 /* verdict refresh period */

struct sched {
	struct event_base *base;   /* borrowed from main */
	struct clock *clock;	   /* borrowed from main; timers, time */
	struct resolver *resolver; /* borrowed from main */
	const struct config *cfg;  /* borrowed from main */
	enum sched_mode mode;	   /* serve, once or wait */
	struct target *targets;	   /* owned array, cfg->nchecks long */
	size_t ntargets;	   /* entries in targets */
	sched_attempt_fn *notify;  /* told of finished attempts */
	struct clock_timer *tick;  /* owned; refreshes verdicts */
	void *notify_arg;	   /* for notify */
	uint64_t gen;		   /* bumped by a change a view shows */
	uint64_t figures;	   /* bumped by per-attempt figures only */
	struct render_lag lag;	   /* timers fired vs due */
};

/*
 * Something a snapshot (sched_view) or a verdict shows has changed, other
 * than the figures every attempt moves (sched_figures_changed).
 */
static void
sched_changed(struct sched *s)
{
	s->gen++;
}

/* Only a check's latency, last check or counters have changed. */
static void
sched_figures_changed(struct sched *s)
{
	s->figures++;
}

uint64_t
sched_generation(const struct sched *s)
{
	return s->gen;
}

uint64_t
sched_figures(const struct sched *s)
{
	return s->figures;
}

/* ---- scheduling lag: how late a timer fired ---- */

/* Count timer's lag, read in its own callback. */
static void
sched_lag_add(struct sched *s, const struct clock_timer *timer)
{
	int64_t us = clock_now_us(s->clock) - clock_timer_due_us(timer);
	double secs = us > 0 ? (double)us / 1e6 : 0;
	size_t b = 0;

	while (b < RENDER_LAG_BUCKETS && secs > render_lag_bounds[b])
		b++;
	s->lag.buckets[b]++;
	s->lag.count++;
	s->lag.sum += secs;
}

const struct render_lag *
sched_lag(const struct sched *s)
{
	return &s->lag;
}

static void sched_timer_cb(void *arg);
static void sched_deadline_cb(void *arg);
static void sched_probe_done_cb(struct probe *p, enum probe_status st);

/* ---- the state machine ---- */

/* Reasons that mean the server is not serving: they make dependents fail. */
static bool
sched_reason_is_down(enum probe_status st)
{
	switch (st) {
	case PROBE_REFUSED:
	case PROBE_TIMEOUT:
	case PROBE_IO:
	case PROBE_DNS:
	case PROBE_STARTING:
	case PROBE_DEPENDENCY:
	case PROBE_STALE:
		return true;
	default:
		return false;
	}
}

/* Probe t now unless an attempt is in flight (one at a time). */
static void sched_probe_now(struct target *t);

/* The first dependency of t that is shown down, or NULL. */
static const struct target *
sched_down_dependency(const struct sched *s, const struct target *t)
{
	for (size_t k = 0; k < t->cfg->ndepends; k++) {
		const struct target *d = &s->targets[t->cfg->depends_idx[k]];

		if (d->enabled && d->shown == VERDICT_FAIL &&
		    sched_reason_is_down(d->shown_reason))
			return d;
	}
	return NULL;
}

/*
 * The verdict on t. Stale when its news is too old. A dependency that is
 * down is a presumption, not a verdict: t is shown failed (reason
 * dependency) from the moment the dependency goes down until one of its
 * own attempts that started after that succeeds; then its own evidence
 * wins, whether the dependency is still down (PgBouncer's pooled server
 * connections may keep serving while PostgreSQL's postmaster hangs) or
 * back (PgBouncer refuses logins for server_login_retry after PostgreSQL
 * returns: t waits for its own success).
 */
static void
sched_verdict(struct sched *s, struct target *t, int64_t now,
    enum verdict_state *st, enum probe_status *why, const struct target **cause)
{
	const struct target *down = sched_down_dependency(s, t);

	*cause = NULL;
	if (down != NULL && !t->dep_down) {
		/* a new episode: presume t down, and find out at once */
		t->hold = down;
		t->hold_ms = now;
		sched_probe_now(t);
	}
	t->dep_down = down != NULL;
	if (t->hold != NULL && t->last_ok_start_ms > t->hold_ms)
		t->hold = NULL; /* its own success since: evidence wins */
	if (s->mode == SCHED_MODE_SERVE && sched_target_is_stale(t, now)) {
		*st = VERDICT_FAIL;
		*why = PROBE_STALE;
		return;
	}
	*st = t->state;
	*why = t->attempts > 0 ? t->reason : PROBE_OK;
	if (t->hold == NULL) {
		/* serving, but not as it should: warn, first finding's why */
		if (*st == VERDICT_PASS && t->nfindings > 0) {
			*st = VERDICT_WARN;
			*why = t->findings[0].reason;
		}
		return;
	}
	*st = VERDICT_FAIL;
	if (down == NULL && t->attempts > 0 && t->reason != PROBE_OK)
		return; /* back, but its own logins fail: they say more */
	*why = PROBE_DEPENDENCY;
	*cause = down != NULL ? down : t->hold;
}

/* The texts of t's findings joined with "; " into buf. */
static void
sched_join_findings(const struct target *t, char *buf, size_t len)
{
	size_t used = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < t->nfindings && used < len; i++) {
		int n = snprintf(buf + used, len - used, "%s%s", i ? "; " : "",
		    t->findings[i].text);

		if (n < 0)
			break;
		used += (size_t)n;
	}
}

/*
 * The text of a verdict into buf (len: SCHED_OUTPUT_LEN). Called for
 * every check at every refresh (each request, each attempt's end), so the
 * common case is a plain copy, no formatting.
 */
static void
target_shown_text(const struct target *t, enum verdict_state st,
    enum probe_status why, const struct target *cause, char *buf, size_t len)
{
	size_t n;

	if (why == PROBE_DEPENDENCY && cause != NULL &&
	    verdict_state_is_up(cause->shown))
		snprintf(buf, len, "%s is back; waiting for a successful probe",
		    cause->cfg->name);
	else if (why == PROBE_DEPENDENCY && cause != NULL)
		snprintf(buf, len, "%s is down: %s", cause->cfg->name,
		    probe_status_name(cause->shown_reason));
	else if (why == PROBE_STALE)
		snprintf(buf, len, "no finished attempt for over %llds",
		    (long long)(sched_stale_after_ms(t->cfg) / 1000));
	else if (st == VERDICT_WARN)
		sched_join_findings(t, buf, len);
	else {
		n = strnlen(t->errstr, len - 1);
		memcpy(buf, t->errstr, n);
		buf[n] = '\0';
	}
}

/* The ONLY way to change a verdict: logs every change once. */
static void
target_set_shown(struct target *t, enum verdict_state st, enum probe_status why,
    const struct target *cause, time_t wall)
{
	bool changed = t->shown != st, text_changed;
	enum probe_status old_why = t->shown_reason;
	char text[SCHED_OUTPUT_LEN];

	target_shown_text(t, st, why, cause, text, sizeof(text));
	text_changed = strcmp(text, t->shown_err) != 0;
	if (text_changed)
		memcpy(t->shown_err, text, strlen(text) + 1);
	t->shown_reason = why;
	if (changed || old_why != why || text_changed)
		sched_changed(t->s);
	if (!changed && st == VERDICT_WARN && old_why != why)
		log_warn("check %s: warn: %s: %s", t->cfg->name,
		    probe_status_name(why), t->shown_err);
	if (!changed)
		return;
	if (st == VERDICT_PASS)
		log_info("check %s: %s -> %s", t->cfg->name,
		    verdict_state_name(t->shown), verdict_state_name(st));
	else
		log_warn("check %s: %s -> %s: %s: %s", t->cfg->name,
		    verdict_state_name(t->shown), verdict_state_name(st),
		    probe_status_name(why), t->shown_err);
	t->shown = st;
	t->shown_since = wall;
	t->stats.transitions++;
}

/* Refresh t after its dependencies, so that it reads their new verdict. */
static void
sched_refresh_one(struct sched *s, struct target *t, int64_t now, time_t wall)
{
	const struct target *cause;
	enum probe_status why;
	enum verdict_state st, before = t->shown;

	if (t->refreshed)
		return;
	t->refreshed = true; /* config.c refuses cycles; this stops any */
	for (size_t k = 0; k < t->cfg->ndepends; k++)
		sched_refresh_one(
		    s, &s->targets[t->cfg->depends_idx[k]], now, wall);
	if (!t->enabled)
		return;
	sched_verdict(s, t, now, &st, &why, &cause);
	target_set_shown(t, st, why, cause, wall);
	if (t->shown == before)
		return;
	/* a verdict changed: its dependents, at any depth, look again */
	for (size_t i = 0; i < s->ntargets; i++)
		for (size_t k = 0; k < s->targets[i].cfg->ndepends; k++)
			if (s->targets[i].cfg->depends_idx[k] ==
			    (size_t)(t - s->targets))
				sched_probe_now(&s->targets[i]);
}

void
sched_refresh(struct sched *s)
{
	int64_t now = clock_now_ms(s->clock);
	time_t wall = clock_wall(s->clock);

	for (size_t i = 0; i < s->ntargets; i++)
		s->targets[i].refreshed = false;
	for (size_t i = 0; i < s->ntargets; i++)
		sched_refresh_one(s, &s->targets[i], now, wall);
}

/* ---- attempts ---- */

static void
sched_arm(struct target *t, int64_t delay_ms)
{
	t->next_ms = clock_now_ms(t->s->clock) + delay_ms;
	if (clock_timer_add(t->timer, delay_ms) != 0)
		log_error("check %s: cannot arm its timer", t->cfg->name);
}

static void
sched_probe_now(struct target *t)
{
	if (t->in_flight || !t->enabled || t->s->mode == SCHED_MODE_ONCE)
		return;
	clock_timer_del(t->timer);
	sched_arm(t, 0);
}

static void
sched_count_attempt(struct target *t, enum probe_status st, time_t wall)
{
	struct render_stats *st_ = &t->stats;
	double secs = t->latency_ms / 1000.0;
	size_t b = 0;

	while (b < RENDER_BUCKETS && secs > render_bucket_bounds[b])
		b++;
	st_->buckets[b]++;
	st_->attempts++;
	st_->duration_sum += secs;
	if (st == PROBE_OK)
		st_->last_success = (double)wall;
	else
		st_->failures[st]++;
}

static void sched_beat_arm(struct target *t);

/*
 * readyd's own trouble (reason local): not the backend's failure. Logged
 * loudly once per episode, never counted, re-tried at fast_interval.
 */
static void
sched_local(struct target *t, const char *errstr, int64_t now)
{
	struct sched *s = t->s;

	if (t->local_since_ms < 0) {
		t->local_since_ms = now;
		log_error(
		    "check %s: readyd cannot start a probe (%s); the check keeps its state until it can",
		    t->cfg->name, errstr ? errstr : "local error");
	}
	t->stats.failures[PROBE_LOCAL]++;
	if (s->mode != SCHED_MODE_ONCE)
		sched_arm(t, t->cfg->fast_interval_ms);
	if (s->mode == SCHED_MODE_ONCE) {
		/* once has one attempt: it did not happen, say so */
		sched_record(
		    t, s->mode, PROBE_LOCAL, errstr, now, clock_wall(s->clock));
	}
}

bool
sched_local_trouble(const struct sched *s, int64_t now_ms)
{
	for (size_t i = 0; i < s->ntargets; i++) {
		const struct target *t = &s->targets[i];

		if (t->enabled && t->local_since_ms >= 0 &&
		    now_ms - t->local_since_ms >= SCHED_LOCAL_LIVE_MS)
			return true;
	}
	return false;
}

/*
 * Record an outcome (of an attempt, or of a heartbeat that started at
 * t->attempt_us), schedule the next attempt, refresh and notify.
 */
static void
sched_outcome(struct target *t, enum probe_status st, const char *errstr)
{
	struct sched *s = t->s;
	int64_t now = clock_now_ms(s->clock), delay;
	time_t wall = clock_wall(s->clock);
	int failures = t->failures; /* shown in /ready: not a mere figure */

	t->latency_ms =
	    (double)(clock_now_us(s->clock) - t->attempt_us) / 1000.0;
	/*
	 * Latency, last check, counters. A state, reason or output that
	 * changes moves the generation in target_set_shown(); failures in a
	 * row (shown in /ready) move it below.
	 */
	sched_figures_changed(s);
	if (st == PROBE_LOCAL) {
		sched_local(t, errstr, now);
		if (s->notify != NULL)
			s->notify(s, (size_t)(t - s->targets), s->notify_arg);
		return;
	}
	if (t->local_since_ms >= 0)
		log_info(
		    "check %s: readyd can start probes again", t->cfg->name);
	t->local_since_ms = -1;
	if (st != PROBE_OK && (t->nfindings > 0 || t->ngauges > 0)) {
		/* a failing check shows its failure, not old findings */
		t->nfindings = 0;
		t->ngauges = 0;
	}
	sched_count_attempt(t, st, wall);
	if (st == PROBE_OK) {
		t->last_ok_start_ms = t->attempt_us / 1000;
		/* a recovery may have waited out a freeze: not a latency */
		if (t->state != VERDICT_FAIL)
			sched_latency_add(&t->logins, t->latency_ms);
	}
	sched_record(t, s->mode, st, errstr, now, wall);
	if (t->failures != failures)
		sched_changed(s);
	if (s->mode != SCHED_MODE_ONCE) {
		delay = sched_next_delay(t, s->mode);
		if (delay == t->cfg->interval_ms && t->state == VERDICT_PASS)
			delay = sched_jitter(delay, arc4random());
		clock_timer_del(t->timer);
		sched_arm(t, delay);
	}
	if (st == PROBE_OK)
		sched_beat_arm(t);
	sched_refresh(s);
	if (s->notify != NULL)
		s->notify(s, (size_t)(t - s->targets), s->notify_arg);
}

/* End the attempt in flight: record, notify, schedule the next. */
static void
sched_attempt_end(struct target *t, enum probe_status st, const char *errstr)
{
	clock_timer_del(t->deadline);
	t->in_flight = false;
	t->resolving = false;
	sched_outcome(t, st, errstr);
}

/* Log each inspection the server refused once per check. */
static void
sched_log_skips(struct target *t, const struct probe *p)
{
	for (size_t i = 0; i < p->nskips; i++) {
		size_t k;

		for (k = 0; k < t->nskips_logged; k++)
			if (strcmp(t->skips_logged[k], p->skips[i].key) == 0)
				break;
		if (k < t->nskips_logged)
			continue;
		log_warn("check %s: %s (logged once)", t->cfg->name,
		    p->skips[i].text);
		if (t->nskips_logged <
		    sizeof(t->skips_logged) / sizeof(t->skips_logged[0]))
			snprintf(t->skips_logged[t->nskips_logged++],
			    sizeof(t->skips_logged[0]), "%s", p->skips[i].key);
	}
}

/*
 * Keep the findings and gauges of a successful attempt; a change of the
 * findings changes what bodies show, so the generation moves.
 */
static void
sched_take_findings(struct target *t, const struct probe *p)
{
	bool same = t->nfindings == p->nfindings;

	for (size_t i = 0; same && i < p->nfindings; i++)
		same = t->findings[i].reason == p->findings[i].reason &&
		    strcmp(t->findings[i].key, p->findings[i].key) == 0 &&
		    strcmp(t->findings[i].text, p->findings[i].text) == 0;
	memcpy(t->findings, p->findings, sizeof(t->findings));
	t->nfindings = p->nfindings;
	memcpy(t->gauges, p->gauges, sizeof(t->gauges));
	t->ngauges = p->ngauges;
	if (!same)
		sched_changed(t->s);
}

static void
sched_probe_done_cb(struct probe *p, enum probe_status st)
{
	struct target *t = p->arg;

	sched_log_skips(t, p);
	if (st == PROBE_OK)
		sched_take_findings(t, p);
	sched_attempt_end(t, st, p->errstr);
}

/* ---- heartbeats on the watched connection ---- */

/* Heartbeats run in serve mode on a watched connection, every heartbeat. */
static void
sched_beat_arm(struct target *t)
{
	if (t->s->mode != SCHED_MODE_SERVE || t->cfg->heartbeat_ms <= 0 ||
	    t->probe->ops->heartbeat == NULL || t->probe->watch == NULL ||
	    t->beating)
		return;
	clock_timer_del(t->beat_timer);
	if (clock_timer_add(t->beat_timer, t->cfg->heartbeat_ms) != 0)
		log_error("check %s: cannot arm its heartbeat", t->cfg->name);
}

/* Forget the heartbeat in flight (its connection is gone or replaced). */
static void
sched_beat_stop(struct target *t)
{
	t->beating = false;
	clock_timer_del(t->beat_dl);
	clock_timer_del(t->beat_timer);
}

static void
sched_beat_timer_cb(void *arg)
{
	struct target *t = arg;
	struct probe *p = t->probe;

	sched_lag_add(t->s, t->beat_timer);
	/* an attempt in flight says more; it re-arms the heartbeat */
	if (t->in_flight || t->beating || p->watch == NULL)
		return;
	if (p->ops->heartbeat(p) != 0) {
		sched_beat_arm(t);
		return;
	}
	t->beating = true;
	t->beat_us = clock_now_us(t->s->clock);
	t->beat_deadline_ms = sched_beat_timeout(t);
	if (clock_timer_add(t->beat_dl, t->beat_deadline_ms) != 0)
		log_error("check %s: cannot arm its heartbeat deadline",
		    t->cfg->name);
}

/*
 * A heartbeat's answer. A success costs no login and proves the server
 * serves; a failure counts as a failed attempt and starts the re-checks.
 * While an attempt is in flight, that attempt decides.
 */
static void
sched_beat_cb(struct probe *p, enum probe_status st)
{
	struct target *t = p->arg;
	double ms;

	if (!t->beating)
		return;
	t->beating = false;
	clock_timer_del(t->beat_dl);
	ms = (double)(clock_now_us(t->s->clock) - t->beat_us) / 1000.0;
	if (st == PROBE_OK) {
		sched_latency_add(&t->beats, ms);
		sched_beat_arm(t);
		return;
	}
	if (t->in_flight)
		return;
	t->attempt_us = t->beat_us;
	sched_outcome(t, st, p->errstr);
}

/* No answer in time: the server hangs (frozen, partitioned). */
static void
sched_beat_deadline_cb(void *arg)
{
	struct target *t = arg;
	char msg[PROBE_ERRLEN];

	if (!t->beating)
		return;
	t->beating = false;
	/* the connection is stuck: close it (no callback) */
	t->probe->ops->unwatch(t->probe);
	clock_timer_del(t->beat_timer);
	if (t->in_flight)
		return; /* the attempt in flight decides */
	snprintf(msg, sizeof(msg),
	    "heartbeat: no answer from %s port %d within %lldms",
	    t->probe->addr, t->cfg->port, (long long)t->beat_deadline_ms);
	t->attempt_us = t->beat_us;
	sched_outcome(t, PROBE_TIMEOUT, msg);
}

/* The server closed a watched connection: find out why, now. */
static void
sched_watch_lost_cb(struct probe *p)
{
	struct target *t = p->arg;
	int64_t now = clock_now_ms(t->s->clock);
	int64_t due = t->attempt_us / 1000 + t->cfg->fast_interval_ms;

	sched_beat_stop(t);
	t->stats.watch_drops++;
	sched_changed(t->s);
	/*
	 * Debug only: a server's idle timeout (Redis `timeout`, PgBouncer
	 * `client_idle_timeout`) shorter than the interval closes every
	 * watched connection, which is no news; the probe decides and its
	 * verdict is logged if it changes. /metrics counts the drops.
	 */
	log_debug("check %s: connection closed by the server; probing now",
	    t->cfg->name);
	/*
	 * No sooner than fast_interval after the last attempt started: a
	 * server (or proxy) that closes idle connections within moments
	 * must not turn the watch into a login loop.
	 */
	if (due <= now || t->in_flight) {
		sched_probe_now(t);
	} else if (t->next_ms > due) {
		clock_timer_del(t->timer);
		sched_arm(t, due - now);
	}
}

static void
sched_connect(struct target *t)
{
	struct probe *p = t->probe;

	t->resolving = false;
	p->errstr[0] = '\0';
	probe_clear_findings(p);
	if (p->ops->start(p) < 0)
		sched_attempt_end(t, p->status, p->errstr);
}

static void
sched_resolved_cb(const char *addr, const char *errstr, void *arg)
{
	struct target *t = arg;
	char msg[PROBE_ERRLEN];

	t->dns = NULL;
	if (addr == NULL) {
		snprintf(
		    msg, sizeof(msg), "lookup of %s: %s", t->cfg->host, errstr);
		sched_attempt_end(t, PROBE_DNS, msg);
		return;
	}
	snprintf(t->probe->addr, sizeof(t->probe->addr), "%s", addr);
	sched_connect(t);
}

static void
sched_attempt_start(struct target *t)
{
	struct sched *s = t->s;
	char err[128], msg[PROBE_ERRLEN];
	int rc;

	if (t->in_flight)
		return; /* one attempt in flight per check */
	/*
	 * The watched connection stays open until this attempt succeeds and
	 * replaces it: dropping it first would free the very slot the fresh
	 * login needs, and a full pool would go unnoticed.
	 */
	t->in_flight = true;
	t->attempt_us = clock_now_us(s->clock);
	t->deadline_ms = sched_attempt_timeout(t, s->mode);
	t->probe->deadline_ms = t->deadline_ms;
	if (clock_timer_add(t->deadline, t->deadline_ms) != 0)
		log_error("check %s: cannot arm its deadline", t->cfg->name);
	t->resolving = true;
	rc = resolve_start(s->resolver, t->cfg->host, t->probe->addr,
	    sched_resolved_cb, t, &t->dns, err, sizeof(err));
	if (rc == 0)
		return;
	if (rc < 0) {
		snprintf(
		    msg, sizeof(msg), "lookup of %s: %s", t->cfg->host, err);
		sched_attempt_end(t, PROBE_DNS, msg);
		return;
	}
	sched_connect(t);
}

static void
sched_timer_cb(void *arg)
{
	struct target *t = arg;

	sched_lag_add(t->s, t->timer);
	sched_attempt_start(t);
}

static void
sched_deadline_cb(void *arg)
{
	struct target *t = arg;
	char msg[PROBE_ERRLEN];
	enum probe_status reason = PROBE_TIMEOUT;

	if (!t->in_flight)
		return;
	if (t->resolving) {
		/* the nameserver, not the backend, kept us waiting */
		reason = PROBE_DNS;
		resolve_cancel(t->dns);
		t->dns = NULL;
		snprintf(msg, sizeof(msg),
		    "lookup of %s: no answer within %lldms", t->cfg->host,
		    (long long)t->deadline_ms);
	} else {
		t->probe->ops->cancel(t->probe);
		snprintf(msg, sizeof(msg),
		    "no answer from %s port %d within %lldms", t->probe->addr,
		    t->cfg->port, (long long)t->deadline_ms);
	}
	sched_attempt_end(t, reason, msg);
}

/* Once a second: verdicts go stale even when nothing else happens. */
static void
sched_tick_cb(void *arg)
{
	struct sched *s = arg;

	if (clock_timer_add(s->tick, SCHED_TICK_MS) != 0)
		log_error("cannot re-arm the verdict refresh");
	sched_refresh(s);
}

/* ---- lifecycle ---- */

struct sched *
sched_new(struct event_base *base, struct clock *clk, struct resolver *r,
    const struct config *cfg, enum sched_mode mode, const bool *only, char *err,
    size_t errlen)
{
	struct sched *s;

	s = calloc(1, sizeof(*s));
	if (s == NULL)
		goto out_nomem;
	s->base = base;
	s->clock = clk;
	s->resolver = r;
	s->cfg = cfg;
	s->mode = mode;
	s->ntargets = cfg->nchecks;
	s->targets =
	    calloc(cfg->nchecks ? cfg->nchecks : 1, sizeof(*s->targets));
	if (s->targets == NULL)
		goto out_free;
	for (size_t i = 0; i < cfg->nchecks; i++) {
		struct target *t = &s->targets[i];

		t->cfg = &cfg->checks[i];
		t->s = s;
		t->state = VERDICT_STARTING;
		t->reason = PROBE_OK;
		t->latency_ms = -1;
		t->since = clock_wall(clk);
		t->started_ms =
		    clock_now_ms(clk); /* sched_adopt keeps the old */
		t->shown = VERDICT_STARTING;
		t->shown_since = t->since;
		t->enabled = only == NULL || only[i];
		probe_target(t->cfg, t->target, sizeof(t->target));
		t->local_since_ms = -1;
		t->probe = calloc(1, sizeof(*t->probe));
		if (t->probe == NULL)
			goto out_free;
		t->probe->ops = t->cfg->ops;
		t->probe->cfg = t->cfg;
		t->probe->base = base;
		t->probe->done = sched_probe_done_cb;
		t->probe->lost = sched_watch_lost_cb;
		t->probe->keep = t->cfg->watch && mode == SCHED_MODE_SERVE;
		t->probe->beat = sched_beat_cb;
		t->probe->arg = t;
		t->timer = clock_timer_new(clk, sched_timer_cb, t);
		t->deadline = clock_timer_new(clk, sched_deadline_cb, t);
		t->beat_timer = clock_timer_new(clk, sched_beat_timer_cb, t);
		t->beat_dl = clock_timer_new(clk, sched_beat_deadline_cb, t);
		if (t->timer == NULL || t->deadline == NULL ||
		    t->beat_timer == NULL || t->beat_dl == NULL)
			goto out_free;
	}
	if (mode == SCHED_MODE_SERVE) {
		s->tick = clock_timer_new(clk, sched_tick_cb, s);
		if (s->tick == NULL)
			goto out_free;
	}
	return s;

out_free:
	sched_free(s);
out_nomem:
	snprintf(err, errlen, "out of memory");
	return NULL;
}

int
sched_start(struct sched *s)
{
	for (size_t i = 0; i < s->ntargets; i++) {
		struct target *t = &s->targets[i];
		int64_t d;

		if (!t->enabled || t->in_flight)
			continue; /* an adopted attempt goes on */
		/* the first probe runs at start-up; a reload keeps the pace */
		d = t->next_ms - clock_now_ms(s->clock);
		sched_arm(t, t->attempts > 0 && d > 0 ? d : 0);
	}
	if (s->tick != NULL && clock_timer_add(s->tick, SCHED_TICK_MS) != 0)
		return -1;
	return 0;
}

void
sched_free(struct sched *s)
{
	if (s == NULL)
		return;
	for (size_t i = 0; s->targets != NULL && i < s->ntargets; i++) {
		struct target *t = &s->targets[i];

		if (t->dns != NULL)
			resolve_cancel(t->dns);
		if (t->probe != NULL && t->probe->ops != NULL) {
			if (t->in_flight && !t->resolving)
				t->probe->ops->cancel(t->probe);
			t->probe->ops->unwatch(t->probe);
		}
		free(t->probe);
		clock_timer_free(t->timer);
		clock_timer_free(t->deadline);
		clock_timer_free(t->beat_timer);
		clock_timer_free(t->beat_dl);
	}
	clock_timer_free(s->tick);
	free(s->targets);
	free(s);
}

/* Re-arm timer to fall due at the same moment it would have in old. */
static void
sched_rearm_left(
    struct clock_timer *timer, const struct target *t, int64_t due_ms)
{
	int64_t left = due_ms - clock_now_ms(t->s->clock);

	if (clock_timer_add(timer, left > 0 ? left : 0) != 0)
		log_error("check %s: cannot arm its timer", t->cfg->name);
}

/*
 * Hand o's probe (its watched connection, its attempt or heartbeat in
 * flight) to t, which probes the same server the same way; o gets an
 * idle probe so that freeing old cancels nothing.
 */
static int
sched_take_probe(struct target *t, struct target *o)
{
	struct probe *fresh = calloc(1, sizeof(*fresh));
	struct probe *p = o->probe;

	if (fresh == NULL)
		return -1;
	*fresh = *t->probe;
	fresh->arg = o;
	free(t->probe);
	t->probe = p;
	o->probe = fresh;
	p->cfg = t->cfg; /* the same server, by probe_same() */
	p->arg = t;
	p->keep = t->cfg->watch && t->s->mode == SCHED_MODE_SERVE;
	if (o->in_flight) {
		t->in_flight = true;
		t->resolving = o->resolving;
		t->dns = o->dns;
		resolve_set_arg(t->dns, t);
		t->attempt_us = o->attempt_us;
		t->deadline_ms = o->deadline_ms;
		sched_rearm_left(
		    t->deadline, t, o->attempt_us / 1000 + o->deadline_ms);
		o->in_flight = false;
		o->resolving = false;
		o->dns = NULL;
	}
	if (o->beating) {
		t->beating = true;
		t->beat_us = o->beat_us;
		t->beat_deadline_ms = o->beat_deadline_ms;
		sched_rearm_left(
		    t->beat_dl, t, o->beat_us / 1000 + o->beat_deadline_ms);
		o->beating = false;
	} else if (p->watch != NULL && !t->in_flight) {
		sched_beat_arm(t);
	}
	return 0;
}

/* Take over o's state (same name, same probe) into t. */
static void
sched_take_state(struct sched *s, struct target *t, const struct target *o)
{
	t->state = o->state;
	t->reason = o->reason;
	memcpy(t->errstr, o->errstr, sizeof(t->errstr));
	t->failures = o->failures;
	t->successes = o->successes;
	t->attempts = o->attempts;
	t->latency_ms = o->latency_ms;
	t->last_check = o->last_check;
	t->since = o->since;
	t->last_end_ms = o->last_end_ms;
	t->next_ms = o->next_ms;
	t->shown = o->shown;
	t->shown_reason = o->shown_reason;
	t->shown_since = o->shown_since;
	memcpy(t->shown_err, o->shown_err, sizeof(t->shown_err));
	memcpy(t->findings, o->findings, sizeof(t->findings));
	t->nfindings = o->nfindings;
	memcpy(t->gauges, o->gauges, sizeof(t->gauges));
	t->ngauges = o->ngauges;
	memcpy(t->skips_logged, o->skips_logged, sizeof(t->skips_logged));
	t->nskips_logged = o->nskips_logged;
	t->stats = o->stats;
	t->logins = o->logins;
	t->beats = o->beats;
	t->local_since_ms = o->local_since_ms;
	/* start_period runs from the first start, not a reload */
	t->started_ms = o->started_ms;
	/* still waiting for its own success after a dependency */
	t->last_ok_start_ms = o->last_ok_start_ms;
	t->hold_ms = o->hold_ms;
	t->dep_down = o->dep_down;
	if (o->hold != NULL) {
		int d = config_find_check(s->cfg, o->hold->cfg->name);

		t->hold = d >= 0 ? &s->targets[d] : NULL;
	}
}

size_t
sched_adopt(struct sched *s, struct sched *old)
{
	size_t kept = 0;

	s->lag = old->lag; /* a histogram since start-up */
	/* never a generation old's bodies may be cached at (http_cache) */
	s->gen = old->gen + 1;
	s->figures = old->figures + 1;
	for (size_t i = 0; i < s->ntargets; i++) {
		struct target *t = &s->targets[i];

		for (size_t k = 0; k < old->ntargets; k++) {
			struct target *o = &old->targets[k];

			if (strcmp(t->cfg->name, o->cfg->name) != 0)
				continue;
			if (!probe_same(t->cfg, o->cfg) || !o->enabled ||
			    !t->enabled)
				break; /* changed: it starts afresh */
			sched_take_state(s, t, o);
			if (s->mode == old->mode && sched_take_probe(t, o) != 0)
				log_error(
				    "check %s: out of memory; its attempt restarts",
				    t->cfg->name);
			kept++;
			break;
		}
	}
	return kept;
}

void
sched_set_notify(struct sched *s, sched_attempt_fn *fn, void *arg)
{
	s->notify = fn;
	s->notify_arg = arg;
}

const struct target *
sched_target(const struct sched *s, size_t i)
{
	return &s->targets[i];
}

bool
sched_target_is_pass(const struct sched *s, size_t i)
{
	return s->targets[i].state == VERDICT_PASS;
}

int
sched_judge(
    const struct sched *s, const struct verdict_set *set, struct verdict *v)
{
	struct verdict_check *cs;
	int rc;

	cs = calloc(s->ntargets ? s->ntargets : 1, sizeof(*cs));
	if (cs == NULL) {
		memset(v, 0, sizeof(*v));
		return -1;
	}
	for (size_t i = 0; i < s->ntargets; i++) {
		const struct target *t = &s->targets[i];

		cs[i].name = t->cfg->name;
		cs[i].state = s->mode == SCHED_MODE_SERVE ? t->shown : t->state;
		if (cs[i].state == VERDICT_PASS && t->nfindings > 0)
			cs[i].state = VERDICT_WARN; /* once, wait */
		cs[i].required = t->cfg->required;
		cs[i].next_in_ms = sched_next_in_ms(s, i);
	}
	rc = verdict_eval(cs, s->ntargets, set, v);
	free(cs);
	return rc;
}

bool
sched_is_settled(const struct sched *s)
{
	for (size_t i = 0; i < s->ntargets; i++)
		if (s->targets[i].enabled && s->targets[i].attempts == 0)
			return false;
	return true;
}

int64_t
sched_next_in_ms(const struct sched *s, size_t i)
{
	const struct target *t = &s->targets[i];
	int64_t d;

	if (t->in_flight)
		return 0;
	d = t->next_ms - clock_now_ms(s->clock);
	return d > 0 ? d : 0;
}

void
sched_view(
    const struct sched *s, size_t i, bool details, struct render_check *out)
{
	const struct target *t = &s->targets[i];
	bool failed = t->shown_reason != PROBE_OK;

	memset(out, 0, sizeof(*out));
	out->name = t->cfg->name;
	out->kind = t->cfg->ops->name;
	out->target = t->target;
	out->required = t->cfg->required;
	out->state = t->shown;
	out->reason = t->shown_reason;
	out->output = failed && details ? t->shown_err : NULL;
	if (t->shown == VERDICT_WARN) {
		out->findings = t->findings;
		out->nfindings = t->nfindings;
	}
	out->finding_texts = details;
	out->gauges = t->gauges;
	out->ngauges = t->ngauges;
	out->latency_ms = t->latency_ms;
	out->consecutive_failures = t->failures;
	out->last_check = t->last_check;
	out->since = t->shown_since;
	out->stats = &t->stats;
}
