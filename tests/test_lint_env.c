/* SPDX-License-Identifier: MIT */
/*
 * readyd lint-env: each schema rule against a golden file in
 * data/lint_env/ (NAME.env checked, NAME.out the expected messages), and
 * config/env.example, which must have no error.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "lint_env.h"
#include "strbuf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *
read_all(const char *path, size_t *len)
{
	struct strbuf b = {0};
	char chunk[4096];
	size_t n;
	FILE *f = fopen(path, "r");

	if (f == NULL)
		fail_msg("cannot open %s", path);
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		strbuf_add(&b, chunk, n);
	fclose(f);
	*len = b.len;
	return strbuf_take(&b);
}

/* Count the lines of out, and those with ": warning: " in *warnings. */
static int
count_lines(const char *out, int *warnings)
{
	int n = 0;

	*warnings = 0;
	for (const char *p = out; *p != '\0';) {
		const char *eol = strchr(p, '\n');
		size_t l = eol ? (size_t)(eol - p) : strlen(p);

		if (memmem(p, l, ": warning: ", 11) != NULL)
			(*warnings)++;
		n++;
		p += l + (eol ? 1 : 0);
	}
	return n;
}

/* Run text through lint_env; the messages, for the caller to free. */
static char *
lint(const char *label, const char *text, int *errors, int *warnings)
{
	struct strbuf out = {0};
	char *got;
	int lines, w;

	*errors = lint_env(label, text, strlen(text), &out, warnings);
	got = strbuf_take(&out);
	assert_non_null(got);
	lines = count_lines(got, &w);
	assert_int_equal(w, *warnings);
	assert_int_equal(lines - w, *errors);
	return got;
}

/* data/lint_env/NAME.env against NAME.out; returns the errors. */
static int
golden(const char *envpath, const char *outpath, int *warnings)
{
	size_t len, elen;
	char *text = read_all(envpath, &len);
	char *expect = read_all(outpath, &elen);
	char *got;
	int errors;

	assert_int_equal(strlen(text), len);
	got = lint(envpath, text, &errors, warnings);
	if (strcmp(got, expect) != 0)
		fail_msg(
		    "%s:\n--- expected\n%s--- got\n%s", envpath, expect, got);
	free(text);
	free(expect);
	free(got);
	return errors;
}

struct golden_case {
	const char *name;
	int errors, warnings;
};

/* One failing example per rule (warnings: exit 0 but told). */
static const struct golden_case golden_cases[] = {
    {"ok", 0, 0},
    {"missing_required", 2, 0},
    {"empty_password_development", 0, 1},
    {"empty_password_production", 1, 0},
    {"db_name", 2, 0},
    {"pool_size", 1, 0},
    {"pool_size_low", 1, 0},
    {"bypass_pgbouncer", 0, 2},
    {"db_port_nonstandard", 0, 1},
    {"port_range", 3, 0},
    {"redis_password_production", 1, 0},
    {"redis_password_missing_production", 1, 0},
    {"connect_timeout", 1, 0},
    {"profile_unknown", 1, 0},
    {"malformed", 4, 0},
};

static void
test_lint_env_golden(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(golden_cases) / sizeof(golden_cases[0]);
	     i++) {
		const struct golden_case *c = &golden_cases[i];
		char env[128], out[128];
		int warnings;

		snprintf(env, sizeof(env), "data/lint_env/%s.env", c->name);
		snprintf(out, sizeof(out), "data/lint_env/%s.out", c->name);
		assert_int_equal(golden(env, out, &warnings), c->errors);
		assert_int_equal(warnings, c->warnings);
	}
}

/* The shipped template: no error (its empty required values warn). */
static void
test_lint_env_example(void **state)
{
	int warnings;

	(void)state;
	/* the .out names the file as lint-env run from tests/ shows it */
	assert_int_equal(golden("../config/env.example",
			     "data/lint_env/env.example.out", &warnings),
	    0);
	assert_int_equal(warnings, 4);
}

/* No value of any variable shows in the messages. */
static void
test_lint_env_no_secret(void **state)
{
	static const char *const texts[] = {
	    "DB_PASSWORD=\"Zsecret\n",	     /* unterminated */
	    "DB_PASSWORD='Zsecret' x\n",     /* text after the quote */
	    "Zsecret\n",		     /* malformed: the whole line */
	    "POSTGRES_DB=Zsecret-x\n",	     /* bad name */
	    "DB_PORT=Zsecret\n",	     /* bad port */
	    "PGBOUNCER_POOL_SIZE=Zsecret\n", /* bad pool */
	};
	int errors, warnings;

	(void)state;
	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		char *got = lint("t.env", texts[i], &errors, &warnings);

		assert_true(errors > 0);
		assert_null(strstr(got, "Zsecret"));
		free(got);
	}
}

/* Syntax: CRLF, export, quotes, inline comments, the last one wins. */
static void
test_lint_env_syntax(void **state)
{
	static const char base[] = "POSTGRES_USER=u\r\nPOSTGRES_PASSWORD=p\r\n"
				   "DB_USER=u\nDB_PASSWORD_FILE=/f\n";
	char text[512];
	char *got;
	int errors, warnings;

	(void)state;
	snprintf(text, sizeof(text),
	    "%sexport\tPGBOUNCER_POOL_SIZE=60\nPGBOUNCER_POOL_SIZE=30 # ok\n"
	    "DB_PORT=\"6432\"  # quoted\nDB_NAME='a_b' \n",
	    base);
	got = lint("t.env", text, &errors, &warnings);
	assert_string_equal(got, "");
	free(got);
	/* an empty VAR beside VAR_FILE: the file (as readyd reads them) */
	snprintf(text, sizeof(text),
	    "%sDB_PASSWORD=\nREADYD_PROFILE=production\n"
	    "REDIS_PASSWORD_FILE=/r\n",
	    base);
	got = lint("t.env", text, &errors, &warnings);
	assert_string_equal(got, "");
	free(got);
	/* an empty VAR_FILE alone is empty too */
	got = lint("t.env",
	    "POSTGRES_USER=u\nPOSTGRES_PASSWORD=p\nDB_USER=u\n"
	    "DB_PASSWORD_FILE=\nREADYD_PROFILE=production\n"
	    "REDIS_PASSWORD=r\n",
	    &errors, &warnings);
	assert_string_equal(got,
	    "t.env:4: DB_PASSWORD: empty in the "
	    "production profile (accepted: a non-empty "
	    "value, or VAR_FILE)\n");
	free(got);
	/* a '#' inside a bare value without a blank before it is kept */
	snprintf(text, sizeof(text), "%sPOSTGRES_DB=a#b\n", base);
	got = lint("t.env", text, &errors, &warnings);
	assert_int_equal(errors, 1);
	free(got);
	/* no trailing newline, empty file */
	got = lint("t.env", "DB_PORT=0", &errors, &warnings);
	assert_int_equal(errors, 5); /* 4 required missing + the port */
	free(got);
	got = lint("t.env", "", &errors, &warnings);
	assert_int_equal(errors, 4);
	free(got);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_lint_env_golden),
	    cmocka_unit_test(test_lint_env_example),
	    cmocka_unit_test(test_lint_env_no_secret),
	    cmocka_unit_test(test_lint_env_syntax),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
