/* SPDX-License-Identifier: MIT */
/*
 * Scheduler tests: the compose state machine on a fake clock, and the
 * scheduler's timers (deadlines, one attempt in flight) with a fake probe
 * on a fake clock the tests advance: nothing waits on the real clock.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "clock.h"
#include "config.h"
#include "fake_probe.h"
#include "http_cache.h"
#include "log.h"
#include "resolve.h"
#include "sched.h"

#include <event2/buffer.h>
#include <event2/event.h>
#include <stdlib.h>
#include <string.h>

static struct check_cfg
make_cfg(void)
{
	struct check_cfg c;

	memset(&c, 0, sizeof(c));
	c.name = (char *)"fake1";
	c.ops = &fake_probe_ops;
	c.host = (char *)"127.0.0.1";
	c.port = 1;
	c.required = true;
	c.interval_ms = 30000;
	c.timeout_ms = 10000;
	c.retries = 3;
	c.start_period_ms = 0;
	c.start_interval_ms = 5000;
	c.fast_interval_ms = 1000;
	c.rise = 1;
	return c;
}

static struct target
make_target(const struct check_cfg *c)
{
	struct target t;

	memset(&t, 0, sizeof(t));
	t.cfg = c;
	t.state = VERDICT_STARTING;
	t.latency_ms = -1;
	return t;
}

static void
test_sched_one_success_passes(void **state)
{
	struct check_cfg c = make_cfg();
	struct target t = make_target(&c);

	(void)state;
	sched_record(&t, SCHED_MODE_SERVE, PROBE_OK, NULL, 0, 100);
	assert_int_equal(t.state, VERDICT_PASS);
	assert_int_equal(t.since, 100);
	assert_int_equal(t.failures, 0);
}

static void
test_sched_retries_failures_fail(void **state)
{
	struct check_cfg c = make_cfg();
	struct target t = make_target(&c);

	(void)state;
	sched_record(&t, SCHED_MODE_SERVE, PROBE_OK, NULL, 0, 1);
	sched_record(&t, SCHED_MODE_SERVE, PROBE_REFUSED, "x", 10, 2);
	sched_record(&t, SCHED_MODE_SERVE, PROBE_REFUSED, "x", 20, 3);
	assert_int_equal(t.state, VERDICT_PASS);
	assert_int_equal(t.failures, 2);
	sched_record(&t, SCHED_MODE_SERVE, PROBE_TIMEOUT, "late", 30, 4);
	assert_int_equal(t.state, VERDICT_FAIL);
	assert_int_equal(t.reason, PROBE_TIMEOUT);
	assert_string_equal(t.errstr, "late");
	assert_int_equal(t.since, 4);
}

static void
test_sched_success_resets_failures(void **state)
{
	struct check_cfg c = make_cfg();
	struct target t = make_target(&c);

	(void)state;
	sched_record(&t, SCHED_MODE_SERVE, PROBE_OK, NULL, 0, 1);
	sched_record(&t, SCHED_MODE_SERVE, PROBE_IO, "x", 1, 2);
	sched_record(&t, SCHED_MODE_SERVE, PROBE_IO, "x", 2, 3);
	sched_record(&t, SCHED_MODE_SERVE, PROBE_OK, NULL, 3, 4);
	assert_int_equal(t.failures, 0);
	sched_record(&t, SCHED_MODE_SERVE, PROBE_IO, "x", 4, 5);
	sched_record(&t, SCHED_MODE_SERVE, PROBE_IO, "x", 5, 6);
	assert_int_equal(t.state, VERDICT_PASS);
	assert_string_equal(t.errstr, "x");
}

static void
test_sched_never_passed_fails_after_retries(void **state)
{
	struct check_cfg c = make_cfg();
	struct target t = make_target(&c);

	(void)state;
	sched_record(&t, SCHED_MODE_SERVE, PROBE_REFUSED, "x", 0, 1);
	sched_record(&t, SCHED_MODE_SERVE, PROBE_REFUSED, "x", 5000, 2);
	assert_int_equal(t.state, VERDICT_STARTING);
	sched_record(&t, SCHED_MODE_SERVE, PROBE_REFUSED, "x", 10000, 3);
	assert_int_equal(t.state, VERDICT_FAIL);
}

static void
test_sched_start_period_failures_do_not_count(void **state)
{
	struct check_cfg c = make_cfg();
	struct target t = make_target(&c);

	(void)state;
	c.start_period_ms = 60000;
	for (int i = 0; i < 10; i++)
		sched_record(
		    &t, SCHED_MODE_SERVE, PROBE_STARTING, "57P03", i * 5000, i);
	assert_int_equal(t.state, VERDICT_STARTING);
	assert_int_equal(t.failures, 0);
	assert_int_equal(t.reason, PROBE_STARTING);
	/* after the start period they count */
	for (int i = 0; i < 3; i++)
		sched_record(&t, SCHED_MODE_SERVE, PROBE_STARTING, "57P03",
		    60000 + i * 5000, 20 + i);
	assert_int_equal(t.state, VERDICT_FAIL);
}

static void
test_sched_start_period_ends_on_success(void **state)
{
	struct check_cfg c = make_cfg();
	struct target t = make_target(&c);

	(void)state;
	c.start_period_ms = 60000;
	sched_record(&t, SCHED_MODE_SERVE, PROBE_OK, NULL, 1000, 1);
	assert_int_equal(t.state, VERDICT_PASS);
	/* once passed, failures count even inside the start period */
	for (int i = 0; i < 3; i++)
		sched_record(&t, SCHED_MODE_SERVE, PROBE_IO, "x", 2000 + i, 2);
	assert_int_equal(t.state, VERDICT_FAIL);
}

static void
test_sched_delays_follow_state(void **state)
{
	struct check_cfg c = make_cfg();
	struct target t = make_target(&c);

	(void)state;
	assert_int_equal(sched_next_delay(&t, SCHED_MODE_SERVE), 5000);
	sched_record(&t, SCHED_MODE_SERVE, PROBE_OK, NULL, 0, 1);
	assert_int_equal(sched_next_delay(&t, SCHED_MODE_SERVE), 30000);
	assert_int_equal(sched_next_delay(&t, SCHED_MODE_WAIT), 1000);
}

