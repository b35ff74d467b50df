/* SPDX-License-Identifier: MIT */
/*
 * Renderer tests: snapshots in, golden JSON and text out.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "render.h"

#include <event2/buffer.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* 2026-11-27T05:40:00Z and a minute before */
#define T1 1795758000
#define T0 (T1 - 60)

static const struct render_check sample[] = {
    {
	.name = "postgres",
	.kind = "postgres",
	.target = "postgres:5432/hdms_db",
	.required = true,
	.state = VERDICT_PASS,
	.latency_ms = 2.345,
	.last_check = T1,
	.since = T0,
    },
    {
	.name = "redis-celery",
	.kind = "redis",
	.target = "redis:6379/2",
	.required = true,
	.state = VERDICT_FAIL,
	.reason = PROBE_REFUSED,
	.output = "connect: Connection refused",
	.latency_ms = 0.4,
	.consecutive_failures = 3,
	.last_check = T1,
	.since = T0,
    },
    {
	.name = "redis-cache",
	.kind = "redis",
	.target = "redis:6379/0",
	.required = false,
	.not_needed = true,
	.state = VERDICT_STARTING,
	.latency_ms = -1,
	.since = T0,
    },
};

static char *
read_file(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf;
	long n;

	if (f == NULL)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = calloc(1, (size_t)n + 1);
	if (buf != NULL && fread(buf, 1, (size_t)n, f) != (size_t)n) {
		free(buf);
		buf = NULL;
	}
	fclose(f);
	return buf;
}

static char *
buffer_string(struct evbuffer *b)
{
	size_t n = evbuffer_get_length(b);
	char *s = calloc(1, n + 1);

	evbuffer_copyout(b, s, n);
	return s;
}

static void
assert_golden(const char *got, const char *path)
{
	char *want = read_file(path);

	if (want == NULL)
		fail_msg("cannot read %s", path);
	if (strcmp(got, want) != 0)
		fprintf(stderr, "--- %s\n+++ got\n%s", path, got);
	assert_string_equal(got, want);
	free(want);
}

static void
test_render_json_golden(void **state)
{
	struct render_view v = {sample, 3, VERDICT_STATUS_FAIL};
	struct evbuffer *b = evbuffer_new();
	char *got;

	(void)state;
	assert_int_equal(render_json(&v, b), 0);
	got = buffer_string(b);
	assert_golden(got, "data/render/sample.json");
	free(got);
	evbuffer_free(b);
}

static void
test_render_text_golden(void **state)
{
	struct render_view v = {sample, 3, VERDICT_STATUS_FAIL};
	struct evbuffer *b = evbuffer_new();
	char *got;

	(void)state;
	assert_int_equal(render_text(&v, b), 0);
	got = buffer_string(b);
	assert_golden(got, "data/render/sample.txt");
	free(got);
	evbuffer_free(b);
}

static void
test_render_text_ready(void **state)
{
	struct render_view v = {sample, 1, VERDICT_STATUS_PASS};
	struct evbuffer *b = evbuffer_new();
	char *got;

	(void)state;
	assert_int_equal(render_text(&v, b), 0);
	got = buffer_string(b);
	assert_string_equal(got, "[+]postgres ok\nready\n");
	free(got);
	evbuffer_free(b);
}

/*
 * The "output" render_json gives redis-celery when its error text is
 * output, as jansson decodes it (the caller frees it).
 */
static char *
json_output_of(const char *output)
{
	struct render_check c = sample[1];
	struct render_view v = {&c, 1, VERDICT_STATUS_FAIL};
	struct evbuffer *b = evbuffer_new();
	json_t *root, *out;
	json_error_t jerr;
	char *got, *text;

	c.output = output;
	assert_int_equal(render_json(&v, b), 0);
	got = buffer_string(b);
	root = json_loads(got, 0, &jerr);
	assert_non_null(root);
	out = json_object_get(
	    json_object_get(json_object_get(root, "checks"), "redis-celery"),
	    "output");
	assert_true(json_is_string(out));
	text = strdup(json_string_value(out));
	assert_non_null(text);
	json_decref(root);
	free(got);
	evbuffer_free(b);
	return text;
}

/* Error text from a server can hold anything: the JSON must stay valid. */
static void
test_render_json_hostile_output(void **state)
{
	char *got;

	(void)state;
	got = json_output_of("quote\" back\\slash \x01\x1f ctl \xff\xfe bad "
			     "\xc3\x28 trunc \xe2\x82");
	assert_non_null(strstr(got, "quote\" back\\slash"));
	assert_non_null(strstr(got, "\xef\xbf\xbd"));
	free(got);
}

