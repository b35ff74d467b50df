/* SPDX-License-Identifier: MIT */
/*
 * The parts of the configuration loader that config.c, config_parser.c
 * and config_check.c share: the key table's types, the raw sections as
 * written, and how messages are collected. Not for other modules.
 * Owns: nothing; struct config_parser lives on config_load_string's stack.
 */
#ifndef READYD_CONFIG_PARSER_H
#define READYD_CONFIG_PARSER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "probe.h"

#define CONFIG_MAX_ERRORS  20	/* messages shown */
#define CONFIG_KEEP_ERRORS 1000 /* messages collected */
#define CONFIG_MAX_VALUE   200	/* bytes of a value quoted */

/* ---- the key table (config.c) ---- */

enum config_key_id {
	CONFIG_KEY_LISTEN,
	CONFIG_KEY_DETAILS,
	CONFIG_KEY_DRAIN,
	CONFIG_KEY_MAX_CLIENTS,
	CONFIG_KEY_PROFILE,
	CONFIG_KEY_KIND,
	CONFIG_KEY_HOST,
	CONFIG_KEY_PORT,
	CONFIG_KEY_DEPENDS_ON,
	CONFIG_KEY_REQUIRED,
	CONFIG_KEY_INTERVAL,
	CONFIG_KEY_TIMEOUT,
	CONFIG_KEY_RETRIES,
	CONFIG_KEY_START_PERIOD,
	CONFIG_KEY_START_INTERVAL,
	CONFIG_KEY_FAST_INTERVAL,
	CONFIG_KEY_RISE,
	CONFIG_KEY_WATCH,
	CONFIG_KEY_WRITABLE,
	CONFIG_KEY_HEARTBEAT,
	CONFIG_KEY_CHECKS,
	CONFIG_KEY_COUNT
};

/*
 * The kinds' keys (probe_ops.keys, each name once) follow the generic
 * ones: key ids CONFIG_KEY_COUNT + i. Messages list them after "port".
 */
#define CONFIG_MAX_KIND_KEYS 48
#define CONFIG_ALL_KEYS	     (CONFIG_KEY_COUNT + CONFIG_MAX_KIND_KEYS)

enum config_type {
	CONFIG_TYPE_TEXT,     /* handled by its own code */
	CONFIG_TYPE_DURATION, /* int64_t milliseconds */
	CONFIG_TYPE_INT,      /* int */
	CONFIG_TYPE_BOOL,     /* bool */
	CONFIG_TYPE_COUNT
};

enum config_section_type {
	CONFIG_SECTION_DAEMON,
	CONFIG_SECTION_DEFAULTS,
	CONFIG_SECTION_CHECK,
	CONFIG_SECTION_GROUP,
	CONFIG_SECTION_IGNORED, /* invalid header: its keys are skipped */
	CONFIG_SECTION_COUNT
};

#define IN_DAEMON   (1u << CONFIG_SECTION_DAEMON)
#define IN_DEFAULTS (1u << CONFIG_SECTION_DEFAULTS)
#define IN_CHECK    (1u << CONFIG_SECTION_CHECK)
#define IN_GROUP    (1u << CONFIG_SECTION_GROUP)
#define IN_TIMING   (IN_DEFAULTS | IN_CHECK)

#define CHECK_FIELD(f) offsetof(struct check_cfg, f)

struct config_key {
	const char *name; /* as written in the file */
	enum config_type type;
	unsigned in; /* IN_* bits: sections that take the key */
	int64_t min; /* bounds of DURATION (ms) and INT values */
	int64_t max;
	size_t offset;	      /* typed keys: field in struct config for
				 [daemon] keys, else in struct check_cfg */
	int64_t def;	      /* built-in value of a typed key */
	const char *deftext;  /* built-in value of a text key, or NULL */
	const char *accepted; /* what "(accepted: ...)" says */
};

/* The generic keys, indexed by enum config_key_id; defined in config.c. */
extern const struct config_key config_keys[CONFIG_KEY_COUNT];

/* ---- the raw file: sections and keys as written (config_parser.c) ---- */

struct raw_kv {
	size_t id;   /* CONFIG_KEY_*, or a kind's key */
	char *key;   /* owned; as written */
	char *value; /* owned; as written, before expansion */
	int line;    /* where it was written */
};