static void
test_sched_once_mode_first_failure_decides(void **state)
{
	struct check_cfg c = make_cfg();
	struct target t = make_target(&c);

	(void)state;
	c.start_period_ms = 60000;
	sched_record(&t, SCHED_MODE_ONCE, PROBE_AUTH, "denied", 0, 1);
	assert_int_equal(t.state, VERDICT_FAIL);
	assert_int_equal(t.reason, PROBE_AUTH);
}

static void
test_sched_rise_needs_successes_after_fail(void **state)
{
	struct check_cfg c = make_cfg();
	struct target t = make_target(&c);

	(void)state;
	c.rise = 2;
	c.retries = 1;
	sched_record(&t, SCHED_MODE_SERVE, PROBE_OK, NULL, 0, 1);
	assert_int_equal(t.state, VERDICT_PASS); /* rise is for coming back */
	sched_record(&t, SCHED_MODE_SERVE, PROBE_IO, "x", 1, 2);
	assert_int_equal(t.state, VERDICT_FAIL);
	sched_record(&t, SCHED_MODE_SERVE, PROBE_OK, NULL, 2, 3);
	assert_int_equal(t.state, VERDICT_FAIL);
	sched_record(&t, SCHED_MODE_SERVE, PROBE_OK, NULL, 3, 4);
	assert_int_equal(t.state, VERDICT_PASS);
}

static void
test_sched_fast_interval_after_failure(void **state)
{
	struct check_cfg c = make_cfg();
	struct target t = make_target(&c);

	(void)state;
	sched_record(&t, SCHED_MODE_SERVE, PROBE_OK, NULL, 0, 1);
	assert_int_equal(sched_next_delay(&t, SCHED_MODE_SERVE), 30000);
	sched_record(&t, SCHED_MODE_SERVE, PROBE_REFUSED, "x", 1, 2);
	/* still pass, but re-checked fast until it flips or recovers */
	assert_int_equal(t.state, VERDICT_PASS);
	assert_int_equal(sched_next_delay(&t, SCHED_MODE_SERVE), 1000);
	sched_record(&t, SCHED_MODE_SERVE, PROBE_REFUSED, "x", 2, 3);
	sched_record(&t, SCHED_MODE_SERVE, PROBE_REFUSED, "x", 3, 4);
	assert_int_equal(t.state, VERDICT_FAIL);
	assert_int_equal(sched_next_delay(&t, SCHED_MODE_SERVE), 1000);
	sched_record(&t, SCHED_MODE_SERVE, PROBE_OK, NULL, 4, 5);
	assert_int_equal(sched_next_delay(&t, SCHED_MODE_SERVE), 30000);
	/* held for a dependency that came back: confirm soon, not in 30 s */
	t.hold = &t;
	assert_int_equal(sched_next_delay(&t, SCHED_MODE_SERVE), 1000);
}

static void
test_sched_recheck_deadline_is_short(void **state)
{
	struct check_cfg c = make_cfg();
	struct target t = make_target(&c);

	(void)state;
	assert_int_equal(sched_attempt_timeout(&t, SCHED_MODE_SERVE), 10000);
	sched_record(&t, SCHED_MODE_SERVE, PROBE_OK, NULL, 0, 1);
	sched_latency_add(&t.logins, 3.5);
	assert_int_equal(sched_attempt_timeout(&t, SCHED_MODE_SERVE), 10000);
	sched_record(&t, SCHED_MODE_SERVE, PROBE_TIMEOUT, "x", 1, 2);
	/* confirming the failure: 3 x its slowest success, 1 s at least */
	assert_int_equal(sched_attempt_timeout(&t, SCHED_MODE_SERVE), 1000);
	/* a backend that is slow but answers gets room: 3 x 1.2 s */
	sched_latency_add(&t.logins, 1200);
	sched_latency_add(&t.logins, 1200);
	assert_int_equal(sched_attempt_timeout(&t, SCHED_MODE_SERVE), 3600);
	/* never more than the timeout */
	sched_latency_add(&t.logins, 5000);
	sched_latency_add(&t.logins, 5000);
	sched_latency_add(&t.logins, 5000);
	assert_int_equal(sched_attempt_timeout(&t, SCHED_MODE_SERVE), 10000);
	/* the old samples age out of the ring */
	for (int i = 0; i < SCHED_LATENCIES; i++)
		sched_latency_add(&t.logins, 2.0);
	assert_int_equal(sched_attempt_timeout(&t, SCHED_MODE_SERVE), 1000);
	sched_record(&t, SCHED_MODE_SERVE, PROBE_TIMEOUT, "x", 2, 3);
	sched_record(&t, SCHED_MODE_SERVE, PROBE_TIMEOUT, "x", 3, 4);
	assert_int_equal(t.state, VERDICT_FAIL);
	/* recovery probes get the whole timeout: a slow server can return */
	assert_int_equal(sched_attempt_timeout(&t, SCHED_MODE_SERVE), 10000);
	/* compose-exact: fast_interval = interval changes nothing */
	c.fast_interval_ms = c.interval_ms;
	t.state = VERDICT_PASS;
	assert_int_equal(sched_attempt_timeout(&t, SCHED_MODE_SERVE), 10000);
}

static void
test_sched_latency_deadline(void **state)
{
	struct sched_latencies l = {0};

	(void)state;
	/* no history: the cap (the timeout) */
	assert_int_equal(sched_latency_deadline(&l, 10000), 10000);
	sched_latency_add(&l, 0.4);
	assert_int_equal(sched_latency_deadline(&l, 10000), 1000);
	sched_latency_add(&l, 700);
	assert_int_equal(sched_latency_deadline(&l, 10000), 2100);
	assert_int_equal(sched_latency_deadline(&l, 1500), 1500);
	assert_int_equal(l.n, 2);
	for (int i = 0; i < 20; i++)
		sched_latency_add(&l, 1.0);
	assert_int_equal(l.n, SCHED_LATENCIES);
	assert_int_equal(sched_latency_deadline(&l, 10000), 1000);
	/* one outlier (a probe that waited out a freeze) changes nothing */
	sched_latency_add(&l, 2017);
	assert_int_equal(sched_latency_deadline(&l, 10000), 1000);
	/* a backend that became slow: the deadline follows within a few */
	for (int i = 0; i < 6; i++)
		sched_latency_add(&l, 1500);
	assert_int_equal(sched_latency_deadline(&l, 10000), 4500);
}

