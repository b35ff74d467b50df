/* SPDX-License-Identifier: MIT */
/*
 * PgBouncer probe: the PostgreSQL probe through the pooler, with the
 * application's startup options, judged by PgBouncer's own messages; with
 * an admin_user, PgBouncer's admin console read in the same attempt (SHOW
 * POOLS, SHOW CONFIG, SHOW DATABASES) for pool pressure and drift.
 * Owns: the pgbouncer classifier and the reading of the admin console.
 */
#include "probe_pgbouncer.h"

#include "config.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*
 * PgBouncer reports nearly everything as 08P01, so its message text is
 * what tells the cases apart.
 */
enum probe_status
probe_pgbouncer_classify(
    const char *msg, const char *sqlstate, char *hint, size_t hintlen)
{
	static const struct {
		const char *needle;
		enum probe_status st;
	} rules[] = {
	    {"unsupported startup parameter", PROBE_REJECTED},
	    {"no such database", PROBE_REJECTED},
	    {"no such user", PROBE_AUTH},
	    {"SASL authentication failed", PROBE_AUTH},
	    {"password authentication failed", PROBE_AUTH},
	    {"auth failed", PROBE_AUTH},
	    {"no more connections allowed", PROBE_SATURATED},
	    {"too many clients", PROBE_SATURATED},
	    {"remaining connection slots", PROBE_SATURATED},
	    {"server login has been failing", PROBE_REFUSED},
	    {"pgbouncer cannot connect to server", PROBE_REFUSED},
	    {"query_wait_timeout", PROBE_TIMEOUT},
	    {"client_login_timeout", PROBE_TIMEOUT},
	    {"pgbouncer is shutting down", PROBE_IO},
	    {"database is paused", PROBE_BUSY},
	};

	if (hintlen > 0)
		hint[0] = '\0';
	for (size_t i = 0; i < sizeof(rules) / sizeof(rules[0]); i++) {
		if (strstr(msg, rules[i].needle) == NULL)
			continue;
		if (i == 0)
			snprintf(hint, hintlen,
			    " (hint: PgBouncer refuses this startup parameter: add it to ignore_startup_parameters in pgbouncer.ini)");
		return rules[i].st;
	}
	return probe_pg_classify(msg, sqlstate, hint, hintlen);
}

/* ---- reading the admin console (pure functions) ---- */

/* The value of column col of row r, or NULL when there is none. */
static const char *
pgb_cell(const PGresult *res, int r, const char *col)
{
	int c = res != NULL ? PQfnumber(res, col) : -1;

	if (c < 0 || r < 0 || r >= PQntuples(res) || PQgetisnull(res, r, c))
		return NULL;
	return PQgetvalue(res, r, c);
}

/*
 * A count from the console, clamped to 0..PGB_COUNT_MAX: sums of a few
 * rows stay far from overflowing whatever the server sends.
 */
#define PGB_COUNT_MAX 1000000L

static long
pgb_long(const PGresult *res, int r, const char *col)
{
	const char *v = pgb_cell(res, r, col);
	long n = v != NULL ? strtol(v, NULL, 10) : 0;

	return n < 0 ? 0 : n > PGB_COUNT_MAX ? PGB_COUNT_MAX : n;
}

int
probe_pgbouncer_pool(
    const PGresult *res, const char *db, struct probe_pgbouncer_pool *out)
{
	memset(out, 0, sizeof(*out));
	if (res == NULL || PQfnumber(res, "database") < 0 ||
	    PQfnumber(res, "cl_waiting") < 0)
		return -1;
	for (int r = 0; r < PQntuples(res); r++) {
		const char *name = pgb_cell(res, r, "database");
		const char *mode = pgb_cell(res, r, "pool_mode");
		double wait;

		if (name == NULL || strcmp(name, db) != 0)
			continue;
		out->found = true;
		out->cl_active += pgb_long(res, r, "cl_active");
		out->cl_waiting += pgb_long(res, r, "cl_waiting");
		out->sv_active += pgb_long(res, r, "sv_active");
		out->sv_idle += pgb_long(res, r, "sv_idle");
		out->sv_used += pgb_long(res, r, "sv_used");
		out->sv_login += pgb_long(res, r, "sv_login");
		wait = (double)pgb_long(res, r, "maxwait") +
		    (double)pgb_long(res, r, "maxwait_us") / 1e6;
		if (wait > out->maxwait_s)
			out->maxwait_s = wait;
		if (mode != NULL && out->pool_mode[0] == '\0')
			snprintf(
			    out->pool_mode, sizeof(out->pool_mode), "%s", mode);
	}
	return 0;
}

