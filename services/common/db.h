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

/* Reconnects if the connection was lost, at most once per back-off interval
 * (exponential from 100 ms to 5 s, with jitter): between attempts it
 * returns RC_ERR_DB at once. One log line when the connection is lost, one
 * when it is back. Returns 0 or RC_ERR_DB. */
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

/* The wait before reconnection attempt number attempt (0, 1, ...): 100 ms
 * doubling to 5 s, each with up to a quarter more at random. */
int db_backoff_ms(int attempt);

/* What kind of failure the last one was (from its SQLSTATE):
 * - DB_FAULT_TRANSIENT: the connection or the server (classes 08, 53, 57,
 *   58, serialization failure 40001, deadlock 40P01, lock not available
 *   55P03, or no SQLSTATE at all: the connection is gone). Try again later;
 *   the data is not to blame.
 * - DB_FAULT_DATA: the data (classes 22 data exception, 23 integrity
 *   constraint). Trying the same data again fails the same way: refuse it.
 * - DB_FAULT_OTHER: anything else (a bug in a statement, a raised
 *   exception). Retried a bounded number of times, then quarantined. */
typedef enum { DB_FAULT_NONE = 0, DB_FAULT_TRANSIENT, DB_FAULT_DATA, DB_FAULT_OTHER } db_fault_t;
db_fault_t db_fault_of(const char *sqlstate);
db_fault_t db_fault(const db_t *self);

/* The last failure's SQLSTATE ("" if none or the connection failed) and text. */
const char *db_sqlstate(const db_t *self);
const char *db_error(const db_t *self);

#endif
