/* plan_csv.c: a rectification plan from its spreadsheet's CSV export.
 *
 * The text is read one record (one logical row, which a quoted cell may
 * spread over several lines) at a time into a scratch buffer; the first
 * non-blank record is the header, which maps each column to a cell index;
 * every later record becomes one PlanRow. Checks run as rows stream in, the
 * checks across rows against two hash indexes (item ids, measure ids) that
 * point at the rows already built, so errors come out in line order. */
#include "plan_csv.h"

#include "errors.h"

#include <assert.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* --- Columns and tracks ----------------------------------------------------- */

enum {
    COL_ASPECT,
    COL_PROBLEM,
    COL_ITEM,
    COL_MEASURE,
    COL_LEAD_LEADER,
    COL_RESPONSIBLE_UNIT,
    COL_DEADLINE,
    COL_TRACK,
    COL_ITEM_TRACK, /* optional: the item's own track */
    COL_COUNT
};

static const struct {
    const char *en;
    const char *zh;
    bool optional; /* the column may be left out, and its cells empty */
} s_columns[COL_COUNT] = {
    [COL_ASPECT] = {"aspect", "方面", false},
    [COL_PROBLEM] = {"problem", "问题", false},
    [COL_ITEM] = {"item", "整改事项", false},
    [COL_MEASURE] = {"measure", "整改措施", false},
    [COL_LEAD_LEADER] = {"lead_leader", "牵头领导", false},
    [COL_RESPONSIBLE_UNIT] = {"responsible_unit", "责任单位", false},
    [COL_DEADLINE] = {"deadline", "整改时限", false},
    [COL_TRACK] = {"track", "类别", false},
    [COL_ITEM_TRACK] = {"item_track", "事项类别", true},
};

static const struct {
    const char *en;
    const char *zh;
    Rectify__Track track;
} s_tracks[] = {
    {"fix_now", "立行立改", RECTIFY__TRACK__FIX_NOW},
    {"special_campaign", "专项整治", RECTIFY__TRACK__SPECIAL_CAMPAIGN},
    {"long_term", "长期推进", RECTIFY__TRACK__LONG_TERM},
};

static const char *s_track_name(Rectify__Track track)
{
    for (size_t i = 0; i < sizeof s_tracks / sizeof s_tracks[0]; i++)
        if (s_tracks[i].track == track)
            return s_tracks[i].zh;
    return "?";
}

#define S_NO_CELL SIZE_MAX
#define S_QUOTE_KEEP 48 /* bytes of a value shown in a message */
#define S_QUOTE_SIZE (S_QUOTE_KEEP + 4)

/* --- Small text helpers ----------------------------------------------------- */

/* A view of bytes that are not NUL-terminated. */
typedef struct {
    const char *s;
    size_t n;
} s_cell_t;

/* Length of the space character that starts s (n bytes): ASCII white space
 * or the ideographic space U+3000; 0 when s does not start with one. */
static bool s_is_ascii_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
}

static size_t s_space_at(const char *s, size_t n)
{
    if (n >= 1 && s_is_ascii_space(s[0]))
        return 1;
    if (n >= 3 && memcmp(s, "\xE3\x80\x80", 3) == 0)
        return 3;
    return 0;
}

/* Length of the space character that ends s (n bytes), or 0. */
static size_t s_space_before(const char *s, size_t n)
{
    if (n >= 1 && s_is_ascii_space(s[n - 1]))
        return 1;
    if (n >= 3 && memcmp(s + n - 3, "\xE3\x80\x80", 3) == 0)
        return 3;
    return 0;
}

static s_cell_t s_trim(s_cell_t c)
{
    size_t k;
    while ((k = s_space_at(c.s, c.n)) > 0) {
        c.s += k;
        c.n -= k;
    }
    while ((k = s_space_before(c.s, c.n)) > 0)
        c.n -= k;
    return c;
}

/* True when c equals the ASCII word lit, ignoring case. */
static bool s_eq_nocase(s_cell_t c, const char *lit)
{
    size_t n = strlen(lit);
    if (c.n != n)
        return false;
    for (size_t i = 0; i < n; i++) {
        char a = c.s[i], b = lit[i];
        if (a >= 'A' && a <= 'Z')
            a = (char)(a - 'A' + 'a');
        if (a != b)
            return false;
    }
    return true;
}

