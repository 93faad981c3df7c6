/* wf_plan.c: a unit's plan: items under problems, measures under items,
 * their assignment, and the whole plan imported at once, first or as a
 * revision (plan_diff.h holds the rules of both). */
#include "errors.h"
#include "plan_diff.h"
#include "text.h"
#include "wf.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const db_stmt_t s_problem_exists = {
    "wf_problem_exists", "SELECT 1 FROM feedback_problem WHERE round_id = $1 AND problem_id = $2",
    2, 0};
static const db_stmt_t s_insert_task = {
    "wf_insert_task",
    "INSERT INTO task (round_id, task_id, kind, problem_id, item_id, title, created_by)"
    " VALUES ($1, $2, $3, $4, nullif($5, ''), $6, $7::uuid) ON CONFLICT DO NOTHING RETURNING 1",
    7, 0};
static const db_stmt_t s_item_problem = {
    "wf_item_problem",
    "SELECT problem_id FROM task WHERE round_id = $1 AND task_id = $2 AND kind = 'item'", 2, 0};
static const db_stmt_t s_update_assignment = {
    "wf_assign_task",
    "UPDATE task SET lead_leader = $3, responsible_unit = $4, deadline = $5::date, track = $6,"
    " status = 'assigned', updated_at = now() WHERE round_id = $1 AND task_id = $2",
    6, 0};
static const db_stmt_t s_unit_role = {"wf_unit_role", "SELECT role FROM unit WHERE code = $1", 1,
                                      0};

const char *wf_track_name(Rectify__Track track)
{
    const char *code = plan_track_code(track);
    return *code ? code : NULL;
}

/* The round's target unit, after checking that the sender may build its plan. */
static int s_plan_rights(wf_ctx_t *ctx, const char *round_id, const char *what, char *target,
                         size_t targetlen)
{
    return wf_round_rights(ctx, what, "unit", round_id, target, targetlen);
}

/* Creates an item (item_id empty) or a measure and its first history row. */
static int s_create_task(wf_ctx_t *ctx, const char *what, const char *round_id, const char *task_id,
                         const char *problem_id, const char *item_id, const char *title,
                         const char *day)
{
    bool measure = item_id && *item_id;
    char problem[WF_CODE_MAX];
    if (measure) {
        const char *params[] = {round_id, item_id};
        PGresult *res = db_run(ctx->db, &s_item_problem, params, NULL, NULL);
        if (!res)
            return RC_ERR_DB;
        int found = PQntuples(res) == 1;
        snprintf(problem, sizeof problem, "%s", found ? PQgetvalue(res, 0, 0) : "");
        PQclear(res);
        if (!found)
            return wf_refuse(ctx, REFUSAL_unknown_item,
                             "%s.item_id: no item \"%s\" in round \"%s\"", what, item_id, round_id);
    } else {
        const char *params[] = {round_id, problem_id};
        PGresult *res = db_run(ctx->db, &s_problem_exists, params, NULL, NULL);
        if (!res)
            return RC_ERR_DB;
        int found = PQntuples(res) == 1;
        PQclear(res);
        if (!found)
            return wf_refuse(ctx, REFUSAL_unknown_problem,
                             "%s.problem_id: no problem \"%s\" in round \"%s\"", what, problem_id,
                             round_id);
        snprintf(problem, sizeof problem, "%s", problem_id);
    }
    const char *params[] = {
        round_id, task_id,           measure ? "measure" : "item", problem, measure ? item_id : "",
        title,    ctx->env->event_id};
    PGresult *res = db_run(ctx->db, &s_insert_task, params, NULL, NULL);
    if (!res)
        return RC_ERR_DB;
    int inserted = PQntuples(res) == 1;
    PQclear(res);
    if (!inserted)
        return wf_refuse(ctx, REFUSAL_task_exists, "%s.%s: \"%s\" already exists in round \"%s\"",
                         what, measure ? "measure_id" : "item_id", task_id, round_id);
    return wf_history(ctx, round_id, task_id, what, NULL, "registered", NULL, NULL, day);
}

int wf_post_item(wf_ctx_t *ctx, const Rectify__PostItem *ev)
{
    char target[WF_CODE_MAX], day[11];
    int rc = s_plan_rights(ctx, ev->round_id, "post_item", target, sizeof target);
    if (rc != RC_OK)
        return rc;
    wf_day(ev->on_date, day);
    return s_create_task(ctx, "post_item", ev->round_id, ev->item_id, ev->problem_id, NULL,
                         ev->title, day);
}

