/* SPDX-License-Identifier: MIT */
/*
 * The HTTP server: routes, methods, status codes and limits. Answers come
 * from the scheduler's memory (DESIGN.md invariant 2).
 * Owns: struct http_server, the evhttp instance and its listener.
 */
#include "http.h"

#include "http_cache.h"

#include "clock.h"
#include "config.h"
#include "log.h"
#include "pgpoll.h"
#include "procstat.h"
#include "render.h"
#include "sched.h"
#include "verdict.h"

#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <event2/listener.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>

#define HTTP_TIMEOUT_S	       5    /* a request must arrive within */
#define HTTP_MAX_HEADERS       8192 /* bytes of request headers */
#define HTTP_MAX_BODY	       1024 /* bytes of request body */
#define HTTP_ACCEPT_PAUSE_MS   1000 /* listener pause after EMFILE */
#define HTTP_MAX_EXCLUDES      64
#define HTTP_BEAT_MS	       1000  /* heartbeat period */
#define HTTP_LIVE_LAG_MS       5000  /* /live fails when a beat is this late */
#define HTTP_MAX_LIFE_MS       20000 /* a connection is closed after */
#define HTTP_RESERVE_FDS       64    /* automatic max_clients: kept free */
#define HTTP_RESERVE_PER_CHECK 4     /* ...and for each check's probes */
#define HTTP_AUTO_MAX_CLIENTS  4096  /* automatic max_clients, at most */
#define HTTP_MIN_CLIENTS       4     /* ...and at least */
#define HTTP_FULL_POLL_MS      100   /* while full: look for closed ones */
#define HTTP_REAP_MIN	       16    /* accepts reap from this many on */

struct http_server {
	struct event_base *base;	 /* borrowed from main */
	struct evhttp *http;		 /* owned */
	struct evconnlistener *listener; /* owned by http */
	const struct config *cfg;	 /* borrowed from main */
	struct sched *s;		 /* borrowed from main */
	bool draining;			 /* /ready says 503 */
	struct event *beat;		 /* owned; the loop heartbeat */
	int64_t last_beat_ms;		 /* monotonic: its last beat */
	struct http_conn *conns;	 /* owned; client connections */
	size_t nconns, capconns;
	size_t reap_at; /* an accept reaps at this many (amortized O(1)) */
	struct http_cache *cache; /* owned; rendered bodies */
	size_t max_clients;	  /* connections at once */
	bool full;		  /* at max_clients: not accepting */
	struct event *full_timer; /* owned; while full */
	double start_time;	  /* the process's, read once (procstat) */
};

/*
 * A client connection's bufferevent, with a reference of ours so that it
 * outlives evhttp's bufferevent_free(): evhttp's timeout restarts with
 * every byte, so a client trickling one header line every few seconds
 * would hold a descriptor for hours; we close it after HTTP_MAX_LIFE_MS.
 */
struct http_conn {
	struct bufferevent *bev; /* referenced */
	int64_t born_ms;	 /* monotonic */
	bool closing;		 /* EOF triggered */
};

/* ---- helpers ---- */

/*
 * evhttp_uridecode(), refusing an encoded NUL: %00 would cut the text
 * short (/metrics%00x served as /metrics). NULL: bad input or no memory.
 */
static char *
http_uridecode(const char *s, int plus)
{
	size_t len;
	char *out = evhttp_uridecode(s, plus, &len);

	if (out != NULL && len != strlen(out)) {
		free(out);
		return NULL;
	}
	return out;
}

static bool
http_peer_is_local(struct evhttp_request *req)
{
	struct evhttp_connection *evcon = evhttp_request_get_connection(req);
	char *addr = NULL;
	ev_uint16_t port;

	if (evcon == NULL)
		return false;
	evhttp_connection_get_peer(evcon, &addr, &port);
	if (addr == NULL)
		return false;
	return strncmp(addr, "127.", 4) == 0 || strcmp(addr, "::1") == 0 ||
	    strncmp(addr, "::ffff:127.", 11) == 0;
}

/* Whether req may see error text, as [daemon] details says. */
static bool
http_wants_details(const struct http_server *h, struct evhttp_request *req)
{
	return h->cfg->details == CONFIG_DETAILS_ALL ||
	    (h->cfg->details == CONFIG_DETAILS_LOCAL &&
		http_peer_is_local(req));
}

