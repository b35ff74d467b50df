/* SPDX-License-Identifier: MIT */
/*
 * Redis probe: AUTH (when a password is set), SELECT db, PING and a SET of
 * readyd's own key (unless writable = no), pipelined through hiredis' async
 * API on the event loop, judged in order; PING heartbeats on the watched
 * connection.
 * Owns: struct redis_check and the hiredis context of an attempt.
 */
#include "probe_redis.h"

#include "config.h"
#include "redis_inspect.h"

#include <hiredis/adapters/libevent.h>
#include <hiredis/async.h>
#include <hiredis/hiredis.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum redis_step {
	REDIS_STEP_CONNECT,
	REDIS_STEP_AUTH,
	REDIS_STEP_SELECT,
	REDIS_STEP_PING,
	REDIS_STEP_SET,
	REDIS_STEP_COUNT
};

static const char *const redis_step_names[REDIS_STEP_COUNT] = {
    [REDIS_STEP_CONNECT] = "connect",
    [REDIS_STEP_AUTH] = "AUTH",
    [REDIS_STEP_SELECT] = "SELECT",
    [REDIS_STEP_PING] = "PING",
    [REDIS_STEP_SET] = "SET",
};

/*
 * The write: a key of readyd's own per check, expiring on its own, so a
 * database that refuses writes (maxmemory with noeviction, a read-only
 * replica, min-replicas-to-write, a failed background save) is seen as the
 * applications see it.
 */
#define REDIS_KEY_PREFIX "readyd:"
#define REDIS_KEY_TTL_MS 60000

struct redis_check {
	struct probe *p;	  /* borrowed from sched */
	redisAsyncContext *ac;	  /* owned until hiredis frees it */
	enum redis_step steps[4]; /* the commands sent, in order */
	int nsteps;		  /* entries in steps */
	int nreplies;		  /* replies (or NULLs) seen so far */
	enum probe_status st;	  /* first failure, or PROBE_OK */
	bool cancelled;		  /* sched gave up; free on last reply */
};

/* A connection kept open and idle after a success, to see it drop. */
struct redis_watch {
	struct probe *p;       /* borrowed from sched */
	redisAsyncContext *ac; /* owned until hiredis frees it */
	bool releasing;	       /* we are freeing it: not a loss */
	bool beating;	       /* a heartbeat PING is in flight */
};

/* ---- classification ---- */

enum probe_status
probe_redis_classify(const char *err)
{
	static const struct {
		const char *prefix;
		enum probe_status st;
	} rules[] = {
	    {"LOADING", PROBE_STARTING},
	    {"MASTERDOWN", PROBE_STARTING},
	    {"BUSY", PROBE_BUSY},
	    {"NOAUTH", PROBE_AUTH},
	    {"WRONGPASS", PROBE_AUTH},
	    {"NOPERM", PROBE_AUTH},
	    {"ERR AUTH", PROBE_AUTH},
	    {"ERR invalid password", PROBE_AUTH},
	    {"ERR Client sent AUTH", PROBE_AUTH},
	    {"DENIED", PROBE_REJECTED},
	    {"ERR DB index is out of range", PROBE_REJECTED},
	    {"ERR invalid DB index", PROBE_REJECTED},
	    {"ERR max number of clients", PROBE_SATURATED},
	    {"OOM", PROBE_UNWRITABLE},
	    {"READONLY", PROBE_UNWRITABLE},
	    {"NOREPLICAS", PROBE_UNWRITABLE},
	    {"MISCONF", PROBE_UNWRITABLE},
	};

	for (size_t i = 0; i < sizeof(rules) / sizeof(rules[0]); i++)
		if (strncmp(err, rules[i].prefix, strlen(rules[i].prefix)) == 0)
			return rules[i].st;
	return PROBE_PROTOCOL;
}

