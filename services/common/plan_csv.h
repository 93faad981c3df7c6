/* plan_csv.h: reads a unit's rectification plan, exported from a spreadsheet
 * as CSV, into an ImportPlan. Pure functions (no I/O).
 *
 * The text is UTF-8, optionally starting with a BOM, quoted as RFC 4180 says
 * (a quoted cell may hold commas, newlines and "" for a quote); lines end in
 * \n or \r\n. A \r\n inside a quoted cell is read as \n. The first non-blank
 * line is the header; lines whose cells are all blank are skipped. Columns
 * are found by header name, in any order, English (any case) or Chinese:
 *
 *   aspect / 方面              the aspect's title
 *   problem / 问题             problem id, e.g. "1.1"
 *   item / 整改事项            "ID TITLE": item id, then its title
 *   measure / 整改措施         "ID TITLE": measure id, then its title
 *   lead_leader / 牵头领导
 *   responsible_unit / 责任单位  a unit code: a-z 0-9 - _ .
 *   deadline / 整改时限        YYYY-MM-DD, a real calendar date
 *   track / 类别               the measure's track: fix_now / 立行立改,
 *                              special_campaign / 专项整治, long_term / 长期推进
 *   item_track / 事项类别      optional: the item's own track (same words); a
 *                              cell may be empty, the rows of one item that
 *                              give it must agree
 *
 * Every column but item_track must be present, each at most once, and no
 * other column may appear. Every cell but item_track's is required, is trimmed of surrounding
 * spaces (ASCII white space and the ideographic space U+3000), must then hold at most
 * PLAN_CSV_MAX_CELL bytes of valid UTF-8 and no NUL byte. Ids (problem, item,
 * measure) hold only ASCII letters, digits, '.', '-', '_' and at most
 * PLAN_CSV_MAX_ID bytes; the id and the title of an item or measure are
 * separated by the first space. Across rows: an item id keeps the same title
 * and the same problem; a measure id appears once; no measure id is also an
 * item id. */
#ifndef RECTIFY_PLAN_CSV_H
#define RECTIFY_PLAN_CSV_H

#include "rectify.pb-c.h"

#include <stddef.h>

#define PLAN_CSV_MAX_CELL 1024 /* bytes, any cell after trimming */
#define PLAN_CSV_MAX_ID 64     /* bytes, a problem, item or measure id; a unit code */

typedef struct {
    int line;          /* 1-based line number in the file where the row starts;
                          0 for a problem with the arguments (round_id) */
    char field[32];    /* the column's English name, or "" for a whole-row/file problem */
    char message[256]; /* human text, names the value, e.g.
                          "deadline: \"2021-02-30\" is not a date (YYYY-MM-DD)" */
} plan_csv_error_t;

/* Parses the whole CSV text (len bytes; text may be NULL when len is 0) into
 * a new ImportPlan for round_id (copied; must not be empty).
 *
 * On RC_OK, *out owns the plan (caller frees with
 * rectify__import_plan__free_unpacked(*out, NULL)); every string in it is its
 * own malloc'd copy, on_date is left empty, each PlanRow has its line number
 * set, and *nerrs is 0.
 *
 * On RC_ERR_INVALID, *out is NULL and errs[0..*nerrs) hold up to max_errs
 * errors in line order. Parsing goes on after an error to report as many as
 * fit; *nerrs == max_errs means there may be more. Errors in the header stop
 * the parse (rows cannot be read without it). errs may be NULL when max_errs
 * is 0.
 *
 * On RC_ERR_NOMEM (allocation failed), *out is NULL and *nerrs is 0. */
int plan_csv_parse(const char *text, size_t len, const char *round_id, Rectify__ImportPlan **out,
                   plan_csv_error_t *errs, size_t max_errs, size_t *nerrs);

#endif
