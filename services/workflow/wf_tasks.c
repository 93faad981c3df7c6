/* wf_tasks.c: the lifecycle of items and measures.
 *
 *   registered -assign-> assigned -start-> in_progress -submit-> submitted
 *   submitted -write_off-> closed        submitted -reject-> in_progress
 *   closed -look-back passed-> confirmed  closed|confirmed -relapse-> reopened
 *   reopened -start-> in_progress         long-term: in_progress|submitted -decision-> closed
 *
 * An item closes, by write-off or by decision, only when all its measures
 * are closed or confirmed (s_closure_gate).
 *
 * The table below is the whole state machine: which action moves a task from
 * which states to which, and who may take it. */
#include "errors.h"
#include "text.h"
#include "wf.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef enum {
    WHO_RESPONSIBLE, /* a unit covering the task's responsible unit */
    WHO_SUPERVISION  /* a supervision office covering it */
} who_t;

typedef struct {
    const char *action;
    const char *from; /* "|"-separated states */
    const char *to;   /* NULL: the state does not change */
    who_t who;
} transition_t;

static const transition_t s_transitions[] = {
    {"start", "assigned|reopened", "in_progress", WHO_RESPONSIBLE},
    {"report_progress", "in_progress|submitted|reopened", NULL, WHO_RESPONSIBLE},
    {"submit_write_off", "in_progress", "submitted", WHO_RESPONSIBLE},
    {"write_off", "submitted", "closed", WHO_SUPERVISION},
    {"reject_write_off", "submitted", "in_progress", WHO_SUPERVISION},
    {"reassign", "assigned|in_progress|submitted|reopened", NULL, WHO_SUPERVISION},
    {"change_deadline", "assigned|in_progress|submitted|reopened", NULL, WHO_SUPERVISION},
    {"look_back_passed", "closed", "confirmed", WHO_SUPERVISION},
    {"look_back_relapse", "closed|confirmed", "reopened", WHO_SUPERVISION},
    {"close_by_decision", "in_progress|submitted", "closed", WHO_SUPERVISION},
    /* a unit revising its own plan by import (wf_plan.c) */
    {"revise_plan", "assigned|in_progress|submitted|reopened", NULL, WHO_RESPONSIBLE},
};

static const transition_t *s_find(const char *action)
{
    for (size_t i = 0; i < sizeof s_transitions / sizeof s_transitions[0]; i++)
        if (strcmp(s_transitions[i].action, action) == 0)
            return &s_transitions[i];
    return NULL;
}

/* Loads the task and checks rights, state and date for action. On RC_OK, t
 * holds the task, *tr the transition and day the business day of the change
 * (on_date, or today), which may not precede the task's last change. */
static int s_begin(wf_ctx_t *ctx, const char *event, const char *action, const char *round_id,
                   const char *task_id, const char *on_date, wf_task_t *t, const transition_t **tr,
                   char day[11])
{
    *tr = s_find(action);
    int rc = wf_load_task(ctx, round_id, task_id, t);
    if (rc != RC_OK)
        return rc;
    if (!t->found)
        return wf_refuse(ctx, REFUSAL_unknown_task,
                         "%s.task_id: no item or measure \"%s\" in round \"%s\"", event, task_id,
                         round_id);
    const char *unit = *t->responsible_unit ? t->responsible_unit : t->target_unit;
    if ((*tr)->who == WHO_SUPERVISION)
        rc = wf_require_role(ctx, "supervision_office", event);
    else
        rc = wf_require_role(ctx, "unit", event);
    if (rc == RC_OK)
        rc = wf_require_covers(ctx, unit, event);
    if (rc != RC_OK)
        return rc;
    if (!wf_state_in((*tr)->from, t->status))
        return wf_refuse(ctx, REFUSAL_invalid_transition, "%s: %s %s is %s; %s needs %s", event,
                         t->kind, task_id, t->status, event, (*tr)->from);
    wf_day(on_date, day);
    if (strcmp(day, t->last_day) < 0)
        return wf_refuse(ctx, REFUSAL_stale_date,
                         "%s.on_date: %s is before the last change of %s %s (%s on %s)", event, day,
                         t->kind, task_id, t->last_action, t->last_day);
    return RC_OK;
}

