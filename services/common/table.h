/* table.h: plain-text tables for the terminal, aligned by display width so
 * that cells in Chinese line up with cells in ASCII.
 *
 * Widths do not depend on the locale (the programs run in the C locale):
 * UTF-8 is decoded here and each character counts 2 columns when it is East
 * Asian Wide or Fullwidth (CJK ideographs, CJK punctuation such as 。、【】 and
 * the fullwidth comma and brackets U+FF0C, U+FF08, U+FF09, other fullwidth
 * forms, Hangul, kana, CJK symbols, wide emoji; also the quotes ‘’“” as
 * Chinese text uses them), 0 when it is a combining mark or a zero-width
 * character, 1 otherwise. Each byte that is not part of valid
 * UTF-8 counts 1 and is printed as it is. Control characters (tab, newline,
 * carriage return, escape...) are printed as one space each, width 1.
 *
 * Example:
 *     const char *headers[] = {"单位", "问题数"};
 *     table_t *t = table_new(2, headers);
 *     table_align_right(t, 1);
 *     table_add_row(t, (const char *[]){"市财政局", "12"});
 *     table_print(t, stdout);
 *     table_destroy(&t);
 */
#ifndef RECTIFY_TABLE_H
#define RECTIFY_TABLE_H

#include <stddef.h>
#include <stdio.h>

typedef struct table_t table_t;

/* A table with ncols columns (at least 1) and these headers: headers holds
 * ncols strings, copied (a NULL entry counts as ""). The caller owns the
 * result and frees it with table_destroy. NULL when ncols < 1, headers is
 * NULL, or memory runs out. */
table_t *table_new(int ncols, const char *const *headers);

/* Frees the table and sets *self_p to NULL; does nothing on NULL. */
void table_destroy(table_t **self_p);

/* Right-aligns column col (numbers); columns are left-aligned by default.
 * A col out of range is ignored. */
void table_align_right(table_t *self, int col);

/* Caps column col (header included) at width display columns: a longer cell
 * is cut at a character boundary and ends with "…" (which counts 1), so it
 * takes at most width columns. 0 = no cap (the default). A col out of range or
 * a negative width is ignored. */
void table_max_width(table_t *self, int col, int width);

/* Appends a row: cells holds ncols strings, copied (a NULL entry counts as
 * ""). Returns RC_OK, RC_ERR_INVALID when self or cells is NULL, or
 * RC_ERR_NOMEM (the table is then left as it was). */
int table_add_row(table_t *self, const char *const *cells);

/* Prints the header line, a rule of '-' under each column (as wide as the
 * column), then the rows, each line ending in '\n'. Columns are separated by
 * two spaces; no line has trailing spaces. Does nothing when self or out is
 * NULL. Keeps the column widths in the table, so two threads must not print
 * one table at the same time. */
void table_print(const table_t *self, FILE *out);

/* Display width of a UTF-8 string as described at the top; 0 for NULL. */
size_t table_display_width(const char *utf8);

#endif
