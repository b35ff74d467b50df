/* SPDX-License-Identifier: MIT */
/*
 * readyd: a readiness daemon for PostgreSQL, PgBouncer and Redis.
 * Owns: argv: the command dispatch and each command's options; the
 * commands themselves live in serve.c, once.c, client.c and config.c.
 */
#include "client.h"
#include "config.h"
#include "log.h"
#include "once.h"
#include "runtime.h"
#include "serve.h"

#include <event2/event.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>

static const char usage_text[] =
    "usage: readyd [serve] [-c FILE] [--listen ADDR:PORT] [--verbose]\n"
    "       readyd once   [-c FILE] [--json] [NAME...]\n"
    "       readyd wait   [-c FILE] [--timeout DUR] [NAME...]\n"
    "       readyd check  [-c FILE] [--url URL] [--timeout DUR] [--wait DUR]\n"
    "       readyd config [-c FILE]\n"
    "       readyd --help | --version\n"
    "\n"
    "Probes PostgreSQL, PgBouncer and Redis the way the applications\n"
    "connect and serves the verdict at /ready. NAME is a check or group.\n"
    "Exit: 0 ready, 1 not ready, 64 usage error, 78 configuration error.\n"
    "See readyd(8) and README.md.\n";

static int
usage_error(const char *fmt, const char *arg)
{
	fprintf(stderr, "readyd: ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, "\n%s", usage_text);
	return RUNTIME_EXIT_USAGE;
}

/* Split "ADDR:PORT" ("[v6]:PORT" too) into host (hostlen) and port. */
static int
main_parse_listen(const char *s, char *host, size_t hostlen, int *port)
{
	char err[128], *h = NULL;

	if (config_parse_listen(s, &h, port, err, sizeof(err)) < 0)
		return -1;
	snprintf(host, hostlen, "%s", h);
	free(h);
	return 0;
}

/* ---- serve ---- */

static int
cmd_serve(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"config", required_argument, NULL, 'c'},
	    {"listen", required_argument, NULL, 'l'},
	    {"verbose", no_argument, NULL, 'v'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	const char *path = NULL, *listen = NULL;
	char host[256];
	int port = 0, c;

	while ((c = getopt_long(argc, argv, "+c:l:vh", opts, NULL)) != -1) {
		switch (c) {
		case 'v':
			log_set_level(LOG_LEVEL_DEBUG);
			break;
		case 'c':
			path = optarg;
			break;
		case 'l':
			listen = optarg;
			break;
		case 'h':
			fputs(usage_text, stdout);
			return RUNTIME_EXIT_READY;
		default:
			return usage_error("serve: bad option", "");
		}
	}
	if (optind != argc)
		return usage_error(
		    "serve: unexpected argument: %s", argv[optind]);
	if (listen == NULL)
		return serve_run(path, NULL, 0);
	if (main_parse_listen(listen, host, sizeof(host), &port) < 0)
		return usage_error(
		    "--listen %s: expected ADDR:PORT with a numeric ADDR (127.0.0.1, 0.0.0.0, [::]) and a port of 1-65535",
		    listen);
	return serve_run(path, host, port);
}

/* ---- once and wait ---- */

static int
cmd_once(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"config", required_argument, NULL, 'c'},
	    {"json", no_argument, NULL, 'j'},
	    {NULL, 0, NULL, 0},
	};
	const char *path = NULL;
	bool json = false;
	int c;

	while ((c = getopt_long(argc, argv, "+c:j", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			path = optarg;
			break;
		case 'j':
			json = true;
			break;
		default:
			return usage_error("once: bad option", "");
		}
	}
	return once_run(path, argc - optind, argv + optind, json);
}

static int
cmd_wait(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"config", required_argument, NULL, 'c'},
	    {"timeout", required_argument, NULL, 't'},
	    {NULL, 0, NULL, 0},
	};
	const char *path = NULL;
	int64_t timeout_ms = 60000;
	char err[256];
	int c;

	while ((c = getopt_long(argc, argv, "+c:t:", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			path = optarg;
			break;
		case 't':
			if (config_parse_duration(
				optarg, &timeout_ms, err, sizeof(err)) < 0)
				return usage_error("--timeout: %s", err);
			break;
		default:
			return usage_error("wait: bad option", "");
		}
	}
	return once_wait(path, argc - optind, argv + optind, timeout_ms);
}

/* ---- check: the compose healthcheck ---- */