#define FFFD "\xef\xbf\xbd"

/* An overlong form (C0 AF, '/' in two bytes): U+FFFD per byte, text kept. */
static void
test_render_json_overlong(void **state)
{
	char *got;

	(void)state;
	got = json_output_of("before \xc0\xaf after \xc3\xa9");
	assert_string_equal(got, "before " FFFD FFFD " after \xc3\xa9");
	free(got);
}

/* A surrogate (ED A0 80, U+D800): U+FFFD per byte, text kept. */
static void
test_render_json_surrogate(void **state)
{
	char *got;

	(void)state;
	got = json_output_of("x \xed\xa0\x80 y");
	assert_string_equal(got, "x " FFFD FFFD FFFD " y");
	free(got);
}

/* A 3-byte sequence cut at the end of the text (E2 82, half a euro). */
static void
test_render_json_truncated(void **state)
{
	char *got;

	(void)state;
	got = json_output_of("\xe2\x82\xac 5 \xe2\x82");
	assert_string_equal(got, "\xe2\x82\xac 5 " FFFD FFFD);
	free(got);
}

/* Valid multibyte text (2, 3 and 4 bytes) passes unchanged. */
static void
test_render_json_multibyte(void **state)
{
	static const char text[] =
	    "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 \xef\xbf\xbf end";
	char *got;

	(void)state;
	got = json_output_of(text);
	assert_string_equal(got, text);
	free(got);
	/* ...and next to a bad byte, which alone becomes U+FFFD */
	got = json_output_of("\xff caf\xc3\xa9 \xf0\x9f\x98\x80");
	assert_string_equal(got, FFFD " caf\xc3\xa9 \xf0\x9f\x98\x80");
	free(got);
}

static void
test_render_json_empty(void **state)
{
	struct render_view v = {NULL, 0, VERDICT_STATUS_PASS};
	struct evbuffer *b = evbuffer_new();
	char *got;

	(void)state;
	assert_int_equal(render_json(&v, b), 0);
	got = buffer_string(b);
	assert_string_equal(
	    got, "{\n  \"status\": \"pass\",\n  \"checks\": {}\n}\n");
	free(got);
	evbuffer_free(b);
}

static void
test_render_prom_golden(void **state)
{
	struct render_stats st[3];
	struct render_check c[3];
	struct render_group g[2] = {{"file-service", VERDICT_STATUS_FAIL},
	    {"user-\"odd\\group", VERDICT_STATUS_PASS}};
	struct render_lag lag = {
	    .buckets = {[0] = 5, [4] = 2, [RENDER_LAG_BUCKETS] = 1},
	    .count = 8,
	    .sum = 7.0625};
	struct render_metrics m = {
	    c, 3, g, 2, VERDICT_STATUS_FAIL, "0.1.0", &lag};
	struct evbuffer *b = evbuffer_new();
	char *got;

	(void)state;
	memset(st, 0, sizeof(st));
	memcpy(c, sample, sizeof(c));
	for (int i = 0; i < 3; i++)
		c[i].stats = &st[i];
	st[0].buckets[2] = 3;
	st[0].buckets[RENDER_BUCKETS] = 1;
	st[0].attempts = 4;
	st[0].duration_sum = 12.5;
	st[0].last_success = T1;
	st[0].transitions = 1;
	st[1].failures[PROBE_REFUSED] = 3;
	st[1].failures[PROBE_TIMEOUT] = 1;
	st[1].transitions = 2;
	st[1].watch_drops = 1;
	assert_int_equal(render_prom(&m, b), 0);
	got = buffer_string(b);
	assert_golden(got, "data/render/sample.prom");
	free(got);
	evbuffer_free(b);
}

/* /ready in the shipped default with postgres (in no group) failing. */
static const struct render_check warn_sample[] = {
    {
	.name = "postgres",
	.kind = "postgres",
	.target = "postgres:5432/hdms_db",
	.required = true,
	.not_needed = true,
	.state = VERDICT_FAIL,
	.reason = PROBE_AUTH,
	.output = "FATAL: 28P01: password authentication failed",
	.latency_ms = 8.25,
	.consecutive_failures = 3,
	.last_check = T1,
	.since = T0,
    },
    {
	.name = "pgbouncer",
	.kind = "pgbouncer",
	.target = "pgbouncer:6432/hdms_db",
	.required = true,
	.state = VERDICT_PASS,
	.latency_ms = 3.5,
	.last_check = T1,
	.since = T0,
    },
    {
	.name = "redis-celery",
	.kind = "redis",
	.target = "redis:6379/2",
	.required = false,
	.not_needed = true,
	.state = VERDICT_FAIL,
	.reason = PROBE_UNWRITABLE,
	.latency_ms = 0.5,
	.consecutive_failures = 3,
	.last_check = T1,
	.since = T0,
    },
};

