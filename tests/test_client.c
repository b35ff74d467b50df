/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for client.c's pure part: the URL `readyd check` asks for a
 * daemon's listen address.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "client.h"

static void
assert_url(const char *host, int port, const char *want)
{
	char url[300];

	client_listen_url(host, port, url, sizeof(url));
	assert_string_equal(url, want);
}

/* A wildcard is asked on loopback, in its own family. */
static void
test_client_listen_url_wildcards(void **state)
{
	(void)state;
	assert_url("0.0.0.0", 8080, "http://127.0.0.1:8080/ready");
	assert_url("::", 9100, "http://[::1]:9100/ready");
	assert_url("0:0:0:0:0:0:0:0", 9100, "http://[::1]:9100/ready");
	assert_url("", 8080, "http://127.0.0.1:8080/ready");
	assert_url(NULL, 8080, "http://127.0.0.1:8080/ready");
}

/* Any other address is asked as it is; an IPv6 literal gets brackets. */
static void
test_client_listen_url_addresses(void **state)
{
	(void)state;
	assert_url("127.0.0.1", 8080, "http://127.0.0.1:8080/ready");
	assert_url("10.0.3.7", 80, "http://10.0.3.7:80/ready");
	assert_url("::1", 8080, "http://[::1]:8080/ready");
	assert_url("fd00::2", 65535, "http://[fd00::2]:65535/ready");
	assert_url("0.0.0.1", 8080, "http://0.0.0.1:8080/ready");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_client_listen_url_wildcards),
	    cmocka_unit_test(test_client_listen_url_addresses),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