static int
cmd_check(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"config", required_argument, NULL, 'c'},
	    {"url", required_argument, NULL, 'u'},
	    {"timeout", required_argument, NULL, 't'},
	    {"wait", required_argument, NULL, 'w'},
	    {NULL, 0, NULL, 0},
	};
	struct client_opts o = {.timeout_ms = 5000};
	int64_t *dur;
	char err[256];
	int c;

	while ((c = getopt_long(argc, argv, "+c:u:t:w:", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			o.config = optarg;
			break;
		case 'u':
			o.url = optarg;
			break;
		case 't':
		case 'w':
			dur = c == 't' ? &o.timeout_ms : &o.wait_ms;
			if (config_parse_duration(
				optarg, dur, err, sizeof(err)) < 0) {
				printf("readyd check: --%s: %s\n",
				    c == 't' ? "timeout" : "wait", err);
				return RUNTIME_EXIT_NOT_READY; /* docker reserves 2+ */
			}
			break;
		default:
			printf("readyd check: bad option\n");
			return RUNTIME_EXIT_NOT_READY;
		}
	}
	if (optind != argc) {
		printf("readyd check: unexpected argument: %s\n", argv[optind]);
		return RUNTIME_EXIT_NOT_READY;
	}
	return client_check(&o);
}

/* ---- config ---- */

static int
cmd_config(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"config", required_argument, NULL, 'c'},
	    {NULL, 0, NULL, 0},
	};
	const char *path = NULL;
	struct config *cfg;
	int c;

	while ((c = getopt_long(argc, argv, "+c:", opts, NULL)) != -1) {
		if (c != 'c')
			return usage_error("config: bad option", "");
		path = optarg;
	}
	if (optind != argc)
		return usage_error(
		    "config: unexpected argument: %s", argv[optind]);
	cfg = runtime_load_config(path, false);
	if (cfg == NULL)
		return CONFIG_EXIT;
	config_print(cfg, stdout);
	config_free(cfg);
	return RUNTIME_EXIT_READY;
}

/*
 * libevent's own messages ("[msg] Nameserver ... has failed") go through
 * our log, not raw to stderr: the probes already report what they mean.
 */
static void
main_event_log_cb(int severity, const char *msg)
{
	if (severity >= EVENT_LOG_ERR)
		log_warn("libevent: %s", msg);
	else
		log_debug("libevent: %s", msg);
}

/* Whether this is a sanitizer build (LeakSanitizer needs ptrace). */
#if defined(__SANITIZE_ADDRESS__)
#define MAIN_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(leak_sanitizer)
#define MAIN_SANITIZED 1
#endif
#endif
#ifndef MAIN_SANITIZED
#define MAIN_SANITIZED 0
#endif

/*
 * readyd holds passwords in memory: a crash must not leave them in a core
 * file, nor may another process of the same user read our memory. No core
 * (RLIMIT_CORE 0, hard limit too) and not dumpable (which also closes
 * /proc/PID/mem and ptrace to other processes of the user). Under a
 * sanitizer build only the core limit: LeakSanitizer's leak check at exit
 * attaches to the process with ptrace, which a non-dumpable one refuses.
 */
static void
main_no_core(void)
{
	struct rlimit rl = {0, 0};

	(void)setrlimit(RLIMIT_CORE, &rl);
	if (!MAIN_SANITIZED)
		(void)prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
}

int
main(int argc, char **argv)
{
	const char *cmd = argc > 1 ? argv[1] : "serve";

	main_no_core();
	/* hiredis and evhttp write() to sockets a peer may have closed */
	signal(SIGPIPE, SIG_IGN);
	event_set_log_callback(main_event_log_cb);
	if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 ||
	    strcmp(cmd, "help") == 0) {
		fputs(usage_text, stdout);
		return RUNTIME_EXIT_READY;
	}
	if (strcmp(cmd, "--version") == 0 || strcmp(cmd, "-V") == 0) {
		printf("readyd %s\n", READYD_VERSION);
		return RUNTIME_EXIT_READY;
	}
	if (cmd[0] == '-') /* options alone: serve */
		return cmd_serve(argc, argv);
	argc--;
	argv++;
	if (strcmp(cmd, "serve") == 0)
		return cmd_serve(argc, argv);
	if (strcmp(cmd, "once") == 0)
		return cmd_once(argc, argv);
	if (strcmp(cmd, "wait") == 0)
		return cmd_wait(argc, argv);
	if (strcmp(cmd, "check") == 0)
		return cmd_check(argc, argv);
	if (strcmp(cmd, "config") == 0)
		return cmd_config(argc, argv);
	return usage_error("unknown command: %s", cmd);
}
