/* SPDX-License-Identifier: MIT */
/*
 * The pgbouncer kind's reading of the admin console, on results built
 * like PgBouncer 1.18's (SHOW POOLS, SHOW CONFIG, SHOW DATABASES), and
 * the findings helpers every kind shares.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "config.h"
#include "probe.h"
#include "probe_pgbouncer.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

/* A result with columns cols (ncols) and rows of cells (NULL: SQL NULL). */
static PGresult *
table(const char *const *cols, int ncols, const char *const *cells, int nrows)
{
	PGresult *res = PQmakeEmptyPGresult(NULL, PGRES_TUPLES_OK);
	PGresAttDesc attrs[16];

	assert_non_null(res);
	assert_true(ncols <= 16);
	memset(attrs, 0, sizeof(attrs));
	for (int c = 0; c < ncols; c++) {
		attrs[c].name = (char *)cols[c];
		attrs[c].format = 0;
		attrs[c].typid = 25; /* text */
		attrs[c].typlen = -1;
		attrs[c].atttypmod = -1;
	}
	assert_true(PQsetResultAttrs(res, ncols, attrs));
	for (int r = 0; r < nrows; r++)
		for (int c = 0; c < ncols; c++) {
			const char *v = cells[r * ncols + c];

			assert_true(PQsetvalue(res, r, c, (char *)v,
			    v != NULL ? (int)strlen(v) : -1));
		}
	return res;
}

/* SHOW POOLS of PgBouncer 1.18, column order as it prints them. */
static const char *const pools_cols[] = {"database", "user", "cl_active",
    "cl_waiting", "cl_cancel_req", "sv_active", "sv_idle", "sv_used",
    "sv_tested", "sv_login", "maxwait", "maxwait_us", "pool_mode"};

static PGresult *
pools(const char *const *cells, int nrows)
{
	return table(pools_cols, 13, cells, nrows);
}

static void
test_pgbouncer_pool_sums_the_database(void **state)
{
	static const char *const cells[] = {
	    "pgbouncer", "pgbouncer", "1", "0", "0", "0", "0", "0", "0", "0",
	    "0", "0", "statement", /* admin */
	    "hdms_db", "app", "1", "2", "0", "1", "0", "0", "0", "0", "3",
	    "250000", "transaction", /* app */
	    "hdms_db", "other", "0", "1", "0", "0", "0", "0", "0", "0", "1",
	    "0", "transaction", /* 2nd */
	};
	struct probe_pgbouncer_pool p;
	PGresult *res = pools(cells, 3);

	(void)state;
	assert_int_equal(probe_pgbouncer_pool(res, "hdms_db", &p), 0);
	assert_true(p.found);
	assert_int_equal(p.cl_waiting, 3);
	assert_int_equal(p.cl_active, 1);
	assert_int_equal(p.sv_active, 1);
	assert_int_equal(p.sv_idle, 0);
	assert_true(p.maxwait_s > 3.24 && p.maxwait_s < 3.26); /* the max */
	assert_string_equal(p.pool_mode, "transaction");
	assert_true(probe_pgbouncer_is_saturated(&p));
	/* another database: not found, not saturated */
	assert_int_equal(probe_pgbouncer_pool(res, "nope", &p), 0);
	assert_false(p.found);
	assert_false(probe_pgbouncer_is_saturated(&p));
	PQclear(res);
	/* not SHOW POOLS at all */
	res = table((const char *const[]){"key", "value"}, 2, NULL, 0);
	assert_int_equal(probe_pgbouncer_pool(res, "hdms_db", &p), -1);
	assert_int_equal(probe_pgbouncer_pool(NULL, "hdms_db", &p), -1);
	PQclear(res);
}

/*
 * Waiting clients are pressure only while every server connection
 * serves one: PostgreSQL down (logins pending, none active) is not.
 */
