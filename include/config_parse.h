/* SPDX-License-Identifier: MIT */
/*
 * Value parsers for configuration text and command-line options.
 * Owns: nothing beyond the strings it returns.
 */
#ifndef READYD_CONFIG_PARSE_H
#define READYD_CONFIG_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CONFIG_PARSE_DURATION_ACCEPTED \
	"250ms, 10s, 2m, 1h or a bare number of seconds"

/* Blank as in the C locale's isspace(). */
bool config_parse_is_blank(char c);
bool config_parse_is_digit(char c);
bool config_parse_is_alnum(char c);

/* Strip blanks at both ends in place; returns the new start. */
char *config_parse_trim(char *s);

/* A check or group name: [A-Za-z0-9_.-]+ */
bool config_parse_is_name(const char *s);

/*
 * Parse [0-9]+ within [min, max]. Returns 0, -1 if not a number, -2 if
 * out of range (negative numbers too).
 */
int config_parse_int(const char *s, int64_t min, int64_t max, int64_t *out);

/* yes/no, true/false, on/off, 1/0 in any case. Returns 0 or -1. */
int config_parse_bool(const char *s, bool *out);

/*
 * Parse a duration ("250ms", "10s", "2m", "1h", bare number = seconds)
 * into milliseconds. Returns 0, or -1 with err filled.
 */
int config_parse_duration(const char *s, int64_t *ms, char *err, size_t errlen)
    __attribute__((warn_unused_result));

/* Format a duration in the largest unit that divides it: 30s, 250ms. */
void config_parse_format_duration(int64_t ms, char *buf, size_t len);

/*
 * A host: a name of [A-Za-z0-9._-], an IPv4 address, or an IPv6 address
 * with or without brackets, len bytes of s. *out is a new string without
 * brackets. Returns 0, -1 if invalid, -2 if out of memory.
 */
int config_parse_host(const char *s, size_t len, char **out);

/*
 * Parse "ADDR:PORT" or "[IPv6]:PORT" with a numeric address; *host is a
 * new string the caller frees. Returns 0, or -1 with err filled.
 */
int config_parse_listen(const char *s, char **host, int *port, char *err,
    size_t errlen) __attribute__((warn_unused_result));

/*
 * Split a list of names separated by spaces or commas into a new
 * NULL-terminated array, dropping repeats. Returns the count, or -1 if
 * out of memory.
 */
long config_parse_names(const char *s, char ***out);

/* Free what config_parse_names returned; NULL does nothing. */
void config_parse_free_names(char **v);

#endif /* READYD_CONFIG_PARSE_H */