static const db_stmt_t s_set_status = {
    "wf_set_status",
    "UPDATE task SET status = $3, updated_at = now() WHERE round_id = $1 AND task_id = $2", 3, 0};

/* Moves the task and writes its history row. */
static int s_move(wf_ctx_t *ctx, const transition_t *tr, const char *round_id, const char *task_id,
                  const wf_task_t *t, const char *reason, const char *detail, const char *day)
{
    const char *to = tr->to ? tr->to : t->status;
    if (tr->to) {
        const char *params[] = {round_id, task_id, to};
        if (db_do(ctx->db, &s_set_status, params) != RC_OK)
            return RC_ERR_DB;
    }
    int rc = wf_history(ctx, round_id, task_id, tr->action, t->status, to, reason, detail, day);
    if (rc != RC_OK)
        return rc;
    bool closed_now = tr->to && !strcmp(tr->to, "closed");
    return wf_clock_reschedule(ctx, round_id, task_id, t->track, day, closed_now);
}

static int s_notify_move(wf_ctx_t *ctx, const char *round_id, const char *task_id,
                         const wf_task_t *t, const transition_t *tr, const char *text)
{
    char subject[512];
    snprintf(subject, sizeof subject, "round %s: %s %s %s -> %s", round_id, t->kind, task_id,
             t->status, tr->to ? tr->to : t->status);
    return wf_notify(ctx, tr->action, *t->responsible_unit ? t->responsible_unit : t->target_unit,
                     subject, text ? text : "");
}

static const db_stmt_t s_open_measures = {
    "wf_open_measures",
    "SELECT count(*), coalesce(string_agg(task_id || ' ' || status, ', ' ORDER BY task_id), '')"
    " FROM task WHERE round_id = $1 AND item_id = $2 AND NOT task_done(status)",
    2, 0};

/* The closure gate: an item closes, whichever way (write-off, decision),
 * only when every one of its measures is closed or confirmed. Refuses
 * measures_open naming the open measures. */
static int s_closure_gate(wf_ctx_t *ctx, const transition_t *tr, const char *round_id,
                          const char *task_id, const wf_task_t *t)
{
    if (!tr->to || strcmp(tr->to, "closed") != 0 || strcmp(t->kind, "item") != 0)
        return RC_OK;
    const char *params[] = {round_id, task_id};
    PGresult *res = db_run(ctx->db, &s_open_measures, params, NULL, NULL);
    if (!res)
        return RC_ERR_DB;
    long open = strtol(PQgetvalue(res, 0, 0), NULL, 10);
    char which[160];
    text_cut(which, sizeof which, PQgetvalue(res, 0, 1));
    PQclear(res);
    if (open == 0)
        return RC_OK;
    return wf_refuse(ctx, REFUSAL_measures_open,
                     "%s: item %s has %ld measure(s) not closed or confirmed (%s)", tr->action,
                     task_id, open, which);
}

/* Moves the task, records detail (JSON, taken over; may be NULL) in its
 * history and tells the responsible unit. */
static int s_apply_move(wf_ctx_t *ctx, const transition_t *tr, const char *round_id,
                        const char *task_id, const wf_task_t *t, const char *reason, json_t *detail,
                        const char *day)
{
    int rc = s_closure_gate(ctx, tr, round_id, task_id, t);
    if (rc != RC_OK) {
        json_decref(detail);
        return rc;
    }
    char *text = NULL;
    if (detail) {
        text = json_dumps(detail, JSON_COMPACT);
        json_decref(detail);
        if (!text)
            return RC_ERR_NOMEM;
    }
    rc = s_move(ctx, tr, round_id, task_id, t, reason, text, day);
    free(text);
    if (rc != RC_OK)
        return rc;
    return s_notify_move(ctx, round_id, task_id, t, tr, reason);
}