static void
test_pgbouncer_pressure_thresholds(void **state)
{
	struct check_cfg cfg = {
	    .warn_cl_waiting = PROBE_PGBOUNCER_WARN_CL_WAITING,
	    .fail_cl_waiting = PROBE_PGBOUNCER_FAIL_CL_WAITING,
	    .warn_maxwait_ms = PROBE_PGBOUNCER_WARN_MAXWAIT_MS,
	    .fail_maxwait_ms = PROBE_PGBOUNCER_FAIL_MAXWAIT_MS,
	};
	struct probe_pgbouncer_pool p = {
	    .found = true, .cl_waiting = 0, .sv_active = 25};

	(void)state;
	assert_int_equal(
	    probe_pgbouncer_pressure(&cfg, &p), PROBE_PGBOUNCER_CALM);
	p.cl_waiting = 1; /* full, one client queues */
	assert_int_equal(
	    probe_pgbouncer_pressure(&cfg, &p), PROBE_PGBOUNCER_WARN);
	p.maxwait_s = 4.9;
	assert_int_equal(
	    probe_pgbouncer_pressure(&cfg, &p), PROBE_PGBOUNCER_WARN);
	p.maxwait_s = 5.0; /* fail_maxwait */
	assert_int_equal(
	    probe_pgbouncer_pressure(&cfg, &p), PROBE_PGBOUNCER_FAIL);
	p.sv_idle = 1; /* an idle server: nobody really waits on the pool */
	assert_int_equal(
	    probe_pgbouncer_pressure(&cfg, &p), PROBE_PGBOUNCER_CALM);
	p.sv_idle = 0;
	p.sv_active = 0; /* PostgreSQL down: logins pending, not saturation */
	p.sv_login = 1;
	assert_int_equal(
	    probe_pgbouncer_pressure(&cfg, &p), PROBE_PGBOUNCER_CALM);
	/* thresholds off (0): never; a count threshold alone */
	p.sv_active = 25;
	p.sv_login = 0;
	p.maxwait_s = 100;
	cfg.fail_maxwait_ms = 0;
	cfg.warn_maxwait_ms = 0;
	cfg.warn_cl_waiting = 3;
	p.cl_waiting = 2;
	assert_int_equal(
	    probe_pgbouncer_pressure(&cfg, &p), PROBE_PGBOUNCER_CALM);
	cfg.fail_cl_waiting = 2;
	assert_int_equal(
	    probe_pgbouncer_pressure(&cfg, &p), PROBE_PGBOUNCER_FAIL);
}

static void
test_pgbouncer_config_and_databases(void **state)
{
	static const char *const conf_cells[] = {
	    "listen_port",
	    "6432",
	    "6432",
	    "no",
	    "pool_mode",
	    "session",
	    "session",
	    "yes",
	    "max_client_conn",
	    "100",
	    "100",
	    "yes",
	    "default_pool_size",
	    "20",
	    "20",
	    "yes",
	};
	static const char *const db_cols[] = {"name", "host", "port",
	    "database", "force_user", "pool_size", "min_pool_size",
	    "reserve_pool", "pool_mode", "max_connections",
	    "current_connections", "paused", "disabled"};
	static const char *const db_cells[] = {
	    "hdms_db",
	    "postgres",
	    "5432",
	    "hdms_db",
	    NULL,
	    "25",
	    "0",
	    "5",
	    NULL,
	    "0",
	    "3",
	    "0",
	    "0",
	    "reports",
	    "postgres",
	    "5432",
	    "reports",
	    NULL,
	    "40",
	    "0",
	    "0",
	    "session",
	    "30",
	    "0",
	    "0",
	    "0",
	    "elsewhere",
	    "pg2",
	    "5432",
	    "x",
	    NULL,
	    "50",
	    "0",
	    "0",
	    NULL,
	    "0",
	    "0",
	    "0",
	    "0",
	    "pgbouncer",
	    NULL,
	    "6432",
	    "pgbouncer",
	    "pgbouncer",
	    "2",
	    "0",
	    "0",
	    "statement",
	    "0",
	    "0",
	    "0",
	    "0",
	};
	PGresult *conf = table(
	    (const char *const[]){"key", "value", "default", "changeable"}, 4,
	    conf_cells, 4);
	PGresult *dbs = table(db_cols, 13, db_cells, 4);
	struct probe_pgbouncer_db db;
	char names[64];

	(void)state;
	assert_string_equal(
	    probe_pgbouncer_config(conf, "pool_mode"), "session");
	assert_string_equal(
	    probe_pgbouncer_config(conf, "listen_port"), "6432");
	assert_null(probe_pgbouncer_config(conf, "no_such_key"));
	assert_null(probe_pgbouncer_config(NULL, "pool_mode"));
	assert_int_equal(probe_pgbouncer_database(dbs, "hdms_db", &db), 0);
	assert_string_equal(db.host, "postgres");
	assert_int_equal(db.port, 5432);
	assert_int_equal(db.pool_size, 25);
	assert_int_equal(db.reserve_pool, 5);
	assert_string_equal(db.pool_mode, ""); /* the default applies */
	assert_int_equal(probe_pgbouncer_database(dbs, "reports", &db), 0);
	assert_string_equal(db.pool_mode, "session");
	assert_int_equal(probe_pgbouncer_database(dbs, "nope", &db), -1);
	/*
	 * What PgBouncer may open to postgres:5432: hdms_db 25 + 5,
	 * reports 40 capped by max_db_connections 30; not pg2's.
	 */
	assert_int_equal(probe_pgbouncer_server_demand(
			     dbs, "postgres", 5432, names, sizeof(names)),
	    60);
	assert_string_equal(names, "hdms_db, reports");
	assert_int_equal(probe_pgbouncer_server_demand(
			     dbs, "postgres", 5433, names, sizeof(names)),
	    0);
	assert_string_equal(names, "");
	PQclear(conf);
	PQclear(dbs);
}

