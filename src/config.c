/* SPDX-License-Identifier: MIT */
/*
 * Configuration: INI parsing with libinih, ${VAR} expansion, durations and
 * validation against the data model.
 * Owns: struct config and everything hanging off it, and the table of
 * generic keys with their bounds.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ini.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "probe.h"

/* Generated from config/readyd.conf by the Makefile. */
extern const char readyd_builtin_conf[];

#define CONFIG_BUILTIN_NAME "(built-in)"
#define CONFIG_DEFAULT_PATH "/etc/readyd/readyd.conf"
#define CONFIG_MAX_LINE	    4096      /* characters, newline excluded */
#define CONFIG_MAX_FILE	    (1 << 20) /* bytes in a config file */
#define CONFIG_MAX_SECRET   65536     /* bytes in a secret file */
#define CONFIG_MAX_ERRORS   20	      /* messages shown */
#define CONFIG_KEEP_ERRORS  1000      /* messages collected */
#define CONFIG_MAX_NESTING  8	      /* ${A:-${B:-...}} */
#define CONFIG_MAX_VALUE    200	      /* bytes of a value quoted */
#define CONFIG_MAX_COUNT    1000      /* retries, rise */
#define CONFIG_DURATION_MAX (8760LL * 3600 * 1000) /* 8760h, in ms */
#define CONFIG_MAX_HOST	    253 /* characters in a host name */

#define CONFIG_DURATION_ACCEPTED \
	"250ms, 10s, 2m, 1h or a bare number of seconds"
#define CONFIG_EXPAND_ACCEPTED \
	"${VAR}, ${VAR:-default} or $$ for a literal \"$\""
#define CONFIG_NAME_ACCEPTED "letters, digits, \"_\", \".\" and \"-\""
#define CONFIG_SECTIONS_ACCEPTED \
	"[daemon], [defaults], [check NAME], [group NAME]"
#define CONFIG_LIST_ACCEPTED "check names separated by spaces or commas"

/* ---- the key table ---- */

enum config_key_id {
	CONFIG_KEY_LISTEN,
	CONFIG_KEY_DETAILS,
	CONFIG_KEY_DRAIN,
	CONFIG_KEY_KIND,
	CONFIG_KEY_HOST,
	CONFIG_KEY_PORT,
	CONFIG_KEY_DBNAME,
	CONFIG_KEY_USER,
	CONFIG_KEY_PASSWORD,
	CONFIG_KEY_PASSWORD_FILE,
	CONFIG_KEY_OPTIONS,
	CONFIG_KEY_DB,
	CONFIG_KEY_DEPENDS_ON,
	CONFIG_KEY_REQUIRED,
	CONFIG_KEY_INTERVAL,
	CONFIG_KEY_TIMEOUT,
	CONFIG_KEY_RETRIES,
	CONFIG_KEY_START_PERIOD,
	CONFIG_KEY_START_INTERVAL,
	CONFIG_KEY_FAST_INTERVAL,
	CONFIG_KEY_RISE,
	CONFIG_KEY_WATCH,
	CONFIG_KEY_CHECKS,
	CONFIG_KEY_COUNT
};

enum config_type {
	CONFIG_TYPE_TEXT,     /* handled by its own code */
	CONFIG_TYPE_DURATION, /* int64_t milliseconds */
	CONFIG_TYPE_INT,      /* int */
	CONFIG_TYPE_BOOL,     /* bool */
	CONFIG_TYPE_COUNT
};

enum config_section_type {
	CONFIG_SECTION_DAEMON,
	CONFIG_SECTION_DEFAULTS,
	CONFIG_SECTION_CHECK,
	CONFIG_SECTION_GROUP,
	CONFIG_SECTION_IGNORED, /* invalid header: its keys are skipped */
	CONFIG_SECTION_COUNT
};

#define IN_DAEMON   (1u << CONFIG_SECTION_DAEMON)
#define IN_DEFAULTS (1u << CONFIG_SECTION_DEFAULTS)
#define IN_CHECK    (1u << CONFIG_SECTION_CHECK)
#define IN_GROUP    (1u << CONFIG_SECTION_GROUP)
#define IN_TIMING   (IN_DEFAULTS | IN_CHECK)

#define CHECK_FIELD(f) offsetof(struct check_cfg, f)

struct config_key {
	const char *name; /* as written in the file */
	enum config_type type;
	unsigned in; /* IN_* bits: sections that take the key */
	int64_t min; /* bounds of DURATION (ms) and INT values */
	int64_t max;
	size_t offset;	      /* field in struct check_cfg, typed keys */
	const char *accepted; /* what "(accepted: ...)" says */
};

static const struct config_key config_keys[CONFIG_KEY_COUNT] = {
    [CONFIG_KEY_LISTEN] = {.name = "listen",
	.in = IN_DAEMON,
	.accepted = "ADDR:PORT or [IPv6]:PORT, PORT 1-65535"},
    [CONFIG_KEY_DETAILS] = {.name = "details",
	.in = IN_DAEMON,
	.accepted = "local, all, none"},
    [CONFIG_KEY_DRAIN] = {.name = "drain",
	.in = IN_DAEMON,
	.accepted = "a duration such as 0s, 250ms, 10s, 2m"},
    [CONFIG_KEY_KIND] = {.name = "kind", .in = IN_CHECK},
    [CONFIG_KEY_HOST] = {.name = "host",
	.in = IN_CHECK,
	.accepted = "a host name, an IPv4 address or an IPv6 address"},
    [CONFIG_KEY_PORT] = {.name = "port",
	.type = CONFIG_TYPE_INT,
	.in = IN_CHECK,
	.min = 1,
	.max = 65535,
	.offset = CHECK_FIELD(port),
	.accepted = "1-65535"},
    [CONFIG_KEY_DBNAME] = {.name = "dbname",
	.in = IN_CHECK,
	.accepted = "letters, digits and \"_\""},
    [CONFIG_KEY_USER] = {.name = "user",
	.in = IN_CHECK,
	.accepted = "a non-empty user name"},
    [CONFIG_KEY_PASSWORD] = {.name = "password",
	.in = IN_CHECK,
	.accepted = "a non-empty password or password_file"},
    [CONFIG_KEY_PASSWORD_FILE] = {.name = "password_file",
	.in = IN_CHECK,
	.accepted = "a readable file holding the password"},
    [CONFIG_KEY_OPTIONS] = {.name = "options", .in = IN_CHECK},
    [CONFIG_KEY_DB] = {.name = "db",
	.type = CONFIG_TYPE_INT,
	.in = IN_CHECK,
	.min = 0,
	.max = 15,
	.offset = CHECK_FIELD(db),
	.accepted = "0-15"},
    [CONFIG_KEY_DEPENDS_ON] = {.name = "depends_on",
	.in = IN_CHECK,
	.accepted = CONFIG_LIST_ACCEPTED},
    [CONFIG_KEY_REQUIRED] = {.name = "required",
	.type = CONFIG_TYPE_BOOL,
	.in = IN_TIMING,
	.offset = CHECK_FIELD(required)},
    [CONFIG_KEY_INTERVAL] = {.name = "interval",
	.type = CONFIG_TYPE_DURATION,
	.in = IN_TIMING,
	.min = 1,
	.offset = CHECK_FIELD(interval_ms)},
    [CONFIG_KEY_TIMEOUT] = {.name = "timeout",
	.type = CONFIG_TYPE_DURATION,
	.in = IN_TIMING,
	.min = 1,
	.offset = CHECK_FIELD(timeout_ms)},
    [CONFIG_KEY_RETRIES] = {.name = "retries",
	.type = CONFIG_TYPE_INT,
	.in = IN_TIMING,
	.min = 1,
	.max = CONFIG_MAX_COUNT,
	.offset = CHECK_FIELD(retries),
	.accepted = "1-1000"},
    [CONFIG_KEY_START_PERIOD] = {.name = "start_period",
	.type = CONFIG_TYPE_DURATION,
	.in = IN_TIMING,
	.min = 0,
	.offset = CHECK_FIELD(start_period_ms)},
    [CONFIG_KEY_START_INTERVAL] = {.name = "start_interval",
	.type = CONFIG_TYPE_DURATION,
	.in = IN_TIMING,
	.min = 1,
	.offset = CHECK_FIELD(start_interval_ms)},
    [CONFIG_KEY_FAST_INTERVAL] = {.name = "fast_interval",
	.type = CONFIG_TYPE_DURATION,
	.in = IN_TIMING,
	.min = 1,
	.offset = CHECK_FIELD(fast_interval_ms)},
    [CONFIG_KEY_RISE] = {.name = "rise",
	.type = CONFIG_TYPE_INT,
	.in = IN_TIMING,
	.min = 1,
	.max = CONFIG_MAX_COUNT,
	.offset = CHECK_FIELD(rise),
	.accepted = "1-1000"},
    [CONFIG_KEY_WATCH] = {.name = "watch",
	.type = CONFIG_TYPE_BOOL,
	.in = IN_TIMING,
	.offset = CHECK_FIELD(watch)},
    [CONFIG_KEY_CHECKS] = {.name = "checks",
	.in = IN_GROUP,
	.accepted = CONFIG_LIST_ACCEPTED},
};

/* Section words and what a "did you mean" suggests for each. */
static const char *const config_section_words[CONFIG_SECTION_COUNT] = {
    [CONFIG_SECTION_DAEMON] = "daemon",
    [CONFIG_SECTION_DEFAULTS] = "defaults",
    [CONFIG_SECTION_CHECK] = "check",
    [CONFIG_SECTION_GROUP] = "group",
    [CONFIG_SECTION_IGNORED] = NULL,
};

static const char *const config_section_forms[CONFIG_SECTION_COUNT] = {
    [CONFIG_SECTION_DAEMON] = "[daemon]",
    [CONFIG_SECTION_DEFAULTS] = "[defaults]",
    [CONFIG_SECTION_CHECK] = "[check NAME]",
    [CONFIG_SECTION_GROUP] = "[group NAME]",
    [CONFIG_SECTION_IGNORED] = NULL,
};

static const char *const config_details_names[CONFIG_DETAILS_COUNT] = {
    [CONFIG_DETAILS_LOCAL] = "local",
    [CONFIG_DETAILS_ALL] = "all",
    [CONFIG_DETAILS_NONE] = "none",
};

