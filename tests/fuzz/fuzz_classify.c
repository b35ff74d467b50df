/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target: the classifiers of backend error text: Redis error
 * replies, PostgreSQL and PgBouncer messages and their SQLSTATEs.
 * Input: one byte of hint buffer size, then the message text.
 * Owns: nothing.
 */
#include "fuzz.h"

#include <stdlib.h>
#include <string.h>

#include "probe.h"
#include "probe_pg.h"
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
	free(msg);
	return 0;
}
