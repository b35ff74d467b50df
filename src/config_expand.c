/* SPDX-License-Identifier: MIT */
/*
 * ${VAR}, ${VAR:-default} and VAR_FILE expansion, and reading files that
 * hold secrets (password_file, VAR_FILE) without leaving copies behind.
 * Owns: nothing beyond the strings it returns.
 */
#include "config_expand.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config_parse.h"
#include "strbuf.h"

#define CONFIG_EXPAND_MAX_NESTING 8 /* ${A:-${B:-...}} */
#define CONFIG_EXPAND_ACCEPTED \
	"${VAR}, ${VAR:-default} or $$ for a literal \"$\""

void
config_expand_free_secret(char *s)
{
	if (s != NULL) {
		explicit_bzero(s, strlen(s));
		free(s);
	}
}

/*
 * Keys whose values are secrets: never printed, not even after a typo
 * ("passwd"). password_file holds a path, not a secret.
 */
bool
config_expand_is_secret_key(const char *key)
{
	static const char *const words[] = {
	    "pass", "pw", "secret", "token", "key", "auth", "cred"};
	char low[64];
	size_t i;

	/* a path, not a secret: password_file, admin_password_file */
	if (strlen(key) >= 13 &&
	    strcmp(key + strlen(key) - 13, "password_file") == 0)
		return false;
	for (i = 0; key[i] != '\0' && i < sizeof(low) - 1; i++)
		low[i] = (char)((key[i] >= 'A' && key[i] <= 'Z') ? key[i] + 32
								 : key[i]);
	low[i] = '\0';
	for (i = 0; i < sizeof(words) / sizeof(words[0]); i++)
		if (strstr(low, words[i]) != NULL)
			return true;
	return false;
}

bool
config_expand_uses_secret(const char *raw)
{
	const char *p = raw;

	while ((p = strstr(p, "${")) != NULL) {
		char name[128], file[160];
		size_t n = 0;

		p += 2;
		while (n < sizeof(name) - 1 && p[n] != '\0' && p[n] != '}' &&
		    p[n] != ':')
			n++;
		memcpy(name, p, n);
		name[n] = '\0';
		snprintf(file, sizeof(file), "%s_FILE", name);
		if (config_expand_is_secret_key(name) || getenv(file) != NULL)
			return true;
		p += n;
	}
	return false;
}

/*
 * Read a whole file into a new NUL-terminated buffer. Returns 0, or -1
 * with errno set (EFBIG when it holds more than max bytes).
 */
int
config_expand_read_file(
    const char *path, size_t max, bool regular_only, char **out, size_t *outlen)
{
	struct strbuf b = {.wipe = true};
	char chunk[4096];
	struct stat st;
	ssize_t n;
	int fd, saved;

	*out = NULL;
	/*
	 * O_NONBLOCK: opening a FIFO must not wait for a writer (a reload
	 * runs on the event loop); anything but a regular file is refused.
	 */
	fd = open(path, O_RDONLY | O_CLOEXEC | (regular_only ? O_NONBLOCK : 0));
	if (fd < 0)
		return -1;
	if (fstat(fd, &st) < 0) {
		saved = errno;
		close(fd);
		errno = saved;
		return -1;
	}
	if (S_ISDIR(st.st_mode) || (regular_only && !S_ISREG(st.st_mode))) {
		close(fd);
		errno = CONFIG_EXPAND_ENOTREG;
		return -1;
	}
	for (;;) {
		n = read(fd, chunk, sizeof(chunk));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			goto out_err;
		if (n == 0)
			break;
		if (b.len + (size_t)n > max) {
			errno = EFBIG;
			goto out_err;
		}
		strbuf_add(&b, chunk, (size_t)n);
		if (b.oom) {
			errno = ENOMEM;
			goto out_err;
		}
	}
	explicit_bzero(chunk, sizeof(chunk));
	close(fd);
	if (outlen != NULL)
		*outlen = b.len;
	*out = strbuf_take(&b);
	if (*out == NULL) {
		errno = ENOMEM;
		return -1;
	}
	return 0;

out_err:
	saved = errno;
	explicit_bzero(chunk, sizeof(chunk));
	strbuf_free(&b);
	close(fd);
	errno = saved;
	return -1;
}

/*
 * Read a secret file and strip one trailing newline. Returns 0, or -1
 * with err filled ("PROBLEM (accepted: ...)").
 */
int
config_expand_read_secret(
    const char *path, char **out, char *err, size_t errlen)
{
	size_t len;

	if (config_expand_read_file(
		path, CONFIG_EXPAND_MAX_SECRET, true, out, &len) < 0) {
		if (errno == EFBIG)
			snprintf(err, errlen,
			    "too large (accepted: up to %d bytes)",
			    CONFIG_EXPAND_MAX_SECRET);
		else if (errno == CONFIG_EXPAND_ENOTREG)
			snprintf(err, errlen,
			    "not a regular file (accepted: a regular file)");
		else
			snprintf(err, errlen,
			    "cannot read: %s (accepted: a readable file)",
			    strerror(errno));
		return -1;
	}
	if (len > 0 && (*out)[len - 1] == '\n')
		(*out)[len - 1] = '\0';
	return 0;
}

