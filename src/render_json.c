/* SPDX-License-Identifier: MIT */
/*
 * The application/health+json body, built with jansson.
 * Owns: nothing; a pure function of its snapshot.
 */
#include "render.h"

#include <event2/buffer.h>
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

void
render_time(time_t t, char *buf, size_t len)
{
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/*
 * A JSON string of s. Server error text may hold invalid UTF-8, which
 * jansson refuses: each byte render_utf8_len rejects (malformed,
 * truncated, overlong, a surrogate) becomes U+FFFD, the rest is kept.
 */
static json_t *
render_json_string(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	json_t *j = json_string(s);
	size_t len, n, o = 0;
	char *clean;

	if (j != NULL)
		return j;
	len = strlen(s);
	clean = malloc(len * 3 + 1);
	if (clean == NULL)
		return NULL;
	for (size_t i = 0; i < len; i += n) {
		n = render_utf8_len(p + i, len - i);
		if (n > 0) {
			memcpy(clean + o, p + i, n);
			o += n;
		} else {
			memcpy(clean + o, "\xef\xbf\xbd", 3);
			o += 3;
			n = 1;
		}
	}
	j = json_stringn(clean, o);
	free(clean);
	return j;
}

static int
render_json_set(json_t *obj, const char *key, json_t *val)
{
	if (val == NULL)
		return -1;
	return json_object_set_new(obj, key, val);
}

/* [{"reason", "key", "text"}]: texts only when the check shows output. */
static json_t *
render_json_findings(const struct render_check *c)
{
	json_t *a = json_array();

	for (size_t i = 0; a != NULL && i < c->nfindings; i++) {
		const struct probe_finding *f = &c->findings[i];
		json_t *o = json_object();
		int rc = 0;

		if (o == NULL) {
			json_decref(a);
			return NULL;
		}
		rc |= render_json_set(
		    o, "reason", json_string(probe_status_name(f->reason)));
		rc |= render_json_set(o, "key", render_json_string(f->key));
		if (c->finding_texts)
			rc |= render_json_set(
			    o, "text", render_json_string(f->text));
		if (rc != 0 || json_array_append_new(a, o) != 0) {
			json_decref(a);
			return NULL;
		}
	}
	return a;
}

static json_t *
render_json_check(const struct render_check *c)
{
	json_t *o = json_object();
	char when[32];
	int rc = 0;

	if (o == NULL)
		return NULL;
	rc |= render_json_set(o, "status",
	    json_string(c->not_needed && c->state == VERDICT_FAIL
		    ? verdict_status_name(VERDICT_STATUS_WARN)
		    : verdict_state_name(c->state)));
	rc |= render_json_set(o, "kind", json_string(c->kind));
	rc |= render_json_set(o, "target", render_json_string(c->target));
	rc |= render_json_set(o, "required", json_boolean(c->required));
	if (c->reason != PROBE_OK)
		rc |= render_json_set(
		    o, "reason", json_string(probe_status_name(c->reason)));
	if (c->output != NULL)
		rc |=
		    render_json_set(o, "output", render_json_string(c->output));
	if (c->nfindings > 0)
		rc |= render_json_set(o, "findings", render_json_findings(c));
	if (c->latency_ms >= 0)
		rc |= render_json_set(
		    o, "latency_ms", json_real(round(c->latency_ms * 10) / 10));
	rc |= render_json_set(
	    o, "consecutive_failures", json_integer(c->consecutive_failures));
	if (c->last_check != 0) {
		render_time(c->last_check, when, sizeof(when));
		rc |= render_json_set(o, "last_check", json_string(when));
	}
	render_time(c->since, when, sizeof(when));
	rc |= render_json_set(o, "since", json_string(when));
	if (rc != 0) {
		json_decref(o);
		return NULL;
	}
	return o;
}

int
render_json(const struct render_view *v, struct evbuffer *out)
{
	json_t *root, *checks;
	char *text;
	int rc = 0;

	root = json_object();
	checks = json_object();
	if (root == NULL || checks == NULL) {
		json_decref(root);
		json_decref(checks);
		return -1;
	}
	rc |= render_json_set(
	    root, "status", json_string(verdict_status_name(v->status)));
	rc |= render_json_set(root, "checks", checks);
	for (size_t i = 0; rc == 0 && i < v->nchecks; i++)
		rc |= render_json_set(checks, v->checks[i].name,
		    render_json_check(&v->checks[i]));
	text = rc == 0 ? json_dumps(root,
			     JSON_INDENT(2) | JSON_PRESERVE_ORDER |
				 JSON_REAL_PRECISION(10))
		       : NULL;
	json_decref(root);
	if (text == NULL)
		return -1;
	rc = evbuffer_add_printf(out, "%s\n", text) < 0 ? -1 : 0;
	free(text);
	return rc;
}
