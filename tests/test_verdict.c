/* SPDX-License-Identifier: MIT */
/*
 * Verdict tests: sets (all, a group, one check, exclusions), required and
 * named checks, Retry-After and draining.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdbool.h>
#include <string.h>

#include "verdict.h"

static const struct verdict_check checks[] = {
    {"postgres", VERDICT_PASS, true, 30000},
    {"redis-celery", VERDICT_FAIL, true, 4000},
    {"redis-cache", VERDICT_STARTING, false, 1500},
    {"pgbouncer", VERDICT_FAIL, true, 2500},
};

#define NCHECKS (sizeof(checks) / sizeof(checks[0]))

static void
test_verdict_all_fails_on_required(void **state)
{
	struct verdict_set set = {0};
	struct verdict v;

	(void)state;
	assert_int_equal(verdict_eval(checks, NCHECKS, &set, &v), 0);
	assert_int_equal(v.status, VERDICT_STATUS_FAIL);
	assert_false(verdict_status_is_ready(v.status));
	assert_int_equal(v.nmembers, 4);
	assert_int_equal(v.nnotpass, 3); /* informational ones listed too */
	assert_int_equal(v.notpass[0], 1);
	assert_int_equal(v.notpass[1], 2);
	assert_int_equal(v.notpass[2], 3);
	/* the soonest counted failure: not the informational 1.5 s */
	assert_int_equal(v.retry_ms, 2500);
	assert_int_equal(verdict_retry_after_s(&v), 3);
	verdict_free(&v);
}

static void
test_verdict_group_in_its_order(void **state)
{
	size_t group[] = {2, 0};
	struct verdict_set set = {.idx = group, .nidx = 2};
	struct verdict v;

	(void)state;
	assert_int_equal(verdict_eval(checks, NCHECKS, &set, &v), 0);
	/* redis-cache is not required: the group is ready */
	assert_int_equal(v.status, VERDICT_STATUS_PASS);
	assert_true(verdict_status_is_ready(v.status));
	assert_int_equal(v.retry_ms, -1);
	assert_int_equal(v.nmembers, 2);
	assert_int_equal(v.members[0], 2);
	assert_int_equal(v.members[1], 0);
	assert_int_equal(v.nnotpass, 1);
	verdict_free(&v);
}

static void
test_verdict_named_check_counts_unrequired(void **state)
{
	size_t one = 2;
	bool named[NCHECKS] = {false, false, true, false};
	struct verdict_set set = {.idx = &one, .nidx = 1, .named = named};
	struct verdict v;

	(void)state;
	assert_int_equal(verdict_eval(checks, NCHECKS, &set, &v), 0);
	assert_int_equal(v.status, VERDICT_STATUS_FAIL);
	assert_int_equal(v.retry_ms, 1500);
	assert_int_equal(verdict_retry_after_s(&v), 2);
	verdict_free(&v);
}

static void
test_verdict_exclusions_leave_checks_out(void **state)
{
	char celery[] = "redis-celery", pgb[] = "pgbouncer";
	char *excl[] = {celery, pgb};
	struct verdict_set set = {.excl = excl, .nexcl = 2};
	struct verdict v;

	(void)state;
	assert_int_equal(verdict_eval(checks, NCHECKS, &set, &v), 0);
	assert_int_equal(v.status, VERDICT_STATUS_PASS);
	assert_int_equal(v.nmembers, 2);
	assert_int_equal(v.members[0], 0);
	assert_int_equal(v.members[1], 2);
	verdict_free(&v);
}

static void
test_verdict_draining_is_not_ready(void **state)
{
	size_t one = 0;
	struct verdict_set set = {.idx = &one, .nidx = 1, .draining = true};
	struct verdict v;

	(void)state;
	assert_int_equal(verdict_eval(checks, NCHECKS, &set, &v), 0);
	assert_int_equal(v.status, VERDICT_STATUS_FAIL);
	assert_int_equal(v.retry_ms, 1000);
	assert_int_equal(verdict_retry_after_s(&v), 1);
	assert_int_equal(v.nnotpass, 0);
	verdict_free(&v);
}

static void
test_verdict_empty_set_is_ready(void **state)
{
	struct verdict_set set = {0};
	struct verdict v;

	(void)state;
	assert_int_equal(verdict_eval(NULL, 0, &set, &v), 0);
	assert_int_equal(v.status, VERDICT_STATUS_PASS);
	assert_int_equal(v.nmembers, 0);
	verdict_free(&v);
}

