/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target: the HTTP requests readyd answers (path and query
 * decoding, ?exclude, ?verbose, routing, methods), through the real
 * server: http_new() on a loopback port, one TCP connection per input
 * carrying the fuzzer's bytes, and schedulers built on fake clocks and
 * fake probes (no backend). Every answer must carry an allowed status,
 * JSON and Prometheus bodies must parse; a closed connection without an
 * answer is fine. Then a plain /ready on a new connection must still
 * answer what the scenario says. FUZZ_HTTP_SHOW=1 prints the answers.
 * Input: one byte choosing the scheduler, draining and details, then the
 * bytes sent as they are.
 * Owns: the event loop, the schedulers and the server (kept for the run).
 */
#include "fuzz.h"

#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <jansson.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "clock.h"
#include "config.h"
#include "fake_probe.h"
#include "http.h"
#include "log.h"
#include "resolve.h"
#include "sched.h"

#define FUZZ_HTTP_SCENARIOS    4
#define FUZZ_HTTP_MAX_REPLY    (1 << 20) /* bytes kept of an answer */
#define FUZZ_HTTP_EVHTTP_CHUNK 16000	 /* below bufferevent's 16 KiB write */
#define FUZZ_HTTP_GIVE_UP_S    30	 /* an answer that never ends */

/* The client's end: what the server answered, until it closes. */
struct fuzz_http_client {
	int fd;		  /* owned */
	char *reply;	  /* owned; NUL-terminated */
	size_t len;	  /* bytes in reply */
	bool done;	  /* EOF or error */
	struct event *ev; /* owned; readable */
};

static struct event_base *fuzz_base;
static struct config *fuzz_cfg;
static struct http_server *fuzz_http;
static struct sched *fuzz_scheds[FUZZ_HTTP_SCENARIOS];
static struct clock *fuzz_clocks[FUZZ_HTTP_SCENARIOS];
static int fuzz_ready_base[2 * FUZZ_HTTP_SCENARIOS]; /* by scenario, drain */

static void fuzz_http_select(uint8_t head);
static int fuzz_http_ready_status(struct fuzz_http_client *c);

/* A loopback port free right now. */
static int
fuzz_http_free_port(void)
{
	struct sockaddr_in sa = {
	    .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    getsockname(fd, (struct sockaddr *)&sa, &len) < 0)
		fuzz_fail("cannot find a free port: %s", strerror(errno));
	close(fd);
	return ntohs(sa.sin_port);
}

/*
 * Scenario k: 0 all pass, 1 a required redis fails, 2 postgres fails
 * (pgbouncer depends on it), 3 nothing has answered yet (starting).
 */
static struct sched *
fuzz_http_sched(int k, struct resolver *r)
{
	char err[256];
	struct sched *s;

	fuzz_clocks[k] = clock_new_fake(1000000, 1795758000);
	if (fuzz_clocks[k] == NULL)
		fuzz_fail("out of memory");
	fake_probe_use_clock(fuzz_clocks[k]);
	fake_probe_reset();
	fake_probe_set(PROBE_OK, k == 3 ? -1 : 5);
	if (k == 1)
		fake_probe_set_for("redis-cache", PROBE_REFUSED);
	if (k == 2)
		fake_probe_set_for("postgres", PROBE_AUTH);
	s = sched_new(fuzz_base, fuzz_clocks[k], r, fuzz_cfg, SCHED_MODE_SERVE,
	    NULL, err, sizeof(err));
	if (s == NULL || sched_start(s) != 0)
		fuzz_fail("scheduler %d: %s", k, err);
	clock_advance(fuzz_clocks[k], 120000); /* retries run out */
	return s;
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct resolver *r;
	char err[CONFIG_ERRLEN];
	int port;

	(void)argc;
	(void)argv;
	log_set_level(LOG_LEVEL_ERROR);
	setenv("POSTGRES_HOST", "127.0.0.1", 1);
	setenv("DB_HOST", "127.0.0.1", 1);
	setenv("REDIS_HOST", "127.0.0.1", 1);
	setenv("POSTGRES_USER", "app", 1);
	setenv("POSTGRES_PASSWORD", "secret", 1);
	setenv("DB_USER", "app", 1);
	setenv("DB_PASSWORD", "secret", 1);
	fuzz_cfg = config_load_string(
	    "(built-in)", config_builtin(), err, sizeof(err));
	if (fuzz_cfg == NULL)
		fuzz_fail("built-in configuration: %s", err);
	for (size_t i = 0; i < fuzz_cfg->nchecks; i++)
		fuzz_cfg->checks[i].ops = &fake_probe_ops;
	fuzz_base = event_base_new();
	if (fuzz_base == NULL)
		fuzz_fail("event_base_new");
	r = resolve_new(fuzz_base, err, sizeof(err));
	if (r == NULL)
		fuzz_fail("resolver: %s", err);
	for (int k = 0; k < FUZZ_HTTP_SCENARIOS; k++)
		fuzz_scheds[k] = fuzz_http_sched(k, r);
	port = fuzz_http_free_port();
	fuzz_http = http_new(fuzz_base, "127.0.0.1", port, fuzz_cfg,
	    fuzz_scheds[0], err, sizeof(err));
	if (fuzz_http == NULL)
		fuzz_fail("http_new: %s", err);
	fuzz_cfg->listen_port = port;
	for (uint8_t k = 0; k < 2 * FUZZ_HTTP_SCENARIOS; k++) {
		struct fuzz_http_client c = {.fd = -1};

		fuzz_http_select(k);
		fuzz_ready_base[k] = fuzz_http_ready_status(&c);
		free(c.reply);
	}
	return 0;
}