static void
http_send(struct evhttp_request *req, int code, const char *reason,
    const char *ctype, struct evbuffer *body)
{
	struct evkeyvalq *hdr = evhttp_request_get_output_headers(req);
	char len[32];

	evhttp_add_header(hdr, "Cache-Control", "no-store");
	if (ctype != NULL)
		evhttp_add_header(hdr, "Content-Type", ctype);
	if (evhttp_request_get_command(req) == EVHTTP_REQ_HEAD) {
		/* evhttp would send a HEAD body: state the length, send none */
		snprintf(len, sizeof(len), "%zu", evbuffer_get_length(body));
		evhttp_add_header(hdr, "Content-Length", len);
		evbuffer_drain(body, evbuffer_get_length(body));
	}
	evhttp_send_reply(req, code, reason, body);
}

static void
http_send_text(
    struct evhttp_request *req, int code, const char *reason, const char *text)
{
	struct evbuffer *body = evbuffer_new();

	if (body == NULL) {
		evhttp_send_error(req, HTTP_INTERNAL, NULL);
		return;
	}
	evbuffer_add_printf(body, "%s\n", text);
	http_send(req, code, reason, "text/plain; charset=utf-8", body);
	evbuffer_free(body);
}

/* ---- query strings ---- */

/* What a /ready query may say: flags without "=" are allowed. */
struct http_query {
	bool verbose;		       /* ?verbose */
	char *excl[HTTP_MAX_EXCLUDES]; /* owned; ?exclude=NAME, decoded */
	size_t nexcl;		       /* entries in excl */
};

static void
http_query_free(struct http_query *q)
{
	for (size_t i = 0; i < q->nexcl; i++)
		free(q->excl[i]);
	q->nexcl = 0;
}

/* Parse raw ("verbose&exclude=a&exclude=b"); unknown keys are ignored. */
static int
http_query_parse(const char *raw, struct http_query *q)
{
	char *copy, *tok, *save = NULL;
	int rc = 0;

	memset(q, 0, sizeof(*q));
	if (raw == NULL)
		return 0;
	copy = strdup(raw);
	if (copy == NULL)
		return -1;
	for (tok = strtok_r(copy, "&", &save); tok != NULL;
	     tok = strtok_r(NULL, "&", &save)) {
		char *eq = strchr(tok, '=');
		char *val;

		if (eq != NULL)
			*eq = '\0';
		if (strcmp(tok, "verbose") == 0) {
			q->verbose = true;
			continue;
		}
		if (strcmp(tok, "exclude") != 0 || eq == NULL)
			continue;
		if (q->nexcl == HTTP_MAX_EXCLUDES) {
			rc = -1;
			break;
		}
		val = http_uridecode(eq + 1, 1);
		if (val == NULL) {
			rc = -1;
			break;
		}
		q->excl[q->nexcl++] = val;
	}
	free(copy);
	if (rc < 0)
		http_query_free(q);
	return rc;
}

/* ---- /ready ---- */

/*
 * The set /ready (name NULL), /ready/GROUP or /ready/CHECK is about, less
 * ?exclude. Returns -1 when name is neither a check nor a group.
 */
static int
http_ready_set(const struct http_server *h, const char *name,
    const struct http_query *q, size_t *one, bool *named,
    struct verdict_set *set)
{
	const struct config *cfg = h->cfg;
	int rc;

	memset(set, 0, sizeof(*set));
	set->excl = q->excl;
	set->nexcl = q->nexcl;
	set->draining = h->draining;
	set->grouped = cfg->grouped;
	if (name == NULL)
		return 0;
	if ((rc = config_find_group(cfg, name)) >= 0) {
		set->idx = cfg->groups[rc].checks;
		set->nidx = cfg->groups[rc].nchecks;
		return 0;
	}
	if ((rc = config_find_check(cfg, name)) >= 0) {
		/* a check asked for by name counts even when not required */
		*one = (size_t)rc;
		named[*one] = true;
		set->idx = one;
		set->nidx = 1;
		set->named = named;
		return 0;
	}
	return -1;
}

