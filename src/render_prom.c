/* SPDX-License-Identifier: MIT */
/*
 * The /metrics body in the Prometheus text exposition format 0.0.4.
 * Owns: nothing; a pure function of its snapshot.
 */
#include "render.h"

#include <event2/buffer.h>
#include <stdio.h>
#include <string.h>

const double render_bucket_bounds[RENDER_BUCKETS] = {
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1,
    2.5,
    5,
    10,
};

const double render_lag_bounds[RENDER_LAG_BUCKETS] = {
    0.001,
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1,
    5,
};

/* Append s as a label value: backslash, quote and newline escaped. */
static void
prom_label(struct evbuffer *out, const char *s)
{
	for (; *s != '\0'; s++) {
		if (*s == '\\' || *s == '"')
			evbuffer_add_printf(out, "\\%c", *s);
		else if (*s == '\n')
			evbuffer_add(out, "\\n", 2);
		else
			evbuffer_add(out, s, 1);
	}
}

/* {check="NAME",kind="KIND" and a closing brace unless more follow */
static void
prom_check_labels(struct evbuffer *out, const struct render_check *c, bool more)
{
	evbuffer_add_printf(out, "{check=\"");
	prom_label(out, c->name);
	evbuffer_add_printf(out, "\",kind=\"%s\"%s", c->kind, more ? "," : "}");
}

