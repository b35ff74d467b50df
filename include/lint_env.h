/* SPDX-License-Identifier: MIT */
/*
 * readyd lint-env: env files (docker compose / systemd EnvironmentFile
 * syntax) checked against the data model's environment schema.
 * Owns: the schema rules; lint_env() is pure (text in, messages out).
 */
#ifndef READYD_LINT_ENV_H
#define READYD_LINT_ENV_H

#include <stddef.h>

#include "strbuf.h"

/*
 * Check the len bytes of text, an env file shown as file in messages.
 * Appends one line per problem to out: "FILE:LINE: VAR: problem
 * (accepted: ...)" for an error, "FILE:LINE: warning: VAR: ..." for a
 * warning; LINE is 0 for a variable that is missing. Values of secrets
 * are never copied into out. Returns the number of errors; *warnings
 * (may be NULL) gets the number of warnings.
 */
int lint_env(const char *file, const char *text, size_t len, struct strbuf *out,
    int *warnings);

/*
 * The command: argv holds the file names (after "lint-env"). Prints the
 * problems on stdout; returns 0 (warnings only), 78 (errors or an
 * unreadable file) or 64 (usage error).
 */
int lint_env_main(int argc, char **argv);

#endif /* READYD_LINT_ENV_H */
