/* SPDX-License-Identifier: MIT */
/*
 * Configuration: INI parsing with libinih, ${VAR} expansion, durations and
 * validation against the data model.
 * Owns: struct config and everything hanging off it, and the table of
 * generic keys with their bounds.
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config_lex.h"
#include "probe.h"
#include "strbuf.h"
#include "suggest.h"

/* Generated from config/readyd.conf by the Makefile. */
extern const char readyd_builtin_conf[];

#define CONFIG_BUILTIN_NAME "(built-in)"
#define CONFIG_DEFAULT_PATH "/etc/readyd/readyd.conf"
#define CONFIG_MAX_FILE	    (1 << 20) /* bytes in a config file */
#define CONFIG_MAX_ERRORS   20	      /* messages shown */
#define CONFIG_KEEP_ERRORS  1000      /* messages collected */
#define CONFIG_MAX_VALUE    200	      /* bytes of a value quoted */
#define CONFIG_MAX_COUNT    1000      /* retries, rise */

#define CONFIG_NAME_ACCEPTED "letters, digits, \"_\", \".\" and \"-\""
#define CONFIG_SECTIONS_ACCEPTED \
	"[daemon], [defaults], [check NAME], [group NAME]"
#define CONFIG_LIST_ACCEPTED "check names separated by spaces or commas"

/* ---- the key table ---- */

enum config_key_id {
	CONFIG_KEY_LISTEN,
	CONFIG_KEY_DETAILS,
	CONFIG_KEY_DRAIN,
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
	CONFIG_KEY_CHECKS,
	CONFIG_KEY_COUNT
};

/*
 * The kinds' keys (probe_ops.keys, each name once) follow the generic
 * ones: key ids CONFIG_KEY_COUNT + i. Messages list them after "port".
 */
#define CONFIG_MAX_KIND_KEYS 24
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

static const struct config_key config_keys[CONFIG_KEY_COUNT] = {
    [CONFIG_KEY_LISTEN] = {.name = "listen",
	.in = IN_DAEMON,
	.deftext = "0.0.0.0:8080",
	.accepted = "ADDR:PORT or [IPv6]:PORT, PORT 1-65535"},
    [CONFIG_KEY_DETAILS] = {.name = "details",
	.in = IN_DAEMON,
	.deftext = "local",
	.accepted = "local, all, none"},
    [CONFIG_KEY_DRAIN] = {.name = "drain",
	.type = CONFIG_TYPE_DURATION,
	.in = IN_DAEMON,
	.offset = offsetof(struct config, drain_ms),
	.def = 0,
	.accepted = "a duration such as 0s, 250ms, 10s, 2m"},
    [CONFIG_KEY_KIND] = {.name = "kind", .in = IN_CHECK},
    [CONFIG_KEY_HOST] = {.name = "host",
	.in = IN_CHECK,
	.accepted = "a host name, an IPv4 address or an IPv6 address"},
    [CONFIG_KEY_PORT] = {.name = "port",
	.type = CONFIG_TYPE_INT,
	.in = IN_CHECK,
	.min = 1,
	.max = 65535,
	.offset = CHECK_FIELD(port),
	.accepted = "1-65535"},
    [CONFIG_KEY_DEPENDS_ON] = {.name = "depends_on",
	.in = IN_CHECK,
	.accepted = CONFIG_LIST_ACCEPTED},
    [CONFIG_KEY_REQUIRED] = {.name = "required",
	.type = CONFIG_TYPE_BOOL,
	.in = IN_TIMING,
	.offset = CHECK_FIELD(required),
	.def = 1},
    [CONFIG_KEY_INTERVAL] = {.name = "interval",
	.type = CONFIG_TYPE_DURATION,
	.in = IN_TIMING,
	.min = 1,
	.offset = CHECK_FIELD(interval_ms),
	.def = 30000},
    [CONFIG_KEY_TIMEOUT] = {.name = "timeout",
	.type = CONFIG_TYPE_DURATION,
	.in = IN_TIMING,
	.min = 1,
	.offset = CHECK_FIELD(timeout_ms),
	.def = 10000},
    [CONFIG_KEY_RETRIES] = {.name = "retries",
	.type = CONFIG_TYPE_INT,
	.in = IN_TIMING,
	.min = 1,
	.max = CONFIG_MAX_COUNT,
	.offset = CHECK_FIELD(retries),
	.def = 3,
	.accepted = "1-1000"},
    [CONFIG_KEY_START_PERIOD] = {.name = "start_period",
	.type = CONFIG_TYPE_DURATION,
	.in = IN_TIMING,
	.min = 0,
	.offset = CHECK_FIELD(start_period_ms),
	.def = 0},
    [CONFIG_KEY_START_INTERVAL] = {.name = "start_interval",
	.type = CONFIG_TYPE_DURATION,
	.in = IN_TIMING,
	.min = 1,
	.offset = CHECK_FIELD(start_interval_ms),
	.def = 5000},
    [CONFIG_KEY_FAST_INTERVAL] = {.name = "fast_interval",
	.type = CONFIG_TYPE_DURATION,
	.in = IN_TIMING,
	.min = 1,
	.offset = CHECK_FIELD(fast_interval_ms),
	.def = 1000},
    [CONFIG_KEY_RISE] = {.name = "rise",
	.type = CONFIG_TYPE_INT,
	.in = IN_TIMING,
	.min = 1,
	.max = CONFIG_MAX_COUNT,
	.offset = CHECK_FIELD(rise),
	.def = 1,
	.accepted = "1-1000"},
    [CONFIG_KEY_WATCH] = {.name = "watch",
	.type = CONFIG_TYPE_BOOL,
	.in = IN_TIMING,
	.offset = CHECK_FIELD(watch),
	.def = 1},
    [CONFIG_KEY_CHECKS] = {.name = "checks",
	.in = IN_GROUP,
	.accepted = CONFIG_LIST_ACCEPTED},
};

/* Section words and what a "did you mean" suggests for each. */
static const char *const config_section_words[CONFIG_SECTION_COUNT] = {
    [CONFIG_SECTION_DAEMON] = "daemon",
    [CONFIG_SECTION_DEFAULTS] = "defaults",
    [CONFIG_SECTION_CHECK] = "check",
    [CONFIG_SECTION_GROUP] = "group",
    [CONFIG_SECTION_IGNORED] = NULL,
};

static const char *const config_section_forms[CONFIG_SECTION_COUNT] = {
    [CONFIG_SECTION_DAEMON] = "[daemon]",
    [CONFIG_SECTION_DEFAULTS] = "[defaults]",
    [CONFIG_SECTION_CHECK] = "[check NAME]",
    [CONFIG_SECTION_GROUP] = "[group NAME]",
    [CONFIG_SECTION_IGNORED] = NULL,
};

static const char *const config_details_names[CONFIG_DETAILS_COUNT] = {
    [CONFIG_DETAILS_LOCAL] = "local",
    [CONFIG_DETAILS_ALL] = "all",
    [CONFIG_DETAILS_NONE] = "none",
};

/* ---- the raw file: sections and keys as written ---- */

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
};

/* Where a value comes from: a key in a section, or nowhere (NULL). */
struct config_src {
	const struct raw_section *sec; /* borrowed from the parser */
	const struct raw_kv *kv;       /* borrowed from the parser */
};

static void
report(struct config_parser *ps, int line, const struct raw_section *sec,
    const char *key, const char *raw, const char *expanded, const char *fmt,
    ...) __attribute__((format(printf, 7, 8)));

/*
 * Record one message: "FILE:LINE: [SECTION] KEY = "VALUE": PROBLEM".
 * Each part is left out when NULL (line 0: no line). Secret values
 * show as "***" and their expansion never shows.
 */