static void
test_verdict_retry_rounds_up_to_seconds(void **state)
{
	struct verdict v = {.retry_ms = 0};

	(void)state;
	assert_int_equal(verdict_retry_after_s(&v), 1);
	v.retry_ms = 1000;
	assert_int_equal(verdict_retry_after_s(&v), 1);
	v.retry_ms = 1001;
	assert_int_equal(verdict_retry_after_s(&v), 2);
}

static void
test_verdict_names(void **state)
{
	(void)state;
	assert_string_equal(verdict_state_name(VERDICT_STARTING), "starting");
	assert_string_equal(verdict_state_name(VERDICT_PASS), "pass");
	assert_string_equal(verdict_state_name(VERDICT_FAIL), "fail");
	assert_string_equal(verdict_state_name(VERDICT_STATE_COUNT), "unknown");
	assert_string_equal(verdict_status_name(VERDICT_STATUS_PASS), "pass");
	assert_string_equal(verdict_status_name(VERDICT_STATUS_FAIL), "fail");
	assert_string_equal(verdict_status_name(VERDICT_STATUS_WARN), "warn");
	assert_string_equal(
	    verdict_status_name(VERDICT_STATUS_COUNT), "unknown");
}

/* The shipped default: postgres in no group, the others in groups. */
static const struct verdict_check shipped[] = {
    {"postgres", VERDICT_FAIL, true, 1000},
    {"pgbouncer", VERDICT_PASS, true, 30000},
    {"redis-cache", VERDICT_PASS, true, 30000},
    {"optional", VERDICT_PASS, false, 30000},
};

#define NSHIPPED (sizeof(shipped) / sizeof(shipped[0]))
#define SHIPPED_GROUPED                 \
	{                               \
		false, true, true, true \
	}

static void
test_verdict_all_warns_on_check_in_no_group(void **state)
{
	bool grouped[NSHIPPED] = SHIPPED_GROUPED;
	struct verdict_set set = {.grouped = grouped};
	struct verdict v;

	(void)state;
	assert_int_equal(verdict_eval(shipped, NSHIPPED, &set, &v), 0);
	assert_int_equal(v.status, VERDICT_STATUS_WARN);
	assert_true(verdict_status_is_ready(v.status));
	assert_int_equal(v.retry_ms, -1);
	assert_int_equal(v.nwarn, 1);
	assert_int_equal(v.nnotpass, 1);
	assert_int_equal(v.notpass[0], 0);
	assert_false(v.counts[0]);
	assert_true(v.counts[1]);
	assert_true(v.counts[2]);
	assert_false(v.counts[3]); /* not required */
	verdict_free(&v);
}

static void
test_verdict_all_without_groups_counts_required(void **state)
{
	struct verdict_set set = {0};
	struct verdict v;

	(void)state;
	assert_int_equal(verdict_eval(shipped, NSHIPPED, &set, &v), 0);
	assert_int_equal(v.status, VERDICT_STATUS_FAIL);
	assert_int_equal(v.retry_ms, 1000);
	assert_int_equal(v.nwarn, 0);
	assert_true(v.counts[0]);
	verdict_free(&v);
}

static void
test_verdict_group_warns_on_unrequired_failure(void **state)
{
	struct verdict_check cs[NSHIPPED];
	bool grouped[NSHIPPED] = SHIPPED_GROUPED;
	size_t group[] = {1, 3};
	struct verdict_set set = {.idx = group, .nidx = 2, .grouped = grouped};
	struct verdict v;

	(void)state;
	memcpy(cs, shipped, sizeof(cs));
	cs[3].state = VERDICT_FAIL;
	assert_int_equal(verdict_eval(cs, NSHIPPED, &set, &v), 0);
	assert_int_equal(v.status, VERDICT_STATUS_WARN);
	assert_int_equal(v.nwarn, 1);
	verdict_free(&v);
	/* a group's required member counts, grouped or not */
	group[1] = 0;
	assert_int_equal(verdict_eval(cs, NSHIPPED, &set, &v), 0);
	assert_int_equal(v.status, VERDICT_STATUS_FAIL);
	assert_true(v.counts[1]);
	verdict_free(&v);
	/* a counted failure wins over a warning */
	memcpy(cs, shipped, sizeof(cs));
	cs[3].state = VERDICT_FAIL;
	cs[1].state = VERDICT_FAIL;
	set.idx = NULL;
	assert_int_equal(verdict_eval(cs, NSHIPPED, &set, &v), 0);
	assert_int_equal(v.status, VERDICT_STATUS_FAIL);
	assert_int_equal(v.nwarn, 2);
	verdict_free(&v);
}

