/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for config.c: durations, ${VAR} expansion, the built-in
 * default, golden error files in data/config/, and the effective config.
 * Owns: nothing; run with cwd = tests/.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "probe.h"

#define GOLDEN_DIR "data/config/"

/* Every environment variable a test sets; cleared before each test. */
static const char *const test_vars[] = {
    "READYD_CONFIG",
    "READYD_LISTEN",
    "RT_VAR",
    "RT_VAR_FILE",
    "RT_SECRET",
    "RT_OTHER",
    "POSTGRES_HOST",
    "POSTGRES_PORT",
    "POSTGRES_DB",
    "POSTGRES_USER",
    "POSTGRES_USER_FILE",
    "POSTGRES_PASSWORD",
    "POSTGRES_PASSWORD_FILE",
    "DB_HOST",
    "DB_PORT",
    "DB_NAME",
    "DB_USER",
    "DB_USER_FILE",
    "DB_PASSWORD",
    "DB_PASSWORD_FILE",
    "REDIS_HOST",
    "REDIS_PORT",
    "REDIS_PASSWORD",
    "REDIS_PASSWORD_FILE",
    "READYD_TEST_UNSET_HOST",
    "READYD_TEST_UNSET_HOST_FILE",
    "READYD_TEST_UNSET_PORT",
    "READYD_TEST_UNSET_PORT_FILE",
    "READYD_TEST_UNSET_USER",
    "READYD_TEST_UNSET_USER_FILE",
    "READYD_TEST_UNSET_PASSWORD",
    "READYD_TEST_UNSET_PASSWORD_FILE",
    "READYD_TEST_UNSET_DB",
    "READYD_TEST_UNSET_DB_FILE",
    "READYD_PROFILE",
    "RT_PROFILE",
};

static int
clear_env(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(test_vars) / sizeof(test_vars[0]); i++)
		unsetenv(test_vars[i]);
	return 0;
}

static void
set_stack_env(void)
{
	setenv("POSTGRES_USER", "pguser", 1);
	setenv("POSTGRES_PASSWORD", "pg-secret-1", 1);
	setenv("DB_USER", "appuser", 1);
	setenv("DB_PASSWORD", "app-secret-2", 1);
}

/* Write text to a new temporary file; the caller unlinks and frees. */
static char *
temp_file(const char *text)
{
	char *path = strdup("/tmp/readyd-test-config-XXXXXX");
	int fd;

	assert_non_null(path);
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	return path;
}

static char *
read_all(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf;
	long len;

	if (f == NULL)
		fail_msg("cannot read %s: %s", path, strerror(errno));
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	len = ftell(f);
	assert_true(len >= 0);
	rewind(f);
	buf = calloc(1, (size_t)len + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)len, f), (size_t)len);
	fclose(f);
	return buf;
}

static struct config *
load_text(const char *text, char *err, size_t errlen)
{
	return config_load_string("t.conf", text, err, errlen);
}

static struct config *
must_load(const char *text)
{
	char err[CONFIG_ERRLEN];
	struct config *cfg = load_text(text, err, sizeof(err));

	if (cfg == NULL)
		fail_msg("load failed:\n%s", err);
	return cfg;
}

static void
assert_load_fails(const char *text, const char *want)
{
	char err[CONFIG_ERRLEN];
	struct config *cfg = load_text(text, err, sizeof(err));

	assert_null(cfg);
	assert_string_equal(err, want);
}

/* ---- durations ---- */

static void
test_config_duration_units(void **state)
{
	static const struct {
		const char *in;
		int64_t ms;
	} good[] = {
	    {"250ms", 250},
	    {"10s", 10000},
	    {"2m", 120000},
	    {"1h", 3600000},
	    {"45", 45000},
	    {"0", 0},
	    {"0s", 0},
	    {"0ms", 0},
	    {"8760h", 8760LL * 3600000},
	    {"007s", 7000},
	};
	char err[256];
	int64_t ms;

	(void)state;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		ms = -1;
		assert_int_equal(
		    config_parse_duration(good[i].in, &ms, err, sizeof(err)),
		    0);
		assert_int_equal(ms, good[i].ms);
	}
}

static void
test_config_duration_rejects(void **state)
{
	static const char *const bad[] = {"", "-1s", "-5", "10x", "1.5s", "s",
	    "10 s", " 10s", "10S", "10sec", "+5s", "1h30m",
	    "99999999999999999999", "8761h", "525601m", "0x10"};
	char err[256];
	int64_t ms = 42;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		assert_int_equal(
		    config_parse_duration(bad[i], &ms, err, sizeof(err)), -1);
		assert_non_null(strstr(err, "(accepted: "));
		assert_int_equal(ms, 42);
	}
}

static void
test_config_duration_messages(void **state)
{
	char err[256];
	int64_t ms;

	(void)state;
	assert_int_equal(
	    config_parse_duration("10x", &ms, err, sizeof(err)), -1);
	assert_string_equal(err,
	    "not a duration (accepted: 250ms, 10s, 2m, 1h or a bare number of seconds)");
	assert_int_equal(
	    config_parse_duration("-2s", &ms, err, sizeof(err)), -1);
	assert_string_equal(err,
	    "negative (accepted: 250ms, 10s, 2m, 1h or a bare number of seconds)");
	assert_int_equal(
	    config_parse_duration("9999999999h", &ms, err, sizeof(err)), -1);
	assert_string_equal(err, "too large (accepted: at most 8760h)");
}

/* ---- expansion ---- */

static char *
expand_ok(const char *in)
{
	char err[256], *out = NULL;

	if (config_expand(in, &out, err, sizeof(err)) < 0)
		fail_msg("expand \"%s\": %s", in, err);
	assert_non_null(out);
	return out;
}

static void
expand_fails(const char *in, char *err, size_t errlen)
{
	char *out = (char *)"sentinel";

	assert_int_equal(config_expand(in, &out, err, errlen), -1);
	assert_null(out);
}

static void
test_config_expand_literal(void **state)
{
	char *out;

	(void)state;
	out = expand_ok("plain text, no variables");
	assert_string_equal(out, "plain text, no variables");
	free(out);
	out = expand_ok("");
	assert_string_equal(out, "");
	free(out);
}

static void
test_config_expand_set(void **state)
{
	char *out;

	(void)state;
	setenv("RT_VAR", "value", 1);
	setenv("RT_OTHER", "x", 1);
	out = expand_ok("a${RT_VAR}b${RT_OTHER}${RT_VAR}");
	assert_string_equal(out, "avaluebxvalue");
	free(out);
}

static void
test_config_expand_unset_fails(void **state)
{
	char err[256];

	(void)state;
	expand_fails("${RT_VAR}", err, sizeof(err));
	assert_string_equal(err,
	    "environment variable RT_VAR is not set (accepted: set RT_VAR or RT_VAR_FILE, or write ${RT_VAR:-default})");
}

static void
test_config_expand_set_empty(void **state)
{
	char *out;

	(void)state;
	setenv("RT_VAR", "", 1);
	out = expand_ok("[${RT_VAR}]");
	assert_string_equal(out, "[]");
	free(out);
}

static void
test_config_expand_default(void **state)
{
	char *out;

	(void)state;
	out = expand_ok("${RT_VAR:-fallback value}");
	assert_string_equal(out, "fallback value");
	free(out);
	/* Empty counts as unset, as in the shell. */
	setenv("RT_VAR", "", 1);
	out = expand_ok("${RT_VAR:-fallback}");
	assert_string_equal(out, "fallback");
	free(out);
	setenv("RT_VAR", "set", 1);
	out = expand_ok("${RT_VAR:-fallback}");
	assert_string_equal(out, "set");
	free(out);
	unsetenv("RT_VAR");
	out = expand_ok("${RT_VAR:-}");
	assert_string_equal(out, "");
	free(out);
}