/* Render v's members into body, as JSON or (verbose) text. */
static int
http_ready_body(struct http_server *h, struct evhttp_request *req,
    const struct verdict *v, bool verbose, struct evbuffer *body)
{
	struct render_view rv = {.status = v->status};
	struct render_check *views;
	bool details;
	int rc;

	views = calloc(v->nmembers ? v->nmembers : 1, sizeof(*views));
	if (views == NULL)
		return -1;
	details = http_wants_details(h, req);
	for (size_t k = 0; k < v->nmembers; k++) {
		sched_view(h->s, v->members[k], details, &views[k]);
		views[k].not_needed = !v->counts[k];
	}
	rv.checks = views;
	rv.nchecks = v->nmembers;
	rc = verbose ? render_text(&rv, body) : render_json(&rv, body);
	free(views);
	return rc;
}

static void
http_ready(struct http_server *h, struct evhttp_request *req, const char *name,
    const struct http_query *q)
{
	struct verdict_set set;
	struct verdict v = {0};
	struct evbuffer *body = NULL;
	bool *named;
	size_t one = 0;
	bool ready;
	char key[320];

	sched_refresh(h->s);
	named = calloc(h->cfg->nchecks ? h->cfg->nchecks : 1, sizeof(*named));
	if (named == NULL)
		goto out_error;
	if (http_ready_set(h, name, q, &one, named, &set) < 0) {
		free(named);
		http_send_text(
		    req, HTTP_NOTFOUND, "Not Found", "unknown check or group");
		return;
	}
	body = evbuffer_new();
	if (body == NULL || sched_judge(h->s, &set, &v) < 0)
		goto out_error;
	/*
	 * The body depends only on the state (the scheduler's generation and
	 * figures), the set, the details shown and the format: rendered once
	 * per change, and at most once a second for latencies and last checks
	 * alone (http_cache.h). Sets with exclusions are rendered each time.
	 */
	if (set.nexcl == 0) {
		struct http_cache_stamp at = {.gen = sched_generation(h->s),
		    .figures = sched_figures(h->s),
		    .now_ms = clock_mono_ms()};

		snprintf(key, sizeof(key), "ready %d %d %d %s", (int)q->verbose,
		    (int)http_wants_details(h, req), (int)v.status,
		    name != NULL ? name : "");
		if (!http_cache_get(h->cache, key, &at, body)) {
			if (http_ready_body(h, req, &v, q->verbose, body) < 0)
				goto out_error;
			http_cache_put(h->cache, key, &at, body);
		}
	} else if (http_ready_body(h, req, &v, q->verbose, body) < 0) {
		goto out_error;
	}
	ready = verdict_status_is_ready(v.status);
	if (!ready) {
		char ra[32];

		snprintf(ra, sizeof(ra), "%lld", verdict_retry_after_s(&v));
		evhttp_add_header(
		    evhttp_request_get_output_headers(req), "Retry-After", ra);
	}
	http_send(req, ready ? HTTP_OK : HTTP_SERVUNAVAIL,
	    ready ? "OK" : "Service Unavailable",
	    q->verbose ? "text/plain; charset=utf-8"
		       : "application/health+json",
	    body);
	evbuffer_free(body);
	verdict_free(&v);
	free(named);
	return;

out_error:
	if (body != NULL)
		evbuffer_free(body);
	verdict_free(&v);
	free(named);
	evhttp_send_error(req, HTTP_INTERNAL, NULL);
}

/* ---- /metrics ---- */

/* Fill the groups' and the whole set's verdicts of m. */
static int
http_metrics_verdicts(struct http_server *h, struct render_metrics *m,
    struct render_group *groups)
{
	const struct config *cfg = h->cfg;
	struct verdict_set set = {
	    .draining = h->draining, .grouped = cfg->grouped};
	struct verdict v;

	if (sched_judge(h->s, &set, &v) < 0) {
		verdict_free(&v);
		return -1;
	}
	m->status = v.status;
	verdict_free(&v);
	for (size_t g = 0; g < cfg->ngroups; g++) {
		set.idx = cfg->groups[g].checks;
		set.nidx = cfg->groups[g].nchecks;
		if (sched_judge(h->s, &set, &v) < 0) {
			verdict_free(&v);
			return -1;
		}
		groups[g].name = cfg->groups[g].name;
		groups[g].status = v.status;
		verdict_free(&v);
	}
	return 0;
}

/*
 * Every check's snapshot (error text as details says) and every group's
 * verdict into m; the caller frees m->checks and m->groups with
 * http_snapshot_free(). Returns 0, or -1 when out of memory.
 */