const char *
probe_pgbouncer_config(const PGresult *res, const char *key)
{
	for (int r = 0; res != NULL && r < PQntuples(res); r++) {
		const char *k = pgb_cell(res, r, "key");

		if (k != NULL && strcmp(k, key) == 0)
			return pgb_cell(res, r, "value");
	}
	return NULL;
}

int
probe_pgbouncer_database(
    const PGresult *res, const char *db, struct probe_pgbouncer_db *out)
{
	memset(out, 0, sizeof(*out));
	for (int r = 0; res != NULL && r < PQntuples(res); r++) {
		const char *name = pgb_cell(res, r, "name");
		const char *host = pgb_cell(res, r, "host");
		const char *mode = pgb_cell(res, r, "pool_mode");

		if (name == NULL || strcmp(name, db) != 0)
			continue;
		snprintf(out->host, sizeof(out->host), "%s",
		    host != NULL ? host : "");
		out->port = (int)pgb_long(res, r, "port");
		out->pool_size = (int)pgb_long(res, r, "pool_size");
		out->reserve_pool = (int)pgb_long(res, r, "reserve_pool");
		out->max_connections = (int)pgb_long(res, r, "max_connections");
		snprintf(out->pool_mode, sizeof(out->pool_mode), "%s",
		    mode != NULL ? mode : "");
		return 0;
	}
	return -1;
}

int
probe_pgbouncer_server_demand(const PGresult *res, const char *host, int port,
    char *names, size_t nameslen)
{
	int sum = 0;
	size_t used = 0;

	if (nameslen > 0)
		names[0] = '\0';
	for (int r = 0; res != NULL && r < PQntuples(res); r++) {
		const char *name = pgb_cell(res, r, "name");
		const char *h = pgb_cell(res, r, "host");
		int n, cap;

		if (name == NULL || h == NULL || strcmp(h, host) != 0 ||
		    pgb_long(res, r, "port") != port)
			continue;
		n = (int)(pgb_long(res, r, "pool_size") +
		    pgb_long(res, r, "reserve_pool"));
		cap = (int)pgb_long(res, r, "max_connections");
		if (cap > 0 && cap < n)
			n = cap; /* max_db_connections */
		if (sum <= INT_MAX - n)
			sum += n;
		else
			sum = INT_MAX;
		if (used < nameslen) {
			int w = snprintf(names + used, nameslen - used, "%s%s",
			    used ? ", " : "", name);

			if (w > 0)
				used += (size_t)w;
		}
	}
	return sum;
}

int
probe_pgbouncer_parse_range(const char *s, int *lo, int *hi)
{
	char *end;
	long a, b;

	a = strtol(s, &end, 10);
	if (end == s || a < 1 || a > 100000)
		return -1;
	if (*end == '\0') {
		*lo = *hi = (int)a;
		return 0;
	}
	if (*end != '-')
		return -1;
	s = end + 1;
	b = strtol(s, &end, 10);
	if (end == s || *end != '\0' || b < a || b > 100000)
		return -1;
	*lo = (int)a;
	*hi = (int)b;
	return 0;
}

bool
probe_pgbouncer_is_saturated(const struct probe_pgbouncer_pool *pool)
{
	/* clients queue while every server connection serves someone */
	return pool->found && pool->cl_waiting > 0 && pool->sv_active > 0 &&
	    pool->sv_idle == 0;
}

