/* wf_clock.c: the clocks of the lifecycle. Scheduling is data (the timer
 * table, filled by timer_reschedule after every change of a task); firing
 * claims the due rows through their index, FOR UPDATE SKIP LOCKED, so each
 * step fires exactly once even with several workflow processes. */
#include "clock.h"
#include "errors.h"
#include "ids.h"
#include "log.h"
#include "wf.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* "7,3,1" -> "{7,3,1}", each 0..max, exactly want values (0: any count >= 1). */
static int s_days_list(const char *name, const char *text, int want, int max, char *out,
                       size_t outlen, char *err, size_t errlen)
{
    size_t used = (size_t)snprintf(out, outlen, "{");
    int count = 0;
    const char *p = text;
    while (*p) {
        while (isspace((unsigned char)*p))
            p++;
        char *end = NULL;
        long v = strtol(p, &end, 10);
        if (end == p || v < 0 || v > max) {
            snprintf(err, errlen, "%s: \"%s\" must be comma-separated days 0..%d", name, text, max);
            return RC_ERR_CONFIG;
        }
        used += (size_t)snprintf(out + used, outlen > used ? outlen - used : 0, "%s%ld",
                                 count ? "," : "", v);
        count++;
        p = end;
        while (isspace((unsigned char)*p))
            p++;
        if (*p == ',')
            p++;
        else if (*p) {
            snprintf(err, errlen, "%s: \"%s\" must be comma-separated days 0..%d", name, text, max);
            return RC_ERR_CONFIG;
        }
    }
    if (count == 0 || (want && count != want) || used + 2 > outlen) {
        snprintf(err, errlen, "%s: \"%s\" must hold %s%d day counts", name, text,
                 want ? "exactly " : "at least ", want ? want : 1);
        return RC_ERR_CONFIG;
    }
    snprintf(out + used, outlen - used, "}");
    return RC_OK;
}

int wf_clock_opts_load(const config_t *cfg, wf_clock_opts_t *o, char *err, size_t errlen)
{
    static const cfg_key_t ladders[] = {SET_escalation_fix_now, SET_escalation_special_campaign,
                                        SET_escalation_long_term};
    memset(o, 0, sizeof *o);
    o->sim = config_bool(cfg, SET_sim_clock);
    int rc = s_days_list("remind_days", config_str(cfg, SET_remind_days), 0, 365, o->remind_days,
                         sizeof o->remind_days, err, errlen);
    for (int i = 0; i < 3 && rc == RC_OK; i++)
        rc = s_days_list(config_name(ladders[i]), config_str(cfg, ladders[i]), 3, 3650,
                         o->ladder[i], sizeof o->ladder[i], err, errlen);
    snprintf(o->report_days, sizeof o->report_days, "%lld",
             config_int(cfg, SET_report_interval_days));
    snprintf(o->look_back_days, sizeof o->look_back_days, "%lld",
             config_int(cfg, SET_look_back_after_days));
    snprintf(o->repeat_min_orders, sizeof o->repeat_min_orders, "%lld",
             config_int(cfg, SET_repeat_min_orders));
    snprintf(o->repeat_min_days, sizeof o->repeat_min_days, "%lld",
             config_int(cfg, SET_repeat_min_days));
    snprintf(o->hotline_yellow, sizeof o->hotline_yellow, "%lld",
             config_int(cfg, SET_hotline_yellow_percent));
    snprintf(o->hotline_red, sizeof o->hotline_red, "%lld",
             config_int(cfg, SET_hotline_red_percent));
    return rc;
}

static const db_stmt_t s_reschedule = {"wf_reschedule",
                                       "SELECT timer_reschedule($1, $2, $3::uuid,"
                                       " CASE WHEN $4 = '' THEN rectify_now($9::bool) ELSE "
                                       "($4::date)::timestamp AT TIME ZONE 'UTC' END,"
                                       " $5::int[], $6::int[], $7::int, $8::int, $10::bool)",
                                       10, 0};

