/* SPDX-License-Identifier: MIT */
/*
 * A fake probe for scheduler tests: no sockets, outcomes set by the test.
 * Owns: the fake's counters.
 */
#ifndef READYD_FAKE_PROBE_H
#define READYD_FAKE_PROBE_H

#include "probe.h"

struct clock;

extern const struct probe_ops fake_probe_ops;

/* Outcome of the next attempts; delay_ms < 0 means never answer. */
void fake_probe_set(enum probe_status st, int delay_ms);

/* Attempts started, cancelled, and the most ever in flight at once. */
extern int fake_probe_starts;
extern int fake_probe_cancels;
extern int fake_probe_in_flight;
extern int fake_probe_max_in_flight;

void fake_probe_reset(void);

/* Answer on clock c's timers (a fake clock the test advances). */
void fake_probe_use_clock(struct clock *c);

/* Give the check called name its own outcome (NULL: none). */
void fake_probe_set_for(const char *name, enum probe_status st);

/* Drop the connection a success kept, as a server closing it would. */
void fake_probe_lose(struct probe *p);

/* Outcome of the next heartbeats; delay_ms < 0 means never answer. */
void fake_probe_set_beat(enum probe_status st, int delay_ms);

/*
 * Make successful attempts report this finding too (text NULL: none),
 * a gauge of value gauge (when gauge >= 0) and a skip with key skip
 * (NULL: none).
 */
void fake_probe_set_finding(
    enum probe_status reason, const char *key, const char *text);
void fake_probe_set_gauge(double gauge);
void fake_probe_set_skip(const char *skip);

/* Heartbeats sent, and those unwatched while in flight. */
extern int fake_probe_beats;
extern int fake_probe_beats_dropped;

#endif /* READYD_FAKE_PROBE_H */
