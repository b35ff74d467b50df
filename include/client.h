/* SPDX-License-Identifier: MIT */
/*
 * A one-shot HTTP GET for `readyd check`, on its own event loop.
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

#endif /* READYD_CLIENT_H */
