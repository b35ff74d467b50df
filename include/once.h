/* SPDX-License-Identifier: MIT */
/*
 * `readyd once` and `readyd wait`: probe the checks NAMES select without
 * serving, print the result and exit with the verdict.
 * Owns: struct once (private) for the length of a run.
 */
#ifndef READYD_ONCE_H
#define READYD_ONCE_H

#include <stdbool.h>
#include <stdint.h>

/*
 * One attempt per check of names (argc of them, checks or groups; none:
 * every check), the first failure deciding; print the result as text or
 * (json) application/health+json. Returns the exit status.
 */
int once_run(const char *path, int argc, char **argv, bool json);

/*
 * Re-probe the checks of names every fast_interval until they are all
 * ready or timeout_ms passes. Returns the exit status.
 */
int once_wait(const char *path, int argc, char **argv, int64_t timeout_ms);

#endif /* READYD_ONCE_H */