static void
report(struct config_parser *ps, int line, const struct raw_section *sec,
    const char *key, const char *raw, const char *expanded, const char *fmt,
    ...)
{
	struct strbuf b = {0};
	struct config_error *ne;
	bool secret = key != NULL && config_expand_is_secret_key(key);
	va_list ap;
	char *text;
	size_t i;

	if (line > 0)
		strbuf_printf(&b, "%s:%d: ", ps->file, line);
	else
		strbuf_printf(&b, "%s: ", ps->file);
	if (sec != NULL)
		strbuf_printf(
		    &b, "[%s]%s", sec->title, key != NULL ? " " : ": ");
	if (key != NULL) {
		strbuf_puts(&b, key);
		if (raw != NULL) {
			strbuf_puts(&b, " = ");
			if (secret && *raw != '\0')
				strbuf_puts(&b, "\"***\"");
			else
				strbuf_quote(&b, raw, CONFIG_MAX_VALUE);
			if (expanded != NULL && !secret &&
			    strcmp(raw, expanded) != 0) {
				strbuf_puts(&b, " (expands to ");
				strbuf_quote(&b, expanded, CONFIG_MAX_VALUE);
				strbuf_puts(&b, ")");
			}
		}
		strbuf_puts(&b, ": ");
	}
	va_start(ap, fmt);
	strbuf_vprintf(&b, fmt, ap);
	va_end(ap);
	text = strbuf_take(&b);
	if (text == NULL) {
		ps->oom = true;
		return;
	}
	for (i = 0; i < ps->nerrs; i++) {
		if (strcmp(ps->errs[i].text, text) == 0) {
			free(text);
			return;
		}
	}
	if (ps->nerrs >= CONFIG_KEEP_ERRORS) {
		ps->dropped++;
		free(text);
		return;
	}
	ne = strbuf_grow_array(
	    ps->errs, &ps->caperrs, ps->nerrs + 1, sizeof(*ps->errs));
	if (ne == NULL) {
		ps->oom = true;
		free(text);
		return;
	}
	ps->errs = ne;
	ps->errs[ps->nerrs].line = line;
	ps->errs[ps->nerrs].seq = ps->nerrs;
	ps->errs[ps->nerrs].text = text;
	ps->nerrs++;
}

static char *
dup_or_oom(struct config_parser *ps, const char *s)
{
	char *d = strdup(s);

	if (d == NULL)
		ps->oom = true;
	return d;
}

static void
fill_kinds(struct config_parser *ps)
{
	const char *k = probe_kinds();
	size_t len = 0, n;

	ps->kinds[0] = '\0';
	while (*k != '\0') {
		while (*k == ' ' || *k == '|' || *k == ',')
			k++;
		n = strcspn(k, " |,");
		if (n == 0)
			break;
		if (len + n + 3 >= sizeof(ps->kinds))
			break;
		if (len > 0) {
			memcpy(ps->kinds + len, ", ", 2);
			len += 2;
		}
		memcpy(ps->kinds + len, k, n);
		len += n;
		ps->kinds[len] = '\0';
		k += n;
	}
}

/* The kinds' keys, each name once, in the order of the kind table. */
static void
collect_kind_keys(struct config_parser *ps)
{
	const struct probe_ops *ops;
	size_t i, k, j;

	for (i = 0; (ops = probe_kind(i)) != NULL; i++) {
		for (k = 0; k < ops->nkeys; k++) {
			for (j = 0; j < ps->nkkeys; j++)
				if (strcmp(ps->kkeys[j]->name,
					ops->keys[k].name) == 0)
					break;
			if (j == ps->nkkeys && j < CONFIG_MAX_KIND_KEYS)
				ps->kkeys[ps->nkkeys++] = &ops->keys[k];
		}
	}
}

static const char *
key_name(const struct config_parser *ps, size_t id)
{
	if (id < CONFIG_KEY_COUNT)
		return config_keys[id].name;
	return ps->kkeys[id - CONFIG_KEY_COUNT]->name;
}

static unsigned
key_in(size_t id)
{
	return id < CONFIG_KEY_COUNT ? config_keys[id].in : IN_CHECK;
}

/* The id of the kinds' key of that type, or -1 when no kind takes one. */
static long
kind_key_id(const struct config_parser *ps, enum probe_key_type type)
{
	for (size_t j = 0; j < ps->nkkeys; j++)
		if (ps->kkeys[j]->type == type)
			return (long)(CONFIG_KEY_COUNT + j);
	return -1;
}

/* Key ids in the order messages list them: the kinds' after "port". */
static size_t
key_order(const struct config_parser *ps, size_t *ids)
{
	size_t n = 0, i, j;

	for (i = 0; i < CONFIG_KEY_COUNT; i++) {
		ids[n++] = i;
		if (i == CONFIG_KEY_PORT)
			for (j = 0; j < ps->nkkeys; j++)
				ids[n++] = CONFIG_KEY_COUNT + j;
	}
	return n;
}

/* Start a section from the text between the brackets. */
static void
add_section(struct config_parser *ps, char *hdr)
{
	struct raw_section *ns, *sec;
	enum config_section_type type = CONFIG_SECTION_IGNORED;
	const char *hint;
	char *rest, *word = hdr;
	struct strbuf b = {0};
	size_t i;

	ns = strbuf_grow_array(
	    ps->secs, &ps->capsecs, ps->nsecs + 1, sizeof(*ps->secs));
	if (ns == NULL) {
		ps->oom = true;
		ps->cur = -1;
		return;
	}
	ps->secs = ns;
	sec = &ps->secs[ps->nsecs];
	memset(sec, 0, sizeof(*sec));
	sec->type = CONFIG_SECTION_IGNORED;
	sec->line = ps->lineno;
	ps->cur = (long)ps->nsecs++;

	rest = word + strcspn(word, " \t");
	if (*rest != '\0')
		*rest++ = '\0';
	rest = config_parse_trim(rest);
	for (i = 0; i < CONFIG_SECTION_IGNORED; i++)
		if (strcmp(word, config_section_words[i]) == 0)
			type = i;
	strbuf_printf(&b, "%s%s%s", word, *rest != '\0' ? " " : "", rest);
	sec->title = strbuf_take(&b);
	if (sec->title == NULL) {
		ps->oom = true;
		return;
	}

	if (type == CONFIG_SECTION_IGNORED ||
	    ((type == CONFIG_SECTION_DAEMON ||
		 type == CONFIG_SECTION_DEFAULTS) &&
		*rest != '\0')) {
		hint = type != CONFIG_SECTION_IGNORED
		    ? config_section_words[type]
		    : suggest(
			  word, config_section_words, CONFIG_SECTION_IGNORED);
		for (i = 0; hint != NULL && i < CONFIG_SECTION_IGNORED; i++)
			if (strcmp(hint, config_section_words[i]) == 0)
				hint = config_section_forms[i];
		if (hint != NULL)
			report(ps, sec->line, sec, NULL, NULL, NULL,
			    "unknown section (did you mean \"%s\"?)", hint);
		else
			report(ps, sec->line, sec, NULL, NULL, NULL,
			    "unknown section (accepted: %s)",
			    CONFIG_SECTIONS_ACCEPTED);
		return;
	}
	if (type == CONFIG_SECTION_CHECK || type == CONFIG_SECTION_GROUP) {
		if (*rest == '\0') {
			report(ps, sec->line, sec, NULL, NULL, NULL,
			    "missing name (accepted: %s)",
			    config_section_forms[type]);
			return;
		}
		if (!config_parse_is_name(rest)) {
			report(ps, sec->line, sec, NULL, NULL, NULL,
			    "invalid name (accepted: %s)",
			    CONFIG_NAME_ACCEPTED);
			return;
		}
	}
	for (i = 0; i + 1 < ps->nsecs; i++) {
		if (ps->secs[i].type != type)
			continue;
		if (type == CONFIG_SECTION_DAEMON ||
		    type == CONFIG_SECTION_DEFAULTS) {
			report(ps, sec->line, sec, NULL, NULL, NULL,
			    "duplicate section (first at line %d)",
			    ps->secs[i].line);
			return;
		}
		if (strcmp(ps->secs[i].name, rest) == 0) {
			report(ps, sec->line, sec, NULL, NULL, NULL,
			    "duplicate %s name (first at line %d)", word,
			    ps->secs[i].line);
			return;
		}
	}
	if (type == CONFIG_SECTION_CHECK || type == CONFIG_SECTION_GROUP) {
		sec->name = dup_or_oom(ps, rest);
		if (sec->name == NULL)
			return;
	}
	sec->type = type;
}

