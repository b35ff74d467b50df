/* SPDX-License-Identifier: MIT */
/*
 * Logging to stderr, one line per event.
 * Owns: the log level and the timestamp setting.
 */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

static enum log_level log_level = LOG_LEVEL_INFO;
static bool log_timestamps = true;

static const char *const log_level_names[LOG_LEVEL_COUNT] = {
    [LOG_LEVEL_ERROR] = "error",
    [LOG_LEVEL_WARN] = "warning",
    [LOG_LEVEL_INFO] = "info",
    [LOG_LEVEL_DEBUG] = "debug",
};

void
log_set_level(enum log_level level)
{
	log_level = level;
}

void
log_set_timestamps(bool on)
{
	log_timestamps = on;
}

void
log_msg(enum log_level level, const char *fmt, ...)
{
	char line[1024];
	size_t len = 0;
	va_list ap;
	int n;

	if (level > log_level)
		return;
	if (log_timestamps) {
		struct timeval tv;
		struct tm tm;

		gettimeofday(&tv, NULL);
		gmtime_r(&tv.tv_sec, &tm);
		len = strftime(line, sizeof(line), "%Y-%m-%dT%H:%M:%S", &tm);
		n = snprintf(line + len, sizeof(line) - len, ".%03ldZ ",
		    (long)(tv.tv_usec / 1000));
		if (n > 0)
			len += (size_t)n;
	}
	n = snprintf(line + len, sizeof(line) - len,
	    "readyd: %s: ", log_level_names[level]);
	if (n > 0)
		len += (size_t)n;
	if (len < sizeof(line)) {
		va_start(ap, fmt);
		vsnprintf(line + len, sizeof(line) - len, fmt, ap);
		va_end(ap);
	}
	/* one write per line, so concurrent writers never interleave */
	len = strlen(line);
	if (len + 1 < sizeof(line)) {
		line[len++] = '\n';
		line[len] = '\0';
	} else {
		line[sizeof(line) - 2] = '\n';
	}
	fputs(line, stderr);
	fflush(stderr);
}
