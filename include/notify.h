/* SPDX-License-Identifier: MIT */
/*
 * systemd notification: READY=1, STATUS=, STOPPING=1 and the watchdog.
 * Every call is a no-op when systemd did not start readyd.
 * Owns: struct notify, the watchdog timer and the last STATUS= sent.
 */
#ifndef READYD_NOTIFY_H
#define READYD_NOTIFY_H

#include <stdbool.h>
#include <stddef.h>

struct event_base;
struct config;
struct sched;
struct notify;

/* A notifier; NULL when out of memory. */
struct notify *notify_new(void);

/* Stop the watchdog and free n; NULL does nothing. */
void notify_free(struct notify *n);

/*
 * When systemd asks for a watchdog, send WATCHDOG=1 now and then every
 * half period from a timer on base (a wedged loop starves it). Returns 0,
 * or -1 when the timer cannot be set.
 */
int notify_start_watchdog(struct notify *n, struct event_base *base)
    __attribute__((warn_unused_result));

/* READY=1: the socket is bound; systemd may start what depends on us. */
void notify_ready(const char *host, int port, size_t nchecks);

/*
 * STATUS=, a one-line summary of the verdict of /ready over s's checks
 * (cfg's groups decide what it needs): "2/3 checks pass; not passing:
 * redis=refused", or with a failing check no group needs "2/3 checks
 * pass (warn: ready); not passing: postgres=auth (not needed)". Sent when
 * it changed; none after stopping.
 */
void notify_status(
    struct notify *n, const struct config *cfg, const struct sched *s);

/* STOPPING=1; when draining, with STATUS=draining, and no STATUS= after. */
void notify_stopping(struct notify *n, bool draining);

#endif /* READYD_NOTIFY_H */
