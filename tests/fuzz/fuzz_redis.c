/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target: what the Redis probe reads from the server besides PING:
 * the values of CONFIG GET save and CONFIG GET databases, the text of
 * INFO persistence, and the expect_save values of the configuration.
 * Input: one byte choosing expect_databases (1-256), then the server's
 * text, an FUZZ_SEP, an expect_save value.
 * Owns: nothing.
 */
#include "fuzz.h"

#include <stdlib.h>
#include <string.h>

#include "redis_inspect.h"

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	return 0;
}

/* A message for people: terminated, printable ASCII, inside its buffer. */
static void
fuzz_redis_text(const char *what, const char *text, size_t len)
{
	size_t n = strnlen(text, len);

	if (n == len)
		fuzz_fail("%s: not terminated in %zu bytes", what, len);
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)text[i] < 0x20 ||
		    (unsigned char)text[i] >= 0x7f)
			fuzz_fail("%s: byte 0x%02x in \"%s\"", what,
			    (unsigned char)text[i], text);
}

static void
fuzz_redis_save(const char *s)
{
	struct redis_save a, b;

	if (redis_inspect_parse_save(s, &a) < 0)
		return;
	if (a.n > REDIS_INSPECT_SAVE_MAX)
		fuzz_fail("save \"%s\": %zu points", s, a.n);
	for (size_t i = 0; i < a.n; i++) {
		if (a.pt[i].seconds < 1 || a.pt[i].changes < 0)
			fuzz_fail("save \"%s\": point %zu out of range", s, i);
		if (i > 0 && a.pt[i - 1].seconds == a.pt[i].seconds &&
		    a.pt[i - 1].changes == a.pt[i].changes)
			fuzz_fail("save \"%s\": point %zu twice", s, i);
	}
	if (!redis_inspect_save_equal(&a, &a))
		fuzz_fail("save \"%s\": not equal to itself", s);
	/* a valid expect_save compares equal with the same live value */
	if (a.n > 0 && redis_inspect_parse_expect_save(s, &b) == 0 &&
	    !redis_inspect_save_equal(&a, &b))
		fuzz_fail("save \"%s\": expect_save reads it otherwise", s);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = {data, size};
	int dbs = fuzz_byte(&in) + 1;
	char *live = fuzz_field(&in), *expect = fuzz_field(&in);
	struct redis_inspect_problem pr[3];
	struct redis_save e;
	char text[200], small[9];
	size_t n;

	fuzz_redis_save(live);
	fuzz_redis_save(expect);
	if (redis_inspect_check_expect_save(expect) == NULL &&
	    *expect != '\0') {
		if (redis_inspect_parse_expect_save(expect, &e) < 0)
			fuzz_fail(
			    "expect_save \"%s\" checked, not parsed", expect);
		memset(text, 'X', sizeof(text));
		if (redis_inspect_save_drift(live, expect, text, sizeof(text)))
			fuzz_redis_text("save drift", text, sizeof(text));
		else if (memcmp(text, "XXXX", 4) != 0)
			fuzz_fail("no save drift, yet text written");
		memset(small, 'X', sizeof(small));
		if (redis_inspect_save_drift(live, expect, small, 8))
			fuzz_redis_text("save drift, 8 bytes", small, 8);
		if (small[8] != 'X')
			fuzz_fail("save drift written past 8 bytes");
		/* the expected value itself never drifts */
		if (redis_inspect_save_drift(
			strcmp(expect, "none") == 0 ? "" : expect, expect, text,
			sizeof(text)))
			fuzz_fail(
			    "\"%s\" drifts from itself: %s", expect, text);
	}
	if (redis_inspect_databases_drift(live, dbs, text, sizeof(text)))
		fuzz_redis_text("databases drift", text, sizeof(text));

	n = redis_inspect_persistence(live, pr, 3);
	if (n > 3)
		fuzz_fail("persistence: %zu problems in 3", n);
	for (size_t i = 0; i < n; i++) {
		fuzz_redis_text(
		    "persistence key", pr[i].key, sizeof(pr[i].key));
		fuzz_redis_text(
		    "persistence text", pr[i].text, sizeof(pr[i].text));
		if (strstr(pr[i].text, pr[i].key) != pr[i].text)
			fuzz_fail("persistence: \"%s\" is not about %s",
			    pr[i].text, pr[i].key);
	}
	(void)redis_inspect_noauth_answered(true, live);
	(void)redis_inspect_noauth_answered(false, live);
	free(live);
	free(expect);
	return 0;
}