int wf_clock_reschedule(wf_ctx_t *ctx, const char *round_id, const char *task_id, const char *track,
                        const char *day, bool closed_now)
{
    const wf_clock_opts_t *o = ctx->clock;
    if (!o)
        return RC_OK;
    int ladder = !strcmp(track, "long_term") ? 2 : !strcmp(track, "special_campaign") ? 1 : 0;
    const char *params[] = {round_id,           task_id,
                            ctx->env->event_id, day ? day : "",
                            o->remind_days,     o->ladder[ladder],
                            o->report_days,     o->look_back_days,
                            o->sim ? "t" : "f", closed_now ? "t" : "f"};
    return db_do(ctx->db, &s_reschedule, params);
}

/* Claims the due clocks, oldest first, with what the history row needs. */
static const db_stmt_t s_claim = {
    "wf_claim_timers",
    "WITH due AS (SELECT id FROM timer"
    "  WHERE fired_at IS NULL AND cancelled_at IS NULL AND due_at <= rectify_now($1::bool)"
    "  ORDER BY due_at, id LIMIT 200 FOR UPDATE SKIP LOCKED)"
    " UPDATE timer t SET fired_at = rectify_now($1::bool) FROM due WHERE t.id = due.id"
    " RETURNING t.id, t.round_id, t.task_id, t.kind, t.detail,"
    "  (rectify_now($1::bool) AT TIME ZONE 'UTC')::date::text,"
    "  (SELECT k.status FROM task k WHERE k.round_id = t.round_id AND k.task_id = t.task_id),"
    "  (SELECT coalesce(k.responsible_unit, '') FROM task k"
    "    WHERE k.round_id = t.round_id AND k.task_id = t.task_id),"
    "  (SELECT k.kind FROM task k WHERE k.round_id = t.round_id AND k.task_id = t.task_id),"
    "  t.due_at",
    1, 0};

typedef struct {
    long long id;
    int row;
    const char *due;
    char event_id[IDS_UUID_LEN + 1];
} s_fired_t;

/* What the clock does is an event of its own: a new id, the actor "clock". */
typedef struct {
    char event_id[IDS_UUID_LEN + 1];
    Rectify__Envelope env;
    wf_ctx_t ctx;
} s_clock_event_t;

static void s_clock_event(s_clock_event_t *e, wf_server_t *server, db_t *db,
                          const wf_clock_opts_t *o)
{
    ids_new_uuid(e->event_id);
    rectify__envelope__init(&e->env);
    e->env.event_id = e->event_id;
    e->env.unit = "clock";
    e->ctx = (wf_ctx_t){.server = server, .db = db, .env = &e->env, .clock = o};
    snprintf(e->ctx.sender.code, sizeof e->ctx.sender.code, "clock");
}

static int s_by_due(const void *a, const void *b)
{
    const s_fired_t *x = a, *y = b;
    int c = strcmp(x->due, y->due);
    return c ? c : (x->id > y->id) - (x->id < y->id);
}

static const char *s_action(const char *kind)
{
    return !strcmp(kind, "report_due") ? "report_missed" : kind;
}

/* How a step reads in a subject or a log line. */
static const char *s_step_name(const char *kind)
{
    return !strcmp(kind, "red_card")      ? "red card"
           : !strcmp(kind, "yellow_card") ? "yellow card"
                                          : s_action(kind);
}

/* Red cards and interviews stand out as errors, the late steps as warnings. */
static log_level_t s_step_level(const char *kind)
{
    if (!strcmp(kind, "red_card") || !strcmp(kind, "interview"))
        return LOG_ERROR;
    if (!strcmp(kind, "yellow_card") || !strcmp(kind, "overdue") || !strcmp(kind, "report_due"))
        return LOG_WARN;
    return LOG_INFO;
}