struct raw_section {
	enum config_section_type type;
	char *title;	   /* owned; the header as shown in messages */
	char *name;	   /* owned; NAME of a check or group, else NULL */
	int line;	   /* line of the header */
	struct raw_kv *kv; /* owned array */
	size_t nkv;
	size_t cap;
};

struct config_error {
	int line;   /* 0 for messages about the whole file */
	size_t seq; /* order of discovery, to keep the sort stable */
	char *text; /* owned; one whole message */
};

/* Everything one load needs; lives on config_load_string's stack. */
struct config_parser {
	const char *file;	  /* FILE in messages; borrowed */
	const char *text;	  /* the file's text; borrowed */
	size_t pos;		  /* next byte of text to read */
	int lineno;		  /* line most recently read */
	struct raw_section *secs; /* owned array, in file order */
	size_t nsecs;
	size_t capsecs;
	long cur; /* index of the current section, -1 before any */
	struct config_error *errs; /* owned array */
	size_t nerrs;
	size_t caperrs;
	size_t dropped;	 /* messages beyond CONFIG_KEEP_ERRORS */
	bool oom;	 /* an allocation failed */
	char kinds[128]; /* every kind, comma-separated */
	const struct probe_key *kkeys[CONFIG_MAX_KIND_KEYS]; /* static */
	size_t nkkeys; /* entries in kkeys */
	/* [daemon] profile = production, and its line (0: not set so) */
	int production_line;
};

/* Where a value comes from: a key in a section, or nowhere (NULL). */
struct config_src {
	const struct raw_section *sec; /* borrowed from the parser */
	const struct raw_kv *kv;       /* borrowed from the parser */
};

/*
 * Start a parser over text (borrowed), named name in messages, with the
 * kinds' keys from the probe table.
 */
void config_parser_init(
    struct config_parser *ps, const char *name, const char *text);

/* Lex the text into ps->secs, reporting what does not fit. */
void config_parser_read(struct config_parser *ps);

/* Free the sections and messages; ps itself is the caller's. */
void config_parser_free(struct config_parser *ps);

/*
 * Record one message: "FILE:LINE: [SECTION] KEY = "VALUE": PROBLEM".
 * Each part is left out when NULL (line 0: no line). Secret values
 * show as "***" and their expansion never shows.
 */
void config_parser_report(struct config_parser *ps, int line,
    const struct raw_section *sec, const char *key, const char *raw,
    const char *expanded, const char *fmt, ...)
    __attribute__((format(printf, 7, 8)));

/*
 * The messages, whole lines in file order, as many as fit in err, then a
 * line counting the rest; no final newline.
 */
void config_parser_errors(struct config_parser *ps, char *err, size_t errlen);

/* strdup, noting a failure in ps->oom. */
char *config_parser_dup(struct config_parser *ps, const char *s);

/* The name of key id: a generic key or one of the kinds'. */
const char *config_parser_key_name(const struct config_parser *ps, size_t id);

/* The id of the kinds' key of that type, or -1 when no kind takes one. */
long config_parser_kind_key_id(
    const struct config_parser *ps, enum probe_key_type type);

/* Point src[id] at each key set in sec (src has CONFIG_ALL_KEYS entries). */
void
config_parser_find_srcs(const struct raw_section *sec, struct config_src *src);

/* The value of s expanded, for the caller to free; NULL (reported) on failure. */
char *
config_parser_expand(struct config_parser *ps, const struct config_src *s);

/* ---- building checks (config_check.c) ---- */

/*
 * Parse a DURATION, INT or BOOL key (a generic one or a kind's INT) into
 * its field of the struct at base. Returns 0, or -1 (reported).
 */
int config_check_apply(
    struct config_parser *ps, const struct config_src *s, void *base);

/*
 * timeout must not exceed interval. Blame the key set in own (the check)
 * if any, else the one set in [defaults], timeout first.
 */
void config_check_timeout(struct config_parser *ps, const struct check_cfg *c,
    const struct config_src *src, const struct raw_section *own);

/*
 * Build c from sec on top of the template tmpl (set from tsrc). *depends
 * is the depends_on key, to report unknown names once all checks exist.
 */
void config_check_build(struct config_parser *ps, const struct raw_section *sec,
    const struct check_cfg *tmpl, const struct config_src *tsrc,
    struct check_cfg *c, const struct raw_kv **depends);

#endif /* READYD_CONFIG_PARSER_H */
