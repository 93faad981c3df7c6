/* ctl_output.h: how rectifyctl shows a result: a table for a person (Chinese
 * headers, unit names, Chinese labels), JSON for programs (codes), or an
 * .xlsx workbook for a unit's office (the person's view, with a title row,
 * column widths and the header rows frozen). One column list drives all
 * three, so they never disagree about what a report holds. */
#ifndef RECTIFY_CTL_OUTPUT_H
#define RECTIFY_CTL_OUTPUT_H

#include <libpq-fe.h>

enum {
    CTL_COL_NUMBER = 1, /* a count: right-aligned, a JSON integer, a spreadsheet number */
    CTL_COL_DECIMAL = 2 /* a rate: right-aligned, a JSON number, a spreadsheet number */
};

typedef struct {
    const char *key;    /* JSON key */
    int code;           /* result column printed in JSON; -1: none (not in JSON) */
    const char *header; /* table and spreadsheet header; NULL: not shown to a person */
    int label;          /* result column shown to a person */
    int flags;          /* CTL_COL_* */
    int max_width;      /* table column cap in display columns; 0 = none */
} ctl_col_t;

typedef struct {
    int as_json;
    const char *xlsx;  /* write this workbook instead of printing, or NULL */
    const char *sheet; /* the worksheet's name (at most 31 characters) */
    const char *title; /* the spreadsheet's first row */
} ctl_out_t;

/* Shows res as out asks. Returns 0, or 1 after printing why it could not
 * (the workbook could not be written). */
int ctl_emit(PGresult *res, const ctl_col_t *cols, int ncols, const ctl_out_t *out);

/* Shows one subject's rows and its history: for a person two tables, the
 * heading line between them; for a program one JSON object {key: rows,
 * "history": rows}. Returns as ctl_emit. */
int ctl_emit_with_history(PGresult *res, const ctl_col_t *cols, int ncols, const char *key,
                          PGresult *hist, const ctl_col_t *hcols, int nhcols, const char *heading,
                          int as_json);

#endif