int wf_clock_fire(wf_server_t *server, db_t *db, const wf_clock_opts_t *o, int *fired)
{
    *fired = 0;
    bool none;
    PGresult *res = wf_claim_due(db, &s_claim, o, &none);
    if (!res)
        return none ? RC_OK : RC_ERR_DB;
    int n = PQntuples(res);
    s_fired_t *order = calloc((size_t)n, sizeof *order);
    if (!order) {
        PQclear(res);
        db_rollback(db);
        return RC_ERR_NOMEM;
    }
    for (int i = 0; i < n; i++) {
        order[i].id = strtoll(PQgetvalue(res, i, 0), NULL, 10);
        order[i].row = i;
        order[i].due = PQgetvalue(res, i, 9);
    }
    qsort(order, (size_t)n, sizeof *order, s_by_due);
    wf_server_reset_notices(server);
    int rc = RC_OK;
    for (int k = 0; k < n && rc == RC_OK; k++) {
        int i = order[k].row;
        const char *round = PQgetvalue(res, i, 1), *task = PQgetvalue(res, i, 2);
        const char *kind = PQgetvalue(res, i, 3), *detail = PQgetvalue(res, i, 4);
        const char *day = PQgetvalue(res, i, 5), *status = PQgetvalue(res, i, 6);
        const char *unit = PQgetvalue(res, i, 7), *task_kind = PQgetvalue(res, i, 8);
        s_clock_event_t ev;
        s_clock_event(&ev, server, db, o);
        memcpy(order[k].event_id, ev.event_id, sizeof order[k].event_id);
        rc = wf_history(&ev.ctx, round, task, s_action(kind), status, status, detail, NULL, day);
        char subject[512];
        snprintf(subject, sizeof subject, "round %s: %s %s: %s (%s)", round, task_kind, task,
                 s_step_name(kind), detail);
        if (rc == RC_OK)
            rc = wf_notify(&ev.ctx, kind, unit, subject, detail);
    }
    if (rc == RC_OK)
        rc = wf_server_flush_notices(server);
    if (rc == RC_OK)
        rc = db_commit(db);
    if (rc != RC_OK) {
        db_rollback(db);
    } else {
        /* only what has fired is logged: a rolled-back step fires again */
        for (int k = 0; k < n; k++) {
            int i = order[k].row;
            const char *kind = PQgetvalue(res, i, 3), *task = PQgetvalue(res, i, 2);
            log_field_t f[] = {LF_STR("kind", kind), LF_STR("task", task),
                               LF_STR("round", PQgetvalue(res, i, 1)),
                               LF_STR("day", PQgetvalue(res, i, 5))};
            log_event(s_step_level(kind), order[k].event_id, PQgetvalue(res, i, 7), f, 4,
                      "clock: %s %s %s: %s", PQgetvalue(res, i, 8), task, s_step_name(kind),
                      PQgetvalue(res, i, 4));
        }
        *fired = n;
    }
    free(order);
    PQclear(res);
    return rc;
}

/* --- scheduled reports ------------------------------------------------------ */

static const db_stmt_t s_seed_schedule = {
    "wf_seed_schedule",
    /* nothing while a simulated clock is not set yet: seeded from the real
     * clock, the schedule would sit years away from the simulated time */
    "INSERT INTO report_schedule (kind, due_at)"
    " SELECT s.kind, s.due_at FROM (VALUES"
    "   ('weekly', (date_trunc('week', rectify_now($1::bool) AT TIME ZONE 'UTC')"
    "     + interval '7 days') AT TIME ZONE 'UTC'),"
    "   ('monthly', (date_trunc('month', rectify_now($1::bool) AT TIME ZONE 'UTC')"
    "     + interval '1 month') AT TIME ZONE 'UTC')) AS s (kind, due_at)"
    " WHERE NOT $1::bool OR EXISTS (SELECT 1 FROM sim_clock)"
    " ON CONFLICT DO NOTHING",
    1, 0};
static const db_stmt_t s_due_reports = {
    "wf_due_reports",
    "SELECT kind, due_at::text, ((due_at AT TIME ZONE 'UTC')::date - 1)::text FROM report_schedule"
    " WHERE due_at <= rectify_now($1::bool) ORDER BY due_at FOR UPDATE SKIP LOCKED",
    1, 0};
