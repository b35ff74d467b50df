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

/*
 * GET url (NULL: /ready at $READYD_LISTEN, 127.0.0.1:8080 without it,
 * wildcards asked on loopback) and print one line: "ready: HTTP 200", or
 * "not ready: HTTP 503: NAME=REASON ..." naming the failing checks of the
 * JSON body, or "not ready: URL: why". Returns 0 for HTTP 200, else 1
 * (docker reserves 2 and up).
 */
int client_check(const char *url, int64_t timeout_ms);

#endif /* READYD_CLIENT_H */
