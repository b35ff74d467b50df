/* SPDX-License-Identifier: MIT */
/*
 * PgBouncer probe: the PostgreSQL probe through the pooler, with the
 * application's startup options, judged by PgBouncer's own messages.
 * Owns: the pgbouncer classifier.
 */
#include "probe_pg.h"

#include <stdio.h>
#include <string.h>

/*
 * PgBouncer reports nearly everything as 08P01, so its message text is
 * what tells the cases apart.
 */
enum probe_status
probe_pgbouncer_classify(
    const char *msg, const char *sqlstate, char *hint, size_t hintlen)
{
	static const struct {
		const char *needle;
		enum probe_status st;
	} rules[] = {
	    {"unsupported startup parameter", PROBE_REJECTED},
	    {"no such database", PROBE_REJECTED},
	    {"no such user", PROBE_AUTH},
	    {"SASL authentication failed", PROBE_AUTH},
	    {"password authentication failed", PROBE_AUTH},
	    {"auth failed", PROBE_AUTH},
	    {"no more connections allowed", PROBE_SATURATED},
	    {"too many clients", PROBE_SATURATED},
	    {"remaining connection slots", PROBE_SATURATED},
	    {"server login has been failing", PROBE_REFUSED},
	    {"pgbouncer cannot connect to server", PROBE_REFUSED},
	    {"query_wait_timeout", PROBE_TIMEOUT},
	    {"client_login_timeout", PROBE_TIMEOUT},
	    {"pgbouncer is shutting down", PROBE_IO},
	    {"database is paused", PROBE_BUSY},
	};

	if (hintlen > 0)
		hint[0] = '\0';
	for (size_t i = 0; i < sizeof(rules) / sizeof(rules[0]); i++) {
		if (strstr(msg, rules[i].needle) == NULL)
			continue;
		if (i == 0)
			snprintf(hint, hintlen,
			    " (hint: PgBouncer refuses this startup parameter: add it to ignore_startup_parameters in pgbouncer.ini)");
		return rules[i].st;
	}
	return probe_pg_classify(msg, sqlstate, hint, hintlen);
}

static int
pgbouncer_start(struct probe *p)
{
	return probe_pg_start(p, probe_pgbouncer_classify);
}

const struct probe_ops probe_pgbouncer_ops = {
    .name = "pgbouncer",
    .port = 6432,
    .auth = true,
    .keys = probe_pg_keys,
    .nkeys = PROBE_PG_NKEYS,
    .validate = probe_pg_validate,
    .target = probe_pg_target,
    .same = probe_pg_same,
    .start = pgbouncer_start,
    .cancel = probe_pg_cancel,
    .unwatch = probe_pg_unwatch,
    .heartbeat = probe_pg_heartbeat,
};
