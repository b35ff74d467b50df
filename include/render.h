/* SPDX-License-Identifier: MIT */
/*
 * Rendering of check snapshots: pure functions, snapshot in, evbuffer out.
 * Owns: struct render_check, the snapshot format every renderer reads.
 */
#ifndef READYD_RENDER_H
#define READYD_RENDER_H

#include "probe.h"
#include "procstat.h"
#include "verdict.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

struct evbuffer;

/* Upper bounds (seconds) of the attempt duration histogram; +Inf follows. */
#define RENDER_BUCKETS 11
extern const double render_bucket_bounds[RENDER_BUCKETS];

/* A check's counters for /metrics, since start-up. */
struct render_stats {
	uint64_t failures[PROBE_STATUS_COUNT]; /* failed attempts by reason */
	uint64_t transitions;		       /* changes of shown state */
	uint64_t buckets[RENDER_BUCKETS + 1];  /* attempts by duration */
	uint64_t attempts;		       /* finished attempts */
	double duration_sum;		       /* seconds, all attempts */
	double last_success;		       /* wall seconds, 0 if never */
	uint64_t watch_drops;		       /* watched connections lost */
};

/* Upper bounds (seconds) of the scheduling lag histogram; +Inf follows. */
#define RENDER_LAG_BUCKETS 10
extern const double render_lag_bounds[RENDER_LAG_BUCKETS];

/* How late the scheduler's timers fired (fired vs due), since start-up. */
struct render_lag {
	uint64_t buckets[RENDER_LAG_BUCKETS + 1]; /* timers by lag */
	uint64_t count;				  /* timers fired */
	double sum;				  /* seconds, all of them */
};

/* One check as a renderer sees it; strings borrowed for the call. */
struct render_check {
	const char *name;	  /* check name */
	const char *kind;	  /* postgres | pgbouncer | redis */
	const char *target;	  /* host:port/db, never a secret */
	bool required;		  /* counts toward the verdict */
	bool not_needed;	  /* the verdict does not count it */
	enum verdict_state state; /* starting, pass, fail or warn */
	enum probe_status reason; /* of the failure or first finding */
	const char *output;	  /* error or findings text, NULL if hidden */
	const struct probe_finding *findings; /* state warn: its findings */
	size_t nfindings;		      /* entries in findings */
	bool finding_texts;		      /* show the findings' texts */
	const struct probe_gauge *gauges;     /* numbers the probe read */
	size_t ngauges;			      /* entries in gauges */
	double latency_ms;	  /* of the last attempt; < 0 if none */
	int consecutive_failures; /* counted failures in a row */
	time_t last_check;	  /* end of the last attempt; 0 if none */
	time_t since;		  /* last change of status */
	const struct render_stats *stats; /* counters, for /metrics */
};

/* A verdict over some checks. */
struct render_view {
	const struct render_check *checks; /* borrowed array */
	size_t nchecks;			   /* entries in checks */
	enum verdict_status status;	   /* the verdict */
};

/*
 * Append the application/health+json body of v to out: a failing check
 * the verdict does not need (not_needed) shows "status": "warn". Returns
 * 0, or -1 when out of memory.
 */
int render_json(const struct render_view *v, struct evbuffer *out)
    __attribute__((warn_unused_result));

/*
 * Append the ?verbose text body: one line per check ("[+]postgres ok",
 * "[-]redis-celery failed: refused"; a failing check the verdict does
 * not need: "[!]postgres failed: auth (in no group: warn)" or "(not
 * required: warn)"), then "ready", "ready (warn)" or "not ready".
 */
int render_text(const struct render_view *v, struct evbuffer *out)
    __attribute__((warn_unused_result));

/* One group's verdict, for /metrics. */
struct render_group {
	const char *name;	    /* group name */
	enum verdict_status status; /* what /ready/GROUP says */
};

/* Everything /metrics shows. */
struct render_metrics {
	const struct render_check *checks; /* borrowed; with stats set */
	size_t nchecks;
	const struct render_group *groups; /* borrowed */
	size_t ngroups;
	enum verdict_status status;   /* what /ready says */
	const char *version;	      /* readyd's version */
	const struct render_lag *lag; /* scheduling lag; NULL: not shown */
};

/*
 * Append the Prometheus text exposition (version 0.0.4) of m to out.
 * Label values are escaped; no secret is ever among them.
 */
int render_prom(const struct render_metrics *m, struct evbuffer *out)
    __attribute__((warn_unused_result));

/*
 * Append the process's own figures (process_cpu_seconds_total,
 * process_resident_memory_bytes, process_open_fds, ..., readyd_heap_bytes)
 * to out, leaving out those ps has as -1. They change with every request,
 * so they follow the cached body of render_prom instead of joining it.
 */
int render_prom_process(const struct procstat *ps, struct evbuffer *out)
    __attribute__((warn_unused_result));

/* The status page reloads itself this often (seconds). */
#define RENDER_HTML_REFRESH_S 5

/* Everything the status page shows. */
struct render_page {
	const struct render_check *checks; /* borrowed; every check */
	size_t nchecks;			   /* entries in checks */
	const struct render_group *groups; /* borrowed; every group */
	size_t ngroups;			   /* entries in groups */
	enum verdict_status status;	   /* what /ready says */
	bool draining;			   /* shutting down: /ready says 503 */
	const char *version;		   /* readyd's version */
	time_t now;			   /* when the page is rendered */
};

/*
 * Append the status page of p to out: one self-contained HTML document
 * (no script, no external asset) that reloads itself every
 * RENDER_HTML_REFRESH_S seconds, with the overall verdict, one row per
 * check (state as a word and a colour, reason, output when the check
 * carries it, since, last latency, target) and each group's verdict.
 * Every text is HTML-escaped; bytes HTML cannot carry show as U+FFFD.
 * Returns 0, or -1 when out of memory.
 */
int render_html(const struct render_page *p, struct evbuffer *out)
    __attribute__((warn_unused_result));

/*
 * The length of the valid UTF-8 sequence at s (len > 0, at most len bytes
 * read), or 0: malformed, truncated, overlong, a surrogate or beyond
 * U+10FFFF. Every renderer's one UTF-8 validator.
 */
size_t render_utf8_len(const unsigned char *s, size_t len);

/*
 * render_utf8_len, and 0 for a control character other than tab and
 * newline too: the length of the sequence at s fit to show as text.
 */
size_t render_char_len(const unsigned char *s, size_t len);

/*
 * Format t as ISO 8601 UTC ("2026-11-27T05:40:00Z") into buf (at least
 * 21 bytes).
 */
void render_time(time_t t, char *buf, size_t len);

#endif /* READYD_RENDER_H */
