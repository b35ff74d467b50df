/* SPDX-License-Identifier: MIT */
/*
 * The ?verbose text/plain body, in the style of Kubernetes' /readyz.
 * Owns: nothing; a pure function of its snapshot.
 */
#include "render.h"

#include <event2/buffer.h>

/* How a line reads for each state. */
static const char *const render_text_words[VERDICT_STATE_COUNT] = {
    [VERDICT_STARTING] = "starting",
    [VERDICT_PASS] = "ok",
    [VERDICT_FAIL] = "failed",
};

int
render_text(const struct render_view *v, struct evbuffer *out)
{
	int rc = 0;

	for (size_t i = 0; i < v->nchecks; i++) {
		const struct render_check *c = &v->checks[i];
		bool pass = c->state == VERDICT_PASS;
		const char *word = render_text_words[c->state];
		const char *opt = c->required ? "" : " (not required)";

		if (c->reason != PROBE_OK && !pass)
			rc |= evbuffer_add_printf(out, "[-]%s %s: %s%s\n",
				  c->name, word, probe_status_name(c->reason),
				  opt) < 0;
		else
			rc |= evbuffer_add_printf(out, "[%c]%s %s%s\n",
				  pass ? '+' : '-', c->name, word, opt) < 0;
	}
	rc |=
	    evbuffer_add_printf(out, "%s\n",
		verdict_status_is_ready(v->status) ? "ready" : "not ready") < 0;
	return rc ? -1 : 0;
}