static int expand_into(struct strbuf *b, const char *s, size_t len, int depth,
    char *err, size_t errlen);

/*
 * Append the value of ${name} or ${name:-def}: VAR, else VAR_FILE, else
 * the default (only with ":-"). The value of VAR is used when set, even
 * empty, for ${VAR}; ${VAR:-...} treats empty as unset, as the shell does,
 * and so does a VAR_FILE beside an empty VAR, as the postgres and redis
 * images do (a compose file listing VAR with no value leaves it empty).
 */
static int
expand_var(struct strbuf *b, const char *name, size_t nlen, const char *def,
    size_t dlen, int depth, char *err, size_t errlen)
{
	char var[256], fvar[262], perr[128];
	const char *val, *path;
	char *content;

	if (nlen >= sizeof(var)) {
		snprintf(err, errlen,
		    "variable name too long (accepted: up to %zu characters)",
		    sizeof(var) - 1);
		return -1;
	}
	memcpy(var, name, nlen);
	var[nlen] = '\0';
	snprintf(fvar, sizeof(fvar), "%s_FILE", var);
	val = getenv(var);
	if (val != NULL &&
	    (*val != '\0' || (def == NULL && getenv(fvar) == NULL))) {
		strbuf_puts(b, val);
		return 0;
	}
	path = getenv(fvar);
	if (path != NULL) {
		if (config_expand_read_secret(
			path, &content, perr, sizeof(perr)) < 0) {
			snprintf(
			    err, errlen, "%s = \"%s\": %s", fvar, path, perr);
			return -1;
		}
		strbuf_puts(b, content);
		config_expand_free_secret(content);
		return 0;
	}
	if (def != NULL)
		return expand_into(b, def, dlen, depth + 1, err, errlen);
	snprintf(err, errlen,
	    "environment variable %s is not set (accepted: set %s or %s, or write ${%s:-default})",
	    var, var, fvar, var);
	return -1;
}

static int
expand_into(struct strbuf *b, const char *s, size_t len, int depth, char *err,
    size_t errlen)
{
	size_t i = 0, j, end, nlen;
	int open;

	if (depth > CONFIG_EXPAND_MAX_NESTING) {
		snprintf(err, errlen,
		    "nested too deeply (accepted: up to %d levels of ${VAR:-default})",
		    CONFIG_EXPAND_MAX_NESTING);
		return -1;
	}
	while (i < len) {
		if (s[i] != '$' || i + 1 >= len ||
		    (s[i + 1] != '$' && s[i + 1] != '{')) {
			j = i + 1;
			while (j < len && s[j] != '$')
				j++;
			strbuf_add(b, s + i, j - i);
			i = j;
			continue;
		}
		if (s[i + 1] == '$') {
			strbuf_add(b, "$", 1);
			i += 2;
			continue;
		}
		/* ${...}: find the matching brace, allowing nesting. */
		open = 1;
		for (end = i + 2; end < len; end++) {
			if (s[end] == '$' && end + 1 < len &&
			    s[end + 1] == '{') {
				open++;
				end++;
			} else if (s[end] == '}' && --open == 0) {
				break;
			}
		}
		if (end >= len) {
			snprintf(err, errlen,
			    "unterminated \"${\" (accepted: %s)",
			    CONFIG_EXPAND_ACCEPTED);
			return -1;
		}
		j = i + 2;
		if (j < end && !config_parse_is_digit(s[j]))
			while (j < end &&
			    (config_parse_is_alnum(s[j]) || s[j] == '_'))
				j++;
		nlen = j - (i + 2);
		if (nlen == 0 ||
		    (j < end &&
			(s[j] != ':' || j + 1 >= end || s[j + 1] != '-'))) {
			snprintf(err, errlen,
			    "invalid variable reference (accepted: %s, VAR of letters, digits and \"_\")",
			    CONFIG_EXPAND_ACCEPTED);
			return -1;
		}
		if (j == end) {
			if (expand_var(b, s + i + 2, nlen, NULL, 0, depth, err,
				errlen) < 0)
				return -1;
		} else {
			if (expand_var(b, s + i + 2, nlen, s + j + 2,
				end - (j + 2), depth, err, errlen) < 0)
				return -1;
		}
		i = end + 1;
	}
	return 0;
}

int
config_expand(const char *in, char **out, char *err, size_t errlen)
{
	struct strbuf b = {.wipe = true};

	*out = NULL;
	if (expand_into(&b, in, strlen(in), 0, err, errlen) < 0) {
		strbuf_free(&b);
		return -1;
	}
	*out = strbuf_take(&b);
	if (*out == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	return 0;
}