static void
test_pgbouncer_parse_range(void **state)
{
	int lo = 0, hi = 0;

	(void)state;
	assert_int_equal(probe_pgbouncer_parse_range("25-50", &lo, &hi), 0);
	assert_int_equal(lo, 25);
	assert_int_equal(hi, 50);
	assert_int_equal(probe_pgbouncer_parse_range("30", &lo, &hi), 0);
	assert_int_equal(lo, 30);
	assert_int_equal(hi, 30);
	assert_int_equal(probe_pgbouncer_parse_range("", &lo, &hi), -1);
	assert_int_equal(probe_pgbouncer_parse_range("50-25", &lo, &hi), -1);
	assert_int_equal(probe_pgbouncer_parse_range("25-", &lo, &hi), -1);
	assert_int_equal(probe_pgbouncer_parse_range("-5", &lo, &hi), -1);
	assert_int_equal(probe_pgbouncer_parse_range("0", &lo, &hi), -1);
	assert_int_equal(probe_pgbouncer_parse_range("25-50x", &lo, &hi), -1);
	assert_int_equal(probe_pgbouncer_parse_range("2 5", &lo, &hi), -1);
}

/* SHOW CONFIG with these three values (key, value, default, changeable). */
static PGresult *
config_of(const char *max_client_conn, const char *listen_port,
    const char *default_pool_size)
{
	const char *const cells[] = {
	    "max_client_conn",
	    max_client_conn,
	    "100",
	    "yes",
	    "listen_port",
	    listen_port,
	    "6432",
	    "no",
	    "default_pool_size",
	    default_pool_size,
	    "20",
	    "yes",
	    "pool_mode",
	    "transaction",
	    "session",
	    "yes",
	};

	return table(
	    (const char *const[]){"key", "value", "default", "changeable"}, 4,
	    cells, 4);
}

/*
 * Judge drift for p against SHOW CONFIG with values (max_client_conn,
 * listen_port, default_pool_size): the findings' texts must be texts[0..n).
 */
static void
assert_drift(struct probe *p, const char *const values[3],
    const char *const *texts, size_t n)
{
	PGresult *conf = config_of(values[0], values[1], values[2]);
	struct probe_pgbouncer_pool pool = {0};

	probe_pgbouncer_drift(p, conf, NULL, &pool);
	assert_int_equal(p->nfindings, n);
	for (size_t i = 0; i < n; i++)
		assert_string_equal(p->findings[i].text, texts[i]);
	PQclear(conf);
	probe_clear_findings(p);
}

