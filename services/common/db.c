/* db.c: libpq connection, prepared statements, reconnection, error logging. */
#include "db.h"
#include "errors.h"
#include "log.h"
#include "clock.h"

#include <stdint.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_PREPARED 128

struct db_t {
    PGconn *conn;
    unsigned generation;
    int failed_attempts;                /* reconnections failed in a row */
    int64_t next_attempt_ms;            /* no reconnection before this (monotonic) */
    const char *prepared[MAX_PREPARED]; /* statement names prepared on conn */
    int nprepared;
    char sqlstate[6];
    char error[512];
};

static void s_note_error(db_t *self, const char *what, const PGresult *res)
{
    const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    const char *text = res ? PQresultErrorMessage(res) : PQerrorMessage(self->conn);
    snprintf(self->sqlstate, sizeof self->sqlstate, "%s", state ? state : "");
    snprintf(self->error, sizeof self->error, "%s", text ? text : "");
    size_t n = strlen(self->error);
    while (n > 0 && (self->error[n - 1] == '\n' || self->error[n - 1] == ' '))
        self->error[--n] = '\0';
    log_field_t f[] = {LF_STR("statement", what), LF_STR("sqlstate", self->sqlstate)};
    log_event(LOG_ERROR, NULL, NULL, f, 2, "database: %s", self->error);
}

int db_backoff_ms(int attempt)
{
    int base = 100;
    for (int i = 0; i < attempt && base < 5000; i++)
        base *= 2;
    if (base > 5000)
        base = 5000;
    return base + rand() % (base / 4 + 1);
}

/* libpq's notices and warnings become log lines like every other. */
static void s_notice(void *arg, const PGresult *res)
{
    (void)arg;
    const char *severity = PQresultErrorField(res, PG_DIAG_SEVERITY_NONLOCALIZED);
    const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
    const char *text = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
    log_field_t f[] = {LF_STR("sqlstate", state), LF_STR("severity", severity)};
    bool warning = severity && strcmp(severity, "WARNING") == 0;
    log_event(warning ? LOG_WARN : LOG_INFO, NULL, NULL, f, 2, "database: %s", text ? text : "");
}

static void s_session_setup(db_t *self)
{
    PQsetNoticeReceiver(self->conn, s_notice, NULL);
    /* quiet NOTICEs such as "relation already exists, skipping" */
    PQclear(PQexec(self->conn, "SET client_min_messages = warning"));
}

db_t *db_connect(const char *conninfo, char *err, size_t errlen)
{
    db_t *self = calloc(1, sizeof *self);
    if (!self) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    self->conn = PQconnectdb(conninfo ? conninfo : "");
    if (PQstatus(self->conn) != CONNECTION_OK) {
        snprintf(err, errlen, "cannot connect to PostgreSQL: %s", PQerrorMessage(self->conn));
        size_t n = strlen(err);
        while (n > 0 && err[n - 1] == '\n')
            err[--n] = '\0';
        db_destroy(&self);
        return NULL;
    }
    s_session_setup(self);
    return self;
}

void db_destroy(db_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    PQfinish((*self_p)->conn);
    free(*self_p);
    *self_p = NULL;
}

PGconn *db_conn(db_t *self)
{
    return self->conn;
}

unsigned db_generation(const db_t *self)
{
    return self->generation;
}

int db_ensure(db_t *self)
{
    if (PQstatus(self->conn) == CONNECTION_OK)
        return RC_OK;
    int64_t now = clock_mono_ms();
    if (self->failed_attempts > 0 && now < self->next_attempt_ms) {
        snprintf(self->sqlstate, sizeof self->sqlstate, "08006");
        return RC_ERR_DB; /* waiting out the back-off */
    }
    if (self->failed_attempts == 0)
        log_event(LOG_ERROR, NULL, NULL, NULL, 0,
                  "database: connection lost; reconnecting with back-off");
    PQreset(self->conn);
    self->nprepared = 0;
    self->generation++;
    if (PQstatus(self->conn) != CONNECTION_OK) {
        self->next_attempt_ms = now + db_backoff_ms(self->failed_attempts++);
        snprintf(self->sqlstate, sizeof self->sqlstate, "08006");
        snprintf(self->error, sizeof self->error, "no connection to the database");
        return RC_ERR_DB;
    }
    s_session_setup(self);
    log_event(LOG_INFO, NULL, NULL, (log_field_t[]){LF_INT("attempts", self->failed_attempts + 1)},
              1, "database: reconnected");
    self->failed_attempts = 0;
    return RC_OK;
}