int wf_add_measure(wf_ctx_t *ctx, const Rectify__AddMeasure *ev)
{
    char target[WF_CODE_MAX], day[11];
    int rc = s_plan_rights(ctx, ev->round_id, "add_measure", target, sizeof target);
    if (rc != RC_OK)
        return rc;
    wf_day(ev->on_date, day);
    return s_create_task(ctx, "add_measure", ev->round_id, ev->measure_id, NULL, ev->item_id,
                         ev->title, day);
}

/* Checks that unit is registered with role unit and lies under target. */
static int s_check_responsible(wf_ctx_t *ctx, const char *what, const char *unit,
                               const char *target)
{
    const char *params[] = {unit};
    PGresult *res = db_run(ctx->db, &s_unit_role, params, NULL, NULL);
    if (!res)
        return RC_ERR_DB;
    int ok = PQntuples(res) == 1 && strcmp(PQgetvalue(res, 0, 0), "unit") == 0;
    PQclear(res);
    if (!ok)
        return wf_refuse(ctx, REFUSAL_unknown_unit,
                         "%s.responsible_unit: \"%s\" is not a registered unit of role unit", what,
                         unit);
    bool under = false;
    if (wf_covers(ctx, target, unit, &under) != RC_OK)
        return RC_ERR_DB;
    if (!under)
        return wf_refuse(ctx, REFUSAL_denied,
                         "%s.responsible_unit: %s is not %s or one of its sub-units", what, unit,
                         target);
    return RC_OK;
}

/* Assigns a registered task. */
static int s_assign_task(wf_ctx_t *ctx, const char *what, const char *round_id, const char *task_id,
                         const char *leader, const char *unit, const char *deadline,
                         const char *track, const char *target, const char *day)
{
    wf_task_t t;
    int rc = wf_load_task(ctx, round_id, task_id, &t);
    if (rc != RC_OK)
        return rc;
    if (!t.found)
        return wf_refuse(ctx, REFUSAL_unknown_task,
                         "%s.task_id: no item or measure \"%s\" in round \"%s\"", what, task_id,
                         round_id);
    if (strcmp(t.status, "registered") != 0)
        return wf_refuse(
            ctx, REFUSAL_invalid_transition,
            "%s: %s %s is %s; assign needs registered (use reassign or change_deadline)", what,
            t.kind, task_id, t.status);
    if ((rc = s_check_responsible(ctx, what, unit, target)) != RC_OK)
        return rc;
    const char *params[] = {round_id, task_id, leader, unit, deadline, track};
    if (db_do(ctx->db, &s_update_assignment, params) != RC_OK)
        return RC_ERR_DB;
    json_t *d = json_pack("{s:s,s:s,s:s,s:s}", "lead_leader", leader, "responsible_unit", unit,
                          "deadline", deadline, "track", track);
    char *detail = d ? json_dumps(d, JSON_COMPACT) : NULL;
    json_decref(d);
    if (!detail)
        return RC_ERR_NOMEM;
    rc = wf_history(ctx, round_id, task_id, "assign", "registered", "assigned", NULL, detail, day);
    free(detail);
    if (rc != RC_OK)
        return rc;
    return wf_clock_reschedule(ctx, round_id, task_id, track, day, false);
}

int wf_assign(wf_ctx_t *ctx, const Rectify__Assign *ev)
{
    char target[WF_CODE_MAX], day[11];
    int rc = s_plan_rights(ctx, ev->round_id, "assign", target, sizeof target);
    if (rc != RC_OK)
        return rc;
    const char *track = wf_track_name(ev->track);
    if (!track)
        return wf_refuse(ctx, REFUSAL_invalid_field, "assign.track: unknown track");
    wf_day(ev->on_date, day);
    rc = s_assign_task(ctx, "assign", ev->round_id, ev->task_id, ev->lead_leader,
                       ev->responsible_unit, ev->deadline, track, target, day);
    if (rc == RC_OK) {
        char subject[512];
        snprintf(subject, sizeof subject, "round %s: %s assigned to %s, deadline %s", ev->round_id,
                 ev->task_id, ev->responsible_unit, ev->deadline);
        rc = wf_notify(ctx, "task_assigned", ev->responsible_unit, subject, ev->lead_leader);
    }
    return rc;
}