/*
 * Settings against expect_*: a value past INT_MAX is not the expected
 * number its low 32 bits happen to make (4294967396 is not 100), nor is
 * text that is no number.
 */
static void
test_pgbouncer_drift_settings(void **state)
{
	char db[] = "hdms_db", mode[] = "transaction", size[] = "25-50";
	struct check_cfg cfg = {.dbname = db,
	    .expect_pool_mode = mode,
	    .expect_pool_size = size,
	    .expect_max_client_conn = 100,
	    .expect_listen_port = 6432};
	struct probe p = {.cfg = &cfg};
	struct probe_pgbouncer_pool pool = {0};

	(void)state;
	assert_drift(&p, (const char *const[]){"100", "6432", "25"}, NULL, 0);
	assert_drift(&p,
	    (const char *const[]){"4294967396", "4294973728", "4294967321"},
	    (const char *const[]){
		"default_pool_size of hdms_db is 4294967321 (expected 25-50)",
		"max_client_conn is 4294967396 (expected 100)",
		"listen_port is 4294973728 (expected 6432)"},
	    3);
	assert_drift(&p, (const char *const[]){"100x", "", "abc"},
	    (const char *const[]){
		"default_pool_size of hdms_db is abc (expected 25-50)",
		"max_client_conn is 100x (expected 100)",
		"listen_port is  (expected 6432)"},
	    3);
	/* nothing answered: nothing to compare */
	probe_pgbouncer_drift(&p, NULL, NULL, &pool);
	assert_int_equal(p.nfindings, 0);
}

/* p has exactly one finding, reason drift, with key and text; cleared. */
static void
assert_one_drift(struct probe *p, const char *key, const char *text)
{
	assert_int_equal(p->nfindings, 1);
	assert_int_equal(p->findings[0].reason, PROBE_DRIFT);
	assert_string_equal(p->findings[0].key, key);
	assert_string_equal(p->findings[0].text, text);
	probe_clear_findings(p);
}

/* server_version_num against expect_version: drift only when older. */
static void
test_pg_judge_version(void **state)
{
	struct check_cfg cfg = {.expect_version = 16};
	struct probe p = {.cfg = &cfg};
	struct probe_pg_row row = {.version_num = 150010};

	(void)state;
	probe_pg_judge_version(&p, &row);
	assert_one_drift(&p, "server_version",
	    "PostgreSQL 15 (server_version_num 150010) is older than the expected 16");
	row.version_num = 160004; /* the same */
	probe_pg_judge_version(&p, &row);
	row.version_num = 170000; /* newer is no drift */
	probe_pg_judge_version(&p, &row);
	row.version_num = 0; /* unknown */
	probe_pg_judge_version(&p, &row);
	row.version_num = -1; /* not a plain number: skipped */
	probe_pg_judge_version(&p, &row);
	assert_int_equal(p.nfindings, 0);
	assert_int_equal(p.nskips, 1);
	assert_string_equal(p.skips[0].key, "server_version");
	probe_clear_findings(&p);
	cfg.expect_version = 0; /* not checked */
	row.version_num = 90600;
	probe_pg_judge_version(&p, &row);
	row.version_num = -1;
	probe_pg_judge_version(&p, &row);
	assert_int_equal(p.nfindings + p.nskips, 0);
}

/*
 * The one parser of numbers servers send: plain digits up to INT_MAX,
 * nothing atoi would have read as another number.
 */