static void
key_list(const struct config_parser *ps, unsigned in, struct strbuf *b)
{
	size_t ids[CONFIG_ALL_KEYS], n, i;
	bool first = true;

	n = key_order(ps, ids);
	for (i = 0; i < n; i++) {
		if (!(key_in(ids[i]) & in))
			continue;
		strbuf_printf(
		    b, "%s%s", first ? "" : ", ", key_name(ps, ids[i]));
		first = false;
	}
}

/* One "KEY = VALUE" of the line most recently read. */
static void
add_key(struct config_parser *ps, const char *name, const char *value)
{
	const char *cands[CONFIG_ALL_KEYS], *hint;
	size_t ids[CONFIG_ALL_KEYS], n;
	struct raw_section *sec;
	struct raw_kv *nkv, *kv;
	struct strbuf b = {0};
	unsigned bit;
	char *list;
	long id = -1;
	size_t i;

	if (ps->cur == -2)
		return;
	if (ps->cur < 0) {
		report(ps, ps->lineno, NULL, name, value, NULL,
		    "outside of any section (accepted: after one of %s)",
		    CONFIG_SECTIONS_ACCEPTED);
		return;
	}
	sec = &ps->secs[ps->cur];
	if (sec->type == CONFIG_SECTION_IGNORED)
		return;
	bit = 1u << sec->type;
	if (*name == '\0') {
		report(ps, ps->lineno, sec, NULL, NULL, NULL,
		    "missing key name before \"=\" (accepted: KEY = VALUE)");
		return;
	}
	n = key_order(ps, ids);
	for (i = 0; i < n; i++) {
		cands[i] = key_in(ids[i]) & bit ? key_name(ps, ids[i]) : NULL;
		if (strcmp(name, key_name(ps, ids[i])) == 0)
			id = (long)ids[i];
	}
	if (id < 0 || !(key_in((size_t)id) & bit)) {
		hint = suggest(name, cands, n);
		key_list(ps, bit, &b);
		list = strbuf_take(&b);
		if (list == NULL) {
			ps->oom = true;
			return;
		}
		if (id >= 0)
			report(ps, ps->lineno, sec, name, value, NULL,
			    "not allowed in %s (accepted: %s)",
			    config_section_forms[sec->type], list);
		else if (hint != NULL)
			/* a misspelt secret key keeps its value secret */
			report(ps, ps->lineno, sec, name,
			    config_expand_is_secret_key(hint) && *value != '\0'
				? "***"
				: value,
			    NULL, "unknown key (did you mean \"%s\"?)", hint);
		else
			report(ps, ps->lineno, sec, name, value, NULL,
			    "unknown key (accepted: %s)", list);
		free(list);
		return;
	}
	for (i = 0; i < sec->nkv; i++) {
		if (sec->kv[i].id == (size_t)id) {
			report(ps, ps->lineno, sec, name, value, NULL,
			    "duplicate key (first at line %d)",
			    sec->kv[i].line);
			return;
		}
	}
	nkv = strbuf_grow_array(
	    sec->kv, &sec->cap, sec->nkv + 1, sizeof(*sec->kv));
	if (nkv == NULL) {
		ps->oom = true;
		return;
	}
	sec->kv = nkv;
	kv = &sec->kv[sec->nkv];
	kv->id = (size_t)id;
	kv->line = ps->lineno;
	kv->key = strdup(name);
	kv->value = strdup(value);
	if (kv->key == NULL || kv->value == NULL) {
		free(kv->key);
		config_expand_free_secret(kv->value);
		ps->oom = true;
		return;
	}
	sec->nkv++;
}

/*
 * A secret's value with an inline comment (" #", " ;") would be cut
 * short there, leaving a wrong password; "${VAR}  # from .env" is a plain
 * comment.
 */
static bool
secret_cut_by_comment(const struct config_lex_item *it)
{
	size_t n = strlen(it->value);

	if (!it->cut || strlen(it->name) >= 64 ||
	    !config_expand_is_secret_key(it->name))
		return false;
	return !(n > 3 && strncmp(it->value, "${", 2) == 0 &&
	    it->value[n - 1] == '}' &&
	    memchr(it->value + 2, '}', n - 3) == NULL);
}

static void
parse_text(struct config_parser *ps)
{
	static const char syntax[] =
	    "syntax error (accepted: \"[SECTION]\", \"KEY = VALUE\" or a comment starting with \"#\" or \";\")";
	struct config_lex lx;
	struct config_lex_item it;

	config_lex_init(&lx, ps->text);
	while (config_lex_next(&lx, &it) != CONFIG_LEX_END) {
		ps->lineno = lx.lineno;
		switch (it.type) {
		case CONFIG_LEX_SECTION:
			add_section(ps, it.name);
			break;
		case CONFIG_LEX_KEY:
			if (ps->cur >= 0 && secret_cut_by_comment(&it))
				report(ps, ps->lineno, &ps->secs[ps->cur],
				    it.name, "***", NULL,
				    "\" #\" or \" ;\" starts a comment and would cut the password short (accepted: such a password in password_file or an environment variable)");
			add_key(ps, it.name, it.value);
			break;
		case CONFIG_LEX_BAD_HEADER:
			report(ps, ps->lineno, NULL, NULL, NULL, NULL, "%s",
			    syntax);
			ps->cur = -2; /* ignore keys until the next header */
			break;
		case CONFIG_LEX_BAD_LINE:
			report(ps, ps->lineno, NULL, NULL, NULL, NULL, "%s",
			    syntax);
			break;
		case CONFIG_LEX_TOO_LONG:
			report(ps, ps->lineno, NULL, NULL, NULL, NULL,
			    "line too long (accepted: up to %d characters)",
			    CONFIG_LEX_MAX_LINE);
			break;
		case CONFIG_LEX_END:
		case CONFIG_LEX_BLANK:
		case CONFIG_LEX_TYPE_COUNT:
			break;
		}
	}
	config_lex_done(&lx);
}

static void
parser_free(struct config_parser *ps)
{
	size_t i, j;

	for (i = 0; i < ps->nsecs; i++) {
		for (j = 0; j < ps->secs[i].nkv; j++) {
			free(ps->secs[i].kv[j].key);
			config_expand_free_secret(ps->secs[i].kv[j].value);
		}
		free(ps->secs[i].kv);
		free(ps->secs[i].title);
		free(ps->secs[i].name);
	}
	free(ps->secs);
	for (i = 0; i < ps->nerrs; i++)
		free(ps->errs[i].text);
	free(ps->errs);
}

/* ---- building struct config from the raw sections ---- */

static void
find_srcs(const struct raw_section *sec, struct config_src *src)
{
	size_t i;

	for (i = 0; i < sec->nkv; i++) {
		src[sec->kv[i].id].sec = sec;
		src[sec->kv[i].id].kv = &sec->kv[i];
	}
}

