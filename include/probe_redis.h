/* SPDX-License-Identifier: MIT */
/*
 * The Redis probe's reply classifier, exported for its tests.
 * Owns: nothing.
 */
#ifndef READYD_PROBE_REDIS_H
#define READYD_PROBE_REDIS_H

#include "probe.h"

/* Map a Redis error reply ("WRONGPASS ...", "LOADING ...") to a reason. */
enum probe_status probe_redis_classify(const char *err);

/*
 * The reason for a connection-level error of hiredis (redisContext err
 * and errstr): PROBE_LOCAL when readyd could not create the socket or
 * ran out of memory, else refused, timeout, io, protocol or what the
 * server's spontaneous error reply says.
 */
enum probe_status probe_redis_classify_conn(int err, const char *errstr);

#endif /* READYD_PROBE_REDIS_H */