static bool s_eq(s_cell_t c, const char *lit)
{
    return c.n == strlen(lit) && memcmp(c.s, lit, c.n) == 0;
}

static bool s_utf8_valid(const char *s, size_t n)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t i = 0;
    while (i < n) {
        unsigned c = u[i];
        if (c < 0x80) {
            i++;
            continue;
        }
        size_t k;
        uint32_t cp, min;
        if ((c & 0xE0) == 0xC0) {
            k = 1;
            cp = c & 0x1F;
            min = 0x80;
        } else if ((c & 0xF0) == 0xE0) {
            k = 2;
            cp = c & 0x0F;
            min = 0x800;
        } else if ((c & 0xF8) == 0xF0) {
            k = 3;
            cp = c & 0x07;
            min = 0x10000;
        } else {
            return false;
        }
        if (n - i <= k)
            return false;
        for (size_t j = 1; j <= k; j++) {
            if ((u[i + j] & 0xC0) != 0x80)
                return false;
            cp = (cp << 6) | (u[i + j] & 0x3F);
        }
        if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
            return false;
        i += k + 1;
    }
    return true;
}

/* Length of the longest prefix of s (n bytes) that is at most cap bytes and
 * does not cut a UTF-8 sequence. */
static size_t s_utf8_prefix(const char *s, size_t n, size_t cap)
{
    if (n <= cap)
        return n;
    size_t k = cap;
    while (k > 0 && ((unsigned char)s[k] & 0xC0) == 0x80)
        k--;
    return k;
}

/* Writes v into out (S_QUOTE_SIZE bytes) for a message: at most S_QUOTE_KEEP
 * bytes, cut at a UTF-8 boundary and then marked "...", control characters
 * shown as spaces. */
static void s_quote(char out[S_QUOTE_SIZE], s_cell_t v)
{
    size_t n = s_utf8_prefix(v.s, v.n, S_QUOTE_KEEP);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)v.s[i];
        out[i] = (c < 0x20 || c == 0x7F) ? ' ' : (char)c;
    }
    if (n < v.n) {
        memcpy(out + n, "...", 3);
        n += 3;
    }
    out[n] = '\0';
}

static s_cell_t s_cstr(const char *s)
{
    return (s_cell_t){s, strlen(s)};
}

/* A malloc'd, NUL-terminated copy of c, or NULL. */
static char *s_dup(s_cell_t c)
{
    char *p = malloc(c.n + 1);
    if (!p)
        return NULL;
    memcpy(p, c.s, c.n);
    p[c.n] = '\0';
    return p;
}

/* Replaces the (default, empty) string *dst by a copy of c. */
static int s_set(char **dst, s_cell_t c)
{
    char *p = s_dup(c);
    if (!p)
        return RC_ERR_NOMEM;
    *dst = p;
    return RC_OK;
}

/* --- Reading records --------------------------------------------------------- */

typedef struct {
    const char *p;
    const char *end;
    int line; /* the line p is on */
} s_reader_t;

typedef struct {
    size_t start; /* offset in the record's buffer */
    size_t size;  /* bytes, without the NUL that follows */
} s_span_t;

/* One record: its cells' bytes one after another in buf, each followed by a
 * NUL (cells may also hold NULs of their own: use the spans). */
typedef struct {
    char *buf;
    size_t len, cap;
    s_span_t *cells;
    size_t n, ncap;
    int line;            /* where the record starts */
    size_t stray_cell;   /* first cell with text after its closing quote, or S_NO_CELL */
    int open_quote_line; /* the record ends inside a quote opened on this line; else 0 */
} s_record_t;

static void s_next_line(s_reader_t *rd)
{
    if (rd->line < INT_MAX)
        rd->line++;
}

static int s_record_put(s_record_t *rec, char c)
{
    if (rec->len == rec->cap) {
        size_t cap = rec->cap ? 2 * rec->cap : 256;
        char *buf = realloc(rec->buf, cap);
        if (!buf)
            return RC_ERR_NOMEM;
        rec->buf = buf;
        rec->cap = cap;
    }
    rec->buf[rec->len++] = c;
    return RC_OK;
}