/* Expand a value; NULL (reported) on failure. */
static char *
src_expand(struct config_parser *ps, const struct config_src *s)
{
	char err[512], *out;

	if (config_expand(s->kv->value, &out, err, sizeof(err)) < 0) {
		report(ps, s->kv->line, s->sec, s->kv->key, s->kv->value, NULL,
		    "%s", err);
		return NULL;
	}
	return out;
}

/* Parse a DURATION, INT or BOOL key into the check at base. */
static int
apply_typed(struct config_parser *ps, const struct config_src *s, void *c)
{
	const struct config_key *k = &config_keys[s->kv->id];
	const struct probe_key *pk;
	struct config_key kk;
	char *base = (char *)c, err[256], *v;
	int64_t n;
	bool bv;
	int rc = -1;

	if (s->kv->id >= CONFIG_KEY_COUNT) { /* a kind's INT */
		pk = ps->kkeys[s->kv->id - CONFIG_KEY_COUNT];
		kk = (struct config_key){.name = pk->name,
		    .type = CONFIG_TYPE_INT,
		    .in = IN_CHECK,
		    .min = pk->min,
		    .max = pk->max,
		    .offset = pk->offset,
		    .accepted = pk->accepted};
		k = &kk;
	}
	v = src_expand(ps, s);
	if (v == NULL)
		return -1;
	switch (k->type) {
	case CONFIG_TYPE_DURATION:
		if (config_parse_duration(v, &n, err, sizeof(err)) < 0) {
			report(ps, s->kv->line, s->sec, s->kv->key,
			    s->kv->value, v, "%s", err);
			break;
		}
		if (n < k->min) {
			report(ps, s->kv->line, s->sec, s->kv->key,
			    s->kv->value, v,
			    "must be more than 0 (accepted: %s)",
			    CONFIG_PARSE_DURATION_ACCEPTED);
			break;
		}
		memcpy(base + k->offset, &n, sizeof(n));
		rc = 0;
		break;
	case CONFIG_TYPE_INT:
		rc = config_parse_int(v, k->min, k->max, &n);
		if (rc < 0) {
			report(ps, s->kv->line, s->sec, s->kv->key,
			    s->kv->value, v, "%s (accepted: %s)",
			    rc == -1 ? "not a number" : "out of range",
			    k->accepted);
			rc = -1;
			break;
		}
		*(int *)(void *)(base + k->offset) = (int)n;
		break;
	case CONFIG_TYPE_BOOL:
		if (config_parse_bool(v, &bv) < 0) {
			report(ps, s->kv->line, s->sec, s->kv->key,
			    s->kv->value, v,
			    "not a boolean (accepted: yes, no, true, false, on, off, 1, 0)");
			break;
		}
		memcpy(base + k->offset, &bv, sizeof(bv));
		rc = 0;
		break;
	case CONFIG_TYPE_TEXT:
	case CONFIG_TYPE_COUNT:
		break;
	}
	free(v);
	return rc;
}

/*
 * timeout must not exceed interval. Blame the key set in own (the check)
 * if any, else the one set in [defaults], timeout first.
 */
static void
check_timeout(struct config_parser *ps, const struct check_cfg *c,
    const struct config_src *src, const struct raw_section *own)
{
	const struct config_src *t = &src[CONFIG_KEY_TIMEOUT];
	const struct config_src *iv = &src[CONFIG_KEY_INTERVAL];
	char ts[32], is[32];

	if (c->timeout_ms <= c->interval_ms)
		return;
	config_parse_format_duration(c->timeout_ms, ts, sizeof(ts));
	config_parse_format_duration(c->interval_ms, is, sizeof(is));
	if (t->kv != NULL && (t->sec == own || iv->sec != own))
		report(ps, t->kv->line, t->sec, t->kv->key, t->kv->value, NULL,
		    "%s is longer than the interval %s (accepted: at most the interval)",
		    ts, is);
	else if (iv->kv != NULL)
		report(ps, iv->kv->line, iv->sec, iv->kv->key, iv->kv->value,
		    NULL,
		    "%s is shorter than the timeout %s (accepted: at least the timeout)",
		    is, ts);
}

/* Store a typed key's value v in its field of the struct at base. */
static void
store_typed(const struct config_key *k, void *base, int64_t v)
{
	char *field = (char *)base + k->offset;
	bool b = v != 0;
	int n = (int)v;

	if (k->type == CONFIG_TYPE_DURATION)
		memcpy(field, &v, sizeof(v));
	else if (k->type == CONFIG_TYPE_INT)
		memcpy(field, &n, sizeof(n));
	else if (k->type == CONFIG_TYPE_BOOL)
		memcpy(field, &b, sizeof(b));
}

/* A check with the built-in value of every key [defaults] takes. */
static void
defaults_init(struct check_cfg *c)
{
	memset(c, 0, sizeof(*c));
	for (size_t i = 0; i < CONFIG_KEY_COUNT; i++)
		if (config_keys[i].in & IN_DEFAULTS)
			store_typed(&config_keys[i], c, config_keys[i].def);
}

/* The template every check starts from: built-ins plus [defaults]. */
static void
build_defaults(
    struct config_parser *ps, struct check_cfg *tmpl, struct config_src *tsrc)
{
	const struct raw_section *sec = NULL;
	bool bad = false;
	size_t i;

	defaults_init(tmpl);
	memset(tsrc, 0, sizeof(*tsrc) * CONFIG_ALL_KEYS);
	for (i = 0; i < ps->nsecs && sec == NULL; i++)
		if (ps->secs[i].type == CONFIG_SECTION_DEFAULTS)
			sec = &ps->secs[i];
	if (sec == NULL)
		return;
	find_srcs(sec, tsrc);
	for (i = 0; i < CONFIG_KEY_COUNT; i++) {
		if (tsrc[i].kv == NULL)
			continue;
		if (apply_typed(ps, &tsrc[i], tmpl) < 0) {
			/* Checks inherit the built-in, not the bad value. */
			tsrc[i].kv = NULL;
			tsrc[i].sec = NULL;
			if (i == CONFIG_KEY_TIMEOUT || i == CONFIG_KEY_INTERVAL)
				bad = true;
		}
	}
	if (!bad)
		check_timeout(ps, tmpl, tsrc, sec);
}

static enum config_details
details_find(const char *name)
{
	for (size_t i = 0; i < CONFIG_DETAILS_COUNT; i++)
		if (strcmp(name, config_details_names[i]) == 0)
			return (enum config_details)i;
	return CONFIG_DETAILS_COUNT;
}

static void
build_daemon(struct config_parser *ps, struct config *cfg)
{
	struct config_src src[CONFIG_ALL_KEYS], *s;
	enum config_details d;
	char err[256], *v, *host;
	int port;
	size_t i;

	memset(src, 0, sizeof(src));
	for (i = 0; i < ps->nsecs; i++)
		if (ps->secs[i].type == CONFIG_SECTION_DAEMON)
			find_srcs(&ps->secs[i], src);
	/* The built-in values first: a bad value leaves them. */
	if (config_parse_listen(config_keys[CONFIG_KEY_LISTEN].deftext,
		&cfg->listen_host, &cfg->listen_port, err, sizeof(err)) < 0)
		ps->oom = true;
	cfg->details = details_find(config_keys[CONFIG_KEY_DETAILS].deftext);
	store_typed(&config_keys[CONFIG_KEY_DRAIN], cfg,
	    config_keys[CONFIG_KEY_DRAIN].def);

	s = &src[CONFIG_KEY_LISTEN];
	if (s->kv != NULL && (v = src_expand(ps, s)) != NULL) {
		if (config_parse_listen(v, &host, &port, err, sizeof(err)) <
		    0) {
			report(ps, s->kv->line, s->sec, s->kv->key,
			    s->kv->value, v, "%s (accepted: %s)", err,
			    config_keys[CONFIG_KEY_LISTEN].accepted);
		} else {
			free(cfg->listen_host);
			cfg->listen_host = host;
			cfg->listen_port = port;
		}
		free(v);
	}
	if (src[CONFIG_KEY_DRAIN].kv != NULL)
		(void)apply_typed(ps, &src[CONFIG_KEY_DRAIN], cfg);
	s = &src[CONFIG_KEY_DETAILS];
	if (s->kv != NULL && (v = src_expand(ps, s)) != NULL) {
		d = details_find(v);
		if (d < CONFIG_DETAILS_COUNT)
			cfg->details = d;
		else
			report(ps, s->kv->line, s->sec, s->kv->key,
			    s->kv->value, v, "invalid value (accepted: %s)",
			    config_keys[CONFIG_KEY_DETAILS].accepted);
		free(v);
	}
}