static void
test_config_expand_nested_default(void **state)
{
	char *out;

	(void)state;
	setenv("RT_OTHER", "inner", 1);
	out = expand_ok("${RT_VAR:-${RT_OTHER}}");
	assert_string_equal(out, "inner");
	free(out);
	out = expand_ok("${RT_VAR:-a${RT_SECRET:-b}c}");
	assert_string_equal(out, "abc");
	free(out);
}

static void
test_config_expand_file(void **state)
{
	char *path, *out;

	(void)state;
	/* Only one trailing newline is removed. */
	path = temp_file("from-file\n\n");
	setenv("RT_VAR_FILE", path, 1);
	out = expand_ok("${RT_VAR}");
	assert_string_equal(out, "from-file\n");
	free(out);
	/* VAR_FILE comes before the default. */
	out = expand_ok("${RT_VAR:-dflt}");
	assert_string_equal(out, "from-file\n");
	free(out);
	/* An empty VAR beside VAR_FILE counts as unset, as in the images. */
	setenv("RT_VAR", "", 1);
	out = expand_ok("${RT_VAR}");
	assert_string_equal(out, "from-file\n");
	free(out);
	/* VAR wins over VAR_FILE. */
	setenv("RT_VAR", "direct", 1);
	out = expand_ok("${RT_VAR}");
	assert_string_equal(out, "direct");
	free(out);
	unlink(path);
	free(path);
}

static void
test_config_expand_file_unreadable(void **state)
{
	char err[256];

	(void)state;
	setenv("RT_VAR_FILE", "/nonexistent/readyd-secret", 1);
	expand_fails("${RT_VAR}", err, sizeof(err));
	assert_string_equal(err,
	    "RT_VAR_FILE = \"/nonexistent/readyd-secret\": cannot read: No such file or directory (accepted: a readable file)");
}

static void
test_config_expand_dollar(void **state)
{
	char *out;

	(void)state;
	setenv("RT_VAR", "v", 1);
	out = expand_ok("p$$w$$${RT_VAR}$$");
	assert_string_equal(out, "p$w$v$");
	free(out);
	/* A "$" not followed by "{" or "$" is literal. */
	out = expand_ok("a$b $ c$");
	assert_string_equal(out, "a$b $ c$");
	free(out);
	out = expand_ok("$${RT_VAR}");
	assert_string_equal(out, "${RT_VAR}");
	free(out);
}

static void
test_config_expand_unterminated(void **state)
{
	char err[256];

	(void)state;
	expand_fails("abc${RT_VAR", err, sizeof(err));
	assert_string_equal(err,
	    "unterminated \"${\" (accepted: ${VAR}, ${VAR:-default} or $$ for a literal \"$\")");
	expand_fails("${RT_VAR:-${RT_OTHER}", err, sizeof(err));
	assert_non_null(strstr(err, "unterminated"));
}

static void
test_config_expand_bad_reference(void **state)
{
	static const char *const bad[] = {
	    "${}", "${1X}", "${A-b}", "${A:b}", "${A B}", "${A:}"};
	char err[256];

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		expand_fails(bad[i], err, sizeof(err));
		assert_non_null(strstr(err, "invalid variable reference"));
	}
}

static void
test_config_expand_error_has_no_secret(void **state)
{
	char err[256];

	(void)state;
	setenv("RT_SECRET", "topsecret", 1);
	expand_fails(
	    "${RT_SECRET}${RT_VAR:-${RT_SECRET}}${RT_OTHER}", err, sizeof(err));
	assert_null(strstr(err, "topsecret"));
	assert_non_null(strstr(err, "RT_OTHER"));
}

/* ---- the built-in default ---- */

static void
test_config_builtin_matches_file(void **state)
{
	char *text = read_all("../config/readyd.conf");

	(void)state;
	assert_string_equal(config_builtin(), text);
	free(text);
}

static void
test_config_builtin_loads(void **state)
{
	struct config *cfg;
	const struct check_cfg *c;
	const struct group_cfg *g;
	int i;

	(void)state;
	set_stack_env();
	cfg = must_load(config_builtin());
	assert_string_equal(cfg->listen_host, "0.0.0.0");
	assert_int_equal(cfg->listen_port, 8080);
	assert_int_equal(cfg->details, CONFIG_DETAILS_LOCAL);
	assert_int_equal(cfg->nchecks, 5);
	assert_int_equal(cfg->ngroups, 4);

	c = &cfg->checks[config_find_check(cfg, "postgres")];
	assert_string_equal(c->ops->name, "postgres");
	assert_string_equal(c->host, "postgres");
	assert_int_equal(c->port, 5432);
	assert_string_equal(c->dbname, "hdms_db");
	assert_string_equal(c->user, "pguser");
	assert_string_equal(c->password, "pg-secret-1");
	assert_null(c->options);

	c = &cfg->checks[config_find_check(cfg, "pgbouncer")];
	assert_string_equal(c->ops->name, "pgbouncer");
	assert_int_equal(c->port, 6432);
	assert_string_equal(c->options, "-c statement_timeout=0");
	assert_string_equal(c->password, "app-secret-2");

	for (i = 0; i < 3; i++) {
		static const char *const names[] = {
		    "redis-cache", "redis-channels", "redis-celery"};

		c = &cfg->checks[config_find_check(cfg, names[i])];
		assert_string_equal(c->ops->name, "redis");
		assert_int_equal(c->port, 6379);
		assert_int_equal(c->db, i);
		assert_null(c->password); /* ${REDIS_PASSWORD:-} is empty */
		assert_null(c->dbname);
		assert_int_equal(c->interval_ms, 30000);
		assert_int_equal(c->timeout_ms, 10000);
		assert_int_equal(c->retries, 3);
		assert_int_equal(c->start_period_ms, 0);
		assert_int_equal(c->start_interval_ms, 5000);
		assert_int_equal(c->fast_interval_ms, 1000);
		assert_int_equal(c->rise, 1);
		assert_true(c->watch);
		assert_true(c->required);
	}

	g = &cfg->groups[config_find_group(cfg, "file-service")];
	assert_int_equal(g->nchecks, 3);
	assert_string_equal(cfg->checks[g->checks[0]].name, "pgbouncer");
	assert_string_equal(cfg->checks[g->checks[1]].name, "redis-cache");
	assert_string_equal(cfg->checks[g->checks[2]].name, "redis-celery");
	config_free(cfg);
}

static void
test_config_builtin_env_overrides(void **state)
{
	struct config *cfg;
	const struct check_cfg *c;

	(void)state;
	set_stack_env();
	setenv("READYD_LISTEN", "[::1]:9100", 1);
	setenv("POSTGRES_HOST", "10.0.0.5", 1);
	setenv("POSTGRES_PORT", "15432", 1);
	setenv("REDIS_PASSWORD", "redis-secret-3", 1);
	cfg = must_load(config_builtin());
	assert_string_equal(cfg->listen_host, "::1");
	assert_int_equal(cfg->listen_port, 9100);
	c = &cfg->checks[config_find_check(cfg, "postgres")];
	assert_string_equal(c->host, "10.0.0.5");
	assert_int_equal(c->port, 15432);
	c = &cfg->checks[config_find_check(cfg, "redis-celery")];
	assert_string_equal(c->password, "redis-secret-3");
	config_free(cfg);
}