static void
test_render_warn_goldens(void **state)
{
	struct render_view v = {warn_sample, 3, VERDICT_STATUS_WARN};
	struct render_stats st[3];
	struct render_check c[3];
	struct render_group g[2] = {{"file-service", VERDICT_STATUS_WARN},
	    {"user-service", VERDICT_STATUS_PASS}};
	struct render_metrics m = {
	    c, 3, g, 2, VERDICT_STATUS_WARN, "0.1.0", NULL};
	struct evbuffer *b = evbuffer_new();
	char *got;

	(void)state;
	assert_int_equal(render_json(&v, b), 0);
	got = buffer_string(b);
	assert_golden(got, "data/render/warn.json");
	free(got);
	evbuffer_drain(b, evbuffer_get_length(b));
	assert_int_equal(render_text(&v, b), 0);
	got = buffer_string(b);
	assert_golden(got, "data/render/warn.txt");
	free(got);
	evbuffer_drain(b, evbuffer_get_length(b));
	memset(st, 0, sizeof(st));
	memcpy(c, warn_sample, sizeof(c));
	for (int i = 0; i < 3; i++)
		c[i].stats = &st[i];
	st[0].failures[PROBE_AUTH] = 3;
	st[2].failures[PROBE_UNWRITABLE] = 3;
	st[2].failures[PROBE_LOCAL] = 1;
	assert_int_equal(render_prom(&m, b), 0);
	got = buffer_string(b);
	assert_golden(got, "data/render/warn.prom");
	free(got);
	evbuffer_free(b);
}

/* The process's figures: each present one once, the unknown ones left out. */
static void
test_render_prom_process(void **state)
{
	struct procstat ps = {
	    .cpu_seconds = 1.25,
	    .resident_bytes = 12345678,
	    .virtual_bytes = -1,
	    .heap_bytes = 654321,
	    .open_fds = 17,
	    .max_fds = -1,
	    .start_time = 1796031196.5,
	    .login_workers = 2,
	    .login_steps = 42,
	    .login_abandoned = 3,
	};
	struct evbuffer *b = evbuffer_new();
	char *got;

	(void)state;
	assert_non_null(b);
	assert_int_equal(render_prom_process(&ps, b), 0);
	got = buffer_string(b);
	assert_string_equal(got,
	    "# HELP process_cpu_seconds_total User and system CPU time spent in seconds.\n"
	    "# TYPE process_cpu_seconds_total counter\n"
	    "process_cpu_seconds_total 1.25\n"
	    "# HELP process_resident_memory_bytes Resident memory size in bytes.\n"
	    "# TYPE process_resident_memory_bytes gauge\n"
	    "process_resident_memory_bytes 12345678\n"
	    "# HELP process_open_fds Number of open file descriptors.\n"
	    "# TYPE process_open_fds gauge\n"
	    "process_open_fds 17\n"
	    "# HELP process_start_time_seconds Start time of the process since unix epoch in seconds.\n"
	    "# TYPE process_start_time_seconds gauge\n"
	    "process_start_time_seconds 1796031196.5\n"
	    "# HELP readyd_heap_bytes Bytes allocated and not yet freed; RSS keeps the allocator's high mark, this does not.\n"
	    "# TYPE readyd_heap_bytes gauge\n"
	    "readyd_heap_bytes 654321\n"
	    "# HELP readyd_login_workers Threads that run PostgreSQL login steps (SCRAM, TLS) off the event loop; 0: they run on it.\n"
	    "# TYPE readyd_login_workers gauge\n"
	    "readyd_login_workers 2\n"
	    "# HELP readyd_login_steps_total PostgreSQL login steps (SCRAM, TLS) handed to those threads.\n"
	    "# TYPE readyd_login_steps_total counter\n"
	    "readyd_login_steps_total 42\n"
	    "# HELP readyd_login_steps_abandoned_total Of those, steps whose probe attempt ended (its deadline) before they came back; the connection was closed then.\n"
	    "# TYPE readyd_login_steps_abandoned_total counter\n"
	    "readyd_login_steps_abandoned_total 3\n");
	free(got);
	evbuffer_free(b);
}