/* The common shape: check, move, tell. */
static int s_simple(wf_ctx_t *ctx, const char *event, const char *action, const char *round_id,
                    const char *task_id, const char *reason, const char *on_date)
{
    wf_task_t t;
    const transition_t *tr;
    char day[11];
    int rc = s_begin(ctx, event, action, round_id, task_id, on_date, &t, &tr, day);
    if (rc != RC_OK)
        return rc;
    return s_apply_move(ctx, tr, round_id, task_id, &t, reason, NULL, day);
}

int wf_start(wf_ctx_t *ctx, const Rectify__Start *ev)
{
    return s_simple(ctx, "start", "start", ev->round_id, ev->task_id, NULL, ev->on_date);
}

static const db_stmt_t s_insert_report = {
    "wf_insert_report",
    "INSERT INTO progress_report (event_id, round_id, task_id, kind, text, actor, effective_on)"
    " VALUES ($1::uuid, $2, $3, $4, $5, $6, $7::date)",
    7, 0};
static const db_stmt_t s_insert_evidence = {
    "wf_insert_evidence",
    "INSERT INTO evidence (event_id, position, title, sha256, uri) VALUES ($1::uuid, $2, $3,"
    " lower($4), $5)",
    5, 0};

/* Stores a progress report or a submission with its evidence. */
static int s_report(wf_ctx_t *ctx, const char *event, const char *action, const char *kind,
                    const char *round_id, const char *task_id, const char *text, size_t n_evidence,
                    Rectify__Evidence **evidence, const char *on_date)
{
    wf_task_t t;
    const transition_t *tr;
    char day[11];
    int rc = s_begin(ctx, event, action, round_id, task_id, on_date, &t, &tr, day);
    if (rc != RC_OK)
        return rc;
    const char *params[] = {ctx->env->event_id, round_id, task_id, kind, text,
                            ctx->sender.code,   day};
    if (db_do(ctx->db, &s_insert_report, params) != RC_OK)
        return RC_ERR_DB;
    json_t *list = json_array();
    for (size_t i = 0; i < n_evidence; i++) {
        char pos[24];
        snprintf(pos, sizeof pos, "%zu", i + 1);
        const char *ep[] = {ctx->env->event_id, pos, evidence[i]->title, evidence[i]->sha256,
                            evidence[i]->uri};
        if (db_do(ctx->db, &s_insert_evidence, ep) != RC_OK) {
            json_decref(list);
            return RC_ERR_DB;
        }
        json_array_append_new(list, json_string(evidence[i]->sha256));
    }
    json_t *d = json_pack("{s:o}", "evidence", list);
    if (!d)
        return RC_ERR_NOMEM;
    return s_apply_move(ctx, tr, round_id, task_id, &t, text, d, day);
}

int wf_report_progress(wf_ctx_t *ctx, const Rectify__ReportProgress *ev)
{
    return s_report(ctx, "report_progress", "report_progress", "progress", ev->round_id,
                    ev->task_id, ev->text, ev->n_evidence, ev->evidence, ev->on_date);
}

int wf_submit_write_off(wf_ctx_t *ctx, const Rectify__SubmitWriteOff *ev)
{
    return s_report(ctx, "submit_write_off", "submit_write_off", "submission", ev->round_id,
                    ev->task_id, ev->text, ev->n_evidence, ev->evidence, ev->on_date);
}

int wf_write_off(wf_ctx_t *ctx, const Rectify__WriteOff *ev)
{
    wf_task_t t;
    const transition_t *tr;
    char day[11];
    int rc = s_begin(ctx, "write_off", "write_off", ev->round_id, ev->task_id, ev->on_date, &t, &tr,
                     day);
    if (rc != RC_OK)
        return rc;
    if (strcmp(t.track, "long_term") == 0)
        return wf_refuse(ctx, REFUSAL_long_term,
                         "write_off: %s %s is long-term; it closes only by close_by_decision",
                         t.kind, ev->task_id);
    return s_apply_move(ctx, tr, ev->round_id, ev->task_id, &t, ev->note, NULL, day);
}