static int s_prepare(db_t *self, const db_stmt_t *stmt)
{
    for (int i = 0; i < self->nprepared; i++)
        if (self->prepared[i] == stmt->name)
            return RC_OK;
    PGresult *res = PQprepare(self->conn, stmt->name, stmt->sql, stmt->nparams, NULL);
    int ok = PQresultStatus(res) == PGRES_COMMAND_OK;
    if (!ok)
        s_note_error(self, stmt->name, res);
    PQclear(res);
    if (!ok)
        return RC_ERR_DB;
    if (self->nprepared < MAX_PREPARED)
        self->prepared[self->nprepared++] = stmt->name;
    return RC_OK;
}

PGresult *db_run(db_t *self, const db_stmt_t *stmt, const char *const *values, const int *lengths,
                 const int *formats)
{
    if (s_prepare(self, stmt) != RC_OK)
        return NULL;
    PGresult *res = PQexecPrepared(self->conn, stmt->name, stmt->nparams, values, lengths, formats,
                                   stmt->binary_result);
    ExecStatusType st = PQresultStatus(res);
    if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) {
        self->sqlstate[0] = '\0';
        self->error[0] = '\0';
        return res;
    }
    s_note_error(self, stmt->name, res);
    PQclear(res);
    return NULL;
}

int db_do(db_t *self, const db_stmt_t *stmt, const char *const *values)
{
    PGresult *res = db_run(self, stmt, values, NULL, NULL);
    if (!res)
        return RC_ERR_DB;
    PQclear(res);
    return RC_OK;
}

int db_exec_sql(db_t *self, const char *sql)
{
    PGresult *res = PQexec(self->conn, sql);
    ExecStatusType st = PQresultStatus(res);
    int ok = st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK;
    if (!ok)
        s_note_error(self, "sql", res);
    PQclear(res);
    return ok ? RC_OK : RC_ERR_DB;
}

int db_begin(db_t *self)
{
    return db_exec_sql(self, "BEGIN");
}

int db_commit(db_t *self)
{
    return db_exec_sql(self, "COMMIT");
}

void db_rollback(db_t *self)
{
    if (PQtransactionStatus(self->conn) != PQTRANS_IDLE)
        PQclear(PQexec(self->conn, "ROLLBACK"));
}

db_fault_t db_fault_of(const char *sqlstate)
{
    if (!sqlstate || !*sqlstate)
        return DB_FAULT_TRANSIENT; /* no answer from the server at all */
    static const char *const transient[] = {"08", "53", "57", "58", "40001", "40P01", "55P03"};
    for (size_t i = 0; i < sizeof transient / sizeof transient[0]; i++)
        if (strncmp(sqlstate, transient[i], strlen(transient[i])) == 0)
            return DB_FAULT_TRANSIENT;
    if (strncmp(sqlstate, "22", 2) == 0 || strncmp(sqlstate, "23", 2) == 0)
        return DB_FAULT_DATA;
    return DB_FAULT_OTHER;
}

db_fault_t db_fault(const db_t *self)
{
    if (!self->error[0] && !self->sqlstate[0])
        return DB_FAULT_NONE;
    return db_fault_of(self->sqlstate);
}

const char *db_sqlstate(const db_t *self)
{
    return self->sqlstate;
}

const char *db_error(const db_t *self)
{
    return self->error;
}
