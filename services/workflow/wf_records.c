/* wf_records.c: institutions built or revised, accountability actions
 * (cases filed counted as cases, sanctions and talks as persons) and funds
 * recovered: the figures a bulletin reports next to the rectification. */
#include "errors.h"
#include "money.h"
#include "wf.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

static const db_stmt_t s_insert_institution = {
    "wf_insert_institution",
    "INSERT INTO institution (round_id, institution_id, kind, title, effective_on, event_id, actor)"
    " VALUES ($1, $2, $3, $4, $5::date, $6::uuid, $7) ON CONFLICT DO NOTHING RETURNING 1",
    7, 0};
static const db_stmt_t s_insert_accountability = {
    "wf_insert_accountability",
    "INSERT INTO accountability (round_id, action_id, kind, persons, amount_fen, effective_on,"
    " event_id, actor, cases) VALUES ($1, $2, $3, $4::int, $5::bigint, $6::date, $7::uuid, $8,"
    " $9::int) ON CONFLICT DO NOTHING RETURNING 1",
    9, 0};
static const db_stmt_t s_insert_funds = {
    "wf_insert_funds",
    "INSERT INTO funds_recovered (round_id, record_id, amount_fen, note, effective_on, event_id,"
    " actor) VALUES ($1, $2, $3::bigint, $4, $5::date, $6::uuid, $7)"
    " ON CONFLICT DO NOTHING RETURNING 1",
    7, 0};

int wf_record_institution(wf_ctx_t *ctx, const Rectify__RecordInstitution *ev)
{
    static const char *kinds[] = {NULL, "new", "revised", "planned"};
    char target[WF_CODE_MAX], day[11];
    int rc =
        wf_round_rights(ctx, "record_institution", "unit", ev->round_id, target, sizeof target);
    if (rc != RC_OK)
        return rc;
    if (ev->kind < 1 || ev->kind > 3)
        return wf_refuse(ctx, REFUSAL_invalid_field, "record_institution.kind: unknown kind");
    wf_day(ev->on_date, day);
    const char *params[] = {ev->round_id, ev->institution_id, kinds[ev->kind], ev->title,
                            day,          ctx->env->event_id, ctx->sender.code};
    PGresult *res = db_run(ctx->db, &s_insert_institution, params, NULL, NULL);
    if (!res)
        return RC_ERR_DB;
    int inserted = PQntuples(res) == 1;
    PQclear(res);
    if (!inserted)
        return wf_refuse(ctx, REFUSAL_institution_exists,
                         "record_institution.institution_id: \"%s\" is already recorded",
                         ev->institution_id);
    char subject[1200];
    snprintf(subject, sizeof subject, "round %s: institution %s (%s): %s", ev->round_id,
             ev->institution_id, kinds[ev->kind], ev->title);
    return wf_notify(ctx, "institution_recorded", target, subject, "");
}

