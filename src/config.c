/* SPDX-License-Identifier: MIT */
/*
 * Configuration: the key table (bounds and built-in values), building
 * struct config from the raw sections, dependencies and groups, loading,
 * freeing and printing.
 * Owns: struct config and everything hanging off it, and the table of
 * generic keys.
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config_parser.h"
#include "probe.h"
#include "strbuf.h"
#include "suggest.h"

/* Generated from config/readyd.conf by the Makefile. */
extern const char readyd_builtin_conf[];

#define CONFIG_BUILTIN_NAME "(built-in)"
#define CONFIG_DEFAULT_PATH "/etc/readyd/readyd.conf"
#define CONFIG_MAX_FILE	    (1 << 20) /* bytes in a config file */
#define CONFIG_MAX_COUNT    1000      /* retries, rise */

#define CONFIG_LIST_ACCEPTED "check names separated by spaces or commas"

/* ---- the key table ---- */

const struct config_key config_keys[CONFIG_KEY_COUNT] = {
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
    [CONFIG_KEY_MAX_CLIENTS] = {.name = "max_clients",
	.type = CONFIG_TYPE_INT,
	.in = IN_DAEMON,
	.min = 0,
	.max = 1000000,
	.offset = offsetof(struct config, max_clients),
	.def = 0,
	.accepted =
	    "0 (automatic: the descriptor limit less a reserve for the probes) or 1-1000000"},
    [CONFIG_KEY_PROFILE] = {.name = "profile",
	.in = IN_DAEMON,
	.deftext = "development",
	.accepted = "development, production"},
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
    [CONFIG_KEY_WRITABLE] = {.name = "writable",
	.type = CONFIG_TYPE_BOOL,
	.in = IN_TIMING,
	.offset = CHECK_FIELD(writable),
	.def = 1},
    [CONFIG_KEY_HEARTBEAT] = {.name = "heartbeat",
	.type = CONFIG_TYPE_DURATION,
	.in = IN_TIMING,
	.min = 0,
	.offset = CHECK_FIELD(heartbeat_ms),
	.def = 2000,
	.accepted = "0 (off) or a duration such as 2s"},
    [CONFIG_KEY_CHECKS] = {.name = "checks",
	.in = IN_GROUP,
	.accepted = CONFIG_LIST_ACCEPTED},
};

static const char *const config_details_names[CONFIG_DETAILS_COUNT] = {
    [CONFIG_DETAILS_LOCAL] = "local",
    [CONFIG_DETAILS_ALL] = "all",
    [CONFIG_DETAILS_NONE] = "none",
};

static const char *const config_profile_names[CONFIG_PROFILE_COUNT] = {
    [CONFIG_PROFILE_DEVELOPMENT] = "development",
    [CONFIG_PROFILE_PRODUCTION] = "production",
};

/* ---- building struct config from the raw sections ---- */

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
	config_parser_find_srcs(sec, tsrc);
	for (i = 0; i < CONFIG_KEY_COUNT; i++) {
		if (tsrc[i].kv == NULL)
			continue;
		if (config_check_apply(ps, &tsrc[i], tmpl) < 0) {
			/* Checks inherit the built-in, not the bad value. */
			tsrc[i].kv = NULL;
			tsrc[i].sec = NULL;
			if (i == CONFIG_KEY_TIMEOUT || i == CONFIG_KEY_INTERVAL)
				bad = true;
		}
	}
	if (!bad)
		config_check_timeout(ps, tmpl, tsrc, sec);
}

static enum config_details
details_find(const char *name)
{
	for (size_t i = 0; i < CONFIG_DETAILS_COUNT; i++)
		if (strcmp(name, config_details_names[i]) == 0)
			return (enum config_details)i;
	return CONFIG_DETAILS_COUNT;
}

static enum config_profile
profile_find(const char *name)
{
	for (size_t i = 0; i < CONFIG_PROFILE_COUNT; i++)
		if (strcmp(name, config_profile_names[i]) == 0)
			return (enum config_profile)i;
	return CONFIG_PROFILE_COUNT;
}

/* [daemon] profile; checks are built after it, knowing it. */
static void
build_profile(
    struct config_parser *ps, struct config *cfg, const struct config_src *s)
{
	enum config_profile p;
	char *v;

