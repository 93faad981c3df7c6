/* ctl_import.c: `rectifyctl import`: a unit's plan spreadsheet (CSV, one row
 * per measure; UTF-8, or converted from --encoding) checked here row by row,
 * then sent as one import_plan event that workflow applies all or nothing,
 * first import or revision alike; --dry-run prints the difference with the
 * recorded plan instead (plan_diff.h). */
#include "clock.h"
#include "ctl.h"
#include "errors.h"
#include "ids.h"
#include "plan_csv.h"
#include "plan_diff.h"
#include "text.h"
#include "rectify.pb-c.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <zmq.h>

#define MAX_PLAN_BYTES (64 * 1024 * 1024)
#define MAX_ERRORS 50

static char *s_read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 65536, n = 0;
    char *buf = malloc(cap);
    while (buf) {
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (got == 0)
            break;
        if (n == cap) {
            if (cap >= MAX_PLAN_BYTES) {
                free(buf);
                buf = NULL;
                errno = EFBIG;
                break;
            }
            char *p = realloc(buf, cap * 2);
            if (!p) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = p;
            cap *= 2;
        }
    }
    fclose(f);
    *len = n;
    return buf;
}

/* The line (1-based) that byte offset at of text falls on. */
static int s_line_of(const char *text, size_t at)
{
    int line = 1;
    for (size_t i = 0; i < at; i++)
        line += text[i] == '\n';
    return line;
}

/* Makes the file's bytes UTF-8: converted from encoding when one is asked
 * for, else checked. Returns 0 with *text (possibly replaced) and *len, or
 * the exit status after saying what is wrong. */
static int s_to_utf8(const char *path, const char *encoding, char **text, size_t *len)
{
    size_t bad = 0;
    if (encoding && strcasecmp(encoding, "utf-8") != 0 && strcasecmp(encoding, "utf8") != 0) {
        char *utf8 = NULL;
        size_t n = 0;
        int rc = text_to_utf8(encoding, *text, *len, &utf8, &n, &bad);
        if (rc == RC_ERR_CONFIG) {
            fprintf(stderr,
                    "rectifyctl import: --encoding: \"%s\" is not an encoding iconv knows\n",
                    encoding);
            return 2;
        }
        if (rc == RC_ERR_NOMEM) {
            fprintf(stderr, "rectifyctl import: out of memory\n");
            return 2;
        }
        if (rc != RC_OK) {
            printf("%s:%d: the file is not %s: byte %zu (0x%02X) is not a character of it\n", path,
                   s_line_of(*text, bad), encoding, bad + 1,
                   bad < *len ? (unsigned char)(*text)[bad] : 0);
            fprintf(stderr, "rectifyctl import: %s refused; nothing was sent\n", path);
            return 1;
        }
        free(*text);
        *text = utf8;
        *len = n;
        return 0;
    }
    if (text_is_utf8(*text, *len, &bad))
        return 0;
    /* say what it likely is: Excel on a Chinese Windows saves GB18030 */
    char *probe = NULL;
    size_t n = 0, probe_bad = 0;
    bool gb = text_to_utf8("GB18030", *text, *len, &probe, &n, &probe_bad) == RC_OK;
    free(probe);
    printf("%s:%d: the file is not UTF-8: byte %zu (0x%02X) is not UTF-8%s\n", path,
           s_line_of(*text, bad), bad + 1, (unsigned char)(*text)[bad],
           gb ? "; it reads as GB18030 (a CSV saved by Excel on a Chinese Windows): import it "
                "with --encoding gb18030, or save it as \"CSV UTF-8\""
              : "; name its encoding with --encoding (e.g. gb18030)");
    fprintf(stderr, "rectifyctl import: %s refused; nothing was sent\n", path);
    return 1;
}

static const char *s_track_label(Rectify__Track track)
{
    switch (track) {
    case RECTIFY__TRACK__FIX_NOW:
        return "立行立改";
    case RECTIFY__TRACK__SPECIAL_CAMPAIGN:
        return "专项整治";
    case RECTIFY__TRACK__LONG_TERM:
        return "长期推进";
    default:
        return "";
    }
}

