/* SPDX-License-Identifier: MIT */
/*
 * The INI lexer: lines into section headers and "KEY = VALUE" pairs.
 * Owns: the copy of the current line.
 */
#include "config_lex.h"

#include <string.h>

#include "config_parse.h"

void
config_lex_init(struct config_lex *lx, const char *text)
{
	memset(lx, 0, sizeof(*lx));
	lx->text = text;
}

void
config_lex_done(struct config_lex *lx)
{
	explicit_bzero(lx->line, sizeof(lx->line));
}

static bool
lex_is_comment(char c)
{
	return c == ';' || c == '#';
}

/*
 * The first of chars (if any) or of a comment: ";" or "#" right after a
 * blank. Returns a pointer to it or to the terminating NUL.
 */
static char *
lex_find(char *s, const char *chars)
{
	bool was_space = false;

	for (; *s != '\0'; s++) {
		if (chars != NULL && strchr(chars, *s) != NULL)
			break;
		if (was_space && lex_is_comment(*s))
			break;
		was_space = config_parse_is_blank(*s);
	}
	return s;
}

static enum config_lex_type
lex_header(char *s, struct config_lex_item *it)
{
	char *end = strchr(s, ']'), *after;

	if (end == NULL)
		return it->type = CONFIG_LEX_BAD_HEADER;
	for (after = end + 1; config_parse_is_blank(*after); after++)
		;
	if (*after != '\0' && !lex_is_comment(*after))
		return it->type = CONFIG_LEX_BAD_HEADER;
	*end = '\0';
	it->name = config_parse_trim(s + 1);
	return it->type = CONFIG_LEX_SECTION;
}

static enum config_lex_type
lex_key(char *s, struct config_lex_item *it)
{
	char *eq = lex_find(s, "=:"), *comment;
	bool found;

	if (*eq != '=' && *eq != ':')
		return it->type = CONFIG_LEX_BAD_LINE;
	*eq = '\0';
	it->name = config_parse_trim(s);
	comment = lex_find(eq + 1, NULL);
	found = *comment != '\0';
	*comment = '\0';
	it->value = config_parse_trim(eq + 1);
	it->cut = found && *it->value != '\0';
	return it->type = CONFIG_LEX_KEY;
}

enum config_lex_type
config_lex_next(struct config_lex *lx, struct config_lex_item *it)
{
	const char *p = lx->text + lx->pos, *nl;
	size_t take, len;
	char *s;

	memset(it, 0, sizeof(*it));
	if (*p == '\0')
		return it->type = CONFIG_LEX_END;
	nl = strchr(p, '\n');
	take = nl != NULL ? (size_t)(nl - p) + 1 : strlen(p);
	lx->pos += take;
	lx->lineno++;
	len = take;
	if (len > 0 && p[len - 1] == '\n')
		len--;
	if (len > 0 && p[len - 1] == '\r')
		len--;
	if (len > CONFIG_LEX_MAX_LINE)
		return it->type = CONFIG_LEX_TOO_LONG;
	memcpy(lx->line, p, take);
	lx->line[take] = '\0';
	s = lx->line;
	if (lx->lineno == 1 && strncmp(s, "\xEF\xBB\xBF", 3) == 0)
		s += 3;
	s = config_parse_trim(s);
	if (*s == '\0' || lex_is_comment(*s))
		return it->type = CONFIG_LEX_BLANK;
	if (*s == '[')
		return lex_header(s, it);
	return lex_key(s, it);
}
