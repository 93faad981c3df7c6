/* ctl_output.c: one result, three views: table, JSON, .xlsx workbook. */
#include "ctl_output.h"

#include "table.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xlsxwriter.h>

#define S_MAX_COLS 32

static int s_json(PGresult *res, const ctl_col_t *cols, int ncols)
{
    json_t *rows = json_array();
    for (int r = 0; rows && r < PQntuples(res); r++) {
        json_t *row = json_object();
        for (int c = 0; row && c < ncols; c++) {
            if (cols[c].code < 0)
                continue;
            const char *v = PQgetvalue(res, r, cols[c].code);
            json_t *value = PQgetisnull(res, r, cols[c].code) ? json_null()
                            : cols[c].flags & CTL_COL_NUMBER  ? json_integer(strtoll(v, NULL, 10))
                            : cols[c].flags & CTL_COL_DECIMAL ? json_real(strtod(v, NULL))
                                                              : json_string(v);
            json_object_set_new(row, cols[c].key, value);
        }
        json_array_append_new(rows, row);
    }
    char *text = rows ? json_dumps(rows, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;
    json_decref(rows);
    if (!text) {
        fprintf(stderr, "rectifyctl: out of memory\n");
        return 1;
    }
    puts(text);
    free(text);
    return 0;
}

/* The columns a person sees, in order: their indexes into cols. */
static int s_shown(const ctl_col_t *cols, int ncols, int shown[S_MAX_COLS])
{
    int n = 0;
    for (int c = 0; c < ncols && n < S_MAX_COLS; c++)
        if (cols[c].header)
            shown[n++] = c;
    return n;
}

static int s_table(PGresult *res, const ctl_col_t *cols, int ncols)
{
    int shown[S_MAX_COLS];
    int n = s_shown(cols, ncols, shown);
    const char *headers[S_MAX_COLS] = {0};
    for (int i = 0; i < n; i++)
        headers[i] = cols[shown[i]].header;
    table_t *t = table_new(n, headers);
    if (!t) {
        fprintf(stderr, "rectifyctl: out of memory\n");
        return 1;
    }
    for (int i = 0; i < n; i++) {
        if (cols[shown[i]].flags & (CTL_COL_NUMBER | CTL_COL_DECIMAL))
            table_align_right(t, i);
        table_max_width(t, i, cols[shown[i]].max_width);
    }
    for (int r = 0; r < PQntuples(res); r++) {
        const char *cells[S_MAX_COLS];
        for (int i = 0; i < n; i++)
            cells[i] = PQgetvalue(res, r, cols[shown[i]].label);
        table_add_row(t, cells);
    }
    table_print(t, stdout);
    table_destroy(&t);
    return 0;
}

/* Width in Excel's units (characters of the default font): a Chinese
 * character takes two, as on a terminal; capped so that titles wrap. */
static double s_xlsx_width(size_t display)
{
    double w = (double)display + 2;
    return w < 6 ? 6 : w > 60 ? 60 : w;
}

static int s_xlsx(PGresult *res, const ctl_col_t *cols, int ncols, const ctl_out_t *out)
{
    int shown[S_MAX_COLS];
    int n = s_shown(cols, ncols, shown);
    lxw_workbook *wb = workbook_new(out->xlsx);
    if (!wb) {
        fprintf(stderr, "rectifyctl: %s: cannot create the workbook\n", out->xlsx);
        return 1;
    }
    lxw_worksheet *ws = workbook_add_worksheet(wb, out->sheet);
    lxw_format *title = workbook_add_format(wb);
    format_set_bold(title);
    format_set_font_size(title, 14);
    lxw_format *head = workbook_add_format(wb);
    format_set_bold(head);
    format_set_bg_color(head, 0xDDEBF7);
    format_set_border(head, LXW_BORDER_THIN);
    format_set_text_wrap(head);
    lxw_format *text = workbook_add_format(wb);
    format_set_text_wrap(text);
    format_set_align(text, LXW_ALIGN_VERTICAL_TOP);
    size_t widths[S_MAX_COLS];
    worksheet_write_string(ws, 0, 0, out->title, title);
    for (int i = 0; i < n; i++) {
        worksheet_write_string(ws, 1, (lxw_col_t)i, cols[shown[i]].header, head);
        widths[i] = table_display_width(cols[shown[i]].header);
    }
    for (int r = 0; r < PQntuples(res); r++) {
        for (int i = 0; i < n; i++) {
            const ctl_col_t *col = &cols[shown[i]];
            const char *v = PQgetvalue(res, r, col->label);
            lxw_row_t row = (lxw_row_t)r + 2;
            if ((col->flags & (CTL_COL_NUMBER | CTL_COL_DECIMAL)) && *v)
                worksheet_write_number(ws, row, (lxw_col_t)i, strtod(v, NULL), NULL);
            else
                worksheet_write_string(ws, row, (lxw_col_t)i, v, text);
            size_t w = table_display_width(v);
            if (w > widths[i])
                widths[i] = w;
        }
    }
    for (int i = 0; i < n; i++)
        worksheet_set_column(ws, (lxw_col_t)i, (lxw_col_t)i, s_xlsx_width(widths[i]), NULL);
    worksheet_freeze_panes(ws, 2, 0); /* the title and the header stay in view */
    lxw_error err = workbook_close(wb);
    if (err != LXW_NO_ERROR) {
        fprintf(stderr, "rectifyctl: %s: %s\n", out->xlsx, lxw_strerror(err));
        return 1;
    }
    printf("%s: %d row(s) written\n", out->xlsx, PQntuples(res));
    return 0;
}

int ctl_emit(PGresult *res, const ctl_col_t *cols, int ncols, const ctl_out_t *out)
{
    if (out->xlsx)
        return s_xlsx(res, cols, ncols, out);
    if (out->as_json)
        return s_json(res, cols, ncols);
    return s_table(res, cols, ncols);
}

int ctl_emit_with_history(PGresult *res, const ctl_col_t *cols, int ncols, const char *key,
                          PGresult *hist, const ctl_col_t *hcols, int nhcols, const char *heading,
                          int as_json)
{
    ctl_out_t out = {as_json, NULL, NULL, NULL};
    int status = 0;
    if (as_json)
        printf("{\"%s\":\n", key);
    status |= ctl_emit(res, cols, ncols, &out);
    if (as_json)
        printf(",\"history\":\n");
    else
        printf("\n%s\n", heading);
    status |= ctl_emit(hist, hcols, nhcols, &out);
    if (as_json)
        printf("}\n");
    return status;
}
