/* SPDX-License-Identifier: MIT */
/*
 * Value parsers for configuration text: numbers, booleans, durations,
 * hosts, listen addresses and name lists; main.c uses them for its
 * options too.
 * Owns: nothing.
 */
#include "config_parse.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "strbuf.h"

#define CONFIG_PARSE_MAX_HOST	  253 /* characters in a host name */
#define CONFIG_PARSE_DURATION_MAX (8760LL * 3600 * 1000) /* 8760h, in ms */

bool
config_parse_is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' ||
	    c == '\v';
}

bool
config_parse_is_digit(char c)
{
	return c >= '0' && c <= '9';
}

bool
config_parse_is_alnum(char c)
{
	return config_parse_is_digit(c) || (c >= 'a' && c <= 'z') ||
	    (c >= 'A' && c <= 'Z');
}

char *
config_parse_trim(char *s)
{
	size_t len;

	while (config_parse_is_blank(*s))
		s++;
	len = strlen(s);
	while (len > 0 && config_parse_is_blank(s[len - 1]))
		s[--len] = '\0';
	return s;
}

/* A check or group name: [A-Za-z0-9_.-]+ */
bool
config_parse_is_name(const char *s)
{
	if (*s == '\0')
		return false;
	for (; *s != '\0'; s++)
		if (!config_parse_is_alnum(*s) && *s != '_' && *s != '.' &&
		    *s != '-')
			return false;
	return true;
}

/*
 * Parse [0-9]+ within [min, max]. Returns 0, -1 if not a number, -2 if
 * out of range (negative numbers too).
 */
int
config_parse_int(const char *s, int64_t min, int64_t max, int64_t *out)
{
	int64_t v = 0;

	if (*s == '-' && config_parse_is_digit(s[1]) &&
	    strspn(s + 1, "0123456789") == strlen(s + 1))
		return -2;
	if (!config_parse_is_digit(*s))
		return -1;
	for (; config_parse_is_digit(*s); s++) {
		if (v > (INT64_MAX - 9) / 10)
			return -2;
		v = v * 10 + (*s - '0');
	}
	if (*s != '\0')
		return -1;
	if (v < min || v > max)
		return -2;
	*out = v;
	return 0;
}

int
config_parse_bool(const char *s, bool *out)
{
	static const char *const yes[] = {"yes", "true", "on", "1"};
	static const char *const no[] = {"no", "false", "off", "0"};
	size_t i;

	for (i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		if (strcasecmp(s, yes[i]) == 0) {
			*out = true;
			return 0;
		}
		if (strcasecmp(s, no[i]) == 0) {
			*out = false;
			return 0;
		}
	}
	return -1;
}

/* Format a duration in the largest unit that divides it: 30s, 250ms. */
void
config_parse_format_duration(int64_t ms, char *buf, size_t len)
{
	if (ms == 0)
		snprintf(buf, len, "0s");
	else if (ms % 3600000 == 0)
		snprintf(buf, len, "%lldh", (long long)(ms / 3600000));
	else if (ms % 60000 == 0)
		snprintf(buf, len, "%lldm", (long long)(ms / 60000));
	else if (ms % 1000 == 0)
		snprintf(buf, len, "%llds", (long long)(ms / 1000));
	else
		snprintf(buf, len, "%lldms", (long long)ms);
}

/*
 * A host: a name of [A-Za-z0-9._-], an IPv4 address, or an IPv6 address
 * with or without brackets. *out is the host without brackets.
 */
int
config_parse_host(const char *s, size_t len, char **out)
{
	struct in6_addr a6;
	char buf[INET6_ADDRSTRLEN + 2];
	size_t i;

	*out = NULL;
	if (len >= 2 && s[0] == '[' && s[len - 1] == ']') {
		s++;
		len -= 2;
		if (len == 0 || len >= sizeof(buf))
			return -1;
		memcpy(buf, s, len);
		buf[len] = '\0';
		if (inet_pton(AF_INET6, buf, &a6) != 1)
			return -1;
	} else if (memchr(s, ':', len) != NULL) {
		if (len >= sizeof(buf))
			return -1;
		memcpy(buf, s, len);
		buf[len] = '\0';
		if (inet_pton(AF_INET6, buf, &a6) != 1)
			return -1;
	} else {
		if (len == 0 || len > CONFIG_PARSE_MAX_HOST)
			return -1;
		for (i = 0; i < len; i++)
			if (!config_parse_is_alnum(s[i]) && s[i] != '.' &&
			    s[i] != '-' && s[i] != '_')
				return -1;
		if (s[0] == '-' || s[0] == '.')
			return -1;
	}
	*out = strndup(s, len);
	return *out != NULL ? 0 : -2;
}