static void
test_config_builtin_unset_names_var(void **state)
{
	char err[CONFIG_ERRLEN];
	struct config *cfg;

	(void)state;
	set_stack_env();
	unsetenv("POSTGRES_USER");
	cfg = config_load_string(
	    "(built-in)", config_builtin(), err, sizeof(err));
	assert_null(cfg);
	assert_string_equal(err,
	    "(built-in):27: [check postgres] user = \"${POSTGRES_USER}\": environment variable POSTGRES_USER is not set (accepted: set POSTGRES_USER or POSTGRES_USER_FILE, or write ${POSTGRES_USER:-default})");
}

static void
test_config_builtin_user_file(void **state)
{
	struct config *cfg;
	char *path;

	(void)state;
	set_stack_env();
	unsetenv("POSTGRES_USER");
	unsetenv("POSTGRES_PASSWORD");
	path = temp_file("from-file-secret\n");
	setenv("POSTGRES_PASSWORD_FILE", path, 1);
	setenv("POSTGRES_USER_FILE", path, 1);
	cfg = must_load(config_builtin());
	assert_string_equal(cfg->checks[0].password, "from-file-secret");
	assert_string_equal(cfg->checks[0].user, "from-file-secret");
	config_free(cfg);
	unlink(path);
	free(path);
}

static void
test_config_load_null_resolution(void **state)
{
	char err[CONFIG_ERRLEN];
	struct config *cfg;

	(void)state;
	setenv("READYD_CONFIG", GOLDEN_DIR "good.conf", 1);
	setenv("RT_SECRET", "env-secret", 1);
	cfg = config_load(NULL, err, sizeof(err));
	if (cfg == NULL)
		fail_msg("%s", err);
	assert_string_equal(cfg->path, GOLDEN_DIR "good.conf");
	config_free(cfg);

	/* Errors name the file $READYD_CONFIG points at. */
	setenv("READYD_CONFIG", GOLDEN_DIR "port_zero.conf", 1);
	assert_null(config_load(NULL, err, sizeof(err)));
	assert_string_equal(err,
	    GOLDEN_DIR
	    "port_zero.conf:4: [check cache] port = \"0\": out of range (accepted: 1-65535)");

	unsetenv("READYD_CONFIG");
	if (access("/etc/readyd/readyd.conf", F_OK) == 0)
		skip();
	set_stack_env();
	cfg = config_load(NULL, err, sizeof(err));
	if (cfg == NULL)
		fail_msg("%s", err);
	assert_string_equal(cfg->path, "(built-in)");
	config_free(cfg);
	unsetenv("POSTGRES_USER");
	assert_null(config_load(NULL, err, sizeof(err)));
	assert_true(strncmp(err, "(built-in):27: ", 15) == 0);
}

static void
test_config_load_unreadable(void **state)
{
	char err[CONFIG_ERRLEN];

	(void)state;
	assert_null(
	    config_load(GOLDEN_DIR "no-such-file.conf", err, sizeof(err)));
	assert_string_equal(err,
	    GOLDEN_DIR
	    "no-such-file.conf: cannot read: No such file or directory");
	assert_null(config_load(GOLDEN_DIR, err, sizeof(err)));
	assert_string_equal(
	    err, GOLDEN_DIR ": not a regular file (accepted: a regular file)");
}

/* ---- golden error files ---- */

static const char *const golden_names[] = {
    "bad_dbname",
    "bad_details",
    "bad_duration",
    "bad_kind",
    "bad_listen",
    "bad_listen_name",
    "bad_listen_port",
    "bad_names",
    "bad_profile",
    "bad_port",
    "defaults_errors",
    "depends_cycle",
    "duplicate_check",
    "duplicate_key",
    "empty_password",
    "group_check_clash",
    "group_unknown_check",
    "kind_keys",
    "long_line",
    "missing_user",
    "no_checks",
    "outside_section",
    "password_both",
    "password_comment",
    "password_masked",
    "port_zero",
    "production_no_password",
    "redis_db_16",
    "retries_zero",
    "syntax_error",
    "timeout_gt_interval",
    "too_many",
    "unknown_key",
    "unknown_section",
    "unset_var",
};

#define NGOLDEN (sizeof(golden_names) / sizeof(golden_names[0]))

static void
test_config_golden(void **state)
{
	const char *name = *state;
	char path[256], want_path[256], err[CONFIG_ERRLEN], *want;
	struct config *cfg;
	size_t len;

	snprintf(path, sizeof(path), GOLDEN_DIR "%s.conf", name);
	snprintf(want_path, sizeof(want_path), GOLDEN_DIR "%s.err", name);
	want = read_all(want_path);
	len = strlen(want);
	if (len > 0 && want[len - 1] == '\n')
		want[len - 1] = '\0';
	cfg = config_load(path, err, sizeof(err));
	if (cfg != NULL) {
		config_free(cfg);
		free(want);
		fail_msg("%s loaded; want:\n%s", path, want);
	}
	if (strcmp(err, want) != 0)
		print_error("got:\n%s\nwant:\n%s\n", err, want);
	assert_string_equal(err, want);
	free(want);
}

/*
 * A secret key's bare ${NAME} or ${NAME:-} is shown (it says which
 * variable was meant); any other text, a default after ":-" included, is
 * masked.
 */
static void
test_config_secret_reference_shown_default_masked(void **state)
{
	char err[CONFIG_ERRLEN];
	struct config *cfg;

	(void)state;
	cfg = load_text("[check c]\nkind = redis\nhost = h\n"
			"password = ${READYD_T_UNSET_PW:-hunter9}\n"
			"password = ${READYD_T_UNSET_PW:-hunter9}\n",
	    err, sizeof(err));
	assert_null(cfg);
	assert_null(strstr(err, "hunter9"));
	assert_non_null(strstr(err, "password = \"***\": duplicate key"));
	cfg = load_text("[check c]\nkind = redis\nhost = h\n"
			"password = ${READYD_T_UNSET_PW}x\n"
			"password = ${READYD_T_UNSET_PW}x\n",
	    err, sizeof(err));
	assert_null(cfg);
	assert_non_null(strstr(err, "password = \"***\": duplicate key"));
	cfg = load_text("[check c]\nkind = redis\nhost = h\n"
			"password = ${READYD_T_UNSET_PW:-}\n"
			"password = ${READYD_T_UNSET_PW:-}\n",
	    err, sizeof(err));
	assert_null(cfg);
	assert_non_null(strstr(
	    err, "password = \"${READYD_T_UNSET_PW:-}\": duplicate key"));
}

static void
test_config_golden_secrets_masked(void **state)
{
	char err[CONFIG_ERRLEN];

	(void)state;
	assert_null(
	    config_load(GOLDEN_DIR "password_masked.conf", err, sizeof(err)));
	assert_null(strstr(err, "hunter"));
	assert_non_null(strstr(err, "\"***\""));
	assert_null(
	    config_load(GOLDEN_DIR "password_both.conf", err, sizeof(err)));
	assert_null(strstr(err, "hunter"));
	assert_null(
	    config_load(GOLDEN_DIR "password_comment.conf", err, sizeof(err)));
	assert_null(strstr(err, "hunter"));
}

