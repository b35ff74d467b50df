/* SPDX-License-Identifier: MIT */
/*
 * Configuration: loading, validating, printing and freeing struct config.
 * The parts live in config_parser.c, config_check.c, config_lex.c,
 * config_parse.c and config_expand.c.
 * Owns: struct config and everything hanging off it.
 */
#ifndef READYD_CONFIG_H
#define READYD_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "config_expand.h" /* config_expand() */
#include "config_parse.h"  /* config_parse_duration(), _listen() */

struct probe_ops;

/* Exit status for a configuration error (EX_CONFIG). */
#define CONFIG_EXIT 78

/*
 * An err buffer of this size holds every message config_load writes (at
 * most 20 lines, then a count of the rest). Smaller buffers get the
 * whole lines that fit.
 */
#define CONFIG_ERRLEN 16384

enum config_details {
	CONFIG_DETAILS_LOCAL,
	CONFIG_DETAILS_ALL,
	CONFIG_DETAILS_NONE,
	CONFIG_DETAILS_COUNT
};

/*
 * What the stack is: development (the default) or production, where a
 * check of a kind that takes a password must have one, and readyd warns
 * (reason insecure) when a server lets a client in without one.
 */
enum config_profile {
	CONFIG_PROFILE_DEVELOPMENT,
	CONFIG_PROFILE_PRODUCTION,
	CONFIG_PROFILE_COUNT
};

/*
 * One [check NAME] section, with [defaults] applied. user, password,
 * dbname, options and db are set only through a kind's key table
 * (probe_ops.keys); which kinds take them is the kinds' business.
 */
struct check_cfg {
	char *name;		     /* owned */
	const struct probe_ops *ops; /* static, from probe_find(kind) */
	char *host;		     /* owned; name or numeric address */
	int port;		     /* 1-65535 */
	char *dbname;		     /* owned; NULL if unset */
	char *user;		     /* owned; NULL if unset */
	char *password;		     /* owned secret; NULL if unset */
	char *options;		     /* owned; NULL if unset */
	int db;			     /* a logical database number */
	char *expect_save;	     /* owned; NULL: not checked */
	int expect_databases;	     /* at least; 0: not checked */
	int expect_version;	     /* PostgreSQL major; 0: not checked */
	char *admin_user;	     /* owned; PgBouncer admin console user */
	char *admin_password;	     /* owned secret; NULL if unset */
	char *expect_pool_mode;	     /* owned; NULL: not checked */
	char *expect_pool_size;	     /* owned; "25-50" or "25"; NULL: not */
	int expect_max_client_conn;  /* 0: not checked */
	int expect_listen_port;	     /* 0: not checked */
	int warn_cl_waiting;	     /* clients waiting to warn; 0: never */
	int fail_cl_waiting;	     /* clients waiting to fail; 0: never */
	int64_t warn_maxwait_ms;     /* oldest wait to warn; 0: never */
	int64_t fail_maxwait_ms;     /* oldest wait to fail; 0: never */
	bool required;		     /* counts toward /ready */
	int64_t interval_ms;	     /* between probes once started */
	int64_t timeout_ms;	     /* deadline of one attempt */
	int64_t start_period_ms;     /* failures inside do not count */
	int64_t start_interval_ms;   /* between probes while starting */
	int retries;		     /* consecutive failures to fail */
	int64_t fast_interval_ms;    /* re-check spacing after a failure */
	int rise;		     /* successes to come back from fail */
	bool watch;		     /* keep the last good connection */
	bool writable;		     /* the server must take writes */
	int64_t heartbeat_ms;	     /* between heartbeats; 0: none */
	bool production;	     /* [daemon] profile = production */
	char **depends_on;	     /* owned; NULL-terminated names */
	size_t *depends_idx;	     /* owned; indexes into config checks */
	size_t ndepends;	     /* entries in depends_on/depends_idx */
	int line;		     /* line of the section header */
};

/* One [group NAME] section. */
struct group_cfg {
	char *name;	/* owned */
	size_t *checks; /* owned; indexes into config checks */
	size_t nchecks; /* entries in checks */
	int line;	/* line of the section header */
};

struct config {
	char *path;		     /* owned; "(built-in)" for the default */
	char *listen_host;	     /* owned; numeric address or name */
	int listen_port;	     /* 1-65535 */
	enum config_details details; /* who sees error text */
	int64_t drain_ms;	     /* /ready says 503 this long before exit */
	int max_clients;	     /* HTTP clients at once; 0: automatic */
	enum config_profile profile; /* development or production */
	struct check_cfg *checks;    /* owned array, in file order */
	size_t nchecks;
	struct group_cfg *groups; /* owned array, in file order */
	size_t ngroups;
	/*
	 * owned; nchecks entries, grouped[i]: check i is in at least one
	 * group (what /ready needs, with verdict_set.grouped); NULL when
	 * there is no group.
	 */
	bool *grouped;
};

/*
 * Load and validate a configuration. path NULL means: $READYD_CONFIG,
 * else /etc/readyd/readyd.conf if it exists, else the built-in default.
 * On failure returns NULL and fills err with one or more lines of
 * "FILE:LINE: ..." (newline-separated, no final newline).
 */
struct config *config_load(const char *path, char *err, size_t errlen)
    __attribute__((warn_unused_result));

/*
 * config_load() at start-up, before any event loop runs: the file itself
 * may also be a pipe or a FIFO (-c <(...), /dev/stdin), read blocking.
 * config_load() (a reload) takes only a regular file, opened without
 * blocking; password_file and VAR_FILE must be regular files in both.
 */
struct config *config_load_startup(const char *path, char *err, size_t errlen)
    __attribute__((warn_unused_result));

/* Load from text in memory; name is used as FILE in messages. */
struct config *config_load_string(const char *name, const char *text, char *err,
    size_t errlen) __attribute__((warn_unused_result));

/*
 * The address `serve` listens on without --listen, for `readyd check`:
 * the [daemon] listen key of the configuration config_load would read for
 * path (NULL: $READYD_CONFIG, /etc/readyd/readyd.conf, the built-in
 * default), its ${VAR}s expanded as config_load expands them, else the
 * built-in 0.0.0.0:8080. Only that key is read: the rest of the file may
 * be invalid in this environment (checks whose credentials are unset,
 * say) without failing the call. Returns 0 with *host (caller frees) and
 * *port set; -1 with err filled when the file cannot be read; -2 with err
 * filled when the key does not expand or is not ADDR:PORT.
 */
int config_load_listen(const char *path, char **host, int *port, char *err,
    size_t errlen) __attribute__((warn_unused_result));

/* The same over text in memory; name is used as FILE in messages. */
int config_listen_string(const char *name, const char *text, char **host,
    int *port, char *err, size_t errlen) __attribute__((warn_unused_result));

/* Free a configuration; NULL does nothing. */
void config_free(struct config *cfg);

/* The text of the built-in default (identical to config/readyd.conf). */
const char *config_builtin(void);

/* Index of the check or group called name, or -1. */
int config_find_check(const struct config *cfg, const char *name);
int config_find_group(const struct config *cfg, const char *name);

/* Print the effective configuration as INI, every secret masked. */
void config_print(const struct config *cfg, FILE *out);

/* The name of a details setting ("local", "all", "none"). */
const char *config_details_name(enum config_details d);

/* The name of a profile ("development", "production"). */
const char *config_profile_name(enum config_profile p);

#endif /* READYD_CONFIG_H */