static void
fuzz_http_read_cb(evutil_socket_t fd, short what, void *arg)
{
	struct fuzz_http_client *c = arg;
	char buf[16384];
	ssize_t n;

	if (what & EV_TIMEOUT)
		fuzz_fail("no end to the answer after %ds: %.*s",
		    FUZZ_HTTP_GIVE_UP_S, (int)c->len, c->reply);
	n = read(fd, buf, sizeof(buf));
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		c->done = true;
		return;
	}
	if (c->len + (size_t)n > FUZZ_HTTP_MAX_REPLY)
		n = (ssize_t)(FUZZ_HTTP_MAX_REPLY - c->len);
	memcpy(c->reply + c->len, buf, (size_t)n);
	c->len += (size_t)n;
	c->reply[c->len] = '\0';
}

/* Send data on a new connection, half-close, collect the answer. */
static void
fuzz_http_exchange(const uint8_t *data, size_t size, struct fuzz_http_client *c)
{
	struct sockaddr_in sa = {.sin_family = AF_INET,
	    .sin_port = htons((uint16_t)fuzz_cfg->listen_port),
	    .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	struct timeval give_up = {FUZZ_HTTP_GIVE_UP_S, 0};
	size_t off = 0;

	c->reply = malloc(FUZZ_HTTP_MAX_REPLY + 1); /* NUL-terminated */
	c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	if (c->reply == NULL || c->fd < 0)
		fuzz_fail("client: %s", strerror(errno));
	c->reply[0] = '\0';
	if (connect(c->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 &&
	    errno != EINPROGRESS)
		fuzz_fail("connect: %s", strerror(errno));
	c->ev = event_new(
	    fuzz_base, c->fd, EV_READ | EV_PERSIST, fuzz_http_read_cb, c);
	if (c->ev == NULL || event_add(c->ev, &give_up) != 0)
		fuzz_fail("client event");
	/* write as the server reads: the loop runs between writes */
	while (off < size) {
		ssize_t n = write(c->fd, data + off, size - off);

		if (n > 0)
			off += (size_t)n;
		else if (n < 0 && errno != EAGAIN && errno != ENOTCONN)
			break; /* the server closed first: fine */
		if (off < size)
			event_base_loop(
			    fuzz_base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
		if (c->done)
			break;
	}
	shutdown(c->fd, SHUT_WR);
	while (!c->done)
		event_base_loop(fuzz_base, EVLOOP_ONCE);
	event_free(c->ev);
	close(c->fd);
}

/*
 * Length of the version at s: "HTTP/" and anything but blanks, as evhttp
 * echoes the request's version, even a bogus one (HTTP/1.11, HTTP/0.1,
 * HTTP/1.-1 for a minor version that overflows an int). 0 if none.
 */
static size_t
fuzz_http_version(const char *s, const char *end)
{
	size_t n = 5;

	if (end - s < 8 || memcmp(s, "HTTP/", 5) != 0)
		return 0;
	while (s + n < end && n < 40 && s[n] != ' ' && s[n] != '\r' &&
	    s[n] != '\n')
		n++;
	return n > 5 && s + n < end && s[n] == ' ' ? n : 0;
}

/* The value of header name in the header block [s, end), or NULL. */
static const char *
fuzz_http_header(const char *s, const char *end, const char *name)
{
	size_t n = strlen(name);

	while (s < end) {
		const char *nl = memchr(s, '\n', (size_t)(end - s));

		if (nl == NULL)
			return NULL;
		if ((size_t)(nl - s) > n + 1 && strncasecmp(s, name, n) == 0 &&
		    s[n] == ':')
			return s + n + 1 + strspn(s + n + 1, " ");
		s = nl + 1;
	}
	return NULL;
}

/*
 * A body that starts where a JSON or Prometheus answer would: it must
 * parse. (After a HEAD answer the next answer starts there instead.)
 */
static void
fuzz_http_body(const struct fuzz_http_client *c, const char *hdr,
    const char *hend, const char *body, size_t len)
{
	const char *ctype = fuzz_http_header(hdr, hend, "Content-Type");
	char why[512];

	if (ctype == NULL)
		return;
	if (strncmp(ctype, "application/health+json", 23) == 0 && len > 0 &&
	    body[0] == '{') {
		json_error_t jerr;
		json_t *j = json_loadb(body, len, 0, &jerr);

		if (j == NULL || !fuzz_utf8_valid(body, len))
			fuzz_fail("bad JSON answer: %s: %.*s", jerr.text,
			    (int)c->len, c->reply);
		json_decref(j);
	} else if (strncmp(ctype, "text/plain; version=0.0.4", 25) == 0 &&
	    len > 0 && body[0] == '#' &&
	    fuzz_prom_check(body, len, true, why, sizeof(why)) < 0) {
		fuzz_fail("bad /metrics answer: %s", why);
	}
}

/*
 * Every answer has an allowed status, and the JSON and Prometheus
 * bodies parse. A cut-short last answer is fine: the server may close.
 */
static void
fuzz_http_check(const struct fuzz_http_client *c)
{
	static const int allowed[] = {
	    200, 400, 404, 405, 413, 417, 431, 501, 503, 505};
	const char *s = c->reply, *end = c->reply + c->len;

	if (getenv("FUZZ_HTTP_SHOW") != NULL)
		fprintf(stderr, "%.*s\n----\n", (int)c->len, c->reply);
	while (s < end) {
		const char *hend, *clen;
		size_t blen, vlen;
		bool ok = false;
		int code;

		vlen = fuzz_http_version(s, end);
		if (vlen == 0 || (size_t)(end - s) < vlen + 5 || s[vlen] != ' ')
			fuzz_fail("not an answer: %.*s", (int)c->len, c->reply);
		code = atoi(s + vlen + 1);
		for (size_t i = 0; i < sizeof(allowed) / sizeof(int); i++)
			ok |= code == allowed[i];
		if (!ok)
			fuzz_fail(
			    "status %d: %.*s", code, (int)c->len, c->reply);
		hend = memmem(s, (size_t)(end - s), "\r\n\r\n", 4);
		if (hend == NULL)
			return;
		clen = fuzz_http_header(s, hend + 2, "Content-Length");
		hend += 4;
		/* no length (HTTP/1.0): the body runs to the close */
		blen = clen != NULL ? strtoul(clen, NULL, 10)
				    : (size_t)(end - hend);
		if (blen > (size_t)(end - hend))
			return;
		/*
		 * Known limit of libevent 2.1's evhttp: a client that
		 * half-closes (as this one does) makes it drop an answer
		 * still being written past its first 16 KiB write, so a body
		 * without Content-Length (HTTP/1.0, 0.x) may end there.
		 * Smaller bodies are checked whole.
		 */
		if (clen == NULL && blen >= FUZZ_HTTP_EVHTTP_CHUNK)
			return;
		fuzz_http_body(c, s, hend, hend, blen);
		/* after a HEAD answer the next one starts at once */
		s = fuzz_http_version(hend, end) > 0 ? hend : hend + blen;
	}
}

/* Scheduler (bits 0-1), draining (bit 2) and details (above) of head. */
static void
fuzz_http_select(uint8_t head)
{
	http_set_source(
	    fuzz_http, fuzz_cfg, fuzz_scheds[head % FUZZ_HTTP_SCENARIOS]);
	http_set_draining(fuzz_http, head & 0x04);
	fuzz_cfg->details =
	    (enum config_details)((head >> 3) % CONFIG_DETAILS_COUNT);
}

/* The status of a plain /ready on a new connection. */
static int
fuzz_http_ready_status(struct fuzz_http_client *c)
{
	static const uint8_t req[] = "GET /ready HTTP/1.0\r\n\r\n";

	fuzz_http_exchange(req, sizeof(req) - 1, c);
	if (c->len < 12 || memcmp(c->reply, "HTTP/1.0 ", 9) != 0)
		fuzz_fail("control /ready: %.*s", (int)c->len, c->reply);
	return atoi(c->reply + 9);
}

/*
 * After the fuzzer's bytes, a plain /ready must answer as it did for the
 * same scenario before any fuzzing (no state left behind by a request),
 * and 503 while draining.
 */
static void
fuzz_http_control(uint8_t head)
{
	struct fuzz_http_client c = {.fd = -1};
	size_t k = head % (2 * FUZZ_HTTP_SCENARIOS);
	int code = fuzz_http_ready_status(&c);

	if (code != fuzz_ready_base[k] || ((head & 0x04) && code != 503))
		fuzz_fail("control /ready: want %d, got %.*s",
		    fuzz_ready_base[k], (int)c.len, c.reply);
	free(c.reply);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_http_client c = {.fd = -1};
	uint8_t head = size > 0 ? data[0] : 0;

	if (size > 0) {
		data++;
		size--;
	}
	fuzz_http_select(head);
	fuzz_http_exchange(data, size, &c);
	fuzz_http_check(&c);
	free(c.reply);
	fuzz_http_control(head);
	return 0;
}