enum probe_status
probe_redis_classify_conn(int err, const char *errstr)
{
	/* readyd's own trouble: "Can't create socket: Too many open files" */
	if (err == REDIS_ERR_OOM || probe_text_is_local(errstr))
		return PROBE_LOCAL;
	switch (err) {
	case REDIS_ERR_PROTOCOL:
		return PROBE_PROTOCOL;
	case REDIS_ERR_EOF:
		return PROBE_IO;
	case REDIS_ERR_OTHER:
		/* a spontaneous error reply, e.g. max clients, DENIED */
		return probe_redis_classify(errstr);
	default:
		break;
	}
	if (strstr(errstr, "Connection refused") != NULL)
		return PROBE_REFUSED;
	if (strstr(errstr, "timed out") != NULL)
		return PROBE_TIMEOUT;
	return PROBE_IO;
}

static enum probe_status
redis_classify_conn(const redisContext *c)
{
	return probe_redis_classify_conn(c->err, c->errstr);
}

static void
redis_set_failure(struct redis_check *rc, enum redis_step step,
    enum probe_status st, const char *detail)
{
	if (rc->st != PROBE_OK)
		return; /* the first failure wins */
	rc->st = st;
	probe_seterr(rc->p, "%s: %s", redis_step_names[step], detail);
}

/* ---- the watched connection ---- */

static void redis_unwatch(struct probe *p);

static void
redis_disconnect_cb(const redisAsyncContext *ac, int status)
{
	struct redis_watch *w = ac->data;
	struct probe *p;

	(void)status;
	if (w == NULL || w->releasing)
		return; /* redis_unwatch frees w */
	p = w->p;
	p->watch = NULL;
	free(w); /* hiredis frees ac after we return */
	p->lost(p);
}

/* Keep ac open and idle after a success; 0 if it is now watched. */
static int
redis_watch_start(struct probe *p, redisAsyncContext *ac)
{
	struct redis_watch *w;

	if (!p->keep)
		return -1;
	redis_unwatch(p); /* the fresh connection replaces it */
	w = calloc(1, sizeof(*w));
	if (w == NULL)
		return -1;
	w->p = p;
	w->ac = ac;
	if (redisAsyncSetDisconnectCallback(ac, redis_disconnect_cb) !=
	    REDIS_OK) {
		free(w);
		return -1;
	}
	ac->data = w;
	p->watch = w;
	return 0;
}

static void
redis_unwatch(struct probe *p)
{
	struct redis_watch *w = p->watch;

	if (w == NULL)
		return;
	p->watch = NULL;
	w->releasing = true;
	/* inside a hiredis callback the free is deferred: forget w first */
	w->ac->data = NULL;
	redisAsyncFree(w->ac); /* pending callbacks see w->releasing */
	free(w);
}

static void
redis_beat_cb(redisAsyncContext *ac, void *r, void *arg)
{
	struct redis_watch *w = arg;
	redisReply *reply = r;
	struct probe *p = w->p;
	enum probe_status st = PROBE_OK;

	(void)ac;
	w->beating = false;
	if (reply == NULL || w->releasing)
		return; /* lost (the disconnect callback says so) or unwatched */
	if (reply->type == REDIS_REPLY_ERROR) {
		st = probe_redis_classify(reply->str);
		probe_seterr(p, "PING: %s", reply->str);
	} else if (reply->type != REDIS_REPLY_STATUS ||
	    strcmp(reply->str, "PONG") != 0) {
		st = PROBE_PROTOCOL;
		probe_seterr(p, "PING: unexpected reply to PING");
	}
	p->beat(p, st); /* last: may unwatch, which frees w */
}

static int
redis_heartbeat(struct probe *p)
{
	struct redis_watch *w = p->watch;

	if (w == NULL || w->beating)
		return -1;
	if (redisAsyncCommand(w->ac, redis_beat_cb, w, "PING") != REDIS_OK)
		return -1;
	w->beating = true;
	return 0;
}

/* ---- hiredis callbacks ---- */

