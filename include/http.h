/* SPDX-License-Identifier: MIT */
/*
 * The HTTP server: evhttp routes and status codes; bodies come from the
 * renderers, state from the scheduler's memory, never from a backend.
 * Owns: struct http_server, the evhttp instance and its listener.
 */
#ifndef READYD_HTTP_H
#define READYD_HTTP_H

#include <stdbool.h>
#include <stddef.h>

struct event_base;
struct config;
struct sched;
struct http_server;

/*
 * Bind host:port and serve cfg's checks and groups from s. Returns NULL
 * with err filled when the address cannot be bound.
 */
struct http_server *
http_new(struct event_base *base, const char *host, int port,
    const struct config *cfg, struct sched *s, char *err, size_t errlen);

/*
 * How many HTTP clients may be connected at once: [daemon] max_clients,
 * or when 0 the RLIMIT_NOFILE soft limit less a reserve for readyd and
 * its probes (64, plus 4 a check), at least 4 and at most 4096. At that
 * many the listener pauses until one closes.
 */
size_t http_max_clients(const struct config *cfg);

/* Serve from a new configuration and scheduler (after a reload). */
void http_set_source(
    struct http_server *h, const struct config *cfg, struct sched *s);

/* While draining, /ready answers 503 whatever the checks say. */
void http_set_draining(struct http_server *h, bool draining);

/* Close the listener and every connection; NULL does nothing. */
void http_free(struct http_server *h);

#endif /* READYD_HTTP_H */
