/* SPDX-License-Identifier: MIT */
/*
 * The probe interface: one backend protocol per ops table.
 * Owns: the backend table and the status names.
 */
#ifndef READYD_PROBE_H
#define READYD_PROBE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

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
	/*
	 * The reasons of findings (struct probe_finding): a passing check
	 * differs from what it should be. Never an attempt's outcome.
	 */
	PROBE_DRIFT,	   /* a setting differs from the expected one */
	PROBE_PERSISTENCE, /* the server's persistence is failing */
	PROBE_INSECURE,	   /* the server answers without credentials */
	PROBE_DEPENDENCY,
	PROBE_STALE,
	PROBE_STATUS_COUNT
};

struct probe;

/*
 * A finding: the attempt succeeded, but the server differs from what the
 * check expects (drift), or warns of trouble ahead (saturated,
 * persistence, insecure). A check with findings shows `warn`.
 */
#define PROBE_FINDINGS_MAX 8
struct probe_finding {
	enum probe_status reason; /* drift, saturated, persistence, ... */
	char key[48];		  /* what it is about: "pool_mode", ... */
	char text[200];		  /* for people; never a secret */
};

/*
 * A number a kind reads during a successful attempt (PgBouncer's
 * cl_waiting, maxwait), shown by /metrics as readyd_<name>{check,kind}.
 */
#define PROBE_GAUGES_MAX 8
struct probe_gauge {
	const char *name; /* static; a Prometheus name after "readyd_" */
	const char *help; /* static; its HELP text */
	double value;	  /* the value read */
};

/*
 * An inspection the server refused (a command renamed or denied, an admin
 * login refused): skipped, never a failure. The scheduler logs each key
 * once per check.
 */
#define PROBE_SKIPS_MAX 4
struct probe_skip {
	char key[48];	/* what was skipped: "admin", "config", ... */
	char text[200]; /* why, for the log; never a secret */
};

typedef void probe_done_fn(struct probe *p, enum probe_status st);

/* A watched connection closed or broke; p->watch is already NULL. */
typedef void probe_lost_fn(struct probe *p);

/*
 * A heartbeat on the watched connection got its answer: st is PROBE_OK,
 * or a failure with p->errstr set. The connection stays watched.
 */
typedef void probe_beat_fn(struct probe *p, enum probe_status st);

/*
 * How config.c reads one of a kind's keys in [check NAME]. The kind's
 * table lists every key only some kinds take; config.c parses each by
 * its type, walking the tables generically, and refuses a key a
 * check's kind does not list. A name means the same type in every kind.
 */
enum probe_key_type {
	PROBE_KEY_TEXT,		 /* char * at offset; "" leaves it NULL */
	PROBE_KEY_INT,		 /* int at offset, min..max */
	PROBE_KEY_USER,		 /* check_cfg.user; required if ops->auth */
	PROBE_KEY_PASSWORD,	 /* check_cfg.password, a secret */
	PROBE_KEY_PASSWORD_FILE, /* check_cfg.password, read from a file */
	PROBE_KEY_SECRET,	 /* char * at offset, a secret; "": NULL */
	PROBE_KEY_SECRET_FILE,	 /* the same char *, read from a file */
	PROBE_KEY_DURATION,	 /* int64_t ms at offset, min..max ms */
	PROBE_KEY_TYPE_COUNT
};

struct probe_key {
	const char *name;	  /* as written in the file */
	enum probe_key_type type; /* how config.c parses it */
	int min;		  /* bounds of an INT */
	int max;
	size_t offset;	      /* field in struct check_cfg (TEXT, INT) */
	const char *accepted; /* what "(accepted: ...)" says */
	/* TEXT: "" or a problem such as "invalid database name" */
	const char *(*check)(const char *value);
	int64_t def;   /* INT, DURATION: the value when absent */
	bool optional; /* INT, DURATION: "" is as absent */
};

/* The credential keys, for the tables of kinds that log in. */
#define PROBE_KEYS_USER_PASSWORD                                          \
	{.name = "user",                                                  \
	    .type = PROBE_KEY_USER,                                       \
	    .accepted = "a non-empty user name"},                         \
	    {.name = "password",                                          \
		.type = PROBE_KEY_PASSWORD,                               \
		.accepted = "a non-empty password or password_file"},     \
	{                                                                 \
		.name = "password_file", .type = PROBE_KEY_PASSWORD_FILE, \
		.accepted = "a readable file holding the password"        \
	}

/*
 * Everything that depends on the kind, so that config.c, sched.c, http.c
 * and main.c name none.
 *
 * port: the default port, 0 when the check must set one.
 * auth: user and password are required.
 * keys, nkeys: the kind-specific keys it takes (static).
 * validate: check the keys together once each parsed; on failure set
 *     *key to the key it is about (NULL: the whole check), fill err with
 *     "problem (accepted: ...)" and return -1. NULL when there is nothing
 *     to check.
 * target: print what the check probes ("host:port/db") into buf.
 * same: whether a and b (both of this kind) probe the same server the
 *     same way, so a reload keeps its state.
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
 * The kind-specific values live in generic fields of struct check_cfg
 * (dbname, options, db), which config.c owns and frees.
 *
 * When p->keep is set, a successful attempt leaves its connection open and
 * idle in p->watch, replacing (closing) the one kept before, and calls
 * p->lost (from the event loop, once) when the server closes it or it
 * breaks. A failed attempt leaves the kept connection alone.
 */