/* Ends the cell that began at start. */
static int s_record_end_cell(s_record_t *rec, size_t start)
{
    if (rec->n == rec->ncap) {
        size_t ncap = rec->ncap ? 2 * rec->ncap : 16;
        s_span_t *cells = realloc(rec->cells, ncap * sizeof *cells);
        if (!cells)
            return RC_ERR_NOMEM;
        rec->cells = cells;
        rec->ncap = ncap;
    }
    rec->cells[rec->n].start = start;
    rec->cells[rec->n].size = rec->len - start;
    rec->n++;
    return s_record_put(rec, '\0');
}

static s_cell_t s_record_cell(const s_record_t *rec, size_t i)
{
    return (s_cell_t){rec->buf + rec->cells[i].start, rec->cells[i].size};
}

static void s_record_free(s_record_t *rec)
{
    free(rec->buf);
    free(rec->cells);
    memset(rec, 0, sizeof *rec);
}

static bool s_at_cell_end(const s_reader_t *rd)
{
    const char *p = rd->p;
    return p == rd->end || *p == ',' || *p == '\n' ||
           (*p == '\r' && p + 1 < rd->end && p[1] == '\n');
}

/* Reads the next record. Returns 1 with a record (which may end inside an
 * unterminated quote: rec->open_quote_line), 0 at the end of the text, or
 * RC_ERR_NOMEM. */
static int s_read_record(s_reader_t *rd, s_record_t *rec)
{
    rec->len = 0;
    rec->n = 0;
    rec->line = rd->line;
    rec->stray_cell = S_NO_CELL;
    rec->open_quote_line = 0;
    if (rd->p == rd->end)
        return 0;
    for (;;) {
        size_t start = rec->len;
        const char *q = rd->p;
        while (q < rd->end && (*q == ' ' || *q == '\t'))
            q++;
        if (q < rd->end && *q == '"') {
            int opened = rd->line;
            bool closed = false;
            rd->p = q + 1;
            while (rd->p < rd->end) {
                char c = *rd->p;
                if (c == '"') {
                    if (rd->p + 1 < rd->end && rd->p[1] == '"') {
                        rd->p++;
                    } else {
                        rd->p++;
                        closed = true;
                        break;
                    }
                } else if (c == '\r' && rd->p + 1 < rd->end && rd->p[1] == '\n') {
                    rd->p++; /* \r\n inside a cell reads as \n */
                    c = '\n';
                }
                if (c == '\n')
                    s_next_line(rd);
                if (s_record_put(rec, c) != RC_OK)
                    return RC_ERR_NOMEM;
                rd->p++;
            }
            if (!closed) {
                rec->open_quote_line = opened;
                return s_record_end_cell(rec, start) == RC_OK ? 1 : RC_ERR_NOMEM;
            }
            while (rd->p < rd->end && (*rd->p == ' ' || *rd->p == '\t'))
                rd->p++;
            if (!s_at_cell_end(rd) && rec->stray_cell == S_NO_CELL)
                rec->stray_cell = rec->n; /* the stray text is kept, the cell refused */
        }
        while (!s_at_cell_end(rd)) {
            if (s_record_put(rec, *rd->p) != RC_OK)
                return RC_ERR_NOMEM;
            rd->p++;
        }
        if (s_record_end_cell(rec, start) != RC_OK)
            return RC_ERR_NOMEM;
        if (rd->p == rd->end)
            return 1;
        if (*rd->p == ',') {
            rd->p++;
            continue;
        }
        if (*rd->p == '\r')
            rd->p++;
        rd->p++; /* the \n */
        s_next_line(rd);
        return 1;
    }
}

static bool s_record_is_blank(const s_record_t *rec)
{
    for (size_t i = 0; i < rec->n; i++) {
        if (s_trim(s_record_cell(rec, i)).n > 0)
            return false;
    }
    return true;
}

/* --- Indexes of ids already seen ------------------------------------------------ */

typedef struct {
    const char *key; /* points into row */
    const Rectify__PlanRow *row;
} s_slot_t;

typedef struct {
    s_slot_t *slots;
    size_t cap; /* a power of two, or 0 */
    size_t n;
} s_index_t;

static size_t s_hash(const char *s)
{
    uint64_t h = 1469598103934665603ULL; /* FNV-1a */
    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 1099511628211ULL;
    }
    return (size_t)h;
}