static void
test_config_golden_all_listed(void **state)
{
	/* Every .conf in data/config/ but good.conf has a golden entry. */
	DIR *dir = opendir(GOLDEN_DIR);
	struct dirent *de;
	char name[256];
	size_t n = 0, i, len;
	bool found;

	(void)state;
	assert_non_null(dir);
	while ((de = readdir(dir)) != NULL) {
		len = strlen(de->d_name);
		if (len < 6 || len >= sizeof(name) ||
		    strcmp(de->d_name + len - 5, ".conf") != 0 ||
		    strcmp(de->d_name, "good.conf") == 0)
			continue;
		memcpy(name, de->d_name, len - 5);
		name[len - 5] = '\0';
		found = false;
		for (i = 0; i < NGOLDEN && !found; i++)
			found = strcmp(golden_names[i], name) == 0;
		if (!found)
			fail_msg("%s.conf is not in golden_names", name);
		n++;
	}
	closedir(dir);
	assert_int_equal(n, NGOLDEN);
}

/* ---- good configurations ---- */

static void
test_config_good_overrides(void **state)
{
	struct config *cfg;
	const struct check_cfg *c;
	char *path;

	(void)state;
	path = temp_file("file-secret\n");
	setenv("RT_VAR_FILE", path, 1);
	setenv("RT_SECRET", "env-secret", 1);
	cfg = config_load(GOLDEN_DIR "good.conf", NULL, 0);
	assert_non_null(cfg);
	assert_string_equal(cfg->path, GOLDEN_DIR "good.conf");
	assert_string_equal(cfg->listen_host, "127.0.0.1");
	assert_int_equal(cfg->listen_port, 9000);
	assert_int_equal(cfg->details, CONFIG_DETAILS_ALL);
	assert_int_equal(cfg->nchecks, 3);
	assert_int_equal(cfg->ngroups, 1);

	c = &cfg->checks[0];
	assert_string_equal(c->name, "main-db");
	assert_ptr_equal(c->ops, probe_find("postgres"));
	assert_string_equal(c->host, "db.internal");
	assert_int_equal(c->port, 5433);
	assert_string_equal(c->dbname, "app_db");
	assert_string_equal(c->user, "app");
	assert_string_equal(c->password, "env-secret");
	assert_string_equal(c->options, "-c statement_timeout=0");
	assert_true(c->required);
	assert_int_equal(c->interval_ms, 250);
	assert_int_equal(c->timeout_ms, 250);
	assert_int_equal(c->retries, 5);
	assert_int_equal(c->start_period_ms, 120000);
	assert_int_equal(c->start_interval_ms, 2000);
	assert_int_equal(c->fast_interval_ms, 100);
	assert_int_equal(c->rise, 2);
	assert_false(c->watch);
	assert_int_equal(c->ndepends, 0);
	assert_null(c->depends_on);
	assert_int_equal(c->line, 17);

	c = &cfg->checks[1];
	assert_string_equal(c->name, "pool");
	assert_ptr_equal(c->ops, probe_find("pgbouncer"));
	assert_string_equal(c->host, "::1");
	assert_int_equal(c->port, 6432);
	/* No dbname: PostgreSQL's default, the database named as the user. */
	assert_null(c->dbname);
	assert_string_equal(c->password, "file-secret");
	assert_null(c->options);
	assert_false(c->required);
	/* From [defaults], which comes after this check in the file. */
	assert_int_equal(c->interval_ms, 60000);
	assert_int_equal(c->timeout_ms, 3000);
	assert_int_equal(c->retries, 4);
	assert_int_equal(c->start_period_ms, 0);
	assert_int_equal(c->start_interval_ms, 5000);
	assert_int_equal(c->fast_interval_ms, 1000);
	assert_int_equal(c->rise, 1);
	assert_true(c->watch);
	assert_int_equal(c->ndepends, 1);
	assert_string_equal(c->depends_on[0], "main-db");
	assert_null(c->depends_on[1]);
	assert_int_equal(c->depends_idx[0], 0);

	c = &cfg->checks[2];
	assert_string_equal(c->name, "cache.1");
	assert_ptr_equal(c->ops, probe_find("redis"));
	assert_string_equal(c->host, "10.1.2.3");
	assert_int_equal(c->port, 6379);
	assert_int_equal(c->db, 15);
	assert_null(c->dbname);
	assert_null(c->user);
	assert_string_equal(c->password, "p#ss;word");
	assert_int_equal(c->interval_ms, 3600000);
	assert_int_equal(c->timeout_ms, 3000);
	assert_int_equal(c->ndepends, 2);
	assert_int_equal(c->depends_idx[0], 0);
	assert_int_equal(c->depends_idx[1], 1);

	assert_string_equal(cfg->groups[0].name, "web");
	assert_int_equal(cfg->groups[0].nchecks, 2);
	assert_int_equal(cfg->groups[0].checks[0], 2);
	assert_int_equal(cfg->groups[0].checks[1], 0);
	assert_int_equal(cfg->groups[0].line, 1);
	config_free(cfg);
	unlink(path);
	free(path);
}

static const char order_a[] = "[daemon]\n"
			      "details = none\n"
			      "[defaults]\n"
			      "interval = 2m\n"
			      "retries = 7\n"
			      "[check x]\n"
			      "kind = redis\n"
			      "host = h\n"
			      "[check y]\n"
			      "kind = redis\n"
			      "host = h\n"
			      "retries = 1\n"
			      "[group g]\n"
			      "checks = y x\n";

static const char order_b[] = "[group g]\n"
			      "checks = y,x\n"
			      "[check y]\n"
			      "retries = 1\n"
			      "host = h\n"
			      "kind = redis\n"
			      "[check x]\n"
			      "host = h\n"
			      "kind = redis\n"
			      "[defaults]\n"
			      "retries = 7\n"
			      "interval = 2m\n"
			      "[daemon]\n"
			      "details = none\n";

static void
test_config_section_order_independent(void **state)
{
	struct config *a, *b;
	const struct check_cfg *ca, *cb;
	const char *names[] = {"x", "y"};

	(void)state;
	a = must_load(order_a);
	b = must_load(order_b);
	assert_int_equal(a->details, CONFIG_DETAILS_NONE);
	assert_int_equal(b->details, CONFIG_DETAILS_NONE);
	for (size_t i = 0; i < 2; i++) {
		ca = &a->checks[config_find_check(a, names[i])];
		cb = &b->checks[config_find_check(b, names[i])];
		assert_int_equal(ca->interval_ms, 120000);
		assert_int_equal(cb->interval_ms, 120000);
		assert_int_equal(ca->retries, cb->retries);
		assert_int_equal(ca->retries, i == 0 ? 7 : 1);
	}
	assert_int_equal(a->groups[0].nchecks, 2);
	assert_int_equal(b->groups[0].nchecks, 2);
	for (size_t i = 0; i < 2; i++)
		assert_string_equal(a->checks[a->groups[0].checks[i]].name,
		    b->checks[b->groups[0].checks[i]].name);
	config_free(a);
	config_free(b);
}

static void
test_config_defaults_timeout_interval(void **state)
{
	struct config *cfg;

	(void)state;
	/* A check may raise interval above a [defaults] timeout. */
	cfg = must_load("[defaults]\ntimeout = 40s\ninterval = 1m\n"
			"[check x]\nkind = redis\nhost = h\ninterval = 40s\n");
	assert_int_equal(cfg->checks[0].timeout_ms, 40000);
	assert_int_equal(cfg->checks[0].interval_ms, 40000);
	config_free(cfg);
	assert_load_fails("[check x]\nkind = redis\nhost = h\ninterval = 5s\n",
	    "t.conf:4: [check x] interval = \"5s\": 5s is shorter than the timeout 10s (accepted: at least the timeout)");
}