static void
test_verdict_named_check_fails_even_in_no_group(void **state)
{
	bool grouped[NSHIPPED] = SHIPPED_GROUPED;
	bool named[NSHIPPED] = {true, false, false, false};
	size_t one = 0;
	struct verdict_set set = {
	    .idx = &one, .nidx = 1, .named = named, .grouped = grouped};
	struct verdict v;

	(void)state;
	assert_int_equal(verdict_eval(shipped, NSHIPPED, &set, &v), 0);
	assert_int_equal(v.status, VERDICT_STATUS_FAIL);
	assert_true(v.counts[0]);
	verdict_free(&v);
}

static void
test_verdict_starting_unneeded_is_no_warning(void **state)
{
	struct verdict_check cs[NSHIPPED];
	bool grouped[NSHIPPED] = SHIPPED_GROUPED;
	struct verdict_set set = {.grouped = grouped};
	struct verdict v;

	(void)state;
	memcpy(cs, shipped, sizeof(cs));
	cs[0].state = VERDICT_STARTING;
	assert_int_equal(verdict_eval(cs, NSHIPPED, &set, &v), 0);
	assert_int_equal(v.status, VERDICT_STATUS_PASS);
	assert_int_equal(v.nwarn, 0);
	verdict_free(&v);
	/* draining beats a warning */
	cs[0].state = VERDICT_FAIL;
	set.draining = true;
	assert_int_equal(verdict_eval(cs, NSHIPPED, &set, &v), 0);
	assert_int_equal(v.status, VERDICT_STATUS_FAIL);
	verdict_free(&v);
}

/* A member in state warn (pass with findings) is ready, with a warning. */
static void
test_verdict_warn_member_is_ready_with_warning(void **state)
{
	struct verdict_check cs[] = {
	    {"postgres", VERDICT_PASS, true, 30000},
	    {"pgbouncer", VERDICT_WARN, true, 30000},
	};
	struct verdict_set set = {0};
	struct verdict v;

	(void)state;
	assert_true(verdict_state_is_up(VERDICT_WARN));
	assert_true(verdict_state_is_up(VERDICT_PASS));
	assert_false(verdict_state_is_up(VERDICT_FAIL));
	assert_false(verdict_state_is_up(VERDICT_STARTING));
	assert_string_equal(verdict_state_name(VERDICT_WARN), "warn");
	assert_int_equal(verdict_eval(cs, 2, &set, &v), 0);
	assert_int_equal(v.status, VERDICT_STATUS_WARN);
	assert_true(verdict_status_is_ready(v.status));
	assert_int_equal(v.nnotpass, 0); /* it serves */
	assert_int_equal(v.nwarn, 1);
	assert_int_equal(v.retry_ms, -1);
	verdict_free(&v);
	/* a counted failure still decides */
	cs[0].state = VERDICT_FAIL;
	assert_int_equal(verdict_eval(cs, 2, &set, &v), 0);
	assert_int_equal(v.status, VERDICT_STATUS_FAIL);
	verdict_free(&v);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_verdict_all_fails_on_required),
	    cmocka_unit_test(test_verdict_group_in_its_order),
	    cmocka_unit_test(test_verdict_named_check_counts_unrequired),
	    cmocka_unit_test(test_verdict_exclusions_leave_checks_out),
	    cmocka_unit_test(test_verdict_draining_is_not_ready),
	    cmocka_unit_test(test_verdict_empty_set_is_ready),
	    cmocka_unit_test(test_verdict_retry_rounds_up_to_seconds),
	    cmocka_unit_test(test_verdict_names),
	    cmocka_unit_test(test_verdict_all_warns_on_check_in_no_group),
	    cmocka_unit_test(test_verdict_all_without_groups_counts_required),
	    cmocka_unit_test(test_verdict_group_warns_on_unrequired_failure),
	    cmocka_unit_test(test_verdict_named_check_fails_even_in_no_group),
	    cmocka_unit_test(test_verdict_starting_unneeded_is_no_warning),
	    cmocka_unit_test(test_verdict_warn_member_is_ready_with_warning),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
