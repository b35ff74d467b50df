/* SPDX-License-Identifier: MIT */
/*
 * `readyd check`: a one-shot HTTP GET of /ready on its own event loop,
 * and the line that sums it up.
 * Owns: nothing after it returns.
 */
#ifndef READYD_CLIENT_H
#define READYD_CLIENT_H

#include <stddef.h>
#include <stdint.h>

/*
 * GET url ("http://HOST:PORT/PATH", HOST numeric, a name or [v6]) and wait
 * at most timeout_ms in all. On success returns 0 with *status set and
 * *body a NUL-terminated copy of at most 64 KiB of the body (caller
 * frees). Returns -1 with err filled on any failure.
 */
int client_get(const char *url, int64_t timeout_ms, int *status, char **body,
    char *err, size_t errlen) __attribute__((warn_unused_result));

/* What `readyd check` was told. */
struct client_opts {
	const char *config; /* -c FILE; NULL: found as serve finds it */
	const char *url;    /* --url; NULL: /ready at the config's listen */
	int64_t timeout_ms; /* --timeout: bound of one request */
	int64_t wait_ms; /* --wait: retry until HTTP 200 this long; 0: once */
};

/*
 * /ready for a daemon listening on host:port into url: a wildcard address
 * (0.0.0.0, ::, empty or NULL) is asked on loopback (127.0.0.1, [::1]),
 * an IPv6 literal gets brackets.
 */
void client_listen_url(const char *host, int port, char *url, size_t urllen);

/*
 * GET o->url, or /ready at the address serve listens on: the [daemon]
 * listen of the configuration (o->config, else found as serve finds it;
 * only that key is read, so checks with unset credentials do not matter),
 * else $READYD_LISTEN, else 127.0.0.1:8080, a wildcard asked on
 * loopback. With o->wait_ms, ask again (at most once a second, each
 * request bounded by o->timeout_ms and the deadline) until HTTP 200 or
 * the deadline. Print one line: "ready: HTTP 200", or "not ready: HTTP
 * 503: NAME=REASON ..." naming the failing checks of the JSON body, or
 * "not ready: URL: why" (with --wait, the time taken and the attempts
 * follow). Returns 0 for HTTP 200, else 1 (docker reserves 2 and up).
 */
int client_check(const struct client_opts *o);

#endif /* READYD_CLIENT_H */