static void
test_config_print_masks_password(void **state)
{
	struct config *cfg;
	char *buf = NULL;
	size_t len = 0;
	FILE *out;

	(void)state;
	set_stack_env();
	setenv("REDIS_PASSWORD", "redis-secret-3", 1);
	unsetenv("PG_MAJOR");
	unsetenv("PGBOUNCER_PASSWORD");
	cfg = must_load(config_builtin());
	out = open_memstream(&buf, &len);
	assert_non_null(out);
	config_print(cfg, out);
	fclose(out);
	assert_null(strstr(buf, "pg-secret-1"));
	assert_null(strstr(buf, "app-secret-2"));
	assert_null(strstr(buf, "redis-secret-3"));
	assert_non_null(strstr(buf, "\npassword = ***\n"));
	/* the admin console's password defaults to POSTGRES_PASSWORD */
	assert_non_null(strstr(buf, "\nadmin_password = ***\n"));
	assert_non_null(strstr(
	    buf, "\n[daemon]\nlisten = 0.0.0.0:8080\ndetails = local\n"));
	assert_non_null(strstr(buf,
	    "\n[check postgres]\nkind = postgres\nhost = postgres\nport = 5432\ndbname = hdms_db\nuser = pguser\npassword = ***\nexpect_version = 16\nrequired = yes\ninterval = 30s\ntimeout = 10s\nretries = 3\nstart_period = 0s\nstart_interval = 5s\nfast_interval = 1s\nrise = 1\nwatch = yes\n"));
	assert_non_null(strstr(buf,
	    "\n[group file-service]\nchecks = pgbouncer redis-cache redis-celery\n"));
	free(buf);
	config_free(cfg);
}

/* [daemon] profile: development by default; production needs passwords. */
static void
test_config_profile(void **state)
{
	char text[512], want[512], *path;
	struct config *cfg;
	char *buf = NULL;
	size_t len = 0;
	FILE *out;

	(void)state;
	cfg = must_load("[check c]\nkind = redis\nhost = h\n");
	assert_int_equal(cfg->profile, CONFIG_PROFILE_DEVELOPMENT);
	assert_false(cfg->checks[0].production);
	assert_null(cfg->checks[0].password);
	config_free(cfg);

	setenv("RT_PROFILE", "production", 1);
	cfg = must_load("[daemon]\nprofile = ${RT_PROFILE}\n"
			"[check c]\nkind = redis\nhost = h\npassword = pw\n"
			"[check t]\nkind = tcp\nhost = h\nport = 1\n");
	assert_int_equal(cfg->profile, CONFIG_PROFILE_PRODUCTION);
	assert_true(cfg->checks[0].production);
	assert_true(cfg->checks[1].production);
	out = open_memstream(&buf, &len);
	assert_non_null(out);
	config_print(cfg, out);
	fclose(out);
	assert_non_null(strstr(buf, "\nprofile = production\n"));
	assert_null(strstr(buf, "pw"));
	free(buf);
	config_free(cfg);
	assert_string_equal(
	    config_profile_name(CONFIG_PROFILE_DEVELOPMENT), "development");
	assert_string_equal(
	    config_profile_name(CONFIG_PROFILE_COUNT), "unknown");

	/* postgres needs one in every profile: the message is unchanged */
	assert_load_fails("[daemon]\nprofile = production\n"
			  "[check c]\nkind = redis\nhost = h\nuser = u\n"
			  "[check p]\nkind = postgres\nhost = h\nuser = u\n",
	    "t.conf:3: [check c] password: missing, required by profile = production at line 2 (accepted: a non-empty password or password_file)\n"
	    "t.conf:7: [check p] password: missing (accepted: a non-empty password or password_file)");
	assert_load_fails("[daemon]\nprofile = Production\n"
			  "[check c]\nkind = redis\nhost = h\n",
	    "t.conf:2: [daemon] profile = \"Production\": invalid value (accepted: development, production)");
	/* an empty password_file counts as none */
	path = temp_file("\n");
	snprintf(text, sizeof(text),
	    "[daemon]\nprofile = production\n"
	    "[check c]\nkind = redis\nhost = h\npassword_file = %s\n",
	    path);
	snprintf(want, sizeof(want),
	    "t.conf:6: [check c] password_file = \"%s\": file is empty, required by profile = production at line 2 (accepted: a file holding a non-empty password)",
	    path);
	assert_load_fails(text, want);
	unlink(path);
	free(path);
}

/* A kind's validate names the key: the message points at its line. */
static void
test_config_kind_validate_blames_key(void **state)
{
	(void)state;
	setenv("RT_OPTS", "-c a=1\n-c b=2", 1);
	assert_load_fails("[check pg]\nkind = postgres\nhost = h\nuser = u\n"
			  "password = p\noptions = ${RT_OPTS}\n",
	    "t.conf:6: [check pg] options = \"${RT_OPTS}\": contains a newline (accepted: libpq startup options such as -c statement_timeout=0)");
	unsetenv("RT_OPTS");
}

/* Credentials are a kind's keys: a kind without them refuses them. */
static void
test_config_kind_key_lists(void **state)
{
	char path[] = "/tmp/readyd-test-empty.XXXXXX", text[256];
	struct config *cfg;
	int fd = mkstemp(path);

	(void)state;
	assert_true(fd >= 0);
	close(fd);
	snprintf(text, sizeof(text),
	    "[check c]\nkind = redis\nhost = h\nuser = u\n"
	    "password_file = %s\n",
	    path);
	cfg = must_load(text);
	unlink(path);
	assert_string_equal(cfg->checks[0].user, "u");
	assert_null(cfg->checks[0].password);
	assert_int_equal(cfg->checks[0].port, 6379);
	config_free(cfg);
}

/*
 * Files that are not regular are refused without blocking: a FIFO with no
 * writer would make open() wait forever (on the event loop, at reload).
 */
static void
test_config_files_must_be_regular(void **state)
{
	char dir[] = "/tmp/readyd-test-fifo.XXXXXX", fifo[64], text[256];
	char err[CONFIG_ERRLEN], *v = NULL;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(fifo, sizeof(fifo), "%s/pw", dir);
	assert_int_equal(mkfifo(fifo, 0600), 0);
	/* the configuration file */
	assert_null(config_load(fifo, err, sizeof(err)));
	snprintf(text, sizeof(text),
	    "%s: not a regular file (accepted: a regular file)", fifo);
	assert_string_equal(err, text);
	/* password_file */
	snprintf(text, sizeof(text),
	    "[check c]\nkind = postgres\nhost = h\nuser = u\n"
	    "password_file = %s\n",
	    fifo);
	assert_null(load_text(text, err, sizeof(err)));
	assert_non_null(strstr(err, "not a regular file"));
	assert_non_null(strstr(err, fifo));
	/* VAR_FILE */
	unsetenv("RT_FIFO_PW");
	setenv("RT_FIFO_PW_FILE", fifo, 1);
	assert_int_equal(
	    config_expand("${RT_FIFO_PW}", &v, err, sizeof(err)), -1);
	assert_null(v);
	assert_non_null(strstr(err, "RT_FIFO_PW_FILE"));
	assert_non_null(strstr(err, "not a regular file"));
	unsetenv("RT_FIFO_PW_FILE");
	/* a device */
	assert_null(config_load("/dev/null", err, sizeof(err)));
	assert_string_equal(
	    err, "/dev/null: not a regular file (accepted: a regular file)");
	unlink(fifo);
	rmdir(dir);
}

