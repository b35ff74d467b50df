/* SPDX-License-Identifier: MIT */
/*
 * The ?verbose text/plain body, in the style of Kubernetes' /readyz.
 * Owns: nothing; a pure function of its snapshot.
 */
#include "render.h"

#include <event2/buffer.h>

int
render_text(const struct render_view *v, struct evbuffer *out)
{
	int rc = 0;

	for (size_t i = 0; i < v->nchecks; i++) {
		const struct render_check *c = &v->checks[i];
		const char *word = c->pass ? "ok"
		    : c->status[0] == 's'  ? "starting"
					   : "failed";
		const char *opt = c->required ? "" : " (not required)";

		if (c->reason != NULL && !c->pass)
			rc |= evbuffer_add_printf(out, "[-]%s %s: %s%s\n",
				  c->name, word, c->reason, opt) < 0;
		else
			rc |= evbuffer_add_printf(out, "[%c]%s %s%s\n",
				  c->pass ? '+' : '-', c->name, word, opt) < 0;
	}
	rc |= evbuffer_add_printf(
		  out, "%s\n", v->ready ? "ready" : "not ready") < 0;
	return rc ? -1 : 0;
}
