/* wf_repeats.c: the repeat-complaint register (重复投诉) as a lifecycle.
 *
 *   watching -(threshold: repeat_min_orders orders or repeat_min_days)-> registered
 *   registered -assign-> assigned -follow_up-> assigned -write_off-> written_off
 *
 * Cases are opened and counted as orders are registered (order_register_counted,
 * called by wf_orders.c, which passes its rows to wf_repeat_notices); the steps below are the
 * events of people. What each writes is repeat_case_step() in migration 093_hotline_figures.sql. */
#include "errors.h"
#include "text.h"
#include "wf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef enum {
    BY_SUPERVISION, /* a supervision office covering the unit concerned */
    BY_RESPONSIBLE  /* a unit covering the case's responsible unit */
} case_who_t;

typedef struct {
    Rectify__CaseAction action;
    const char *name;
    const char *from; /* "|"-separated states */
    case_who_t who;
    bool needs_unit, needs_note;
} case_step_t;

static const case_step_t s_steps[] = {
    {RECTIFY__CASE_ACTION__ASSIGN_CASE, "assign", "registered|assigned", BY_SUPERVISION, true,
     false},
    {RECTIFY__CASE_ACTION__FOLLOW_UP_CASE, "follow_up", "assigned", BY_RESPONSIBLE, false, true},
    {RECTIFY__CASE_ACTION__WRITE_OFF_CASE, "write_off", "assigned", BY_SUPERVISION, false, true},
};

static const db_stmt_t s_load = {
    "wf_repeat_load",
    "SELECT repeat_case_status(c), coalesce(c.unit, '') FROM repeat_case c WHERE case_no = $1"
    " FOR UPDATE",
    1, 0};
static const db_stmt_t s_step = {
    "wf_repeat_step",
    "SELECT repeat_case_step($1, $2, $3, $4, $5, $6::uuid, rectify_now($7::bool))", 7, 0};
static const db_stmt_t s_unit_role = {"wf_repeat_unit_role",
                                      "SELECT role FROM unit WHERE code = $1", 1, 0};

int wf_repeat_notices(wf_ctx_t *ctx, PGresult *res, const char *order_id, const char *hotline)
{
    int rc = RC_OK;
    for (int i = 0; i < PQntuples(res) && rc == RC_OK; i++) {
        char subject[300], body[200];
        bool caller = strcmp(PQgetvalue(res, i, 1), "caller") == 0;
        text_printf(subject, sizeof subject, "repeat case %s registered: %s complaints %s",
                    PQgetvalue(res, i, 0), PQgetvalue(res, i, 2),
                    caller ? "from one caller" : "about one place");
        text_printf(body, sizeof body, "the latest is order %s; supervision assigns the case",
                    order_id);
        rc = wf_notify(ctx, "repeat_case", hotline, subject, body);
    }
    return rc;
}

static int s_handle(wf_ctx_t *ctx, const ProtobufCMessage *msg)
{
    const Rectify__HandleRepeatCase *ev = (const Rectify__HandleRepeatCase *)msg;
    const case_step_t *st = NULL;
    for (size_t i = 0; i < sizeof s_steps / sizeof s_steps[0]; i++)
        if (s_steps[i].action == ev->action)
            st = &s_steps[i];
    if (!st)
        return wf_refuse(ctx, REFUSAL_invalid_field,
                         "handle_repeat_case.action: %d is not known here", (int)ev->action);
    char what[48], case_no[24];
    snprintf(what, sizeof what, "handle_repeat_case (%s)", st->name);
    snprintf(case_no, sizeof case_no, "%lld", (long long)ev->case_no);
    const char *id[] = {case_no};
    PGresult *res = db_run(ctx->db, &s_load, id, NULL, NULL);
    if (!res)
        return RC_ERR_DB;
    bool found = PQntuples(res) == 1;
    char status[16] = "", unit[WF_CODE_MAX] = "";
    if (found) {
        snprintf(status, sizeof status, "%s", PQgetvalue(res, 0, 0));
        snprintf(unit, sizeof unit, "%s", PQgetvalue(res, 0, 1));
    }
    PQclear(res);
    if (!found)
        return wf_refuse(ctx, REFUSAL_unknown_case, "handle_repeat_case.case_no: no case %s",
                         case_no);
    /* rights on the unit concerned: the one assigned, or the one named */
    const char *concerned = st->needs_unit ? ev->unit : unit;
    if (st->needs_unit && !*ev->unit)
        return wf_refuse(ctx, REFUSAL_missing_field, "handle_repeat_case.unit is required to %s",
                         st->name);
    if (!st->needs_unit && *ev->unit)
        return wf_refuse(ctx, REFUSAL_invalid_field,
                         "handle_repeat_case.unit: only assign names a unit (%s does not)",
                         st->name);
    if (st->needs_note && !*ev->note)
        return wf_refuse(ctx, REFUSAL_missing_field, "handle_repeat_case.note is required to %s",
                         st->name);
    int rc = wf_require_role(ctx, st->who == BY_SUPERVISION ? "supervision_office" : "unit", what);
    if (rc != RC_OK)
        return rc;
    if (!wf_state_in(st->from, status))
        return wf_refuse(ctx, REFUSAL_invalid_transition, "%s: case %s is %s; %s needs %s", what,
                         case_no, status, st->name, st->from);
    if (st->needs_unit) {
        const char *u[] = {ev->unit};
        res = db_run(ctx->db, &s_unit_role, u, NULL, NULL);
        if (!res)
            return RC_ERR_DB;
        bool is_unit = PQntuples(res) == 1 && strcmp(PQgetvalue(res, 0, 0), "unit") == 0;
        PQclear(res);
        if (!is_unit)
            return wf_refuse(
                ctx, REFUSAL_unknown_unit,
                "handle_repeat_case.unit: \"%s\" is not a registered unit of role unit", ev->unit);
    }
    if ((rc = wf_require_covers(ctx, concerned, what)) != RC_OK)
        return rc;
    const char *params[] = {case_no,
                            st->name,
                            ev->unit,
                            ev->note,
                            ctx->sender.code,
                            ctx->env->event_id,
                            ctx->clock->sim ? "t" : "f"};
    if ((rc = db_do(ctx->db, &s_step, params)) != RC_OK)
        return rc;
    if (st->action != RECTIFY__CASE_ACTION__ASSIGN_CASE)
        return RC_OK;
    char subject[200];
    text_printf(subject, sizeof subject, "repeat case %s is yours to resolve", case_no);
    return wf_notify(ctx, "repeat_case", ev->unit, subject, ev->note);
}

static const wf_handler_t s_handlers[] = {
    {RECTIFY__ENVELOPE__EVENT_HANDLE_REPEAT_CASE, s_handle},
};

const wf_lifecycle_t wf_repeats = {
    .name = "repeat_case",
    .handlers = s_handlers,
    .n_handlers = sizeof s_handlers / sizeof s_handlers[0],
    .noun = "repeat case",
};