int wf_record_accountability(wf_ctx_t *ctx, const Rectify__RecordAccountability *ev)
{
    static const char *kinds[] = {NULL,
                                  "case_filed",
                                  "disciplinary_sanction",
                                  "admonishment_talk",
                                  "reminder_talk",
                                  "criticism",
                                  "written_self_criticism",
                                  "reassignment"};
    char target[WF_CODE_MAX], day[11];
    int rc = wf_round_rights(ctx, "record_accountability", "supervision_office", ev->round_id,
                             target, sizeof target);
    if (rc != RC_OK)
        return rc;
    if (ev->kind < 1 || ev->kind > 7)
        return wf_refuse(ctx, REFUSAL_invalid_field, "record_accountability.kind: unknown kind");
    if (ev->persons < 0)
        return wf_refuse(ctx, REFUSAL_invalid_field,
                         "record_accountability.persons: %d is negative", ev->persons);
    bool case_filed = ev->kind == RECTIFY__ACCOUNTABILITY_KIND__CASE_FILED;
    if (case_filed && ev->cases < 1)
        return wf_refuse(ctx, REFUSAL_missing_field,
                         "record_accountability.cases: a case_filed record counts its cases "
                         "(at least 1); got %d",
                         ev->cases);
    if (!case_filed && ev->cases != 0)
        return wf_refuse(ctx, REFUSAL_invalid_field,
                         "record_accountability.cases: only case_filed counts cases; %s counts "
                         "persons",
                         kinds[ev->kind]);
    int64_t fen;
    if (money_parse_fen(ev->amount_yuan, &fen) != RC_OK)
        return wf_refuse(ctx, REFUSAL_invalid_field,
                         "record_accountability.amount_yuan: \"%.40s\" is not an amount in yuan",
                         ev->amount_yuan);
    wf_day(ev->on_date, day);
    char persons[16], amount[24], cases[16];
    snprintf(persons, sizeof persons, "%d", ev->persons);
    snprintf(amount, sizeof amount, "%" PRId64, fen);
    snprintf(cases, sizeof cases, "%d", ev->cases);
    const char *params[] = {ev->round_id, ev->action_id,      kinds[ev->kind],  persons, amount,
                            day,          ctx->env->event_id, ctx->sender.code, cases};
    PGresult *res = db_run(ctx->db, &s_insert_accountability, params, NULL, NULL);
    if (!res)
        return RC_ERR_DB;
    int inserted = PQntuples(res) == 1;
    PQclear(res);
    if (!inserted)
        return wf_refuse(ctx, REFUSAL_action_exists,
                         "record_accountability.action_id: \"%s\" is already recorded",
                         ev->action_id);
    char subject[256];
    if (case_filed)
        snprintf(subject, sizeof subject, "round %s: accountability %s: %s, %d case(s)",
                 ev->round_id, ev->action_id, kinds[ev->kind], ev->cases);
    else
        snprintf(subject, sizeof subject, "round %s: accountability %s: %s, %d person(s)",
                 ev->round_id, ev->action_id, kinds[ev->kind], ev->persons);
    return wf_notify(ctx, "accountability_recorded", target, subject, "");
}

int wf_record_funds_recovered(wf_ctx_t *ctx, const Rectify__RecordFundsRecovered *ev)
{
    char target[WF_CODE_MAX], day[11];
    int rc = wf_round_rights(ctx, "record_funds_recovered", "supervision_office", ev->round_id,
                             target, sizeof target);
    if (rc != RC_OK)
        return rc;
    int64_t fen;
    if (money_parse_fen(ev->amount_yuan, &fen) != RC_OK || fen <= 0)
        return wf_refuse(ctx, REFUSAL_invalid_field,
                         "record_funds_recovered.amount_yuan: \"%.40s\" is not an amount in yuan "
                         "above zero (digits, at most two decimals, e.g. \"59700.00\")",
                         ev->amount_yuan);
    wf_day(ev->on_date, day);
    char amount[24];
    snprintf(amount, sizeof amount, "%" PRId64, fen);
    const char *params[] = {ev->round_id, ev->record_id,      amount,          ev->note,
                            day,          ctx->env->event_id, ctx->sender.code};
    PGresult *res = db_run(ctx->db, &s_insert_funds, params, NULL, NULL);
    if (!res)
        return RC_ERR_DB;
    int inserted = PQntuples(res) == 1;
    PQclear(res);
    if (!inserted)
        return wf_refuse(ctx, REFUSAL_record_exists,
                         "record_funds_recovered.record_id: \"%s\" is already recorded",
                         ev->record_id);
    char subject[256], yuan[32];
    money_format_yuan(fen, yuan, sizeof yuan);
    snprintf(subject, sizeof subject, "round %s: funds recovered %s: %s yuan", ev->round_id,
             ev->record_id, yuan);
    return wf_notify(ctx, "funds_recovered", target, subject, ev->note);
}