/* "postgres and pgbouncer": the kinds that take the key called name. */
static void
kinds_taking(const char *name, char *buf, size_t len)
{
	const struct probe_ops *ops;
	size_t i, n = 0, total = 0, used = 0;

	for (i = 0; (ops = probe_kind(i)) != NULL; i++)
		if (probe_find_key(ops, name) != NULL)
			total++;
	buf[0] = '\0';
	for (i = 0; (ops = probe_kind(i)) != NULL && used < len; i++) {
		if (probe_find_key(ops, name) == NULL)
			continue;
		n++;
		used += (size_t)snprintf(buf + used, len - used, "%s%s",
		    n == 1 ? "" : (n == total ? " and " : ", "), ops->name);
	}
}

/* Refuse a kind's key the check's kind does not take. */
static bool
key_fits_kind(struct config_parser *ps, const struct config_src *s,
    const struct probe_ops *ops)
{
	const char *name;
	char kinds[128];

	if (s->kv == NULL || ops == NULL || s->kv->id < CONFIG_KEY_COUNT)
		return true;
	name = key_name(ps, s->kv->id);
	if (probe_find_key(ops, name) != NULL)
		return true;
	kinds_taking(name, kinds, sizeof(kinds));
	report(ps, s->kv->line, s->sec, s->kv->key, s->kv->value, NULL,
	    "not used by kind %s (accepted: %s checks only)", ops->name, kinds);
	return false;
}

static void
build_kind(struct config_parser *ps, const struct raw_section *sec,
    const struct config_src *s, struct check_cfg *c)
{
	const char *cands[16], *hint;
	char words[128], *v, *w, *save = NULL;
	size_t n = 0;

	if (s->kv == NULL) {
		report(ps, sec->line, sec, "kind", NULL, NULL,
		    "missing (accepted: %s)", ps->kinds);
		return;
	}
	v = src_expand(ps, s);
	if (v == NULL)
		return;
	c->ops = probe_find(v);
	if (c->ops == NULL) {
		snprintf(words, sizeof(words), "%s", ps->kinds);
		for (w = strtok_r(words, ", ", &save); w != NULL && n < 16;
		     w = strtok_r(NULL, ", ", &save))
			cands[n++] = w;
		hint = suggest(v, cands, n);
		if (hint != NULL)
			report(ps, s->kv->line, sec, "kind", s->kv->value, v,
			    "unknown kind (did you mean \"%s\"?)", hint);
		else
			report(ps, s->kv->line, sec, "kind", s->kv->value, v,
			    "unknown kind (accepted: %s)", ps->kinds);
	}
	free(v);
}

/* The accepted text of the kinds' key of that type. */
static const char *
kind_key_accepted(const struct config_parser *ps, long id)
{
	if (id < (long)CONFIG_KEY_COUNT)
		return "";
	return ps->kkeys[(size_t)id - CONFIG_KEY_COUNT]->accepted;
}

static void
build_password(struct config_parser *ps, const struct raw_section *sec,
    const struct config_src *src, struct check_cfg *c)
{
	static const struct config_src none;
	long pwid = kind_key_id(ps, PROBE_KEY_PASSWORD);
	long pfid = kind_key_id(ps, PROBE_KEY_PASSWORD_FILE);
	const struct config_src *pw = pwid >= 0 ? &src[pwid] : &none;
	const struct config_src *pf = pfid >= 0 ? &src[pfid] : &none;
	bool need = c->ops != NULL && c->ops->auth;
	char err[256], *v, *path;

	if (pw->kv != NULL && pf->kv != NULL) {
		report(ps, pf->kv->line, sec, pf->kv->key, pf->kv->value, NULL,
		    "conflicts with password at line %d (accepted: only one of password and password_file)",
		    pw->kv->line);
		return;
	}
	if (pw->kv != NULL) {
		v = src_expand(ps, pw);
		if (v == NULL)
			return;
		if (*v != '\0') {
			c->password = v;
			return;
		}
		free(v);
		if (need)
			report(ps, pw->kv->line, sec, pw->kv->key,
			    pw->kv->value, NULL, "empty (accepted: %s)",
			    kind_key_accepted(ps, pwid));
		return;
	}
	if (pf->kv != NULL) {
		path = src_expand(ps, pf);
		if (path == NULL)
			return;
		if (config_expand_read_secret(path, &v, err, sizeof(err)) < 0) {
			report(ps, pf->kv->line, sec, pf->kv->key,
			    pf->kv->value, path, "%s", err);
		} else if (*v == '\0') {
			free(v);
			if (need)
				report(ps, pf->kv->line, sec, pf->kv->key,
				    pf->kv->value, path,
				    "file is empty (accepted: a file holding a non-empty password)");
		} else {
			c->password = v;
		}
		free(path);
		return;
	}
	if (need)
		report(ps, sec->line, sec, "password", NULL, NULL,
		    "missing (accepted: %s)", kind_key_accepted(ps, pwid));
}

/* A kind's TEXT key: the kind's check, then the field ("" leaves NULL). */
static void
build_text(struct config_parser *ps, const struct config_src *s,
    const struct probe_key *k, struct check_cfg *c)
{
	const char *problem;
	char *v = src_expand(ps, s);

	if (v == NULL)
		return;
	problem = k->check != NULL ? k->check(v) : NULL;
	if (problem != NULL) {
		report(ps, s->kv->line, s->sec, s->kv->key, s->kv->value, v,
		    "%s (accepted: %s)", problem, k->accepted);
		free(v);
	} else if (*v == '\0') {
		free(v);
	} else {
		memcpy((char *)c + k->offset, &v, sizeof(v));
	}
}

static void
build_user(struct config_parser *ps, const struct config_src *s,
    const struct probe_key *k, struct check_cfg *c)
{
	char *v = src_expand(ps, s);

	if (v == NULL)
		return;
	if (*v == '\0' && c->ops != NULL && c->ops->auth)
		report(ps, s->kv->line, s->sec, s->kv->key, s->kv->value, v,
		    "empty (accepted: %s)", k->accepted);
	if (*v != '\0')
		c->user = v;
	else
		free(v);
}

/* The kinds' keys set in the check, each by its type. */
static void
build_kind_keys(struct config_parser *ps, const struct raw_section *sec,
    struct config_src *src, struct check_cfg *c)
{
	long uid = kind_key_id(ps, PROBE_KEY_USER);
	const struct probe_key *k;
	struct config_src *s;