static void
test_render_time_iso(void **state)
{
	char buf[32];

	(void)state;
	render_time(T1, buf, sizeof(buf));
	assert_string_equal(buf, "2026-11-27T05:40:00Z");
}

/* ---- the status page ---- */

/* sample[] plus a failing optional check whose error text holds markup */
static void
html_checks(struct render_check *c)
{
	memcpy(c, sample, sizeof(sample));
	c[3] = (struct render_check){
	    .name = "tcp-<legacy>",
	    .kind = "tcp",
	    .target = "legacy&co:7000",
	    .required = false,
	    .state = VERDICT_FAIL,
	    .reason = PROBE_TIMEOUT,
	    .output = "<script>alert('x')</script> \"&\"",
	    .latency_ms = 1000,
	    .consecutive_failures = 1,
	    .last_check = T1,
	    .since = T1 - 7265,
	};
}

static char *
html_render(const struct render_page *p)
{
	struct evbuffer *b = evbuffer_new();
	char *got;

	assert_non_null(b);
	assert_int_equal(render_html(p, b), 0);
	got = buffer_string(b);
	evbuffer_free(b);
	return got;
}

static void
test_render_html_golden(void **state)
{
	struct render_check c[4];
	struct render_group g[2] = {{"file-service", VERDICT_STATUS_FAIL},
	    {"user-\"odd\"<group>", VERDICT_STATUS_PASS}};
	struct render_page p = {
	    c, 4, g, 2, VERDICT_STATUS_FAIL, false, "0.1.0", T1};
	char *got;

	(void)state;
	html_checks(c);
	got = html_render(&p);
	assert_golden(got, "data/render/sample.html");
	free(got);
}

/* Server text is escaped: no markup of its own, no bytes HTML refuses. */
static void
test_render_html_hostile_output(void **state)
{
	struct render_check c = sample[1];
	struct render_page p = {
	    &c, 1, NULL, 0, VERDICT_STATUS_FAIL, false, "0.1.0", T1};
	char *got;

	(void)state;
	c.name = "a\"b";
	c.output = "</div></td><img src=x onerror=alert(1)> \x01\x1f ctl "
		   "\xff\xfe bad \xc3\x28 overlong \xc0\xaf surrogate "
		   "\xed\xa0\x80 c1 \xc2\x85 ok \xc3\xa9\xe2\x82\xac trunc "
		   "\xe2\x82";
	got = html_render(&p);
	assert_null(strstr(got, "<img"));
	assert_null(strstr(got, "</div></td><"));
	assert_non_null(strstr(got,
	    "&lt;/div&gt;&lt;/td&gt;&lt;img src=x "
	    "onerror=alert(1)&gt;"));
	assert_non_null(strstr(got, "data-check=\"a&quot;b\""));
	assert_non_null(strstr(got,
	    " \xef\xbf\xbd\xef\xbf\xbd ctl \xef\xbf\xbd\xef\xbf\xbd bad "
	    "\xef\xbf\xbd( overlong \xef\xbf\xbd\xef\xbf\xbd surrogate "
	    "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd c1 \xef\xbf\xbd\xef\xbf\xbd "
	    "ok \xc3\xa9\xe2\x82\xac trunc \xef\xbf\xbd\xef\xbf\xbd</div>"));
	free(got);
}

/* Ready, no groups, draining: each says so. */
static void
test_render_html_states(void **state)
{
	struct render_page p = {
	    sample, 1, NULL, 0, VERDICT_STATUS_PASS, false, "0.1.0", T1};
	char *got;

	(void)state;
	got = html_render(&p);
	assert_non_null(strstr(got, "<title>readyd: ready</title>"));
	assert_non_null(strstr(got, "id=\"verdict\">READY<"));
	assert_non_null(strstr(got, "No groups configured."));
	assert_non_null(
	    strstr(got, "<meta http-equiv=\"refresh\" content=\"5\">"));
	assert_null(strstr(got, "Shutting down"));
	assert_null(strstr(got, "<script"));
	free(got);
	p.status = VERDICT_STATUS_FAIL;
	p.draining = true;
	got = html_render(&p);
	assert_non_null(strstr(got, "<title>readyd: not ready</title>"));
	assert_non_null(strstr(got, "Shutting down"));
	free(got);
}

/* A passing pgbouncer check with findings (state warn) and gauges. */
static const struct probe_finding findings_pgb[] = {
    {PROBE_DRIFT, "pool_mode", "pool_mode is session (expected transaction)"},
    {PROBE_SATURATED, "pool",
	"pool hdms_db is full: cl_waiting=2 maxwait=3.2s"},
};