/* fast_interval = interval gives compose's timings exactly */
static void
test_sched_compose_exact_timings(void **state)
{
	struct check_cfg c = make_cfg();
	struct target t = make_target(&c);

	(void)state;
	c.fast_interval_ms = c.interval_ms;
	c.watch = false;
	assert_int_equal(sched_next_delay(&t, SCHED_MODE_SERVE), 5000);
	sched_record(&t, SCHED_MODE_SERVE, PROBE_OK, NULL, 0, 1);
	for (int i = 0; i < 3; i++) {
		sched_record(&t, SCHED_MODE_SERVE, PROBE_TIMEOUT, "x", i, 2);
		assert_int_equal(sched_next_delay(&t, SCHED_MODE_SERVE), 30000);
	}
	assert_int_equal(t.state, VERDICT_FAIL);
	sched_record(&t, SCHED_MODE_SERVE, PROBE_OK, NULL, 9, 3);
	assert_int_equal(t.state, VERDICT_PASS);
}

static void
test_sched_jitter_within_five_percent(void **state)
{
	(void)state;
	assert_int_equal(sched_jitter(30000, 0), 28500);
	assert_int_equal(sched_jitter(30000, 500), 30000);
	assert_int_equal(sched_jitter(30000, 1000), 31500);
	for (uint32_t r = 0; r < 5000; r += 7) {
		int64_t d = sched_jitter(30000, r * 2654435761u);

		assert_in_range(d, 28500, 31500);
	}
}

static void
test_sched_stale_after_interval_timeout_margin(void **state)
{
	struct check_cfg c = make_cfg();
	struct target t = make_target(&c);

	(void)state;
	/* 30s interval + 10s timeout + 2s + interval/10 */
	assert_int_equal(sched_stale_after_ms(&c), 45000);
	t.started_ms = 1000;
	assert_false(sched_target_is_stale(&t, 46000));
	assert_true(sched_target_is_stale(&t, 46001)); /* never finished */
	sched_record(&t, SCHED_MODE_SERVE, PROBE_OK, NULL, 50000, 1);
	assert_false(sched_target_is_stale(&t, 95000));
	assert_true(sched_target_is_stale(&t, 95001));
}

/* ---- the scheduler's timers, with the fake probe, on a fake clock ---- */

struct loop_fixture {
	struct event_base *base;
	struct clock *clk;
	struct resolver *r;
	struct config cfg;
	struct check_cfg checks[2];
	struct sched *s;
};

/* Let ms of fake time pass, running the timers that fall due. */
static void
loop_run_ms(struct loop_fixture *f, int ms)
{
	clock_advance(f->clk, ms);
}

static int
loop_setup(void **state)
{
	static struct loop_fixture f;
	char err[128];

	memset(&f, 0, sizeof(f));
	fake_probe_reset();
	f.base = event_base_new();
	f.clk = clock_new_fake(1000000, 1795758000);
	fake_probe_use_clock(f.clk);
	f.r = resolve_new(f.base, err, sizeof(err));
	f.checks[0] = make_cfg();
	f.checks[1] = make_cfg();
	f.checks[1].name = (char *)"fake2";
	for (int i = 0; i < 2; i++) {
		f.checks[i].timeout_ms = 100;
		f.checks[i].interval_ms = 50;
		f.checks[i].start_interval_ms = 50;
		f.checks[i].fast_interval_ms = 50;
		f.checks[i].retries = 1;
	}
	f.cfg.checks = f.checks;
	f.cfg.nchecks = 2;
	*state = &f;
	return f.base != NULL && f.clk != NULL && f.r != NULL ? 0 : -1;
}

static int
loop_teardown(void **state)
{
	struct loop_fixture *f = *state;

	sched_free(f->s);
	resolve_free(f->r);
	clock_free(f->clk);
	event_base_free(f->base);
	return 0;
}

static void
test_sched_loop_first_probe_at_start(void **state)
{
	struct loop_fixture *f = *state;
	char err[128];

	f->s = sched_new(f->base, f->clk, f->r, &f->cfg, SCHED_MODE_SERVE, NULL,
	    err, sizeof(err));
	assert_non_null(f->s);
	assert_int_equal(sched_start(f->s), 0);
	loop_run_ms(f, 20);
	assert_int_equal(fake_probe_starts, 2);
	assert_true(sched_target_is_pass(f->s, 0));
	assert_true(sched_target_is_pass(f->s, 1));
	assert_true(sched_is_settled(f->s));
	assert_int_equal(fake_probe_max_in_flight, 2); /* concurrent */
}

static void
test_sched_loop_deadline_cancels_hung_attempt(void **state)
{
	struct loop_fixture *f = *state;
	const struct target *t;
	char err[128];
	bool only[2] = {true, false};

	fake_probe_set(PROBE_OK, -1); /* never answers */
	f->s = sched_new(f->base, f->clk, f->r, &f->cfg, SCHED_MODE_SERVE, only,
	    err, sizeof(err));
	assert_non_null(f->s);
	assert_int_equal(sched_start(f->s), 0);
	loop_run_ms(f, 130);
	t = sched_target(f->s, 0);
	assert_int_equal(fake_probe_cancels, 1);
	assert_int_equal(t->state, VERDICT_FAIL);
	assert_int_equal(t->reason, PROBE_TIMEOUT);
	assert_non_null(strstr(t->errstr, "within 100ms"));
	/* one attempt in flight per check, never more */
	assert_int_equal(fake_probe_max_in_flight, 1);
	assert_int_equal(sched_target(f->s, 1)->attempts, 0);
}

