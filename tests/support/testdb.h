/* testdb.h: a fresh PostgreSQL database per test, on the server RECTIFY_DB
 * points at (scripts/test.sh starts the private cluster and sets it). */
#ifndef RECTIFY_TESTDB_H
#define RECTIFY_TESTDB_H

#include <stddef.h>

typedef struct {
    char name[64];
    char conninfo[1024]; /* RECTIFY_DB with dbname replaced */
} testdb_t;

/* Creates an empty database; asserts (cr_assert) on failure. */
void testdb_create(testdb_t *t);
/* Drops it (terminating leftover sessions). */
void testdb_drop(testdb_t *t);
/* Runs a query returning one number (first column of the first row). */
long long testdb_number(const testdb_t *t, const char *sql);
/* Runs a query returning one text value into out; "" for NULL or no row. */
void testdb_text(const testdb_t *t, const char *sql, char *out, size_t outlen);
/* Runs a statement returning no rows (INSERT, UPDATE, ...); asserts it ran. */
void testdb_exec(const testdb_t *t, const char *sql);

/* Runs a shell command; its output (stdout and what it redirects) into out,
 * NUL-terminated, cut at outlen - 1. Returns its exit status, -1 if it did
 * not exit. */
int test_shell(const char *cmd, char *out, size_t outlen);

#endif
