/* SPDX-License-Identifier: MIT */
/*
 * `readyd check`, the compose healthcheck command (slim images have no
 * curl): a one-shot HTTP GET of /ready and a one-line summary of it.
 * Owns: its own event base, resolver and connection, all freed on return.
 */
#include "client.h"

#include "clock.h"
#include "config.h"
#include "resolve.h"

#include <arpa/inet.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <jansson.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CLIENT_MAX_BODY	      (64 * 1024)
#define CLIENT_WAIT_PERIOD_MS 1000 /* --wait: attempts start this far apart */

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

/*
 * Fill g's host, name, port, Host: header and path (in path, pathlen)
 * from uri. Returns -1 with err filled when it is not http://HOST/...
 */
static int
client_parse_url(struct client_get *g, const struct evhttp_uri *uri,
    const char *url, char *path, size_t pathlen, char *err, size_t errlen)
{
	const char *scheme = evhttp_uri_get_scheme(uri);
	const char *p = evhttp_uri_get_path(uri);
	const char *q = evhttp_uri_get_query(uri);
	size_t n;

	g->host = evhttp_uri_get_host(uri);
	g->port = evhttp_uri_get_port(uri);
	if (scheme == NULL || strcmp(scheme, "http") != 0 || g->host == NULL) {
		snprintf(err, errlen, "%s: need http://HOST[:PORT]/PATH", url);
		return -1;
	}
	if (g->port < 0)
		g->port = 80;
	/* evhttp_uri keeps an IPv6 literal's brackets: [::1] */
	n = strlen(g->host);
	if (n >= 2 && g->host[0] == '[' && g->host[n - 1] == ']')
		snprintf(g->name, sizeof(g->name), "%.*s", (int)(n - 2),
		    g->host + 1);
	else
		snprintf(g->name, sizeof(g->name), "%s", g->host);
	if (g->port == 80)
		snprintf(g->hosthdr, sizeof(g->hosthdr), "%s", g->host);
	else
		snprintf(
		    g->hosthdr, sizeof(g->hosthdr), "%s:%d", g->host, g->port);
	snprintf(path, pathlen, "%s%s%s", p && *p ? p : "/", q ? "?" : "",
	    q ? q : "");
	g->path = path;
	return 0;
}

/* Look up g->name and send the request (or fail: g->done, g->err). */
static void
client_start(struct client_get *g, struct resolver *r)
{
	char addr[RESOLVE_ADDRLEN], rerr[128];

	switch (resolve_start(r, g->name, addr, client_resolved_cb, g, &g->rq,
	    rerr, sizeof(rerr))) {
	case 1:
		if (client_send(g, addr) < 0)
			g->done = true;
		break;
	case 0:
		break;
	default:
		g->done = true;
		snprintf(g->err, sizeof(g->err), "lookup of %.100s: %.120s",
		    g->name, rerr);
		break;
	}
}

/* Run g on its own loop for at most timeout_ms. */
static int
client_run(struct client_get *g, int64_t timeout_ms, char *err, size_t errlen)
{
	struct resolver *r = NULL;
	struct event *timer = NULL;
	struct timeval tv = clock_tv(timeout_ms);
	char rerr[128];
	int rc = -1;

	g->base = event_base_new();
	if (g->base == NULL) {
		snprintf(err, errlen, "cannot create an event loop");
		return -1;
	}
	r = resolve_new(g->base, rerr, sizeof(rerr));
	timer = evtimer_new(g->base, client_timeout_cb, g);
	if (r == NULL || timer == NULL) {
		snprintf(err, errlen, "cannot set up: %s",
		    r == NULL ? rerr : "out of memory");
		goto out_base;
	}
	evtimer_add(timer, &tv);
	client_start(g, r);
	if (!g->done)
		event_base_dispatch(g->base);
	if (g->status > 0)
		rc = 0;
	else
		snprintf(err, errlen, "%s", g->err[0] ? g->err : "no answer");

out_base:
	if (g->conn != NULL)
		evhttp_connection_free(g->conn);
	if (timer != NULL)
		event_free(timer);
	if (g->rq != NULL)
		resolve_cancel(g->rq);
	resolve_free(r); /* runs the cancelled lookup's callback */
	event_base_free(g->base);
	return rc;
}

int
client_get(const char *url, int64_t timeout_ms, int *status, char **body,
    char *err, size_t errlen)
{
	struct client_get g = {0};
	struct evhttp_uri *uri;
	char path[1024];
	int rc = -1;

	*body = NULL;
	uri = evhttp_uri_parse(url);
	if (uri == NULL) {
		snprintf(err, errlen, "%s: not a URL", url);
		return -1;
	}
	if (client_parse_url(&g, uri, url, path, sizeof(path), err, errlen) ==
		0 &&
	    client_run(&g, timeout_ms, err, errlen) == 0) {
		*status = g.status;
		*body = g.body;
		g.body = NULL;
		rc = 0;
	}
	free(g.body);
	evhttp_uri_free(uri);
	return rc;
}

/* ---- readyd check ---- */

/* Name the failing checks of a health+json body into out. */
static void
client_summarize(const char *body, char *out, size_t outlen)
{
	json_t *root = json_loads(body, 0, NULL), *checks, *c;
	const char *name;
	size_t len = 0;

	out[0] = '\0';
	if (root == NULL)
		return;
	checks = json_object_get(root, "checks");
	json_object_foreach(checks, name, c)
	{
		const char *st =
		    json_string_value(json_object_get(c, "status"));
		const char *why =
		    json_string_value(json_object_get(c, "reason"));
		int n;

		if (st == NULL || strcmp(st, "pass") == 0)
			continue;
		n = snprintf(out + len, outlen - len, "%s%s=%s",
		    len ? " " : ": ", name, why ? why : st);
		if (n < 0 || (size_t)n >= outlen - len)
			break;
		len += (size_t)n;
	}
	json_decref(root);
}

