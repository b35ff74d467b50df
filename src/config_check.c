/* SPDX-License-Identifier: MIT */
/*
 * Building one [check NAME] from its raw keys: the generic typed keys,
 * the kinds' keys by their probe_key type, credentials, and the kind's
 * own validation.
 * Owns: nothing beyond the struct check_cfg fields it fills.
 */
#include "config_parser.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "suggest.h"

int
config_check_apply(
    struct config_parser *ps, const struct config_src *s, void *c)
{
	const struct config_key *k = NULL;
	const struct probe_key *pk;
	struct config_key kk;
	char *base = (char *)c, err[256], *v;
	int64_t n;
	bool bv;
	int rc = -1;

	if (s->kv->id >= CONFIG_KEY_COUNT) { /* a kind's INT */
		pk = ps->kkeys[s->kv->id - CONFIG_KEY_COUNT];
		kk = (struct config_key){.name = pk->name,
		    .type = pk->type == PROBE_KEY_DURATION
			? CONFIG_TYPE_DURATION
			: CONFIG_TYPE_INT,
		    .in = IN_CHECK,
		    .min = pk->min,
		    .max = pk->max,
		    .offset = pk->offset,
		    .accepted = pk->accepted};
		k = &kk;
	} else {
		k = &config_keys[s->kv->id];
	}
	v = config_parser_expand(ps, s);
	if (v == NULL)
		return -1;
	if (s->kv->id >= CONFIG_KEY_COUNT && *v == '\0' &&
	    ps->kkeys[s->kv->id - CONFIG_KEY_COUNT]->optional) {
		free(v); /* "" is as absent: the default stays */
		return 0;
	}
	switch (k->type) {
	case CONFIG_TYPE_DURATION:
		if (config_parse_duration(v, &n, err, sizeof(err)) < 0) {
			config_parser_report(ps, s->kv->line, s->sec,
			    s->kv->key, s->kv->value, v, "%s", err);
			break;
		}
		if (n < k->min) {
			config_parser_report(ps, s->kv->line, s->sec,
			    s->kv->key, s->kv->value, v,
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
			config_parser_report(ps, s->kv->line, s->sec,
			    s->kv->key, s->kv->value, v, "%s (accepted: %s)",
			    rc == -1 ? "not a number" : "out of range",
			    k->accepted);
			rc = -1;
			break;
		}
		*(int *)(void *)(base + k->offset) = (int)n;
		break;
	case CONFIG_TYPE_BOOL:
		if (config_parse_bool(v, &bv) < 0) {
			config_parser_report(ps, s->kv->line, s->sec,
			    s->kv->key, s->kv->value, v,
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

void
config_check_timeout(struct config_parser *ps, const struct check_cfg *c,
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
		config_parser_report(ps, t->kv->line, t->sec, t->kv->key,
		    t->kv->value, NULL,
		    "%s is longer than the interval %s (accepted: at most the interval)",
		    ts, is);
	else if (iv->kv != NULL)
		config_parser_report(ps, iv->kv->line, iv->sec, iv->kv->key,
		    iv->kv->value, NULL,
		    "%s is shorter than the timeout %s (accepted: at least the timeout)",
		    is, ts);
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
	name = config_parser_key_name(ps, s->kv->id);
	if (probe_find_key(ops, name) != NULL)
		return true;
	kinds_taking(name, kinds, sizeof(kinds));
	config_parser_report(ps, s->kv->line, s->sec, s->kv->key, s->kv->value,
	    NULL, "not used by kind %s (accepted: %s checks only)", ops->name,
	    kinds);
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
		config_parser_report(ps, sec->line, sec, "kind", NULL, NULL,
		    "missing (accepted: %s)", ps->kinds);
		return;
	}
	v = config_parser_expand(ps, s);
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
			config_parser_report(ps, s->kv->line, sec, "kind",
			    s->kv->value, v,
			    "unknown kind (did you mean \"%s\"?)", hint);
		else
			config_parser_report(ps, s->kv->line, sec, "kind",
			    s->kv->value, v, "unknown kind (accepted: %s)",
			    ps->kinds);
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
	long pwid = config_parser_kind_key_id(ps, PROBE_KEY_PASSWORD);
	long pfid = config_parser_kind_key_id(ps, PROBE_KEY_PASSWORD_FILE);
	const struct config_src *pw = pwid >= 0 ? &src[pwid] : &none;
	const struct config_src *pf = pfid >= 0 ? &src[pfid] : &none;
	bool need = c->ops != NULL && c->ops->auth;
	char err[256], why[96], *v, *path;

	/* production: a kind that can log in with a password must */
	why[0] = '\0';
	if (!need && c->ops != NULL && ps->production_line > 0 && pwid >= 0 &&
	    probe_find_key(c->ops, "password") != NULL) {
		need = true;
		snprintf(why, sizeof(why),
		    ", required by profile = production at line %d",
		    ps->production_line);
	}

	if (pw->kv != NULL && pf->kv != NULL) {
		config_parser_report(ps, pf->kv->line, sec, pf->kv->key,
		    pf->kv->value, NULL,
		    "conflicts with password at line %d (accepted: only one of password and password_file)",
		    pw->kv->line);
		return;
	}
	if (pw->kv != NULL) {
		v = config_parser_expand(ps, pw);
		if (v == NULL)
			return;
		if (*v != '\0') {
			c->password = v;
			return;
		}
		free(v);
		if (need)
			config_parser_report(ps, pw->kv->line, sec, pw->kv->key,
			    pw->kv->value, NULL, "empty%s (accepted: %s)", why,
			    kind_key_accepted(ps, pwid));
		return;
	}
	if (pf->kv != NULL) {
		path = config_parser_expand(ps, pf);
		if (path == NULL)
			return;
		if (config_expand_read_secret(path, &v, err, sizeof(err)) < 0) {
			config_parser_report(ps, pf->kv->line, sec, pf->kv->key,
			    pf->kv->value, path, "%s", err);
		} else if (*v == '\0') {
			free(v);
			if (need)
				config_parser_report(ps, pf->kv->line, sec,
				    pf->kv->key, pf->kv->value, path,
				    "file is empty%s (accepted: a file holding a non-empty password)",
				    why);
		} else {
			c->password = v;
		}
		free(path);
		return;
	}
	if (need)
		config_parser_report(ps, sec->line, sec, "password", NULL, NULL,
		    "missing%s (accepted: %s)", why,
		    kind_key_accepted(ps, pwid));
}

/*
 * A kind's SECRET key and its _file twin (same offset): one of them, read
 * like password and password_file; "" or an empty file leaves NULL.
 */
static void
build_secret(struct config_parser *ps, const struct raw_section *sec,
    const struct config_src *src, const struct probe_key *k,
    struct check_cfg *c)
{
	const struct config_src *pw = NULL, *pf = NULL;
	char err[256], *v = NULL, *path;

	for (size_t j = 0; j < ps->nkkeys; j++) {
		const struct probe_key *o = ps->kkeys[j];
		const struct config_src *s = &src[CONFIG_KEY_COUNT + j];

		if (o->offset != k->offset || s->kv == NULL ||
		    probe_find_key(c->ops, o->name) != o)
			continue;
		if (o->type == PROBE_KEY_SECRET)
			pw = s;
		else if (o->type == PROBE_KEY_SECRET_FILE)
			pf = s;
	}
	if (pw != NULL && pf != NULL) {
		config_parser_report(ps, pf->kv->line, sec, pf->kv->key,
		    pf->kv->value, NULL,
		    "conflicts with %s at line %d (accepted: only one of them)",
		    pw->kv->key, pw->kv->line);
		return;
	}
	if (pw != NULL) {
		v = config_parser_expand(ps, pw);
	} else if (pf != NULL) {
		path = config_parser_expand(ps, pf);
		if (path == NULL)
			return;
		if (config_expand_read_secret(path, &v, err, sizeof(err)) < 0) {
			config_parser_report(ps, pf->kv->line, sec, pf->kv->key,
			    pf->kv->value, path, "%s", err);
			v = NULL;
		}
		free(path);
	}
	if (v != NULL && *v == '\0') {
		config_expand_free_secret(v);
		v = NULL;
	}
	if (v != NULL)
		memcpy((char *)c + k->offset, &v, sizeof(v));
}

/* The defaults of the kind's INT and DURATION keys. */
static void
kind_key_defaults(const struct probe_ops *ops, struct check_cfg *c)
{
	for (size_t i = 0; ops != NULL && i < ops->nkeys; i++) {
		const struct probe_key *k = &ops->keys[i];
		int n = (int)k->def;

		if (k->type == PROBE_KEY_INT)
			memcpy((char *)c + k->offset, &n, sizeof(n));
		else if (k->type == PROBE_KEY_DURATION)
			memcpy((char *)c + k->offset, &k->def, sizeof(k->def));
	}
}

/* A kind's TEXT key: the kind's check, then the field ("" leaves NULL). */
static void
build_text(struct config_parser *ps, const struct config_src *s,
    const struct probe_key *k, struct check_cfg *c)
{
	const char *problem;
	char *v = config_parser_expand(ps, s);

	if (v == NULL)
		return;
	problem = k->check != NULL ? k->check(v) : NULL;
	if (problem != NULL) {
		config_parser_report(ps, s->kv->line, s->sec, s->kv->key,
		    s->kv->value, v, "%s (accepted: %s)", problem, k->accepted);
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
	char *v = config_parser_expand(ps, s);

	if (v == NULL)
		return;
	if (*v == '\0' && c->ops != NULL && c->ops->auth)
		config_parser_report(ps, s->kv->line, s->sec, s->kv->key,
		    s->kv->value, v, "empty (accepted: %s)", k->accepted);
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
	long uid = config_parser_kind_key_id(ps, PROBE_KEY_USER);
	const struct probe_key *k;
	struct config_src *s;

	kind_key_defaults(c->ops, c);
	for (size_t j = 0; j < ps->nkkeys; j++) {
		k = ps->kkeys[j];
		if (k->type == PROBE_KEY_SECRET && c->ops != NULL &&
		    probe_find_key(c->ops, k->name) == k)
			build_secret(ps, sec, src, k, c);
	}
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
		case PROBE_KEY_DURATION:
			(void)config_check_apply(ps, s, c);
			break;
		case PROBE_KEY_USER:
			build_user(ps, s, k, c);
			break;
		case PROBE_KEY_PASSWORD:
		case PROBE_KEY_PASSWORD_FILE:
		case PROBE_KEY_SECRET:
		case PROBE_KEY_SECRET_FILE:
		case PROBE_KEY_TYPE_COUNT:
			break; /* build_password, build_secret */
		}
	}
	if (c->ops != NULL && c->ops->auth && (uid < 0 || src[uid].kv == NULL))
		config_parser_report(ps, sec->line, sec, "user", NULL, NULL,
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
		if (src[id].kv == NULL ||
		    strcmp(config_parser_key_name(ps, id), key) != 0)
			continue;
		config_parser_report(ps, src[id].kv->line, sec, src[id].kv->key,
		    src[id].kv->value, NULL, "%s", err);
		return;
	}
	config_parser_report(ps, sec->line, sec, key, NULL, NULL, "%s", err);
}

void
config_check_build(struct config_parser *ps, const struct raw_section *sec,
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
	c->production = ps->production_line > 0;
	c->name = config_parser_dup(ps, sec->name);
	memcpy(src, tsrc, sizeof(src));
	config_parser_find_srcs(sec, src);
	*depends = src[CONFIG_KEY_DEPENDS_ON].kv;

	build_kind(ps, sec, &src[CONFIG_KEY_KIND], c);
	for (i = 0; i < CONFIG_KEY_COUNT; i++) {
		s = &src[i];
		if (s->sec != sec || config_keys[i].type == CONFIG_TYPE_TEXT)
			continue;
		if (config_check_apply(ps, s, c) < 0)
			if (i == CONFIG_KEY_TIMEOUT || i == CONFIG_KEY_INTERVAL)
				badtime = true;
	}
	if (src[CONFIG_KEY_PORT].kv == NULL && c->ops != NULL) {
		if (c->ops->port > 0)
			c->port = c->ops->port;
		else
			config_parser_report(ps, sec->line, sec, "port", NULL,
			    NULL, "missing (accepted: 1-65535)");
	}

	s = &src[CONFIG_KEY_HOST];
	if (s->kv == NULL) {
		config_parser_report(ps, sec->line, sec, "host", NULL, NULL,
		    "missing (accepted: %s)",
		    config_keys[CONFIG_KEY_HOST].accepted);
	} else if ((v = config_parser_expand(ps, s)) != NULL) {
		int rc = config_parse_host(v, strlen(v), &c->host);

		if (rc == -2)
			ps->oom = true;
		else if (rc < 0)
			config_parser_report(ps, s->kv->line, sec, s->kv->key,
			    s->kv->value, v, "%s (accepted: %s)",
			    *v == '\0' ? "empty" : "invalid host",
			    config_keys[CONFIG_KEY_HOST].accepted);
		free(v);
	}

	build_kind_keys(ps, sec, src, c);

	s = &src[CONFIG_KEY_DEPENDS_ON];
	if (s->kv != NULL && (v = config_parser_expand(ps, s)) != NULL) {
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
		config_check_timeout(ps, c, src, sec);

	if (ps->nerrs == nerrs && !ps->oom && c->ops != NULL &&
	    c->ops->validate != NULL)
		validate_kind(ps, sec, src, c);
}
