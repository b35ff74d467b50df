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
	struct evdns_getaddrinfo_request *req; /* owned by evdns */
	resolve_done_fn *done;		       /* from the caller */
	void *arg;			       /* for done */
	bool starting;			       /* inside evdns_getaddrinfo() */
	bool finished;		    /* answered during evdns_getaddrinfo() */
	bool cancelled;		    /* the caller gave up; free on callback */
	char addr[RESOLVE_ADDRLEN]; /* answer when finished */
	char errstr[128];	    /* error when finished */
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
	/*
	 * An A answer without its AAAA twin would wait 3 s (the default
	 * skew) for a record we use only when there is no IPv4 address.
	 */
	evdns_base_set_option(r->dns, "getaddrinfo-allow-skew:", "0.3");
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

static void
resolve_cb(int code, struct evutil_addrinfo *res, void *arg)
{
	struct resolve_req *rq = arg;
	const char *addr = NULL, *errstr = NULL;

	rq->req = NULL;
	if (rq->cancelled) {
		if (res != NULL)
			evutil_freeaddrinfo(res);
		free(rq);
		return;
	}
	if (code != 0 || res == NULL) {
		snprintf(rq->errstr, sizeof(rq->errstr), "%s",
		    resolve_strerror(code ? code : EVUTIL_EAI_NODATA));
		errstr = rq->errstr;
	} else {
		const void *sa = NULL;
		struct evutil_addrinfo *ai, *pick = res;

		/* prefer IPv4, as the services' own clients mostly do */
		for (ai = res; ai != NULL; ai = ai->ai_next)
			if (ai->ai_family == AF_INET) {
				pick = ai;
				break;
			}
		if (pick->ai_family == AF_INET)
			sa = &((struct sockaddr_in *)(void *)pick->ai_addr)
				  ->sin_addr;
		else if (pick->ai_family == AF_INET6)
			sa = &((struct sockaddr_in6 *)(void *)pick->ai_addr)
				  ->sin6_addr;
		if (sa == NULL ||
		    evutil_inet_ntop(pick->ai_family, sa, rq->addr,
			sizeof(rq->addr)) == NULL) {
			snprintf(rq->errstr, sizeof(rq->errstr),
			    "unusable address family %d", pick->ai_family);
			errstr = rq->errstr;
		} else {
			addr = rq->addr;
		}
	}
	if (res != NULL)
		evutil_freeaddrinfo(res);
	if (rq->starting) {
		/* answered inside evdns_getaddrinfo(): resolve_start reports */
		rq->finished = true;
		if (errstr == NULL)
			rq->errstr[0] = '\0';
		return;
	}
	{
		resolve_done_fn *done = rq->done;
		void *darg = rq->arg;
		char abuf[RESOLVE_ADDRLEN], ebuf[128];

		/* copy out: free before done(), which may start a new lookup */
		snprintf(abuf, sizeof(abuf), "%s", addr ? addr : "");
		snprintf(ebuf, sizeof(ebuf), "%s", errstr ? errstr : "");
		free(rq);
		done(addr ? abuf : NULL, errstr ? ebuf : NULL, darg);
	}
}

int
resolve_start(struct resolver *r, const char *host, char *addr,
    resolve_done_fn *done, void *arg, struct resolve_req **reqp, char *err,
    size_t errlen)
{
	struct evutil_addrinfo hints;
	struct resolve_req *rq;
	unsigned char buf[sizeof(struct in6_addr)];

	*reqp = NULL;
	if (inet_pton(AF_INET, host, buf) == 1 ||
	    inet_pton(AF_INET6, host, buf) == 1) {
		snprintf(addr, RESOLVE_ADDRLEN, "%s", host);
		return 1;
	}
	rq = calloc(1, sizeof(*rq));
	if (rq == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	rq->done = done;
	rq->arg = arg;
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_protocol = IPPROTO_TCP;
	rq->starting = true;
	rq->req = evdns_getaddrinfo(r->dns, host, NULL, &hints, resolve_cb, rq);
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
	if (rq->req == NULL) {
		snprintf(err, errlen, "lookup could not start");
		free(rq);
		return -1;
	}
	*reqp = rq;
	return 0;
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