static void
test_sched_loop_recovers_and_reschedules(void **state)
{
	struct loop_fixture *f = *state;
	char err[128];
	bool only[2] = {true, false};

	fake_probe_set(PROBE_REFUSED, 0);
	f->s = sched_new(f->base, f->clk, f->r, &f->cfg, SCHED_MODE_SERVE, only,
	    err, sizeof(err));
	assert_non_null(f->s);
	assert_int_equal(sched_start(f->s), 0);
	loop_run_ms(f, 20);
	assert_false(sched_target_is_pass(f->s, 0));
	assert_int_equal(sched_target(f->s, 0)->reason, PROBE_REFUSED);
	fake_probe_set(PROBE_OK, 0);
	loop_run_ms(f, 120);
	assert_true(sched_target_is_pass(f->s, 0));
	assert_true(fake_probe_starts >= 2);
}

static void
test_sched_loop_dependency_down_fails_dependent(void **state)
{
	struct loop_fixture *f = *state;
	size_t dep = 0;
	char err[128];

	f->checks[1].depends_idx = &dep;
	f->checks[1].ndepends = 1;
	f->s = sched_new(f->base, f->clk, f->r, &f->cfg, SCHED_MODE_SERVE, NULL,
	    err, sizeof(err));
	assert_non_null(f->s);
	assert_int_equal(sched_start(f->s), 0);
	loop_run_ms(f, 20);
	assert_int_equal(sched_target(f->s, 1)->shown, VERDICT_PASS);
	fake_probe_set(PROBE_REFUSED, 0); /* both fail now... */
	loop_run_ms(f, 80);
	assert_int_equal(sched_target(f->s, 0)->shown, VERDICT_FAIL);
	assert_int_equal(sched_target(f->s, 1)->shown, VERDICT_FAIL);
	/* ...but the dependent is shown as failing because of check 0 */
	assert_int_equal(sched_target(f->s, 1)->shown_reason, PROBE_DEPENDENCY);
	assert_string_equal(
	    sched_target(f->s, 1)->shown_err, "fake1 is down: refused");
	/* an auth failure is not "down": it does not propagate */
	fake_probe_set(PROBE_AUTH, 0);
	loop_run_ms(f, 80);
	assert_int_equal(sched_target(f->s, 0)->shown_reason, PROBE_AUTH);
	assert_int_equal(sched_target(f->s, 1)->shown_reason, PROBE_AUTH);
	fake_probe_set(PROBE_OK, 0);
	loop_run_ms(f, 80);
	assert_int_equal(sched_target(f->s, 1)->shown, VERDICT_PASS);

	/*
	 * Down again, then back; but the dependent's own logins still fail
	 * (PgBouncer's server_login_retry): it stays failed with its own
	 * reason, though its own state has not reached retries.
	 */
	f->checks[1].retries = 100;
	fake_probe_set(PROBE_REFUSED, 0);
	loop_run_ms(f, 80);
	assert_int_equal(sched_target(f->s, 1)->shown_reason, PROBE_DEPENDENCY);
	fake_probe_set(PROBE_OK, 0);
	fake_probe_set_for("fake2", PROBE_REFUSED);
	loop_run_ms(f, 80);
	assert_int_equal(sched_target(f->s, 0)->shown, VERDICT_PASS);
	assert_int_equal(sched_target(f->s, 1)->state, VERDICT_PASS);
	assert_int_equal(sched_target(f->s, 1)->shown, VERDICT_FAIL);
	assert_int_equal(sched_target(f->s, 1)->shown_reason, PROBE_REFUSED);

	/* a reload (SIGHUP) keeps the dependent waiting for its own success */
	{
		struct sched *n = sched_new(f->base, f->clk, f->r, &f->cfg,
		    SCHED_MODE_SERVE, NULL, err, sizeof(err));
		int64_t started = sched_target(f->s, 1)->started_ms;

		assert_non_null(n);
		assert_int_equal(sched_adopt(n, f->s), 2);
		assert_int_equal(sched_start(n), 0);
		sched_free(f->s);
		f->s = n;
		assert_ptr_equal(sched_target(n, 1)->hold, sched_target(n, 0));
		assert_int_equal(sched_target(n, 1)->started_ms, started);
	}
	loop_run_ms(f, 80);
	assert_int_equal(sched_target(f->s, 1)->state, VERDICT_PASS);
	assert_int_equal(sched_target(f->s, 1)->shown, VERDICT_FAIL);
	assert_int_equal(sched_target(f->s, 1)->shown_reason, PROBE_REFUSED);

	fake_probe_set_for(NULL, PROBE_OK);
	loop_run_ms(f, 80);
	assert_int_equal(sched_target(f->s, 1)->shown, VERDICT_PASS);
	f->checks[1].depends_idx = NULL;
	f->checks[1].ndepends = 0;
}

static void
test_sched_loop_watch_lost_probes_at_once(void **state)
{
	struct loop_fixture *f = *state;
	struct target *t;
	char err[128];
	bool only[2] = {true, false};
	int starts;

	f->checks[0].watch = true;
	f->checks[0].interval_ms = 60000; /* only a lost watch explains more */
	f->checks[0].fast_interval_ms = 10;
	f->s = sched_new(f->base, f->clk, f->r, &f->cfg, SCHED_MODE_SERVE, only,
	    err, sizeof(err));
	assert_non_null(f->s);
	assert_int_equal(sched_start(f->s), 0);
	loop_run_ms(f, 20);
	t = (struct target *)sched_target(f->s, 0);
	assert_int_equal(fake_probe_starts, 1);
	assert_non_null(t->probe->watch);
	fake_probe_lose(t->probe);
	loop_run_ms(f, 20);
	assert_int_equal(fake_probe_starts, 2);
	assert_int_equal(t->stats.watch_drops, 1);
	assert_non_null(t->probe->watch); /* the new connection is watched */
	/*
	 * A failing attempt leaves the watched connection alone: dropping it
	 * first would free the slot a full pool needs to refuse the probe.
	 */
	fake_probe_set(PROBE_SATURATED, 0);
	fake_probe_lose(t->probe);
	loop_run_ms(f, 20);
	assert_int_equal(t->reason, PROBE_SATURATED);
	t->probe->watch = t->probe; /* a stand-in for the kept connection */
	starts = fake_probe_starts;
	loop_run_ms(f, 120); /* fast re-checks, all failing */
	assert_true(fake_probe_starts > starts);
	assert_ptr_equal(t->probe->watch, t->probe);
}

