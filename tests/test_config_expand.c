/* SPDX-License-Identifier: MIT */
/* Secret files and the keys whose values are secrets. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "config.h"
#include "config_expand.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char *
temp_file(const char *content, size_t len)
{
	static char path[64];
	int fd;

	snprintf(path, sizeof(path), "/tmp/readyd-expand-XXXXXX");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, content, len), (ssize_t)len);
	close(fd);
	return path;
}

static void
test_config_expand_read_secret_strips_one_newline(void **state)
{
	char *path = temp_file("s3cret\n\n", 8), *v, err[128];

	(void)state;
	assert_int_equal(
	    config_expand_read_secret(path, &v, err, sizeof(err)), 0);
	assert_string_equal(v, "s3cret\n");
	config_expand_free_secret(v);
	unlink(path);
	assert_int_equal(
	    config_expand_read_secret(path, &v, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "cannot read: "));
	assert_non_null(strstr(err, "(accepted: a readable file)"));
	config_expand_free_secret(NULL);
}

static void
test_config_expand_read_file_limit(void **state)
{
	char *path = temp_file("0123456789", 10), *v;
	size_t len = 0;

	(void)state;
	assert_int_equal(config_expand_read_file(path, 10, true, &v, &len), 0);
	assert_int_equal(len, 10);
	assert_string_equal(v, "0123456789");
	free(v);
	assert_int_equal(config_expand_read_file(path, 9, true, &v, &len), -1);
	assert_int_equal(errno, EFBIG);
	assert_null(v);
	unlink(path);
}

static void
test_config_expand_secret_keys(void **state)
{
	(void)state;
	assert_true(config_expand_is_secret_key("password"));
	assert_true(config_expand_is_secret_key("passwd"));
	assert_true(config_expand_is_secret_key("API_TOKEN"));
	assert_false(config_expand_is_secret_key("password_file"));
	assert_false(config_expand_is_secret_key("host"));
}

/* VAR_FILE is read when VAR is unset; its error names VAR_FILE only. */
static void
test_config_expand_var_file(void **state)
{
	char *path = temp_file("from-file\n", 10), *out, err[256];

	(void)state;
	unsetenv("RT_X");
	setenv("RT_X_FILE", path, 1);
	assert_int_equal(config_expand("a${RT_X}b", &out, err, sizeof(err)), 0);
	assert_string_equal(out, "afrom-fileb");
	config_expand_free_secret(out);
	unlink(path);
	assert_int_equal(config_expand("${RT_X}", &out, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "RT_X_FILE = \""));
	unsetenv("RT_X_FILE");
}

static void
test_config_expand_uses_secret(void **state)
{
	(void)state;
	unsetenv("RT_PW_FILE");
	unsetenv("RT_PORT_FILE");
	assert_false(config_expand_uses_secret("5432"));
	assert_false(config_expand_uses_secret("${RT_PORT}"));
	assert_false(config_expand_uses_secret("${RT_PORT:-5432}"));
	/* named like a secret */
	assert_true(config_expand_uses_secret("${DB_PASSWORD}"));
	assert_true(config_expand_uses_secret("x${API_TOKEN:-y}"));
	/* read from a file: whatever its name */
	setenv("RT_PORT_FILE", "/nonexistent", 1);
	assert_true(config_expand_uses_secret("${RT_PORT}"));
	assert_true(config_expand_uses_secret("a ${RT_HOST} ${RT_PORT}"));
	unsetenv("RT_PORT_FILE");
	assert_false(config_expand_uses_secret("${RT_PORT"));
}

/* A VAR_FILE secret in a non-secret key never shows in the message. */
static void
test_config_expand_secret_not_in_messages(void **state)
{
	char path[] = "/tmp/readyd-test-pw.XXXXXX", err[CONFIG_ERRLEN];
	int fd = mkstemp(path);
	struct config *cfg;

	(void)state;
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "S3CRET-xyz\n", 11), 11);
	close(fd);
	unsetenv("RT_PW");
	setenv("RT_PW_FILE", path, 1);
	cfg = config_load_string("t.conf",
	    "[check r]\nkind = redis\nhost = 127.0.0.1\nport = ${RT_PW}\n", err,
	    sizeof(err));
	assert_null(cfg);
	assert_null(strstr(err, "S3CRET"));
	assert_non_null(strstr(err, "port"));
	assert_non_null(strstr(err, "not shown"));
	unsetenv("RT_PW_FILE");
	unlink(path);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_config_expand_read_secret_strips_one_newline),
	    cmocka_unit_test(test_config_expand_read_file_limit),
	    cmocka_unit_test(test_config_expand_secret_keys),
	    cmocka_unit_test(test_config_expand_var_file),
	    cmocka_unit_test(test_config_expand_uses_secret),
	    cmocka_unit_test(test_config_expand_secret_not_in_messages),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
