/* migrate.h: numbered SQL migrations from deploy/migrations, embedded in the
 * binaries at build time and applied in order, each once, recorded in the
 * table schema_migration with a checksum. Safe to run twice and from two
 * processes at once (a session advisory lock serialises them). */
#ifndef RECTIFY_MIGRATE_H
#define RECTIFY_MIGRATE_H

#include "db.h"

typedef struct {
    const char *name; /* file name, e.g. "001_foundation.sql" */
    const char *sql;
} migration_t;

extern const migration_t migrations[];
extern const int migrations_count;

/* Applies what is missing. *applied (may be NULL) gets how many were new.
 * Returns 0, RC_ERR_DB, or RC_ERR_STATE when an applied migration's text has
 * changed since (its checksum differs): then nothing is applied. */
int migrate_run(db_t *db, int *applied);

/* Whether every embedded migration has been applied with its text: what a
 * service checks at start, connected as its own role (which may not change
 * the schema). Returns 0, RC_ERR_STATE (logged: what is missing or changed)
 * or RC_ERR_DB. */
int migrate_check(db_t *db);

#endif
