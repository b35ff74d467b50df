/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target: the JSON, text, Prometheus and HTML renderers fed arbitrary
 * check names, targets, error texts and numbers. JSON must parse (with
 * jansson) and be UTF-8; Prometheus text must pass fuzz_prom_check() and
 * be UTF-8 whenever the names given were; text one line per check; the
 * HTML status page UTF-8 and escaped, always.
 * Input: a header byte, per check a few bytes of numbers, then the
 * strings separated by 0xff (see fuzz_field()). FUZZ_RENDER_DUMP=DIR
 * writes each Prometheus text that must be UTF-8 to DIR (for promtool).
 * Owns: nothing.
 */
#include "fuzz.h"

#include <event2/buffer.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "probe.h"
#include "render.h"
#include "verdict.h"

#define FUZZ_MAX_CHECKS 5
#define FUZZ_MAX_GROUPS 3

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	return 0;
}

/* Make s a name the configuration would take: [A-Za-z0-9_.-]+. */
static void
fuzz_render_tame(char *s)
{
	static const char abc[] = "abcdefghijklmnopqrstuvwxyz"
				  "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-";

	for (; *s != '\0'; s++)
		*s = abc[(unsigned char)*s % (sizeof(abc) - 1)];
}

/* Whether names[0..n) are distinct, valid UTF-8 JSON keys. */
static bool
fuzz_render_names_ok(char **names, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!fuzz_utf8_valid(names[i], strlen(names[i])))
			return false;
	return true;
}

static char *
fuzz_render_take(struct evbuffer *b, size_t *len)
{
	char *s;

	*len = evbuffer_get_length(b);
	s = malloc(*len + 1);
	if (s == NULL)
		fuzz_fail("out of memory");
	evbuffer_remove(b, s, *len);
	s[*len] = '\0';
	return s;
}

static void
fuzz_render_json(const struct render_view *v, char **names, bool names_ok)
{
	struct evbuffer *b = evbuffer_new();
	json_error_t jerr;
	json_t *root, *checks;
	size_t len;
	char *s;

	if (b == NULL)
		fuzz_fail("out of memory");
	if (render_json(v, b) < 0) {
		if (names_ok)
			fuzz_fail("render_json failed on valid names");
		evbuffer_free(b);
		return;
	}
	s = fuzz_render_take(b, &len);
	if (!fuzz_utf8_valid(s, len))
		fuzz_fail("JSON not UTF-8: %s", s);
	root = json_loadb(s, len, 0, &jerr);
	if (root == NULL)
		fuzz_fail("JSON does not parse: %s: %s", jerr.text, s);
	checks = json_object_get(root, "checks");
	if (!json_is_string(json_object_get(root, "status")) ||
	    !json_is_object(checks))
		fuzz_fail("JSON without status or checks: %s", s);
	for (size_t i = 0; i < v->nchecks; i++) {
		json_t *c = json_object_get(checks, names[i]);

		if (!json_is_object(c) ||
		    !json_is_string(json_object_get(c, "status")))
			fuzz_fail("JSON lacks check %s: %s", names[i], s);
	}
	json_decref(root);
	free(s);
	evbuffer_free(b);
}

static void
fuzz_render_text(const struct render_view *v, bool tame, bool names_ok)
{
	struct evbuffer *b = evbuffer_new();
	size_t len, lines = 0;
	char *s;

	if (b == NULL)
		fuzz_fail("out of memory");
	if (render_text(v, b) < 0)
		fuzz_fail("render_text failed");
	s = fuzz_render_take(b, &len);
	if (names_ok && !fuzz_utf8_valid(s, len))
		fuzz_fail("text not UTF-8: %s", s);
	for (size_t i = 0; i < len; i++)
		lines += s[i] == '\n';
	if (len == 0 || s[len - 1] != '\n' || (tame && lines != v->nchecks + 1))
		fuzz_fail(
		    "text: %zu lines for %zu checks: %s", lines, v->nchecks, s);
	free(s);
	evbuffer_free(b);
}

static void
fuzz_render_prom(const struct render_metrics *m, bool utf8)
{
	struct evbuffer *b = evbuffer_new();
	char why[512], *s;
	size_t len;

	if (b == NULL)
		fuzz_fail("out of memory");
	if (render_prom(m, b) < 0)
		fuzz_fail("render_prom failed");
	s = fuzz_render_take(b, &len);
	if (fuzz_prom_check(s, len, utf8, why, sizeof(why)) < 0)
		fuzz_fail("Prometheus text: %s", why);
	if (utf8 && getenv("FUZZ_RENDER_DUMP") != NULL) {
		/* for a cross-check: promtool check metrics < each file */
		static unsigned serial;
		char path[4096];
		FILE *f;

		snprintf(path, sizeof(path), "%s/prom-%05u.txt",
		    getenv("FUZZ_RENDER_DUMP"), serial++);
		if ((f = fopen(path, "w")) == NULL)
			fuzz_fail("cannot write %s", path);
		fwrite(s, 1, len, f);
		fclose(f);
	}
	free(s);
	evbuffer_free(b);
}

/*
 * The status page: UTF-8 whatever the names and texts, no control
 * characters HTML cannot carry, and no markup of ours but the page's
 * (an escaped "<script" cannot appear raw).
 */