struct probe_ops {
	const char *name;	      /* config "kind" value */
	int port;		      /* default port; 0: required */
	bool auth;		      /* user and password required */
	const struct probe_key *keys; /* static; kind-specific keys */
	size_t nkeys;		      /* entries in keys */
	int (*validate)(const struct check_cfg *cfg, const char **key,
	    char *err, size_t errlen);
	void (*target)(const struct check_cfg *cfg, char *buf, size_t len);
	bool (*same)(const struct check_cfg *a, const struct check_cfg *b);
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
	int64_t deadline_ms;	   /* this attempt's deadline (set by sched) */
	char addr[64];		   /* numeric address to connect to */
	enum probe_status status;  /* set with errstr when start fails */
	char errstr[PROBE_ERRLEN]; /* last error text, never a secret */
	/* findings, gauges and skips of this attempt; sched clears them */
	struct probe_finding findings[PROBE_FINDINGS_MAX];
	size_t nfindings; /* entries in findings */
	struct probe_gauge gauges[PROBE_GAUGES_MAX];
	size_t ngauges; /* entries in gauges */
	struct probe_skip skips[PROBE_SKIPS_MAX];
	size_t nskips; /* entries in skips */
};

/*
 * Whether errno value e means readyd itself could not start an attempt
 * (out of descriptors or memory: EMFILE, ENFILE, ENOMEM, ENOBUFS): the
 * reason PROBE_LOCAL, not the backend's.
 */
bool probe_errno_is_local(int e);

/*
 * Whether a library's error text s says the same: it holds the text of
 * one of those errno values, or says a socket could not be created.
 */
bool probe_text_is_local(const char *s);

/* The reason name of st ("ok", "refused", ...). */
const char *probe_status_name(enum probe_status st);

/* The ops table whose name is kind, or NULL. */
const struct probe_ops *probe_find(const char *kind);

/* The i-th kind of the table, or NULL past its end. */
const struct probe_ops *probe_kind(size_t i);

/* A space-separated list of every kind, for error messages. */
const char *probe_kinds(void);

/* The kind's key called name, or NULL when ops does not take it. */
const struct probe_key *
probe_find_key(const struct probe_ops *ops, const char *name);

/*
 * What cfg probes, as shown: ops->target, or "host:port" for a kind
 * without one.
 */
void probe_target(const struct check_cfg *cfg, char *buf, size_t len);

/* Whether a and b probe the same thing: same kind, then ops->same. */
bool probe_same(const struct check_cfg *a, const struct check_cfg *b);

/* "host:port", the target of a kind without more to it. */
void probe_target_host_port(const struct check_cfg *cfg, char *buf, size_t len);

/* Whether a and b reach the same host and port with the same credentials. */
bool probe_same_endpoint(const struct check_cfg *a, const struct check_cfg *b);

/* NULL-safe string equality, for ops->same. */
bool probe_same_str(const char *a, const char *b);

/*
 * Format an error into p->errstr, stripping trailing newlines and
 * replacing the remaining ones with spaces.
 */
void probe_seterr(struct probe *p, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/*
 * Add a finding to the attempt in flight: reason (PROBE_DRIFT, PROBE_SATURATED,
 * ...), the key it is about and a printf-style text (never a secret).
 * Call during a successful attempt, before done(PROBE_OK); sched clears
 * them when the next attempt starts. Past PROBE_FINDINGS_MAX they are
 * dropped.
 */
void probe_finding(struct probe *p, enum probe_status reason, const char *key,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/*
 * Report a gauge of the attempt in flight (name and help static strings);
 * the same name again replaces its value. Past PROBE_GAUGES_MAX dropped.
 */
void
probe_gauge(struct probe *p, const char *name, const char *help, double value);

/*
 * Say that an inspection key was skipped because the server refused it
 * (text: why, never a secret); the scheduler logs it once per check.
 */
void probe_skip(struct probe *p, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/*
 * A number a server sent as text (a setting, a count): plain decimal
 * digits, at most INT_MAX. Returns it, or -1 for anything else (NULL,
 * empty, a sign, spaces, other text, past INT_MAX), which atoi would
 * have read as some other number.
 */
int probe_parse_uint(const char *v);

struct timeval;

/* Milliseconds from since to the loop's cached now. */
int64_t probe_waited_ms(const struct probe *p, const struct timeval *since);

/*
 * A one-shot timer calling cb(arg) in ms (< 0: at once) on p's loop, or
 * NULL when it could not be added.
 */
struct event *probe_timer_in(
    struct probe *p, int64_t ms, void (*cb)(int, short, void *), void *arg);

/* Clear the findings, gauges and skips (before an attempt starts). */
void probe_clear_findings(struct probe *p);

/* Whether st is a reason only findings have (drift, persistence, ...). */
bool probe_status_is_finding(enum probe_status st);

extern const struct probe_ops probe_pg_ops;
extern const struct probe_ops probe_pgbouncer_ops;
extern const struct probe_ops probe_redis_ops;
extern const struct probe_ops probe_tcp_ops;

#endif /* READYD_PROBE_H */