static void
redis_connect_cb(const redisAsyncContext *ac, int status)
{
	struct redis_check *rc = ac->data;

	/*
	 * Never free here (hiredis 0.14 reads ac after we return). On
	 * failure hiredis frees ac itself and then hands every pending
	 * reply callback a NULL reply, which finishes the attempt.
	 */
	if (status != REDIS_OK && rc != NULL && !rc->cancelled) {
		char detail[PROBE_ERRLEN];

		snprintf(detail, sizeof(detail), "%s port %d: %s", rc->p->addr,
		    rc->p->cfg->port, ac->c.errstr);
		redis_set_failure(rc, REDIS_STEP_CONNECT,
		    redis_classify_conn(&ac->c), detail);
	}
}

/*
 * One call per command, in order; the last one (PING) always comes, with
 * reply NULL when the connection failed or was freed, and ends the attempt.
 */
static void
redis_reply_cb(redisAsyncContext *ac, void *r, void *arg)
{
	struct redis_check *rc = arg;
	redisReply *reply = r;
	enum redis_step step = rc->steps[rc->nreplies++];
	struct probe *p = rc->p;
	bool last = rc->nreplies == rc->nsteps;
	enum probe_status st;

	if (rc->cancelled) {
		if (last)
			free(rc);
		return;
	}
	if (reply == NULL) {
		redis_set_failure(rc, step, redis_classify_conn(&ac->c),
		    ac->c.errstr[0] ? ac->c.errstr : "connection closed");
	} else if (reply->type == REDIS_REPLY_ERROR) {
		redis_set_failure(
		    rc, step, probe_redis_classify(reply->str), reply->str);
	} else if (step == REDIS_STEP_SET) {
		if (reply->type != REDIS_REPLY_STATUS ||
		    strcmp(reply->str, "OK") != 0)
			redis_set_failure(rc, step, PROBE_PROTOCOL,
			    "unexpected reply to SET");
	} else if (step == REDIS_STEP_PING) {
		if (reply->type != REDIS_REPLY_STATUS ||
		    strcmp(reply->str, "PONG") != 0)
			redis_set_failure(rc, step, PROBE_PROTOCOL,
			    "unexpected reply to PING");
	} else if (reply->type != REDIS_REPLY_STATUS ||
	    strcmp(reply->str, "OK") != 0) {
		redis_set_failure(rc, step, PROBE_PROTOCOL, "unexpected reply");
	}
	if (!last)
		return;
	rc->ac = NULL; /* hiredis frees ac after we return */
	st = rc->st;
	if (reply != NULL && !(st == PROBE_OK && redis_watch_start(p, ac) == 0))
		redisAsyncDisconnect(ac); /* deferred until we return */
	p->priv = NULL;
	free(rc);
	p->done(p, st); /* last: p may be gone */
}

/* ---- probe_ops ---- */