static const db_stmt_t s_weekly_rows = {
    "wf_weekly_rows",
    "SELECT r.round_id, w.unit, w.moved, w.closed, w.overdue, w.escalated"
    " FROM inspection_round r, report_weekly(r.round_id, $1::timestamptz) w ORDER BY 1, 2",
    1, 0};
static const db_stmt_t s_monthly_rows = {
    "wf_monthly_rows",
    "SELECT r.round_id, m.unit, m.items, m.items_done, m.items_overdue, m.measures,"
    " m.measures_done, m.measures_in_progress, m.measures_overdue"
    " FROM inspection_round r, report_monthly(r.round_id, $1::date) m ORDER BY 1, 2",
    1, 0};
static const db_stmt_t s_next_report = {
    "wf_next_report",
    "UPDATE report_schedule SET due_at = due_at + CASE kind WHEN 'weekly' THEN interval '7 days'"
    " ELSE interval '1 month' END WHERE kind = $1",
    1, 0};

static int s_report_notices(wf_server_t *server, db_t *db, const wf_clock_opts_t *o,
                            const char *kind, const char *due_at, const char *last_day, int *sent)
{
    bool weekly = !strcmp(kind, "weekly");
    const char *params[] = {weekly ? due_at : last_day};
    PGresult *res = db_run(db, weekly ? &s_weekly_rows : &s_monthly_rows, params, NULL, NULL);
    if (!res)
        return RC_ERR_DB;
    int rc = RC_OK;
    for (int r = 0; r < PQntuples(res) && rc == RC_OK; r++) {
        char subject[512], body[256];
        s_clock_event_t ev;
        s_clock_event(&ev, server, db, o);
        if (weekly) {
            snprintf(subject, sizeof subject, "round %s: weekly reconciliation of %s, week to %s",
                     PQgetvalue(res, r, 0), PQgetvalue(res, r, 1), last_day);
            snprintf(body, sizeof body, "moved %s, closed %s, overdue %s, escalated %s",
                     PQgetvalue(res, r, 2), PQgetvalue(res, r, 3), PQgetvalue(res, r, 4),
                     PQgetvalue(res, r, 5));
        } else {
            snprintf(subject, sizeof subject, "round %s: monthly progress of %s on %s",
                     PQgetvalue(res, r, 0), PQgetvalue(res, r, 1), last_day);
            snprintf(body, sizeof body,
                     "items %s (done %s, overdue %s), measures %s (done %s, in progress %s, "
                     "overdue %s)",
                     PQgetvalue(res, r, 2), PQgetvalue(res, r, 3), PQgetvalue(res, r, 4),
                     PQgetvalue(res, r, 5), PQgetvalue(res, r, 6), PQgetvalue(res, r, 7),
                     PQgetvalue(res, r, 8));
        }
        rc = wf_notify(&ev.ctx, weekly ? "weekly_report" : "monthly_report", PQgetvalue(res, r, 1),
                       subject, body);
        (*sent)++;
    }
    PQclear(res);
    return rc;
}

/* The month's hotline cards (hotline_month, migration 093): a notice to
 * each undertaking unit whose worst rate crossed a line. *cards keeps the
 * rows for the log lines written once the transaction commits. */
static const db_stmt_t s_hotline_cards = {
    "wf_hotline_cards",
    "SELECT unit, card, orders, breaches, coalesce(least(take_rate, contact_rate, onsite_rate,"
    " complete_rate, reply_rate, satisfaction)::text, '')"
    " FROM hotline_month($1::date, $2::int, $3::int) WHERE card <> ''",
    3, 0};

