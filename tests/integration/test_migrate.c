/* Migrations on a real PostgreSQL: in order, once, twice is harmless, two
 * processes at once are serialised, a changed applied migration is refused. */
#include "db.h"
#include "errors.h"
#include "migrate.h"
#include "testdb.h"

#include <criterion/criterion.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

static testdb_t t;

static void setup(void)
{
    testdb_create(&t);
}

static void teardown(void)
{
    testdb_drop(&t);
}

TestSuite(migrate, .init = setup, .fini = teardown);

static db_t *connect_test(void)
{
    char err[512];
    db_t *db = db_connect(t.conninfo, err, sizeof err);
    cr_assert(db, "%s", err);
    return db;
}

Test(migrate, applies_every_migration_once_in_order)
{
    db_t *db = connect_test();
    int applied = -1;
    cr_assert_eq(migrate_run(db, &applied), RC_OK);
    cr_assert_eq(applied, migrations_count);
    cr_assert_gt(migrations_count, 0);
    cr_assert_eq(testdb_number(&t, "SELECT count(*) FROM schema_migration"), migrations_count);
    cr_assert_eq(testdb_number(&t, "SELECT count(*) FROM outbox_counter"), 2);
    db_destroy(&db);
}

Test(migrate, running_twice_applies_nothing_the_second_time)
{
    db_t *db = connect_test();
    int applied = -1;
    cr_assert_eq(migrate_run(db, &applied), RC_OK);
    cr_assert_eq(migrate_run(db, &applied), RC_OK);
    cr_assert_eq(applied, 0);
    cr_assert_eq(testdb_number(&t, "SELECT count(*) FROM schema_migration"), migrations_count);
    db_destroy(&db);
}

Test(migrate, two_processes_at_once_both_succeed_and_apply_once)
{
    pid_t kids[2];
    for (int k = 0; k < 2; k++) {
        kids[k] = fork();
        cr_assert(kids[k] >= 0);
        if (kids[k] == 0) {
            char err[512];
            db_t *db = db_connect(t.conninfo, err, sizeof err);
            int rc = db ? migrate_run(db, NULL) : RC_ERR_DB;
            db_destroy(&db);
            _exit(rc == RC_OK ? 0 : 1);
        }
    }
    for (int k = 0; k < 2; k++) {
        int status;
        waitpid(kids[k], &status, 0);
        cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "process %d failed", k);
    }
    cr_assert_eq(testdb_number(&t, "SELECT count(*) FROM schema_migration"), migrations_count);
}

Test(migrate, a_changed_applied_migration_is_refused)
{
    db_t *db = connect_test();
    cr_assert_eq(migrate_run(db, NULL), RC_OK);
    cr_assert_eq(db_exec_sql(db, "UPDATE schema_migration SET checksum = 'x'"), RC_OK);
    cr_assert_eq(migrate_run(db, NULL), RC_ERR_STATE);
    db_destroy(&db);
}
