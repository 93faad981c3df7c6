/* db.h: the PostgreSQL connection every service holds (libpq).
 *
 * SQL only with parameters. Statements are declared once as db_stmt_t and
 * prepared on first use on each connection; after a lost connection db_ensure
 * reconnects and they are prepared again. Every failure is logged with its
 * SQLSTATE and the statement's name. */
#ifndef RECTIFY_DB_H
#define RECTIFY_DB_H

#include <libpq-fe.h>
#include <stdbool.h>

typedef struct db_t db_t;

typedef struct {
    const char *name; /* unique prepared-statement name */
    const char *sql;
    int nparams;
    int binary_result; /* 1: results in binary format (bytea as raw bytes) */
} db_stmt_t;

/* Connects with a libpq connection string (empty: the PG* variables).
 * Returns NULL and writes the reason into err on failure. */
db_t *db_connect(const char *conninfo, char *err, size_t errlen);
void db_destroy(db_t **self_p);
PGconn *db_conn(db_t *self);

/* Reconnects if the connection was lost. Returns 0 or RC_ERR_DB. */
int db_ensure(db_t *self);
/* Counts reconnections: a caller holding session state (advisory locks)
 * compares it to know that state is gone. */
unsigned db_generation(const db_t *self);

/* Runs a prepared statement. values may be NULL for SQL NULL; lengths and
 * formats may be NULL (all text) or give binary parameters. Returns the
 * result (caller PQclears) on PGRES_COMMAND_OK / PGRES_TUPLES_OK, or NULL on
 * failure; then db_sqlstate/db_error tell why. */
PGresult *db_run(db_t *self, const db_stmt_t *stmt, const char *const *values, const int *lengths,
                 const int *formats);
/* Runs a statement that returns nothing worth reading. Returns 0 or RC_ERR_DB. */
int db_do(db_t *self, const db_stmt_t *stmt, const char *const *values);
/* Runs trusted SQL text without parameters (migrations, BEGIN, COMMIT). */
int db_exec_sql(db_t *self, const char *sql);

int db_begin(db_t *self);
int db_commit(db_t *self);
void db_rollback(db_t *self);

/* The last failure's SQLSTATE ("" if none or the connection failed) and text. */
const char *db_sqlstate(const db_t *self);
const char *db_error(const db_t *self);

#endif