static const Rectify__PlanRow *s_index_find(const s_index_t *ix, const char *key)
{
    if (ix->cap == 0)
        return NULL;
    for (size_t i = s_hash(key) & (ix->cap - 1);; i = (i + 1) & (ix->cap - 1)) {
        if (!ix->slots[i].key)
            return NULL;
        if (strcmp(ix->slots[i].key, key) == 0)
            return ix->slots[i].row;
    }
}

static void s_index_put(s_slot_t *slots, size_t cap, s_slot_t slot)
{
    size_t i = s_hash(slot.key) & (cap - 1);
    while (slots[i].key)
        i = (i + 1) & (cap - 1);
    slots[i] = slot;
}

/* Adds key (which must not be there yet and must live as long as the index). */
static int s_index_add(s_index_t *ix, const char *key, const Rectify__PlanRow *row)
{
    if (2 * (ix->n + 1) > ix->cap) {
        size_t cap = ix->cap ? 2 * ix->cap : 64;
        s_slot_t *slots = calloc(cap, sizeof *slots);
        if (!slots)
            return RC_ERR_NOMEM;
        for (size_t i = 0; i < ix->cap; i++) {
            if (ix->slots[i].key)
                s_index_put(slots, cap, ix->slots[i]);
        }
        free(ix->slots);
        ix->slots = slots;
        ix->cap = cap;
    }
    s_index_put(ix->slots, ix->cap, (s_slot_t){key, row});
    ix->n++;
    return RC_OK;
}

static void s_index_free(s_index_t *ix)
{
    free(ix->slots);
    memset(ix, 0, sizeof *ix);
}

/* --- Parse state and errors ------------------------------------------------------ */

typedef struct {
    plan_csv_error_t *errs;
    size_t max_errs;
    size_t nerrs; /* stored in errs */
    bool failed;  /* any error at all, stored or not */
    Rectify__ImportPlan *plan;
    size_t rows_cap;
    s_index_t items;       /* item id -> first row with it */
    s_index_t measures;    /* measure id -> first row with it */
    s_index_t item_tracks; /* item id -> first row that gives its item_track */
} s_parse_t;

/* Cuts a NUL-terminated string that snprintf may have truncated back to a
 * whole UTF-8 sequence. */
static void s_cut_to_utf8(char *s)
{
    size_t n = strlen(s);
    size_t k = n;
    while (k > 0 && ((unsigned char)s[k - 1] & 0xC0) == 0x80)
        k--;
    if (k == 0)
        return;
    unsigned char lead = (unsigned char)s[k - 1];
    size_t want = lead < 0x80 ? 1 : (lead & 0xE0) == 0xC0 ? 2 : (lead & 0xF0) == 0xE0 ? 3 : 4;
    if (n - (k - 1) < want)
        s[k - 1] = '\0';
}

