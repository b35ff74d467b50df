/* SPDX-License-Identifier: MIT */
/*
 * A one-shot HTTP GET for `readyd check`: the compose healthcheck command,
 * since slim images have no curl.
 * Owns: its own event base, resolver and connection, all freed on return.
 */
#include "client.h"

#include "clock.h"
#include "resolve.h"

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CLIENT_MAX_BODY (64 * 1024)

struct client_get {
	struct event_base *base;	/* owned */
	struct evhttp_connection *conn; /* owned */
	const char *path;		/* borrowed: path and query */
	const char *host;		/* borrowed: as in the URL */
	char name[256];			/* host without IPv6 brackets */
	char hosthdr[300];		/* Host: header, with the port */
	int port;
	struct resolve_req *rq; /* pending lookup, or NULL */
	bool done;		/* an answer or a failure */
	int status;		/* HTTP status */
	char *body;		/* owned until returned */
	char err[256];		/* failure text */
};

static void
client_response_cb(struct evhttp_request *req, void *arg)
{
	struct client_get *g = arg;
	struct evbuffer *in;
	size_t len;

	g->done = true;
	if (req == NULL || evhttp_request_get_response_code(req) == 0) {
		snprintf(g->err, sizeof(g->err), "no HTTP answer");
		event_base_loopbreak(g->base);
		return;
	}
	g->status = evhttp_request_get_response_code(req);
	in = evhttp_request_get_input_buffer(req);
	len = evbuffer_get_length(in);
	if (len > CLIENT_MAX_BODY)
		len = CLIENT_MAX_BODY;
	g->body = malloc(len + 1);
	if (g->body != NULL) {
		evbuffer_copyout(in, g->body, len);
		g->body[len] = '\0';
	}
	event_base_loopbreak(g->base);
}

static void
client_timeout_cb(evutil_socket_t fd, short what, void *arg)
{
	struct client_get *g = arg;

	(void)fd;
	(void)what;
	if (!g->done && g->rq != NULL)
		snprintf(g->err, sizeof(g->err),
		    "lookup of %.200s: no answer in time", g->name);
	else if (!g->done)
		snprintf(g->err, sizeof(g->err), "no answer in time");
	event_base_loopbreak(g->base);
}

static int
client_send(struct client_get *g, const char *addr)
{
	struct evhttp_request *req;

	g->conn = evhttp_connection_base_new(
	    g->base, NULL, addr, (ev_uint16_t)g->port);
	if (g->conn == NULL) {
		snprintf(g->err, sizeof(g->err), "cannot connect");
		return -1;
	}
	req = evhttp_request_new(client_response_cb, g);
	if (req == NULL) {
		snprintf(g->err, sizeof(g->err), "out of memory");
		return -1;
	}
	evhttp_add_header(
	    evhttp_request_get_output_headers(req), "Host", g->hosthdr);
	evhttp_add_header(evhttp_request_get_output_headers(req), "User-Agent",
	    "readyd-check");
	if (evhttp_make_request(g->conn, req, EVHTTP_REQ_GET, g->path) != 0) {
		snprintf(g->err, sizeof(g->err), "cannot send the request");
		return -1;
	}
	return 0;
}

static void
client_resolved_cb(const char *addr, const char *errstr, void *arg)
{
	struct client_get *g = arg;

	g->rq = NULL;
	if (addr == NULL) {
		g->done = true;
		snprintf(g->err, sizeof(g->err), "lookup of %.200s: %s",
		    g->name, errstr);
		event_base_loopbreak(g->base);
		return;
	}
	if (client_send(g, addr) < 0) {
		g->done = true;
		event_base_loopbreak(g->base);
	}
}

int
client_get(const char *url, int64_t timeout_ms, int *status, char **body,
    char *err, size_t errlen)
{
	struct client_get g = {0};
	struct evhttp_uri *uri;
	struct resolver *r = NULL;
	struct event *timer = NULL;
	struct timeval tv;
	char addr[RESOLVE_ADDRLEN], path[1024], rerr[128];
	const char *p, *q, *scheme;
	int rc = -1;

	*body = NULL;
	uri = evhttp_uri_parse(url);
	if (uri == NULL) {
		snprintf(err, errlen, "%s: not a URL", url);
		return -1;
	}
	scheme = evhttp_uri_get_scheme(uri);
	g.host = evhttp_uri_get_host(uri);
	g.port = evhttp_uri_get_port(uri);
	if (scheme == NULL || strcmp(scheme, "http") != 0 || g.host == NULL) {
		snprintf(err, errlen, "%s: need http://HOST[:PORT]/PATH", url);
		goto out_uri;
	}
	if (g.port < 0)
		g.port = 80;
	/* evhttp_uri keeps an IPv6 literal's brackets: [::1] */
	{
		size_t n = strlen(g.host);

		if (n >= 2 && g.host[0] == '[' && g.host[n - 1] == ']')
			snprintf(g.name, sizeof(g.name), "%.*s", (int)(n - 2),
			    g.host + 1);
		else
			snprintf(g.name, sizeof(g.name), "%s", g.host);
	}
	if (g.port == 80)
		snprintf(g.hosthdr, sizeof(g.hosthdr), "%s", g.host);
	else
		snprintf(g.hosthdr, sizeof(g.hosthdr), "%s:%d", g.host, g.port);
	p = evhttp_uri_get_path(uri);
	q = evhttp_uri_get_query(uri);
	snprintf(path, sizeof(path), "%s%s%s", p && *p ? p : "/", q ? "?" : "",
	    q ? q : "");
	g.path = path;

	g.base = event_base_new();
	if (g.base == NULL) {
		snprintf(err, errlen, "cannot create an event loop");
		goto out_uri;
	}
	r = resolve_new(g.base, rerr, sizeof(rerr));
	timer = evtimer_new(g.base, client_timeout_cb, &g);
	if (r == NULL || timer == NULL) {
		snprintf(err, errlen, "cannot set up: %s",
		    r == NULL ? rerr : "out of memory");
		goto out_base;
	}
	tv = clock_tv(timeout_ms);
	evtimer_add(timer, &tv);
	switch (resolve_start(r, g.name, addr, client_resolved_cb, &g, &g.rq,
	    rerr, sizeof(rerr))) {
	case 1:
		if (client_send(&g, addr) < 0)
			g.done = true;
		break;
	case 0:
		break;
	default:
		g.done = true;
		snprintf(g.err, sizeof(g.err), "lookup of %.100s: %.120s",
		    g.name, rerr);
		break;
	}
	if (!g.done)
		event_base_dispatch(g.base);
	if (g.status > 0) {
		*status = g.status;
		*body = g.body;
		g.body = NULL;
		rc = 0;
	} else {
		snprintf(err, errlen, "%s", g.err[0] ? g.err : "no answer");
	}

out_base:
	if (g.conn != NULL)
		evhttp_connection_free(g.conn);
	if (timer != NULL)
		event_free(timer);
	if (g.rq != NULL)
		resolve_cancel(g.rq);
	resolve_free(r); /* runs the cancelled lookup's callback */
	free(g.body);
	event_base_free(g.base);
out_uri:
	evhttp_uri_free(uri);
	return rc;
}
