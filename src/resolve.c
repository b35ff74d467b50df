/* SPDX-License-Identifier: MIT */
/*
 * Name lookups on the event loop with evdns_getaddrinfo(), never the
 * blocking getaddrinfo().
 * Owns: the evdns base and every lookup in flight.
 */
#include "resolve.h"

#include "log.h"

#include <arpa/inet.h>
#include <errno.h>
#include <event2/dns.h>
#include <event2/event.h>
#include <event2/util.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

struct resolver {
	struct event_base *base; /* borrowed */
	struct evdns_base *dns;	 /* owned */
};

struct resolve_req {
	struct resolver *r;		       /* borrowed */
	struct evdns_getaddrinfo_request *req; /* owned by evdns */
	resolve_done_fn *done;		       /* from the caller */
	void *arg;			       /* for done */
	int family;			       /* AF_INET, then AF_INET6 */
	bool starting;			       /* inside evdns_getaddrinfo() */
	bool finished;		    /* answered during evdns_getaddrinfo() */
	bool cancelled;		    /* the caller gave up; free on callback */
	char host[256];		    /* the name looked up */
	char addr[RESOLVE_ADDRLEN]; /* answer when finished */
	char errstr[128];	    /* error when finished; "" on success */
	char a_err[128];	    /* why the A lookup failed, or "" */
};

