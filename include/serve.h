/* SPDX-License-Identifier: MIT */
/*
 * `readyd serve`: the daemon. Probes on the configured timings, serves
 * the verdicts over HTTP, reloads on SIGHUP and drains on SIGTERM.
 * Owns: struct serve (private) for the length of serve_run().
 */
#ifndef READYD_SERVE_H
#define READYD_SERVE_H

/*
 * Run the daemon with the configuration at path (NULL: the default
 * search), listening on host:port, or (host NULL) where the configuration
 * says. Returns the exit status once stopped.
 */
int serve_run(const char *path, const char *host, int port);

#endif /* READYD_SERVE_H */