static int
redis_start(struct probe *p)
{
	const struct check_cfg *cfg = p->cfg;
	struct redis_check *rc;
	redisAsyncContext *ac;
	int ok = REDIS_OK;

	rc = calloc(1, sizeof(*rc));
	if (rc == NULL) {
		probe_seterr(p, "connect: out of memory");
		p->status = PROBE_LOCAL;
		return -1;
	}
	rc->p = p;
	ac = redisAsyncConnect(p->addr, cfg->port); /* numeric: no lookup */
	if (ac == NULL) {
		probe_seterr(p, "connect: out of memory");
		p->status = PROBE_LOCAL;
		free(rc);
		return -1;
	}
	if (ac->err) {
		p->status = redis_classify_conn(&ac->c);
		probe_seterr(p, "connect: %s", ac->errstr);
		redisAsyncFree(ac);
		free(rc);
		return -1;
	}
	ac->data = rc;
	rc->ac = ac;
	if (redisLibeventAttach(ac, p->base) != REDIS_OK) {
		probe_seterr(p, "connect: cannot attach to the event loop");
		p->status = PROBE_LOCAL;
		rc->cancelled = true;
		redisAsyncFree(ac);
		free(rc);
		return -1;
	}
	redisAsyncSetConnectCallback(ac, redis_connect_cb);

	/* AUTH -> SELECT -> PING, queued now, sent once connected */
	if (cfg->password != NULL && cfg->password[0] != '\0') {
		rc->steps[rc->nsteps++] = REDIS_STEP_AUTH;
		if (cfg->user != NULL && cfg->user[0] != '\0')
			ok = redisAsyncCommand(ac, redis_reply_cb, rc,
			    "AUTH %s %s", cfg->user, cfg->password);
		else
			ok = redisAsyncCommand(
			    ac, redis_reply_cb, rc, "AUTH %s", cfg->password);
	}
	if (ok == REDIS_OK) {
		rc->steps[rc->nsteps++] = REDIS_STEP_SELECT;
		ok = redisAsyncCommand(
		    ac, redis_reply_cb, rc, "SELECT %d", cfg->db);
	}
	if (ok == REDIS_OK) {
		rc->steps[rc->nsteps++] = REDIS_STEP_PING;
		ok = redisAsyncCommand(ac, redis_reply_cb, rc, "PING");
	}
	if (ok == REDIS_OK && cfg->writable) {
		rc->steps[rc->nsteps++] = REDIS_STEP_SET;
		ok = redisAsyncCommand(ac, redis_reply_cb, rc,
		    "SET " REDIS_KEY_PREFIX "%s %lld PX %d", cfg->name,
		    (long long)time(NULL), REDIS_KEY_TTL_MS);
	}
	if (ok != REDIS_OK) {
		probe_seterr(p, "connect: cannot queue commands");
		p->status = PROBE_IO;
		/*
		 * The last command was not queued: the free below runs the
		 * callbacks of those that were, as cancelled, and the last
		 * of them frees rc; with none queued, we free it.
		 */
		rc->cancelled = true;
		rc->nsteps--;
		redisAsyncFree(ac);
		if (rc->nsteps == 0)
			free(rc);
		return -1;
	}
	p->priv = rc;
	return 0;
}

static void
redis_cancel(struct probe *p)
{
	struct redis_check *rc = p->priv;

	if (rc == NULL)
		return;
	p->priv = NULL;
	rc->cancelled = true;
	/* runs redis_reply_cb(NULL) for each command now; the last frees rc */
	redisAsyncFree(rc->ac);
}

static const struct probe_key redis_keys[] = {
    PROBE_KEYS_USER_PASSWORD,
    {.name = "db",
	.type = PROBE_KEY_INT,
	.min = 0,
	.max = 15,
	.offset = offsetof(struct check_cfg, db),
	.accepted = "0-15"},
    {.name = "expect_save",
	.type = PROBE_KEY_TEXT,
	.offset = offsetof(struct check_cfg, expect_save),
	.accepted = REDIS_INSPECT_EXPECT_SAVE_ACCEPTED,
	.check = redis_inspect_check_expect_save},
    {.name = "expect_databases",
	.type = PROBE_KEY_INT,
	.min = 0,
	.max = 1000000,
	.offset = offsetof(struct check_cfg, expect_databases),
	.accepted =
	    "0 (not checked) or the least number of databases, 1-1000000"},
};

static void
redis_target(const struct check_cfg *cfg, char *buf, size_t len)
{
	snprintf(buf, len, "%s:%d/%d", cfg->host, cfg->port, cfg->db);
}

static bool
redis_same(const struct check_cfg *a, const struct check_cfg *b)
{
	return probe_same_endpoint(a, b) && a->db == b->db;
}

const struct probe_ops probe_redis_ops = {
    .name = "redis",
    .port = 6379,
    .keys = redis_keys,
    .nkeys = sizeof(redis_keys) / sizeof(redis_keys[0]),
    .target = redis_target,
    .same = redis_same,
    .start = redis_start,
    .cancel = redis_cancel,
    .unwatch = redis_unwatch,
    .heartbeat = redis_heartbeat,
};
