/* SPDX-License-Identifier: MIT */
/*
 * Redis probe: AUTH (when a password is set), SELECT db, PING and a SET of
 * readyd's own key (unless writable = no), pipelined through hiredis' async
 * API on the event loop, judged in order; then the inspection (CONFIG GET
 * save and databases when expected, INFO persistence), whose findings
 * warn and whose refusal is skipped. In the production profile a second
 * connection sends PING without AUTH: an answer is a finding (insecure).
 * PING heartbeats on the watched connection.
 * Owns: struct redis_check and the hiredis contexts of an attempt.
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
	REDIS_STEP_SAVE,      /* inspection: CONFIG GET save */
	REDIS_STEP_DATABASES, /* inspection: CONFIG GET databases */
	REDIS_STEP_INFO,      /* inspection: INFO persistence */
	REDIS_STEP_COUNT
};

static const char *const redis_step_names[REDIS_STEP_COUNT] = {
    [REDIS_STEP_CONNECT] = "connect",
    [REDIS_STEP_AUTH] = "AUTH",
    [REDIS_STEP_SELECT] = "SELECT",
    [REDIS_STEP_PING] = "PING",
    [REDIS_STEP_SET] = "SET",
    [REDIS_STEP_SAVE] = "CONFIG GET save",
    [REDIS_STEP_DATABASES] = "CONFIG GET databases",
    [REDIS_STEP_INFO] = "INFO persistence",
};

/*
 * The write: a key of readyd's own per check, expiring on its own, so a
 * database that refuses writes (maxmemory with noeviction, a read-only
 * replica, min-replicas-to-write, a failed background save) is seen as the
 * applications see it.
 */
#define REDIS_KEY_PREFIX "readyd:"
#define REDIS_KEY_TTL_MS 60000

/*
 * One attempt: the pipeline on ac and, in the production profile, the
 * unauthenticated PING on nac. It ends when both are through.
 */
