/* SPDX-License-Identifier: MIT */
/*
 * The backend table and the helpers every probe shares.
 * Owns: probe_table[] and the status names.
 */
#include "probe.h"

#include "config.h"

#include <errno.h>
#include <event2/event.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

/* The only place that names every backend. */
static const struct probe_ops *const probe_table[] = {
    &probe_pg_ops,
    &probe_pgbouncer_ops,
    &probe_redis_ops,
    &probe_tcp_ops,
};

#define PROBE_TABLE_LEN (sizeof(probe_table) / sizeof(probe_table[0]))

static const char *const probe_status_names[PROBE_STATUS_COUNT] = {
    [PROBE_OK] = "ok",
    [PROBE_REFUSED] = "refused",
    [PROBE_TIMEOUT] = "timeout",
    [PROBE_DNS] = "dns",
    [PROBE_AUTH] = "auth",
    [PROBE_STARTING] = "starting",
    [PROBE_SATURATED] = "saturated",
    [PROBE_BUSY] = "busy",
    [PROBE_REJECTED] = "rejected",
    [PROBE_PROTOCOL] = "protocol",
    [PROBE_IO] = "io",
    [PROBE_UNWRITABLE] = "unwritable",
    [PROBE_LOCAL] = "local",
    [PROBE_DRIFT] = "drift",
    [PROBE_PERSISTENCE] = "persistence",
    [PROBE_INSECURE] = "insecure",
    [PROBE_DEPENDENCY] = "dependency",
    [PROBE_STALE] = "stale",
};

const char *
probe_status_name(enum probe_status st)
{
	if ((unsigned)st >= PROBE_STATUS_COUNT)
		return "unknown";
	return probe_status_names[st];
}

bool
probe_errno_is_local(int e)
{
	return e == EMFILE || e == ENFILE || e == ENOMEM || e == ENOBUFS;
}

bool
probe_text_is_local(const char *s)
{
	static const int errs[] = {EMFILE, ENFILE, ENOMEM, ENOBUFS};
	/* libpq, hiredis 0.14 ("Can't create socket: ...") */
	static const char *const words[] = {
	    "could not create socket", "Can't create socket"};

	if (s == NULL)
		return false;
	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++)
		if (strstr(s, words[i]) != NULL)
			return true;
	for (size_t i = 0; i < sizeof(errs) / sizeof(errs[0]); i++)
		if (strstr(s, strerror(errs[i])) != NULL)
			return true;
	return false;
}

const struct probe_ops *
probe_find(const char *kind)
{
	for (size_t i = 0; i < PROBE_TABLE_LEN; i++)
		if (strcmp(probe_table[i]->name, kind) == 0)
			return probe_table[i];
	return NULL;
}

const struct probe_ops *
probe_kind(size_t i)
{
	return i < PROBE_TABLE_LEN ? probe_table[i] : NULL;
}

const struct probe_key *
probe_find_key(const struct probe_ops *ops, const char *name)
{
	for (size_t i = 0; ops != NULL && i < ops->nkeys; i++)
		if (strcmp(ops->keys[i].name, name) == 0)
			return &ops->keys[i];
	return NULL;
}

void
probe_target_host_port(const struct check_cfg *cfg, char *buf, size_t len)
{
	snprintf(buf, len, "%s:%d", cfg->host, cfg->port);
}

void
probe_target(const struct check_cfg *cfg, char *buf, size_t len)
{
	if (cfg->ops != NULL && cfg->ops->target != NULL)
		cfg->ops->target(cfg, buf, len);
	else
		probe_target_host_port(cfg, buf, len);
}

bool
probe_same(const struct check_cfg *a, const struct check_cfg *b)
{
	if (a->ops != b->ops)
		return false;
	if (a->ops != NULL && a->ops->same != NULL)
		return a->ops->same(a, b);
	return probe_same_endpoint(a, b);
}

bool
probe_same_str(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	return strcmp(a, b) == 0;
}

bool
probe_same_endpoint(const struct check_cfg *a, const struct check_cfg *b)
{
	return a->ops == b->ops && a->port == b->port &&
	    probe_same_str(a->host, b->host) &&
	    probe_same_str(a->user, b->user) &&
	    probe_same_str(a->password, b->password);
}