static int s_card_notices(wf_server_t *server, db_t *db, const wf_clock_opts_t *o,
                          const char *last_day, PGresult **cards, int *sent)
{
    const char *params[] = {last_day, o->hotline_yellow, o->hotline_red};
    *cards = db_run(db, &s_hotline_cards, params, NULL, NULL);
    if (!*cards)
        return RC_ERR_DB;
    int rc = RC_OK;
    for (int r = 0; r < PQntuples(*cards) && rc == RC_OK; r++) {
        bool red = strcmp(PQgetvalue(*cards, r, 1), "red") == 0;
        char subject[300], body[200];
        s_clock_event_t ev;
        s_clock_event(&ev, server, db, o);
        snprintf(subject, sizeof subject, "hotline %s card for %s, month to %s",
                 red ? "red" : "yellow", PQgetvalue(*cards, r, 0), last_day);
        snprintf(body, sizeof body,
                 "orders %s, breaches %s, worst rate %s%% (lines: yellow %s%%, red %s%%)",
                 PQgetvalue(*cards, r, 2), PQgetvalue(*cards, r, 3), PQgetvalue(*cards, r, 4),
                 o->hotline_yellow, o->hotline_red);
        rc = wf_notify(&ev.ctx, red ? "hotline_red_card" : "hotline_yellow_card",
                       PQgetvalue(*cards, r, 0), subject, body);
        (*sent)++;
    }
    return rc;
}

static void s_log_cards(PGresult *cards, const char *last_day)
{
    for (int r = 0; cards && r < PQntuples(cards); r++) {
        bool red = strcmp(PQgetvalue(cards, r, 1), "red") == 0;
        log_field_t f[] = {LF_STR("card", PQgetvalue(cards, r, 1)), LF_STR("month_to", last_day)};
        log_event(red ? LOG_ERROR : LOG_WARN, NULL, PQgetvalue(cards, r, 0), f, 2,
                  "clock: hotline %s card for %s (worst rate %s%%)", red ? "red" : "yellow",
                  PQgetvalue(cards, r, 0), PQgetvalue(cards, r, 4));
    }
}

int wf_reports_fire(wf_server_t *server, db_t *db, const wf_clock_opts_t *o, int *sent)
{
    *sent = 0;
    const char *sim[] = {o->sim ? "t" : "f"};
    if (db_ensure(db) != RC_OK || db_begin(db) != RC_OK)
        return RC_ERR_DB;
    int rc = db_do(db, &s_seed_schedule, sim);
    PGresult *due = rc == RC_OK ? db_run(db, &s_due_reports, sim, NULL, NULL) : NULL;
    if (!due) {
        db_rollback(db);
        return RC_ERR_DB;
    }
    wf_server_reset_notices(server);
    /* at most one monthly row is due per run that matters for the log: the
     * schedule moves on a month at a time */
    PGresult *cards = NULL;
    char cards_day[16] = "";
    for (int i = 0; i < PQntuples(due) && rc == RC_OK; i++) {
        const char *kind = PQgetvalue(due, i, 0);
        rc = s_report_notices(server, db, o, kind, PQgetvalue(due, i, 1), PQgetvalue(due, i, 2),
                              sent);
        if (rc == RC_OK && !strcmp(kind, "monthly")) {
            PQclear(cards);
            snprintf(cards_day, sizeof cards_day, "%s", PQgetvalue(due, i, 2));
            rc = s_card_notices(server, db, o, cards_day, &cards, sent);
        }
        const char *params[] = {kind};
        if (rc == RC_OK)
            rc = db_do(db, &s_next_report, params);
        if (rc == RC_OK)
            log_event(LOG_INFO, NULL, NULL, (log_field_t[]){LF_STR("kind", kind)}, 1,
                      "clock: %s report for the period to %s sent", kind, PQgetvalue(due, i, 2));
    }
    PQclear(due);
    if (rc == RC_OK)
        rc = wf_server_flush_notices(server);
    if (rc == RC_OK)
        rc = db_commit(db);
    if (rc != RC_OK) {
        PQclear(cards);
        db_rollback(db);
        return rc;
    }
    s_log_cards(cards, cards_day);
    PQclear(cards);
    return RC_OK;
}
