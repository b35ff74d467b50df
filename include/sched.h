/* SPDX-License-Identifier: MIT */
/*
 * The scheduler: per-check timers, attempt deadlines, the compose-style
 * state machine, and every write to a check's state.
 * Owns: struct sched and struct target.
 */
#ifndef READYD_SCHED_H
#define READYD_SCHED_H

#include "probe.h"
#include "render.h"
#include "verdict.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

struct event_base;
struct resolver;
struct config;
struct check_cfg;
struct clock;
struct clock_timer;

enum sched_mode {
	SCHED_MODE_SERVE, /* probe forever on the configured timings */
	SCHED_MODE_ONCE,  /* one attempt per check; each failure decides */
	SCHED_MODE_WAIT,  /* re-probe every fast_interval until all pass */
	SCHED_MODE_COUNT
};

/* Successful latencies kept per check for the deadline rule. */
#define SCHED_LATENCIES 8

/* Recent successful latencies (ms), newest overwriting the oldest. */
struct sched_latencies {
	double ms[SCHED_LATENCIES]; /* ring */
	int n;			    /* entries filled, up to SCHED_LATENCIES */
	int next;		    /* where the next one goes */
};

/* The text of a verdict: an error, or the findings joined with "; ". */
#define SCHED_OUTPUT_LEN (PROBE_FINDINGS_MAX * 204)

/* The state of one check; written only by sched.c. */
struct target {
	const struct check_cfg *cfg;	/* borrowed from config */
	struct sched *s;		/* borrowed, the owner */
	struct probe *probe;		/* owned; handed on by sched_adopt */
	char target[160];		/* host:port/db, for display */
	enum verdict_state state;	/* starting, pass, fail */
	enum probe_status reason;	/* last attempt's outcome */
	char errstr[PROBE_ERRLEN];	/* last failure's text */
	int failures;			/* counted failures in a row */
	int successes;			/* successes in a row */
	int attempts;			/* finished attempts */
	double latency_ms;		/* of the last attempt, or -1 */
	int64_t started_ms;		/* monotonic: sched start */
	int64_t attempt_us;		/* monotonic: attempt start */
	int64_t next_ms;		/* monotonic: next attempt */
	time_t last_check;		/* wall: last attempt's end */
	time_t since;			/* wall: last own state change */
	int64_t last_end_ms;		/* monotonic: last attempt's end */
	enum verdict_state shown;	/* verdict: own, dependency or stale */
	enum probe_status shown_reason; /* reason of the verdict */
	time_t shown_since;		/* wall: last change of the verdict */
	char shown_err[SCHED_OUTPUT_LEN]; /* text of the verdict */
	/* findings and gauges of the last successful attempt */
	struct probe_finding findings[PROBE_FINDINGS_MAX];
	size_t nfindings; /* entries in findings; 0 after a failure */
	struct probe_gauge gauges[PROBE_GAUGES_MAX];
	size_t ngauges; /* entries in gauges; 0 after a failure */
	char skips_logged[PROBE_SKIPS_MAX * 2][48]; /* skip keys logged */
	size_t nskips_logged;			    /* entries used */
	struct render_stats stats;		    /* for /metrics */
	const struct target *hold;	/* dependency it waits on, or NULL */
	int64_t hold_ms;		/* monotonic: dependency went down */
	bool dep_down;			/* a dependency was down at refresh */
	int64_t last_ok_start_ms;	/* monotonic: start of last success */
	int64_t deadline_ms;		/* deadline of the attempt in flight */
	bool enabled;			/* probed at all */
	bool in_flight;			/* an attempt is running */
	bool resolving;			/* ...and is in its lookup */
	struct clock_timer *timer;	/* owned; next attempt */
	struct clock_timer *deadline;	/* owned; attempt deadline */
	struct resolve_req *dns;	/* owned by resolve.c; lookup */
	struct sched_latencies logins;	/* successful attempts */
	struct sched_latencies beats;	/* answered heartbeats */
	bool beating;			/* a heartbeat is in flight */
	int64_t beat_us;		/* monotonic: heartbeat sent */
	int64_t beat_deadline_ms;	/* deadline of that heartbeat */
	struct clock_timer *beat_timer; /* owned; next heartbeat */
	struct clock_timer *beat_dl;	/* owned; heartbeat deadline */
	int64_t local_since_ms;		/* monotonic: local trouble began; -1 */
	bool refreshed;			/* visited in this sched_refresh */
};

/* Called after every finished attempt of check i. */
typedef void sched_attempt_fn(struct sched *s, size_t i, void *arg);

/*
 * Create a scheduler for cfg's checks: probes run on base, timers and
 * time come from clk (both borrowed; clk outlives the scheduler). only,
 * when not NULL, has cfg->nchecks entries and enables just the checks set
 * there. Nothing runs before sched_start(). Returns NULL with err filled
 * on failure.
 */
struct sched *sched_new(struct event_base *base, struct clock *clk,
    struct resolver *r, const struct config *cfg, enum sched_mode mode,
    const bool *only, char *err, size_t errlen);

/* Run the first attempt of every enabled check now. */
int sched_start(struct sched *s) __attribute__((warn_unused_result));