/* Applies one addition or assignment of the plan's difference. */
static int s_apply_add(wf_ctx_t *ctx, const Rectify__ImportPlan *ev, const plan_change_t *c,
                       const char *target, const char *day)
{
    const char *track = wf_track_name(c->track);
    if (!track)
        return wf_refuse(ctx, REFUSAL_invalid_field, "track: unknown track");
    int rc = RC_OK;
    if (c->kind == PLAN_ADD && !c->item) /* items were created before their measures */
        rc = s_create_task(ctx, "import_plan", ev->round_id, c->id, NULL, c->parent, c->title, day);
    if (rc == RC_OK)
        rc = s_assign_task(ctx, "import_plan", ev->round_id, c->id, c->leader, c->unit, c->deadline,
                           track, target, day);
    return rc;
}

/* Applies the plan's difference (plan_diff.h says what it holds) in order:
 * new items, then the measures' changes, then the items' assignments and
 * changes (an item's deadline follows its measures'). */
static int s_apply_diff(wf_ctx_t *ctx, const Rectify__ImportPlan *ev, const plan_diff_t *d,
                        const char *target, const char *day, int *line)
{
    for (size_t i = 0; i < d->n; i++) {
        const plan_change_t *c = &d->changes[i];
        *line = c->line;
        if (c->kind == PLAN_CONFLICT)
            return wf_refuse(ctx, REFUSAL_plan_conflict, "import_plan.%s", c->message);
    }
    if (d->changed > 0 && !*ev->reason) {
        *line = 0;
        return wf_refuse(ctx, REFUSAL_missing_field,
                         "import_plan.reason: the plan changes %zu recorded task(s); a revision "
                         "needs its reason",
                         d->changed);
    }
    for (size_t i = 0; i < d->n; i++) {
        const plan_change_t *c = &d->changes[i];
        *line = c->line;
        if (c->item && c->kind == PLAN_ADD) {
            int rc = s_create_task(ctx, "import_plan", ev->round_id, c->id, c->parent, NULL,
                                   c->title, day);
            if (rc != RC_OK)
                return rc;
        }
    }
    for (int items = 0; items < 2; items++)
        for (size_t i = 0; i < d->n; i++) {
            const plan_change_t *c = &d->changes[i];
            if (c->item != (items == 1))
                continue;
            *line = c->line;
            int rc =
                c->kind == PLAN_CHANGE
                    ? wf_revise_task(ctx, ev->round_id, c->id, c->leader, c->unit, c->deadline,
                                     c->old_leader, c->old_unit, c->old_deadline, ev->reason, day)
                    : s_apply_add(ctx, ev, c, target, day);
            if (rc != RC_OK)
                return rc;
        }
    return RC_OK;
}

int wf_import_plan(wf_ctx_t *ctx, const Rectify__ImportPlan *ev)
{
    char target[WF_CODE_MAX], day[11];
    int rc = s_plan_rights(ctx, ev->round_id, "import_plan", target, sizeof target);
    if (rc != RC_OK)
        return rc;
    if (ev->n_rows == 0)
        return wf_refuse(ctx, REFUSAL_missing_field, "import_plan.rows: the plan is empty");
    wf_day(ev->on_date, day);
    plan_recorded_t recorded;
    if ((rc = plan_recorded_load(ctx->db, ev->round_id, &recorded)) != RC_OK)
        return rc;
    plan_diff_t d;
    if ((rc = plan_diff(ev, &recorded, &d)) != RC_OK)
        goto out_free_recorded;
    int line = 0;
    if ((rc = wf_savepoint(ctx)) != RC_OK)
        goto out_free_diff;
    rc = s_apply_diff(ctx, ev, &d, target, day, &line);
    if (rc == RC_OK) {
        rc = wf_release_savepoint(ctx);
    } else if (rc != RC_ERR_DB && rc != RC_ERR_NOMEM) {
        /* a refusal: nothing of the plan stays; say which line */
        if (line > 0) {
            char message[sizeof ctx->message + 24];
            snprintf(message, sizeof message, "line %d: %s", line, ctx->message);
            text_cut(ctx->message, sizeof ctx->message, message);
        }
        if (wf_rollback_to_savepoint(ctx) != RC_OK)
            rc = RC_ERR_DB;
    }
    if (rc == RC_OK) {
        char subject[256];
        snprintf(subject, sizeof subject,
                 "round %s: plan imported, %zu added, %zu assigned, %zu changed, %zu kept",
                 ev->round_id, d.adds, d.assigns, d.changed, d.kept);
        rc = wf_notify(ctx, "plan_imported", target, subject, ev->reason);
    }
out_free_diff:
    plan_diff_free(&d);
out_free_recorded:
    plan_recorded_free(&recorded);
    return rc;
}