static void
test_config_print_round_trips(void **state)
{
	struct config *cfg, *again;
	char *buf = NULL, *buf2 = NULL;
	size_t len = 0, len2 = 0;
	FILE *out;

	(void)state;
	cfg = must_load("[daemon]\nlisten = [::1]:81\n"
			"[check a]\nkind = redis\nhost = ::1\ndb = 3\n"
			"interval = 90s\ntimeout = 1500ms\nstart_period = 3m\n"
			"required = off\nwatch = FALSE\n"
			"[check b]\nkind = redis\nhost = h\ndepends_on = a\n"
			"interval = 2h\n[group g]\nchecks = b a\n");
	out = open_memstream(&buf, &len);
	config_print(cfg, out);
	fclose(out);
	assert_non_null(strstr(buf, "listen = [::1]:81\n"));
	assert_non_null(strstr(buf, "interval = 90s\n"));
	assert_non_null(strstr(buf, "timeout = 1500ms\n"));
	assert_non_null(strstr(buf, "start_period = 3m\n"));
	assert_non_null(strstr(buf, "interval = 2h\n"));
	assert_non_null(strstr(buf, "db = 3\n"));
	assert_non_null(strstr(buf, "required = no\n"));
	assert_non_null(strstr(buf, "watch = no\n"));
	assert_non_null(strstr(buf, "depends_on = a\n"));
	/* The printed configuration loads to the same thing. */
	again = must_load(buf);
	out = open_memstream(&buf2, &len2);
	config_print(again, out);
	fclose(out);
	assert_string_equal(strchr(buf, '\n'), strchr(buf2, '\n'));
	free(buf);
	free(buf2);
	config_free(cfg);
	config_free(again);
}

static void
test_config_print_null(void **state)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *out;

	(void)state;
	out = open_memstream(&buf, &len);
	config_print(NULL, out);
	fclose(out);
	assert_int_equal(len, 0);
	free(buf);
}

static void
test_config_password_file(void **state)
{
	struct config *cfg;
	char text[512], *path;

	(void)state;
	path = temp_file("s3cret\n");
	snprintf(text, sizeof(text),
	    "[check pg]\nkind = postgres\nhost = h\nuser = u\n"
	    "password_file = %s\n",
	    path);
	cfg = must_load(text);
	assert_string_equal(cfg->checks[0].password, "s3cret");
	config_free(cfg);
	unlink(path);

	/* An empty secret file is an error for postgres. */
	free(path);
	path = temp_file("\n");
	snprintf(text, sizeof(text),
	    "[check pg]\nkind = postgres\nhost = h\nuser = u\n"
	    "password_file = %s\n",
	    path);
	{
		char err[CONFIG_ERRLEN], want[512];

		assert_null(load_text(text, err, sizeof(err)));
		snprintf(want, sizeof(want),
		    "t.conf:5: [check pg] password_file = \"%s\": file is empty (accepted: a file holding a non-empty password)",
		    path);
		assert_string_equal(err, want);
	}
	unlink(path);
	free(path);
}

static void
test_config_inline_comments(void **state)
{
	struct config *cfg;

	(void)state;
	cfg = must_load("; leading comment\n"
			"# another\n"
			"[check c] # trailing comment on a header\n"
			"kind = redis ; why\n"
			"host = localhost    # the host\n"
			"password = a#b;c\n"
			"port=6380\n"
			"  db   =   4   \n");
	assert_string_equal(cfg->checks[0].host, "localhost");
	assert_string_equal(cfg->checks[0].password, "a#b;c");
	assert_int_equal(cfg->checks[0].port, 6380);
	assert_int_equal(cfg->checks[0].db, 4);
	config_free(cfg);
}

static void
test_config_crlf_and_bom(void **state)
{
	struct config *cfg;

	(void)state;
	cfg = must_load("\xEF\xBB\xBF[check c]\r\nkind = redis\r\n"
			"host = h\r\n[group g]\r\nchecks = c\r\n");
	assert_string_equal(cfg->checks[0].host, "h");
	assert_int_equal(cfg->groups[0].nchecks, 1);
	config_free(cfg);
}

static void
test_config_long_lines(void **state)
{
	size_t n = 4096 - strlen("password = ");
	char *text = malloc(8192), *p;
	struct config *cfg;

	(void)state;
	assert_non_null(text);
	p = text + sprintf(text, "[check c]\nkind = redis\nhost = h\n");
	p += sprintf(p, "password = ");
	memset(p, 'x', n);
	p[n] = '\n';
	p[n + 1] = '\0';
	cfg = must_load(text); /* exactly 4096 characters */
	assert_int_equal(strlen(cfg->checks[0].password), n);
	config_free(cfg);

	p[n] = 'x'; /* 4097 */
	p[n + 1] = '\n';
	p[n + 2] = '\0';
	assert_load_fails(
	    text, "t.conf:4: line too long (accepted: up to 4096 characters)");
	free(text);
}

static void
test_config_multiline_rejected(void **state)
{
	(void)state;
	/* An indented line is not a continuation of the previous value. */
	assert_load_fails("[check c]\nkind = redis\nhost = h\n  more\n",
	    "t.conf:4: syntax error (accepted: \"[SECTION]\", \"KEY = VALUE\" or a comment starting with \"#\" or \";\")");
}

static void
test_config_listen_forms(void **state)
{
	static const struct {
		const char *listen;
		const char *host;
		int port;
	} good[] = {
	    {"0.0.0.0:8080", "0.0.0.0", 8080},
	    {"[::]:80", "::", 80},
	    {"[fe80::1]:65535", "fe80::1", 65535},
	    {"127.0.0.1:1", "127.0.0.1", 1},
	};
	static const char *const bad[] = {"8080", ":8080", "host:", "host:0",
	    "host:65536", "::1:80", "[::1]80", "[zz]:80", "h st:80", "[::1]:x",
	    "localhost:1", "1.2.3:80"};
	char text[256], err[CONFIG_ERRLEN];
	struct config *cfg;

	(void)state;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		snprintf(text, sizeof(text),
		    "[daemon]\nlisten = %s\n[check c]\nkind = redis\nhost = h\n",
		    good[i].listen);
		cfg = must_load(text);
		assert_string_equal(cfg->listen_host, good[i].host);
		assert_int_equal(cfg->listen_port, good[i].port);
		config_free(cfg);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(text, sizeof(text),
		    "[daemon]\nlisten = %s\n[check c]\nkind = redis\nhost = h\n",
		    bad[i]);
		assert_null(load_text(text, err, sizeof(err)));
		assert_true(
		    strncmp(err, "t.conf:2: [daemon] listen = \"", 29) == 0);
		assert_non_null(strstr(
		    err, "(accepted: ADDR:PORT or [IPv6]:PORT, PORT 1-65535)"));
	}
}

static void
test_config_booleans(void **state)
{
	static const char *const yes[] = {
	    "yes", "true", "on", "1", "YES", "True"};
	static const char *const no[] = {
	    "no", "false", "off", "0", "No", "OFF"};
	char text[256];
	struct config *cfg;

	(void)state;
	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		snprintf(text, sizeof(text),
		    "[check c]\nkind = redis\nhost = h\nwatch = %s\nrequired = %s\n",
		    yes[i], no[i]);
		cfg = must_load(text);
		assert_true(cfg->checks[0].watch);
		assert_false(cfg->checks[0].required);
		config_free(cfg);
	}
}

