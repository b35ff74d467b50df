/* SPDX-License-Identifier: MIT */
/*
 * The INI lexer: one line of configuration text at a time, with inih's
 * rules (";" or "#" starts a comment at the start of a line, or inside a
 * value after a blank; "=" or ":" separates key and value; a UTF-8 BOM
 * on line 1 is skipped).
 * Owns: the copy of the current line in struct config_lex.
 */
#ifndef READYD_CONFIG_LEX_H
#define READYD_CONFIG_LEX_H

#include <stdbool.h>
#include <stddef.h>

#define CONFIG_LEX_MAX_LINE 4096 /* characters, newline excluded */

enum config_lex_type {
	CONFIG_LEX_END,	       /* no more text */
	CONFIG_LEX_BLANK,      /* empty or a comment */
	CONFIG_LEX_SECTION,    /* "[NAME]": name is NAME, trimmed */
	CONFIG_LEX_KEY,	       /* "KEY = VALUE": name and value, trimmed */
	CONFIG_LEX_BAD_HEADER, /* "[" without "]" or with text after it */
	CONFIG_LEX_BAD_LINE,   /* neither a header nor "KEY = VALUE" */
	CONFIG_LEX_TOO_LONG,   /* over CONFIG_LEX_MAX_LINE characters */
	CONFIG_LEX_TYPE_COUNT
};

/* Start with config_lex_init; end with config_lex_done. */
struct config_lex {
	const char *text;		    /* borrowed; NUL-terminated */
	size_t pos;			    /* next byte of text to read */
	int lineno;			    /* line most recently read */
	char line[CONFIG_LEX_MAX_LINE + 3]; /* the current line */
};

struct config_lex_item {
	enum config_lex_type type;
	char *name;  /* SECTION, KEY: borrowed from the lexer's line */
	char *value; /* KEY: without its comment; borrowed likewise */
	bool cut;    /* KEY: a comment followed a non-empty value */
};

void config_lex_init(struct config_lex *lx, const char *text);

/*
 * Read the next line into it (valid until the next call). lx->lineno is
 * its line number. Returns it->type.
 */
enum config_lex_type
config_lex_next(struct config_lex *lx, struct config_lex_item *it);

/* Wipe the copy of the last line: it may have held a secret. */
void config_lex_done(struct config_lex *lx);

#endif /* READYD_CONFIG_LEX_H */
