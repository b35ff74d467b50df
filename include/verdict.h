/* SPDX-License-Identifier: MIT */
/*
 * The verdict: whether a set of checks (all, a group, one check, less
 * exclusions) is ready, which of them do not pass, and when to ask again.
 * /ready, /ready/NAME, /metrics, once, wait and systemd's STATUS= all ask
 * verdict_eval().
 * Owns: enum verdict_state, enum verdict_status and their names.
 */
#ifndef READYD_VERDICT_H
#define READYD_VERDICT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The state of one check. */
enum verdict_state {
	VERDICT_STARTING, /* no decision yet */
	VERDICT_PASS,	  /* serving */
	VERDICT_FAIL,	  /* not serving */
	VERDICT_WARN,	  /* serving, with findings (drift, saturated...) */
	VERDICT_STATE_COUNT
};

/*
 * The verdict over a set of checks. "warn" is ready (HTTP 200, exit 0)
 * with a failing member the set does not need, or a member in state warn.
 */
enum verdict_status {
	VERDICT_STATUS_PASS, /* ready: HTTP 200, exit 0 */
	VERDICT_STATUS_FAIL, /* not ready: HTTP 503, exit 1 */
	VERDICT_STATUS_WARN, /* ready, but a member warns or one not needed
				fails */
	VERDICT_STATUS_COUNT
};

/* What the verdict needs to know of one check. */
struct verdict_check {
	const char *name;	  /* borrowed: check name */
	enum verdict_state state; /* the state the verdict reads */
	bool required;		  /* counts in sets that are not by name */
	int64_t next_in_ms;	  /* until it is probed again; 0: in flight */
};

/* Which checks a verdict is about. */
struct verdict_set {
	const size_t *idx; /* borrowed: its checks in order; NULL: all */
	size_t nidx;	   /* entries in idx */
	const bool *named; /* NULL: none; named[i]: asked for by name */
	/*
	 * NULL: the configuration has no group; else grouped[i]: check i is
	 * in at least one group. Read only for the set of all checks (idx
	 * NULL), where a check in no group does not count.
	 */
	const bool *grouped;
	char *const *excl; /* borrowed: names to leave out */
	size_t nexcl;	   /* entries in excl */
	bool draining;	   /* shutting down: not ready, whatever */
};

/* A verdict: the set's members and the failing ones, as check indexes. */
struct verdict {
	enum verdict_status status; /* pass or fail */
	size_t *members;	    /* owned: the set, in check order */
	size_t nmembers;	    /* entries in members */
	bool *counts;		    /* owned: counts[k]: members[k] counts */
	size_t *notpass;	    /* owned: members not passing */
	size_t nnotpass;	    /* entries in notpass */
	size_t nwarn;		    /* failing members that do not count,
				       and members in state warn */
	int64_t retry_ms;	    /* Retry-After in ms; -1 when ready */
};

/*
 * Judge the n checks of cs over set into v. A member counts when it is
 * asked for by name, or else when it is required and, in the set of all
 * checks, in at least one group (set->grouped; every required check
 * counts when the configuration has no group). The set is ready when
 * every member that counts passes or warns (and it is not draining):
 * "pass" when no member fails or warns, "warn" when some member is in
 * state warn or only members that do not count fail (state fail; a
 * starting one is no warning). retry_ms is the soonest
 * next probe of a counted failing member (1 s while draining). Returns 0,
 * or -1 when out of memory; free v with verdict_free() either way.
 */
int verdict_eval(const struct verdict_check *cs, size_t n,
    const struct verdict_set *set, struct verdict *v)
    __attribute__((warn_unused_result));

/* Release what verdict_eval() allocated in v; v itself is the caller's. */
void verdict_free(struct verdict *v);

/* Whether a verdict of status st answers "ready" (HTTP 200, exit 0). */
bool verdict_status_is_ready(enum verdict_status st);

/* Retry-After in whole seconds (at least 1) for v->retry_ms. */
long long verdict_retry_after_s(const struct verdict *v);

/* "starting", "pass", "fail", "warn". */
const char *verdict_state_name(enum verdict_state st);

/* Whether a check in state st serves: pass, or warn (pass with findings). */
bool verdict_state_is_up(enum verdict_state st);

/* "pass", "fail", "warn": the top-level status of the JSON body. */
const char *verdict_status_name(enum verdict_status st);

#endif /* READYD_VERDICT_H */