static void
test_config_hosts(void **state)
{
	static const char *const good[] = {
	    "redis", "10.0.0.1", "db-1.example.com", "::1", "[::1]", "my_host"};
	static const char *const bad[] = {
	    "", "a b", "-x", "[::1", "1:2:3", "h/x"};
	char text[256], err[CONFIG_ERRLEN];
	struct config *cfg;

	(void)state;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		snprintf(text, sizeof(text),
		    "[check c]\nkind = redis\nhost = %s\n", good[i]);
		cfg = must_load(text);
		assert_null(strchr(cfg->checks[0].host, '['));
		config_free(cfg);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(text, sizeof(text),
		    "[check c]\nkind = redis\nhost = %s\n", bad[i]);
		assert_null(load_text(text, err, sizeof(err)));
		assert_true(
		    strncmp(err, "t.conf:3: [check c] host = ", 27) == 0);
	}
}

static void
test_config_redis_empty_password_is_null(void **state)
{
	struct config *cfg;

	(void)state;
	cfg = must_load("[check c]\nkind = redis\nhost = h\npassword =\n"
			"user = ${RT_VAR:-}\n");
	assert_null(cfg->checks[0].password);
	assert_null(cfg->checks[0].user);
	config_free(cfg);
}

static void
test_config_find_and_names(void **state)
{
	struct config *cfg;

	(void)state;
	cfg = must_load(order_a);
	assert_int_equal(config_find_check(cfg, "x"), 0);
	assert_int_equal(config_find_check(cfg, "y"), 1);
	assert_int_equal(config_find_check(cfg, "g"), -1);
	assert_int_equal(config_find_check(cfg, "nope"), -1);
	assert_int_equal(config_find_group(cfg, "g"), 0);
	assert_int_equal(config_find_group(cfg, "x"), -1);
	assert_int_equal(config_find_check(NULL, "x"), -1);
	assert_int_equal(config_find_group(NULL, "g"), -1);
	config_free(cfg);
	assert_string_equal(config_details_name(CONFIG_DETAILS_LOCAL), "local");
	assert_string_equal(config_details_name(CONFIG_DETAILS_ALL), "all");
	assert_string_equal(config_details_name(CONFIG_DETAILS_NONE), "none");
	config_free(NULL);
}

static void
test_config_small_err_buffer(void **state)
{
	char err[40];

	(void)state;
	memset(err, 'Z', sizeof(err));
	assert_null(config_load(GOLDEN_DIR "too_many.conf", err, sizeof(err)));
	assert_true(memchr(err, '\0', sizeof(err)) != NULL);
	assert_true(strncmp(err, GOLDEN_DIR "too_many.conf:4: ", 20) == 0);
	/* errlen 0 writes nothing and does not crash. */
	assert_null(config_load(GOLDEN_DIR "too_many.conf", err, 0));
}

static void
test_config_error_cap(void **state)
{
	char err[CONFIG_ERRLEN];
	size_t lines = 1;

	(void)state;
	assert_null(config_load(GOLDEN_DIR "too_many.conf", err, sizeof(err)));
	for (const char *p = err; *p != '\0'; p++)
		lines += *p == '\n';
	assert_int_equal(lines, 21);
	assert_non_null(strstr(err, "too many errors, 5 more not shown"));
	assert_int_not_equal(err[strlen(err) - 1], '\n');
}

static void
test_config_dependency_chain_ok(void **state)
{
	struct config *cfg;

	(void)state;
	/* A diamond is not a cycle. */
	cfg = must_load("[check a]\nkind = redis\nhost = h\ndepends_on = b c\n"
			"[check b]\nkind = redis\nhost = h\ndepends_on = d\n"
			"[check c]\nkind = redis\nhost = h\ndepends_on = d, d\n"
			"[check d]\nkind = redis\nhost = h\n");
	assert_int_equal(cfg->checks[0].ndepends, 2);
	assert_int_equal(cfg->checks[0].depends_idx[0], 1);
	assert_int_equal(cfg->checks[0].depends_idx[1], 2);
	assert_int_equal(cfg->checks[2].ndepends, 1);
	assert_int_equal(cfg->checks[2].depends_idx[0], 3);
	assert_int_equal(cfg->checks[3].ndepends, 0);
	config_free(cfg);
}

static void
test_config_empty_group_section_detected(void **state)
{
	(void)state;
	assert_load_fails("[check c]\nkind = redis\nhost = h\n[group g]\n",
	    "t.conf:4: [group g] checks: missing (accepted: check names separated by spaces or commas)");
	assert_load_fails("[check c]\nkind = redis\nhost = h\n[grup g]\n",
	    "t.conf:4: [grup g]: unknown section (did you mean \"[group NAME]\"?)");
}

/* ---- the listen address alone (readyd check) ---- */

/* config_listen_string over text; returns its result, host in host. */
static int
listen_of(const char *text, char *host, size_t hostlen, int *port, char *err,
    size_t errlen)
{
	char *h = NULL;
	int rc;

	*port = 0;
	err[0] = '\0';
	rc = config_listen_string("t.conf", text, &h, port, err, errlen);
	snprintf(host, hostlen, "%s", h != NULL ? h : "(null)");
	if (rc == 0)
		assert_non_null(h);
	else
		assert_null(h);
	free(h);
	return rc;
}

/*
 * The built-in default's listen, without any of the credentials its
 * checks need (a compose healthcheck environment).
 */
static void
test_config_listen_builtin_without_credentials(void **state)
{
	char err[CONFIG_ERRLEN], host[64];
	int port;

	(void)state;
	assert_null(config_load_string(
	    "(built-in)", config_builtin(), err, sizeof(err)));
	assert_int_equal(listen_of(config_builtin(), host, sizeof(host), &port,
			     err, sizeof(err)),
	    0);
	assert_string_equal(host, "0.0.0.0");
	assert_int_equal(port, 8080);
	setenv("READYD_LISTEN", "[::1]:9100", 1);
	assert_int_equal(listen_of(config_builtin(), host, sizeof(host), &port,
			     err, sizeof(err)),
	    0);
	assert_string_equal(host, "::1");
	assert_int_equal(port, 9100);
}

/* Errors anywhere else in the file do not matter; a missing key is 8080. */
static void
test_config_listen_ignores_the_rest(void **state)
{
	char err[CONFIG_ERRLEN], host[64];
	int port;

	(void)state;
	assert_int_equal(listen_of("[chek x]\nfoo = 1\n[daemon]\nbogus = 1\n"
				   "listen = 127.0.0.2:9101\n[check c]\n"
				   "kind = nope\nhost = ${RT_VAR}\n",
			     host, sizeof(host), &port, err, sizeof(err)),
	    0);
	assert_string_equal(host, "127.0.0.2");
	assert_int_equal(port, 9101);
	assert_int_equal(listen_of("[daemon]\ndetails = all\n[check c]\n", host,
			     sizeof(host), &port, err, sizeof(err)),
	    0);
	assert_string_equal(host, "0.0.0.0");
	assert_int_equal(port, 8080);
	assert_int_equal(
	    listen_of("", host, sizeof(host), &port, err, sizeof(err)), 0);
	assert_int_equal(port, 8080);
	/* ${VAR:-default} and VAR as config_load expands them */
	assert_int_equal(listen_of("[daemon]\nlisten = ${RT_VAR:-[::]:9102}\n",
			     host, sizeof(host), &port, err, sizeof(err)),
	    0);
	assert_string_equal(host, "::");
	assert_int_equal(port, 9102);
	setenv("RT_VAR", "10.1.2.3:9103", 1);
	assert_int_equal(listen_of("[daemon]\nlisten = ${RT_VAR}\n", host,
			     sizeof(host), &port, err, sizeof(err)),
	    0);
	assert_string_equal(host, "10.1.2.3");
	assert_int_equal(port, 9103);
}