enum probe_pgbouncer_pressure
probe_pgbouncer_pressure(
    const struct check_cfg *cfg, const struct probe_pgbouncer_pool *pool)
{
	int64_t wait_ms = (int64_t)(pool->maxwait_s * 1000);

	if (!probe_pgbouncer_is_saturated(pool))
		return PROBE_PGBOUNCER_CALM;
	if ((cfg->fail_cl_waiting > 0 &&
		pool->cl_waiting >= cfg->fail_cl_waiting) ||
	    (cfg->fail_maxwait_ms > 0 && wait_ms >= cfg->fail_maxwait_ms))
		return PROBE_PGBOUNCER_FAIL;
	if ((cfg->warn_cl_waiting > 0 &&
		pool->cl_waiting >= cfg->warn_cl_waiting) ||
	    (cfg->warn_maxwait_ms > 0 && wait_ms >= cfg->warn_maxwait_ms))
		return PROBE_PGBOUNCER_WARN;
	return PROBE_PGBOUNCER_CALM;
}

/* ---- judging an attempt ---- */

/* SHOW POOLS, SHOW CONFIG, SHOW DATABASES: their order in results. */
enum pgb_query { PGB_POOLS, PGB_CONFIG, PGB_DATABASES, PGB_QUERY_COUNT };

static const char *const pgb_queries[PGB_QUERY_COUNT] = {
    [PGB_POOLS] = "SHOW POOLS",
    [PGB_CONFIG] = "SHOW CONFIG",
    [PGB_DATABASES] = "SHOW DATABASES",
};

static const char *
pgb_dbname(const struct check_cfg *cfg)
{
	return cfg->dbname != NULL ? cfg->dbname : cfg->user;
}

static void
pgb_gauges(struct probe *p, const struct probe_pgbouncer_pool *pool)
{
	probe_gauge(p, "pgbouncer_cl_waiting",
	    "Clients of the check's database waiting for a server connection (SHOW POOLS).",
	    (double)pool->cl_waiting);
	probe_gauge(p, "pgbouncer_maxwait_seconds",
	    "How long the oldest waiting client of the check's database has waited (SHOW POOLS).",
	    pool->maxwait_s);
	probe_gauge(p, "pgbouncer_sv_active",
	    "Server connections of the check's database in use (SHOW POOLS).",
	    (double)pool->sv_active);
}

/*
 * Pool pressure: a finding over the warn thresholds, PROBE_SATURATED
 * (errstr set) over the fail ones. queued: readyd's own query waits too.
 */
static enum probe_status
pgb_judge_pool(
    struct probe *p, const struct probe_pgbouncer_pool *pool, bool queued)
{
	enum probe_pgbouncer_pressure pr =
	    probe_pgbouncer_pressure(p->cfg, pool);
	const char *db = pgb_dbname(p->cfg);
	char text[200];

	if (pr == PROBE_PGBOUNCER_CALM)
		return PROBE_OK;
	snprintf(text, sizeof(text),
	    "pool %s is exhausted: cl_waiting=%ld maxwait=%.1fs (sv_active=%ld, sv_idle=0%s)",
	    db, pool->cl_waiting, pool->maxwait_s, pool->sv_active,
	    queued ? "; readyd's own query queued too" : "");
	if (pr == PROBE_PGBOUNCER_FAIL) {
		probe_seterr(p, "%s", text);
		return PROBE_SATURATED;
	}
	probe_finding(p, PROBE_SATURATED, "pool", "%s", text);
	return PROBE_OK;
}