/*
 * What the data model says per kind: default port and database, whether
 * user and password are required, which kind-specific keys it takes.
 * A kind probe.c knows but this table does not gets the generic rules.
 */
struct config_kind {
	const char *name;   /* ops->name */
	int port;	    /* default port */
	const char *dbname; /* default dbname, NULL if none */
	bool auth;	    /* user and password required */
	unsigned keys;	    /* bits of CONFIG_KIND_KEYS it takes */
};

#define CONFIG_KIND_KEYS                                          \
	((1u << CONFIG_KEY_DBNAME) | (1u << CONFIG_KEY_OPTIONS) | \
	    (1u << CONFIG_KEY_DB))

static const struct config_kind config_kinds[] = {
    {.name = "postgres",
	.port = 5432,
	.dbname = "hdms_db",
	.auth = true,
	.keys = (1u << CONFIG_KEY_DBNAME) | (1u << CONFIG_KEY_OPTIONS)},
    {.name = "pgbouncer",
	.port = 6432,
	.dbname = "hdms_db",
	.auth = true,
	.keys = (1u << CONFIG_KEY_DBNAME) | (1u << CONFIG_KEY_OPTIONS)},
    {.name = "redis", .port = 6379, .keys = 1u << CONFIG_KEY_DB},
};

#define CONFIG_NKINDS (sizeof(config_kinds) / sizeof(config_kinds[0]))

/* ---- growing strings ---- */

struct sbuf {
	char *s;    /* owned; NUL-terminated when not NULL */
	size_t len; /* bytes in s */
	size_t cap; /* bytes allocated */
	bool oom;   /* an allocation failed; s is stale */
};

/* Wipe and free: buffers may hold secrets. */
static void
sbuf_free(struct sbuf *b)
{
	if (b->s != NULL) {
		explicit_bzero(b->s, b->cap);
		free(b->s);
	}
	b->s = NULL;
	b->len = b->cap = 0;
}

static void
sbuf_add(struct sbuf *b, const char *s, size_t n)
{
	size_t cap;
	char *ns;

	if (b->oom)
		return;
	if (b->len + n + 1 > b->cap) {
		cap = b->cap != 0 ? b->cap : 64;
		while (cap < b->len + n + 1)
			cap *= 2;
		/* No realloc: it could leave a copy of a secret behind. */
		ns = malloc(cap);
		if (ns == NULL) {
			b->oom = true;
			return;
		}
		if (b->s != NULL) {
			memcpy(ns, b->s, b->len);
			explicit_bzero(b->s, b->cap);
			free(b->s);
		}
		b->s = ns;
		b->cap = cap;
	}
	memcpy(b->s + b->len, s, n);
	b->len += n;
	b->s[b->len] = '\0';
}

static void
sbuf_puts(struct sbuf *b, const char *s)
{
	sbuf_add(b, s, strlen(s));
}

static void sbuf_vprintf(struct sbuf *b, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

static void
sbuf_vprintf(struct sbuf *b, const char *fmt, va_list ap)
{
	char small[256];
	va_list aq;
	char *big;
	int n;

	va_copy(aq, ap);
	n = vsnprintf(small, sizeof(small), fmt, aq);
	va_end(aq);
	if (n < 0) {
		b->oom = true;
		return;
	}
	if ((size_t)n < sizeof(small)) {
		sbuf_add(b, small, (size_t)n);
		return;
	}
	big = malloc((size_t)n + 1);
	if (big == NULL) {
		b->oom = true;
		return;
	}
	vsnprintf(big, (size_t)n + 1, fmt, ap);
	sbuf_add(b, big, (size_t)n);
	free(big);
}

static void sbuf_printf(struct sbuf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
sbuf_printf(struct sbuf *b, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	sbuf_vprintf(b, fmt, ap);
	va_end(ap);
}

/* The string built so far, for the caller to free; NULL if out of memory. */
static char *
sbuf_take(struct sbuf *b)
{
	char *s;

	if (b->oom) {
		sbuf_free(b);
		return NULL;
	}
	if (b->s == NULL)
		return strdup("");
	s = b->s;
	b->s = NULL;
	b->len = b->cap = 0;
	return s;
}

/* Append s between double quotes, escaped and cut to CONFIG_MAX_VALUE. */
static void
sbuf_quote(struct sbuf *b, const char *s)
{
	size_t i;

	sbuf_puts(b, "\"");
	for (i = 0; s[i] != '\0' && i < CONFIG_MAX_VALUE; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '"' || c == '\\')
			sbuf_printf(b, "\\%c", c);
		else if (c < 0x20 || c == 0x7f)
			sbuf_printf(b, "\\x%02x", c);
		else
			sbuf_add(b, s + i, 1);
	}
	if (s[i] != '\0')
		sbuf_puts(b, "...");
	sbuf_puts(b, "\"");
}

/* ---- small helpers ---- */

static void
free_secret(char *s)
{
	if (s != NULL) {
		explicit_bzero(s, strlen(s));
		free(s);
	}
}

static bool
is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' ||
	    c == '\v';
}