	for (size_t j = 0; j < ps->nkkeys; j++) {
		k = ps->kkeys[j];
		s = &src[CONFIG_KEY_COUNT + j];
		if (s->kv == NULL)
			continue;
		if (!key_fits_kind(ps, s, c->ops)) {
			s->kv = NULL;
			s->sec = NULL;
			continue;
		}
		switch (k->type) {
		case PROBE_KEY_TEXT:
			build_text(ps, s, k, c);
			break;
		case PROBE_KEY_INT:
			(void)apply_typed(ps, s, c);
			break;
		case PROBE_KEY_USER:
			build_user(ps, s, k, c);
			break;
		case PROBE_KEY_PASSWORD:
		case PROBE_KEY_PASSWORD_FILE:
		case PROBE_KEY_TYPE_COUNT:
			break; /* build_password */
		}
	}
	if (c->ops != NULL && c->ops->auth && (uid < 0 || src[uid].kv == NULL))
		report(ps, sec->line, sec, "user", NULL, NULL,
		    "missing (accepted: %s)", kind_key_accepted(ps, uid));
	build_password(ps, sec, src, c);
}

/* Ask the kind about the check as a whole; blame the key it names. */
static void
validate_kind(struct config_parser *ps, const struct raw_section *sec,
    const struct config_src *src, const struct check_cfg *c)
{
	const char *key = NULL;
	char err[512];
	size_t id;

	err[0] = '\0';
	if (c->ops->validate(c, &key, err, sizeof(err)) == 0)
		return;
	for (id = 0; key != NULL && id < CONFIG_KEY_COUNT + ps->nkkeys; id++) {
		if (src[id].kv == NULL || strcmp(key_name(ps, id), key) != 0)
			continue;
		report(ps, src[id].kv->line, sec, src[id].kv->key,
		    src[id].kv->value, NULL, "%s", err);
		return;
	}
	report(ps, sec->line, sec, key, NULL, NULL, "%s", err);
}

static void
build_check(struct config_parser *ps, const struct raw_section *sec,
    const struct check_cfg *tmpl, const struct config_src *tsrc,
    struct check_cfg *c, const struct raw_kv **depends)
{
	struct config_src src[CONFIG_ALL_KEYS], *s;
	bool badtime = false;
	size_t nerrs = ps->nerrs, i;
	char *v;
	long n;

	*c = *tmpl;
	c->line = sec->line;
	c->name = dup_or_oom(ps, sec->name);
	memcpy(src, tsrc, sizeof(src));
	find_srcs(sec, src);
	*depends = src[CONFIG_KEY_DEPENDS_ON].kv;

	build_kind(ps, sec, &src[CONFIG_KEY_KIND], c);
	for (i = 0; i < CONFIG_KEY_COUNT; i++) {
		s = &src[i];
		if (s->sec != sec || config_keys[i].type == CONFIG_TYPE_TEXT)
			continue;
		if (apply_typed(ps, s, c) < 0)
			if (i == CONFIG_KEY_TIMEOUT || i == CONFIG_KEY_INTERVAL)
				badtime = true;
	}
	if (src[CONFIG_KEY_PORT].kv == NULL && c->ops != NULL) {
		if (c->ops->port > 0)
			c->port = c->ops->port;
		else
			report(ps, sec->line, sec, "port", NULL, NULL,
			    "missing (accepted: 1-65535)");
	}

	s = &src[CONFIG_KEY_HOST];
	if (s->kv == NULL) {
		report(ps, sec->line, sec, "host", NULL, NULL,
		    "missing (accepted: %s)",
		    config_keys[CONFIG_KEY_HOST].accepted);
	} else if ((v = src_expand(ps, s)) != NULL) {
		int rc = config_parse_host(v, strlen(v), &c->host);

		if (rc == -2)
			ps->oom = true;
		else if (rc < 0)
			report(ps, s->kv->line, sec, s->kv->key, s->kv->value,
			    v, "%s (accepted: %s)",
			    *v == '\0' ? "empty" : "invalid host",
			    config_keys[CONFIG_KEY_HOST].accepted);
		free(v);
	}

	build_kind_keys(ps, sec, src, c);

	s = &src[CONFIG_KEY_DEPENDS_ON];
	if (s->kv != NULL && (v = src_expand(ps, s)) != NULL) {
		n = config_parse_names(v, &c->depends_on);
		free(v);
		if (n < 0) {
			ps->oom = true;
		} else if (n > 0) {
			c->ndepends = (size_t)n;
			c->depends_idx =
			    calloc((size_t)n, sizeof(*c->depends_idx));
			if (c->depends_idx == NULL)
				ps->oom = true;
		}
	}

	if (!badtime &&
	    (src[CONFIG_KEY_TIMEOUT].sec == sec ||
		src[CONFIG_KEY_INTERVAL].sec == sec))
		check_timeout(ps, c, src, sec);

	if (ps->nerrs == nerrs && !ps->oom && c->ops != NULL &&
	    c->ops->validate != NULL)
		validate_kind(ps, sec, src, c);
}

/* Report "unknown check" for name, with a "did you mean" if one is close. */
static void
report_unknown_check(struct config_parser *ps, const struct config *cfg,
    const struct raw_section *sec, const struct raw_kv *kv, const char *name)
{
	const char **cands, *hint = NULL;
	size_t i;

	cands = calloc(cfg->nchecks + 1, sizeof(*cands));
	if (cands != NULL) {
		for (i = 0; i < cfg->nchecks; i++)
			cands[i] = cfg->checks[i].name;
		hint = suggest(name, cands, cfg->nchecks);
	}
	if (hint != NULL)
		report(ps, kv->line, sec, kv->key, kv->value, NULL,
		    "unknown check \"%s\" (did you mean \"%s\"?)", name, hint);
	else
		report(ps, kv->line, sec, kv->key, kv->value, NULL,
		    "unknown check \"%s\" (accepted: names of [check NAME] sections)",
		    name);
	free(cands);
}

struct config_dfs {
	struct config_parser *ps;
	const struct config *cfg;
	const struct raw_section **secs; /* section of each check */
	const struct raw_kv **depends;	 /* depends_on of each check */
	unsigned char *color;		 /* 0 new, 1 on the path, 2 done */
	size_t *path;			 /* checks on the current path */
};

static void
dfs_visit(struct config_dfs *d, size_t u, size_t depth)
{
	const struct check_cfg *c = &d->cfg->checks[u];
	struct strbuf b = {0};
	size_t k, v, p;
	char *cycle;

	d->color[u] = 1;
	d->path[depth] = u;
	for (k = 0; k < c->ndepends; k++) {
		v = c->depends_idx[k];
		if (v >= d->cfg->nchecks)
			continue;
		if (d->color[v] == 0) {
			dfs_visit(d, v, depth + 1);
			continue;
		}
		if (d->color[v] != 1)
			continue;
		for (p = 0; d->path[p] != v; p++)
			;
		for (; p <= depth; p++)
			strbuf_printf(
			    &b, "%s -> ", d->cfg->checks[d->path[p]].name);
		strbuf_puts(&b, d->cfg->checks[v].name);
		cycle = strbuf_take(&b);
		if (cycle == NULL) {
			d->ps->oom = true;
			continue;
		}
		report(d->ps, d->depends[v]->line, d->secs[v],
		    d->depends[v]->key, d->depends[v]->value, NULL,
		    "dependency cycle %s (accepted: dependencies without cycles)",
		    cycle);
		free(cycle);
	}
	d->color[u] = 2;
}