void
probe_pgbouncer_drift(struct probe *p, const PGresult *conf,
    const PGresult *dbs, const struct probe_pgbouncer_pool *pool)
{
	const struct check_cfg *cfg = p->cfg;
	struct probe_pgbouncer_db db;
	bool have_db = probe_pgbouncer_database(dbs, pgb_dbname(cfg), &db) == 0;
	const char *v;
	int lo, hi;

	if (cfg->expect_pool_mode != NULL) {
		v = pool->pool_mode[0] != '\0' ? pool->pool_mode
		    : have_db && db.pool_mode[0] != '\0'
		    ? db.pool_mode
		    : probe_pgbouncer_config(conf, "pool_mode");
		if (v != NULL && strcmp(v, cfg->expect_pool_mode) != 0)
			probe_finding(p, PROBE_DRIFT, "pool_mode",
			    "pool_mode is %s (expected %s)", v,
			    cfg->expect_pool_mode);
	}
	if (cfg->expect_pool_size != NULL &&
	    probe_pgbouncer_parse_range(cfg->expect_pool_size, &lo, &hi) == 0) {
		const char *what = "pool_size";
		char num[16];
		long n = -1;

		v = NULL;
		if (have_db && db.pool_size > 0) {
			n = db.pool_size;
			snprintf(num, sizeof(num), "%ld", n);
			v = num;
		} else if ((v = probe_pgbouncer_config(
				conf, "default_pool_size")) != NULL) {
			n = probe_parse_uint(v);
			what = "default_pool_size";
		}
		if (v != NULL && (n < lo || n > hi))
			probe_finding(p, PROBE_DRIFT, what,
			    "%s of %s is %s (expected %s)", what,
			    pgb_dbname(cfg), v, cfg->expect_pool_size);
	}
	if (cfg->expect_max_client_conn > 0 &&
	    (v = probe_pgbouncer_config(conf, "max_client_conn")) != NULL &&
	    probe_parse_uint(v) != cfg->expect_max_client_conn)
		probe_finding(p, PROBE_DRIFT, "max_client_conn",
		    "max_client_conn is %s (expected %d)", v,
		    cfg->expect_max_client_conn);
	if (cfg->expect_listen_port > 0 &&
	    (v = probe_pgbouncer_config(conf, "listen_port")) != NULL &&
	    probe_parse_uint(v) != cfg->expect_listen_port)
		probe_finding(p, PROBE_DRIFT, "listen_port",
		    "listen_port is %s (expected %d)", v,
		    cfg->expect_listen_port);
}

int64_t
probe_pgbouncer_room(const struct probe_pg_row *row)
{
	int64_t room;

	if (row->max_connections < 0 || row->reserved < 0 ||
	    row->reserved_connections < 0)
		return -1;
	room = (int64_t)row->max_connections - row->reserved -
	    row->reserved_connections;
	return room < 0 ? 0 : room;
}

void
probe_pgbouncer_fit(struct probe *p, const struct probe_pg_row *row, int demand,
    const char *names, const char *host, int port)
{
	int64_t room = probe_pgbouncer_room(row);
	char rc[48] = "";

	if (room < 0) {
		probe_skip(p, "max_connections",
		    "max_connections, superuser_reserved_connections or reserved_connections is not a plain number: the pools' fit is not checked");
		return;
	}
	if (row->max_connections == 0 || demand <= room)
		return;
	if (row->reserved_connections > 0)
		snprintf(rc, sizeof(rc), " - %d reserved_connections",
		    row->reserved_connections);
	probe_finding(p, PROBE_DRIFT, "max_connections",
	    "the pools of %s on %s:%d may open %d server connections; max_connections %d - %d reserved%s leaves %lld",
	    names, host, port, demand, row->max_connections, row->reserved, rc,
	    (long long)room);
}

/* The pools PgBouncer may open to the server must fit max_connections. */
static void
pgb_judge_fit(struct probe *p, const struct probe_pg_row *row,
    const struct probe_pg_admin *a)
{
	struct probe_pgbouncer_db db;
	char names[120];
	int demand;

	if (probe_pgbouncer_database(
		a->res[PGB_DATABASES], pgb_dbname(p->cfg), &db) != 0 ||
	    db.host[0] == '\0')
		return;
	demand = probe_pgbouncer_server_demand(
	    a->res[PGB_DATABASES], db.host, db.port, names, sizeof(names));
	probe_pgbouncer_fit(p, row, demand, names, db.host, db.port);
}

static enum probe_status
pgb_judge(struct probe *p, const struct probe_pg_row *row,
    const struct probe_pg_admin *a)
{
	struct probe_pgbouncer_pool pool;
	enum probe_status st = PROBE_OK;

	probe_pg_judge_version(p, row);
	if (a->nres == 0)
		return PROBE_OK; /* no admin console */
	if (probe_pgbouncer_pool(
		a->res[PGB_POOLS], pgb_dbname(p->cfg), &pool) == 0) {
		pgb_gauges(p, &pool);
		st = pgb_judge_pool(p, &pool, false);
	}
	if (st != PROBE_OK)
		return st;
	probe_pgbouncer_drift(
	    p, a->res[PGB_CONFIG], a->res[PGB_DATABASES], &pool);
	pgb_judge_fit(p, row, a);
	return PROBE_OK;
}

