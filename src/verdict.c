/* SPDX-License-Identifier: MIT */
/*
 * The verdict over a set of checks: one rule for /ready, /ready/NAME,
 * /metrics, once, wait and systemd's STATUS=.
 * Owns: nothing beyond the arrays of a struct verdict it fills.
 */
#include "verdict.h"

#include <stdlib.h>
#include <string.h>

static const char *const verdict_state_names[VERDICT_STATE_COUNT] = {
    [VERDICT_STARTING] = "starting",
    [VERDICT_PASS] = "pass",
    [VERDICT_FAIL] = "fail",
    [VERDICT_WARN] = "warn",
};

static const char *const verdict_status_names[VERDICT_STATUS_COUNT] = {
    [VERDICT_STATUS_PASS] = "pass",
    [VERDICT_STATUS_FAIL] = "fail",
    [VERDICT_STATUS_WARN] = "warn",
};

/* While draining, ask again in a second. */
#define VERDICT_DRAIN_RETRY_MS 1000

const char *
verdict_state_name(enum verdict_state st)
{
	if ((unsigned)st >= VERDICT_STATE_COUNT)
		return "unknown";
	return verdict_state_names[st];
}

const char *
verdict_status_name(enum verdict_status st)
{
	if ((unsigned)st >= VERDICT_STATUS_COUNT)
		return "unknown";
	return verdict_status_names[st];
}

bool
verdict_state_is_up(enum verdict_state st)
{
	return st == VERDICT_PASS || st == VERDICT_WARN;
}

bool
verdict_status_is_ready(enum verdict_status st)
{
	return st == VERDICT_STATUS_PASS || st == VERDICT_STATUS_WARN;
}

long long
verdict_retry_after_s(const struct verdict *v)
{
	/* a whole second at least: when the next verdict can change */
	if (v->retry_ms < 1000)
		return 1;
	return (long long)((v->retry_ms + 999) / 1000);
}

static bool
verdict_is_excluded(const char *name, const struct verdict_set *set)
{
	for (size_t i = 0; i < set->nexcl; i++)
		if (strcmp(set->excl[i], name) == 0)
			return true;
	return false;
}

/* Whether check i counts toward the verdict over set. */
static bool
verdict_counts(
    const struct verdict_check *cs, size_t i, const struct verdict_set *set)
{
	if (set->named != NULL && set->named[i])
		return true; /* asked for by name */
	if (!cs[i].required)
		return false; /* informational */
	if (set->idx == NULL && set->grouped != NULL && !set->grouped[i])
		return false; /* /ready: no service needs it */
	return true;
}

void
verdict_free(struct verdict *v)
{
	free(v->members);
	free(v->counts);
	free(v->notpass);
	v->members = v->notpass = NULL;
	v->counts = NULL;
	v->nmembers = v->nnotpass = v->nwarn = 0;
}

int
verdict_eval(const struct verdict_check *cs, size_t n,
    const struct verdict_set *set, struct verdict *v)
{
	size_t m = set->idx != NULL ? set->nidx : n;

	memset(v, 0, sizeof(*v));
	v->status = VERDICT_STATUS_PASS;
	v->retry_ms = -1;
	v->members = calloc(m ? m : 1, sizeof(*v->members));
	v->counts = calloc(m ? m : 1, sizeof(*v->counts));
	v->notpass = calloc(m ? m : 1, sizeof(*v->notpass));
	if (v->members == NULL || v->counts == NULL || v->notpass == NULL)
		return -1;
	for (size_t k = 0; k < m; k++) {
		size_t i = set->idx != NULL ? set->idx[k] : k;
		const struct verdict_check *c = &cs[i];
		bool counts = verdict_counts(cs, i, set);

		if (verdict_is_excluded(c->name, set))
			continue;
		v->counts[v->nmembers] = counts;
		v->members[v->nmembers++] = i;
		if (c->state == VERDICT_PASS)
			continue;
		if (c->state == VERDICT_WARN) {
			v->nwarn++; /* serves, with findings */
			continue;
		}
		v->notpass[v->nnotpass++] = i;
		if (!counts) {
			/* not needed: a failure warns, a start does not */
			if (c->state == VERDICT_FAIL)
				v->nwarn++;
			continue;
		}
		v->status = VERDICT_STATUS_FAIL;
		if (v->retry_ms < 0 || c->next_in_ms < v->retry_ms)
			v->retry_ms = c->next_in_ms;
	}
	if (v->status == VERDICT_STATUS_PASS && v->nwarn > 0)
		v->status = VERDICT_STATUS_WARN;
	if (set->draining) {
		v->status = VERDICT_STATUS_FAIL;
		v->retry_ms = VERDICT_DRAIN_RETRY_MS;
	}
	return 0;
}