static void
test_probe_parse_uint(void **state)
{
	(void)state;
	assert_int_equal(probe_parse_uint("0"), 0);
	assert_int_equal(probe_parse_uint("150010"), 150010);
	assert_int_equal(probe_parse_uint("007"), 7);
	assert_int_equal(probe_parse_uint("2147483647"), INT_MAX);
	assert_int_equal(probe_parse_uint("2147483648"), -1);
	assert_int_equal(probe_parse_uint("4294967396"), -1); /* atoi: 100 */
	assert_int_equal(probe_parse_uint("99999999999999999999999"), -1);
	assert_int_equal(probe_parse_uint(NULL), -1);
	assert_int_equal(probe_parse_uint(""), -1);
	assert_int_equal(probe_parse_uint("-1"), -1);
	assert_int_equal(probe_parse_uint("+5"), -1);
	assert_int_equal(probe_parse_uint(" 5"), -1);
	assert_int_equal(probe_parse_uint("5 "), -1);
	assert_int_equal(probe_parse_uint("100x"), -1);
	assert_int_equal(probe_parse_uint("1e3"), -1);
}

/* The probe's query's row: PG_QUERY's six columns, one row. */
static PGresult *
pg_row_of(const char *version, const char *max, const char *reserved,
    const char *reserved_connections)
{
	const char *const cells[] = {
	    "f", "off", version, max, reserved, reserved_connections};

	return table(
	    (const char *const[]){"pg_is_in_recovery", "current_setting",
		"current_setting", "current_setting", "current_setting",
		"current_setting"},
	    6, cells, 1);
}

/*
 * The row's numbers with bounds: a max_connections of 4294967396 is not
 * the 100 atoi made of it but unknown (-1), and so is text; a NULL
 * reserved_connections (PostgreSQL 15) is 0.
 */
static void
test_pg_read_row(void **state)
{
	struct probe_pg_row row;
	PGresult *res;

	(void)state;
	res = pg_row_of("150010", "4294967396", "3", NULL);
	probe_pg_read_row(res, &row);
	assert_int_equal(row.version_num, 150010);
	assert_int_equal(row.max_connections, -1);
	assert_int_equal(row.reserved, 3);
	assert_int_equal(row.reserved_connections, 0);
	PQclear(res);
	res = pg_row_of("160004", "100", "3", "10");
	probe_pg_read_row(res, &row);
	assert_int_equal(row.version_num, 160004);
	assert_int_equal(row.max_connections, 100);
	assert_int_equal(row.reserved, 3);
	assert_int_equal(row.reserved_connections, 10);
	PQclear(res);
	res = pg_row_of("16devel", "50", "-3", "x");
	probe_pg_read_row(res, &row);
	assert_int_equal(row.version_num, -1);
	assert_int_equal(row.max_connections, 50);
	assert_int_equal(row.reserved, -1);
	assert_int_equal(row.reserved_connections, -1);
	PQclear(res);
	/* the old five columns: nothing known */
	res = table((const char *const[]){"a", "b", "c", "d", "e"}, 5,
	    (const char *const[]){"f", "off", "150010", "50", "3"}, 1);
	probe_pg_read_row(res, &row);
	assert_int_equal(row.version_num, -1);
	assert_int_equal(row.max_connections, -1);
	PQclear(res);
}

/*
 * The room left to PgBouncer's server connections: max_connections less
 * superuser_reserved_connections and, on PostgreSQL 16, the
 * reserved_connections only pg_use_reserved_connections may take.
 */