static void
resolve_depends(struct config_parser *ps, const struct config *cfg,
    const struct raw_section **secs, const struct raw_kv **depends)
{
	struct config_dfs d = {
	    .ps = ps, .cfg = cfg, .secs = secs, .depends = depends};
	struct check_cfg *c;
	size_t i, k;
	int idx;

	for (i = 0; i < cfg->nchecks; i++) {
		c = &cfg->checks[i];
		for (k = 0; k < c->ndepends && c->depends_idx != NULL; k++) {
			idx = config_find_check(cfg, c->depends_on[k]);
			c->depends_idx[k] = SIZE_MAX;
			if (idx < 0)
				report_unknown_check(ps, cfg, secs[i],
				    depends[i], c->depends_on[k]);
			else if ((size_t)idx == i)
				report(ps, depends[i]->line, secs[i],
				    depends[i]->key, depends[i]->value, NULL,
				    "depends on itself (accepted: names of other checks)");
			else
				c->depends_idx[k] = (size_t)idx;
		}
	}
	if (ps->oom || cfg->nchecks == 0)
		return;
	d.color = calloc(cfg->nchecks, 1);
	d.path = calloc(cfg->nchecks, sizeof(*d.path));
	if (d.color == NULL || d.path == NULL) {
		ps->oom = true;
		goto out_free;
	}
	for (i = 0; i < cfg->nchecks; i++)
		if (d.color[i] == 0)
			dfs_visit(&d, i, 0);
out_free:
	free(d.color);
	free(d.path);
}

static void
build_group(struct config_parser *ps, const struct config *cfg,
    const struct raw_section *sec, struct group_cfg *g)
{
	struct config_src src[CONFIG_ALL_KEYS], *s = &src[CONFIG_KEY_CHECKS];
	char **names = NULL, *v;
	size_t i;
	long n;
	int idx;

	g->line = sec->line;
	g->name = dup_or_oom(ps, sec->name);
	idx = config_find_check(cfg, sec->name);
	if (idx >= 0)
		report(ps, sec->line, sec, NULL, NULL, NULL,
		    "name already used by [check %s] at line %d (accepted: a name no check uses)",
		    sec->name, cfg->checks[idx].line);
	memset(src, 0, sizeof(src));
	find_srcs(sec, src);
	if (s->kv == NULL) {
		report(ps, sec->line, sec, "checks", NULL, NULL,
		    "missing (accepted: %s)", CONFIG_LIST_ACCEPTED);
		return;
	}
	v = src_expand(ps, s);
	if (v == NULL)
		return;
	n = config_parse_names(v, &names);
	if (n < 0) {
		ps->oom = true;
	} else if (n == 0) {
		report(ps, s->kv->line, sec, s->kv->key, s->kv->value, v,
		    "empty (accepted: %s)", CONFIG_LIST_ACCEPTED);
	} else {
		g->checks = calloc((size_t)n, sizeof(*g->checks));
		if (g->checks == NULL)
			ps->oom = true;
		for (i = 0; g->checks != NULL && i < (size_t)n; i++) {
			idx = config_find_check(cfg, names[i]);
			if (idx < 0)
				report_unknown_check(
				    ps, cfg, sec, s->kv, names[i]);
			else
				g->checks[g->nchecks++] = (size_t)idx;
		}
	}
	config_parse_free_names(names);
	free(v);
}

static void
build(struct config_parser *ps, struct config *cfg)
{
	const struct raw_section **secs = NULL;
	const struct raw_kv **depends = NULL;
	struct config_src tsrc[CONFIG_ALL_KEYS];
	struct check_cfg tmpl;
	size_t i, nchecks = 0, ngroups = 0;

	build_daemon(ps, cfg);
	build_defaults(ps, &tmpl, tsrc);
	for (i = 0; i < ps->nsecs; i++) {
		if (ps->secs[i].type == CONFIG_SECTION_CHECK)
			nchecks++;
		else if (ps->secs[i].type == CONFIG_SECTION_GROUP)
			ngroups++;
	}
	if (nchecks == 0) {
		report(ps, 0, NULL, NULL, NULL, NULL,
		    "no checks (accepted: at least one [check NAME] section)");
	} else {
		cfg->checks = calloc(nchecks, sizeof(*cfg->checks));
		secs = calloc(nchecks, sizeof(*secs));
		depends = calloc(nchecks, sizeof(*depends));
		if (cfg->checks == NULL || secs == NULL || depends == NULL) {
			ps->oom = true;
			goto out_free;
		}
	}
	for (i = 0; i < ps->nsecs; i++) {
		if (ps->secs[i].type != CONFIG_SECTION_CHECK)
			continue;
		secs[cfg->nchecks] = &ps->secs[i];
		build_check(ps, &ps->secs[i], &tmpl, tsrc,
		    &cfg->checks[cfg->nchecks], &depends[cfg->nchecks]);
		cfg->nchecks++;
	}
	resolve_depends(ps, cfg, secs, depends);
	if (ngroups > 0) {
		cfg->groups = calloc(ngroups, sizeof(*cfg->groups));
		if (cfg->groups == NULL) {
			ps->oom = true;
			goto out_free;
		}
	}
	for (i = 0; i < ps->nsecs; i++) {
		if (ps->secs[i].type != CONFIG_SECTION_GROUP)
			continue;
		build_group(ps, cfg, &ps->secs[i], &cfg->groups[cfg->ngroups]);
		cfg->ngroups++;
	}
out_free:
	free(secs);
	free(depends);
}

