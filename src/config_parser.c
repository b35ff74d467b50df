/* SPDX-License-Identifier: MIT */
/*
 * Reading configuration text into raw sections ("[check NAME]" and its
 * "KEY = VALUE" lines as written), and the messages about it.
 * Owns: the raw sections and messages of a struct config_parser.
 */
#include "config_parser.h"

#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config_lex.h"
#include "strbuf.h"
#include "suggest.h"

#define CONFIG_NAME_ACCEPTED "letters, digits, \"_\", \".\" and \"-\""
#define CONFIG_SECTIONS_ACCEPTED \
	"[daemon], [defaults], [check NAME], [group NAME]"

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

/*
 * Whether raw is only "${NAME}" or "${NAME:-}": a secret key's text that
 * holds no secret (a default after ":-" could), shown to say which
 * variable was meant.
 */
static bool
bare_reference(const char *raw)
{
	size_t n;

	if (strncmp(raw, "${", 2) != 0)
		return false;
	raw += 2;
	n = strspn(raw,
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_");
	if (n == 0 || (raw[0] >= '0' && raw[0] <= '9'))
		return false;
	raw += n;
	return strcmp(raw, "}") == 0 || strcmp(raw, ":-}") == 0;
}

void
config_parser_report(struct config_parser *ps, int line,
    const struct raw_section *sec, const char *key, const char *raw,
    const char *expanded, const char *fmt, ...)
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
			if (secret && *raw != '\0' && !bare_reference(raw))
				strbuf_puts(&b, "\"***\"");
			else
				strbuf_quote(&b, raw, CONFIG_MAX_VALUE);
			if (secret && expanded != NULL && *expanded == '\0' &&
			    *raw != '\0') {
				strbuf_puts(&b, " (expands to \"\")");
			} else if (expanded != NULL && !secret &&
			    strcmp(raw, expanded) != 0 &&
			    config_expand_uses_secret(raw)) {
				/* PW_FILE's content in a non-secret key */
				strbuf_puts(
				    &b, " (expands to a secret, not shown)");
			} else if (expanded != NULL && !secret &&
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

char *
config_parser_dup(struct config_parser *ps, const char *s)
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

const char *
config_parser_key_name(const struct config_parser *ps, size_t id)
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
long
config_parser_kind_key_id(
    const struct config_parser *ps, enum probe_key_type type)
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
			config_parser_report(ps, sec->line, sec, NULL, NULL,
			    NULL, "unknown section (did you mean \"%s\"?)",
			    hint);
		else
			config_parser_report(ps, sec->line, sec, NULL, NULL,
			    NULL, "unknown section (accepted: %s)",
			    CONFIG_SECTIONS_ACCEPTED);
		return;
	}
	if (type == CONFIG_SECTION_CHECK || type == CONFIG_SECTION_GROUP) {
		if (*rest == '\0') {
			config_parser_report(ps, sec->line, sec, NULL, NULL,
			    NULL, "missing name (accepted: %s)",
			    config_section_forms[type]);
			return;
		}
		if (!config_parse_is_name(rest)) {
			config_parser_report(ps, sec->line, sec, NULL, NULL,
			    NULL, "invalid name (accepted: %s)",
			    CONFIG_NAME_ACCEPTED);
			return;
		}
	}
	for (i = 0; i + 1 < ps->nsecs; i++) {
		if (ps->secs[i].type != type)
			continue;
		if (type == CONFIG_SECTION_DAEMON ||
		    type == CONFIG_SECTION_DEFAULTS) {
			config_parser_report(ps, sec->line, sec, NULL, NULL,
			    NULL, "duplicate section (first at line %d)",
			    ps->secs[i].line);
			return;
		}
		if (strcmp(ps->secs[i].name, rest) == 0) {
			config_parser_report(ps, sec->line, sec, NULL, NULL,
			    NULL, "duplicate %s name (first at line %d)", word,
			    ps->secs[i].line);
			return;
		}
	}
	if (type == CONFIG_SECTION_CHECK || type == CONFIG_SECTION_GROUP) {
		sec->name = config_parser_dup(ps, rest);
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
		strbuf_printf(b, "%s%s", first ? "" : ", ",
		    config_parser_key_name(ps, ids[i]));
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
		config_parser_report(ps, ps->lineno, NULL, name, value, NULL,
		    "outside of any section (accepted: after one of %s)",
		    CONFIG_SECTIONS_ACCEPTED);
		return;
	}
	sec = &ps->secs[ps->cur];
	if (sec->type == CONFIG_SECTION_IGNORED)
		return;
	bit = 1u << sec->type;
	if (*name == '\0') {
		config_parser_report(ps, ps->lineno, sec, NULL, NULL, NULL,
		    "missing key name before \"=\" (accepted: KEY = VALUE)");
		return;
	}
	n = key_order(ps, ids);
	for (i = 0; i < n; i++) {
		cands[i] = key_in(ids[i]) & bit
		    ? config_parser_key_name(ps, ids[i])
		    : NULL;
		if (strcmp(name, config_parser_key_name(ps, ids[i])) == 0)
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
			config_parser_report(ps, ps->lineno, sec, name, value,
			    NULL, "not allowed in %s (accepted: %s)",
			    config_section_forms[sec->type], list);
		else if (hint != NULL)
			/* a misspelt secret key keeps its value secret */
			config_parser_report(ps, ps->lineno, sec, name,
			    config_expand_is_secret_key(hint) && *value != '\0'
				? "***"
				: value,
			    NULL, "unknown key (did you mean \"%s\"?)", hint);
		else
			config_parser_report(ps, ps->lineno, sec, name, value,
			    NULL, "unknown key (accepted: %s)", list);
		free(list);
		return;
	}
	for (i = 0; i < sec->nkv; i++) {
		if (sec->kv[i].id == (size_t)id) {
			config_parser_report(ps, ps->lineno, sec, name, value,
			    NULL, "duplicate key (first at line %d)",
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

void
config_parser_read(struct config_parser *ps)
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
				config_parser_report(ps, ps->lineno,
				    &ps->secs[ps->cur], it.name, "***", NULL,
				    "\" #\" or \" ;\" starts a comment and would cut the password short (accepted: such a password in password_file or an environment variable)");
			add_key(ps, it.name, it.value);
			break;
		case CONFIG_LEX_BAD_HEADER:
			config_parser_report(ps, ps->lineno, NULL, NULL, NULL,
			    NULL, "%s", syntax);
			ps->cur = -2; /* ignore keys until the next header */
			break;
		case CONFIG_LEX_BAD_LINE:
			config_parser_report(ps, ps->lineno, NULL, NULL, NULL,
			    NULL, "%s", syntax);
			break;
		case CONFIG_LEX_TOO_LONG:
			config_parser_report(ps, ps->lineno, NULL, NULL, NULL,
			    NULL,
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

void
config_parser_free(struct config_parser *ps)
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

void
config_parser_find_srcs(const struct raw_section *sec, struct config_src *src)
{
	size_t i;

	for (i = 0; i < sec->nkv; i++) {
		src[sec->kv[i].id].sec = sec;
		src[sec->kv[i].id].kv = &sec->kv[i];
	}
}

/* Expand a value; NULL (reported) on failure. */
char *
config_parser_expand(struct config_parser *ps, const struct config_src *s)
{
	char err[512], *out;

	if (config_expand(s->kv->value, &out, err, sizeof(err)) < 0) {
		config_parser_report(ps, s->kv->line, s->sec, s->kv->key,
		    s->kv->value, NULL, "%s", err);
		return NULL;
	}
	return out;
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
void
config_parser_errors(struct config_parser *ps, char *err, size_t errlen)
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
	if (ps->nerrs > 0) /* errs is NULL without one */
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

void
config_parser_init(struct config_parser *ps, const char *name, const char *text)
{
	memset(ps, 0, sizeof(*ps));
	ps->file = name;
	ps->text = text;
	ps->cur = -1;
	fill_kinds(ps);
	collect_kind_keys(ps);
}