static bool
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool
is_alnum(char c)
{
	return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static char *
trim(char *s)
{
	size_t len;

	while (is_blank(*s))
		s++;
	len = strlen(s);
	while (len > 0 && is_blank(s[len - 1]))
		s[--len] = '\0';
	return s;
}

/* A check or group name: [A-Za-z0-9_.-]+ */
static bool
is_valid_name(const char *s)
{
	if (*s == '\0')
		return false;
	for (; *s != '\0'; s++)
		if (!is_alnum(*s) && *s != '_' && *s != '.' && *s != '-')
			return false;
	return true;
}

/*
 * Keys whose values are secrets: never printed, not even after a typo
 * ("passwd"). password_file holds a path, not a secret.
 */
static bool
is_secret_key(const char *key)
{
	static const char *const words[] = {
	    "pass", "pw", "secret", "token", "key", "auth", "cred"};
	char low[64];
	size_t i;

	if (strcmp(key, "password_file") == 0)
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

/* Grow an array to hold need elements; NULL if out of memory. */
static void *
grow_array(void *arr, size_t *cap, size_t need, size_t size)
{
	size_t ncap;
	void *p;

	if (need <= *cap)
		return arr;
	ncap = *cap != 0 ? *cap * 2 : 8;
	while (ncap < need)
		ncap *= 2;
	p = realloc(arr, ncap * size);
	if (p == NULL)
		return NULL;
	*cap = ncap;
	return p;
}

/* Levenshtein distance, or INT_MAX when a string is too long to bother. */
static int
edit_distance(const char *a, const char *b)
{
	int row[65], prev, tmp, cost;
	size_t la = strlen(a), lb = strlen(b), i, j;

	if (la > 64 || lb > 64)
		return INT_MAX;
	for (j = 0; j <= lb; j++)
		row[j] = (int)j;
	for (i = 1; i <= la; i++) {
		prev = row[0];
		row[0] = (int)i;
		for (j = 1; j <= lb; j++) {
			tmp = row[j];
			cost = a[i - 1] == b[j - 1] ? 0 : 1;
			row[j] = prev + cost;
			if (row[j - 1] + 1 < row[j])
				row[j] = row[j - 1] + 1;
			if (tmp + 1 < row[j])
				row[j] = tmp + 1;
			prev = tmp;
		}
	}
	return row[lb];
}

/*
 * The candidate closest to word: edit distance at most 2 (and less than
 * the candidate's length), else the first candidate word is a prefix of.
 */
static const char *
suggest(const char *word, const char *const *cands, size_t n)
{
	const char *best = NULL;
	int bestd = 3, d;
	size_t i, wl = strlen(word);

	for (i = 0; i < n; i++) {
		if (cands[i] == NULL)
			continue;
		d = edit_distance(word, cands[i]);
		if (d < bestd && (size_t)d < strlen(cands[i])) {
			bestd = d;
			best = cands[i];
		}
	}
	if (best != NULL || wl < 2)
		return best;
	for (i = 0; i < n; i++)
		if (cands[i] != NULL && strncmp(cands[i], word, wl) == 0)
			return cands[i];
	return NULL;
}

/*
 * Read a whole file into a new NUL-terminated buffer. Returns 0, or -1
 * with errno set (EFBIG when it holds more than max bytes).
 */
static int
read_file(const char *path, size_t max, char **out, size_t *outlen)
{
	struct sbuf b = {0};
	char chunk[4096];
	ssize_t n;
	int fd, saved;

	*out = NULL;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
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
		sbuf_add(&b, chunk, (size_t)n);
		if (b.oom) {
			errno = ENOMEM;
			goto out_err;
		}
	}
	explicit_bzero(chunk, sizeof(chunk));
	close(fd);
	if (outlen != NULL)
		*outlen = b.len;
	*out = sbuf_take(&b);
	if (*out == NULL) {
		errno = ENOMEM;
		return -1;
	}
	return 0;

out_err:
	saved = errno;
	explicit_bzero(chunk, sizeof(chunk));
	sbuf_free(&b);
	close(fd);
	errno = saved;
	return -1;
}

/*
 * Read a secret file and strip one trailing newline. Returns 0, or -1
 * with err filled ("PROBLEM (accepted: ...)").
 */
static int
read_secret(const char *path, char **out, char *err, size_t errlen)
{
	size_t len;

	if (read_file(path, CONFIG_MAX_SECRET, out, &len) < 0) {
		if (errno == EFBIG)
			snprintf(err, errlen,
			    "too large (accepted: up to %d bytes)",
			    CONFIG_MAX_SECRET);
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

/*
 * Parse [0-9]+ within [min, max]. Returns 0, -1 if not a number, -2 if
 * out of range (negative numbers too).
 */
static int
parse_int(const char *s, int64_t min, int64_t max, int64_t *out)
{
	int64_t v = 0;

	if (*s == '-' && is_digit(s[1]) &&
	    strspn(s + 1, "0123456789") == strlen(s + 1))
		return -2;
	if (!is_digit(*s))
		return -1;
	for (; is_digit(*s); s++) {
		if (v > (INT64_MAX - 9) / 10)
			return -2;
		v = v * 10 + (*s - '0');
	}
	if (*s != '\0')
		return -1;
	if (v < min || v > max)
		return -2;
	*out = v;
	return 0;
}

static int
parse_bool(const char *s, bool *out)
{
	static const char *const yes[] = {"yes", "true", "on", "1"};
	static const char *const no[] = {"no", "false", "off", "0"};
	size_t i;

	for (i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		if (strcasecmp(s, yes[i]) == 0) {
			*out = true;
			return 0;
		}
		if (strcasecmp(s, no[i]) == 0) {
			*out = false;
			return 0;
		}
	}
	return -1;
}

/* Format a duration in the largest unit that divides it: 30s, 250ms. */
static void
format_duration(int64_t ms, char *buf, size_t len)
{
	if (ms == 0)
		snprintf(buf, len, "0s");
	else if (ms % 3600000 == 0)
		snprintf(buf, len, "%lldh", (long long)(ms / 3600000));
	else if (ms % 60000 == 0)
		snprintf(buf, len, "%lldm", (long long)(ms / 60000));
	else if (ms % 1000 == 0)
		snprintf(buf, len, "%llds", (long long)(ms / 1000));
	else
		snprintf(buf, len, "%lldms", (long long)ms);
}

/*
 * A host: a name of [A-Za-z0-9._-], an IPv4 address, or an IPv6 address
 * with or without brackets. *out is the host without brackets.
 */
static int
parse_host(const char *s, size_t len, char **out)
{
	struct in6_addr a6;
	char buf[INET6_ADDRSTRLEN + 2];
	size_t i;

	*out = NULL;
	if (len >= 2 && s[0] == '[' && s[len - 1] == ']') {
		s++;
		len -= 2;
		if (len == 0 || len >= sizeof(buf))
			return -1;
		memcpy(buf, s, len);
		buf[len] = '\0';
		if (inet_pton(AF_INET6, buf, &a6) != 1)
			return -1;
	} else if (memchr(s, ':', len) != NULL) {
		if (len >= sizeof(buf))
			return -1;
		memcpy(buf, s, len);
		buf[len] = '\0';
		if (inet_pton(AF_INET6, buf, &a6) != 1)
			return -1;
	} else {
		if (len == 0 || len > CONFIG_MAX_HOST)
			return -1;
		for (i = 0; i < len; i++)
			if (!is_alnum(s[i]) && s[i] != '.' && s[i] != '-' &&
			    s[i] != '_')
				return -1;
		if (s[0] == '-' || s[0] == '.')
			return -1;
	}
	*out = strndup(s, len);
	return *out != NULL ? 0 : -2;
}

/* Parse "ADDR:PORT" or "[IPv6]:PORT". Returns 0, or -1 with err filled. */
static int
parse_listen(const char *s, char **host, int *port, char *err, size_t errlen)
{
	const char *colon, *close;
	int64_t p;
	int rc;

	*host = NULL;
	if (s[0] == '[') {
		close = strchr(s, ']');
		if (close == NULL || close[1] != ':') {
			snprintf(err, errlen, "invalid address");
			return -1;
		}
		colon = close + 1;
	} else {
		colon = strrchr(s, ':');
		if (colon == NULL) {
			snprintf(err, errlen, "missing port");
			return -1;
		}
		if (memchr(s, ':', (size_t)(colon - s)) != NULL) {
			snprintf(err, errlen, "IPv6 address without brackets");
			return -1;
		}
	}
	if (colon == s) {
		snprintf(err, errlen, "missing address");
		return -1;
	}
	rc = parse_int(colon + 1, 1, 65535, &p);
	if (rc == -1) {
		snprintf(err, errlen, "invalid port");
		return -1;
	}
	if (rc == -2) {
		snprintf(err, errlen, "port out of range");
		return -1;
	}
	rc = parse_host(s, (size_t)(colon - s), host);
	if (rc == -2) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (rc < 0) {
		snprintf(err, errlen, "invalid address");
		return -1;
	}
	{
		unsigned char buf[sizeof(struct in6_addr)];

		/* a name would need a blocking lookup at bind time */
		if (inet_pton(AF_INET, *host, buf) != 1 &&
		    inet_pton(AF_INET6, *host, buf) != 1) {
			snprintf(err, errlen,
			    "not a numeric address (such as 127.0.0.1, "
			    "0.0.0.0 or [::])");
			free(*host);
			*host = NULL;
			return -1;
		}
	}
	*port = (int)p;
	return 0;
}

/*
 * Split a list of names separated by spaces or commas into a new
 * NULL-terminated array, dropping repeats. Returns the count, or -1 if
 * out of memory.
 */
static long
split_names(const char *s, char ***out)
{
	char **v = NULL, **nv;
	size_t n = 0, cap = 0, len, i;
	bool seen;

	*out = NULL;
	for (;;) {
		while (is_blank(*s) || *s == ',')
			s++;
		if (*s == '\0')
			break;
		len = strcspn(s, " \t\r\n\f\v,");
		seen = false;
		for (i = 0; i < n && !seen; i++)
			seen =
			    strlen(v[i]) == len && strncmp(v[i], s, len) == 0;
		if (!seen) {
			nv = grow_array(v, &cap, n + 2, sizeof(*v));
			if (nv == NULL)
				goto out_oom;
			v = nv;
			v[n] = strndup(s, len);
			if (v[n] == NULL)
				goto out_oom;
			v[++n] = NULL;
		}
		s += len;
	}
	*out = v;
	return (long)n;

out_oom:
	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
	return -1;
}

static void
free_names(char **v)
{
	size_t i;

	if (v == NULL)
		return;
	for (i = 0; v[i] != NULL; i++)
		free(v[i]);
	free(v);
}

/* ---- durations and expansion ---- */

int
config_parse_duration(const char *s, int64_t *ms, char *err, size_t errlen)
{
	static const struct {
		const char *unit;
		int64_t ms;
	} units[] = {
	    {"", 1000}, {"ms", 1}, {"s", 1000}, {"m", 60000}, {"h", 3600000}};
	const char *p = s;
	int64_t v = 0;
	size_t i;

	if (*p == '\0') {
		snprintf(err, errlen, "empty (accepted: %s)",
		    CONFIG_DURATION_ACCEPTED);
		return -1;
	}
	if (*p == '-' && is_digit(p[1])) {
		snprintf(err, errlen, "negative (accepted: %s)",
		    CONFIG_DURATION_ACCEPTED);
		return -1;
	}
	if (!is_digit(*p))
		goto out_bad;
	for (; is_digit(*p); p++) {
		if (v > CONFIG_DURATION_MAX)
			goto out_big;
		v = v * 10 + (*p - '0');
	}
	for (i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (strcmp(p, units[i].unit) != 0)
			continue;
		if (v > CONFIG_DURATION_MAX / units[i].ms)
			goto out_big;
		*ms = v * units[i].ms;
		return 0;
	}
out_bad:
	snprintf(err, errlen, "not a duration (accepted: %s)",
	    CONFIG_DURATION_ACCEPTED);
	return -1;
out_big:
	snprintf(err, errlen, "too large (accepted: at most %lldh)",
	    CONFIG_DURATION_MAX / 3600000);
	return -1;
}

static int expand_into(struct sbuf *b, const char *s, size_t len, int depth,
    char *err, size_t errlen);

/*
 * Append the value of ${name} or ${name:-def}: VAR, else VAR_FILE, else
 * the default (only with ":-"). The value of VAR is used when set, even
 * empty, for ${VAR}; ${VAR:-...} treats empty as unset, as the shell does,
 * and so does a VAR_FILE beside an empty VAR, as the postgres and redis
 * images do (a compose file listing VAR with no value leaves it empty).
 */
static int
expand_var(struct sbuf *b, const char *name, size_t nlen, const char *def,
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
		sbuf_puts(b, val);
		return 0;
	}
	path = getenv(fvar);
	if (path != NULL) {
		if (read_secret(path, &content, perr, sizeof(perr)) < 0) {
			snprintf(
			    err, errlen, "%s = \"%s\": %s", fvar, path, perr);
			return -1;
		}
		sbuf_puts(b, content);
		free_secret(content);
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
expand_into(struct sbuf *b, const char *s, size_t len, int depth, char *err,
    size_t errlen)
{
	size_t i = 0, j, end, nlen;
	int open;

	if (depth > CONFIG_MAX_NESTING) {
		snprintf(err, errlen,
		    "nested too deeply (accepted: up to %d levels of ${VAR:-default})",
		    CONFIG_MAX_NESTING);
		return -1;
	}
	while (i < len) {
		if (s[i] != '$' || i + 1 >= len ||
		    (s[i + 1] != '$' && s[i + 1] != '{')) {
			j = i + 1;
			while (j < len && s[j] != '$')
				j++;
			sbuf_add(b, s + i, j - i);
			i = j;
			continue;
		}
		if (s[i + 1] == '$') {
			sbuf_add(b, "$", 1);
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
		if (j < end && !is_digit(s[j]))
			while (j < end && (is_alnum(s[j]) || s[j] == '_'))
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
	struct sbuf b = {0};

	*out = NULL;
	if (expand_into(&b, in, strlen(in), 0, err, errlen) < 0) {
		sbuf_free(&b);
		return -1;
	}
	*out = sbuf_take(&b);
	if (*out == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	return 0;
}

/* ---- the raw file: sections and keys as written ---- */

struct raw_kv {
	enum config_key_id id; /* which key */
	char *key;	       /* owned; as written */
	char *value;	       /* owned; as written, before expansion */
	int line;	       /* where it was written */
};

struct raw_section {
	enum config_section_type type;
	char *title;	   /* owned; the header as shown in messages */
	char *name;	   /* owned; NAME of a check or group, else NULL */
	int line;	   /* line of the header */
	struct raw_kv *kv; /* owned array */
	size_t nkv;
	size_t cap;
};

struct config_error {
	int line;   /* 0 for messages about the whole file */
	size_t seq; /* order of discovery, to keep the sort stable */
	char *text; /* owned; one whole message */
};

/* Everything one load needs; lives on config_load_string's stack. */
struct config_parser {
	const char *file;	  /* FILE in messages; borrowed */
	const char *text;	  /* the file's text; borrowed */
	size_t pos;		  /* next byte of text to read */
	int lineno;		  /* line most recently read */
	struct raw_section *secs; /* owned array, in file order */
	size_t nsecs;
	size_t capsecs;
	long cur; /* index of the current section, -1 before any */
	struct config_error *errs; /* owned array */
	size_t nerrs;
	size_t caperrs;
	size_t dropped;	 /* messages beyond CONFIG_KEEP_ERRORS */
	bool oom;	 /* an allocation failed */
	char kinds[128]; /* "postgres, pgbouncer, redis" */
};

/* Where a value comes from: a key in a section, or nowhere (NULL). */
struct config_src {
	const struct raw_section *sec; /* borrowed from the parser */
	const struct raw_kv *kv;       /* borrowed from the parser */
};

static void
report(struct config_parser *ps, int line, const struct raw_section *sec,
    const char *key, const char *raw, const char *expanded, const char *fmt,
    ...) __attribute__((format(printf, 7, 8)));

/*
 * Record one message: "FILE:LINE: [SECTION] KEY = "VALUE": PROBLEM".
 * Each part is left out when NULL (line 0: no line). Secret values
 * show as "***" and their expansion never shows.
 */
static void
report(struct config_parser *ps, int line, const struct raw_section *sec,
    const char *key, const char *raw, const char *expanded, const char *fmt,
    ...)
{
	struct sbuf b = {0};
	struct config_error *ne;
	bool secret = key != NULL && is_secret_key(key);
	va_list ap;
	char *text;
	size_t i;

	if (line > 0)
		sbuf_printf(&b, "%s:%d: ", ps->file, line);
	else
		sbuf_printf(&b, "%s: ", ps->file);
	if (sec != NULL)
		sbuf_printf(&b, "[%s]%s", sec->title, key != NULL ? " " : ": ");
	if (key != NULL) {
		sbuf_puts(&b, key);
		if (raw != NULL) {
			sbuf_puts(&b, " = ");
			if (secret && *raw != '\0')
				sbuf_puts(&b, "\"***\"");
			else
				sbuf_quote(&b, raw);
			if (expanded != NULL && !secret &&
			    strcmp(raw, expanded) != 0) {
				sbuf_puts(&b, " (expands to ");
				sbuf_quote(&b, expanded);
				sbuf_puts(&b, ")");
			}
		}
		sbuf_puts(&b, ": ");
	}
	va_start(ap, fmt);
	sbuf_vprintf(&b, fmt, ap);
	va_end(ap);
	text = sbuf_take(&b);
	if (text == NULL) {
		ps->oom = true;
		return;
	}
	for (i = 0; i < ps->nerrs; i++) {
		if (strcmp(ps->errs[i].text, text) == 0) {
			free(text);
			return;
		}
	}
	if (ps->nerrs >= CONFIG_KEEP_ERRORS) {
		ps->dropped++;
		free(text);
		return;
	}
	ne = grow_array(
	    ps->errs, &ps->caperrs, ps->nerrs + 1, sizeof(*ps->errs));
	if (ne == NULL) {
		ps->oom = true;
		free(text);
		return;
	}
	ps->errs = ne;
	ps->errs[ps->nerrs].line = line;
	ps->errs[ps->nerrs].seq = ps->nerrs;
	ps->errs[ps->nerrs].text = text;
	ps->nerrs++;
}

static char *
dup_or_oom(struct config_parser *ps, const char *s)
{
	char *d = strdup(s);

	if (d == NULL)
		ps->oom = true;
	return d;
}

static void
fill_kinds(struct config_parser *ps)
{
	const char *k = probe_kinds();
	size_t len = 0, n;

	ps->kinds[0] = '\0';
	while (*k != '\0') {
		while (*k == ' ' || *k == '|' || *k == ',')
			k++;
		n = strcspn(k, " |,");
		if (n == 0)
			break;
		if (len + n + 3 >= sizeof(ps->kinds))
			break;
		if (len > 0) {
			memcpy(ps->kinds + len, ", ", 2);
			len += 2;
		}
		memcpy(ps->kinds + len, k, n);
		len += n;
		ps->kinds[len] = '\0';
		k += n;
	}
}

/* Start a section from the text between the brackets. */
static void
add_section(struct config_parser *ps, char *hdr)
{
	struct raw_section *ns, *sec;
	enum config_section_type type = CONFIG_SECTION_IGNORED;
	const char *hint;
	char *rest, *word = hdr;
	struct sbuf b = {0};
	size_t i;

	ns = grow_array(
	    ps->secs, &ps->capsecs, ps->nsecs + 1, sizeof(*ps->secs));
	if (ns == NULL) {
		ps->oom = true;
		ps->cur = -1;
		return;
	}
	ps->secs = ns;
	sec = &ps->secs[ps->nsecs];
	memset(sec, 0, sizeof(*sec));
	sec->type = CONFIG_SECTION_IGNORED;
	sec->line = ps->lineno;
	ps->cur = (long)ps->nsecs++;

	rest = word + strcspn(word, " \t");
	if (*rest != '\0')
		*rest++ = '\0';
	rest = trim(rest);
	for (i = 0; i < CONFIG_SECTION_IGNORED; i++)
		if (strcmp(word, config_section_words[i]) == 0)
			type = i;
	sbuf_printf(&b, "%s%s%s", word, *rest != '\0' ? " " : "", rest);
	sec->title = sbuf_take(&b);
	if (sec->title == NULL) {
		ps->oom = true;
		return;
	}

	if (type == CONFIG_SECTION_IGNORED ||
	    ((type == CONFIG_SECTION_DAEMON ||
		 type == CONFIG_SECTION_DEFAULTS) &&
		*rest != '\0')) {
		hint = type != CONFIG_SECTION_IGNORED
		    ? config_section_words[type]
		    : suggest(
			  word, config_section_words, CONFIG_SECTION_IGNORED);
		for (i = 0; hint != NULL && i < CONFIG_SECTION_IGNORED; i++)
			if (strcmp(hint, config_section_words[i]) == 0)
				hint = config_section_forms[i];
		if (hint != NULL)
			report(ps, sec->line, sec, NULL, NULL, NULL,
			    "unknown section (did you mean \"%s\"?)", hint);
		else
			report(ps, sec->line, sec, NULL, NULL, NULL,
			    "unknown section (accepted: %s)",
			    CONFIG_SECTIONS_ACCEPTED);
		return;
	}
	if (type == CONFIG_SECTION_CHECK || type == CONFIG_SECTION_GROUP) {
		if (*rest == '\0') {
			report(ps, sec->line, sec, NULL, NULL, NULL,
			    "missing name (accepted: %s)",
			    config_section_forms[type]);
			return;
		}
		if (!is_valid_name(rest)) {
			report(ps, sec->line, sec, NULL, NULL, NULL,
			    "invalid name (accepted: %s)",
			    CONFIG_NAME_ACCEPTED);
			return;
		}
	}
	for (i = 0; i + 1 < ps->nsecs; i++) {
		if (ps->secs[i].type != type)
			continue;
		if (type == CONFIG_SECTION_DAEMON ||
		    type == CONFIG_SECTION_DEFAULTS) {
			report(ps, sec->line, sec, NULL, NULL, NULL,
			    "duplicate section (first at line %d)",
			    ps->secs[i].line);
			return;
		}
		if (strcmp(ps->secs[i].name, rest) == 0) {
			report(ps, sec->line, sec, NULL, NULL, NULL,
			    "duplicate %s name (first at line %d)", word,
			    ps->secs[i].line);
			return;
		}
	}
	if (type == CONFIG_SECTION_CHECK || type == CONFIG_SECTION_GROUP) {
		sec->name = dup_or_oom(ps, rest);
		if (sec->name == NULL)
			return;
	}
	sec->type = type;
}

/*
 * A secret key's value with an inline comment (" #", " ;"): inih would
 * silently cut the value there, leaving a wrong password.
 */
static bool
secret_cut_by_comment(const char *k, const char *eq, char *key, size_t keylen)
{
	const char *v = eq + 1;
	size_t n = (size_t)(eq - k);

	while (n > 0 && is_blank(k[n - 1]))
		n--;
	if (n == 0 || n >= keylen)
		return false;
	memcpy(key, k, n);
	key[n] = '\0';
	if (!is_secret_key(key))
		return false;
	while (is_blank(*v))
		v++;
	if (*v == '\0')
		return false;
	/* as inih: a comment needs a blank before it, within the value */
	for (const char *c = v + 1; *c != '\0' && *c != '\n' && *c != '\r';
	     c++) {
		if ((*c != '#' && *c != ';') || !is_blank(c[-1]))
			continue;
		/* "${VAR}  # from .env" is a plain comment */
		n = (size_t)(c - v);
		while (n > 0 && is_blank(v[n - 1]))
			n--;
		return !(n > 3 && strncmp(v, "${", 2) == 0 && v[n - 1] == '}' &&
		    memchr(v + 2, '}', n - 3) == NULL);
	}
	return false;
}

/*
 * Look at one line before inih does: count it, take section headers
 * (inih says nothing about a section without keys), and catch what inih
 * would reject. Returns false if inih should not see the line.
 */
static bool
scan_line(struct config_parser *ps, char *line)
{
	char *s = line, *end, *after, *k, key[64];
	bool was_space = false;

	if (ps->lineno == 1 && strncmp(s, "\xEF\xBB\xBF", 3) == 0)
		s += 3;
	while (is_blank(*s))
		s++;
	if (*s == '\0' || *s == ';' || *s == '#')
		return true;
	if (*s == '[') {
		end = strchr(s, ']');
		if (end != NULL) {
			after = end + 1;
			while (is_blank(*after))
				after++;
			if (*after == '\0' || *after == ';' || *after == '#') {
				*end = '\0';
				add_section(ps, trim(s + 1));
				return false;
			}
		}
		report(ps, ps->lineno, NULL, NULL, NULL, NULL,
		    "syntax error (accepted: \"[SECTION]\", \"KEY = VALUE\" or a comment starting with \"#\" or \";\")");
		ps->cur = -2; /* ignore keys until the next header */
		return false;
	}
	/* As inih's find_chars_or_comment(s, "=:"). */
	for (k = s; *s != '\0' && *s != '=' && *s != ':'; s++) {
		if (was_space && (*s == ';' || *s == '#'))
			break;
		was_space = is_blank(*s);
	}
	if ((*s == '=' || *s == ':') && ps->cur >= 0 &&
	    secret_cut_by_comment(k, s, key, sizeof(key)))
		report(ps, ps->lineno, &ps->secs[ps->cur], key, "***", NULL,
		    "\" #\" or \" ;\" starts a comment and would cut the "
		    "password short (accepted: such a password in "
		    "password_file or an environment variable)");
	if (*s == '=' || *s == ':')
		return true;
	report(ps, ps->lineno, NULL, NULL, NULL, NULL,
	    "syntax error (accepted: \"[SECTION]\", \"KEY = VALUE\" or a comment starting with \"#\" or \";\")");
	return false;
}

/* The ini_reader: hand inih one line at a time, counting lines. */
static char *
config_reader_cb(char *str, int num, void *stream)
{
	struct config_parser *ps = stream;
	const char *p = ps->text + ps->pos, *nl;
	size_t take, len;

	if (*p == '\0' || num < 2)
		return NULL;
	nl = strchr(p, '\n');
	take = nl != NULL ? (size_t)(nl - p) + 1 : strlen(p);
	ps->pos += take;
	ps->lineno++;
	len = take;
	if (len > 0 && p[len - 1] == '\n')
		len--;
	if (len > 0 && p[len - 1] == '\r')
		len--;
	if (len > CONFIG_MAX_LINE || take + 1 > (size_t)num) {
		report(ps, ps->lineno, NULL, NULL, NULL, NULL,
		    "line too long (accepted: up to %d characters)",
		    CONFIG_MAX_LINE);
		strcpy(str, "\n");
		return str;
	}
	memcpy(str, p, take);
	str[take] = '\0';
	if (!scan_line(ps, str))
		strcpy(str, "\n");
	return str;
}

static void
key_list(unsigned in, struct sbuf *b)
{
	size_t i;
	bool first = true;

	for (i = 0; i < CONFIG_KEY_COUNT; i++) {
		if (!(config_keys[i].in & in))
			continue;
		sbuf_printf(b, "%s%s", first ? "" : ", ", config_keys[i].name);
		first = false;
	}
}

/* The ini_handler: one "KEY = VALUE" of the line most recently read. */
static int
config_ini_cb(
    void *user, const char *section, const char *name, const char *value)
{
	struct config_parser *ps = user;
	const char *cands[CONFIG_KEY_COUNT], *hint;
	struct raw_section *sec;
	struct raw_kv *nkv, *kv;
	struct sbuf b = {0};
	unsigned bit;
	char *list;
	long id = -1;
	size_t i;

	(void)section; /* ours comes from scan_line() */
	if (value == NULL)
		return 1;
	if (ps->cur == -2)
		return 1;
	if (ps->cur < 0) {
		report(ps, ps->lineno, NULL, name, value, NULL,
		    "outside of any section (accepted: after one of %s)",
		    CONFIG_SECTIONS_ACCEPTED);
		return 1;
	}
	sec = &ps->secs[ps->cur];
	if (sec->type == CONFIG_SECTION_IGNORED)
		return 1;
	bit = 1u << sec->type;
	if (*name == '\0') {
		report(ps, ps->lineno, sec, NULL, NULL, NULL,
		    "missing key name before \"=\" (accepted: KEY = VALUE)");
		return 1;
	}
	for (i = 0; i < CONFIG_KEY_COUNT; i++) {
		cands[i] = config_keys[i].in & bit ? config_keys[i].name : NULL;
		if (strcmp(name, config_keys[i].name) == 0)
			id = (long)i;
	}
	if (id < 0 || !(config_keys[id].in & bit)) {
		hint = suggest(name, cands, CONFIG_KEY_COUNT);
		key_list(bit, &b);
		list = sbuf_take(&b);
		if (list == NULL) {
			ps->oom = true;
			return 1;
		}
		if (id >= 0)
			report(ps, ps->lineno, sec, name, value, NULL,
			    "not allowed in %s (accepted: %s)",
			    config_section_forms[sec->type], list);
		else if (hint != NULL)
			/* a misspelt secret key keeps its value secret */
			report(ps, ps->lineno, sec, name,
			    is_secret_key(hint) && *value != '\0' ? "***"
								  : value,
			    NULL, "unknown key (did you mean \"%s\"?)", hint);
		else
			report(ps, ps->lineno, sec, name, value, NULL,
			    "unknown key (accepted: %s)", list);
		free(list);
		return 1;
	}
	for (i = 0; i < sec->nkv; i++) {
		if (sec->kv[i].id == (enum config_key_id)id) {
			report(ps, ps->lineno, sec, name, value, NULL,
			    "duplicate key (first at line %d)",
			    sec->kv[i].line);
			return 1;
		}
	}
	nkv = grow_array(sec->kv, &sec->cap, sec->nkv + 1, sizeof(*sec->kv));
	if (nkv == NULL) {
		ps->oom = true;
		return 1;
	}
	sec->kv = nkv;
	kv = &sec->kv[sec->nkv];
	kv->id = (enum config_key_id)id;
	kv->line = ps->lineno;
	kv->key = strdup(name);
	kv->value = strdup(value);
	if (kv->key == NULL || kv->value == NULL) {
		free(kv->key);
		free_secret(kv->value);
		ps->oom = true;
		return 1;
	}
	sec->nkv++;
	return 1;
}

static void
parse_text(struct config_parser *ps)
{
	static char comment_chars[] = ";#";

	ini_allow_multiline = false;
	ini_allow_bom = true;
	ini_allow_inline_comments = true;
	ini_inline_comment_prefixes = comment_chars;
	ini_start_comment_prefixes = comment_chars;
	ini_allow_no_value = false;
	ini_stop_on_first_error = false;
	ini_use_stack = false;
	ini_allow_realloc = false;
	ini_max_line = CONFIG_MAX_LINE + 3;
	ini_initial_alloc = CONFIG_MAX_LINE + 3;
	/* Syntax errors are ours: scan_line() keeps them from inih. */
	if (ini_parse_stream(config_reader_cb, ps, config_ini_cb, ps) == -2)
		ps->oom = true;
}

static void
parser_free(struct config_parser *ps)
{
	size_t i, j;

	for (i = 0; i < ps->nsecs; i++) {
		for (j = 0; j < ps->secs[i].nkv; j++) {
			free(ps->secs[i].kv[j].key);
			free_secret(ps->secs[i].kv[j].value);
		}
		free(ps->secs[i].kv);
		free(ps->secs[i].title);
		free(ps->secs[i].name);
	}
	free(ps->secs);
	for (i = 0; i < ps->nerrs; i++)
		free(ps->errs[i].text);
	free(ps->errs);
}

/* ---- building struct config from the raw sections ---- */

static void
find_srcs(const struct raw_section *sec, struct config_src *src)
{
	size_t i;

	for (i = 0; i < sec->nkv; i++) {
		src[sec->kv[i].id].sec = sec;
		src[sec->kv[i].id].kv = &sec->kv[i];
	}
}

/* Expand a value; NULL (reported) on failure. */
static char *
src_expand(struct config_parser *ps, const struct config_src *s)
{
	char err[512], *out;

	if (config_expand(s->kv->value, &out, err, sizeof(err)) < 0) {
		report(ps, s->kv->line, s->sec, s->kv->key, s->kv->value, NULL,
		    "%s", err);
		return NULL;
	}
	return out;
}

/* Parse a DURATION, INT or BOOL key into the check at base. */
static int
apply_typed(
    struct config_parser *ps, const struct config_src *s, struct check_cfg *c)
{
	const struct config_key *k = &config_keys[s->kv->id];
	char *base = (char *)c, err[256], *v;
	int64_t n;
	bool bv;
	int rc = -1;

	v = src_expand(ps, s);
	if (v == NULL)
		return -1;
	switch (k->type) {
	case CONFIG_TYPE_DURATION:
		if (config_parse_duration(v, &n, err, sizeof(err)) < 0) {
			report(ps, s->kv->line, s->sec, s->kv->key,
			    s->kv->value, v, "%s", err);
			break;
		}
		if (n < k->min) {
			report(ps, s->kv->line, s->sec, s->kv->key,
			    s->kv->value, v,
			    "must be more than 0 (accepted: %s)",
			    CONFIG_DURATION_ACCEPTED);
			break;
		}
		memcpy(base + k->offset, &n, sizeof(n));
		rc = 0;
		break;
	case CONFIG_TYPE_INT:
		rc = parse_int(v, k->min, k->max, &n);
		if (rc < 0) {
			report(ps, s->kv->line, s->sec, s->kv->key,
			    s->kv->value, v, "%s (accepted: %s)",
			    rc == -1 ? "not a number" : "out of range",
			    k->accepted);
			rc = -1;
			break;
		}
		*(int *)(void *)(base + k->offset) = (int)n;
		break;
	case CONFIG_TYPE_BOOL:
		if (parse_bool(v, &bv) < 0) {
			report(ps, s->kv->line, s->sec, s->kv->key,
			    s->kv->value, v,
			    "not a boolean (accepted: yes, no, true, false, on, off, 1, 0)");
			break;
		}
		memcpy(base + k->offset, &bv, sizeof(bv));
		rc = 0;
		break;
	case CONFIG_TYPE_TEXT:
	case CONFIG_TYPE_COUNT:
		break;
	}
	free(v);
	return rc;
}

/*
 * timeout must not exceed interval. Blame the key set in own (the check)
 * if any, else the one set in [defaults], timeout first.
 */
static void
check_timeout(struct config_parser *ps, const struct check_cfg *c,
    const struct config_src *src, const struct raw_section *own)
{
	const struct config_src *t = &src[CONFIG_KEY_TIMEOUT];
	const struct config_src *iv = &src[CONFIG_KEY_INTERVAL];
	char ts[32], is[32];

	if (c->timeout_ms <= c->interval_ms)
		return;
	format_duration(c->timeout_ms, ts, sizeof(ts));
	format_duration(c->interval_ms, is, sizeof(is));
	if (t->kv != NULL && (t->sec == own || iv->sec != own))
		report(ps, t->kv->line, t->sec, t->kv->key, t->kv->value, NULL,
		    "%s is longer than the interval %s (accepted: at most the interval)",
		    ts, is);
	else if (iv->kv != NULL)
		report(ps, iv->kv->line, iv->sec, iv->kv->key, iv->kv->value,
		    NULL,
		    "%s is shorter than the timeout %s (accepted: at least the timeout)",
		    is, ts);
}

static void
defaults_init(struct check_cfg *c)
{
	memset(c, 0, sizeof(*c));
	c->required = true;
	c->interval_ms = 30000;
	c->timeout_ms = 10000;
	c->start_period_ms = 0;
	c->start_interval_ms = 5000;
	c->retries = 3;
	c->fast_interval_ms = 1000;
	c->rise = 1;
	c->watch = true;
	c->writable = true;
}

/* The template every check starts from: built-ins plus [defaults]. */
static void
build_defaults(
    struct config_parser *ps, struct check_cfg *tmpl, struct config_src *tsrc)
{
	const struct raw_section *sec = NULL;
	bool bad = false;
	size_t i;

	defaults_init(tmpl);
	memset(tsrc, 0, sizeof(*tsrc) * CONFIG_KEY_COUNT);
	for (i = 0; i < ps->nsecs && sec == NULL; i++)
		if (ps->secs[i].type == CONFIG_SECTION_DEFAULTS)
			sec = &ps->secs[i];
	if (sec == NULL)
		return;
	find_srcs(sec, tsrc);
	for (i = 0; i < CONFIG_KEY_COUNT; i++) {
		if (tsrc[i].kv == NULL)
			continue;
		if (apply_typed(ps, &tsrc[i], tmpl) < 0) {
			/* Checks inherit the built-in, not the bad value. */
			tsrc[i].kv = NULL;
			tsrc[i].sec = NULL;
			if (i == CONFIG_KEY_TIMEOUT || i == CONFIG_KEY_INTERVAL)
				bad = true;
		}
	}
	if (!bad)
		check_timeout(ps, tmpl, tsrc, sec);
}

static void
build_daemon(struct config_parser *ps, struct config *cfg)
{
	struct config_src src[CONFIG_KEY_COUNT];
	char err[256], *v;
	size_t i;

	memset(src, 0, sizeof(src));
	for (i = 0; i < ps->nsecs; i++)
		if (ps->secs[i].type == CONFIG_SECTION_DAEMON)
			find_srcs(&ps->secs[i], src);
	cfg->listen_port = 8080;
	cfg->details = CONFIG_DETAILS_LOCAL;
	if (src[CONFIG_KEY_LISTEN].kv != NULL &&
	    (v = src_expand(ps, &src[CONFIG_KEY_LISTEN])) != NULL) {
		if (parse_listen(v, &cfg->listen_host, &cfg->listen_port, err,
			sizeof(err)) < 0)
			report(ps, src[CONFIG_KEY_LISTEN].kv->line,
			    src[CONFIG_KEY_LISTEN].sec, "listen",
			    src[CONFIG_KEY_LISTEN].kv->value, v,
			    "%s (accepted: %s)", err,
			    config_keys[CONFIG_KEY_LISTEN].accepted);
		free(v);
	}
	if (cfg->listen_host == NULL)
		cfg->listen_host = dup_or_oom(ps, "0.0.0.0");
	if (src[CONFIG_KEY_DRAIN].kv != NULL &&
	    (v = src_expand(ps, &src[CONFIG_KEY_DRAIN])) != NULL) {
		if (config_parse_duration(v, &cfg->drain_ms, err, sizeof(err)) <
		    0)
			report(ps, src[CONFIG_KEY_DRAIN].kv->line,
			    src[CONFIG_KEY_DRAIN].sec, "drain",
			    src[CONFIG_KEY_DRAIN].kv->value, v, "%s", err);
		free(v);
	}
	if (src[CONFIG_KEY_DETAILS].kv != NULL &&
	    (v = src_expand(ps, &src[CONFIG_KEY_DETAILS])) != NULL) {
		for (i = 0; i < CONFIG_DETAILS_COUNT; i++)
			if (strcmp(v, config_details_names[i]) == 0)
				break;
		if (i < CONFIG_DETAILS_COUNT)
			cfg->details = i;
		else
			report(ps, src[CONFIG_KEY_DETAILS].kv->line,
			    src[CONFIG_KEY_DETAILS].sec, "details",
			    src[CONFIG_KEY_DETAILS].kv->value, v,
			    "invalid value (accepted: %s)",
			    config_keys[CONFIG_KEY_DETAILS].accepted);
		free(v);
	}
}

/* "postgres and pgbouncer" for the kinds that take a key. */
static void
kinds_taking(enum config_key_id id, char *buf, size_t len)
{
	size_t i, n = 0, total = 0, used = 0;

	for (i = 0; i < CONFIG_NKINDS; i++)
		if (config_kinds[i].keys & (1u << id))
			total++;
	buf[0] = '\0';
	for (i = 0; i < CONFIG_NKINDS && used < len; i++) {
		if (!(config_kinds[i].keys & (1u << id)))
			continue;
		n++;
		used += (size_t)snprintf(buf + used, len - used, "%s%s",
		    n == 1 ? "" : (n == total ? " and " : ", "),
		    config_kinds[i].name);
	}
}

/* Refuse a kind-specific key the check's kind does not take. */
static bool
key_fits_kind(struct config_parser *ps, const struct config_src *s,
    const struct config_kind *kinfo)
{
	char kinds[64];

	if (s->kv == NULL || kinfo == NULL ||
	    !(CONFIG_KIND_KEYS & (1u << s->kv->id)) ||
	    (kinfo->keys & (1u << s->kv->id)))
		return true;
	kinds_taking(s->kv->id, kinds, sizeof(kinds));
	report(ps, s->kv->line, s->sec, s->kv->key, s->kv->value, NULL,
	    "not used by kind %s (accepted: %s checks only)", kinfo->name,
	    kinds);
	return false;
}

static void
build_kind(struct config_parser *ps, const struct raw_section *sec,
    const struct config_src *s, struct check_cfg *c,
    const struct config_kind **kinfo)
{
	const char *cands[16], *hint;
	char words[128], *v, *w, *save = NULL;
	size_t n = 0, i;

	*kinfo = NULL;
	if (s->kv == NULL) {
		report(ps, sec->line, sec, "kind", NULL, NULL,
		    "missing (accepted: %s)", ps->kinds);
		return;
	}
	v = src_expand(ps, s);
	if (v == NULL)
		return;
	c->ops = probe_find(v);
	if (c->ops == NULL) {
		snprintf(words, sizeof(words), "%s", ps->kinds);
		for (w = strtok_r(words, ", ", &save); w != NULL && n < 16;
		     w = strtok_r(NULL, ", ", &save))
			cands[n++] = w;
		hint = suggest(v, cands, n);
		if (hint != NULL)
			report(ps, s->kv->line, sec, "kind", s->kv->value, v,
			    "unknown kind (did you mean \"%s\"?)", hint);
		else
			report(ps, s->kv->line, sec, "kind", s->kv->value, v,
			    "unknown kind (accepted: %s)", ps->kinds);
	} else {
		for (i = 0; i < CONFIG_NKINDS; i++)
			if (strcmp(config_kinds[i].name, c->ops->name) == 0)
				*kinfo = &config_kinds[i];
	}
	free(v);
}

static void
build_password(struct config_parser *ps, const struct raw_section *sec,
    const struct config_src *src, const struct config_kind *kinfo,
    struct check_cfg *c)
{
	const struct config_src *pw = &src[CONFIG_KEY_PASSWORD];
	const struct config_src *pf = &src[CONFIG_KEY_PASSWORD_FILE];
	bool need = kinfo != NULL && kinfo->auth;
	char err[256], *v, *path;

	if (pw->kv != NULL && pf->kv != NULL) {
		report(ps, pf->kv->line, sec, pf->kv->key, pf->kv->value, NULL,
		    "conflicts with password at line %d (accepted: only one of password and password_file)",
		    pw->kv->line);
		return;
	}
	if (pw->kv != NULL) {
		v = src_expand(ps, pw);
		if (v == NULL)
			return;
		if (*v != '\0') {
			c->password = v;
			return;
		}
		free(v);
		if (need)
			report(ps, pw->kv->line, sec, pw->kv->key,
			    pw->kv->value, NULL, "empty (accepted: %s)",
			    config_keys[CONFIG_KEY_PASSWORD].accepted);
		return;
	}
	if (pf->kv != NULL) {
		path = src_expand(ps, pf);
		if (path == NULL)
			return;
		if (read_secret(path, &v, err, sizeof(err)) < 0) {
			report(ps, pf->kv->line, sec, pf->kv->key,
			    pf->kv->value, path, "%s", err);
		} else if (*v == '\0') {
			free(v);
			if (need)
				report(ps, pf->kv->line, sec, pf->kv->key,
				    pf->kv->value, path,
				    "file is empty (accepted: a file holding a non-empty password)");
		} else {
			c->password = v;
		}
		free(path);
		return;
	}
	if (need)
		report(ps, sec->line, sec, "password", NULL, NULL,
		    "missing (accepted: %s)",
		    config_keys[CONFIG_KEY_PASSWORD].accepted);
}

/* The line ops->validate's message is about: its leading KEY, if set. */
static int
validate_line(const char *msg, const struct raw_section *sec,
    const struct config_src *src)
{
	size_t n = strcspn(msg, " :="), i;

	for (i = 0; i < CONFIG_KEY_COUNT; i++)
		if (src[i].kv != NULL && strlen(config_keys[i].name) == n &&
		    strncmp(msg, config_keys[i].name, n) == 0)
			return src[i].kv->line;
	return sec->line;
}

static void
build_check(struct config_parser *ps, const struct raw_section *sec,
    const struct check_cfg *tmpl, const struct config_src *tsrc,
    struct check_cfg *c, const struct raw_kv **depends)
{
	struct config_src src[CONFIG_KEY_COUNT], *s;
	const struct config_kind *kinfo;
	bool badtime = false;
	size_t nerrs = ps->nerrs, i;
	char err[512], *v;
	long n;

	*c = *tmpl;
	c->line = sec->line;
	c->name = dup_or_oom(ps, sec->name);
	memcpy(src, tsrc, sizeof(src));
	find_srcs(sec, src);
	*depends = src[CONFIG_KEY_DEPENDS_ON].kv;

	build_kind(ps, sec, &src[CONFIG_KEY_KIND], c, &kinfo);
	for (i = 0; i < CONFIG_KEY_COUNT; i++) {
		s = &src[i];
		if (s->sec != sec || config_keys[i].type == CONFIG_TYPE_TEXT)
			continue;
		if (!key_fits_kind(ps, s, kinfo) || apply_typed(ps, s, c) < 0)
			if (i == CONFIG_KEY_TIMEOUT || i == CONFIG_KEY_INTERVAL)
				badtime = true;
	}
	if (src[CONFIG_KEY_PORT].kv == NULL) {
		if (kinfo != NULL)
			c->port = kinfo->port;
		else if (c->ops != NULL)
			report(ps, sec->line, sec, "port", NULL, NULL,
			    "missing (accepted: 1-65535)");
	}

	s = &src[CONFIG_KEY_HOST];
	if (s->kv == NULL) {
		report(ps, sec->line, sec, "host", NULL, NULL,
		    "missing (accepted: %s)",
		    config_keys[CONFIG_KEY_HOST].accepted);
	} else if ((v = src_expand(ps, s)) != NULL) {
		int rc = parse_host(v, strlen(v), &c->host);

		if (rc == -2)
			ps->oom = true;
		else if (rc < 0)
			report(ps, s->kv->line, sec, s->kv->key, s->kv->value,
			    v, "%s (accepted: %s)",
			    *v == '\0' ? "empty" : "invalid host",
			    config_keys[CONFIG_KEY_HOST].accepted);
		free(v);
	}

	s = &src[CONFIG_KEY_DBNAME];
	if (s->kv != NULL && key_fits_kind(ps, s, kinfo) &&
	    (v = src_expand(ps, s)) != NULL) {
		for (i = 0; v[i] != '\0'; i++)
			if (!is_alnum(v[i]) && v[i] != '_')
				break;
		if (v[0] == '\0' || v[i] != '\0') {
			report(ps, s->kv->line, sec, s->kv->key, s->kv->value,
			    v, "%s (accepted: %s)",
			    v[0] == '\0' ? "empty" : "invalid database name",
			    config_keys[CONFIG_KEY_DBNAME].accepted);
			free(v);
		} else {
			c->dbname = v;
		}
	} else if (s->kv == NULL && kinfo != NULL && kinfo->dbname != NULL) {
		c->dbname = dup_or_oom(ps, kinfo->dbname);
	}

	s = &src[CONFIG_KEY_USER];
	if (s->kv != NULL && (v = src_expand(ps, s)) != NULL) {
		if (*v == '\0' && kinfo != NULL && kinfo->auth)
			report(ps, s->kv->line, sec, s->kv->key, s->kv->value,
			    v, "empty (accepted: %s)",
			    config_keys[CONFIG_KEY_USER].accepted);
		if (*v != '\0')
			c->user = v;
		else
			free(v);
	} else if (s->kv == NULL && kinfo != NULL && kinfo->auth) {
		report(ps, sec->line, sec, "user", NULL, NULL,
		    "missing (accepted: %s)",
		    config_keys[CONFIG_KEY_USER].accepted);
	}

	build_password(ps, sec, src, kinfo, c);

	s = &src[CONFIG_KEY_OPTIONS];
	if (s->kv != NULL && key_fits_kind(ps, s, kinfo) &&
	    (v = src_expand(ps, s)) != NULL) {
		if (*v != '\0')
			c->options = v;
		else
			free(v);
	}

	s = &src[CONFIG_KEY_DEPENDS_ON];
	if (s->kv != NULL && (v = src_expand(ps, s)) != NULL) {
		n = split_names(v, &c->depends_on);
		free(v);
		if (n < 0) {
			ps->oom = true;
		} else if (n > 0) {
			c->ndepends = (size_t)n;
			c->depends_idx =
			    calloc((size_t)n, sizeof(*c->depends_idx));
			if (c->depends_idx == NULL)
				ps->oom = true;
		}
	}

	if (!badtime &&
	    (src[CONFIG_KEY_TIMEOUT].sec == sec ||
		src[CONFIG_KEY_INTERVAL].sec == sec))
		check_timeout(ps, c, src, sec);

	if (ps->nerrs != nerrs || ps->oom || c->ops == NULL ||
	    c->ops->validate == NULL)
		return;
	err[0] = '\0';
	if (c->ops->validate(c, err, sizeof(err)) < 0)
		report(ps, validate_line(err, sec, src), NULL, NULL, NULL, NULL,
		    "[%s] %s", sec->title, err);
}

/* Report "unknown check" for name, with a "did you mean" if one is close. */
static void
report_unknown_check(struct config_parser *ps, const struct config *cfg,
    const struct raw_section *sec, const struct raw_kv *kv, const char *name)
{
	const char **cands, *hint = NULL;
	size_t i;

	cands = calloc(cfg->nchecks + 1, sizeof(*cands));
	if (cands != NULL) {
		for (i = 0; i < cfg->nchecks; i++)
			cands[i] = cfg->checks[i].name;
		hint = suggest(name, cands, cfg->nchecks);
	}
	if (hint != NULL)
		report(ps, kv->line, sec, kv->key, kv->value, NULL,
		    "unknown check \"%s\" (did you mean \"%s\"?)", name, hint);
	else
		report(ps, kv->line, sec, kv->key, kv->value, NULL,
		    "unknown check \"%s\" (accepted: names of [check NAME] sections)",
		    name);
	free(cands);
}

struct config_dfs {
	struct config_parser *ps;
	const struct config *cfg;
	const struct raw_section **secs; /* section of each check */
	const struct raw_kv **depends;	 /* depends_on of each check */
	unsigned char *color;		 /* 0 new, 1 on the path, 2 done */
	size_t *path;			 /* checks on the current path */
};

static void
dfs_visit(struct config_dfs *d, size_t u, size_t depth)
{
	const struct check_cfg *c = &d->cfg->checks[u];
	struct sbuf b = {0};
	size_t k, v, p;
	char *cycle;

	d->color[u] = 1;
	d->path[depth] = u;
	for (k = 0; k < c->ndepends; k++) {
		v = c->depends_idx[k];
		if (v >= d->cfg->nchecks)
			continue;
		if (d->color[v] == 0) {
			dfs_visit(d, v, depth + 1);
			continue;
		}
		if (d->color[v] != 1)
			continue;
		for (p = 0; d->path[p] != v; p++)
			;
		for (; p <= depth; p++)
			sbuf_printf(
			    &b, "%s -> ", d->cfg->checks[d->path[p]].name);
		sbuf_puts(&b, d->cfg->checks[v].name);
		cycle = sbuf_take(&b);
		if (cycle == NULL) {
			d->ps->oom = true;
			continue;
		}
		report(d->ps, d->depends[v]->line, d->secs[v],
		    d->depends[v]->key, d->depends[v]->value, NULL,
		    "dependency cycle %s (accepted: dependencies without cycles)",
		    cycle);
		free(cycle);
	}
	d->color[u] = 2;
}

static void
resolve_depends(struct config_parser *ps, const struct config *cfg,
    const struct raw_section **secs, const struct raw_kv **depends)
{
	struct config_dfs d = {
	    .ps = ps, .cfg = cfg, .secs = secs, .depends = depends};
	struct check_cfg *c;
	size_t i, k;
	int idx;

	for (i = 0; i < cfg->nchecks; i++) {
		c = &cfg->checks[i];
		for (k = 0; k < c->ndepends && c->depends_idx != NULL; k++) {
			idx = config_find_check(cfg, c->depends_on[k]);
			c->depends_idx[k] = SIZE_MAX;
			if (idx < 0)
				report_unknown_check(ps, cfg, secs[i],
				    depends[i], c->depends_on[k]);
			else if ((size_t)idx == i)
				report(ps, depends[i]->line, secs[i],
				    depends[i]->key, depends[i]->value, NULL,
				    "depends on itself (accepted: names of other checks)");
			else
				c->depends_idx[k] = (size_t)idx;
		}
	}
	if (ps->oom || cfg->nchecks == 0)
		return;
	d.color = calloc(cfg->nchecks, 1);
	d.path = calloc(cfg->nchecks, sizeof(*d.path));
	if (d.color == NULL || d.path == NULL) {
		ps->oom = true;
		goto out_free;
	}
	for (i = 0; i < cfg->nchecks; i++)
		if (d.color[i] == 0)
			dfs_visit(&d, i, 0);
out_free:
	free(d.color);
	free(d.path);
}

static void
build_group(struct config_parser *ps, const struct config *cfg,
    const struct raw_section *sec, struct group_cfg *g)
{
	struct config_src src[CONFIG_KEY_COUNT], *s = &src[CONFIG_KEY_CHECKS];
	char **names = NULL, *v;
	size_t i;
	long n;
	int idx;

	g->line = sec->line;
	g->name = dup_or_oom(ps, sec->name);
	idx = config_find_check(cfg, sec->name);
	if (idx >= 0)
		report(ps, sec->line, sec, NULL, NULL, NULL,
		    "name already used by [check %s] at line %d (accepted: a name no check uses)",
		    sec->name, cfg->checks[idx].line);
	memset(src, 0, sizeof(src));
	find_srcs(sec, src);
	if (s->kv == NULL) {
		report(ps, sec->line, sec, "checks", NULL, NULL,
		    "missing (accepted: %s)", CONFIG_LIST_ACCEPTED);
		return;
	}
	v = src_expand(ps, s);
	if (v == NULL)
		return;
	n = split_names(v, &names);
	if (n < 0) {
		ps->oom = true;
	} else if (n == 0) {
		report(ps, s->kv->line, sec, s->kv->key, s->kv->value, v,
		    "empty (accepted: %s)", CONFIG_LIST_ACCEPTED);
	} else {
		g->checks = calloc((size_t)n, sizeof(*g->checks));
		if (g->checks == NULL)
			ps->oom = true;
		for (i = 0; g->checks != NULL && i < (size_t)n; i++) {
			idx = config_find_check(cfg, names[i]);
			if (idx < 0)
				report_unknown_check(
				    ps, cfg, sec, s->kv, names[i]);
			else
				g->checks[g->nchecks++] = (size_t)idx;
		}
	}
	free_names(names);
	free(v);
}

static void
build(struct config_parser *ps, struct config *cfg)
{
	const struct raw_section **secs = NULL;
	const struct raw_kv **depends = NULL;
	struct config_src tsrc[CONFIG_KEY_COUNT];
	struct check_cfg tmpl;
	size_t i, nchecks = 0, ngroups = 0;

	build_daemon(ps, cfg);
	build_defaults(ps, &tmpl, tsrc);
	for (i = 0; i < ps->nsecs; i++) {
		if (ps->secs[i].type == CONFIG_SECTION_CHECK)
			nchecks++;
		else if (ps->secs[i].type == CONFIG_SECTION_GROUP)
			ngroups++;
	}
	if (nchecks == 0) {
		report(ps, 0, NULL, NULL, NULL, NULL,
		    "no checks (accepted: at least one [check NAME] section)");
	} else {
		cfg->checks = calloc(nchecks, sizeof(*cfg->checks));
		secs = calloc(nchecks, sizeof(*secs));
		depends = calloc(nchecks, sizeof(*depends));
		if (cfg->checks == NULL || secs == NULL || depends == NULL) {
			ps->oom = true;
			goto out_free;
		}
	}
	for (i = 0; i < ps->nsecs; i++) {
		if (ps->secs[i].type != CONFIG_SECTION_CHECK)
			continue;
		secs[cfg->nchecks] = &ps->secs[i];
		build_check(ps, &ps->secs[i], &tmpl, tsrc,
		    &cfg->checks[cfg->nchecks], &depends[cfg->nchecks]);
		cfg->nchecks++;
	}
	resolve_depends(ps, cfg, secs, depends);
	if (ngroups > 0) {
		cfg->groups = calloc(ngroups, sizeof(*cfg->groups));
		if (cfg->groups == NULL) {
			ps->oom = true;
			goto out_free;
		}
	}
	for (i = 0; i < ps->nsecs; i++) {
		if (ps->secs[i].type != CONFIG_SECTION_GROUP)
			continue;
		build_group(ps, cfg, &ps->secs[i], &cfg->groups[cfg->ngroups]);
		cfg->ngroups++;
	}
out_free:
	free(secs);
	free(depends);
}

static int
error_cmp(const void *a, const void *b)
{
	const struct config_error *x = a, *y = b;
	unsigned lx = x->line > 0 ? (unsigned)x->line : UINT_MAX;
	unsigned ly = y->line > 0 ? (unsigned)y->line : UINT_MAX;

	if (lx != ly)
		return lx < ly ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/*
 * Whole lines in file order, as many as fit, then a line counting the
 * rest; no final newline.
 */
static void
format_errors(struct config_parser *ps, char *err, size_t errlen)
{
	char more[128];
	size_t used = 0, len, i, room;

	if (errlen == 0)
		return;
	err[0] = '\0';
	if (ps->oom) {
		snprintf(err, errlen, "%s: out of memory", ps->file);
		return;
	}
	qsort(ps->errs, ps->nerrs, sizeof(*ps->errs), error_cmp);
	/* Keep room for the "more" line. */
	room = errlen > sizeof(more) * 2 ? errlen - sizeof(more) : errlen;
	for (i = 0; i < ps->nerrs && i < CONFIG_MAX_ERRORS; i++) {
		len = strlen(ps->errs[i].text);
		if (used == 0 && len >= room) {
			snprintf(err, room, "%s", ps->errs[i].text);
			used = strlen(err);
			i++;
			break;
		}
		if (used + (used > 0) + len >= room)
			break;
		if (used > 0)
			err[used++] = '\n';
		memcpy(err + used, ps->errs[i].text, len + 1);
		used += len;
	}
	if (i >= ps->nerrs + ps->dropped)
		return;
	snprintf(more, sizeof(more), "%s: too many errors, %zu more not shown",
	    ps->file, ps->nerrs + ps->dropped - i);
	len = strlen(more);
	if (used + 1 + len < errlen) {
		err[used++] = '\n';
		memcpy(err + used, more, len + 1);
	}
}

/* ---- public interface ---- */

struct config *
config_load_string(const char *name, const char *text, char *err, size_t errlen)
{
	struct config_parser ps = {.file = name, .text = text, .cur = -1};
	struct config *cfg;

	if (errlen > 0)
		err[0] = '\0';
	fill_kinds(&ps);
	parse_text(&ps);
	cfg = calloc(1, sizeof(*cfg));
	if (cfg == NULL) {
		ps.oom = true;
	} else {
		cfg->path = dup_or_oom(&ps, name);
		build(&ps, cfg);
	}
	if (ps.nerrs > 0 || ps.oom) {
		format_errors(&ps, err, errlen);
		config_free(cfg);
		cfg = NULL;
	}
	parser_free(&ps);
	return cfg;
}

struct config *
config_load(const char *path, char *err, size_t errlen)
{
	struct config *cfg;
	const char *env;
	size_t len;
	char *text;

	if (path == NULL) {
		env = getenv("READYD_CONFIG");
		if (env != NULL && *env != '\0')
			path = env;
		else if (access(CONFIG_DEFAULT_PATH, F_OK) == 0)
			path = CONFIG_DEFAULT_PATH;
		else
			return config_load_string(CONFIG_BUILTIN_NAME,
			    readyd_builtin_conf, err, errlen);
	}
	if (read_file(path, CONFIG_MAX_FILE, &text, &len) < 0) {
		if (errno == EFBIG)
			snprintf(err, errlen,
			    "%s: too large (accepted: up to %d bytes)", path,
			    CONFIG_MAX_FILE);
		else
			snprintf(err, errlen, "%s: cannot read: %s", path,
			    strerror(errno));
		return NULL;
	}
	if (memchr(text, '\0', len) != NULL) {
		snprintf(err, errlen,
		    "%s: contains a NUL byte (accepted: a text file)", path);
		cfg = NULL;
	} else {
		cfg = config_load_string(path, text, err, errlen);
	}
	explicit_bzero(text, len);
	free(text);
	return cfg;
}

const char *
config_builtin(void)
{
	return readyd_builtin_conf;
}

void
config_free(struct config *cfg)
{
	struct check_cfg *c;
	size_t i;

	if (cfg == NULL)
		return;
	for (i = 0; i < cfg->nchecks; i++) {
		c = &cfg->checks[i];
		free(c->name);
		free(c->host);
		free(c->dbname);
		free(c->user);
		free_secret(c->password);
		free(c->options);
		free_names(c->depends_on);
		free(c->depends_idx);
	}
	free(cfg->checks);
	for (i = 0; i < cfg->ngroups; i++) {
		free(cfg->groups[i].name);
		free(cfg->groups[i].checks);
	}
	free(cfg->groups);
	free(cfg->listen_host);
	free(cfg->path);
	free(cfg);
}

int
config_find_check(const struct config *cfg, const char *name)
{
	size_t i;

	if (cfg == NULL || name == NULL)
		return -1;
	for (i = 0; i < cfg->nchecks; i++)
		if (cfg->checks[i].name != NULL &&
		    strcmp(cfg->checks[i].name, name) == 0)
			return (int)i;
	return -1;
}

int
config_find_group(const struct config *cfg, const char *name)
{
	size_t i;

	if (cfg == NULL || name == NULL)
		return -1;
	for (i = 0; i < cfg->ngroups; i++)
		if (cfg->groups[i].name != NULL &&
		    strcmp(cfg->groups[i].name, name) == 0)
			return (int)i;
	return -1;
}

const char *
config_details_name(enum config_details d)
{
	if ((unsigned)d >= CONFIG_DETAILS_COUNT)
		return "unknown";
	return config_details_names[d];
}

/* Does the check's kind take a kind-specific key? */
static bool
takes_key(const struct check_cfg *c, enum config_key_id id)
{
	size_t i;

	for (i = 0; c->ops != NULL && i < CONFIG_NKINDS; i++)
		if (strcmp(config_kinds[i].name, c->ops->name) == 0)
			return (config_kinds[i].keys & (1u << id)) != 0;
	return false;
}

static void
print_duration(FILE *out, const char *key, int64_t ms)
{
	char buf[32];

	format_duration(ms, buf, sizeof(buf));
	fprintf(out, "%s = %s\n", key, buf);
}

int
config_parse_listen(
    const char *s, char **host, int *port, char *err, size_t errlen)
{
	return parse_listen(s, host, port, err, errlen);
}

void
config_print(const struct config *cfg, FILE *out)
{
	const struct check_cfg *c;
	const struct group_cfg *g;
	size_t i, k;

	if (cfg == NULL)
		return;
	fprintf(out, "# effective configuration from %s\n", cfg->path);
	fprintf(out, "[daemon]\n");
	if (strchr(cfg->listen_host, ':') != NULL)
		fprintf(out, "listen = [%s]:%d\n", cfg->listen_host,
		    cfg->listen_port);
	else
		fprintf(out, "listen = %s:%d\n", cfg->listen_host,
		    cfg->listen_port);
	fprintf(out, "details = %s\n", config_details_name(cfg->details));
	print_duration(out, "drain", cfg->drain_ms);
	for (i = 0; i < cfg->nchecks; i++) {
		c = &cfg->checks[i];
		fprintf(out, "\n[check %s]\n", c->name);
		fprintf(out, "kind = %s\n", c->ops != NULL ? c->ops->name : "");
		fprintf(out, "host = %s\n", c->host);
		fprintf(out, "port = %d\n", c->port);
		if (c->dbname != NULL)
			fprintf(out, "dbname = %s\n", c->dbname);
		if (c->user != NULL)
			fprintf(out, "user = %s\n", c->user);
		if (c->password != NULL)
			fprintf(out, "password = ***\n");
		if (c->options != NULL)
			fprintf(out, "options = %s\n", c->options);
		if (takes_key(c, CONFIG_KEY_DB))
			fprintf(out, "db = %d\n", c->db);
		fprintf(out, "required = %s\n", c->required ? "yes" : "no");
		if (c->ndepends > 0) {
			fprintf(out, "depends_on =");
			for (k = 0; k < c->ndepends; k++)
				fprintf(out, " %s", c->depends_on[k]);
			fprintf(out, "\n");
		}
		print_duration(out, "interval", c->interval_ms);
		print_duration(out, "timeout", c->timeout_ms);
		fprintf(out, "retries = %d\n", c->retries);
		print_duration(out, "start_period", c->start_period_ms);
		print_duration(out, "start_interval", c->start_interval_ms);
		print_duration(out, "fast_interval", c->fast_interval_ms);
		fprintf(out, "rise = %d\n", c->rise);
		fprintf(out, "watch = %s\n", c->watch ? "yes" : "no");
	}
	for (i = 0; i < cfg->ngroups; i++) {
		g = &cfg->groups[i];
		fprintf(out, "\n[group %s]\nchecks =", g->name);
		for (k = 0; k < g->nchecks; k++)
			fprintf(out, " %s", cfg->checks[g->checks[k]].name);
		fprintf(out, "\n");
	}
}