int wf_reject_write_off(wf_ctx_t *ctx, const Rectify__RejectWriteOff *ev)
{
    return s_simple(ctx, "reject_write_off", "reject_write_off", ev->round_id, ev->task_id,
                    ev->reason, ev->on_date);
}

static const db_stmt_t s_reassign = {
    "wf_reassign",
    "WITH old AS (SELECT lead_leader, responsible_unit FROM task"
    "             WHERE round_id = $1 AND task_id = $2)"
    " UPDATE task SET lead_leader = coalesce(nullif($3, ''), lead_leader),"
    " responsible_unit = coalesce(nullif($4, ''), responsible_unit), updated_at = now()"
    " WHERE round_id = $1 AND task_id = $2"
    " RETURNING (SELECT coalesce(lead_leader, '') FROM old), lead_leader,"
    " (SELECT coalesce(responsible_unit, '') FROM old), responsible_unit",
    4, 0};
static const db_stmt_t s_new_deadline = {
    "wf_new_deadline",
    "WITH old AS (SELECT deadline FROM task WHERE round_id = $1 AND task_id = $2)"
    " UPDATE task SET deadline = $3::date, updated_at = now() WHERE round_id = $1 AND task_id = $2"
    " RETURNING (SELECT deadline::text FROM old)",
    3, 0};
static const db_stmt_t s_responsible_ok = {
    "wf_responsible_ok", "SELECT role = 'unit' AND unit_covers($2, code) FROM unit WHERE code = $1",
    2, 0};

/* Refuses (unknown_unit, naming field) unless unit is a registered unit of
 * role unit under the round's target. */
static int s_check_unit_under(wf_ctx_t *ctx, const char *field, const char *unit,
                              const char *target)
{
    const char *params[] = {unit, target};
    PGresult *res = db_run(ctx->db, &s_responsible_ok, params, NULL, NULL);
    if (!res)
        return RC_ERR_DB;
    bool ok = PQntuples(res) == 1 && strcmp(PQgetvalue(res, 0, 0), "t") == 0;
    PQclear(res);
    if (ok)
        return RC_OK;
    return wf_refuse(ctx, REFUSAL_unknown_unit, "%s: %s is not a unit under %s", field, unit,
                     target);
}

int wf_reassign(wf_ctx_t *ctx, const Rectify__Reassign *ev)
{
    wf_task_t t;
    const transition_t *tr;
    char day[11];
    int rc =
        s_begin(ctx, "reassign", "reassign", ev->round_id, ev->task_id, ev->on_date, &t, &tr, day);
    if (rc != RC_OK)
        return rc;
    if (!*ev->lead_leader && !*ev->responsible_unit)
        return wf_refuse(ctx, REFUSAL_missing_field,
                         "reassign: name a new lead_leader or responsible_unit");
    if (*ev->responsible_unit &&
        (rc = s_check_unit_under(ctx, "reassign.responsible_unit", ev->responsible_unit,
                                 t.target_unit)) != RC_OK)
        return rc;
    const char *params[] = {ev->round_id, ev->task_id, ev->lead_leader, ev->responsible_unit};
    PGresult *res = db_run(ctx->db, &s_reassign, params, NULL, NULL);
    if (!res)
        return RC_ERR_DB;
    json_t *d =
        json_pack("{s:[s,s],s:[s,s]}", "lead_leader", PQgetvalue(res, 0, 0), PQgetvalue(res, 0, 1),
                  "responsible_unit", PQgetvalue(res, 0, 2), PQgetvalue(res, 0, 3));
    PQclear(res);
    if (!d)
        return RC_ERR_NOMEM;
    return s_apply_move(ctx, tr, ev->round_id, ev->task_id, &t, ev->reason, d, day);
}