struct redis_check {
	struct probe *p;       /* borrowed from sched */
	redisAsyncContext *ac; /* owned until hiredis frees it */
	enum redis_step
	    steps[REDIS_STEP_COUNT]; /* the commands sent, in order */
	int nsteps;		     /* entries in steps */
	int nreplies;		     /* replies (or NULLs) seen so far */
	enum probe_status st;	     /* first failure, or PROBE_OK */
	bool cancelled;		     /* sched gave up */
	bool main_open;		     /* ac's last reply is to come */
	redisAsyncContext *nac;	     /* the PING without AUTH, or NULL */
	bool noauth_open;	     /* nac's reply is to come */
	bool noauth_dropping;	     /* we free nac: ignore its reply */
	/* findings, added to the probe only when the attempt succeeds */
	struct probe_finding found[PROBE_FINDINGS_MAX];
	size_t nfound; /* entries in found */
	/* nac's finding: last, whichever connection answers first */
	struct probe_finding noauth;
	bool noauth_answered; /* nac got an answer without AUTH */
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

/* Keep a finding until the attempt is known to succeed. */
static void
redis_found(struct redis_check *rc, enum probe_status reason, const char *key,
    const char *text)
{
	struct probe_finding *f;

	if (rc->nfound >= PROBE_FINDINGS_MAX)
		return;
	f = &rc->found[rc->nfound++];
	f->reason = reason;
	snprintf(f->key, sizeof(f->key), "%.*s", (int)sizeof(f->key) - 1, key);
	snprintf(
	    f->text, sizeof(f->text), "%.*s", (int)sizeof(f->text) - 1, text);
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

/* ---- the inspection ---- */

/*
 * The value of a CONFIG GET reply (["save", "900 1 ..."]), or NULL with
 * the probe told to skip it (an empty array: no such setting).
 */
static const char *
redis_config_value(
    struct redis_check *rc, enum redis_step step, const redisReply *reply)
{
	if (reply->type == REDIS_REPLY_ARRAY && reply->elements == 2 &&
	    reply->element[1]->type == REDIS_REPLY_STRING)
		return reply->element[1]->str;
	probe_skip(rc->p, "config", "%s: not answered with a value (%s)",
	    redis_step_names[step],
	    reply->type == REDIS_REPLY_ARRAY ? "no such setting"
					     : "unexpected reply");
	return NULL;
}

/* A reply to an inspection command; never a failure of the attempt. */
static void
redis_inspect_reply(
    struct redis_check *rc, enum redis_step step, const redisReply *reply)
{
	const struct check_cfg *cfg = rc->p->cfg;
	struct redis_inspect_problem pr[PROBE_FINDINGS_MAX];
	char text[sizeof(rc->found[0].text)];
	const char *v;
	size_t n;

	if (reply->type == REDIS_REPLY_ERROR) {
		/* CONFIG renamed or denied by ACL ("unknown command", NOPERM) */
		probe_skip(rc->p, step == REDIS_STEP_INFO ? "info" : "config",
		    "%s refused: %.120s", redis_step_names[step], reply->str);
		return;
	}
	switch (step) {
	case REDIS_STEP_SAVE:
		v = redis_config_value(rc, step, reply);
		if (v != NULL &&
		    redis_inspect_save_drift(
			v, cfg->expect_save, text, sizeof(text)))
			redis_found(rc, PROBE_DRIFT, "save", text);
		break;
	case REDIS_STEP_DATABASES:
		v = redis_config_value(rc, step, reply);
		if (v != NULL &&
		    redis_inspect_databases_drift(
			v, cfg->expect_databases, text, sizeof(text)))
			redis_found(rc, PROBE_DRIFT, "databases", text);
		break;
	case REDIS_STEP_INFO:
		if (reply->type != REDIS_REPLY_STRING) {
			probe_skip(rc->p, "info", "%s: unexpected reply",
			    redis_step_names[step]);
			break;
		}
		n = redis_inspect_persistence(
		    reply->str, pr, PROBE_FINDINGS_MAX);
		for (size_t i = 0; i < n; i++)
			redis_found(
			    rc, PROBE_PERSISTENCE, pr[i].key, pr[i].text);
		break;
	default:
		break;
	}
}

/*
 * The attempt ends once the pipeline and the unauthenticated PING are
 * both through: the findings of a success go to the probe, then done.
 */
static void
redis_finish(struct redis_check *rc)
{
	struct probe *p = rc->p;
	enum probe_status st = rc->st;

	if (rc->main_open || rc->noauth_open)
		return;
	if (rc->cancelled) {
		free(rc);
		return;
	}
	p->priv = NULL;
	/* in a fixed order: the pipeline's, in command order, then nac's */
	if (rc->noauth_answered)
		redis_found(
		    rc, rc->noauth.reason, rc->noauth.key, rc->noauth.text);
	for (size_t i = 0; st == PROBE_OK && i < rc->nfound; i++)
		probe_finding(p, rc->found[i].reason, rc->found[i].key, "%s",
		    rc->found[i].text);
	free(rc);
	p->done(p, st); /* last: p may be gone */
}

/* Forget the unauthenticated PING: its reply no longer matters. */
static void
redis_noauth_drop(struct redis_check *rc)
{
	redisAsyncContext *nac = rc->nac;

	if (nac == NULL)
		return;
	rc->nac = NULL;
	rc->noauth_dropping = true;
	redisAsyncFree(nac); /* runs redis_noauth_cb(NULL) now */
}

/*
 * The answer to PING without AUTH. NOAUTH (or an ACL or protected-mode
 * refusal) is what production wants; PONG, or an error Redis gives only
 * past authentication, means anyone who reaches the port gets in.
 */
static void
redis_noauth_cb(redisAsyncContext *ac, void *r, void *arg)
{
	struct redis_check *rc = arg;
	redisReply *reply = r;
	rc->noauth_open = false;
	if (rc->noauth_dropping)
		return; /* redis_noauth_drop or redis_cancel frees */
	rc->nac = NULL; /* hiredis frees ac after we return */
	if (reply != NULL) {
		if (redis_inspect_noauth_answered(
			reply->type == REDIS_REPLY_ERROR, reply->str)) {
			rc->noauth_answered = true;
			rc->noauth.reason = PROBE_INSECURE;
			snprintf(
			    rc->noauth.key, sizeof(rc->noauth.key), "auth");
			snprintf(rc->noauth.text, sizeof(rc->noauth.text),
			    "PING without a password answered %.40s: any client reaching %s port %d gets in (set requirepass, or turn the default user off)",
			    reply->type == REDIS_REPLY_STATUS ||
				    reply->type == REDIS_REPLY_ERROR
				? reply->str
				: "a reply",
			    rc->p->cfg->host, rc->p->cfg->port);
		}
		redisAsyncDisconnect(ac); /* deferred until we return */
	}
	redis_finish(rc);
}

/* In the production profile: PING on a second connection, no AUTH. */
static void
redis_noauth_start(struct redis_check *rc)
{
	struct probe *p = rc->p;
	redisAsyncContext *nac;

	nac = redisAsyncConnect(p->addr, p->cfg->port); /* numeric */
	if (nac == NULL)
		return; /* out of memory: not checked this time */
	if (nac->err) {
		redisAsyncFree(nac);
		return;
	}
	if (redisLibeventAttach(nac, p->base) != REDIS_OK) {
		redisAsyncFree(nac);
		return;
	}
	if (redisAsyncCommand(nac, redis_noauth_cb, rc, "PING") != REDIS_OK) {
		redisAsyncFree(nac);
		return;
	}
	rc->nac = nac;
	rc->noauth_open = true;
}

/*
 * One call per command, in order; the last one always comes, with
 * reply NULL when the connection failed or was freed, and ends the
 * pipeline.
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
		if (last) {
			rc->main_open = false;
			redis_finish(rc); /* frees rc */
		}
		return;
	}
	if (reply == NULL) {
		redis_set_failure(rc, step, redis_classify_conn(&ac->c),
		    ac->c.errstr[0] ? ac->c.errstr : "connection closed");
	} else if (step >= REDIS_STEP_SAVE) {
		redis_inspect_reply(rc, step, reply);
	} else if (reply->type == REDIS_REPLY_ERROR &&
	    step == REDIS_STEP_AUTH) {
		char shown[PROBE_ERRLEN];

		/* it may quote AUTH's arguments: the password */
		redis_inspect_auth_error(
		    reply->str, p->cfg->password, shown, sizeof(shown));
		redis_set_failure(
		    rc, step, probe_redis_classify(reply->str), shown);
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
	rc->main_open = false;
	st = rc->st;
	if (reply != NULL && !(st == PROBE_OK && redis_watch_start(p, ac) == 0))
		redisAsyncDisconnect(ac); /* deferred until we return */
	if (st != PROBE_OK)
		redis_noauth_drop(rc); /* a failure says enough */
	redis_finish(rc);	       /* last: rc and p may be gone */
}

