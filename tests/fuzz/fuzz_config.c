/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target: the configuration loader end to end (INI text, ${VAR}
 * expansion, VAR_FILE secrets, validation), in a fake environment set up
 * once: a few variables, and VAR_FILE ones naming files in a temporary
 * directory. A loaded configuration must hang together and print; a
 * refused one must say why.
 * Owns: the temporary directory (removed at exit).
 */
#include "fuzz.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"

static char fuzz_dir[] = "/tmp/readyd-fuzz-config.XXXXXX";

static void
fuzz_config_write(const char *name, const char *text, const char *var)
{
	char path[128];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", fuzz_dir, name);
	f = fopen(path, "w");
	if (f == NULL || fputs(text, f) < 0 || fclose(f) != 0)
		fuzz_fail("cannot write %s", path);
	if (var != NULL && setenv(var, path, 1) != 0)
		fuzz_fail("setenv %s", var);
}

static void
fuzz_config_cleanup(void)
{
	static const char *const names[] = {
	    "secret", "secret-nl", "empty", "big", "host"};
	char path[128];

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", fuzz_dir, names[i]);
		unlink(path);
	}
	rmdir(fuzz_dir);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	static char big[CONFIG_EXPAND_MAX_SECRET + 2];

	(void)argc;
	(void)argv;
	if (mkdtemp(fuzz_dir) == NULL)
		fuzz_fail("mkdtemp");
	atexit(fuzz_config_cleanup);
	/* the variables config/readyd.conf and the golden files use */
	setenv("POSTGRES_HOST", "127.0.0.1", 1);
	setenv("POSTGRES_USER", "app", 1);
	setenv("POSTGRES_PASSWORD", "pg-secret", 1);
	setenv("DB_HOST", "::1", 1);
	setenv("DB_USER", "app", 1);
	setenv("REDIS_HOST", "localhost", 1);
	setenv("REDIS_PORT", "6380", 1);
	setenv("READYD_LISTEN", "127.0.0.1:8080", 1);
	/* odd values: empty, blanks, a nested ${...}, a newline, a '#' */
	setenv("FZ_EMPTY", "", 1);
	setenv("FZ_BLANK", "  \t ", 1);
	setenv("FZ_NESTED", "${POSTGRES_HOST}", 1);
	setenv("FZ_NL", "a\nb = c\n[check x]", 1);
	setenv("FZ_HASH", "pa ss #word ;x", 1);
	setenv("FZ_PORT", "65536", 1);
	setenv("FZ_DURATION", "250ms", 1);
	/* VAR_FILE: a secret, one with a newline, empty, too big, missing */
	fuzz_config_write("secret", "file-secret", "DB_PASSWORD_FILE");
	fuzz_config_write("secret-nl", "line1\nline2\n", "FZ_SECRET_FILE");
	fuzz_config_write("empty", "", "FZ_EMPTY_FILE");
	memset(big, 'x', sizeof(big) - 1);
	fuzz_config_write("big", big, "FZ_BIG_FILE");
	fuzz_config_write("host", "10.0.0.1\n", "FZ_HOST_FILE");
	setenv("REDIS_PASSWORD", "", 1); /* empty beside a _FILE */
	fuzz_config_write("secret", "file-secret", "REDIS_PASSWORD_FILE");
	setenv("FZ_MISSING_FILE", "/nonexistent/readyd-fuzz", 1);
	setenv("FZ_DIR_FILE", fuzz_dir, 1);
	return 0;
}

/* A loaded configuration's indexes point where its names say. */
static void
fuzz_config_consistent(const struct config *cfg)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f;

	if (cfg->listen_host == NULL || cfg->listen_port < 1 ||
	    cfg->listen_port > 65535)
		fuzz_fail("listen %s:%d",
		    cfg->listen_host ? cfg->listen_host : "(null)",
		    cfg->listen_port);
	for (size_t i = 0; i < cfg->nchecks; i++) {
		const struct check_cfg *c = &cfg->checks[i];

		if (c->name == NULL || !config_parse_is_name(c->name) ||
		    c->ops == NULL || c->host == NULL)
			fuzz_fail("check %zu incomplete", i);
		if (config_find_check(cfg, c->name) != (int)i)
			fuzz_fail("check %s not found at %zu", c->name, i);
		if (c->port < 1 || c->port > 65535 || c->timeout_ms <= 0 ||
		    c->interval_ms <= 0 || c->retries < 1 || c->rise < 1)
			fuzz_fail("check %s: port %d timeout %lld interval "
				  "%lld retries %d rise %d",
			    c->name, c->port, (long long)c->timeout_ms,
			    (long long)c->interval_ms, c->retries, c->rise);
		for (size_t k = 0; k < c->ndepends; k++)
			if (c->depends_idx[k] >= cfg->nchecks ||
			    c->depends_idx[k] == i)
				fuzz_fail("check %s: dependency %zu", c->name,
				    c->depends_idx[k]);
	}
	for (size_t g = 0; g < cfg->ngroups; g++) {
		const struct group_cfg *gr = &cfg->groups[g];

		if (gr->name == NULL || !config_parse_is_name(gr->name) ||
		    config_find_group(cfg, gr->name) != (int)g)
			fuzz_fail("group %zu", g);
		for (size_t k = 0; k < gr->nchecks; k++)
			if (gr->checks[k] >= cfg->nchecks)
				fuzz_fail("group %s: check %zu", gr->name,
				    gr->checks[k]);
	}
	f = open_memstream(&buf, &len);
	if (f == NULL)
		fuzz_fail("open_memstream");
	config_print(cfg, f);
	fclose(f);
	free(buf);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_strndup(data, size);
	char err[CONFIG_ERRLEN + 1];
	struct config *cfg;

	memset(err, 'X', sizeof(err));
	err[0] = '\0';
	cfg = config_load_string("fuzz.conf", text, err, CONFIG_ERRLEN);
	if (err[CONFIG_ERRLEN] != 'X')
		fuzz_fail("err written past its length");
	if (cfg == NULL) {
		if (err[0] == '\0' || memchr(err, '\0', CONFIG_ERRLEN) == NULL)
			fuzz_fail("refused without a message");
	} else {
		fuzz_config_consistent(cfg);
		config_free(cfg);
	}
	free(text);
	return 0;
}
