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

#endif /* READYD_PROBE_REDIS_H */