static void
test_config_listen_bad_key(void **state)
{
	char err[CONFIG_ERRLEN], host[64];
	int port;

	(void)state;
	assert_int_equal(listen_of("[daemon]\nlisten = ${RT_VAR}\n", host,
			     sizeof(host), &port, err, sizeof(err)),
	    -2);
	assert_string_equal(err,
	    "t.conf:2: [daemon] listen: environment variable RT_VAR is not set (accepted: set RT_VAR or RT_VAR_FILE, or write ${RT_VAR:-default})");
	assert_int_equal(listen_of("\n[daemon]\nlisten = localhost\n", host,
			     sizeof(host), &port, err, sizeof(err)),
	    -2);
	assert_string_equal(err,
	    "t.conf:3: [daemon] listen = \"localhost\": missing port (accepted: ADDR:PORT or [IPv6]:PORT, PORT 1-65535)");
}

static void
test_config_listen_files(void **state)
{
	char err[CONFIG_ERRLEN], *host = NULL;
	char *path = temp_file("[daemon]\nlisten = 127.0.0.3:9104\n"
			       "[check c]\nkind = redis\nuser = ${RT_VAR}\n");
	int port = 0;

	(void)state;
	assert_int_equal(
	    config_load_listen(path, &host, &port, err, sizeof(err)), 0);
	assert_string_equal(host, "127.0.0.3");
	assert_int_equal(port, 9104);
	free(host);
	/* path NULL: $READYD_CONFIG, as config_load finds it */
	setenv("READYD_CONFIG", path, 1);
	assert_int_equal(
	    config_load_listen(NULL, &host, &port, err, sizeof(err)), 0);
	assert_string_equal(host, "127.0.0.3");
	free(host);
	unlink(path);
	assert_int_equal(
	    config_load_listen(path, &host, &port, err, sizeof(err)), -1);
	assert_null(host);
	assert_non_null(strstr(err, "cannot read"));
	free(path);
}

int
main(void)
{
	const struct CMUnitTest fixed[] = {
	    cmocka_unit_test_setup(test_config_duration_units, clear_env),
	    cmocka_unit_test_setup(test_config_duration_rejects, clear_env),
	    cmocka_unit_test_setup(test_config_duration_messages, clear_env),
	    cmocka_unit_test_setup(test_config_expand_literal, clear_env),
	    cmocka_unit_test_setup(test_config_expand_set, clear_env),
	    cmocka_unit_test_setup(test_config_expand_unset_fails, clear_env),
	    cmocka_unit_test_setup(test_config_expand_set_empty, clear_env),
	    cmocka_unit_test_setup(test_config_expand_default, clear_env),
	    cmocka_unit_test_setup(
		test_config_expand_nested_default, clear_env),
	    cmocka_unit_test_setup(test_config_expand_file, clear_env),
	    cmocka_unit_test_setup(
		test_config_expand_file_unreadable, clear_env),
	    cmocka_unit_test_setup(test_config_expand_dollar, clear_env),
	    cmocka_unit_test_setup(test_config_expand_unterminated, clear_env),
	    cmocka_unit_test_setup(test_config_expand_bad_reference, clear_env),
	    cmocka_unit_test_setup(
		test_config_expand_error_has_no_secret, clear_env),
	    cmocka_unit_test_setup(test_config_builtin_matches_file, clear_env),
	    cmocka_unit_test_setup(test_config_builtin_loads, clear_env),
	    cmocka_unit_test_setup(
		test_config_builtin_env_overrides, clear_env),
	    cmocka_unit_test_setup(
		test_config_builtin_unset_names_var, clear_env),
	    cmocka_unit_test_setup(test_config_builtin_user_file, clear_env),
	    cmocka_unit_test_setup(test_config_load_null_resolution, clear_env),
	    cmocka_unit_test_setup(test_config_load_unreadable, clear_env),
	    cmocka_unit_test_setup(
		test_config_files_must_be_regular, clear_env),
	    cmocka_unit_test_setup(
		test_config_golden_secrets_masked, clear_env),
	    cmocka_unit_test_setup(
		test_config_secret_reference_shown_default_masked, clear_env),
	    cmocka_unit_test_setup(test_config_golden_all_listed, clear_env),
	    cmocka_unit_test_setup(test_config_good_overrides, clear_env),
	    cmocka_unit_test_setup(
		test_config_section_order_independent, clear_env),
	    cmocka_unit_test_setup(
		test_config_defaults_timeout_interval, clear_env),
	    cmocka_unit_test_setup(test_config_print_masks_password, clear_env),
	    cmocka_unit_test_setup(test_config_profile, clear_env),
	    cmocka_unit_test_setup(
		test_config_kind_validate_blames_key, clear_env),
	    cmocka_unit_test_setup(test_config_kind_key_lists, clear_env),
	    cmocka_unit_test_setup(test_config_print_round_trips, clear_env),
	    cmocka_unit_test_setup(test_config_print_null, clear_env),
	    cmocka_unit_test_setup(test_config_password_file, clear_env),
	    cmocka_unit_test_setup(test_config_inline_comments, clear_env),
	    cmocka_unit_test_setup(test_config_crlf_and_bom, clear_env),
	    cmocka_unit_test_setup(test_config_long_lines, clear_env),
	    cmocka_unit_test_setup(test_config_multiline_rejected, clear_env),
	    cmocka_unit_test_setup(test_config_listen_forms, clear_env),
	    cmocka_unit_test_setup(test_config_booleans, clear_env),
	    cmocka_unit_test_setup(test_config_hosts, clear_env),
	    cmocka_unit_test_setup(
		test_config_redis_empty_password_is_null, clear_env),
	    cmocka_unit_test_setup(test_config_find_and_names, clear_env),
	    cmocka_unit_test_setup(test_config_small_err_buffer, clear_env),
	    cmocka_unit_test_setup(test_config_error_cap, clear_env),
	    cmocka_unit_test_setup(test_config_dependency_chain_ok, clear_env),
	    cmocka_unit_test_setup(
		test_config_empty_group_section_detected, clear_env),
	    cmocka_unit_test_setup(
		test_config_listen_builtin_without_credentials, clear_env),
	    cmocka_unit_test_setup(
		test_config_listen_ignores_the_rest, clear_env),
	    cmocka_unit_test_setup(test_config_listen_bad_key, clear_env),
	    cmocka_unit_test_setup(test_config_listen_files, clear_env),
	};
	enum { NFIXED = sizeof(fixed) / sizeof(fixed[0]) };
	static char names[NGOLDEN][64];
	struct CMUnitTest tests[NFIXED + NGOLDEN];
	size_t i;

	memcpy(tests, fixed, sizeof(fixed));
	/* One case per golden file: test_config_golden_<name>. */
	for (i = 0; i < NGOLDEN; i++) {
		snprintf(names[i], sizeof(names[i]), "test_config_golden_%s",
		    golden_names[i]);
		tests[NFIXED + i] = (struct CMUnitTest){
		    .name = names[i],
		    .test_func = test_config_golden,
		    .setup_func = clear_env,
		    .initial_state = (void *)(uintptr_t)golden_names[i],
		};
	}
	return _cmocka_run_group_tests(
	    "test_config", tests, NFIXED + NGOLDEN, NULL, NULL);
}
