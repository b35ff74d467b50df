/* SPDX-License-Identifier: MIT */
/*
 * The probe interface: one backend protocol per ops table.
 * Owns: the backend table and the status names.
 */
#ifndef READYD_PROBE_H
#define READYD_PROBE_H

#include <stdbool.h>
#include <stddef.h>

struct event_base;
struct check_cfg;

#define PROBE_ERRLEN 256

/*
 * The outcome of one attempt. PROBE_OK is success; every other value is a
 * failure and doubles as the "reason" of DESIGN.md.
 */
enum probe_status {
	PROBE_OK,
	PROBE_REFUSED,
	PROBE_TIMEOUT,
	PROBE_DNS,
	PROBE_AUTH,
	PROBE_STARTING,
	PROBE_SATURATED,
	PROBE_BUSY,
	PROBE_REJECTED,
	PROBE_PROTOCOL,
	PROBE_IO,
	PROBE_UNWRITABLE, /* the server refuses writes (OOM, read-only) */
	PROBE_LOCAL,	  /* readyd itself could not start the attempt */
	PROBE_DEPENDENCY,
	PROBE_STALE,
	PROBE_STATUS_COUNT
};

struct probe;

typedef void probe_done_fn(struct probe *p, enum probe_status st);

/* A watched connection closed or broke; p->watch is already NULL. */
typedef void probe_lost_fn(struct probe *p);

/*
 * A heartbeat on the watched connection got its answer: st is PROBE_OK,
 * or a failure with p->errstr set. The connection stays watched.
 */
typedef void probe_beat_fn(struct probe *p, enum probe_status st);

/*
 * validate: check the kind-specific keys of cfg; on failure fill err with
 *     "KEY = \"VALUE\": problem (accepted: ...)" and return -1.
 * start: begin one attempt against p->addr (numeric). On 0, p->done is
 *     called exactly once, later, from the event loop. On -1, p->errstr
 *     and p->status are set; done is never called.
 * cancel: abandon an in-flight attempt. Releases p->priv before
 *     returning; done is not called. A no-op when idle.
 * unwatch: close the connection a successful attempt kept (p->keep) in
 *     p->watch; lost is not called. A no-op when there is none.
 * heartbeat: send one cheap request (Redis PING; the probe's query for
 *     PostgreSQL and PgBouncer) on p->watch, which must be idle. On 0,
 *     p->beat is called exactly once, later, with the outcome, unless the
 *     connection is lost first (then only p->lost is called) or unwatched
 *     (then neither). On -1 (no watched connection, or a heartbeat in
 *     flight, or it cannot be sent) nothing is called. NULL when the kind
 *     has none. The caller owns the deadline: on expiry it unwatches.
 *
 * When p->keep is set, a successful attempt leaves its connection open and
 * idle in p->watch, replacing (closing) the one kept before, and calls
 * p->lost (from the event loop, once) when the server closes it or it
 * breaks. A failed attempt leaves the kept connection alone.
 */
struct probe_ops {
	const char *name; /* config "kind" value */
	int (*validate)(const struct check_cfg *cfg, char *err, size_t errlen);
	int (*start)(struct probe *p);
	void (*cancel)(struct probe *p);
	void (*unwatch)(struct probe *p);
	int (*heartbeat)(struct probe *p);
};

struct probe {
	const struct probe_ops *ops; /* static, never freed */
	const struct check_cfg *cfg; /* borrowed from config */
	struct event_base *base;     /* borrowed from main */
	probe_done_fn *done;	     /* set by sched */
	void *arg;		     /* for done */
	void *priv;		     /* owned by ops; NULL if idle */
	void *watch;		     /* owned by ops; kept connection or NULL */
	probe_lost_fn *lost;	     /* set by sched */
	probe_beat_fn *beat;	     /* set by sched */
	bool keep;		     /* keep the connection after a success */
	char addr[64];		     /* numeric address to connect to */
	enum probe_status status;    /* set with errstr when start fails */
	char errstr[PROBE_ERRLEN];   /* last error text, never a secret */
};

/* The reason name of st ("ok", "refused", ...). */
const char *probe_status_name(enum probe_status st);

/* The ops table whose name is kind, or NULL. */
const struct probe_ops *probe_find(const char *kind);

/* A space-separated list of every kind, for error messages. */
const char *probe_kinds(void);

/*
 * Format an error into p->errstr, stripping trailing newlines and
 * replacing the remaining ones with spaces.
 */
void probe_seterr(struct probe *p, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

extern const struct probe_ops probe_pg_ops;
extern const struct probe_ops probe_pgbouncer_ops;
extern const struct probe_ops probe_redis_ops;

#endif /* READYD_PROBE_H */