int wf_change_deadline(wf_ctx_t *ctx, const Rectify__ChangeDeadline *ev)
{
    wf_task_t t;
    const transition_t *tr;
    char day[11];
    int rc = s_begin(ctx, "change_deadline", "change_deadline", ev->round_id, ev->task_id,
                     ev->on_date, &t, &tr, day);
    if (rc != RC_OK)
        return rc;
    const char *params[] = {ev->round_id, ev->task_id, ev->deadline};
    PGresult *res = db_run(ctx->db, &s_new_deadline, params, NULL, NULL);
    if (!res)
        return RC_ERR_DB;
    json_t *d = json_pack("{s:[s,s]}", "deadline", PQgetvalue(res, 0, 0), ev->deadline);
    PQclear(res);
    if (!d)
        return RC_ERR_NOMEM;
    return s_apply_move(ctx, tr, ev->round_id, ev->task_id, &t, ev->reason, d, day);
}

int wf_record_look_back(wf_ctx_t *ctx, const Rectify__RecordLookBack *ev)
{
    const char *action =
        ev->result == RECTIFY__LOOK_BACK_RESULT__RELAPSE ? "look_back_relapse" : "look_back_passed";
    if (ev->result == RECTIFY__LOOK_BACK_RESULT__RELAPSE && !*ev->finding)
        return wf_refuse(ctx, REFUSAL_missing_field,
                         "record_look_back.finding: a relapse needs its finding");
    return s_simple(ctx, "record_look_back", action, ev->round_id, ev->task_id, ev->finding,
                    ev->on_date);
}

int wf_close_by_decision(wf_ctx_t *ctx, const Rectify__CloseByDecision *ev)
{
    wf_task_t t;
    const transition_t *tr;
    char day[11];
    int rc = s_begin(ctx, "close_by_decision", "close_by_decision", ev->round_id, ev->task_id,
                     ev->on_date, &t, &tr, day);
    if (rc != RC_OK)
        return rc;
    if (strcmp(t.track, "long_term") != 0)
        return wf_refuse(ctx, REFUSAL_not_long_term,
                         "close_by_decision: %s %s is %s; only long-term tasks close by decision "
                         "(others are written off)",
                         t.kind, ev->task_id, *t.track ? t.track : "unassigned");
    return s_apply_move(ctx, tr, ev->round_id, ev->task_id, &t, ev->decision, NULL, day);
}

static const db_stmt_t s_revise = {
    "wf_revise",
    "UPDATE task SET lead_leader = $3, responsible_unit = $4, deadline = $5::date,"
    " updated_at = now() WHERE round_id = $1 AND task_id = $2",
    5, 0};

int wf_revise_task(wf_ctx_t *ctx, const char *round_id, const char *task_id, const char *leader,
                   const char *unit, const char *deadline, const char *old_leader,
                   const char *old_unit, const char *old_deadline, const char *reason,
                   const char *on_date)
{
    wf_task_t t;
    const transition_t *tr;
    char day[11];
    int rc = s_begin(ctx, "import_plan", "revise_plan", round_id, task_id, on_date, &t, &tr, day);
    if (rc != RC_OK)
        return rc;
    if (old_unit && (rc = s_check_unit_under(ctx, "import_plan.responsible_unit", unit,
                                             t.target_unit)) != RC_OK)
        return rc;
    const char *params[] = {round_id, task_id, leader, unit, deadline};
    if (db_do(ctx->db, &s_revise, params) != RC_OK)
        return RC_ERR_DB;
    json_t *d = json_object();
    if (!d)
        return RC_ERR_NOMEM;
    if (old_leader)
        json_object_set_new(d, "lead_leader", json_pack("[s,s]", old_leader, leader));
    if (old_unit)
        json_object_set_new(d, "responsible_unit", json_pack("[s,s]", old_unit, unit));
    if (old_deadline)
        json_object_set_new(d, "deadline", json_pack("[s,s]", old_deadline, deadline));
    return s_apply_move(ctx, tr, round_id, task_id, &t, reason, d, day);
}