static int
http_snapshot(struct http_server *h, bool details, struct render_metrics *m)
{
	const struct config *cfg = h->cfg;
	struct render_check *views;
	struct render_group *groups;

	views = calloc(cfg->nchecks ? cfg->nchecks : 1, sizeof(*views));
	groups = calloc(cfg->ngroups ? cfg->ngroups : 1, sizeof(*groups));
	m->checks = views;
	m->groups = groups;
	if (views == NULL || groups == NULL)
		return -1;
	for (size_t i = 0; i < cfg->nchecks; i++)
		sched_view(h->s, i, details, &views[i]);
	if (http_metrics_verdicts(h, m, groups) < 0)
		return -1;
	m->nchecks = cfg->nchecks;
	m->ngroups = cfg->ngroups;
	return 0;
}

static void
http_snapshot_free(struct render_metrics *m)
{
	free((void *)m->checks);
	free((void *)m->groups);
}

static void
http_metrics(struct http_server *h, struct evhttp_request *req)
{
	struct render_metrics m = {.version = READYD_VERSION};
	struct procstat ps;
	struct evbuffer *body;
	const char *key = h->draining ? "metrics draining" : "metrics";
	struct http_cache_stamp at;

	sched_refresh(h->s);
	body = evbuffer_new();
	if (body == NULL)
		goto out_error;
	/*
	 * Counters and the lag histogram (per timer) are figures: both only
	 * grow, so their sum changes with either.
	 */
	m.lag = sched_lag(h->s);
	at = (struct http_cache_stamp){.gen = sched_generation(h->s),
	    .figures = sched_figures(h->s) + m.lag->count,
	    .now_ms = clock_mono_ms()};
	if (http_cache_get(h->cache, key, &at, body))
		goto out_send;
	if (http_snapshot(h, false, &m) < 0 || render_prom(&m, body) < 0)
		goto out_error;
	http_cache_put(h->cache, key, &at, body);
out_send:
	procstat_read(&ps);
	ps.start_time = h->start_time;
	ps.login_workers = pgpoll_threads();
	ps.login_steps = (int64_t)pgpoll_steps();
	ps.login_abandoned = (int64_t)pgpoll_abandoned();
	if (render_prom_process(&ps, body) < 0)
		goto out_error;
	http_send(req, HTTP_OK, "OK",
	    "text/plain; version=0.0.4; charset=utf-8", body);
	evbuffer_free(body);
	http_snapshot_free(&m);
	return;

out_error:
	if (body != NULL)
		evbuffer_free(body);
	http_snapshot_free(&m);
	evhttp_send_error(req, HTTP_INTERNAL, NULL);
}

/* ---- the status page ---- */

/*
 * GET /status and /: the HTML page, rendered from memory like /ready,
 * with error text as [daemon] details allows it for this client. Not
 * cached: it shows how long ago things changed.
 */