static void
test_pgbouncer_fit(void **state)
{
	struct check_cfg cfg = {0};
	struct probe p = {.cfg = &cfg};
	struct probe_pg_row pg15 = {.version_num = 150010,
	    .max_connections = 50,
	    .reserved = 3,
	    .reserved_connections = 0};
	struct probe_pg_row pg16 = {.version_num = 160004,
	    .max_connections = 100,
	    .reserved = 3,
	    .reserved_connections = 10};
	struct probe_pg_row big = {.max_connections = INT_MAX,
	    .reserved = 0,
	    .reserved_connections = 0};
	struct probe_pg_row over = {
	    .max_connections = 10, .reserved = 3, .reserved_connections = 20};
	struct probe_pg_row unknown = pg16;

	(void)state;
	assert_int_equal(probe_pgbouncer_room(&pg15), 47);
	assert_int_equal(probe_pgbouncer_room(&pg16), 87);
	assert_int_equal(probe_pgbouncer_room(&big), INT_MAX);
	assert_int_equal(probe_pgbouncer_room(&over), 0);
	/* PostgreSQL 15: the text t_drift asserts */
	probe_pgbouncer_fit(&p, &pg15, 47, "hdms_db", "127.0.0.1", 5432);
	assert_int_equal(p.nfindings, 0);
	probe_pgbouncer_fit(&p, &pg15, 50, "hdms_db", "127.0.0.1", 5432);
	assert_one_drift(&p, "max_connections",
	    "the pools of hdms_db on 127.0.0.1:5432 may open 50 server connections; max_connections 50 - 3 reserved leaves 47");
	/* PostgreSQL 16: 90 fit 100 - 3, not 100 - 3 - 10 */
	probe_pgbouncer_fit(&p, &pg16, 87, "hdms_db", "pg", 5432);
	assert_int_equal(p.nfindings, 0);
	probe_pgbouncer_fit(&p, &pg16, 90, "hdms_db, reports", "pg", 5432);
	assert_one_drift(&p, "max_connections",
	    "the pools of hdms_db, reports on pg:5432 may open 90 server connections; max_connections 100 - 3 reserved - 10 reserved_connections leaves 87");
	/* a number that is not one: no finding, a skip (logged once) */
	unknown.reserved_connections = -1;
	assert_int_equal(probe_pgbouncer_room(&unknown), -1);
	probe_pgbouncer_fit(&p, &unknown, 1000, "hdms_db", "pg", 5432);
	unknown = pg16;
	unknown.max_connections = -1;
	probe_pgbouncer_fit(&p, &unknown, 1000, "hdms_db", "pg", 5432);
	assert_int_equal(p.nfindings, 0);
	assert_int_equal(p.nskips, 2);
	assert_string_equal(p.skips[0].key, "max_connections");
	probe_clear_findings(&p);
}

/* Findings: one line each, capped; gauges by name; skips. */
static void
test_probe_findings_helpers(void **state)
{
	struct probe p;

	(void)state;
	memset(&p, 0, sizeof(p));
	for (int i = 0; i < PROBE_FINDINGS_MAX + 3; i++)
		probe_finding(&p, PROBE_DRIFT, "k", "line %d\nnext\tone", i);
	assert_int_equal(p.nfindings, PROBE_FINDINGS_MAX);
	assert_string_equal(p.findings[0].text, "line 0 next one");
	probe_gauge(&p, "g", "help", 1);
	probe_gauge(&p, "g", "help", 2);
	assert_int_equal(p.ngauges, 1);
	assert_true(p.gauges[0].value == 2);
	probe_skip(&p, "admin", "refused: %s", "x");
	assert_int_equal(p.nskips, 1);
	assert_string_equal(p.skips[0].text, "refused: x");
	assert_true(probe_status_is_finding(PROBE_DRIFT));
	assert_true(probe_status_is_finding(PROBE_PERSISTENCE));
	assert_true(probe_status_is_finding(PROBE_INSECURE));
	assert_false(probe_status_is_finding(PROBE_SATURATED));
	assert_string_equal(probe_status_name(PROBE_DRIFT), "drift");
	assert_string_equal(
	    probe_status_name(PROBE_PERSISTENCE), "persistence");
	assert_string_equal(probe_status_name(PROBE_INSECURE), "insecure");
	probe_clear_findings(&p);
	assert_int_equal(p.nfindings + p.ngauges + p.nskips, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_pgbouncer_pool_sums_the_database),
	    cmocka_unit_test(test_pgbouncer_pressure_thresholds),
	    cmocka_unit_test(test_pgbouncer_config_and_databases),
	    cmocka_unit_test(test_pgbouncer_parse_range),
	    cmocka_unit_test(test_pgbouncer_drift_settings),
	    cmocka_unit_test(test_pg_judge_version),
	    cmocka_unit_test(test_probe_parse_uint),
	    cmocka_unit_test(test_pg_read_row),
	    cmocka_unit_test(test_pgbouncer_fit),
	    cmocka_unit_test(test_probe_findings_helpers),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