/* A hung server drops nothing; the heartbeat catches it, not the interval. */
static void
test_sched_loop_heartbeat_catches_a_hang(void **state)
{
	struct loop_fixture *f = *state;
	struct target *t;
	char err[128];
	bool only[2] = {true, false};

	f->checks[0].watch = true;
	f->checks[0].interval_ms = 60000; /* a scheduled probe comes late */
	f->checks[0].timeout_ms = 5000;
	f->checks[0].heartbeat_ms = 100;
	f->checks[0].fast_interval_ms = 50;
	f->checks[0].retries = 2;
	f->s = sched_new(f->base, f->clk, f->r, &f->cfg, SCHED_MODE_SERVE, only,
	    err, sizeof(err));
	assert_non_null(f->s);
	assert_int_equal(sched_start(f->s), 0);
	loop_run_ms(f, 10);
	t = (struct target *)sched_target(f->s, 0);
	assert_int_equal(t->state, VERDICT_PASS);
	assert_non_null(t->probe->watch);
	loop_run_ms(f, 350); /* three answered heartbeats, no login */
	assert_int_equal(fake_probe_beats, 3);
	assert_int_equal(fake_probe_starts, 1);
	assert_int_equal(t->beats.n, 3);
	/* the server hangs: heartbeats and logins get no answer */
	fake_probe_set_beat(PROBE_OK, -1);
	fake_probe_set(PROBE_OK, -1);
	loop_run_ms(f, 100); /* the next heartbeat is sent */
	assert_int_equal(fake_probe_beats, 4);
	/* its deadline: 3 x ~0 ms, 1 s at least */
	assert_int_equal(t->beat_deadline_ms, 1000);
	loop_run_ms(f, 1000);
	assert_int_equal(fake_probe_beats_dropped, 1); /* unwatched */
	assert_null(t->probe->watch);
	assert_int_equal(t->reason, PROBE_TIMEOUT);
	assert_non_null(strstr(t->errstr, "heartbeat: no answer"));
	assert_int_equal(t->failures, 1);
	assert_int_equal(t->state, VERDICT_PASS); /* not yet: retries 2 */
	/* the confirming re-check: fast_interval later, a 1 s deadline */
	loop_run_ms(f, 50 + 1000);
	assert_int_equal(t->state, VERDICT_FAIL);
	assert_true(clock_now_ms(f->clk) - 1000000 < 2600); /* not 60 s */
	/* answers again: the hung recovery probe (whole timeout, 5 s) ends,
	 * the next one passes, heartbeats resume */
	fake_probe_set(PROBE_OK, 0);
	fake_probe_set_beat(PROBE_OK, 0);
	loop_run_ms(f, 5000 + 50 + 150);
	assert_int_equal(t->state, VERDICT_PASS);
	assert_non_null(t->probe->watch);
	assert_true(fake_probe_beats > 4);
	/* an error answer to a heartbeat is a failed attempt too */
	fake_probe_set_beat(PROBE_STARTING, 0);
	loop_run_ms(f, 110);
	assert_int_equal(t->stats.failures[PROBE_STARTING], 1);
	f->checks[0].heartbeat_ms = 0;
}

/* wait: a check that passed is probed again; all must pass at once */
static void
test_sched_loop_wait_reprobes_passed_checks(void **state)
{
	struct loop_fixture *f = *state;
	char err[128];
	bool only[2] = {true, false};

	f->s = sched_new(f->base, f->clk, f->r, &f->cfg, SCHED_MODE_WAIT, only,
	    err, sizeof(err));
	assert_non_null(f->s);
	assert_int_equal(sched_start(f->s), 0);
	loop_run_ms(f, 10);
	assert_true(sched_target_is_pass(f->s, 0));
	loop_run_ms(f, 50);
	assert_int_equal(fake_probe_starts, 2); /* probed again */
	fake_probe_set(PROBE_REFUSED, 0);
	loop_run_ms(f, 50);
	/* one failure after a pass: not ready (no retries in wait) */
	assert_false(sched_target_is_pass(f->s, 0));
	fake_probe_set(PROBE_OK, 0);
	loop_run_ms(f, 50);
	assert_true(sched_target_is_pass(f->s, 0));
}

/*
 * The generation: every change a body shows but the per-attempt figures,
 * and nothing else; the figures: an attempt that changed nothing else.
 */
static void
test_sched_loop_generation_follows_changes(void **state)
{
	struct loop_fixture *f = *state;
	char err[128];
	bool only[2] = {true, false};
	uint64_t g, fig, n;
	struct target *t;

	f->checks[0].retries = 1;
	f->checks[0].interval_ms = 1000;
	f->s = sched_new(f->base, f->clk, f->r, &f->cfg, SCHED_MODE_SERVE, only,
	    err, sizeof(err));
	assert_non_null(f->s);
	assert_int_equal(sched_generation(f->s), 0);
	assert_int_equal(sched_start(f->s), 0);
	loop_run_ms(f, 10);
	t = (struct target *)sched_target(f->s, 0);
	g = sched_generation(f->s);
	assert_true(g > 0); /* first attempt, starting -> pass */
	sched_refresh(f->s);
	assert_int_equal(sched_generation(f->s), g); /* nothing new */
	/* the same outcome again: only the figures (latency, last check) */
	n = t->stats.attempts;
	fig = sched_figures(f->s);
	loop_run_ms(f, 1100);
	assert_true(t->stats.attempts > n);
	assert_true(sched_figures(f->s) > fig);
	assert_int_equal(sched_generation(f->s), g);
	fake_probe_set(PROBE_REFUSED, 0);
	loop_run_ms(f, 1100); /* the interval, +-5% jitter */
	assert_int_equal(t->shown, VERDICT_FAIL); /* state */
	assert_true(sched_generation(f->s) > g);
	g = sched_generation(f->s);
	fake_probe_set(PROBE_TIMEOUT, 0); /* reason (and text) */
	loop_run_ms(f, 60);
	assert_int_equal(t->shown_reason, PROBE_TIMEOUT);
	assert_true(sched_generation(f->s) > g);
	g = sched_generation(f->s);
	sched_refresh(f->s);
	assert_int_equal(sched_generation(f->s), g);
	/* the same failure again: the failures in a row, shown in /ready */
	n = (uint64_t)t->failures;
	loop_run_ms(f, 60);
	assert_true((uint64_t)t->failures > n);
	assert_true(sched_generation(f->s) > g);
	g = sched_generation(f->s);
	fake_probe_set(PROBE_OK, 0);
	loop_run_ms(f, 60);
	assert_int_equal(t->shown, VERDICT_PASS);
	assert_true(sched_generation(f->s) > g);
}

