/* SPDX-License-Identifier: MIT */
/*
 * Rendering of check snapshots: pure functions, snapshot in, evbuffer out.
 * Owns: struct render_check, the snapshot format every renderer reads.
 */
#ifndef READYD_RENDER_H
#define READYD_RENDER_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

struct evbuffer;
struct sched_stats;

/* One check as a renderer sees it; strings borrowed for the call. */
struct render_check {
	const char *name;	  /* check name */
	const char *kind;	  /* postgres | pgbouncer | redis */
	const char *target;	  /* host:port/db, never a secret */
	bool required;		  /* counts toward the verdict */
	const char *status;	  /* "starting", "pass" or "fail" */
	bool pass;		  /* status is "pass" */
	const char *reason;	  /* of the last failure, or NULL */
	const char *output;	  /* error text, or NULL (none or hidden) */
	double latency_ms;	  /* of the last attempt; < 0 if none */
	int consecutive_failures; /* counted failures in a row */
	time_t last_check;	  /* end of the last attempt; 0 if none */
	time_t since;		  /* last change of status */
	const struct sched_stats *stats; /* counters, for /metrics */
};

/* A verdict over some checks. */
struct render_view {
	const struct render_check *checks; /* borrowed array */
	size_t nchecks;			   /* entries in checks */
	bool ready;			   /* the verdict */
};

/*
 * Append the application/health+json body of v to out. Returns 0, or -1
 * when out of memory.
 */
int render_json(const struct render_view *v, struct evbuffer *out)
    __attribute__((warn_unused_result));

/*
 * Append the ?verbose text body: one line per check ("[+]postgres ok",
 * "[-]redis-celery failed: refused"), then "ready" or "not ready".
 */
int render_text(const struct render_view *v, struct evbuffer *out)
    __attribute__((warn_unused_result));

/* One group's verdict, for /metrics. */
struct render_group {
	const char *name; /* group name */
	bool ready;	  /* every required check of it passes */
};

/* Everything /metrics shows. */
struct render_metrics {
	const struct render_check *checks; /* borrowed; with stats set */
	size_t nchecks;
	const struct render_group *groups; /* borrowed */
	size_t ngroups;
	bool ready;	     /* what /ready would say */
	const char *version; /* readyd's version */
};

/*
 * Append the Prometheus text exposition (version 0.0.4) of m to out.
 * Label values are escaped; no secret is ever among them.
 */
int render_prom(const struct render_metrics *m, struct evbuffer *out)
    __attribute__((warn_unused_result));

/*
 * Format t as ISO 8601 UTC ("2026-11-27T05:40:00Z") into buf (at least
 * 21 bytes).
 */
void render_time(time_t t, char *buf, size_t len);

#endif /* READYD_RENDER_H */