/* Cancel every attempt and timer and free s; NULL does nothing. */
void sched_free(struct sched *s);

/* Ask to be told of every finished attempt. */
void sched_set_notify(struct sched *s, sched_attempt_fn *fn, void *arg);

const struct target *sched_target(const struct sched *s, size_t i);

/* Whether check i passes now (in ONCE mode: its attempt succeeded). */
bool sched_target_is_pass(const struct sched *s, size_t i);

/*
 * Judge the checks of set into v (see verdict_eval()): in SERVE mode on
 * the verdicts shown (after sched_refresh()), in ONCE and WAIT modes on
 * each check's own outcome. Returns 0, or -1 when out of memory; free v
 * with verdict_free() either way.
 */
int sched_judge(const struct sched *s, const struct verdict_set *set,
    struct verdict *v) __attribute__((warn_unused_result));

/*
 * A number that changes whenever anything sched_view() or sched_judge()
 * shows may have changed, other than the figures below (a verdict, its
 * reason or its text, the failures in a row, a watched connection
 * dropped). HTTP serves a rendered body only at the generation it was
 * rendered at. Starts at 0 for a new scheduler; one that adopted another's
 * checks (sched_adopt) goes on after the other's.
 */
uint64_t sched_generation(const struct sched *s);

/*
 * A number that changes when only the figures every attempt moves have
 * changed: a check's latency_ms, last_check and /metrics counters. HTTP
 * refreshes a body for them at most once per HTTP_CACHE_FIGURES_MS.
 * Starts at 0; goes on after the adopted scheduler's, like the generation.
 */
uint64_t sched_figures(const struct sched *s);

/*
 * How late the timers of probes and heartbeats fired after they fell due,
 * since start-up (kept across a reload), for /metrics.
 */
const struct render_lag *sched_lag(const struct sched *s);

/* Whether every enabled check has finished at least one attempt. */
bool sched_is_settled(const struct sched *s);

/* Milliseconds until check i is probed again (0 if in flight). */
int64_t sched_next_in_ms(const struct sched *s, size_t i);

/*
 * Fill out with check i's snapshot; the strings point into s and stay
 * valid until the next loop iteration. Error text only when details.
 */
void sched_view(
    const struct sched *s, size_t i, bool details, struct render_check *out);

/*
 * Bring every check's verdict up to date (dependencies, staleness) and
 * log each change once. Cheap; called before a verdict is read.
 */
void sched_refresh(struct sched *s);

/* Whether t's last finished attempt is too old to trust at now_ms. */
bool sched_target_is_stale(const struct target *t, int64_t now_ms);

/* How long after its last attempt a check's verdict goes stale. */
int64_t sched_stale_after_ms(const struct check_cfg *c);

/*
 * The deadline rule. A scheduled probe, and any probe while `fail`, gets
 * the check's timeout. A re-check confirming a failure (counted, not yet
 * `fail`) gets three times the 75th percentile of the check's last 8
 * successful attempts (not counting the first after `fail`, which may
 * have waited out a freeze), at least 1 s and at most the timeout (the
 * timeout when it has none yet): a backend that is slow but answering is never failed for
 * being slower than a fixed second, a frozen one that answered in
 * milliseconds is caught in one second.
 */
int64_t sched_attempt_timeout(const struct target *t, enum sched_mode mode);

/* The same rule for a heartbeat, from the check's answered heartbeats. */
int64_t sched_beat_timeout(const struct target *t);

/* 3 x the 75th percentile of l, clamped to [1 s, cap]; cap if empty. */
int64_t sched_latency_deadline(const struct sched_latencies *l, int64_t cap);

/* Remember a successful latency. */
void sched_latency_add(struct sched_latencies *l, double ms);

/*
 * Whether readyd's own trouble (attempts that could not even start:
 * EMFILE, ENOMEM; reason `local`) has lasted: some check's attempts have
 * all ended `local` for SCHED_LOCAL_LIVE_MS or more at now_ms. /live says
 * 503 then, so a supervisor restarts readyd.
 */
#define SCHED_LOCAL_LIVE_MS 30000
bool sched_local_trouble(const struct sched *s, int64_t now_ms);

/* delay_ms spread by up to +-5% from rnd, a random number. */
int64_t sched_jitter(int64_t delay_ms, uint32_t rnd);

/*
 * Take over the state of old's checks that probe the same server the same
 * way (kind, host, port, database, credentials, options) as s's checks of
 * the same name, with their watched connection, their attempt or
 * heartbeat in flight (its deadline kept) and their schedule; call before
 * sched_start(s), then free old. Returns how many were kept.
 */
size_t sched_adopt(struct sched *s, struct sched *old);

/* ---- the state machine, exposed for tests (fake clock) ---- */

/*
 * Record the outcome of one attempt of t at monotonic time now_ms and
 * wall time wall; updates counters and state (logging a change).
 */
void sched_record(struct target *t, enum sched_mode mode, enum probe_status st,
    const char *errstr, int64_t now_ms, time_t wall);

/* The delay before t's next attempt, given its state after a record. */
int64_t sched_next_delay(const struct target *t, enum sched_mode mode);

#endif /* READYD_SCHED_H */