/* A dependency is a presumption: the dependent's own success wins. */
static void
test_sched_loop_dependency_is_a_presumption(void **state)
{
	struct loop_fixture *f = *state;
	size_t dep = 0;
	char err[128];
	const struct target *t;

	f->checks[1].depends_idx = &dep;
	f->checks[1].ndepends = 1;
	f->checks[1].interval_ms = 60000; /* only a re-probe explains more */
	f->s = sched_new(f->base, f->clk, f->r, &f->cfg, SCHED_MODE_SERVE, NULL,
	    err, sizeof(err));
	assert_non_null(f->s);
	assert_int_equal(sched_start(f->s), 0);
	loop_run_ms(f, 10);
	t = sched_target(f->s, 1);
	assert_int_equal(t->shown, VERDICT_PASS);
	/* the dependency fails; the dependent (PgBouncer) still serves */
	fake_probe_set_for("fake1", PROBE_TIMEOUT);
	loop_run_ms(f, 50 + 100 + 50 + 100 + 5);
	assert_int_equal(sched_target(f->s, 0)->shown, VERDICT_FAIL);
	/* presumed down, re-probed at once, its own success wins */
	assert_true(fake_probe_starts >= 4);
	assert_int_equal(t->shown, VERDICT_PASS);
	assert_null(t->hold);
	assert_int_equal(sched_target(f->s, 0)->shown, VERDICT_FAIL);
	fake_probe_set_for(NULL, PROBE_OK);
	f->checks[1].depends_idx = NULL;
	f->checks[1].ndepends = 0;
}

static void
test_sched_loop_watch_lost_waits_fast_interval(void **state)
{
	struct loop_fixture *f = *state;
	struct target *t;
	char err[128];
	bool only[2] = {true, false};

	f->checks[0].watch = true;
	f->checks[0].interval_ms = 60000;
	f->checks[0].fast_interval_ms = 300;
	f->s = sched_new(f->base, f->clk, f->r, &f->cfg, SCHED_MODE_SERVE, only,
	    err, sizeof(err));
	assert_non_null(f->s);
	assert_int_equal(sched_start(f->s), 0);
	loop_run_ms(f, 20);
	t = (struct target *)sched_target(f->s, 0);
	assert_int_equal(fake_probe_starts, 1);
	/* closed right after a login: not another login at once... */
	fake_probe_lose(t->probe);
	loop_run_ms(f, 100);
	assert_int_equal(fake_probe_starts, 1);
	assert_int_equal(t->stats.watch_drops, 1);
	/* ...but fast_interval after the last attempt started */
	loop_run_ms(f, 400);
	assert_int_equal(fake_probe_starts, 2);
}

static void
test_sched_loop_counts_for_metrics(void **state)
{
	struct loop_fixture *f = *state;
	const struct target *t;
	char err[128];
	bool only[2] = {true, false};

	fake_probe_set(PROBE_TIMEOUT, 0);
	f->s = sched_new(f->base, f->clk, f->r, &f->cfg, SCHED_MODE_SERVE, only,
	    err, sizeof(err));
	assert_non_null(f->s);
	assert_int_equal(sched_start(f->s), 0);
	loop_run_ms(f, 20);
	fake_probe_set(PROBE_OK, 0);
	loop_run_ms(f, 80);
	t = sched_target(f->s, 0);
	assert_true(t->stats.attempts >= 2);
	assert_int_equal(t->stats.failures[PROBE_TIMEOUT], 1);
	assert_true(t->stats.last_success > 0);
	assert_int_equal(t->stats.transitions, 2); /* fail, then pass */
	assert_true(t->stats.buckets[0] >= 1);
}

/* The JSON body of check 0 through the cache, as http.c serves it. */
static char *
cached_body(struct sched *s, struct http_cache *c)
{
	struct render_check view;
	struct render_view rv = {&view, 1, VERDICT_STATUS_PASS};
	struct evbuffer *b = evbuffer_new();
	struct http_cache_stamp at = {.gen = sched_generation(s),
	    .figures = sched_figures(s),
	    .now_ms = clock_mono_ms()};
	size_t n;
	char *text;

	assert_non_null(b);
	if (!http_cache_get(c, "ready 0 1 0 ", &at, b)) {
		sched_view(s, 0, true, &view);
		assert_int_equal(render_json(&rv, b), 0);
		http_cache_put(c, "ready 0 1 0 ", &at, b);
	}
	n = evbuffer_get_length(b);
	text = calloc(1, n + 1);
	assert_non_null(text);
	evbuffer_copyout(b, text, n);
	evbuffer_free(b);
	return text;
}

/*
 * A passing check with findings shows warn (reason: the first finding's,
 * output: the texts), a change of its findings is never served from a
 * cached body, and a failure or a clean attempt clears them.
 */
