/* wf_units.c: registering units and their place in the hierarchy. */
#include "errors.h"
#include "wf.h"

#include <stdio.h>
#include <string.h>

static const db_stmt_t s_insert_unit = {
    "wf_insert_unit",
    "WITH p AS (SELECT path FROM unit WHERE code = nullif($3, ''))"
    " INSERT INTO unit (code, name, parent, role, path, registered_by)"
    " SELECT $1, $2, nullif($3, ''), $4, coalesce((SELECT path FROM p), '/') || $1 || '/', $5::uuid"
    " WHERE $3 = '' OR EXISTS (SELECT 1 FROM p)"
    " ON CONFLICT DO NOTHING RETURNING 1",
    5, 0};
static const db_stmt_t s_unit_exists = {"wf_unit_exists", "SELECT 1 FROM unit WHERE code = $1", 1,
                                        0};

static const char *s_role_name(Rectify__Role role)
{
    switch (role) {
    case RECTIFY__ROLE__INSPECTION_OFFICE:
        return "inspection_office";
    case RECTIFY__ROLE__SUPERVISION_OFFICE:
        return "supervision_office";
    case RECTIFY__ROLE__UNIT:
        return "unit";
    case RECTIFY__ROLE__HOTLINE:
        return "hotline";
    case RECTIFY__ROLE__ADMIN:
        return "admin";
    default:
        return NULL;
    }
}

int wf_register_unit(wf_ctx_t *ctx, const Rectify__RegisterUnit *ev)
{
    int rc = wf_require_role(ctx, "admin", "register_unit");
    if (rc != RC_OK)
        return rc;
    const char *role = s_role_name(ev->role);
    if (!role) /* intake checks enum values; a newer schema could still get here */
        return wf_refuse(ctx, REFUSAL_invalid_field, "register_unit.role: unknown role");
    const char *params[] = {ev->code, ev->name, ev->parent, role, ctx->env->event_id};
    PGresult *res = db_run(ctx->db, &s_insert_unit, params, NULL, NULL);
    if (!res)
        return RC_ERR_DB;
    int inserted = PQntuples(res) == 1;
    PQclear(res);
    if (inserted) {
        char subject[256];
        snprintf(subject, sizeof subject, "unit %s (%s) registered as %s", ev->code, ev->name,
                 role);
        return wf_notify(ctx, "unit_registered", ev->code, subject, ev->parent);
    }
    const char *probe[] = {ev->code};
    res = db_run(ctx->db, &s_unit_exists, probe, NULL, NULL);
    if (!res)
        return RC_ERR_DB;
    int exists = PQntuples(res) == 1;
    PQclear(res);
    if (exists)
        return wf_refuse(ctx, REFUSAL_unit_exists,
                         "register_unit.code: unit \"%s\" is already registered", ev->code);
    return wf_refuse(ctx, REFUSAL_unknown_unit,
                     "register_unit.parent: no unit \"%s\" is registered", ev->parent);
}