static void
http_status_page(struct http_server *h, struct evhttp_request *req)
{
	struct evkeyvalq *hdr = evhttp_request_get_output_headers(req);
	struct render_metrics m = {0};
	struct render_page page = {
	    .version = READYD_VERSION, .draining = h->draining};
	struct evbuffer *body;

	sched_refresh(h->s);
	body = evbuffer_new();
	if (body == NULL ||
	    http_snapshot(h, http_wants_details(h, req), &m) < 0)
		goto out_error;
	page.checks = m.checks;
	page.nchecks = m.nchecks;
	page.groups = m.groups;
	page.ngroups = m.ngroups;
	page.status = m.status;
	page.now = time(NULL);
	if (render_html(&page, body) < 0)
		goto out_error;
	/* no script, no asset from elsewhere: say so to the browser */
	evhttp_add_header(hdr, "Content-Security-Policy",
	    "default-src 'none'; style-src 'unsafe-inline'; "
	    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'");
	evhttp_add_header(hdr, "X-Content-Type-Options", "nosniff");
	http_send(req, HTTP_OK, "OK", "text/html; charset=utf-8", body);
	evbuffer_free(body);
	http_snapshot_free(&m);
	return;

out_error:
	if (body != NULL)
		evbuffer_free(body);
	http_snapshot_free(&m);
	evhttp_send_error(req, HTTP_INTERNAL, NULL);
}

/* ---- /live ---- */

/*
 * Drop our reference to the connections evhttp has freed (it clears the
 * callbacks then), and with close_old, end those older than
 * HTTP_MAX_LIFE_MS as if the client had gone: evhttp frees them.
 */
static void
http_reap(struct http_server *h, bool close_old)
{
	int64_t now = clock_mono_ms();
	size_t k = 0;

	for (size_t i = 0; i < h->nconns; i++) {
		struct http_conn *c = &h->conns[i];
		bufferevent_event_cb ecb = NULL;

		bufferevent_getcb(c->bev, NULL, NULL, &ecb, NULL);
		if (ecb == NULL) {
			bufferevent_decref(c->bev); /* closes the socket */
			continue;
		}
		if (close_old && !c->closing &&
		    now - c->born_ms > HTTP_MAX_LIFE_MS) {
			c->closing = true;
			bufferevent_trigger_event(
			    c->bev, BEV_EVENT_EOF | BEV_EVENT_READING, 0);
		}
		h->conns[k++] = *c;
	}
	h->nconns = k;
	/*
	 * The next accept reaps when the table has doubled: a scan of n
	 * entries per n/2 accepts, not one per accept (5,000 clients made
	 * that quadratic). The beat reaps every second anyway.
	 */
	h->reap_at = k * 2 > HTTP_REAP_MIN ? k * 2 : HTTP_REAP_MIN;
}

/* ---- max_clients: descriptors kept for the probes ---- */

size_t
http_max_clients(const struct config *cfg)
{
	struct rlimit rl;
	rlim_t reserve =
	    HTTP_RESERVE_FDS + (rlim_t)cfg->nchecks * HTTP_RESERVE_PER_CHECK;

	if (cfg->max_clients > 0)
		return (size_t)cfg->max_clients;
	if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY)
		return HTTP_AUTO_MAX_CLIENTS;
	if (rl.rlim_cur < reserve + HTTP_MIN_CLIENTS)
		return HTTP_MIN_CLIENTS;
	if (rl.rlim_cur - reserve > HTTP_AUTO_MAX_CLIENTS)
		return HTTP_AUTO_MAX_CLIENTS;
	return (size_t)(rl.rlim_cur - reserve);
}

/*
 * At max_clients open connections, stop accepting (the kernel queues new
 * ones) until one closes: the descriptors left are the probes'. Logged
 * once an episode.
 */
static void
http_check_full(struct http_server *h)
{
	struct timeval tv = clock_tv(HTTP_FULL_POLL_MS);

	if (h->nconns < h->max_clients || h->listener == NULL)
		return;
	evconnlistener_disable(h->listener);
	if (h->full)
		return;
	h->full = true;
	log_warn(
	    "http: %zu clients open (max_clients): pausing the listener until one closes",
	    h->nconns);
	if (event_add(h->full_timer, &tv) != 0)
		log_error("http: cannot start the max_clients timer");
}

/* While full: drop closed connections; accept again below the cap. */
static void
http_full_cb(evutil_socket_t fd, short what, void *arg)
{
	struct http_server *h = arg;

	(void)fd;
	(void)what;
	http_reap(h, false);
	if (h->nconns >= h->max_clients) {
		/* an EMFILE pause may have ended meanwhile: still full */
		evconnlistener_disable(h->listener);
		return;
	}
	h->full = false;
	event_del(h->full_timer);
	evconnlistener_enable(h->listener);
	log_info("http: %zu clients open: accepting again", h->nconns);
}

static struct bufferevent *
http_bev_cb(struct event_base *base, void *arg)
{
	struct http_server *h = arg;
	struct bufferevent *bev;

	/*
	 * Before adding (a new one has no callbacks yet: http_reap would
	 * take it for freed): when the table has doubled, or when this one
	 * would reach max_clients (closed ones must not count then).
	 */
	if (h->nconns >= h->reap_at || h->nconns + 1 >= h->max_clients)
		http_reap(h, false);
	bev = bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE);
	if (bev == NULL)
		return NULL; /* evhttp makes its own */
	if (h->nconns == h->capconns) {
		size_t cap = h->capconns ? h->capconns * 2 : 64;
		struct http_conn *n = realloc(h->conns, cap * sizeof(*n));

		if (n == NULL)
			return bev; /* served, just not aged */
		h->conns = n;
		h->capconns = cap;
	}
	bufferevent_incref(bev);
	h->conns[h->nconns++] =
	    (struct http_conn){.bev = bev, .born_ms = clock_mono_ms()};
	http_check_full(h);
	return bev;
}

