/* SPDX-License-Identifier: MIT */
/*
 * Clock tests: the fake clock's time and the order its timers run in, the
 * real clock's conversions.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "clock.h"

#include <event2/event.h>
#include <string.h>

struct seen {
	struct clock *c;
	char order[16];
	size_t n;
	int64_t at_ms[16];
	struct clock_timer *again; /* re-armed by the callback, or NULL */
};

static struct seen seen;

/* The timers' names, writable as a callback argument must be. */
static struct {
	char a[2], b[2], z[2], n[2], r[2], x[2];
} names = {"a", "b", "z", "n", "r", "x"};

static void
record_cb(void *arg)
{
	const char *name = arg;

	seen.at_ms[seen.n] = clock_now_ms(seen.c);
	seen.order[seen.n++] = name[0];
	if (seen.again != NULL && name[0] == 'r' &&
	    clock_timer_add(seen.again, 0) != 0)
		fail();
}

static void
test_clock_fake_time_moves_only_when_advanced(void **state)
{
	struct clock *c = clock_new_fake(5000, 1795758000);

	(void)state;
	assert_non_null(c);
	assert_int_equal(clock_now_ms(c), 5000);
	assert_int_equal(clock_now_us(c), 5000000);
	assert_int_equal(clock_wall(c), 1795758000);
	clock_advance(c, 2500);
	assert_int_equal(clock_now_ms(c), 7500);
	assert_int_equal(clock_wall(c), 1795758002);
	clock_free(c);
}

static void
test_clock_fake_timers_run_in_due_order(void **state)
{
	struct clock *c = clock_new_fake(0, 0);
	struct clock_timer *a, *b, *z, *never;

	(void)state;
	memset(&seen, 0, sizeof(seen));
	seen.c = c;
	a = clock_timer_new(c, record_cb, (void *)names.a);
	b = clock_timer_new(c, record_cb, (void *)names.b);
	z = clock_timer_new(c, record_cb, (void *)names.z);
	never = clock_timer_new(c, record_cb, (void *)names.n);
	assert_int_equal(clock_timer_add(b, 30), 0);
	assert_int_equal(clock_timer_add(a, 10), 0);
	assert_int_equal(clock_timer_add(z, 10), 0); /* a tie: armed later */
	assert_int_equal(clock_timer_add(never, 10), 0);
	clock_timer_del(never);
	clock_advance(c, 20);
	assert_int_equal(seen.n, 2);
	assert_memory_equal(seen.order, "az", 2);
	assert_int_equal(seen.at_ms[0], 10); /* the clock reads the due time */
	clock_advance(c, 20);
	assert_int_equal(seen.n, 3);
	assert_int_equal(seen.order[2], 'b');
	assert_int_equal(seen.at_ms[2], 30);
	assert_int_equal(clock_now_ms(c), 40);
	clock_timer_free(a);
	clock_timer_free(b);
	clock_timer_free(z);
	clock_timer_free(never);
	clock_free(c);
}

static void
test_clock_fake_timer_armed_in_callback_runs(void **state)
{
	struct clock *c = clock_new_fake(0, 0);
	struct clock_timer *r, *x;

	(void)state;
	memset(&seen, 0, sizeof(seen));
	seen.c = c;
	r = clock_timer_new(c, record_cb, (void *)names.r);
	x = clock_timer_new(c, record_cb, (void *)names.x);
	seen.again = x;
	assert_int_equal(clock_timer_add(r, 5), 0);
	clock_advance(c, 5);
	assert_int_equal(seen.n, 2);
	assert_memory_equal(seen.order, "rx", 2);
	assert_int_equal(seen.at_ms[1], 5);
	clock_timer_free(r);
	clock_timer_free(x);
	clock_free(c);
}

static void
test_clock_tv_converts_ms(void **state)
{
	struct timeval tv = clock_tv(61234);

	(void)state;
	assert_int_equal(tv.tv_sec, 61);
	assert_int_equal(tv.tv_usec, 234000);
	tv = clock_tv(-5);
	assert_int_equal(tv.tv_sec, 0);
	assert_int_equal(tv.tv_usec, 0);
}

static void
test_clock_real_reads_the_monotonic_clock(void **state)
{
	struct event_base *base = event_base_new();
	struct clock *c = clock_new(base);
	int64_t before = clock_mono_ms();
	int64_t now = clock_now_ms(c);

	(void)state;
	assert_true(now >= before);
	assert_true(now - before < 1000);
	clock_free(c);
	event_base_free(base);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_clock_fake_time_moves_only_when_advanced),
	    cmocka_unit_test(test_clock_fake_timers_run_in_due_order),
	    cmocka_unit_test(test_clock_fake_timer_armed_in_callback_runs),
	    cmocka_unit_test(test_clock_tv_converts_ms),
	    cmocka_unit_test(test_clock_real_reads_the_monotonic_clock),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
