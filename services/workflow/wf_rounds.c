/* wf_rounds.c: opening inspection rounds and posting feedback problems. */
#include "errors.h"
#include "wf.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

static const db_stmt_t s_insert_round = {
    "wf_insert_round",
    "WITH target AS (SELECT 1 FROM unit WHERE code = $3 AND role = 'unit'),"
    " ins AS (INSERT INTO inspection_round (round_id, group_name, target_unit, onsite_from,"
    "         onsite_to, feedback_date, kind, opened_by)"
    "         SELECT $1, $2, $3, nullif($4, '')::date, nullif($5, '')::date, $6::date, $7,"
    "                $8::uuid FROM target"
    "         ON CONFLICT (round_id) DO NOTHING RETURNING 1)"
    /* one round trip: whether the target is a unit, whether the round is new */
    " SELECT EXISTS (SELECT 1 FROM target), EXISTS (SELECT 1 FROM ins)",
    8, 0};

static const db_stmt_t s_insert_problem = {
    "wf_insert_problem",
    "WITH r AS (SELECT target_unit FROM inspection_round WHERE round_id = $1),"
    " ins AS (INSERT INTO feedback_problem (round_id, problem_id, aspect, title, posted_by)"
    "         SELECT $1, $2, $3, $4, $5::uuid FROM r"
    "         ON CONFLICT (round_id, problem_id) DO NOTHING RETURNING 1)"
    " SELECT (SELECT target_unit FROM r), (SELECT count(*) FROM ins)",
    5, 0};

int wf_open_round(wf_ctx_t *ctx, const Rectify__OpenRound *ev)
{
    int rc = wf_require_role(ctx, "inspection_office", "open_round");
    if (rc != RC_OK)
        return rc;
    const char *kind = ev->kind == RECTIFY__ROUND_KIND__LOOK_BACK ? "look_back" : "inspection";
    const char *params[] = {
        ev->round_id,      ev->group_name, ev->target_unit,   ev->onsite_from, ev->onsite_to,
        ev->feedback_date, kind,           ctx->env->event_id};
    PGresult *res = db_run(ctx->db, &s_insert_round, params, NULL, NULL);
    if (!res)
        return RC_ERR_DB;
    bool target_ok = strcmp(PQgetvalue(res, 0, 0), "t") == 0;
    bool inserted = strcmp(PQgetvalue(res, 0, 1), "t") == 0;
    PQclear(res);
    if (!target_ok)
        return wf_refuse(ctx, REFUSAL_unknown_unit,
                         "open_round.target_unit: \"%s\" is not a registered unit of role unit",
                         ev->target_unit);
    if (!inserted)
        return wf_refuse(ctx, REFUSAL_round_exists,
                         "open_round.round_id: round \"%s\" is already open", ev->round_id);
    char subject[512], body[1024];
    snprintf(subject, sizeof subject, "%s opened round %s for %s", ev->group_name, ev->round_id,
             ev->target_unit);
    snprintf(body, sizeof body, "on site %s to %s; feedback %s",
             *ev->onsite_from ? ev->onsite_from : "?", *ev->onsite_to ? ev->onsite_to : "?",
             ev->feedback_date);
    return wf_notify(ctx, "round_opened", ev->target_unit, subject, body);
}

int wf_post_problem(wf_ctx_t *ctx, const Rectify__PostProblem *ev)
{
    int rc = wf_require_role(ctx, "inspection_office", "post_problem");
    if (rc != RC_OK)
        return rc;
    const char *params[] = {ev->round_id, ev->problem_id, ev->aspect, ev->title,
                            ctx->env->event_id};
    PGresult *res = db_run(ctx->db, &s_insert_problem, params, NULL, NULL);
    if (!res)
        return RC_ERR_DB;
    char target[128];
    int no_round = PQgetisnull(res, 0, 0);
    snprintf(target, sizeof target, "%s", no_round ? "" : PQgetvalue(res, 0, 0));
    int inserted = strcmp(PQgetvalue(res, 0, 1), "1") == 0;
    PQclear(res);
    if (no_round)
        return wf_refuse(ctx, REFUSAL_unknown_round,
                         "post_problem.round_id: no round \"%s\" is open", ev->round_id);
    if (!inserted)
        return wf_refuse(
            ctx, REFUSAL_problem_exists,
            "post_problem.problem_id: problem \"%s\" of round \"%s\" is already posted",
            ev->problem_id, ev->round_id);
    char subject[1200];
    snprintf(subject, sizeof subject, "round %s: problem %s posted: %s", ev->round_id,
             ev->problem_id, ev->title);
    return wf_notify(ctx, "problem_posted", target, subject, ev->aspect);
}
