/* SPDX-License-Identifier: MIT */
/*
 * TCP probe: a non-blocking connect to host:port on the event loop, for
 * any service of a stack without a protocol of its own here. With watch,
 * the connection stays open and a close by the peer is a loss.
 * Owns: struct tcp_check and struct tcp_watch, and their sockets.
 */
#include "probe.h"

#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <event2/event.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

struct tcp_check {
	struct probe *p;  /* borrowed from sched */
	struct event *ev; /* owned; fires when the connect ends */
	int fd;		  /* owned */
};

/* A connection kept open and idle after a success, to see it drop. */
struct tcp_watch {
	struct probe *p;  /* borrowed from sched */
	struct event *ev; /* owned; fires when the peer sends or closes */
	int fd;		  /* owned */
};

static enum probe_status
tcp_classify(int err)
{
	if (probe_errno_is_local(err))
		return PROBE_LOCAL; /* readyd's own trouble */
	switch (err) {
	case ECONNREFUSED:
		return PROBE_REFUSED;
	case ETIMEDOUT:
		return PROBE_TIMEOUT;
	default:
		return PROBE_IO;
	}
}

/* ---- the watched connection ---- */

static void
tcp_watch_free(struct tcp_watch *w)
{
	event_free(w->ev);
	close(w->fd);
	free(w);
}

static void
tcp_unwatch(struct probe *p)
{
	struct tcp_watch *w = p->watch;

	if (w == NULL)
		return;
	p->watch = NULL;
	tcp_watch_free(w);
}

/* The peer sent something (ignored) or closed the connection (lost). */
static void
tcp_watch_cb(evutil_socket_t fd, short what, void *arg)
{
	struct tcp_watch *w = arg;
	struct probe *p = w->p;
	char buf[512];
	ssize_t n;

	(void)what;
	do
		n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
	while (n > 0 || (n < 0 && errno == EINTR));
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
		return; /* still open */
	p->watch = NULL;
	tcp_watch_free(w);
	p->lost(p); /* last: p may be gone */
}

/* Keep fd open and idle after a success; 0 if it is now watched. */
static int
tcp_watch_start(struct probe *p, int fd)
{
	struct tcp_watch *w;

	if (!p->keep)
		return -1;
	tcp_unwatch(p); /* the fresh connection replaces it */
	w = calloc(1, sizeof(*w));
	if (w == NULL)
		return -1;
	w->p = p;
	w->fd = fd;
	w->ev = event_new(p->base, fd, EV_READ | EV_PERSIST, tcp_watch_cb, w);
	if (w->ev == NULL || event_add(w->ev, NULL) != 0) {
		if (w->ev != NULL)
			event_free(w->ev);
		free(w);
		return -1;
	}
	p->watch = w;
	return 0;
}

/* ---- the attempt ---- */

static void
tcp_connect_cb(evutil_socket_t fd, short what, void *arg)
{
	struct tcp_check *tc = arg;
	struct probe *p = tc->p;
	enum probe_status st = PROBE_OK;
	socklen_t len = sizeof(int);
	int err = 0;

	(void)what;
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
		err = errno;
	if (err != 0) {
		st = tcp_classify(err);
		probe_seterr(p, "connect: %s port %d: %s", p->addr,
		    p->cfg->port, strerror(err));
	}
	event_free(tc->ev);
	if (st != PROBE_OK || tcp_watch_start(p, tc->fd) < 0)
		close(tc->fd);
	p->priv = NULL;
	free(tc);
	p->done(p, st); /* last: p may be gone */
}

/* p->addr and the port as a socket address; the length, or 0. */
static socklen_t
tcp_sockaddr(const struct probe *p, struct sockaddr_storage *ss)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, p->addr, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)p->cfg->port);
		return sizeof(*sin);
	}
	if (inet_pton(AF_INET6, p->addr, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((uint16_t)p->cfg->port);
		return sizeof(*sin6);
	}
	return 0;
}

static int
tcp_fail(struct probe *p, int fd, int err, const char *step)
{
	p->status = tcp_classify(err);
	probe_seterr(p, "%s: %s port %d: %s", step, p->addr, p->cfg->port,
	    strerror(err));
	if (fd >= 0)
		close(fd);
	return -1;
}

static int
tcp_start(struct probe *p)
{
	struct sockaddr_storage ss;
	struct tcp_check *tc;
	socklen_t sslen = tcp_sockaddr(p, &ss);
	int fd;

	if (sslen == 0)
		return tcp_fail(p, -1, EINVAL, "connect");
	fd =
	    socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return tcp_fail(p, -1, errno, "socket");
	if (connect(fd, (struct sockaddr *)&ss, sslen) < 0 &&
	    errno != EINPROGRESS)
		return tcp_fail(p, fd, errno, "connect");
	tc = calloc(1, sizeof(*tc));
	if (tc == NULL)
		return tcp_fail(p, fd, ENOMEM, "connect");
	tc->p = p;
	tc->fd = fd;
	/* Writable once the connect ends, even if it already has. */
	tc->ev = event_new(p->base, fd, EV_WRITE, tcp_connect_cb, tc);
	if (tc->ev == NULL || event_add(tc->ev, NULL) != 0) {
		if (tc->ev != NULL)
			event_free(tc->ev);
		free(tc);
		return tcp_fail(p, fd, ENOMEM, "connect");
	}
	p->priv = tc;
	return 0;
}

static void
tcp_cancel(struct probe *p)
{
	struct tcp_check *tc = p->priv;

	if (tc == NULL)
		return;
	p->priv = NULL;
	event_free(tc->ev);
	close(tc->fd);
	free(tc);
}

const struct probe_ops probe_tcp_ops = {
    .name = "tcp",
    .port = 0, /* no default: the check says which service */
    .target = probe_target_host_port,
    .same = probe_same_endpoint,
    .start = tcp_start,
    .cancel = tcp_cancel,
    .unwatch = tcp_unwatch,
};