static void s_error(s_parse_t *ps, int line, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void s_error(s_parse_t *ps, int line, const char *field, const char *fmt, ...)
{
    ps->failed = true;
    if (ps->nerrs >= ps->max_errs)
        return;
    plan_csv_error_t *e = &ps->errs[ps->nerrs++];
    e->line = line;
    snprintf(e->field, sizeof e->field, "%s", field);
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(e->message, sizeof e->message, fmt, ap);
    va_end(ap);
    if (n < 0)
        snprintf(e->message, sizeof e->message, "%s: invalid", field);
    else if ((size_t)n >= sizeof e->message)
        s_cut_to_utf8(e->message);
}

/* True when no further error could be stored: parsing may stop. */
static bool s_full(const s_parse_t *ps)
{
    return ps->failed && ps->nerrs >= ps->max_errs;
}

/* --- Header ------------------------------------------------------------------------ */

static int s_column_named(s_cell_t name)
{
    for (int col = 0; col < COL_COUNT; col++) {
        if (s_eq_nocase(name, s_columns[col].en) || s_eq(name, s_columns[col].zh))
            return col;
    }
    return -1;
}

/* Maps each column to its cell (cell_of; S_NO_CELL for an optional column
 * left out). Returns 0, or -1 after reporting what is wrong with the header.
 * On 0 every cell of the header names a column. */
static int s_read_header(s_parse_t *ps, const s_record_t *rec, size_t cell_of[COL_COUNT])
{
    bool bad = false;
    char v[S_QUOTE_SIZE];
    for (int col = 0; col < COL_COUNT; col++)
        cell_of[col] = S_NO_CELL;
    for (size_t i = 0; i < rec->n; i++) {
        s_cell_t name = s_trim(s_record_cell(rec, i));
        s_quote(v, name);
        if (i == rec->stray_cell) {
            s_error(ps, rec->line, "", "column %zu: text after the closing quote", i + 1);
            bad = true;
            continue;
        }
        int col = s_column_named(name);
        if (col < 0) {
            if (name.n == 0)
                s_error(ps, rec->line, "", "column %zu has no name", i + 1);
            else
                s_error(ps, rec->line, "", "unknown column \"%s\" (column %zu)", v, i + 1);
            bad = true;
            continue;
        }
        if (cell_of[col] != S_NO_CELL) {
            s_error(ps, rec->line, s_columns[col].en,
                    "duplicated column \"%s\": columns %zu and %zu are both %s / %s", v,
                    cell_of[col] + 1, i + 1, s_columns[col].en, s_columns[col].zh);
            bad = true;
            continue;
        }
        cell_of[col] = i;
    }
    for (int col = 0; col < COL_COUNT; col++) {
        if (cell_of[col] == S_NO_CELL && !s_columns[col].optional) {
            s_error(ps, rec->line, s_columns[col].en, "missing column \"%s\" (%s)",
                    s_columns[col].en, s_columns[col].zh);
            bad = true;
        }
    }
    return bad ? -1 : 0;
}

/* --- Cells ------------------------------------------------------------------------- */

/* Checks what every cell must be (present, bounded, UTF-8). */
static bool s_check_cell(s_parse_t *ps, int line, int col, s_cell_t c)
{
    const char *field = s_columns[col].en;
    if (c.n == 0) {
        s_error(ps, line, field, "%s: the cell is empty", field);
        return false;
    }
    if (c.n > PLAN_CSV_MAX_CELL) {
        s_error(ps, line, field, "%s: the cell holds %zu bytes, at most %d", field, c.n,
                PLAN_CSV_MAX_CELL);
        return false;
    }
    if (memchr(c.s, '\0', c.n)) {
        s_error(ps, line, field, "%s: the cell holds a NUL byte", field);
        return false;
    }
    if (!s_utf8_valid(c.s, c.n)) {
        s_error(ps, line, field, "%s: the cell is not valid UTF-8", field);
        return false;
    }
    return true;
}

static bool s_check_id(s_parse_t *ps, int line, int col, s_cell_t id)
{
    const char *field = s_columns[col].en;
    char v[S_QUOTE_SIZE];
    s_quote(v, id);
    if (id.n > PLAN_CSV_MAX_ID) {
        s_error(ps, line, field, "%s: id \"%s\" is longer than %d bytes", field, v,
                PLAN_CSV_MAX_ID);
        return false;
    }
    for (size_t i = 0; i < id.n; i++) {
        char c = id.s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '-' || c == '_')) {
            s_error(ps, line, field,
                    "%s: \"%s\" is not an id (ASCII letters, digits, '.', '-', '_')", field, v);
            return false;
        }
    }
    return true;
}

static bool s_check_unit(s_parse_t *ps, int line, s_cell_t unit)
{
    const char *field = s_columns[COL_RESPONSIBLE_UNIT].en;
    char v[S_QUOTE_SIZE];
    s_quote(v, unit);
    if (unit.n > PLAN_CSV_MAX_ID) {
        s_error(ps, line, field, "%s: unit code \"%s\" is longer than %d bytes", field, v,
                PLAN_CSV_MAX_ID);
        return false;
    }
    for (size_t i = 0; i < unit.n; i++) {
        char c = unit.s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '-' ||
              c == '_')) {
            s_error(ps, line, field, "%s: \"%s\" is not a unit code (a-z, 0-9, '-', '_', '.')",
                    field, v);
            return false;
        }
    }
    return true;
}