static void
http_beat_cb(evutil_socket_t fd, short what, void *arg)
{
	struct http_server *h = arg;

	(void)fd;
	(void)what;
	h->last_beat_ms = clock_mono_ms();
	http_reap(h, true);
}

/*
 * 200 while the loop runs. A heartbeat that is late means the loop was
 * wedged, and readyd's own lasting trouble (sched_local_trouble()) means
 * it cannot probe: say so, and let the supervisor restart readyd.
 */
static void
http_live(struct http_server *h, struct evhttp_request *req)
{
	int64_t lag = clock_mono_ms() - h->last_beat_ms - HTTP_BEAT_MS;
	char msg[160];

	if (sched_local_trouble(h->s, clock_mono_ms())) {
		snprintf(msg, sizeof(msg),
		    "readyd's own trouble: a check's probes could not start for %ds (reason local: out of descriptors or memory)",
		    SCHED_LOCAL_LIVE_MS / 1000);
		http_send_text(
		    req, HTTP_SERVUNAVAIL, "Service Unavailable", msg);
		return;
	}
	if (lag > HTTP_LIVE_LAG_MS) {
		snprintf(msg, sizeof(msg),
		    "event loop stalled: heartbeat %lldms late",
		    (long long)lag);
		http_send_text(
		    req, HTTP_SERVUNAVAIL, "Service Unavailable", msg);
		return;
	}
	http_send_text(req, HTTP_OK, "OK", "ok");
}

/* ---- routing ---- */

static void
http_request_cb(struct evhttp_request *req, void *arg)
{
	struct http_server *h = arg;
	const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
	enum evhttp_cmd_type cmd = evhttp_request_get_command(req);
	struct http_query query;
	const char *rawpath, *name = NULL;
	char *path;

	if (cmd != EVHTTP_REQ_GET && cmd != EVHTTP_REQ_HEAD) {
		evhttp_add_header(evhttp_request_get_output_headers(req),
		    "Allow", "GET, HEAD");
		http_send_text(
		    req, 405, "Method Not Allowed", "method not allowed");
		return;
	}
	rawpath = uri != NULL ? evhttp_uri_get_path(uri) : NULL;
	if (rawpath == NULL || rawpath[0] == '\0')
		rawpath = "/";
	path = http_uridecode(rawpath, 0);
	if (path == NULL) {
		http_send_text(req, HTTP_BADREQUEST, "Bad Request", "bad path");
		return;
	}
	if (http_query_parse(
		uri != NULL ? evhttp_uri_get_query(uri) : NULL, &query) < 0) {
		free(path);
		http_send_text(
		    req, HTTP_BADREQUEST, "Bad Request", "bad query string");
		return;
	}

	if (strcmp(path, "/live") == 0 || strcmp(path, "/livez") == 0) {
		http_live(h, req);
	} else if (strcmp(path, "/metrics") == 0) {
		http_metrics(h, req);
	} else if (strcmp(path, "/status") == 0 || strcmp(path, "/") == 0) {
		http_status_page(h, req);
	} else if (strcmp(path, "/ready") == 0 ||
	    strcmp(path, "/readyz") == 0) {
		http_ready(h, req, NULL, &query);
	} else if (strncmp(path, "/ready/", 7) == 0 ||
	    strncmp(path, "/readyz/", 8) == 0) {
		name = strchr(path + 1, '/') + 1;
		if (*name == '\0' || strchr(name, '/') != NULL)
			http_send_text(
			    req, HTTP_NOTFOUND, "Not Found", "not found");
		else
			http_ready(h, req, name, &query);
	} else {
		http_send_text(req, HTTP_NOTFOUND, "Not Found", "not found");
	}
	http_query_free(&query);
	free(path);
}

/* ---- running out of descriptors ---- */

static void
http_resume_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	evconnlistener_enable(arg);
}

/*
 * accept() failed (EMFILE, ENFILE, ENOBUFS...): evhttp would retry at
 * once, forever, spinning the CPU. Pause the listener and retry shortly.
 * The callback's argument is evhttp's, not ours: the listener is enough.
 */