	cfg->profile = profile_find(config_keys[CONFIG_KEY_PROFILE].deftext);
	if (s->kv == NULL || (v = config_parser_expand(ps, s)) == NULL)
		return;
	p = profile_find(v);
	if (p < CONFIG_PROFILE_COUNT)
		cfg->profile = p;
	else
		config_parser_report(ps, s->kv->line, s->sec, s->kv->key,
		    s->kv->value, v, "invalid value (accepted: %s)",
		    config_keys[CONFIG_KEY_PROFILE].accepted);
	if (cfg->profile == CONFIG_PROFILE_PRODUCTION)
		ps->production_line = s->kv->line;
	free(v);
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
			config_parser_find_srcs(&ps->secs[i], src);
	/* The built-in values first: a bad value leaves them. */
	if (config_parse_listen(config_keys[CONFIG_KEY_LISTEN].deftext,
		&cfg->listen_host, &cfg->listen_port, err, sizeof(err)) < 0)
		ps->oom = true;
	cfg->details = details_find(config_keys[CONFIG_KEY_DETAILS].deftext);
	store_typed(&config_keys[CONFIG_KEY_DRAIN], cfg,
	    config_keys[CONFIG_KEY_DRAIN].def);
	store_typed(&config_keys[CONFIG_KEY_MAX_CLIENTS], cfg,
	    config_keys[CONFIG_KEY_MAX_CLIENTS].def);