const char *
probe_kinds(void)
{
	static char kinds[128];

	if (kinds[0] == '\0') {
		size_t len = 0;

		for (size_t i = 0; i < PROBE_TABLE_LEN; i++) {
			int n = snprintf(kinds + len, sizeof(kinds) - len,
			    "%s%s", i ? " | " : "", probe_table[i]->name);
			if (n < 0 || (size_t)n >= sizeof(kinds) - len)
				break;
			len += (size_t)n;
		}
	}
	return kinds;
}

void
probe_seterr(struct probe *p, const char *fmt, ...)
{
	va_list ap;
	size_t len;

	va_start(ap, fmt);
	vsnprintf(p->errstr, sizeof(p->errstr), fmt, ap);
	va_end(ap);
	len = strlen(p->errstr);
	while (len > 0 &&
	    (p->errstr[len - 1] == '\n' || p->errstr[len - 1] == '\r' ||
		p->errstr[len - 1] == ' '))
		p->errstr[--len] = '\0';
	for (char *s = p->errstr; *s != '\0'; s++)
		if (*s == '\n' || *s == '\r' || *s == '\t')
			*s = ' ';
}

/* Copy fmt's text into buf, one line: newlines and tabs become spaces. */
static void
probe_vformat(char *buf, size_t len, const char *fmt, va_list ap)
{
	vsnprintf(buf, len, fmt, ap);
	for (char *s = buf; *s != '\0'; s++)
		if (*s == '\n' || *s == '\r' || *s == '\t')
			*s = ' ';
}

void
probe_finding(struct probe *p, enum probe_status reason, const char *key,
    const char *fmt, ...)
{
	struct probe_finding *f;
	va_list ap;

	if (p->nfindings >= PROBE_FINDINGS_MAX)
		return;
	f = &p->findings[p->nfindings++];
	f->reason = reason;
	snprintf(f->key, sizeof(f->key), "%s", key);
	va_start(ap, fmt);
	probe_vformat(f->text, sizeof(f->text), fmt, ap);
	va_end(ap);
}

void
probe_gauge(struct probe *p, const char *name, const char *help, double value)
{
	size_t i;

	for (i = 0; i < p->ngauges; i++)
		if (strcmp(p->gauges[i].name, name) == 0)
			break;
	if (i == p->ngauges) {
		if (p->ngauges >= PROBE_GAUGES_MAX)
			return;
		p->ngauges++;
	}
	p->gauges[i].name = name;
	p->gauges[i].help = help;
	p->gauges[i].value = value;
}

void
probe_skip(struct probe *p, const char *key, const char *fmt, ...)
{
	struct probe_skip *k;
	va_list ap;

	if (p->nskips >= PROBE_SKIPS_MAX)
		return;
	k = &p->skips[p->nskips++];
	snprintf(k->key, sizeof(k->key), "%s", key);
	va_start(ap, fmt);
	probe_vformat(k->text, sizeof(k->text), fmt, ap);
	va_end(ap);
}

int
probe_parse_uint(const char *v)
{
	char *end;
	long n;

	if (v == NULL || *v < '0' || *v > '9')
		return -1;
	errno = 0;
	n = strtol(v, &end, 10);
	if (errno != 0 || *end != '\0' || n > INT_MAX)
		return -1;
	return (int)n;
}

void
probe_clear_findings(struct probe *p)
{
	p->nfindings = 0;
	p->ngauges = 0;
	p->nskips = 0;
}

bool
probe_status_is_finding(enum probe_status st)
{
	return st == PROBE_DRIFT || st == PROBE_PERSISTENCE ||
	    st == PROBE_INSECURE;
}

int64_t
probe_waited_ms(const struct probe *p, const struct timeval *since)
{
	struct timeval now, d;

	event_base_gettimeofday_cached(p->base, &now);
	timersub(&now, since, &d);
	return (int64_t)d.tv_sec * 1000 + d.tv_usec / 1000;
}

struct event *
probe_timer_in(
    struct probe *p, int64_t ms, void (*cb)(int, short, void *), void *arg)
{
	struct timeval tv;
	struct event *ev;

	if (ms < 0)
		ms = 0;
	tv.tv_sec = (time_t)(ms / 1000);
	tv.tv_usec = (suseconds_t)(ms % 1000 * 1000);
	ev = evtimer_new(p->base, cb, arg);
	if (ev != NULL && evtimer_add(ev, &tv) != 0) {
		event_free(ev);
		ev = NULL;
	}
	return ev;
}
