/* migrate.c: apply the embedded migrations in order, once each; check that
 * they have been. */
#include "migrate.h"
#include "errors.h"
#include "log.h"

#include <string.h>

/* any constant unique to this purpose: "rectify migrate" */
static const db_stmt_t s_lock = {"migrate_lock", "SELECT pg_advisory_lock(7270010001)", 0, 0};
static const db_stmt_t s_unlock = {"migrate_unlock", "SELECT pg_advisory_unlock(7270010001)", 0, 0};
static const db_stmt_t s_check = {
    "migrate_check", "SELECT m.checksum = md5($2::text) FROM schema_migration m WHERE m.name = $1",
    2, 0};
static const db_stmt_t s_record = {
    "migrate_record", "INSERT INTO schema_migration (name, checksum) VALUES ($1, md5($2::text))", 2,
    0};

static int s_apply_one(db_t *db, const migration_t *m, int *applied)
{
    const char *params[] = {m->name, m->sql};
    PGresult *res = db_run(db, &s_check, params, NULL, NULL);
    if (!res)
        return RC_ERR_DB;
    int rows = PQntuples(res);
    int same = rows == 1 && strcmp(PQgetvalue(res, 0, 0), "t") == 0;
    PQclear(res);
    if (rows == 1) {
        if (same)
            return RC_OK;
        log_event(LOG_ERROR, NULL, NULL, (log_field_t[]){LF_STR("migration", m->name)}, 1,
                  "migration %s was applied with different text; refusing to go on", m->name);
        return RC_ERR_STATE;
    }
    if (db_begin(db) != RC_OK)
        return RC_ERR_DB;
    if (db_exec_sql(db, m->sql) != RC_OK || db_do(db, &s_record, params) != RC_OK ||
        db_commit(db) != RC_OK) {
        db_rollback(db);
        log_event(LOG_ERROR, NULL, NULL, (log_field_t[]){LF_STR("migration", m->name)}, 1,
                  "migration %s failed: %s", m->name, db_error(db));
        return RC_ERR_DB;
    }
    log_event(LOG_INFO, NULL, NULL, (log_field_t[]){LF_STR("migration", m->name)}, 1,
              "applied migration %s", m->name);
    (*applied)++;
    return RC_OK;
}

int migrate_run(db_t *db, int *applied_out)
{
    int applied = 0, rc = RC_OK;
    if (db_do(db, &s_lock, NULL) != RC_OK)
        return RC_ERR_DB;
    rc = db_exec_sql(db, "CREATE TABLE IF NOT EXISTS schema_migration ("
                         " name text PRIMARY KEY,"
                         " checksum text NOT NULL,"
                         " applied_at timestamptz NOT NULL DEFAULT now())");
    for (int i = 0; rc == RC_OK && i < migrations_count; i++)
        rc = s_apply_one(db, &migrations[i], &applied);
    if (db_do(db, &s_unlock, NULL) != RC_OK && rc == RC_OK)
        rc = RC_ERR_DB;
    if (applied_out)
        *applied_out = applied;
    return rc;
}

int migrate_check(db_t *db)
{
    /* the owner's table: a role that cannot read it cannot tell either */
    static const db_stmt_t s_table = {"migrate_table",
                                      "SELECT to_regclass('schema_migration') IS NOT NULL", 0, 0};
    PGresult *res = db_run(db, &s_table, NULL, NULL, NULL);
    if (!res)
        return RC_ERR_DB;
    int known = strcmp(PQgetvalue(res, 0, 0), "t") == 0;
    PQclear(res);
    for (int i = 0; known && i < migrations_count; i++) {
        const migration_t *m = &migrations[i];
        const char *params[] = {m->name, m->sql};
        res = db_run(db, &s_check, params, NULL, NULL);
        if (!res)
            return RC_ERR_DB;
        int same = PQntuples(res) == 1 && strcmp(PQgetvalue(res, 0, 0), "t") == 0;
        int applied = PQntuples(res) == 1;
        PQclear(res);
        if (!same) {
            log_event(LOG_ERROR, NULL, NULL, (log_field_t[]){LF_STR("migration", m->name)}, 1,
                      "the database schema is not current: migration %s %s; the owner runs "
                      "rectifyctl migrate",
                      m->name, applied ? "was applied with different text" : "is missing");
            return RC_ERR_STATE;
        }
    }
    if (!known) {
        log_event(LOG_ERROR, NULL, NULL, NULL, 0,
                  "the database has no schema yet: the owner runs rectifyctl migrate");
        return RC_ERR_STATE;
    }
    return RC_OK;
}