static void
http_accept_error_cb(struct evconnlistener *lev, void *arg)
{
	struct timeval tv = clock_tv(HTTP_ACCEPT_PAUSE_MS);
	int e = EVUTIL_SOCKET_ERROR();

	(void)arg;
	evconnlistener_disable(lev);
	log_warn("http: accept: %s; pausing the listener for %dms",
	    evutil_socket_error_to_string(e), HTTP_ACCEPT_PAUSE_MS);
	if (event_base_once(evconnlistener_get_base(lev), -1, EV_TIMEOUT,
		http_resume_cb, lev, &tv) != 0)
		evconnlistener_enable(lev);
}

/* ---- lifecycle ---- */

struct http_server *
http_new(struct event_base *base, const char *host, int port,
    const struct config *cfg, struct sched *s, char *err, size_t errlen)
{
	struct evhttp_bound_socket *bound;
	struct http_server *h;

	h = calloc(1, sizeof(*h));
	if (h == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	h->base = base;
	h->cfg = cfg;
	h->start_time = procstat_start_time();
	h->s = s;
	h->http = evhttp_new(base);
	h->beat = event_new(base, -1, EV_PERSIST, http_beat_cb, h);
	h->cache = http_cache_new();
	h->full_timer = event_new(base, -1, EV_PERSIST, http_full_cb, h);
	h->max_clients = http_max_clients(cfg);
	if (h->http == NULL || h->beat == NULL || h->full_timer == NULL ||
	    h->cache == NULL) {
		snprintf(err, errlen, "out of memory");
		goto out_free;
	}
	/*
	 * Every method reaches us, so that we answer 405 with Allow, not
	 * 501; all bits, so that unknown methods (PROPFIND, FOO) do too.
	 */
	evhttp_set_allowed_methods(h->http, 0xffff);
	evhttp_set_timeout(h->http, HTTP_TIMEOUT_S);
	evhttp_set_max_headers_size(h->http, HTTP_MAX_HEADERS);
	evhttp_set_max_body_size(h->http, HTTP_MAX_BODY);
	evhttp_set_gencb(h->http, http_request_cb, h);
	evhttp_set_bevcb(h->http, http_bev_cb, h);
	bound =
	    evhttp_bind_socket_with_handle(h->http, host, (ev_uint16_t)port);
	if (bound == NULL) {
		snprintf(err, errlen, "listen %s:%d: cannot bind: %s", host,
		    port, strerror(errno));
		goto out_free;
	}
	h->listener = evhttp_bound_socket_get_listener(bound);
	evconnlistener_set_error_cb(h->listener, http_accept_error_cb);
	/*
	 * Clients inherit TCP_NODELAY: a body of more than one segment
	 * (/ready with hundreds of checks) must not wait for a delayed ACK
	 * behind Nagle, 40 ms a request on a kept-alive connection.
	 */
	if (setsockopt(evhttp_bound_socket_get_fd(bound), IPPROTO_TCP,
		TCP_NODELAY, &(int){1}, sizeof(int)) != 0)
		log_warn("http: cannot set TCP_NODELAY: %s", strerror(errno));
	{
		struct timeval tv = clock_tv(HTTP_BEAT_MS);

		h->last_beat_ms = clock_mono_ms();
		if (event_add(h->beat, &tv) != 0) {
			snprintf(err, errlen, "cannot start the heartbeat");
			goto out_free;
		}
	}
	return h;

out_free:
	http_free(h);
	return NULL;
}

void
http_set_source(
    struct http_server *h, const struct config *cfg, struct sched *s)
{
	h->cfg = cfg;
	h->s = s;
	http_cache_clear(h->cache); /* a new scheduler counts afresh */
	h->max_clients = http_max_clients(cfg);
	http_check_full(h);
}

void
http_set_draining(struct http_server *h, bool draining)
{
	h->draining = draining;
}

void
http_free(struct http_server *h)
{
	if (h == NULL)
		return;
	if (h->http != NULL)
		evhttp_free(h->http); /* frees its connections */
	for (size_t i = 0; i < h->nconns; i++)
		bufferevent_decref(h->conns[i].bev);
	free(h->conns);
	if (h->beat != NULL)
		event_free(h->beat);
	http_cache_free(h->cache);
	if (h->full_timer != NULL)
		event_free(h->full_timer);
	free(h);
}