void
client_listen_url(const char *host, int port, char *url, size_t urllen)
{
	struct in_addr a4;
	struct in6_addr a6;
	bool v6;

	if (host == NULL || host[0] == '\0' ||
	    (inet_pton(AF_INET, host, &a4) == 1 && a4.s_addr == INADDR_ANY))
		host = "127.0.0.1";
	else if (inet_pton(AF_INET6, host, &a6) == 1 &&
	    IN6_IS_ADDR_UNSPECIFIED(&a6))
		host = "::1";
	v6 = strchr(host, ':') != NULL;
	snprintf(url, urllen, "http://%s%s%s:%d/ready", v6 ? "[" : "", host,
	    v6 ? "]" : "", port);
}

/*
 * /ready at the address serve listens on: the configuration's [daemon]
 * listen (path as -c gives it, NULL: found as serve finds it). When the
 * configuration cannot tell, $READYD_LISTEN as a container sets it, else
 * 127.0.0.1:8080. Returns -1 with err filled only when path, named
 * explicitly, cannot be read.
 */
static int
client_default_url(
    const char *path, char *url, size_t urllen, char *err, size_t errlen)
{
	const char *env = getenv("READYD_LISTEN");
	char *host = NULL, perr[128];
	int port = 8080, rc;

	rc = config_load_listen(path, &host, &port, err, errlen);
	if (rc == -1 && path != NULL)
		return -1;
	if (rc != 0) {
		free(host);
		host = NULL;
		if (env == NULL ||
		    config_parse_listen(env, &host, &port, perr, sizeof(perr)) <
			0)
			port = 8080;
	}
	client_listen_url(host, port, url, urllen);
	free(host);
	return 0;
}

/* Pause ms on a loop of its own: the command has nothing else to do. */
static void
client_pause(int64_t ms)
{
	struct event_base *base = event_base_new();
	struct timeval tv = clock_tv(ms);

	if (base == NULL)
		return;
	if (event_base_loopexit(base, &tv) == 0)
		event_base_dispatch(base);
	event_base_free(base);
}

/*
 * One GET of url bounded by timeout_ms; the line that sums it up goes to
 * line. Returns 1 for HTTP 200, 0 for any other answer or none.
 */
static int
client_ask(const char *url, int64_t timeout_ms, char *line, size_t linelen)
{
	char err[256], summary[200];
	char *body = NULL;
	int status = 0;

	if (client_get(url, timeout_ms, &status, &body, err, sizeof(err)) < 0) {
		snprintf(line, linelen, "not ready: %s: %s", url, err);
		return 0;
	}
	client_summarize(body ? body : "", summary, sizeof(summary));
	free(body);
	if (status == 200) {
		snprintf(line, linelen, "ready: HTTP 200");
		return 1;
	}
	snprintf(line, linelen, "not ready: HTTP %d%s", status, summary);
	return 0;
}

/* Whether url is one client_get can ask; err says why not. */
static bool
client_url_ok(const char *url, char *err, size_t errlen)
{
	struct client_get g = {0};
	struct evhttp_uri *uri = evhttp_uri_parse(url);
	char path[1024];
	bool ok;

	if (uri == NULL) {
		snprintf(err, errlen, "%s: not a URL", url);
		return false;
	}
	ok = client_parse_url(&g, uri, url, path, sizeof(path), err, errlen) ==
	    0;
	evhttp_uri_free(uri);
	return ok;
}

int
client_check(const struct client_opts *o)
{
	char urlbuf[300], err[CONFIG_ERRLEN], line[600];
	const char *url = o->url;
	int64_t t0 = clock_mono_ms(), deadline = t0 + o->wait_ms, now, left;
	int attempts = 0, ready = 0;

	if (url == NULL) {
		if (client_default_url(o->config, urlbuf, sizeof(urlbuf), err,
			sizeof(err)) < 0) {
			printf("not ready: %s\n", err);
			return 1;
		}
		url = urlbuf;
	}
	if (!client_url_ok(url, err, sizeof(err))) {
		printf("not ready: %s\n", err);
		return 1;
	}
	for (;;) {
		int64_t started = clock_mono_ms(), budget = o->timeout_ms;

		if (o->wait_ms > 0 && deadline - started < budget)
			budget =
			    deadline - started > 0 ? deadline - started : 1;
		attempts++;
		ready = client_ask(url, budget, line, sizeof(line));
		now = clock_mono_ms();
		if (ready || o->wait_ms <= 0 || now >= deadline)
			break;
		/* at most one attempt a second, none after the deadline */
		left = started + CLIENT_WAIT_PERIOD_MS - now;
		if (left > deadline - now)
			left = deadline - now;
		if (left > 0)
			client_pause(left);
		if (clock_mono_ms() >= deadline)
			break;
	}
	if (o->wait_ms > 0)
		printf("%s (after %.1f s, %d attempt%s)\n", line,
		    (double)(clock_mono_ms() - t0) / 1000.0, attempts,
		    attempts == 1 ? "" : "s");
	else
		printf("%s\n", line);
	return ready ? 0 : 1;
}
