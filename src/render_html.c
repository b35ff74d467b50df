/* SPDX-License-Identifier: MIT */
/*
 * The status page (GET /status and /): one self-contained HTML document,
 * no script and no external asset, refreshing itself.
 * Owns: nothing; a pure function of its snapshot.
 */
#include "render.h"

#include <event2/buffer.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

/*
 * Colours: pass green, fail red, starting and warn amber; every state has
 * its word too, so that colour is never the only sign.
 */
static const char render_html_style[] =
    "body{font:15px/1.45 system-ui,\"DejaVu Sans\",sans-serif;"
    "margin:22px;color:#1b1f23;background:#fff}\n"
    "h1{font-size:22px;margin:0 0 4px}\n"
    "h2{font-size:17px;margin:22px 0 6px}\n"
    "p.meta{color:#57606a;margin:0 0 8px}\n"
    "table{border-collapse:collapse;width:100%}\n"
    "th,td{text-align:left;padding:6px 10px;border-bottom:1px solid #d0d7de;"
    "vertical-align:top}\n"
    "th{background:#f6f8fa;font-weight:600;white-space:nowrap}\n"
    "td b,time{white-space:nowrap}\n"
    "tr.pass{background:#e6f4ea}\n"
    "tr.fail{background:#fde7e7}\n"
    "tr.starting,tr.warn{background:#fff4d6}\n"
    ".badge{display:inline-block;min-width:80px;padding:1px 6px;"
    "border-radius:4px;font-weight:700;text-align:center;color:#fff}\n"
    ".badge.pass{background:#1a7f37}\n"
    ".badge.fail{background:#c62828}\n"
    ".badge.starting,.badge.warn{background:#f0a000;color:#1b1f23}\n"
    ".note{color:#57606a;font-size:13px}\n"
    ".out{font-family:monospace;font-size:13px;white-space:pre-wrap;"
    "overflow-wrap:anywhere}\n"
    "td.num{text-align:right;white-space:nowrap}\n";

/* ---- escaping ---- */

