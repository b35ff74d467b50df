/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target: the classifiers of backend error text: Redis error
 * replies, PostgreSQL and PgBouncer messages and their SQLSTATEs; and the
 * readers of PgBouncer's admin console (the text as rows split at '\n',
 * cells at '|', under SHOW POOLS / CONFIG / DATABASES column names).
 * Input: one byte of hint buffer size, then the message text.
 * Owns: nothing.
 */
#include "fuzz.h"

#include <stdlib.h>
#include <string.h>

#include "config.h"

#include "probe.h"
#include "probe_pg.h"
#include "probe_pgbouncer.h"
#include "probe_redis.h"

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	return 0;
}

static void
fuzz_classify_status(const char *what, enum probe_status st)
{
	/* a failure always has a reason of its own; never "ok" */
	if ((int)st <= PROBE_OK || st >= PROBE_STATUS_COUNT)
		fuzz_fail("%s: status %d", what, (int)st);
	if (probe_status_name(st) == NULL)
		fuzz_fail("%s: status %d has no name", what, (int)st);
}

/* Run a pg classifier with a hint buffer of hintlen bytes (canaries). */
static void
fuzz_classify_pg(const char *what, probe_pg_classify_fn *fn, const char *msg,
    const char *sqlstate, size_t hintlen)
{
	char *hint = malloc(hintlen + 1);
	enum probe_status st;

	if (hint == NULL)
		fuzz_fail("out of memory");
	memset(hint, 'X', hintlen + 1);
	st = fn(msg, sqlstate, hintlen ? hint : NULL, hintlen);
	fuzz_classify_status(what, st);
	if (hintlen > 0 && memchr(hint, '\0', hintlen) == NULL)
		fuzz_fail(
		    "%s: hint not terminated in %zu bytes", what, hintlen);
	if (hint[hintlen] != 'X')
		fuzz_fail("%s: hint written past %zu bytes", what, hintlen);
	free(hint);
}

/* text as a result with columns cols: rows at '\n', cells at '|'. */
static PGresult *
fuzz_table(const char *text, const char *const *cols, int ncols)
{
	PGresult *res = PQmakeEmptyPGresult(NULL, PGRES_TUPLES_OK);
	PGresAttDesc attrs[16];
	const char *p = text;
	int r = 0;

	if (res == NULL)
		fuzz_fail("out of memory");
	memset(attrs, 0, sizeof(attrs));
	for (int c = 0; c < ncols; c++) {
		attrs[c].name = (char *)cols[c];
		attrs[c].typid = 25;
		attrs[c].typlen = -1;
		attrs[c].atttypmod = -1;
	}
	if (!PQsetResultAttrs(res, ncols, attrs))
		fuzz_fail("PQsetResultAttrs");
	while (*p != '\0' && r < 64) {
		for (int c = 0; c < ncols; c++) {
			size_t n = strcspn(p, "|\n");

			/* an empty cell is SQL NULL */
			if (!PQsetvalue(res, r, c, (char *)p, n ? (int)n : -1))
				fuzz_fail("PQsetvalue");
			p += n;
			if (*p == '|')
				p++;
			if (*p == '\n' || *p == '\0')
				break;
		}
		p += strcspn(p, "\n");
		if (*p == '\n')
			p++;
		r++;
	}
	return res;
}

/* The admin console's readers on any text: no crash, sane sums. */
static void
fuzz_classify_admin(const char *msg)
{
	static const char *const pools[] = {"database", "user", "cl_active",
	    "cl_waiting", "sv_active", "sv_idle", "sv_used", "sv_login",
	    "maxwait", "maxwait_us", "pool_mode"};
	static const char *const conf[] = {"key", "value"};
	static const char *const dbs[] = {"name", "host", "port", "pool_size",
	    "reserve_pool", "max_connections", "pool_mode"};
	struct probe_pgbouncer_pool pool;
	struct probe_pgbouncer_db db;
	struct check_cfg cfg = {.warn_cl_waiting = 1, .fail_maxwait_ms = 5000};
	PGresult *res;
	char names[40];
	int lo, hi;

	res = fuzz_table(msg, pools, 11);
	if (probe_pgbouncer_pool(res, "hdms_db", &pool) != 0)
		fuzz_fail("SHOW POOLS columns not found");
	(void)probe_pgbouncer_pressure(&cfg, &pool);
	if (strnlen(pool.pool_mode, sizeof(pool.pool_mode)) >=
	    sizeof(pool.pool_mode))
		fuzz_fail("pool_mode not terminated");
	PQclear(res);
	res = fuzz_table(msg, conf, 2);
	(void)probe_pgbouncer_config(res, "pool_mode");
	PQclear(res);
	res = fuzz_table(msg, dbs, 7);
	(void)probe_pgbouncer_database(res, "hdms_db", &db);
	(void)probe_pgbouncer_server_demand(
	    res, "postgres", 5432, names, sizeof(names));
	if (memchr(names, '\0', sizeof(names)) == NULL)
		fuzz_fail("demand names not terminated");
	PQclear(res);
	if (probe_pgbouncer_parse_range(msg, &lo, &hi) == 0 && lo > hi)
		fuzz_fail("range %d-%d", lo, hi);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = {data, size};
	size_t hintlen = fuzz_byte(&in);
	char *msg = fuzz_strndup(in.p, in.n);
	char code[6], raw[6];
	const char *sqlstate;

	fuzz_classify_status("redis", probe_redis_classify(msg));

	memset(code, 'X', sizeof(code));
	sqlstate = probe_pg_sqlstate(msg, code);
	if (sqlstate != NULL && (sqlstate != code || strlen(code) != 5))
		fuzz_fail("sqlstate of %s: \"%.6s\"", msg, code);
	if (hintlen == 0)
		hintlen = 256;
	fuzz_classify_pg("postgres", probe_pg_classify, msg, sqlstate, hintlen);
	fuzz_classify_pg(
	    "pgbouncer", probe_pgbouncer_classify, msg, sqlstate, hintlen);

	/* the first five bytes as a SQLSTATE, whatever the text says */
	memcpy(raw, msg, strnlen(msg, 5));
	raw[strnlen(msg, 5)] = '\0';
	fuzz_classify_pg("postgres raw", probe_pg_classify, msg, raw, hintlen);
	fuzz_classify_pg(
	    "pgbouncer raw", probe_pgbouncer_classify, msg, raw, hintlen);
	fuzz_classify_admin(msg);
	free(msg);
	return 0;
}
