/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target: the value parsers of config_parse.h (durations, listen
 * addresses, hosts, numbers, booleans, name lists) on one string each
 * run. What parses must survive a round trip through its printed form.
 * Owns: nothing.
 */
#include "fuzz.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config_parse.h"

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	return 0;
}

/* A duration parses, prints and parses back to itself. */
static void
fuzz_parse_duration(const char *s)
{
	char err[256], buf[64];
	int64_t ms, again;

	err[0] = '\0';
	if (config_parse_duration(s, &ms, err, sizeof(err)) < 0) {
		if (err[0] == '\0')
			fuzz_fail("duration %s refused without a message", s);
		return;
	}
	if (ms < 0)
		fuzz_fail("duration %s gave %lld ms", s, (long long)ms);
	config_parse_format_duration(ms, buf, sizeof(buf));
	if (config_parse_duration(buf, &again, err, sizeof(err)) < 0)
		fuzz_fail(
		    "duration %s printed as %s, refused: %s", s, buf, err);
	if (again != ms)
		fuzz_fail("duration %s: %lld ms, printed %s, read %lld ms", s,
		    (long long)ms, buf, (long long)again);
}

/* A listen address is numeric, its port in range, and prints back. */
static void
fuzz_parse_listen(const char *s)
{
	char err[256], buf[128], *host = NULL, *host2 = NULL;
	unsigned char addr[16];
	int port, port2;

	err[0] = '\0';
	if (config_parse_listen(s, &host, &port, err, sizeof(err)) < 0) {
		if (host != NULL)
			fuzz_fail("listen %s refused, host left set", s);
		if (err[0] == '\0')
			fuzz_fail("listen %s refused without a message", s);
		return;
	}
	if (host == NULL || port < 1 || port > 65535)
		fuzz_fail("listen %s: host %p port %d", s, (void *)host, port);
	if (inet_pton(AF_INET, host, addr) != 1 &&
	    inet_pton(AF_INET6, host, addr) != 1)
		fuzz_fail("listen %s: host %s is not numeric", s, host);
	snprintf(buf, sizeof(buf), strchr(host, ':') ? "[%s]:%d" : "%s:%d",
	    host, port);
	if (config_parse_listen(buf, &host2, &port2, err, sizeof(err)) < 0)
		fuzz_fail("listen %s printed as %s, refused: %s", s, buf, err);
	if (strcmp(host, host2) != 0 || port != port2)
		fuzz_fail("listen %s: round trip gave %s", s, buf);
	free(host);
	free(host2);
}

static void
fuzz_parse_host(const char *s, size_t len)
{
	char *host = NULL;
	int rc = config_parse_host(s, len, &host);

	if (rc == 0 &&
	    (host == NULL || host[0] == '\0' || strpbrk(host, "[] /") != NULL))
		fuzz_fail("host %.*s parsed as \"%s\"", (int)len, s,
		    host ? host : "(null)");
	if (rc != 0 && host != NULL)
		fuzz_fail("host %.*s refused, result left set", (int)len, s);
	free(host);
}

static void
fuzz_parse_names(const char *s)
{
	char **v = NULL;
	long n = config_parse_names(s, &v);

	if (n < 0)
		fuzz_fail("names: out of memory");
	if (n == 0 && v == NULL)
		return; /* no names: no array (callers go by the count) */
	for (long i = 0; i < n; i++) {
		if (v[i] == NULL || v[i][0] == '\0' ||
		    strpbrk(v[i], " ,") != NULL)
			fuzz_fail("names %s: entry %ld is \"%s\"", s, i,
			    v[i] ? v[i] : "(null)");
		for (long k = 0; k < i; k++)
			if (strcmp(v[i], v[k]) == 0)
				fuzz_fail("names %s: %s twice", s, v[i]);
	}
	if (v[n] != NULL)
		fuzz_fail("names %s: no NULL after %ld entries", s, n);
	config_parse_free_names(v);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fuzz_strndup(data, size);
	char *copy = fuzz_strndup(data, size);
	char *t;
	int64_t v;
	bool b;
	int rc;

	fuzz_parse_duration(s);
	fuzz_parse_listen(s);
	fuzz_parse_host(s, strlen(s));
	fuzz_parse_names(s);
	rc = config_parse_int(s, 1, 65535, &v);
	if (rc == 0 && (v < 1 || v > 65535))
		fuzz_fail("int %s: %lld outside [1, 65535]", s, (long long)v);
	if (rc != 0 && rc != -1 && rc != -2)
		fuzz_fail("int %s: returned %d", s, rc);
	(void)config_parse_bool(s, &b);
	(void)config_parse_is_name(s);
	t = config_parse_trim(copy);
	if (t[0] != '\0' &&
	    (config_parse_is_blank(t[0]) ||
		config_parse_is_blank(t[strlen(t) - 1])))
		fuzz_fail("trim left blanks: \"%s\"", t);
	free(copy);
	free(s);
	return 0;
}