static const struct probe_gauge gauges_pgb[] = {
    {"pgbouncer_cl_waiting", "Clients waiting for a server connection.", 2},
    {"pgbouncer_maxwait_seconds", "The oldest client's wait.", 3.25},
};

static const struct render_check findings_sample[] = {
    {
	.name = "pgbouncer",
	.kind = "pgbouncer",
	.target = "pgbouncer:6432/hdms_db",
	.required = true,
	.state = VERDICT_WARN,
	.reason = PROBE_DRIFT,
	.output = "pool_mode is session (expected transaction); pool hdms_db "
		  "is full: cl_waiting=2 maxwait=3.2s",
	.findings = findings_pgb,
	.nfindings = 2,
	.finding_texts = true,
	.gauges = gauges_pgb,
	.ngauges = 2,
	.latency_ms = 3.5,
	.last_check = T1,
	.since = T0,
    },
    {
	.name = "pgbouncer-2",
	.kind = "pgbouncer",
	.target = "pgbouncer2:6432/hdms_db",
	.required = true,
	.state = VERDICT_PASS,
	.gauges = gauges_pgb,
	.ngauges = 1,
	.latency_ms = 1.5,
	.last_check = T1,
	.since = T0,
    },
};

/* Findings in every format: JSON, ?verbose, /metrics, the status page. */
static void
test_render_findings_goldens(void **state)
{
	struct render_view v = {findings_sample, 2, VERDICT_STATUS_WARN};
	struct render_stats st[2];
	struct render_check c[2];
	struct render_group g[1] = {{"user-service", VERDICT_STATUS_WARN}};
	struct render_metrics m = {
	    c, 2, g, 1, VERDICT_STATUS_WARN, "0.1.0", NULL};
	struct render_page p = {
	    c, 2, g, 1, VERDICT_STATUS_WARN, false, "0.1.0", T1};
	struct evbuffer *b = evbuffer_new();
	char *got;

	(void)state;
	memset(st, 0, sizeof(st));
	memcpy(c, findings_sample, sizeof(c));
	for (int i = 0; i < 2; i++)
		c[i].stats = &st[i];
	assert_int_equal(render_json(&v, b), 0);
	got = buffer_string(b);
	assert_golden(got, "data/render/findings.json");
	free(got);
	evbuffer_drain(b, evbuffer_get_length(b));
	assert_int_equal(render_text(&v, b), 0);
	got = buffer_string(b);
	assert_golden(got, "data/render/findings.txt");
	free(got);
	evbuffer_drain(b, evbuffer_get_length(b));
	assert_int_equal(render_prom(&m, b), 0);
	got = buffer_string(b);
	assert_golden(got, "data/render/findings.prom");
	free(got);
	got = html_render(&p);
	assert_golden(got, "data/render/findings.html");
	free(got);
	/* details hidden: keys and reasons, no text */
	c[0].output = NULL;
	c[0].finding_texts = false;
	v.checks = c;
	evbuffer_drain(b, evbuffer_get_length(b));
	assert_int_equal(render_json(&v, b), 0);
	got = buffer_string(b);
	assert_non_null(strstr(got, "\"key\": \"pool_mode\""));
	assert_null(strstr(got, "expected transaction"));
	assert_null(strstr(got, "cl_waiting=2"));
	free(got);
	evbuffer_drain(b, evbuffer_get_length(b));
	assert_int_equal(render_text(&v, b), 0);
	got = buffer_string(b);
	assert_non_null(strstr(got, "[!]pgbouncer warn: drift\n"));
	free(got);
	evbuffer_free(b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_render_json_golden),
	    cmocka_unit_test(test_render_text_golden),
	    cmocka_unit_test(test_render_text_ready),
	    cmocka_unit_test(test_render_json_hostile_output),
	    cmocka_unit_test(test_render_json_overlong),
	    cmocka_unit_test(test_render_json_surrogate),
	    cmocka_unit_test(test_render_json_truncated),
	    cmocka_unit_test(test_render_json_multibyte),
	    cmocka_unit_test(test_render_json_empty),
	    cmocka_unit_test(test_render_time_iso),
	    cmocka_unit_test(test_render_prom_golden),
	    cmocka_unit_test(test_render_prom_process),
	    cmocka_unit_test(test_render_html_golden),
	    cmocka_unit_test(test_render_html_hostile_output),
	    cmocka_unit_test(test_render_html_states),
	    cmocka_unit_test(test_render_warn_goldens),
	    cmocka_unit_test(test_render_findings_goldens),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
