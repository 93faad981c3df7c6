/* wf_subject.c: the core's clocks, for every lifecycle after rectification
 * (work orders now). Scheduling is each lifecycle's SQL (order_step adds
 * and stops its clocks); firing is here and the same for all: the due
 * steps are claimed through their index, FOR UPDATE SKIP LOCKED, by
 * subject_clock_claim (migration 092), which also writes the breach once
 * and the history rows; this file adds the notices and commits, so a step,
 * its history and its notice exist together or not at all. */
#include "errors.h"
#include "ids.h"
#include "log.h"
#include "text.h"
#include "wf.h"

#include <stdio.h>
#include <string.h>

static const db_stmt_t s_claim = {"wf_subject_claim",
                                  "SELECT lifecycle, subject, clock, cycle, step,"
                                  " coalesce(unit, ''), detail, recorded, event_id"
                                  " FROM subject_clock_claim(rectify_now($1::bool), 200)",
                                  1, 0};

enum { C_LIFECYCLE, C_SUBJECT, C_CLOCK, C_CYCLE, C_STEP, C_UNIT, C_DETAIL, C_RECORDED, C_EVENT };

static const char *s_noun(const char *lifecycle)
{
    return strcmp(lifecycle, wf_orders.name) == 0 ? wf_orders.noun : lifecycle;
}

/* A breach stands out as a warning in the logs; a warning before the
 * deadline is news. */
static log_level_t s_level(const char *step)
{
    return strcmp(step, "breach") == 0 ? LOG_WARN : LOG_INFO;
}

/* The notice of one step, sent by the clock under the step's own event id. */
static int s_notice(wf_server_t *server, db_t *db, const wf_clock_opts_t *o, PGresult *res, int i)
{
    Rectify__Envelope env = RECTIFY__ENVELOPE__INIT;
    env.event_id = PQgetvalue(res, i, C_EVENT);
    env.unit = "clock";
    wf_ctx_t ctx = {.server = server, .db = db, .env = &env, .clock = o};
    snprintf(ctx.sender.code, sizeof ctx.sender.code, "clock");
    const char *step = PQgetvalue(res, i, C_STEP), *clock = PQgetvalue(res, i, C_CLOCK);
    bool breach = strcmp(step, "breach") == 0;
    char kind[48], subject[400];
    snprintf(kind, sizeof kind, "%s_%s", s_noun(PQgetvalue(res, i, C_LIFECYCLE)),
             breach ? "breach" : "warning");
    text_printf(subject, sizeof subject, "%s %s: %s clock %s (cycle %s)",
                s_noun(PQgetvalue(res, i, C_LIFECYCLE)), PQgetvalue(res, i, C_SUBJECT), clock,
                breach ? "breached" : "running out", PQgetvalue(res, i, C_CYCLE));
    return wf_notify(&ctx, kind, PQgetvalue(res, i, C_UNIT), subject, PQgetvalue(res, i, C_DETAIL));
}

PGresult *wf_claim_due(db_t *db, const db_stmt_t *claim, const wf_clock_opts_t *o, bool *none)
{
    *none = false;
    if (db_ensure(db) != RC_OK || db_begin(db) != RC_OK)
        return NULL;
    const char *params[] = {o->sim ? "t" : "f"};
    PGresult *res = db_run(db, claim, params, NULL, NULL);
    if (res && PQntuples(res) > 0)
        return res;
    *none = res != NULL;
    PQclear(res);
    db_rollback(db);
    return NULL;
}

int wf_subject_clock_fire(wf_server_t *server, db_t *db, const wf_clock_opts_t *o, int *fired)
{
    *fired = 0;
    bool none;
    PGresult *res = wf_claim_due(db, &s_claim, o, &none);
    if (!res)
        return none ? RC_OK : RC_ERR_DB;
    int n = PQntuples(res);
    wf_server_reset_notices(server);
    int rc = RC_OK;
    for (int i = 0; i < n && rc == RC_OK; i++)
        if (strcmp(PQgetvalue(res, i, C_RECORDED), "t") == 0)
            rc = s_notice(server, db, o, res, i);
    if (rc == RC_OK)
        rc = wf_server_flush_notices(server);
    if (rc == RC_OK)
        rc = db_commit(db);
    if (rc != RC_OK) {
        db_rollback(db);
    } else {
        /* only what has fired is logged: a rolled-back step fires again */
        for (int i = 0; i < n; i++) {
            if (strcmp(PQgetvalue(res, i, C_RECORDED), "t") != 0)
                continue;
            const char *step = PQgetvalue(res, i, C_STEP);
            log_field_t f[] = {LF_STR("lifecycle", PQgetvalue(res, i, C_LIFECYCLE)),
                               LF_STR("subject", PQgetvalue(res, i, C_SUBJECT)),
                               LF_STR("clock", PQgetvalue(res, i, C_CLOCK)), LF_STR("step", step)};
            log_event(s_level(step), PQgetvalue(res, i, C_EVENT), PQgetvalue(res, i, C_UNIT), f, 4,
                      "clock: %s %s: %s %s (%s)", s_noun(PQgetvalue(res, i, C_LIFECYCLE)),
                      PQgetvalue(res, i, C_SUBJECT), PQgetvalue(res, i, C_CLOCK),
                      strcmp(step, "breach") == 0 ? "breached" : "warning",
                      PQgetvalue(res, i, C_DETAIL));
        }
        *fired = n;
    }
    PQclear(res);
    return rc;
}
