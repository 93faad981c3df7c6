/* ctl_import.c: `rectifyctl import`: a unit's plan spreadsheet (CSV, one row
 * per measure) checked here row by row, then sent as one import_plan event
 * that workflow applies all or nothing. */
#include "clock.h"
#include "ctl.h"
#include "errors.h"
#include "ids.h"
#include "plan_csv.h"
#include "rectify.pb-c.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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

int ctl_import(const config_t *cfg, int argc, char **argv)
{
    const char *round = NULL, *unit = NULL, *on = NULL, *path = NULL;
    for (int i = 0; i < argc; i++) {
        if (!strcmp(argv[i], "--round") && i + 1 < argc)
            round = argv[++i];
        else if (!strcmp(argv[i], "--unit") && i + 1 < argc)
            unit = argv[++i];
        else if (!strcmp(argv[i], "--on") && i + 1 < argc)
            on = argv[++i];
        else if (!path && argv[i][0] != '-')
            path = argv[i];
        else {
            fprintf(stderr, "rectifyctl import: unexpected argument \"%s\"\n", argv[i]);
            return 2;
        }
    }
    if (!round || !unit || !path) {
        fprintf(stderr,
                "rectifyctl import: usage: import --round R --unit U [--on DATE] FILE.csv\n");
        return 2;
    }
    size_t len = 0;
    char *text = s_read_file(path, &len);
    if (!text) {
        fprintf(stderr, "rectifyctl import: %s: %s\n", path, strerror(errno));
        return 2;
    }
    plan_csv_error_t errs[MAX_ERRORS];
    size_t nerrs = 0;
    Rectify__ImportPlan *plan = NULL;
    int rc = plan_csv_parse(text, len, round, &plan, errs, MAX_ERRORS, &nerrs);
    free(text);
    if (rc != RC_OK) {
        for (size_t i = 0; i < nerrs; i++)
            fprintf(stdout, "%s:%d: %s%s%s\n", path, errs[i].line, errs[i].field,
                    errs[i].field[0] ? ": " : "", errs[i].message);
        fprintf(stderr, "rectifyctl import: %s refused (%zu error%s); nothing was sent\n", path,
                nerrs, nerrs == 1 ? "" : "s");
        return 1;
    }
    if (on) {
        char *copy = strdup(on);
        if (copy) {
            if (plan->on_date != protobuf_c_empty_string)
                free(plan->on_date);
            plan->on_date = copy;
        }
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
    void *ctx = zmq_ctx_new();
    poster_opts_t opts = {.timeout_ms = 5000, .retries = 5, .window = 1};
    rc = poster_run(ctx, config_str(cfg, SET_intake_bind), &item, 1, &opts);
    zmq_ctx_term(ctx);
    if (rc != RC_OK || item.status != POST_ACCEPTED) {
        printf("{\"event_id\":\"%s\",\"status\":\"%s\",\"code\":\"%s\",\"message\":\"%s\"}\n",
               item.event_id, poster_status_name(item.status), item.code, item.message);
        goto out_free_frame;
    }
    ctl_outcome_t outcome;
    ctl_wait_outcomes(cfg, &item, 1, &outcome, 60000);
    if (strcmp(outcome.outcome, "applied") == 0) {
        printf("%s: %zu measures imported into round %s (event %s)\n", path, rows, round,
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
