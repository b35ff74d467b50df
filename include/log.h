/* SPDX-License-Identifier: MIT */
/*
 * Logging to stderr, one line per event.
 * Owns: the log level and the program name prefix.
 */
#ifndef READYD_LOG_H
#define READYD_LOG_H

#include <stdbool.h>

enum log_level {
	LOG_LEVEL_ERROR,
	LOG_LEVEL_WARN,
	LOG_LEVEL_INFO,
	LOG_LEVEL_DEBUG,
	LOG_LEVEL_COUNT
};

/* Messages above level are dropped. The default is LOG_LEVEL_INFO. */
void log_set_level(enum log_level level);

/*
 * Prefix each line with an ISO 8601 UTC timestamp (default on; off when
 * stderr goes to the journal, which stamps lines itself).
 */
void log_set_timestamps(bool on);

void log_msg(enum log_level level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#define log_error(...) log_msg(LOG_LEVEL_ERROR, __VA_ARGS__)
#define log_warn(...)  log_msg(LOG_LEVEL_WARN, __VA_ARGS__)
#define log_info(...)  log_msg(LOG_LEVEL_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_LEVEL_DEBUG, __VA_ARGS__)

#endif /* READYD_LOG_H */