static void
test_sched_loop_findings_warn_and_cache(void **state)
{
	struct loop_fixture *f = *state;
	struct http_cache *cache = http_cache_new();
	const struct target *t;
	struct render_check view;
	char err[128], *body;
	bool only[2] = {true, false};
	uint64_t g;

	assert_non_null(cache);
	f->checks[0].interval_ms = 1000;
	fake_probe_set_finding(PROBE_DRIFT, "pool_mode",
	    "pool_mode is session (expected transaction)");
	fake_probe_set_gauge(3);
	fake_probe_set_skip("admin");
	f->s = sched_new(f->base, f->clk, f->r, &f->cfg, SCHED_MODE_SERVE, only,
	    err, sizeof(err));
	assert_non_null(f->s);
	assert_int_equal(sched_start(f->s), 0);
	loop_run_ms(f, 10);
	t = sched_target(f->s, 0);
	assert_int_equal(t->state, VERDICT_PASS); /* its own state */
	assert_int_equal(t->shown, VERDICT_WARN);
	assert_int_equal(t->shown_reason, PROBE_DRIFT);
	assert_string_equal(
	    t->shown_err, "pool_mode is session (expected transaction)");
	sched_view(f->s, 0, true, &view);
	assert_int_equal(view.state, VERDICT_WARN);
	assert_int_equal(view.nfindings, 1);
	assert_string_equal(view.findings[0].key, "pool_mode");
	assert_non_null(view.output);
	assert_int_equal(view.ngauges, 1);
	assert_true(view.gauges[0].value == 3);
	sched_view(f->s, 0, false, &view); /* details hidden */
	assert_null(view.output);
	assert_false(view.finding_texts);
	assert_int_equal(view.nfindings, 1);
	assert_int_equal(t->nskips_logged, 1);
	body = cached_body(f->s, cache);
	assert_non_null(strstr(body, "\"status\": \"warn\""));
	assert_non_null(strstr(body, "pool_mode is session"));
	free(body);
	g = sched_generation(f->s);
	sched_refresh(f->s);
	assert_int_equal(sched_generation(f->s), g); /* nothing new */

	/* the text changes, the state does not: a new body */
	fake_probe_set_finding(
	    PROBE_SATURATED, "pool", "pool full: cl_waiting=2 maxwait=3s");
	loop_run_ms(f, 1100);
	assert_int_equal(t->shown, VERDICT_WARN);
	assert_int_equal(t->shown_reason, PROBE_SATURATED);
	assert_true(sched_generation(f->s) > g);
	body = cached_body(f->s, cache);
	assert_null(strstr(body, "pool_mode is session"));
	assert_non_null(strstr(body, "cl_waiting=2 maxwait=3s"));
	free(body);
	assert_int_equal(t->nskips_logged, 1); /* logged once */

	/* a failure shows the failure, without the old findings */
	fake_probe_set(PROBE_REFUSED, 0);
	loop_run_ms(f, 1100);
	assert_int_equal(t->shown, VERDICT_FAIL);
	assert_int_equal(t->nfindings, 0);
	assert_int_equal(t->ngauges, 0);
	body = cached_body(f->s, cache);
	assert_null(strstr(body, "cl_waiting"));
	assert_non_null(strstr(body, "\"status\": \"fail\""));
	free(body);

	/* back, clean: pass */
	fake_probe_set(PROBE_OK, 0);
	fake_probe_set_finding(PROBE_OK, NULL, NULL);
	loop_run_ms(f, 100);
	assert_int_equal(t->shown, VERDICT_PASS);
	assert_int_equal(t->shown_reason, PROBE_OK);
	body = cached_body(f->s, cache);
	assert_non_null(strstr(body, "\"status\": \"pass\""));
	assert_null(strstr(body, "findings"));
	free(body);
	http_cache_free(cache);
}

/* Once and wait judge a check's own outcome: findings warn there too. */
static void
test_sched_loop_once_findings_warn(void **state)
{
	struct loop_fixture *f = *state;
	struct verdict_set set = {0};
	struct verdict v;
	char err[128];

	fake_probe_set_finding(PROBE_DRIFT, "pool_mode", "drifted");
	f->s = sched_new(f->base, f->clk, f->r, &f->cfg, SCHED_MODE_ONCE, NULL,
	    err, sizeof(err));
	assert_non_null(f->s);
	assert_int_equal(sched_start(f->s), 0);
	loop_run_ms(f, 10);
	assert_int_equal(sched_judge(f->s, &set, &v), 0);
	assert_int_equal(v.status, VERDICT_STATUS_WARN);
	assert_true(verdict_status_is_ready(v.status));
	verdict_free(&v);
}

/* readyd_sched_lag_seconds: how late attempt and heartbeat timers fire */
static void
test_sched_loop_lag_histogram(void **state)
{
	struct loop_fixture *f = *state;
	const struct render_lag *lag;
	struct sched *s2;
	char err[128];
	bool only[2] = {true, false};
	uint64_t n0, beats0;

	f->checks[0].watch = true;
	f->checks[0].heartbeat_ms = 20;
	f->s = sched_new(f->base, f->clk, f->r, &f->cfg, SCHED_MODE_SERVE, only,
	    err, sizeof(err));
	assert_non_null(f->s);
	lag = sched_lag(f->s);
	assert_int_equal(lag->count, 0);
	assert_int_equal(sched_start(f->s), 0);
	loop_run_ms(f, 10); /* the first attempt's timer, on time */
	assert_int_equal(fake_probe_starts, 1);
	assert_int_equal(lag->count, 1);
	assert_int_equal(lag->buckets[0], 1); /* le 0.001 */
	assert_true(lag->sum == 0);
	/* a busy loop: every timer fires 30 ms late */
	clock_set_late(f->clk, 30);
	beats0 = (uint64_t)fake_probe_beats;
	loop_run_ms(f, 1000);
	assert_true(fake_probe_starts > 1);
	assert_true((uint64_t)fake_probe_beats > beats0); /* beats count too */
	n0 = lag->count;
	assert_true(n0 >= (uint64_t)fake_probe_starts + fake_probe_beats);
	assert_int_equal(lag->buckets[0], 1);
	for (size_t b = 1; b <= RENDER_LAG_BUCKETS; b++)
		if (b != 4) /* (0.025, 0.05] */
			assert_int_equal(lag->buckets[b], 0);
	assert_int_equal(lag->buckets[4], n0 - 1);
	assert_true(lag->sum > 0.030 * (double)(n0 - 1) - 1e-6);
	assert_true(lag->sum < 0.030 * (double)(n0 - 1) + 1e-6);
	/* a reload keeps the histogram (a counter since start-up) */
	s2 = sched_new(f->base, f->clk, f->r, &f->cfg, SCHED_MODE_SERVE, only,
	    err, sizeof(err));
	assert_non_null(s2);
	sched_adopt(s2, f->s);
	assert_int_equal(sched_lag(s2)->count, n0);
	/* the generation goes on: cached bodies of f->s never match s2 */
	assert_true(sched_generation(s2) > sched_generation(f->s));
	assert_true(sched_figures(s2) > sched_figures(f->s));
	assert_true(sched_lag(s2)->sum == lag->sum);
	sched_free(f->s);
	f->s = s2;
	clock_set_late(f->clk, 0);
	f->checks[0].heartbeat_ms = 0;
}