/*
 * The console answered while readyd's own query waits. A pool that is
 * exhausted makes the query queue: wait for it as long as fail_maxwait
 * allows, and at most three quarters of the attempt's deadline (over a
 * fail threshold already: not at all); served in time, the judgement
 * warns; not, it fails saturated (pgb_impatient), not timeout. Otherwise
 * wait for the query (or the deadline): nothing says the pool is why it
 * waits.
 */
static int64_t
pgb_patience(struct probe *p, const struct probe_pg_admin *a)
{
	struct probe_pgbouncer_pool pool;

	if (a->nres == 0 ||
	    probe_pgbouncer_pool(
		a->res[PGB_POOLS], pgb_dbname(p->cfg), &pool) != 0)
		return -1;
	switch (probe_pgbouncer_pressure(p->cfg, &pool)) {
	case PROBE_PGBOUNCER_FAIL:
		return 0;
	case PROBE_PGBOUNCER_WARN:
		if (p->cfg->fail_maxwait_ms <= 0)
			return -1;
		if (p->deadline_ms > 0 &&
		    p->deadline_ms * 3 / 4 < p->cfg->fail_maxwait_ms)
			return p->deadline_ms * 3 / 4;
		return p->cfg->fail_maxwait_ms;
	default:
		return -1;
	}
}

static enum probe_status
pgb_impatient(struct probe *p, const struct probe_pg_admin *a, double waited_s)
{
	struct probe_pgbouncer_pool pool;
	enum probe_status st;
	char text[200];

	if (probe_pgbouncer_pool(
		a->res[PGB_POOLS], pgb_dbname(p->cfg), &pool) != 0)
		return PROBE_PROTOCOL; /* patience said it was there */
	pgb_gauges(p, &pool);
	st = pgb_judge_pool(p, &pool, true);
	if (st == PROBE_SATURATED) /* over a fail threshold already */
		return st;
	snprintf(text, sizeof(text),
	    "pool %s is exhausted: cl_waiting=%ld maxwait=%.1fs (sv_active=%ld, sv_idle=0); readyd's own query waited %.1fs",
	    pgb_dbname(p->cfg), pool.cl_waiting, pool.maxwait_s, pool.sv_active,
	    waited_s);
	p->nfindings = 0;
	probe_seterr(p, "%s", text);
	return PROBE_SATURATED;
}

static const struct probe_pg_kind pgb_kind = {
    .classify = probe_pgbouncer_classify,
    .admin_queries = pgb_queries,
    .nadmin = PGB_QUERY_COUNT,
    .judge = pgb_judge,
    .patience = pgb_patience,
    .impatient = pgb_impatient,
};

static int
pgbouncer_start(struct probe *p)
{
	return probe_pg_start(p, &pgb_kind);
}

/* ---- configuration ---- */

static const char *
pgb_check_pool_mode(const char *v)
{
	if (*v == '\0' || strcmp(v, "session") == 0 ||
	    strcmp(v, "transaction") == 0 || strcmp(v, "statement") == 0)
		return NULL;
	return "unknown pool mode";
}

static const char *
pgb_check_range(const char *v)
{
	int lo, hi;

	if (*v == '\0' || probe_pgbouncer_parse_range(v, &lo, &hi) == 0)
		return NULL;
	return "not a size or range";
}