/* Parse "ADDR:PORT" or "[IPv6]:PORT". Returns 0, or -1 with err filled. */
int
config_parse_listen(
    const char *s, char **host, int *port, char *err, size_t errlen)
{
	const char *colon, *close;
	int64_t p;
	int rc;

	*host = NULL;
	if (s[0] == '[') {
		close = strchr(s, ']');
		if (close == NULL || close[1] != ':') {
			snprintf(err, errlen, "invalid address");
			return -1;
		}
		colon = close + 1;
	} else {
		colon = strrchr(s, ':');
		if (colon == NULL) {
			snprintf(err, errlen, "missing port");
			return -1;
		}
		if (memchr(s, ':', (size_t)(colon - s)) != NULL) {
			snprintf(err, errlen, "IPv6 address without brackets");
			return -1;
		}
	}
	if (colon == s) {
		snprintf(err, errlen, "missing address");
		return -1;
	}
	rc = config_parse_int(colon + 1, 1, 65535, &p);
	if (rc == -1) {
		snprintf(err, errlen, "invalid port");
		return -1;
	}
	if (rc == -2) {
		snprintf(err, errlen, "port out of range");
		return -1;
	}
	rc = config_parse_host(s, (size_t)(colon - s), host);
	if (rc == -2) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (rc < 0) {
		snprintf(err, errlen, "invalid address");
		return -1;
	}
	{
		unsigned char buf[sizeof(struct in6_addr)];

		/* a name would need a blocking lookup at bind time */
		if (inet_pton(AF_INET, *host, buf) != 1 &&
		    inet_pton(AF_INET6, *host, buf) != 1) {
			snprintf(err, errlen,
			    "not a numeric address (such as 127.0.0.1, 0.0.0.0 or [::])");
			free(*host);
			*host = NULL;
			return -1;
		}
	}
	*port = (int)p;
	return 0;
}

/*
 * Split a list of names separated by spaces or commas into a new
 * NULL-terminated array, dropping repeats. Returns the count, or -1 if
 * out of memory.
 */
long
config_parse_names(const char *s, char ***out)
{
	char **v = NULL, **nv;
	size_t n = 0, cap = 0, len, i;
	bool seen;

	*out = NULL;
	for (;;) {
		while (config_parse_is_blank(*s) || *s == ',')
			s++;
		if (*s == '\0')
			break;
		len = strcspn(s, " \t\r\n\f\v,");
		seen = false;
		for (i = 0; i < n && !seen; i++)
			seen =
			    strlen(v[i]) == len && strncmp(v[i], s, len) == 0;
		if (!seen) {
			nv = strbuf_grow_array(v, &cap, n + 2, sizeof(*v));
			if (nv == NULL)
				goto out_oom;
			v = nv;
			v[n] = strndup(s, len);
			if (v[n] == NULL)
				goto out_oom;
			v[++n] = NULL;
		}
		s += len;
	}
	*out = v;
	return (long)n;

out_oom:
	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
	return -1;
}

void
config_parse_free_names(char **v)
{
	size_t i;

	if (v == NULL)
		return;
	for (i = 0; v[i] != NULL; i++)
		free(v[i]);
	free(v);
}

int
config_parse_duration(const char *s, int64_t *ms, char *err, size_t errlen)
{
	static const struct {
		const char *unit;
		int64_t ms;
	} units[] = {
	    {"", 1000}, {"ms", 1}, {"s", 1000}, {"m", 60000}, {"h", 3600000}};
	const char *p = s;
	int64_t v = 0;
	size_t i;

	if (*p == '\0') {
		snprintf(err, errlen, "empty (accepted: %s)",
		    CONFIG_PARSE_DURATION_ACCEPTED);
		return -1;
	}
	if (*p == '-' && config_parse_is_digit(p[1])) {
		snprintf(err, errlen, "negative (accepted: %s)",
		    CONFIG_PARSE_DURATION_ACCEPTED);
		return -1;
	}
	if (!config_parse_is_digit(*p))
		goto out_bad;
	for (; config_parse_is_digit(*p); p++) {
		if (v > CONFIG_PARSE_DURATION_MAX)
			goto out_big;
		v = v * 10 + (*p - '0');
	}
	for (i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (strcmp(p, units[i].unit) != 0)
			continue;
		if (v > CONFIG_PARSE_DURATION_MAX / units[i].ms)
			goto out_big;
		*ms = v * units[i].ms;
		return 0;
	}
out_bad:
	snprintf(err, errlen, "not a duration (accepted: %s)",
	    CONFIG_PARSE_DURATION_ACCEPTED);
	return -1;
out_big:
	snprintf(err, errlen, "too large (accepted: at most %lldh)",
	    CONFIG_PARSE_DURATION_MAX / 3600000);
	return -1;
}