/* --dry-run: prints what importing the plan would do to the recorded plan. */
static int s_dry_run(const config_t *cfg, const char *path, const Rectify__ImportPlan *plan)
{
    db_t *db = ctl_connect(cfg);
    if (!db)
        return 1;
    plan_recorded_t recorded;
    plan_diff_t d;
    int rc = plan_recorded_load(db, plan->round_id, &recorded);
    if (rc != RC_OK) {
        fprintf(stderr, "rectifyctl import: %s\n", db_error(db));
        db_destroy(&db);
        return 1;
    }
    if (plan_diff(plan, &recorded, &d) != RC_OK) {
        fprintf(stderr, "rectifyctl import: out of memory\n");
        plan_recorded_free(&recorded);
        db_destroy(&db);
        return 2;
    }
    printf("%s: what the import would do to round %s (dry run: nothing was sent)\n", path,
           plan->round_id);
    for (size_t i = 0; i < d.n; i++) {
        const plan_change_t *c = &d.changes[i];
        const char *kind = c->item ? "事项" : "措施";
        switch (c->kind) {
        case PLAN_ADD:
        case PLAN_ASSIGN:
            printf("%s:%d: %s %s %s %s: %s, %s, %s, %s\n", path, c->line,
                   c->kind == PLAN_ADD ? "+ add" : "+ assign", kind, c->id, c->title, c->leader,
                   c->unit, c->deadline, s_track_label(c->track));
            break;
        case PLAN_CHANGE:
            if (c->old_deadline)
                printf("%s:%d: ~ change %s %s deadline: %s -> %s\n", path, c->line, kind, c->id,
                       c->old_deadline, c->deadline);
            if (c->old_leader)
                printf("%s:%d: ~ change %s %s lead_leader: %s -> %s\n", path, c->line, kind, c->id,
                       c->old_leader, c->leader);
            if (c->old_unit)
                printf("%s:%d: ~ change %s %s responsible_unit: %s -> %s\n", path, c->line, kind,
                       c->id, c->old_unit, c->unit);
            break;
        case PLAN_CONFLICT:
            printf("%s:%d: ! conflict: %s\n", path, c->line, c->message);
            break;
        }
    }
    printf("%zu to add, %zu to assign, %zu to change, %zu conflict(s); %zu recorded measure(s) "
           "not in the file are kept\n",
           d.adds, d.assigns, d.changed, d.conflicts, d.kept);
    int status = 0;
    if (d.conflicts) {
        printf(
            "the import would be refused: a revision does not retitle, move or re-track tasks\n");
        status = 1;
    } else if (d.changed && !*plan->reason) {
        printf("the import would be refused: changes need their reason (--reason TEXT)\n");
        status = 1;
    }
    plan_diff_free(&d);
    plan_recorded_free(&recorded);
    db_destroy(&db);
    return status;
}