static void
fuzz_render_html(const struct render_page *p)
{
	struct evbuffer *b = evbuffer_new();
	size_t len;
	char *s;

	if (b == NULL)
		fuzz_fail("out of memory");
	if (render_html(p, b) < 0)
		fuzz_fail("render_html failed");
	s = fuzz_render_take(b, &len);
	if (!fuzz_utf8_valid(s, len))
		fuzz_fail("HTML not UTF-8: %s", s);
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if ((c < 0x20 && c != '\t' && c != '\n' && c != '\r' &&
			c != '\f') ||
		    c == 0x7f)
			fuzz_fail(
			    "HTML: control byte 0x%02x at %zu: %s", c, i, s);
	}
	if (strcasestr(s, "<script") != NULL)
		fuzz_fail("HTML: a raw <script: %s", s);
	free(s);
	evbuffer_free(b);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const kinds[] = {"postgres", "pgbouncer", "redis"};
	struct fuzz_in in = {data, size};
	struct render_check checks[FUZZ_MAX_CHECKS];
	struct render_stats stats[FUZZ_MAX_CHECKS];
	struct render_group groups[FUZZ_MAX_GROUPS];
	char *strs[FUZZ_MAX_CHECKS * 3 + FUZZ_MAX_GROUPS + 1];
	char *names[FUZZ_MAX_CHECKS], *gnames[FUZZ_MAX_GROUPS];
	size_t nstrs = 0, nchecks, ngroups;
	uint8_t head = fuzz_byte(&in);
	bool tame = (head & 0x80) == 0, names_ok;
	struct render_view v;
	struct render_metrics m;

	nchecks = head % (FUZZ_MAX_CHECKS + 1);
	ngroups = (head >> 3) % (FUZZ_MAX_GROUPS + 1);
	memset(checks, 0, sizeof(checks));
	memset(stats, 0, sizeof(stats));
	for (size_t i = 0; i < nchecks; i++) {
		struct render_check *c = &checks[i];
		struct render_stats *st = &stats[i];
		uint8_t flags = fuzz_byte(&in);
		uint32_t lat = fuzz_u32(&in);

		c->state = (enum verdict_state)(flags % VERDICT_STATE_COUNT);
		c->required = flags & 0x10;
		c->kind = kinds[(flags >> 5) % 3];
		c->reason =
		    (enum probe_status)(fuzz_byte(&in) % PROBE_STATUS_COUNT);
		/* latencies are finite; the top bit says "none" */
		c->latency_ms = lat & 0x80000000u ? -1 : lat / 7.0;
		c->consecutive_failures = (int)fuzz_u32(&in);
		c->last_check = (time_t)fuzz_u32(&in);
		c->since = (time_t)fuzz_u32(&in);
		for (int r = 0; r < PROBE_STATUS_COUNT; r++)
			st->failures[r] = fuzz_byte(&in);
		for (int k = 0; k <= RENDER_BUCKETS; k++)
			st->buckets[k] = fuzz_byte(&in);
		st->transitions = fuzz_u32(&in);
		st->attempts = fuzz_u32(&in);
		st->watch_drops = fuzz_byte(&in);
		st->duration_sum = fuzz_u32(&in) / 1000.0;
		st->last_success = fuzz_u32(&in);
		c->stats = st;
	}
	for (size_t i = 0; i < nchecks; i++) {
		struct render_check *c = &checks[i];
		char *out;

		names[i] = strs[nstrs++] = fuzz_field(&in);
		if (tame) {
			fuzz_render_tame(names[i]);
			if (names[i][0] == '\0') { /* names are never empty */
				free(names[i]);
				names[i] = strs[nstrs - 1] =
				    fuzz_strndup((const uint8_t *)"c", 1);
			}
		}
		/* JSON keys: distinct names, as the configuration has them */
		for (size_t k = 0; k < i; k++)
			if (strcmp(names[i], names[k]) == 0) {
				char *n = malloc(strlen(names[i]) + 8);

				if (n == NULL)
					fuzz_fail("out of memory");
				sprintf(n, "%s~%zu", names[i], i);
				free(names[i]);
				names[i] = strs[nstrs - 1] = n;
				k = (size_t)-1; /* look again */
			}
		c->name = names[i];
		c->target = strs[nstrs++] = fuzz_field(&in);
		out = strs[nstrs++] = fuzz_field(&in);
		c->output = out[0] != '\0' ? out : NULL;
	}
	for (size_t g = 0; g < ngroups; g++) {
		gnames[g] = strs[nstrs++] = fuzz_field(&in);
		if (tame)
			fuzz_render_tame(gnames[g]);
		groups[g].name = gnames[g];
		groups[g].status = (head >> (g + 4)) & 1;
	}
	names_ok = fuzz_render_names_ok(names, nchecks);

	v = (struct render_view){.checks = checks,
	    .nchecks = nchecks,
	    .status = (enum verdict_status)((head >> 6) & 1)};
	fuzz_render_json(&v, names, names_ok);
	fuzz_render_text(&v, tame, names_ok);

	strs[nstrs] = fuzz_field(&in);
	m = (struct render_metrics){.checks = checks,
	    .nchecks = nchecks,
	    .groups = groups,
	    .ngroups = ngroups,
	    .status = v.status,
	    .version = tame ? "0.1.0" : strs[nstrs]};
	nstrs++;
	fuzz_render_prom(&m,
	    names_ok && fuzz_render_names_ok(gnames, ngroups) &&
		fuzz_utf8_valid(m.version, strlen(m.version)));
	fuzz_render_html(&(struct render_page){.checks = checks,
	    .nchecks = nchecks,
	    .groups = groups,
	    .ngroups = ngroups,
	    .status = v.status,
	    .draining = fuzz_byte(&in) & 1,
	    .version = m.version,
	    .now = 1795758000});
	for (size_t i = 0; i < nstrs; i++)
		free(strs[i]);
	return 0;
}