struct resolver *
resolve_new(struct event_base *base, char *err, size_t errlen)
{
	struct resolver *r;
	int rc;

	r = calloc(1, sizeof(*r));
	if (r == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	/*
	 * Without INITIALIZE_NAMESERVERS, evdns_base_new() cannot fail on a
	 * resolv.conf with no nameserver; we parse it ourselves.
	 */
	r->base = base;
	r->dns = evdns_base_new(base, EVDNS_BASE_DISABLE_WHEN_INACTIVE);
	if (r->dns == NULL) {
		snprintf(err, errlen, "evdns_base_new failed");
		free(r);
		return NULL;
	}
	rc = evdns_base_resolv_conf_parse(
	    r->dns, DNS_OPTIONS_ALL, "/etc/resolv.conf");
	if (rc == 1)
		log_warn("/etc/resolv.conf: cannot read; only /etc/hosts "
			 "and numeric addresses will resolve");
	else if (rc == 6)
		log_warn("/etc/resolv.conf: no nameserver; only /etc/hosts "
			 "and numeric addresses will resolve");
	else if (rc != 0)
		log_warn("/etc/resolv.conf: parse error %d", rc);
	if (evdns_base_load_hosts(r->dns, NULL) != 0)
		log_warn("/etc/hosts: cannot read");
	/* the probe deadline bounds the lookup; retry a lost packet once */
	evdns_base_set_option(r->dns, "timeout:", "2");
	evdns_base_set_option(r->dns, "attempts:", "2");
	return r;
}

void
resolve_free(struct resolver *r)
{
	if (r == NULL)
		return;
	/*
	 * evdns_getaddrinfo_cancel() defers the cancelled request's callback,
	 * which still reads the evdns base: run it first. With fail_requests
	 * = 1 any request still pending fails here.
	 */
	event_base_loop(r->base, EVLOOP_NONBLOCK);
	evdns_base_free(r->dns, 1);
	free(r);
}

static const char *
resolve_strerror(int code)
{
	switch (code) {
	case EVUTIL_EAI_NONAME:
		return "name not found";
	case EVUTIL_EAI_AGAIN:
		return "temporary failure (no answer from nameserver)";
	case EVUTIL_EAI_FAIL:
		return "nameserver failure";
	case EVUTIL_EAI_NODATA:
		return "no address for name";
	case EVUTIL_EAI_CANCEL:
		return "cancelled";
	default:
		return evutil_gai_strerror(code);
	}
}

/*
 * Store the outcome of one query in rq: the address (IPv4 preferred) or
 * the error text. Returns whether an address was found.
 */
static bool
resolve_take(struct resolve_req *rq, int code, struct evutil_addrinfo *res)
{
	const struct evutil_addrinfo *ai, *pick = res;
	const void *sa = NULL;

	rq->addr[0] = '\0';
	rq->errstr[0] = '\0';
	if (code != 0 || res == NULL) {
		snprintf(rq->errstr, sizeof(rq->errstr), "%s",
		    resolve_strerror(code ? code : EVUTIL_EAI_NODATA));
		return false;
	}
	for (ai = res; ai != NULL; ai = ai->ai_next)
		if (ai->ai_family == AF_INET) {
			pick = ai;
			break;
		}
	if (pick->ai_family == AF_INET)
		sa = &((struct sockaddr_in *)(void *)pick->ai_addr)->sin_addr;
	else if (pick->ai_family == AF_INET6)
		sa = &((struct sockaddr_in6 *)(void *)pick->ai_addr)->sin6_addr;
	if (sa == NULL ||
	    evutil_inet_ntop(pick->ai_family, sa, rq->addr, sizeof(rq->addr)) ==
		NULL) {
		rq->addr[0] = '\0';
		snprintf(rq->errstr, sizeof(rq->errstr),
		    "unusable address family %d", pick->ai_family);
		return false;
	}
	return true;
}

static void resolve_cb(int code, struct evutil_addrinfo *res, void *arg);

/*
 * Send rq's query for rq->family. When evdns answers inside the call,
 * rq->finished is set and the outcome is in rq. Returns -1 when the query
 * could not start (rq->errstr says so).
 */
static int
resolve_query(struct resolve_req *rq)
{
	struct evutil_addrinfo hints;
	struct evdns_getaddrinfo_request *req;
	bool was_starting = rq->starting;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = rq->family;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_protocol = IPPROTO_TCP;
	rq->finished = false;
	rq->req = NULL;
	rq->starting = true;
	req = evdns_getaddrinfo(
	    rq->r->dns, rq->host, NULL, &hints, resolve_cb, rq);
	rq->starting = was_starting;
	if (rq->finished)
		return 0;
	if (req == NULL) {
		if (rq->req != NULL)
			return 0; /* answered at once by starting the AAAA query */
		snprintf(
		    rq->errstr, sizeof(rq->errstr), "lookup could not start");
		rq->finished = true;
		return -1;
	}
	rq->req = req;
	return 0;
}

/* Report rq's outcome to its caller and free it. */
static void
resolve_deliver(struct resolve_req *rq)
{
	resolve_done_fn *done = rq->done;
	void *darg = rq->arg;
	char abuf[RESOLVE_ADDRLEN], ebuf[128];
	bool ok = rq->errstr[0] == '\0';

	/* copy out: free before done(), which may start a new lookup */
	snprintf(abuf, sizeof(abuf), "%s", rq->addr);
	snprintf(ebuf, sizeof(ebuf), "%s", rq->errstr);
	free(rq);
	done(ok ? abuf : NULL, ok ? NULL : ebuf, darg);
}

/*
 * One query's answer. The A record is asked first and alone: IPv4 is what
 * the services' own clients mostly use, and asking A and AAAA together
 * makes evdns fail the whole lookup when the second answer comes later
 * than its skew (a slow A answer after an empty AAAA one). Only a name
 * with no usable A answer is asked for AAAA.
 */
static void
resolve_cb(int code, struct evutil_addrinfo *res, void *arg)
{
	struct resolve_req *rq = arg;
	bool found;

	rq->req = NULL;
	if (rq->cancelled) {
		if (res != NULL)
			evutil_freeaddrinfo(res);
		free(rq);
		return;
	}
	found = resolve_take(rq, code, res);
	if (res != NULL)
		evutil_freeaddrinfo(res);
	if (!found && rq->family == AF_INET && code != EVUTIL_EAI_NONAME &&
	    code != EVUTIL_EAI_CANCEL) {
		if (code != EVUTIL_EAI_NODATA)
			snprintf(
			    rq->a_err, sizeof(rq->a_err), "%s", rq->errstr);
		rq->family = AF_INET6;
		if (resolve_query(rq) == 0 && !rq->finished)
			return; /* resolve_cb comes again */
		/* answered inside the call (rq holds it) or could not start */
		found = rq->errstr[0] == '\0';
	}
	if (!found && rq->a_err[0] != '\0') {
		/* the AAAA lookup failed too: the A lookup's error says more */
		snprintf(rq->errstr, sizeof(rq->errstr), "%s", rq->a_err);
	}
	if (rq->starting) {
		/* answered inside evdns_getaddrinfo(): the caller reports */
		rq->finished = true;
		return;
	}
	resolve_deliver(rq);
}

int
resolve_start(struct resolver *r, const char *host, char *addr,
    resolve_done_fn *done, void *arg, struct resolve_req **reqp, char *err,
    size_t errlen)
{
	struct resolve_req *rq;
	unsigned char buf[sizeof(struct in6_addr)];

	*reqp = NULL;
	if (inet_pton(AF_INET, host, buf) == 1 ||
	    inet_pton(AF_INET6, host, buf) == 1) {
		snprintf(addr, RESOLVE_ADDRLEN, "%s", host);
		return 1;
	}
	if (strlen(host) >= sizeof(rq->host)) {
		snprintf(err, errlen, "name too long");
		return -1;
	}
	rq = calloc(1, sizeof(*rq));
	if (rq == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	rq->r = r;
	rq->done = done;
	rq->arg = arg;
	rq->family = AF_INET;
	snprintf(rq->host, sizeof(rq->host), "%s", host);
	rq->starting = true;
	(void)resolve_query(rq);
	rq->starting = false;
	if (rq->finished) {
		int rc = 1;

		if (rq->errstr[0] != '\0') {
			snprintf(err, errlen, "%s", rq->errstr);
			rc = -1;
		} else {
			snprintf(addr, RESOLVE_ADDRLEN, "%s", rq->addr);
		}
		free(rq);
		return rc;
	}
	*reqp = rq;
	return 0;
}

void
resolve_set_arg(struct resolve_req *rq, void *arg)
{
	if (rq != NULL)
		rq->arg = arg;
}

void
resolve_cancel(struct resolve_req *rq)
{
	if (rq == NULL)
		return;
	rq->cancelled = true;
	if (rq->req != NULL)
		evdns_getaddrinfo_cancel(rq->req); /* resolve_cb frees rq */
}