/*
 * The body cache (http_cache) keys on the generation: it must also change
 * when what /ready shows changes with no attempt ending: a watched
 * connection lost, a verdict gone stale (a busy loop: every timer late),
 * a dependent presumed down by its dependency.
 */
static void
test_sched_loop_generation_without_attempts(void **state)
{
	struct loop_fixture *f = *state;
	struct target *t, *dep;
	char err[128];
	uint64_t g, n;
	size_t one = 0;

	f->checks[0].watch = true;
	f->checks[0].interval_ms = 1000;
	f->checks[0].timeout_ms = 500;
	f->checks[0].retries = 1;
	f->checks[1].interval_ms = 60000;
	f->checks[1].depends_idx = &one;
	f->checks[1].ndepends = 1;
	f->checks[1].depends_idx[0] = 0;
	f->s = sched_new(f->base, f->clk, f->r, &f->cfg, SCHED_MODE_SERVE, NULL,
	    err, sizeof(err));
	assert_non_null(f->s);
	assert_int_equal(sched_start(f->s), 0);
	loop_run_ms(f, 10);
	t = (struct target *)sched_target(f->s, 0);
	dep = (struct target *)sched_target(f->s, 1);
	assert_int_equal(t->shown, VERDICT_PASS);
	assert_int_equal(dep->shown, VERDICT_PASS);
	assert_non_null(t->probe->watch);

	/* a watched connection lost: the generation moves at once */
	g = sched_generation(f->s);
	n = t->stats.attempts;
	fake_probe_lose(t->probe);
	assert_true(sched_generation(f->s) > g);
	assert_int_equal(t->stats.attempts, n);
	loop_run_ms(f, 10);

	/* stale: the loop was busy for a minute; the tick sees it first */
	fake_probe_set(PROBE_OK, -1); /* and nothing answers any more */
	g = sched_generation(f->s);
	n = t->stats.attempts;
	clock_set_late(f->clk, 60000);
	loop_run_ms(f, 61100);
	clock_set_late(f->clk, 0);
	assert_int_equal(t->stats.attempts, n); /* no attempt ended */
	assert_int_equal(t->shown, VERDICT_FAIL);
	assert_int_equal(t->shown_reason, PROBE_STALE);
	assert_true(sched_generation(f->s) > g);
	/* ...and its dependent is presumed down in the same refresh */
	assert_int_equal(dep->shown, VERDICT_FAIL);
	assert_int_equal(dep->shown_reason, PROBE_DEPENDENCY);
	fake_probe_set(PROBE_OK, 0);
	f->checks[1].depends_idx = NULL;
	f->checks[1].ndepends = 0;
}

#define LOOP_TEST(f) \
	cmocka_unit_test_setup_teardown(f, loop_setup, loop_teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_sched_one_success_passes),
	    cmocka_unit_test(test_sched_retries_failures_fail),
	    cmocka_unit_test(test_sched_success_resets_failures),
	    cmocka_unit_test(test_sched_never_passed_fails_after_retries),
	    cmocka_unit_test(test_sched_start_period_failures_do_not_count),
	    cmocka_unit_test(test_sched_start_period_ends_on_success),
	    cmocka_unit_test(test_sched_delays_follow_state),
	    cmocka_unit_test(test_sched_once_mode_first_failure_decides),
	    cmocka_unit_test(test_sched_rise_needs_successes_after_fail),
	    cmocka_unit_test(test_sched_fast_interval_after_failure),
	    cmocka_unit_test(test_sched_compose_exact_timings),
	    cmocka_unit_test(test_sched_recheck_deadline_is_short),
	    cmocka_unit_test(test_sched_latency_deadline),
	    cmocka_unit_test(test_sched_jitter_within_five_percent),
	    cmocka_unit_test(test_sched_stale_after_interval_timeout_margin),
	    LOOP_TEST(test_sched_loop_first_probe_at_start),
	    LOOP_TEST(test_sched_loop_deadline_cancels_hung_attempt),
	    LOOP_TEST(test_sched_loop_recovers_and_reschedules),
	    LOOP_TEST(test_sched_loop_dependency_down_fails_dependent),
	    LOOP_TEST(test_sched_loop_watch_lost_probes_at_once),
	    LOOP_TEST(test_sched_loop_heartbeat_catches_a_hang),
	    LOOP_TEST(test_sched_loop_wait_reprobes_passed_checks),
	    LOOP_TEST(test_sched_loop_dependency_is_a_presumption),
	    LOOP_TEST(test_sched_loop_generation_follows_changes),
	    LOOP_TEST(test_sched_loop_watch_lost_waits_fast_interval),
	    LOOP_TEST(test_sched_loop_counts_for_metrics),
	    LOOP_TEST(test_sched_loop_findings_warn_and_cache),
	    LOOP_TEST(test_sched_loop_once_findings_warn),
	    LOOP_TEST(test_sched_loop_lag_histogram),
	    LOOP_TEST(test_sched_loop_generation_without_attempts),
	};

	log_set_level(LOG_LEVEL_ERROR);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