int ctl_import(const config_t *cfg, int argc, char **argv)
{
    const char *round = NULL, *unit = NULL, *on = NULL, *path = NULL, *reason = NULL,
               *encoding = NULL;
    int dry_run = 0;
    for (int i = 0; i < argc; i++) {
        if (!strcmp(argv[i], "--round") && i + 1 < argc)
            round = argv[++i];
        else if (!strcmp(argv[i], "--unit") && i + 1 < argc)
            unit = argv[++i];
        else if (!strcmp(argv[i], "--on") && i + 1 < argc)
            on = argv[++i];
        else if (!strcmp(argv[i], "--reason") && i + 1 < argc)
            reason = argv[++i];
        else if (!strcmp(argv[i], "--encoding") && i + 1 < argc)
            encoding = argv[++i];
        else if (!strcmp(argv[i], "--dry-run"))
            dry_run = 1;
        else if (!path && argv[i][0] != '-')
            path = argv[i];
        else {
            fprintf(stderr, "rectifyctl import: unexpected argument \"%s\"\n", argv[i]);
            return 2;
        }
    }
    if (!round || !unit || !path) {
        fprintf(stderr, "rectifyctl import: usage: import --round R --unit U [--on DATE] "
                        "[--reason TEXT] [--encoding ENC] [--dry-run] FILE.csv\n");
        return 2;
    }
    size_t len = 0;
    char *text = s_read_file(path, &len);
    if (!text) {
        fprintf(stderr, "rectifyctl import: %s: %s\n", path, strerror(errno));
        return 2;
    }
    int rc = s_to_utf8(path, encoding, &text, &len);
    if (rc != 0) {
        free(text);
        return rc;
    }
    plan_csv_error_t errs[MAX_ERRORS];
    size_t nerrs = 0;
    Rectify__ImportPlan *plan = NULL;
    rc = plan_csv_parse(text, len, round, &plan, errs, MAX_ERRORS, &nerrs);
    free(text);
    if (rc != RC_OK) {
        for (size_t i = 0; i < nerrs; i++)
            fprintf(stdout, "%s:%d: %s%s%s\n", path, errs[i].line, errs[i].field,
                    errs[i].field[0] ? ": " : "", errs[i].message);
        fprintf(stderr, "rectifyctl import: %s refused (%zu error%s); nothing was sent\n", path,
                nerrs, nerrs == 1 ? "" : "s");
        return 1;
    }
    char **fields[] = {&plan->on_date, &plan->reason};
    const char *values[] = {on, reason};
    for (int f = 0; f < 2; f++) {
        char *copy = values[f] ? strdup(values[f]) : NULL;
        if (copy) {
            if (*fields[f] != protobuf_c_empty_string)
                free(*fields[f]);
            *fields[f] = copy;
        }
    }
    if (dry_run) {
        int status = s_dry_run(cfg, path, plan);
        rectify__import_plan__free_unpacked(plan, NULL);
        return status;
    }
    post_item_t item;
    memset(&item, 0, sizeof item);
    ids_new_uuid(item.event_id);
    Rectify__Envelope env = RECTIFY__ENVELOPE__INIT;
    env.event_id = item.event_id;
    env.unit = (char *)unit;
    env.sent_at_ms = clock_now_ms();
    env.event_case = RECTIFY__ENVELOPE__EVENT_IMPORT_PLAN;
    env.import_plan = plan;
    item.len = rectify__envelope__get_packed_size(&env);
    item.frame = malloc(item.len);
    size_t rows = plan->n_rows;
    int status = 1;
    if (!item.frame)
        goto out_free_plan;
    rectify__envelope__pack(&env, item.frame);
    poster_creds_t creds;
    if (ctl_credentials(cfg, &creds, "import") != RC_OK) {
        status = 2;
        goto out_free_frame;
    }
    void *ctx = zmq_ctx_new();
    poster_opts_t opts = {.creds = &creds, .timeout_ms = 5000, .retries = 5, .window = 1};
    rc = poster_run(ctx, config_str(cfg, SET_intake_bind), &item, 1, &opts);
    zmq_ctx_term(ctx);
    if (rc != RC_OK || item.status != POST_ACCEPTED) {
        printf("{\"event_id\":\"%s\",\"status\":\"%s\",\"code\":\"%s\",\"message\":\"%s\"}\n",
               item.event_id, poster_status_name(item.status), item.code, item.message);
        goto out_free_frame;
    }
    ctl_outcome_t outcome;
    ctl_wait_outcomes(cfg, &creds, &item, 1, &outcome, 60000);
    if (strcmp(outcome.outcome, "applied") == 0) {
        printf("%s: %zu rows imported into round %s (event %s)\n", path, rows, round,
               item.event_id);
        status = 0;
    } else if (outcome.outcome[0]) {
        printf("%s refused: %s: %s; nothing of the plan was applied (event %s)\n", path,
               outcome.code, outcome.message, item.event_id);
    } else {
        printf("%s: accepted (event %s) but workflow has not applied it yet\n", path,
               item.event_id);
    }
out_free_frame:
    free(item.frame);
out_free_plan:
    rectify__import_plan__free_unpacked(plan, NULL);
    return status;
}