/* ---- probe_ops ---- */

static int
redis_start(struct probe *p)
{
	const struct check_cfg *cfg = p->cfg;
	struct redis_check *rc;
	redisAsyncContext *ac;
	int ok = REDIS_OK, queued;

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
	/* the inspection, in the same round trip */
	if (ok == REDIS_OK && cfg->expect_save != NULL) {
		rc->steps[rc->nsteps++] = REDIS_STEP_SAVE;
		ok = redisAsyncCommand(
		    ac, redis_reply_cb, rc, "CONFIG GET save");
	}
	if (ok == REDIS_OK && cfg->expect_databases > 0) {
		rc->steps[rc->nsteps++] = REDIS_STEP_DATABASES;
		ok = redisAsyncCommand(
		    ac, redis_reply_cb, rc, "CONFIG GET databases");
	}
	if (ok == REDIS_OK) {
		rc->steps[rc->nsteps++] = REDIS_STEP_INFO;
		ok = redisAsyncCommand(
		    ac, redis_reply_cb, rc, "INFO persistence");
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
		queued = --rc->nsteps;
		rc->main_open = queued > 0;
		redisAsyncFree(ac); /* with queued > 0, the last frees rc */
		if (queued == 0)
			free(rc);
		return -1;
	}
	rc->main_open = true;
	if (cfg->production)
		redis_noauth_start(rc);
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
	redis_noauth_drop(rc);
	if (rc->main_open)
		/* runs redis_reply_cb(NULL) for each command; the last frees rc */
		redisAsyncFree(rc->ac);
	else
		free(rc); /* the pipeline was through: only nac was left */
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