static void
prom_head(
    struct evbuffer *out, const char *name, const char *type, const char *help)
{
	evbuffer_add_printf(
	    out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void
prom_checks(const struct render_metrics *m, struct evbuffer *out)
{
	prom_head(out, "readyd_check_up", "gauge",
	    "1 when the check passes (after dependencies and staleness).");
	for (size_t i = 0; i < m->nchecks; i++) {
		const struct render_check *c = &m->checks[i];

		evbuffer_add_printf(out, "readyd_check_up");
		prom_check_labels(out, c, true);
		evbuffer_add_printf(out, "required=\"%s\"} %d\n",
		    c->required ? "true" : "false",
		    verdict_state_is_up(c->state));
	}
	prom_head(out, "readyd_check_state", "gauge",
	    "The check's state: 1 for the current one of starting, pass, fail, warn.");
	for (size_t i = 0; i < m->nchecks; i++)
		for (int k = 0; k < VERDICT_STATE_COUNT; k++) {
			const struct render_check *c = &m->checks[i];

			evbuffer_add_printf(out, "readyd_check_state");
			prom_check_labels(out, c, true);
			evbuffer_add_printf(out, "state=\"%s\"} %d\n",
			    verdict_state_name(k),
			    c->state == (enum verdict_state)k);
		}
}

/* One series per finding of a check in state warn. */
static void
prom_findings(const struct render_metrics *m, struct evbuffer *out)
{
	prom_head(out, "readyd_check_finding", "gauge",
	    "1 for each finding of a passing check (state warn): drift, saturated, persistence, insecure.");
	for (size_t i = 0; i < m->nchecks; i++) {
		const struct render_check *c = &m->checks[i];

		for (size_t k = 0; k < c->nfindings; k++) {
			evbuffer_add_printf(out, "readyd_check_finding");
			prom_check_labels(out, c, true);
			evbuffer_add_printf(out, "reason=\"%s\",key=\"",
			    probe_status_name(c->findings[k].reason));
			prom_label(out, c->findings[k].key);
			evbuffer_add_printf(out, "\"} 1\n");
		}
	}
}

/* Whether a check before check i reported gauge name (already shown). */
static bool
prom_gauge_seen(const struct render_metrics *m, size_t i, const char *name)
{
	for (size_t j = 0; j < i; j++)
		for (size_t k = 0; k < m->checks[j].ngauges; k++)
			if (strcmp(m->checks[j].gauges[k].name, name) == 0)
				return true;
	return false;
}

/* The kinds' gauges, one family per name, one series per check. */
static void
prom_gauges(const struct render_metrics *m, struct evbuffer *out)
{
	for (size_t i = 0; i < m->nchecks; i++) {
		for (size_t k = 0; k < m->checks[i].ngauges; k++) {
			const struct probe_gauge *g = &m->checks[i].gauges[k];
			char name[96];

			if (prom_gauge_seen(m, i, g->name))
				continue;
			snprintf(name, sizeof(name), "readyd_%s", g->name);
			prom_head(out, name, "gauge", g->help);
			for (size_t j = i; j < m->nchecks; j++)
				for (size_t l = 0; l < m->checks[j].ngauges;
				     l++) {
					const struct probe_gauge *h =
					    &m->checks[j].gauges[l];

					if (strcmp(h->name, g->name) != 0)
						continue;
					evbuffer_add_printf(out, "%s", name);
					prom_check_labels(
					    out, &m->checks[j], false);
					evbuffer_add_printf(
					    out, " %.17g\n", h->value);
				}
		}
	}
}

static void
prom_durations(const struct render_metrics *m, struct evbuffer *out)
{
	prom_head(out, "readyd_check_duration_seconds", "histogram",
	    "Duration of probe attempts: lookup, connect, login and query.");
	for (size_t i = 0; i < m->nchecks; i++) {
		const struct render_check *c = &m->checks[i];
		const struct render_stats *st = c->stats;
		uint64_t cum = 0;

		for (size_t b = 0; b <= RENDER_BUCKETS; b++) {
			char le[32];

			cum += st->buckets[b];
			if (b < RENDER_BUCKETS)
				snprintf(le, sizeof(le), "%g",
				    render_bucket_bounds[b]);
			else
				snprintf(le, sizeof(le), "+Inf");
			evbuffer_add_printf(
			    out, "readyd_check_duration_seconds_bucket");
			prom_check_labels(out, c, true);
			evbuffer_add_printf(out, "le=\"%s\"} %llu\n", le,
			    (unsigned long long)cum);
		}
		evbuffer_add_printf(out, "readyd_check_duration_seconds_sum");
		prom_check_labels(out, c, false);
		evbuffer_add_printf(out, " %.6f\n", st->duration_sum);
		evbuffer_add_printf(out, "readyd_check_duration_seconds_count");
		prom_check_labels(out, c, false);
		evbuffer_add_printf(
		    out, " %llu\n", (unsigned long long)st->attempts);
	}
}

static void
prom_counters(const struct render_metrics *m, struct evbuffer *out)
{
	prom_head(out, "readyd_check_failures_total", "counter",
	    "Failed probe attempts by reason.");
	for (size_t i = 0; i < m->nchecks; i++)
		for (int r = PROBE_OK + 1; r < PROBE_DRIFT; r++) {
			evbuffer_add_printf(out, "readyd_check_failures_total");
			prom_check_labels(out, &m->checks[i], true);
			evbuffer_add_printf(out, "reason=\"%s\"} %llu\n",
			    probe_status_name(r),
			    (unsigned long long)m->checks[i]
				.stats->failures[r]);
		}
	prom_head(out, "readyd_check_transitions_total", "counter",
	    "Changes of the check's state.");
	for (size_t i = 0; i < m->nchecks; i++) {
		evbuffer_add_printf(out, "readyd_check_transitions_total");
		prom_check_labels(out, &m->checks[i], false);
		evbuffer_add_printf(out, " %llu\n",
		    (unsigned long long)m->checks[i].stats->transitions);
	}
	prom_head(out, "readyd_check_watch_drops_total", "counter",
	    "Watched connections the server closed (each triggers a probe).");
	for (size_t i = 0; i < m->nchecks; i++) {
		evbuffer_add_printf(out, "readyd_check_watch_drops_total");
		prom_check_labels(out, &m->checks[i], false);
		evbuffer_add_printf(out, " %llu\n",
		    (unsigned long long)m->checks[i].stats->watch_drops);
	}
	prom_head(out, "readyd_check_last_success_timestamp_seconds", "gauge",
	    "Unix time of the last successful attempt; 0 if none yet.");
	for (size_t i = 0; i < m->nchecks; i++) {
		evbuffer_add_printf(
		    out, "readyd_check_last_success_timestamp_seconds");
		prom_check_labels(out, &m->checks[i], false);
		evbuffer_add_printf(
		    out, " %.0f\n", m->checks[i].stats->last_success);
	}
}

/* readyd_sched_lag_seconds: how late the timers fired (no labels). */
static void
prom_lag(const struct render_lag *lag, struct evbuffer *out)
{
	uint64_t cum = 0;

	prom_head(out, "readyd_sched_lag_seconds", "histogram",
	    "How late the scheduler's timers (probes, heartbeats) fired after they fell due.");
	for (size_t b = 0; b <= RENDER_LAG_BUCKETS; b++) {
		cum += lag->buckets[b];
		if (b < RENDER_LAG_BUCKETS)
			evbuffer_add_printf(out,
			    "readyd_sched_lag_seconds_bucket{le=\"%g\"} %llu\n",
			    render_lag_bounds[b], (unsigned long long)cum);
		else
			evbuffer_add_printf(out,
			    "readyd_sched_lag_seconds_bucket{le=\"+Inf\"} %llu\n",
			    (unsigned long long)cum);
	}
	evbuffer_add_printf(
	    out, "readyd_sched_lag_seconds_sum %.6f\n", lag->sum);
	evbuffer_add_printf(out, "readyd_sched_lag_seconds_count %llu\n",
	    (unsigned long long)lag->count);
}

int
render_prom(const struct render_metrics *m, struct evbuffer *out)
{
	prom_head(
	    out, "readyd_build_info", "gauge", "readyd's version; always 1.");
	evbuffer_add_printf(out, "readyd_build_info{version=\"");
	prom_label(out, m->version);
	evbuffer_add_printf(out, "\"} 1\n");
	prom_head(
	    out, "readyd_ready_all", "gauge", "1 when /ready answers 200.");
	evbuffer_add_printf(
	    out, "readyd_ready_all %d\n", verdict_status_is_ready(m->status));
	prom_head(out, "readyd_warn_all", "gauge",
	    "1 when /ready answers 200 with status warn: a check it does not need fails.");
	evbuffer_add_printf(
	    out, "readyd_warn_all %d\n", m->status == VERDICT_STATUS_WARN);
	prom_head(
	    out, "readyd_ready", "gauge", "1 when /ready/GROUP answers 200.");
	for (size_t i = 0; i < m->ngroups; i++) {
		evbuffer_add_printf(out, "readyd_ready{group=\"");
		prom_label(out, m->groups[i].name);
		evbuffer_add_printf(out, "\"} %d\n",
		    verdict_status_is_ready(m->groups[i].status));
	}
	prom_head(out, "readyd_warn", "gauge",
	    "1 when /ready/GROUP answers 200 with status warn: a check it does not need fails.");
	for (size_t i = 0; i < m->ngroups; i++) {
		evbuffer_add_printf(out, "readyd_warn{group=\"");
		prom_label(out, m->groups[i].name);
		evbuffer_add_printf(out, "\"} %d\n",
		    m->groups[i].status == VERDICT_STATUS_WARN);
	}
	prom_checks(m, out);
	prom_findings(m, out);
	prom_gauges(m, out);
	prom_durations(m, out);
	prom_counters(m, out);
	if (m->lag != NULL)
		prom_lag(m->lag, out);
	return 0;
}

/* One process_* or readyd_* figure, left out when the kernel gave none. */
static void
prom_figure(struct evbuffer *out, const char *name, const char *type,
    const char *help, double v)
{
	if (v < 0)
		return;
	prom_head(out, name, type, help);
	evbuffer_add_printf(out, "%s %.15g\n", name, v);
}

int
render_prom_process(const struct procstat *ps, struct evbuffer *out)
{
	prom_figure(out, "process_cpu_seconds_total", "counter",
	    "User and system CPU time spent in seconds.", ps->cpu_seconds);
	prom_figure(out, "process_resident_memory_bytes", "gauge",
	    "Resident memory size in bytes.", (double)ps->resident_bytes);
	prom_figure(out, "process_virtual_memory_bytes", "gauge",
	    "Virtual memory size in bytes.", (double)ps->virtual_bytes);
	prom_figure(out, "process_open_fds", "gauge",
	    "Number of open file descriptors.", (double)ps->open_fds);
	prom_figure(out, "process_max_fds", "gauge",
	    "Maximum number of open file descriptors.", (double)ps->max_fds);
	prom_figure(out, "process_start_time_seconds", "gauge",
	    "Start time of the process since unix epoch in seconds.",
	    ps->start_time);
	prom_figure(out, "readyd_heap_bytes", "gauge",
	    "Bytes allocated and not yet freed; RSS keeps the allocator's high mark, this does not.",
	    (double)ps->heap_bytes);
	prom_figure(out, "readyd_login_workers", "gauge",
	    "Threads that run PostgreSQL login steps (SCRAM, TLS) off the event loop; 0: they run on it.",
	    (double)ps->login_workers);
	prom_figure(out, "readyd_login_steps_total", "counter",
	    "PostgreSQL login steps (SCRAM, TLS) handed to those threads.",
	    (double)ps->login_steps);
	prom_figure(out, "readyd_login_steps_abandoned_total", "counter",
	    "Of those, steps whose probe attempt ended (its deadline) before they came back; the connection was closed then.",
	    (double)ps->login_abandoned);
	return 0;
}