	s = &src[CONFIG_KEY_LISTEN];
	if (s->kv != NULL && (v = config_parser_expand(ps, s)) != NULL) {
		if (config_parse_listen(v, &host, &port, err, sizeof(err)) <
		    0) {
			config_parser_report(ps, s->kv->line, s->sec,
			    s->kv->key, s->kv->value, v, "%s (accepted: %s)",
			    err, config_keys[CONFIG_KEY_LISTEN].accepted);
		} else {
			free(cfg->listen_host);
			cfg->listen_host = host;
			cfg->listen_port = port;
		}
		free(v);
	}
	if (src[CONFIG_KEY_DRAIN].kv != NULL)
		(void)config_check_apply(ps, &src[CONFIG_KEY_DRAIN], cfg);
	if (src[CONFIG_KEY_MAX_CLIENTS].kv != NULL)
		(void)config_check_apply(ps, &src[CONFIG_KEY_MAX_CLIENTS], cfg);
	s = &src[CONFIG_KEY_DETAILS];
	if (s->kv != NULL && (v = config_parser_expand(ps, s)) != NULL) {
		d = details_find(v);
		if (d < CONFIG_DETAILS_COUNT)
			cfg->details = d;
		else
			config_parser_report(ps, s->kv->line, s->sec,
			    s->kv->key, s->kv->value, v,
			    "invalid value (accepted: %s)",
			    config_keys[CONFIG_KEY_DETAILS].accepted);
		free(v);
	}
	build_profile(ps, cfg, &src[CONFIG_KEY_PROFILE]);
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
		config_parser_report(ps, kv->line, sec, kv->key, kv->value,
		    NULL, "unknown check \"%s\" (did you mean \"%s\"?)", name,
		    hint);
	else
		config_parser_report(ps, kv->line, sec, kv->key, kv->value,
		    NULL,
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
		config_parser_report(d->ps, d->depends[v]->line, d->secs[v],
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
				config_parser_report(ps, depends[i]->line,
				    secs[i], depends[i]->key, depends[i]->value,
				    NULL,
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
	g->name = config_parser_dup(ps, sec->name);
	idx = config_find_check(cfg, sec->name);
	if (idx >= 0)
		config_parser_report(ps, sec->line, sec, NULL, NULL, NULL,
		    "name already used by [check %s] at line %d (accepted: a name no check uses)",
		    sec->name, cfg->checks[idx].line);
	memset(src, 0, sizeof(src));
	config_parser_find_srcs(sec, src);
	if (s->kv == NULL) {
		config_parser_report(ps, sec->line, sec, "checks", NULL, NULL,
		    "missing (accepted: %s)", CONFIG_LIST_ACCEPTED);
		return;
	}
	v = config_parser_expand(ps, s);
	if (v == NULL)
		return;
	n = config_parse_names(v, &names);
	if (n < 0) {
		ps->oom = true;
	} else if (n == 0) {
		config_parser_report(ps, s->kv->line, sec, s->kv->key,
		    s->kv->value, v, "empty (accepted: %s)",
		    CONFIG_LIST_ACCEPTED);
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
		config_parser_report(ps, 0, NULL, NULL, NULL, NULL,
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
		config_check_build(ps, &ps->secs[i], &tmpl, tsrc,
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
	if (cfg->ngroups > 0 && cfg->nchecks > 0) {
		cfg->grouped = calloc(cfg->nchecks, sizeof(*cfg->grouped));
		if (cfg->grouped == NULL) {
			ps->oom = true;
			goto out_free;
		}
		for (i = 0; i < cfg->ngroups; i++)
			for (size_t k = 0; k < cfg->groups[i].nchecks; k++)
				cfg->grouped[cfg->groups[i].checks[k]] = true;
	}
out_free:
	free(secs);
	free(depends);
}

/* ---- public interface ---- */

struct config *
config_load_string(const char *name, const char *text, char *err, size_t errlen)
{
	struct config_parser ps;
	struct config *cfg;

	if (errlen > 0)
		err[0] = '\0';
	config_parser_init(&ps, name, text);
	config_parser_read(&ps);
	cfg = calloc(1, sizeof(*cfg));
	if (cfg == NULL) {
		ps.oom = true;
	} else {
		cfg->path = config_parser_dup(&ps, name);
		build(&ps, cfg);
	}
	if (ps.nerrs > 0 || ps.oom) {
		config_parser_errors(&ps, err, errlen);
		config_free(cfg);
		cfg = NULL;
	}
	config_parser_free(&ps);
	return cfg;
}

/*
 * The file config_load reads for path: path itself, else $READYD_CONFIG,
 * else CONFIG_DEFAULT_PATH if it exists; NULL for the built-in default.
 */
static const char *
config_find_path(const char *path)
{
	const char *env;

	if (path != NULL)
		return path;
	env = getenv("READYD_CONFIG");
	if (env != NULL && *env != '\0')
		return env;
	if (access(CONFIG_DEFAULT_PATH, F_OK) == 0)
		return CONFIG_DEFAULT_PATH;
	return NULL;
}

/*
 * Read the text file path into *text (*len bytes; the caller wipes and
 * frees it). Returns 0, or -1 with err filled.
 */
static int
config_read_text(
    const char *path, char **text, size_t *len, char *err, size_t errlen)
{
	if (config_expand_read_file(path, CONFIG_MAX_FILE, false, text, len) <
	    0) {
		if (errno == EFBIG)
			snprintf(err, errlen,
			    "%s: too large (accepted: up to %d bytes)", path,
			    CONFIG_MAX_FILE);
		else
			snprintf(err, errlen, "%s: cannot read: %s", path,
			    strerror(errno));
		return -1;
	}
	if (memchr(*text, '\0', *len) != NULL) {
		snprintf(err, errlen,
		    "%s: contains a NUL byte (accepted: a text file)", path);
		explicit_bzero(*text, *len);
		free(*text);
		*text = NULL;
		return -1;
	}
	return 0;
}

static struct config *
config_load_file(const char *path, bool regular_only, char *err, size_t errlen)
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
	if (config_expand_read_file(
		path, CONFIG_MAX_FILE, regular_only, &text, &len) < 0) {
		if (errno == EFBIG)
			snprintf(err, errlen,
			    "%s: too large (accepted: up to %d bytes)", path,
			    CONFIG_MAX_FILE);
		else if (errno == CONFIG_EXPAND_ENOTREG)
			snprintf(err, errlen,
			    "%s: not a regular file (accepted: a regular file)",
			    path);
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

struct config *
config_load(const char *path, char *err, size_t errlen)
{
	return config_load_file(path, true, err, errlen);
}

struct config *
config_load_startup(const char *path, char *err, size_t errlen)
{
	return config_load_file(path, false, err, errlen);
}

/* ---- the listen address alone, for readyd check ---- */

int
config_listen_string(const char *name, const char *text, char **host, int *port,
    char *err, size_t errlen)
{
	struct config_src src[CONFIG_ALL_KEYS], *s = &src[CONFIG_KEY_LISTEN];
	struct config_parser ps;
	char perr[256], *v = NULL;
	int rc = 0;

	*host = NULL;
	/* The lexer's messages are about other keys too: not ours to judge. */
	config_parser_init(&ps, name, text);
	config_parser_read(&ps);
	memset(src, 0, sizeof(src));
	for (size_t i = 0; i < ps.nsecs; i++)
		if (ps.secs[i].type == CONFIG_SECTION_DAEMON)
			config_parser_find_srcs(&ps.secs[i], src);
	if (ps.oom) {
		snprintf(err, errlen, "%s: out of memory", name);
		rc = -2;
	} else if (s->kv == NULL) {
		if (config_parse_listen(config_keys[CONFIG_KEY_LISTEN].deftext,
			host, port, perr, sizeof(perr)) < 0) {
			snprintf(err, errlen, "%s: %s", name, perr);
			rc = -2;
		}
	} else if (config_expand(s->kv->value, &v, perr, sizeof(perr)) < 0) {
		snprintf(err, errlen, "%s:%d: [daemon] listen: %s", name,
		    s->kv->line, perr);
		rc = -2;
	} else if (config_parse_listen(v, host, port, perr, sizeof(perr)) < 0) {
		snprintf(err, errlen,
		    "%s:%d: [daemon] listen = \"%.*s\": %s (accepted: %s)",
		    name, s->kv->line, CONFIG_MAX_VALUE, v, perr,
		    config_keys[CONFIG_KEY_LISTEN].accepted);
		rc = -2;
	}
	free(v);
	config_parser_free(&ps);
	return rc;
}

int
config_load_listen(
    const char *path, char **host, int *port, char *err, size_t errlen)
{
	size_t len;
	char *text;
	int rc;

	*host = NULL;
	path = config_find_path(path);
	if (path == NULL)
		return config_listen_string(CONFIG_BUILTIN_NAME,
		    readyd_builtin_conf, host, port, err, errlen);
	if (config_read_text(path, &text, &len, err, errlen) < 0)
		return -1;
	rc = config_listen_string(path, text, host, port, err, errlen);
	explicit_bzero(text, len);
	free(text);
	return rc;
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
		free(c->expect_save);
		free(c->admin_user);
		config_expand_free_secret(c->admin_password);
		free(c->expect_pool_mode);
		free(c->expect_pool_size);
		config_parse_free_names(c->depends_on);
		free(c->depends_idx);
	}
	free(cfg->checks);
	for (i = 0; i < cfg->ngroups; i++) {
		free(cfg->groups[i].name);
		free(cfg->groups[i].checks);
	}
	free(cfg->groups);
	free(cfg->grouped);
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

const char *
config_profile_name(enum config_profile p)
{
	if ((unsigned)p >= CONFIG_PROFILE_COUNT)
		return "unknown";
	return config_profile_names[p];
}

/* The kind's keys of c, as set. */
static void
print_kind_keys(const struct check_cfg *c, FILE *out)
{
	const struct probe_key *k;
	const char *base = (const char *)c, *v;
	char dur[32];
	int64_t ms;
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
			if (k->optional && n == 0 && k->def == 0)
				break; /* not set: not checked */
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
		case PROBE_KEY_SECRET:
			memcpy(&v, base + k->offset, sizeof(v));
			if (v != NULL)
				fprintf(out, "%s = ***\n", k->name);
			break;
		case PROBE_KEY_DURATION:
			memcpy(&ms, base + k->offset, sizeof(ms));
			config_parse_format_duration(ms, dur, sizeof(dur));
			fprintf(out, "%s = %s\n", k->name, dur);
			break;
		case PROBE_KEY_PASSWORD_FILE:
		case PROBE_KEY_SECRET_FILE:
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
	case CONFIG_KEY_PROFILE:
		fprintf(
		    out, "%s = %s\n", name, config_profile_name(cfg->profile));
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
