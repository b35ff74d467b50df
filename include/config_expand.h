/* SPDX-License-Identifier: MIT */
/*
 * ${VAR} expansion and secret files.
 * Owns: nothing beyond the strings it returns.
 */
#ifndef READYD_CONFIG_EXPAND_H
#define READYD_CONFIG_EXPAND_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>

#define CONFIG_EXPAND_MAX_SECRET 65536 /* bytes in a secret file */

/*
 * Expand ${VAR}, ${VAR:-default} and the VAR_FILE convention in in.
 * On success *out is a new string the caller frees (with
 * config_expand_free_secret when it may hold a secret). Returns 0, or -1
 * with err filled (naming the variable, never a value).
 */
int config_expand(const char *in, char **out, char *err, size_t errlen)
    __attribute__((warn_unused_result));

/*
 * Whether raw refers to a variable whose value may be a secret: one read
 * from VAR_FILE, or one named like a secret (PASSWORD, TOKEN...). Its
 * expansion is then never shown in a message, whatever the key.
 */
bool config_expand_uses_secret(const char *raw);

/* errno of config_expand_read_file() for a path that is no regular file. */
#define CONFIG_EXPAND_ENOTREG ENODEV

/*
 * Read a whole file into a new NUL-terminated buffer (*outlen bytes
 * before the NUL when outlen is not NULL). With regular_only (what the
 * event loop may read: secrets always, the configuration on reload) the
 * file is opened without blocking (a FIFO has no writer to wait for) and
 * must be a regular file; without it (the configuration at start-up,
 * before any loop runs) a pipe such as -c <(...) or /dev/stdin is read
 * too. Returns 0, or -1 with errno set (EFBIG when it holds more than max
 * bytes, CONFIG_EXPAND_ENOTREG when it is not a regular file). Nothing
 * read is left behind in freed memory.
 */
int config_expand_read_file(const char *path, size_t max, bool regular_only,
    char **out, size_t *outlen);

/*
 * Read a secret file and strip one trailing newline. Returns 0, or -1
 * with err filled ("PROBLEM (accepted: ...)").
 */
int config_expand_read_secret(
    const char *path, char **out, char *err, size_t errlen);

/* Wipe and free a string that may hold a secret; NULL does nothing. */
void config_expand_free_secret(char *s);

/*
 * Keys whose values are secrets: never printed, not even after a typo
 * ("passwd"). password_file holds a path, not a secret.
 */
bool config_expand_is_secret_key(const char *key);

#endif /* READYD_CONFIG_EXPAND_H */
