/* SPDX-License-Identifier: MIT */
/*
 * The ?verbose text/plain body, in the style of Kubernetes' /readyz.
 * Owns: nothing; a pure function of its snapshot.
 */
#include "render.h"

#include <event2/buffer.h>
#include <stdio.h>
#include <string.h>

/* How a line reads for each state. */
static const char *const render_text_words[VERDICT_STATE_COUNT] = {
    [VERDICT_STARTING] = "starting",
    [VERDICT_PASS] = "ok",
    [VERDICT_FAIL] = "failed",
    [VERDICT_WARN] = "warn",
};

/*
 * Why a check does not count: the verdict does not need it. Said of an
 * informational check always, of one in no group when it fails.
 */
static const char *
render_text_why(const struct render_check *c)
{
	if (!c->not_needed)
		return NULL;
	if (!c->required)
		return "not required";
	return c->state == VERDICT_FAIL ? "in no group" : NULL;
}

/*
 * Append s on one line of valid UTF-8: a newline or tab (from a server's
 * text) as a space, any other control character or bad byte as U+FFFD.
 */
static int
render_text_clean(struct evbuffer *out, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t len = strlen(s), i = 0, n;
	int rc = 0;

	while (i < len) {
		n = render_char_len(p + i, len - i);
		if (n == 0 || p[i] == '\n' || p[i] == '\t') {
			rc |= n == 0 ? evbuffer_add(out, "\xef\xbf\xbd", 3)
				     : evbuffer_add(out, " ", 1);
			i++;
			continue;
		}
		rc |= evbuffer_add(out, p + i, n);
		i += n;
	}
	return rc;
}

int
render_text(const struct render_view *v, struct evbuffer *out)
{
	int rc = 0;

	for (size_t i = 0; i < v->nchecks; i++) {
		const struct render_check *c = &v->checks[i];
		bool pass = c->state == VERDICT_PASS;
		const char *word = render_text_words[c->state];
		const char *why = render_text_why(c);
		bool warn = why != NULL && c->state == VERDICT_FAIL;
		char opt[40] = "";

		if (why != NULL)
			snprintf(opt, sizeof(opt), " (%s%s)", why,
			    warn ? ": warn" : "");
		if (c->state == VERDICT_WARN) {
			/* serves, with findings: what differs, when shown */
			rc |= evbuffer_add_printf(out, "[!]%s %s: %s%s",
				  c->name, word, probe_status_name(c->reason),
				  c->output != NULL ? ": " : "") < 0;
			if (c->output != NULL)
				rc |= render_text_clean(out, c->output);
			rc |= evbuffer_add_printf(out, "%s\n", opt) < 0;
		} else if (c->reason != PROBE_OK && !pass)
			rc |= evbuffer_add_printf(out, "[%c]%s %s: %s%s\n",
				  warn ? '!' : '-', c->name, word,
				  probe_status_name(c->reason), opt) < 0;
		else
			rc |= evbuffer_add_printf(out, "[%c]%s %s%s\n",
				  pass ? '+' : (warn ? '!' : '-'), c->name,
				  word, opt) < 0;
	}
	rc |= evbuffer_add_printf(out, "%s\n",
		  v->status == VERDICT_STATUS_WARN	   ? "ready (warn)"
		      : verdict_status_is_ready(v->status) ? "ready"
							   : "not ready") < 0;
	return rc ? -1 : 0;
}