static const struct probe_key pgb_keys[] = {
    PROBE_PG_KEYS,
    {.name = "admin_user",
	.type = PROBE_KEY_TEXT,
	.offset = offsetof(struct check_cfg, admin_user),
	.accepted = "a user in PgBouncer's admin_users or stats_users"},
    {.name = "admin_password",
	.type = PROBE_KEY_SECRET,
	.offset = offsetof(struct check_cfg, admin_password),
	.accepted = "the admin user's password, or admin_password_file"},
    {.name = "admin_password_file",
	.type = PROBE_KEY_SECRET_FILE,
	.offset = offsetof(struct check_cfg, admin_password),
	.accepted = "a readable file holding the admin user's password"},
    {.name = "expect_pool_mode",
	.type = PROBE_KEY_TEXT,
	.offset = offsetof(struct check_cfg, expect_pool_mode),
	.accepted = "session, transaction or statement, or empty",
	.check = pgb_check_pool_mode},
    {.name = "expect_pool_size",
	.type = PROBE_KEY_TEXT,
	.offset = offsetof(struct check_cfg, expect_pool_size),
	.accepted = "a pool size such as 25 or a range such as 25-50, or empty",
	.check = pgb_check_range},
    {.name = "expect_max_client_conn",
	.type = PROBE_KEY_INT,
	.min = 0,
	.max = 1000000,
	.offset = offsetof(struct check_cfg, expect_max_client_conn),
	.accepted = "a number of clients such as 100, or empty",
	.optional = true},
    {.name = "expect_listen_port",
	.type = PROBE_KEY_INT,
	.min = 0,
	.max = 65535,
	.offset = offsetof(struct check_cfg, expect_listen_port),
	.accepted = "1-65535, or empty",
	.optional = true},
    {.name = "warn_cl_waiting",
	.type = PROBE_KEY_INT,
	.min = 0,
	.max = 1000000,
	.offset = offsetof(struct check_cfg, warn_cl_waiting),
	.accepted = "a number of waiting clients; 0: never",
	.def = PROBE_PGBOUNCER_WARN_CL_WAITING,
	.optional = true},
    {.name = "fail_cl_waiting",
	.type = PROBE_KEY_INT,
	.min = 0,
	.max = 1000000,
	.offset = offsetof(struct check_cfg, fail_cl_waiting),
	.accepted = "a number of waiting clients; 0: never",
	.def = PROBE_PGBOUNCER_FAIL_CL_WAITING,
	.optional = true},
    {.name = "warn_maxwait",
	.type = PROBE_KEY_DURATION,
	.min = 0,
	.offset = offsetof(struct check_cfg, warn_maxwait_ms),
	.accepted = "a duration such as 1s; 0: never",
	.def = PROBE_PGBOUNCER_WARN_MAXWAIT_MS,
	.optional = true},
    {.name = "fail_maxwait",
	.type = PROBE_KEY_DURATION,
	.min = 0,
	.offset = offsetof(struct check_cfg, fail_maxwait_ms),
	.accepted = "a duration such as 5s; 0: never",
	.def = PROBE_PGBOUNCER_FAIL_MAXWAIT_MS,
	.optional = true},
};

/* The admin console's checks need an admin_user to log in as. */
static int
pgbouncer_validate(
    const struct check_cfg *cfg, const char **key, char *err, size_t errlen)
{
	static const struct {
		const char *key;
		size_t off;
		bool text;
	} needs[] = {
	    {"admin_password", offsetof(struct check_cfg, admin_password),
		true},
	    {"expect_pool_mode", offsetof(struct check_cfg, expect_pool_mode),
		true},
	    {"expect_pool_size", offsetof(struct check_cfg, expect_pool_size),
		true},
	    {"expect_max_client_conn",
		offsetof(struct check_cfg, expect_max_client_conn), false},
	    {"expect_listen_port",
		offsetof(struct check_cfg, expect_listen_port), false},
	};

	if (probe_pg_validate(cfg, key, err, errlen) < 0)
		return -1;
	if (cfg->admin_user != NULL)
		return 0;
	for (size_t i = 0; i < sizeof(needs) / sizeof(needs[0]); i++) {
		const char *base = (const char *)cfg;
		const char *s;
		int n;
		bool set;

		if (needs[i].text) {
			memcpy(&s, base + needs[i].off, sizeof(s));
			set = s != NULL;
		} else {
			memcpy(&n, base + needs[i].off, sizeof(n));
			set = n != 0;
		}
		if (!set)
			continue;
		*key = needs[i].key;
		snprintf(err, errlen,
		    "needs admin_user: only PgBouncer's admin console tells (accepted: set admin_user too, or leave %s empty)",
		    needs[i].key);
		return -1;
	}
	return 0;
}

const struct probe_ops probe_pgbouncer_ops = {
    .name = "pgbouncer",
    .port = 6432,
    .auth = true,
    .keys = pgb_keys,
    .nkeys = sizeof(pgb_keys) / sizeof(pgb_keys[0]),
    .validate = pgbouncer_validate,
    .target = probe_pg_target,
    .same = probe_pg_same,
    .start = pgbouncer_start,
    .cancel = probe_pg_cancel,
    .unwatch = probe_pg_unwatch,
    .heartbeat = probe_pg_heartbeat,
};