size_t
render_utf8_len(const unsigned char *s, size_t len)
{
	uint32_t cp, min;
	size_t n, k;

	if (s[0] < 0x80)
		return 1;
	if ((s[0] & 0xe0) == 0xc0) {
		n = 2;
		cp = s[0] & 0x1f;
		min = 0x80;
	} else if ((s[0] & 0xf0) == 0xe0) {
		n = 3;
		cp = s[0] & 0x0f;
		min = 0x800;
	} else if ((s[0] & 0xf8) == 0xf0) {
		n = 4;
		cp = s[0] & 0x07;
		min = 0x10000;
	} else {
		return 0;
	}
	if (n > len)
		return 0;
	for (k = 1; k < n; k++) {
		if ((s[k] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[k] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

size_t
render_char_len(const unsigned char *s, size_t len)
{
	size_t n = render_utf8_len(s, len);

	if (n == 1)
		return (s[0] >= 0x20 && s[0] != 0x7f) || s[0] == '\t' ||
			s[0] == '\n'
		    ? 1
		    : 0;
	/* C1 controls: U+0080..U+009F, 0xc2 0x80..0x9f */
	if (n == 2 && s[0] == 0xc2 && s[1] <= 0x9f)
		return 0;
	return n;
}

/*
 * Append s as HTML text (fit for attribute values too): markup characters
 * as entities, anything HTML cannot carry as U+FFFD.
 */
static int
render_html_text(struct evbuffer *out, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t len = strlen(s), i = 0, n;
	int rc = 0;

	while (i < len) {
		const char *ent = NULL;

		switch (p[i]) {
		case '&':
			ent = "&amp;";
			break;
		case '<':
			ent = "&lt;";
			break;
		case '>':
			ent = "&gt;";
			break;
		case '"':
			ent = "&quot;";
			break;
		case '\'':
			ent = "&#39;";
			break;
		default:
			break;
		}
		if (ent != NULL) {
			rc |= evbuffer_add(out, ent, strlen(ent));
			i++;
			continue;
		}
		n = render_char_len(p + i, len - i);
		if (n == 0) {
			rc |= evbuffer_add(out, "\xef\xbf\xbd", 3);
			i++;
			continue;
		}
		rc |= evbuffer_add(out, p + i, n);
		i += n;
	}
	return rc;
}

/* ---- pieces ---- */

/* "42s", "3m 12s", "5h 3m", "2d 4h": how long ago t was at now. */
static void
render_html_ago(time_t now, time_t t, char *buf, size_t len)
{
	long long d = now > t ? (long long)(now - t) : 0;

	if (d < 60)
		snprintf(buf, len, "%llds", d);
	else if (d < 3600)
		snprintf(buf, len, "%lldm %llds", d / 60, d % 60);
	else if (d < 86400)
		snprintf(buf, len, "%lldh %lldm", d / 3600, d % 3600 / 60);
	else
		snprintf(buf, len, "%lldd %lldh", d / 86400, d % 86400 / 3600);
}

/*
 * The class and word of a check's row: a failing optional check warns, and
 * so does a passing one with findings.
 */
static void
render_html_state(
    const struct render_check *c, const char **cls, const char **word)
{
	switch (c->state) {
	case VERDICT_PASS:
		*cls = "pass";
		*word = "PASS";
		break;
	case VERDICT_FAIL:
		*cls = c->required ? "fail" : "warn";
		*word = c->required ? "FAIL" : "WARN";
		break;
	case VERDICT_WARN: /* serves, with findings */
		*cls = "warn";
		*word = "WARN";
		break;
	default:
		*cls = "starting";
		*word = "STARTING";
		break;
	}
}

/*
 * The class and word of a verdict: ready is pass, not ready fail; a
 * verdict that is ready but not "pass" (a warning) is amber.
 */
static void
render_html_verdict(enum verdict_status st, const char **cls, const char **word)
{
	if (!verdict_status_is_ready(st)) {
		*cls = "fail";
		*word = "NOT READY";
	} else if (strcmp(verdict_status_name(st), "pass") == 0) {
		*cls = "pass";
		*word = "READY";
	} else {
		*cls = "warn";
		*word = "READY, WARNING";
	}
}

static int
render_html_check(
    const struct render_check *c, time_t now, struct evbuffer *out)
{
	const char *cls, *word;
	char when[32], ago[32];
	int rc = 0;

	render_html_state(c, &cls, &word);
	rc |=
	    evbuffer_add_printf(out, "<tr class=\"%s\" data-check=\"", cls) < 0;
	rc |= render_html_text(out, c->name);
	rc |= evbuffer_add_printf(out, "\" data-state=\"%s\">\n<td><b>",
		  verdict_state_name(c->state)) < 0;
	rc |= render_html_text(out, c->name);
	rc |= evbuffer_add_printf(out, "</b><br><span class=\"note\">") < 0;
	rc |= render_html_text(out, c->kind);
	if (!c->required)
		rc |= evbuffer_add_printf(
			  out, ", not required: never fails /ready") < 0;
	rc |= evbuffer_add_printf(out,
		  "</span></td>\n<td><span class=\"badge %s\">%s</span></td>\n"
		  "<td>",
		  cls, word) < 0;
	if (c->reason != PROBE_OK)
		rc |= evbuffer_add_printf(
			  out, "%s", probe_status_name(c->reason)) < 0;
	else
		rc |= evbuffer_add_printf(out, "&ndash;") < 0;
	if (c->consecutive_failures > 0)
		rc |= evbuffer_add_printf(out,
			  "<br><span class=\"note\">%d failure%s in a "
			  "row</span>",
			  c->consecutive_failures,
			  c->consecutive_failures == 1 ? "" : "s") < 0;
	if (c->output != NULL) {
		rc |= evbuffer_add_printf(out, "<div class=\"out\">") < 0;
		rc |= render_html_text(out, c->output);
		rc |= evbuffer_add_printf(out, "</div>") < 0;
	}
	render_time(c->since, when, sizeof(when));
	render_html_ago(now, c->since, ago, sizeof(ago));
	rc |= evbuffer_add_printf(out,
		  "</td>\n<td><time datetime=\"%s\">%s</time><br>"
		  "<span class=\"note\">for %s</span></td>\n",
		  when, when, ago) < 0;
	if (c->latency_ms >= 0)
		rc |=
		    evbuffer_add_printf(out, "<td class=\"num\">%.1f ms</td>\n",
			round(c->latency_ms * 10) / 10) < 0;
	else
		rc |= evbuffer_add_printf(
			  out, "<td class=\"num\">&ndash;</td>\n") < 0;
	rc |= evbuffer_add_printf(out, "<td>") < 0;
	rc |= render_html_text(out, c->target);
	rc |= evbuffer_add_printf(out, "</td>\n</tr>\n") < 0;
	return rc;
}

static int
render_html_groups(const struct render_page *p, struct evbuffer *out)
{
	int rc = 0;

	rc |= evbuffer_add_printf(out, "<h2>Groups</h2>\n") < 0;
	if (p->ngroups == 0)
		return rc |
		    (evbuffer_add_printf(out,
			 "<p class=\"note\">No groups configured.</p>\n") < 0);
	rc |= evbuffer_add_printf(out,
		  "<table id=\"groups\">\n<thead><tr><th>Group</th>"
		  "<th>Verdict</th><th>Endpoint</th></tr></thead>\n"
		  "<tbody>\n") < 0;
	for (size_t i = 0; i < p->ngroups; i++) {
		const struct render_group *g = &p->groups[i];
		const char *cls, *word;

		render_html_verdict(g->status, &cls, &word);
		rc |= evbuffer_add_printf(
			  out, "<tr class=\"%s\" data-group=\"", cls) < 0;
		rc |= render_html_text(out, g->name);
		rc |= evbuffer_add_printf(out, "\">\n<td><b>") < 0;
		rc |= render_html_text(out, g->name);
		rc |= evbuffer_add_printf(out,
			  "</b></td>\n<td><span class=\"badge %s\">%s</span>"
			  "</td>\n<td class=\"note\">/ready/",
			  cls, word) < 0;
		rc |= render_html_text(out, g->name);
		rc |= evbuffer_add_printf(out, "</td>\n</tr>\n") < 0;
	}
	rc |= evbuffer_add_printf(out, "</tbody>\n</table>\n") < 0;
	return rc;
}

/* ---- the page ---- */

int
render_html(const struct render_page *p, struct evbuffer *out)
{
	bool ready = verdict_status_is_ready(p->status);
	const char *cls, *word;
	char now[32];
	int rc = 0;

	render_html_verdict(p->status, &cls, &word);
	render_time(p->now, now, sizeof(now));
	rc |= evbuffer_add_printf(out,
		  "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n"
		  "<meta charset=\"utf-8\">\n"
		  "<meta http-equiv=\"refresh\" content=\"%d\">\n"
		  "<meta name=\"viewport\" content=\"width=device-width, "
		  "initial-scale=1\">\n"
		  "<title>readyd: %s</title>\n<style>\n%s</style>\n"
		  "</head>\n<body>\n",
		  RENDER_HTML_REFRESH_S, ready ? "ready" : "not ready",
		  render_html_style) < 0;
	rc |= evbuffer_add_printf(out,
		  "<h1>readyd <span class=\"badge %s\" id=\"verdict\">%s</span>"
		  "</h1>\n",
		  cls, word) < 0;
	if (p->draining)
		rc |= evbuffer_add_printf(out,
			  "<p><b>Shutting down:</b> /ready answers 503 "
			  "whatever the checks say.</p>\n") < 0;
	rc |= evbuffer_add_printf(out, "<p class=\"meta\">readyd ") < 0;
	rc |= render_html_text(out, p->version != NULL ? p->version : "");
	rc |= evbuffer_add_printf(out,
		  " &middot; <time datetime=\"%s\">%s</time> &middot; "
		  "refreshes every %d s &middot; "
		  "<a href=\"/ready\">/ready</a> "
		  "<a href=\"/ready?verbose\">/ready?verbose</a> "
		  "<a href=\"/metrics\">/metrics</a></p>\n",
		  now, now, RENDER_HTML_REFRESH_S) < 0;
	rc |= evbuffer_add_printf(out,
		  "<h2>Checks</h2>\n<table id=\"checks\">\n<thead><tr>"
		  "<th>Check</th><th>State</th><th>Reason</th><th>Since</th>"
		  "<th>Last latency</th><th>Target</th></tr></thead>\n"
		  "<tbody>\n") < 0;
	for (size_t i = 0; i < p->nchecks; i++)
		rc |= render_html_check(&p->checks[i], p->now, out);
	rc |= evbuffer_add_printf(out, "</tbody>\n</table>\n") < 0;
	rc |= render_html_groups(p, out);
	rc |= evbuffer_add_printf(out, "</body>\n</html>\n") < 0;
	return rc ? -1 : 0;
}
