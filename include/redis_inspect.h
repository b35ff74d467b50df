/* SPDX-License-Identifier: MIT */
/*
 * What the Redis probe reads about the server besides PING: the save
 * points (CONFIG GET save), the number of databases (CONFIG GET
 * databases) and the state of persistence (INFO persistence), compared
 * with what the check expects. Pure functions on text, no I/O.
 * Owns: nothing.
 */
#ifndef READYD_REDIS_INSPECT_H
#define READYD_REDIS_INSPECT_H

#include <stdbool.h>
#include <stddef.h>

/* Save points one save setting may hold (Redis takes any number). */
#define REDIS_INSPECT_SAVE_MAX 32

/* One save point: snapshot after `seconds` if `changes` keys changed. */
struct redis_save_point {
	long long seconds; /* 1 or more */
	long long changes; /* 0 or more */
};

/* A save setting as a set of points: sorted, each point once. */
struct redis_save {
	struct redis_save_point pt[REDIS_INSPECT_SAVE_MAX];
	size_t n; /* entries in pt; 0: no snapshots */
};

/*
 * Parse a save setting: pairs "SECONDS CHANGES" separated by blanks, as
 * CONFIG GET save answers ("900 1 300 10 60 10000"); "" (and blanks
 * only) is no save point. Returns 0, or -1 when s is not such a list
 * (odd count, not a number, seconds 0, more than REDIS_INSPECT_SAVE_MAX
 * points).
 */
int redis_inspect_parse_save(const char *s, struct redis_save *out);

/*
 * The expect_save key: "none" (no save points expected) or a list as
 * above. Returns 0, or -1.
 */
int redis_inspect_parse_expect_save(const char *s, struct redis_save *out);

/* The check of the expect_save key: NULL when valid, else the problem. */
const char *redis_inspect_check_expect_save(const char *v);

/* What expect_save accepts, for messages. */
#define REDIS_INSPECT_EXPECT_SAVE_ACCEPTED                                    \
	"\"none\" or pairs of seconds and changes such as \"900 1 300 10 60 " \
	"10000\""

/* Whether a and b hold the same points, whatever their order. */
bool redis_inspect_save_equal(
    const struct redis_save *a, const struct redis_save *b);

/*
 * Compare live, the value of CONFIG GET save, with expect (a valid
 * expect_save value). Returns false when they hold the same points;
 * true when they differ, with text (len bytes) saying how, e.g.
 * `save is "" (no snapshots), expected "900 1 300 10 60 10000"`. A live
 * value that does not parse differs.
 */
bool redis_inspect_save_drift(
    const char *live, const char *expect, char *text, size_t len);

/*
 * Compare live, the value of CONFIG GET databases, with expect (1 or
 * more): true when Redis has fewer databases or live is not a number,
 * with text such as "databases is 1, expected at least 3".
 */
bool redis_inspect_databases_drift(
    const char *live, int expect, char *text, size_t len);

/* A persistence problem read from INFO persistence. */
struct redis_inspect_problem {
	char key[48]; /* the INFO field: "rdb_last_bgsave_status", ... */
	char text
	    [200]; /* for people, e.g. "rdb_last_bgsave_status is err: ..." */
};

/*
 * Read the text of INFO persistence ("key:value" lines, "\r\n" or "\n",
 * "#" comments): rdb_last_bgsave_status other than ok, and with
 * aof_enabled:1, aof_last_write_status or aof_last_bgrewrite_status
 * other than ok. Fills up to max problems in out; returns how many.
 */
size_t redis_inspect_persistence(
    const char *info, struct redis_inspect_problem *out, size_t max);

/*
 * Whether Redis answered a command sent without AUTH (is_error: an error
 * reply, text its text): a reply, or an error Redis gives only to a
 * client past authentication (LOADING, BUSY, MASTERDOWN, MISCONF, OOM,
 * READONLY). False for NOAUTH, WRONGPASS, NOPERM, DENIED (protected mode)
 * and errors that say nothing either way.
 */
bool redis_inspect_noauth_answered(bool is_error, const char *text);

/*
 * The error reply text of AUTH, fit to show, into buf (len bytes): Redis
 * quotes the arguments of a command it does not know ("ERR unknown
 * command 'AUTH', with args beginning with: 'user' 'password'", with
 * AUTH renamed away), so the text stops before them, and is withheld
 * whole if it holds password (NULL or empty: none) all the same.
 */
void redis_inspect_auth_error(
    const char *reply, const char *password, char *buf, size_t len);

#endif /* READYD_REDIS_INSPECT_H */