static bool s_is_date(s_cell_t d)
{
    static const int days_in_month[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (d.n != 10 || d.s[4] != '-' || d.s[7] != '-')
        return false;
    int v[3] = {0, 0, 0};
    for (size_t i = 0; i < 10; i++) {
        if (i == 4 || i == 7)
            continue;
        if (d.s[i] < '0' || d.s[i] > '9')
            return false;
        int part = i < 4 ? 0 : i < 7 ? 1 : 2;
        v[part] = v[part] * 10 + (d.s[i] - '0');
    }
    int year = v[0], month = v[1], day = v[2];
    if (year < 1 || month < 1 || month > 12 || day < 1)
        return false;
    bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    return day <= days_in_month[month - 1] + (month == 2 && leap ? 1 : 0);
}

static bool s_read_track(s_parse_t *ps, int line, int col, s_cell_t c, Rectify__Track *track)
{
    for (size_t i = 0; i < sizeof s_tracks / sizeof s_tracks[0]; i++) {
        if (s_eq_nocase(c, s_tracks[i].en) || s_eq(c, s_tracks[i].zh)) {
            *track = s_tracks[i].track;
            return true;
        }
    }
    char v[S_QUOTE_SIZE];
    s_quote(v, c);
    s_error(ps, line, s_columns[col].en,
            "%s: \"%s\" is not a track (fix_now / 立行立改, special_campaign / 专项整治, "
            "long_term / 长期推进)",
            s_columns[col].en, v);
    return false;
}

/* Reads an "ID TITLE" cell (item or measure) into *id and *title; each is set
 * only when valid. */
static int s_read_task(s_parse_t *ps, int line, int col, s_cell_t c, char **id, char **title)
{
    size_t i = 0;
    while (i < c.n && s_space_at(c.s + i, c.n - i) == 0)
        i++;
    s_cell_t id_part = {c.s, i};
    s_cell_t title_part = s_trim((s_cell_t){c.s + i, c.n - i});
    if (s_check_id(ps, line, col, id_part) && s_set(id, id_part) != RC_OK)
        return RC_ERR_NOMEM;
    if (title_part.n == 0) {
        char v[S_QUOTE_SIZE];
        s_quote(v, id_part);
        s_error(ps, line, s_columns[col].en,
                "%s: \"%s\" has no title (the cell reads \"ID TITLE\")", s_columns[col].en, v);
        return RC_OK;
    }
    return s_set(title, title_part);
}

/* --- Rows -------------------------------------------------------------------------- */

static int s_plan_add_row(s_parse_t *ps, Rectify__PlanRow *row)
{
    Rectify__ImportPlan *plan = ps->plan;
    if (plan->n_rows == ps->rows_cap) {
        size_t cap = ps->rows_cap ? 2 * ps->rows_cap : 16;
        Rectify__PlanRow **rows = realloc(plan->rows, cap * sizeof *rows);
        if (!rows)
            return RC_ERR_NOMEM;
        plan->rows = rows;
        ps->rows_cap = cap;
    }
    plan->rows[plan->n_rows++] = row;
    return RC_OK;
}

/* Checks row against the rows before it; a valid id is never empty. */
static int s_check_across(s_parse_t *ps, const Rectify__PlanRow *row)
{
    char v[S_QUOTE_SIZE], was[S_QUOTE_SIZE], now[S_QUOTE_SIZE];
    if (row->item_id[0]) {
        s_quote(v, s_cstr(row->item_id));
        const Rectify__PlanRow *first = s_index_find(&ps->items, row->item_id);
        if (first) {
            if (first->item_title[0] && row->item_title[0] &&
                strcmp(first->item_title, row->item_title) != 0) {
                s_quote(was, s_cstr(first->item_title));
                s_quote(now, s_cstr(row->item_title));
                s_error(ps, row->line, "item",
                        "item: \"%s\" is titled \"%s\" on line %d, here \"%s\"", v, was,
                        first->line, now);
            }
            if (first->problem_id[0] && row->problem_id[0] &&
                strcmp(first->problem_id, row->problem_id) != 0) {
                s_quote(was, s_cstr(first->problem_id));
                s_quote(now, s_cstr(row->problem_id));
                s_error(ps, row->line, "item",
                        "item: \"%s\" belongs to problem \"%s\" on line %d, here to \"%s\"", v, was,
                        first->line, now);
            }
        } else {
            const Rectify__PlanRow *measure = s_index_find(&ps->measures, row->item_id);
            if (measure)
                s_error(ps, row->line, "item", "item: \"%s\" is also the measure id on line %d", v,
                        measure->line);
            if (s_index_add(&ps->items, row->item_id, row) != RC_OK)
                return RC_ERR_NOMEM;
        }
    }
    if (row->item_id[0] && row->item_track) {
        const Rectify__PlanRow *given = s_index_find(&ps->item_tracks, row->item_id);
        if (!given) {
            if (s_index_add(&ps->item_tracks, row->item_id, row) != RC_OK)
                return RC_ERR_NOMEM;
        } else if (given->item_track != row->item_track) {
            s_error(ps, row->line, "item_track",
                    "item_track: item \"%s\" is %s on line %d, here %s", v,
                    s_track_name(given->item_track), given->line, s_track_name(row->item_track));
        }
    }
    if (row->measure_id[0]) {
        s_quote(v, s_cstr(row->measure_id));
        const Rectify__PlanRow *prev = s_index_find(&ps->measures, row->measure_id);
        if (prev) {
            s_error(ps, row->line, "measure", "measure: \"%s\" already appears on line %d", v,
                    prev->line);
        } else {
            const Rectify__PlanRow *item = s_index_find(&ps->items, row->measure_id);
            if (item)
                s_error(ps, row->line, "measure", "measure: \"%s\" is also the item id on line %d",
                        v, item->line);
            if (s_index_add(&ps->measures, row->measure_id, row) != RC_OK)
                return RC_ERR_NOMEM;
        }
    }
    return RC_OK;
}

/* Turns a record into a PlanRow of the plan, reporting what is wrong with it.
 * Returns RC_OK (even when the row has errors) or RC_ERR_NOMEM. */
static int s_read_row(s_parse_t *ps, const s_record_t *rec, const size_t cell_of[COL_COUNT],
                      size_t ncells)
{
    int line = rec->line;
    if (rec->n != ncells) {
        s_error(ps, line, "", "the row has %zu cells, the header has %zu", rec->n, ncells);
        return RC_OK;
    }
    Rectify__PlanRow *row = malloc(sizeof *row);
    if (!row)
        return RC_ERR_NOMEM;
    rectify__plan_row__init(row);
    row->line = line;
    if (s_plan_add_row(ps, row) != RC_OK) {
        free(row);
        return RC_ERR_NOMEM;
    }
    /* from here the plan owns row and every string set in it */

    s_cell_t cell[COL_COUNT];
    bool ok[COL_COUNT];
    for (int col = 0; col < COL_COUNT; col++) {
        if (cell_of[col] == S_NO_CELL) {
            cell[col] = (s_cell_t){"", 0};
            ok[col] = false;
            continue;
        }
        cell[col] = s_trim(s_record_cell(rec, cell_of[col]));
        if (cell_of[col] == rec->stray_cell) {
            s_error(ps, line, s_columns[col].en, "%s: text after the closing quote",
                    s_columns[col].en);
            ok[col] = false;
        } else if (s_columns[col].optional && cell[col].n == 0) {
            ok[col] = false; /* left empty: nothing to read */
        } else {
            ok[col] = s_check_cell(ps, line, col, cell[col]);
        }
    }

    if (ok[COL_ASPECT] && s_set(&row->aspect, cell[COL_ASPECT]) != RC_OK)
        return RC_ERR_NOMEM;
    if (ok[COL_PROBLEM] && s_check_id(ps, line, COL_PROBLEM, cell[COL_PROBLEM]) &&
        s_set(&row->problem_id, cell[COL_PROBLEM]) != RC_OK)
        return RC_ERR_NOMEM;
    if (ok[COL_ITEM] &&
        s_read_task(ps, line, COL_ITEM, cell[COL_ITEM], &row->item_id, &row->item_title) != RC_OK)
        return RC_ERR_NOMEM;
    if (ok[COL_MEASURE] && s_read_task(ps, line, COL_MEASURE, cell[COL_MEASURE], &row->measure_id,
                                       &row->measure_title) != RC_OK)
        return RC_ERR_NOMEM;
    if (ok[COL_LEAD_LEADER] && s_set(&row->lead_leader, cell[COL_LEAD_LEADER]) != RC_OK)
        return RC_ERR_NOMEM;
    if (ok[COL_RESPONSIBLE_UNIT] && s_check_unit(ps, line, cell[COL_RESPONSIBLE_UNIT]) &&
        s_set(&row->responsible_unit, cell[COL_RESPONSIBLE_UNIT]) != RC_OK)
        return RC_ERR_NOMEM;
    if (ok[COL_DEADLINE]) {
        if (!s_is_date(cell[COL_DEADLINE])) {
            char v[S_QUOTE_SIZE];
            s_quote(v, cell[COL_DEADLINE]);
            s_error(ps, line, "deadline", "deadline: \"%s\" is not a date (YYYY-MM-DD)", v);
        } else if (s_set(&row->deadline, cell[COL_DEADLINE]) != RC_OK) {
            return RC_ERR_NOMEM;
        }
    }
    if (ok[COL_TRACK])
        s_read_track(ps, line, COL_TRACK, cell[COL_TRACK], &row->track);
    if (ok[COL_ITEM_TRACK])
        s_read_track(ps, line, COL_ITEM_TRACK, cell[COL_ITEM_TRACK], &row->item_track);

    return s_check_across(ps, row);
}

/* --- The parse ------------------------------------------------------------------------ */

int plan_csv_parse(const char *text, size_t len, const char *round_id, Rectify__ImportPlan **out,
                   plan_csv_error_t *errs, size_t max_errs, size_t *nerrs)
{
    assert(out && nerrs);
    assert(errs || max_errs == 0);
    assert(text || len == 0);
    *out = NULL;
    *nerrs = 0;

    s_parse_t ps;
    memset(&ps, 0, sizeof ps);
    ps.errs = errs;
    ps.max_errs = max_errs;
    s_record_t rec;
    memset(&rec, 0, sizeof rec);

    if (!round_id || !round_id[0]) {
        s_error(&ps, 0, "", "round_id: is empty");
        *nerrs = ps.nerrs;
        return RC_ERR_INVALID;
    }

    int rc = RC_ERR_NOMEM;
    Rectify__ImportPlan *plan = malloc(sizeof *plan);
    if (!plan)
        return RC_ERR_NOMEM;
    rectify__import_plan__init(plan);
    ps.plan = plan;
    char *round_copy = s_dup(s_cstr(round_id));
    if (!round_copy)
        goto out_free_plan;
    plan->round_id = round_copy;

    s_reader_t rd = {text, text ? text + len : NULL, 1};
    if (len >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0)
        rd.p += 3;
    size_t cell_of[COL_COUNT];
    int col_at[COL_COUNT]; /* inverse of cell_of once the header is read; -1: no column */
    for (int i = 0; i < COL_COUNT; i++)
        col_at[i] = -1;
    size_t ncells = 0; /* the header's cells */
    int header_line = 0;

    for (;;) {
        int got = s_read_record(&rd, &rec);
        if (got < 0)
            goto out_free_scratch;
        if (got == 0)
            break;
        if (rec.open_quote_line) {
            size_t last = rec.n - 1;
            const char *field = header_line && last < COL_COUNT && col_at[last] >= 0
                                    ? s_columns[col_at[last]].en
                                    : "";
            s_error(&ps, rec.line, field,
                    "unterminated quote: the quoted cell opened on line %d never closes",
                    rec.open_quote_line);
            break;
        }
        if (s_record_is_blank(&rec))
            continue;
        if (!header_line) {
            header_line = rec.line;
            if (s_read_header(&ps, &rec, cell_of) != 0)
                break;
            ncells = rec.n;
            for (int col = 0; col < COL_COUNT; col++)
                if (cell_of[col] != S_NO_CELL)
                    col_at[cell_of[col]] = col;
            continue;
        }
        if (s_read_row(&ps, &rec, cell_of, ncells) != RC_OK)
            goto out_free_scratch;
        if (s_full(&ps))
            break;
    }

    if (!ps.failed && !header_line)
        s_error(&ps, 1, "", "no rows: the file holds no header and no rows");
    else if (!ps.failed && plan->n_rows == 0)
        s_error(&ps, header_line, "", "no rows: the file holds only the header");

    if (ps.failed) {
        rc = RC_ERR_INVALID;
    } else {
        *out = plan;
        plan = NULL;
        rc = RC_OK;
    }

out_free_scratch:
    s_record_free(&rec);
    s_index_free(&ps.items);
    s_index_free(&ps.measures);
    s_index_free(&ps.item_tracks);
out_free_plan:
    if (plan)
        rectify__import_plan__free_unpacked(plan, NULL);
    *nerrs = rc == RC_ERR_NOMEM ? 0 : ps.nerrs;
    return rc;
}
