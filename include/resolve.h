/* SPDX-License-Identifier: MIT */
/*
 * Name lookups on the event loop with evdns_getaddrinfo().
 * Owns: the evdns base and every lookup in flight.
 */
#ifndef READYD_RESOLVE_H
#define READYD_RESOLVE_H

#include <stddef.h>

struct event_base;
struct resolver;
struct resolve_req;

#define RESOLVE_ADDRLEN 64

/*
 * Called once per pending lookup. On success addr is the numeric address
 * and errstr NULL; on failure addr is NULL and errstr says why.
 */
typedef void resolve_done_fn(const char *addr, const char *errstr, void *arg);

/*
 * Create a resolver on base: nameservers from /etc/resolv.conf (a missing
 * file or no nameserver is a warning: /etc/hosts names still resolve),
 * names from /etc/hosts. Returns NULL with err filled on failure.
 */
struct resolver *resolve_new(struct event_base *base, char *err, size_t errlen);

/*
 * Cancel every lookup and free the resolver; NULL does nothing. Runs one
 * non-blocking pass of the loop first, so that lookups cancelled before
 * (resolve_cancel) finish freeing themselves.
 */
void resolve_free(struct resolver *r);

/*
 * Look up host. Returns 1 when the answer is known at once (a numeric
 * address, or a name from /etc/hosts): addr (RESOLVE_ADDRLEN bytes) is
 * filled and done is never called. Returns 0 when the lookup is pending:
 * *reqp is set and done is called exactly once, later, unless the lookup
 * is cancelled first. Returns -1 with err filled when the name cannot be
 * resolved at once.
 */
int resolve_start(struct resolver *r, const char *host, char *addr,
    resolve_done_fn *done, void *arg, struct resolve_req **reqp, char *err,
    size_t errlen) __attribute__((warn_unused_result));

/* Abandon a pending lookup: done is not called. */
void resolve_cancel(struct resolve_req *req);

/* Call done with arg instead of the argument given to resolve_start(). */
void resolve_set_arg(struct resolve_req *req, void *arg);

#endif /* READYD_RESOLVE_H */