static int
error_cmp(const void *a, const void *b)
{
	const struct config_error *x = a, *y = b;
	unsigned lx = x->line > 0 ? (unsigned)x->line : UINT_MAX;
	unsigned ly = y->line > 0 ? (unsigned)y->line : UINT_MAX;

	if (lx != ly)
		return lx < ly ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/*
 * Whole lines in file order, as many as fit, then a line counting the
 * rest; no final newline.
 */
static void
format_errors(struct config_parser *ps, char *err, size_t errlen)
{
	char more[128];
	size_t used = 0, len, i, room;

	if (errlen == 0)
		return;
	err[0] = '\0';
	if (ps->oom) {
		snprintf(err, errlen, "%s: out of memory", ps->file);
		return;
	}
	qsort(ps->errs, ps->nerrs, sizeof(*ps->errs), error_cmp);
	/* Keep room for the "more" line. */
	room = errlen > sizeof(more) * 2 ? errlen - sizeof(more) : errlen;
	for (i = 0; i < ps->nerrs && i < CONFIG_MAX_ERRORS; i++) {
		len = strlen(ps->errs[i].text);
		if (used == 0 && len >= room) {
			snprintf(err, room, "%s", ps->errs[i].text);
			used = strlen(err);
			i++;
			break;
		}
		if (used + (used > 0) + len >= room)
			break;
		if (used > 0)
			err[used++] = '\n';
		memcpy(err + used, ps->errs[i].text, len + 1);
		used += len;
	}
	if (i >= ps->nerrs + ps->dropped)
		return;
	snprintf(more, sizeof(more), "%s: too many errors, %zu more not shown",
	    ps->file, ps->nerrs + ps->dropped - i);
	len = strlen(more);
	if (used + 1 + len < errlen) {
		err[used++] = '\n';
		memcpy(err + used, more, len + 1);
	}
}

/* ---- public interface ---- */

struct config *
config_load_string(const char *name, const char *text, char *err, size_t errlen)
{
	struct config_parser ps = {.file = name, .text = text, .cur = -1};
	struct config *cfg;

	if (errlen > 0)
		err[0] = '\0';
	fill_kinds(&ps);
	collect_kind_keys(&ps);
	parse_text(&ps);
	cfg = calloc(1, sizeof(*cfg));
	if (cfg == NULL) {
		ps.oom = true;
	} else {
		cfg->path = dup_or_oom(&ps, name);
		build(&ps, cfg);
	}
	if (ps.nerrs > 0 || ps.oom) {
		format_errors(&ps, err, errlen);
		config_free(cfg);
		cfg = NULL;
	}
	parser_free(&ps);
	return cfg;
}

struct config *
config_load(const char *path, char *err, size_t errlen)
{
	struct config *cfg;
	const char *env;
	size_t len;
	char *text;

	if (path == NULL) {
		env = getenv("READYD_CONFIG");
		if (env != NULL && *env != '\0')
			path = env;
		else if (access(CONFIG_DEFAULT_PATH, F_OK) == 0)
			path = CONFIG_DEFAULT_PATH;
		else
			return config_load_string(CONFIG_BUILTIN_NAME,
			    readyd_builtin_conf, err, errlen);
	}
	if (config_expand_read_file(path, CONFIG_MAX_FILE, &text, &len) < 0) {
		if (errno == EFBIG)
			snprintf(err, errlen,
			    "%s: too large (accepted: up to %d bytes)", path,
			    CONFIG_MAX_FILE);
		else
			snprintf(err, errlen, "%s: cannot read: %s", path,
			    strerror(errno));
		return NULL;
	}
	if (memchr(text, '\0', len) != NULL) {
		snprintf(err, errlen,
		    "%s: contains a NUL byte (accepted: a text file)", path);
		cfg = NULL;
	} else {
		cfg = config_load_string(path, text, err, errlen);
	}
	explicit_bzero(text, len);
	free(text);
	return cfg;
}

const char *
config_builtin(void)
{
	return readyd_builtin_conf;
}

void
config_free(struct config *cfg)
{
	struct check_cfg *c;
	size_t i;

	if (cfg == NULL)
		return;
	for (i = 0; i < cfg->nchecks; i++) {
		c = &cfg->checks[i];
		free(c->name);
		free(c->host);
		free(c->dbname);
		free(c->user);
		config_expand_free_secret(c->password);
		free(c->options);
		config_parse_free_names(c->depends_on);
		free(c->depends_idx);
	}
	free(cfg->checks);
	for (i = 0; i < cfg->ngroups; i++) {
		free(cfg->groups[i].name);
		free(cfg->groups[i].checks);
	}
	free(cfg->groups);
	free(cfg->listen_host);
	free(cfg->path);
	free(cfg);
}

int
config_find_check(const struct config *cfg, const char *name)
{
	size_t i;

	if (cfg == NULL || name == NULL)
		return -1;
	for (i = 0; i < cfg->nchecks; i++)
		if (cfg->checks[i].name != NULL &&
		    strcmp(cfg->checks[i].name, name) == 0)
			return (int)i;
	return -1;
}

int
config_find_group(const struct config *cfg, const char *name)
{
	size_t i;

	if (cfg == NULL || name == NULL)
		return -1;
	for (i = 0; i < cfg->ngroups; i++)
		if (cfg->groups[i].name != NULL &&
		    strcmp(cfg->groups[i].name, name) == 0)
			return (int)i;
	return -1;
}

const char *
config_details_name(enum config_details d)
{
	if ((unsigned)d >= CONFIG_DETAILS_COUNT)
		return "unknown";
	return config_details_names[d];
}

/* The kind's keys of c, as set. */
static void
print_kind_keys(const struct check_cfg *c, FILE *out)
{
	const struct probe_key *k;
	const char *base = (const char *)c, *v;
	int n;

	for (size_t i = 0; c->ops != NULL && i < c->ops->nkeys; i++) {
		k = &c->ops->keys[i];
		switch (k->type) {
		case PROBE_KEY_TEXT:
			memcpy(&v, base + k->offset, sizeof(v));
			if (v != NULL)
				fprintf(out, "%s = %s\n", k->name, v);
			break;
		case PROBE_KEY_INT:
			memcpy(&n, base + k->offset, sizeof(n));
			fprintf(out, "%s = %d\n", k->name, n);
			break;
		case PROBE_KEY_USER:
			if (c->user != NULL)
				fprintf(out, "%s = %s\n", k->name, c->user);
			break;
		case PROBE_KEY_PASSWORD:
			if (c->password != NULL)
				fprintf(out, "%s = ***\n", k->name);
			break;
		case PROBE_KEY_PASSWORD_FILE:
		case PROBE_KEY_TYPE_COUNT:
			break;
		}
	}
}

/* A text key's value; what the typed keys' fields cannot say. */
static void
print_text_key(const struct config *cfg, const struct check_cfg *c,
    enum config_key_id id, FILE *out)
{
	const char *name = config_keys[id].name;

	switch (id) {
	case CONFIG_KEY_LISTEN:
		if (strchr(cfg->listen_host, ':') != NULL)
			fprintf(out, "%s = [%s]:%d\n", name, cfg->listen_host,
			    cfg->listen_port);
		else
			fprintf(out, "%s = %s:%d\n", name, cfg->listen_host,
			    cfg->listen_port);
		break;
	case CONFIG_KEY_DETAILS:
		fprintf(
		    out, "%s = %s\n", name, config_details_name(cfg->details));
		break;
	case CONFIG_KEY_KIND:
		fprintf(
		    out, "%s = %s\n", name, c->ops != NULL ? c->ops->name : "");
		break;
	case CONFIG_KEY_HOST:
		fprintf(out, "%s = %s\n", name, c->host);
		break;
	case CONFIG_KEY_DEPENDS_ON:
		if (c->ndepends == 0)
			break;
		fprintf(out, "%s =", name);
		for (size_t k = 0; k < c->ndepends; k++)
			fprintf(out, " %s", c->depends_on[k]);
		fprintf(out, "\n");
		break;
	default: /* checks: with its group */
		break;
	}
}

/* One key of [daemon] (c NULL) or of a check, from the key table. */
static void
print_key(const struct config *cfg, const struct check_cfg *c,
    enum config_key_id id, FILE *out)
{
	const struct config_key *k = &config_keys[id];
	const char *base = c != NULL ? (const char *)c : (const char *)cfg;
	char buf[32];
	int64_t ms;
	bool b;
	int n;

	switch (k->type) {
	case CONFIG_TYPE_DURATION:
		memcpy(&ms, base + k->offset, sizeof(ms));
		config_parse_format_duration(ms, buf, sizeof(buf));
		fprintf(out, "%s = %s\n", k->name, buf);
		break;
	case CONFIG_TYPE_INT:
		memcpy(&n, base + k->offset, sizeof(n));
		fprintf(out, "%s = %d\n", k->name, n);
		break;
	case CONFIG_TYPE_BOOL:
		memcpy(&b, base + k->offset, sizeof(b));
		fprintf(out, "%s = %s\n", k->name, b ? "yes" : "no");
		break;
	case CONFIG_TYPE_TEXT:
	case CONFIG_TYPE_COUNT:
		print_text_key(cfg, c, id, out);
		break;
	}
}

void
config_print(const struct config *cfg, FILE *out)
{
	const struct check_cfg *c;
	const struct group_cfg *g;
	size_t i, k;

	if (cfg == NULL)
		return;
	fprintf(out, "# effective configuration from %s\n", cfg->path);
	fprintf(out, "[daemon]\n");
	for (k = 0; k < CONFIG_KEY_COUNT; k++)
		if (config_keys[k].in & IN_DAEMON)
			print_key(cfg, NULL, k, out);
	for (i = 0; i < cfg->nchecks; i++) {
		c = &cfg->checks[i];
		fprintf(out, "\n[check %s]\n", c->name);
		for (k = 0; k < CONFIG_KEY_COUNT; k++) {
			if (!(config_keys[k].in & IN_CHECK))
				continue;
			print_key(cfg, c, k, out);
			if (k == CONFIG_KEY_PORT)
				print_kind_keys(c, out);
		}
	}
	for (i = 0; i < cfg->ngroups; i++) {
		g = &cfg->groups[i];
		fprintf(out, "\n[group %s]\nchecks =", g->name);
		for (k = 0; k < g->nchecks; k++)
			fprintf(out, " %s", cfg->checks[g->checks[k]].name);
		fprintf(out, "\n");
	}
}
