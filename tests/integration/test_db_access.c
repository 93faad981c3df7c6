/* Who may reach the database, and what each role may do there: every
 * service role is refused (SQLSTATE 42501) outside the grants of
 * 090_roles.sql, reports cannot write, a service does not start on a schema
 * that is not current, and another OS user cannot connect to the private
 * cluster (scripts/pg-start.sh), neither through the socket folder nor past
 * it. */
#define _GNU_SOURCE /* setresuid, setresgid */
#include "db.h"
#include "errors.h"
#include "migrate.h"
#include "testdb.h"

#include <criterion/criterion.h>
#include <libpq-fe.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/fsuid.h>
#include <sys/wait.h>
#include <unistd.h>

static testdb_t t;

static void setup(void)
{
    testdb_create(&t);
    char err[512];
    db_t *db = db_connect(t.conninfo, err, sizeof err);
    cr_assert(db, "%s", err);
    cr_assert_eq(migrate_run(db, NULL), RC_OK, "migrate: %s", db_error(db));
    db_destroy(&db);
}

static void teardown(void)
{
    testdb_drop(&t);
}

TestSuite(roles, .init = setup, .fini = teardown);
TestSuite(access, .init = setup, .fini = teardown);

/* Runs sql as role on the test database; the SQLSTATE it ends with, "00000"
 * when it succeeds. */
static void s_run_as(const char *role, const char *sql, char state[6])
{
    char conninfo[sizeof t.conninfo + 64];
    snprintf(conninfo, sizeof conninfo, "%s user=%s", t.conninfo, role);
    PGconn *c = PQconnectdb(conninfo);
    cr_assert_eq(PQstatus(c), CONNECTION_OK, "connect as %s: %s", role, PQerrorMessage(c));
    PGresult *r = PQexec(c, sql);
    ExecStatusType st = PQresultStatus(r);
    const char *code = PQresultErrorField(r, PG_DIAG_SQLSTATE);
    snprintf(state, 6, "%s",
             st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK ? "00000"
             : code                                          ? code
                                                             : "?????");
    PQclear(r);
    PQfinish(c);
}

static void s_allowed(const char *role, const char *sql)
{
    char state[6];
    s_run_as(role, sql, state);
    cr_assert_str_eq(state, "00000", "%s was refused %s (SQLSTATE %s)", role, sql, state);
}

static void s_refused_with(const char *role, const char *sql, const char *want)
{
    char state[6];
    s_run_as(role, sql, state);
    cr_assert_str_eq(state, want, "%s: %s gave SQLSTATE %s, not %s", role, sql, state, want);
}

/* 42501: insufficient privilege (a grant or a row policy) */
static void s_refused(const char *role, const char *sql)
{
    s_refused_with(role, sql, "42501");
}

Test(roles, intake_stores_events_and_cannot_touch_the_lifecycle)
{
    s_allowed("rectify_intake",
              "SELECT * FROM intake_accept('{}', '{}', '{}', '{}', '{}', '{}', '{}')");
    s_refused("rectify_intake", "UPDATE task SET status = 'closed'");
    s_refused("rectify_intake", "INSERT INTO wf_event (event_id, seq, event_type, unit, outcome)"
                                " VALUES (gen_random_uuid(), 1, 'x', 'admin', 'applied')");
    s_refused("rectify_intake", "SELECT * FROM recipient");
    s_refused("rectify_intake", "DELETE FROM intake_event");
}

Test(roles, intake_queues_to_workflow_only)
{
    s_allowed("rectify_intake", "SELECT * FROM outbox WHERE dest = 'workflow'");
    s_refused("rectify_intake", "INSERT INTO outbox (dest, seq, event_id, payload)"
                                " VALUES ('notify', 1, gen_random_uuid(), '')");
    /* the queue to notify is not there for intake: "unknown destination" */
    s_refused_with("rectify_intake", "SELECT outbox_put('notify', ARRAY[gen_random_uuid()], '{x}')",
                   "P0001");
}

Test(roles, workflow_moves_tasks_and_cannot_deliver_notices)
{
    s_allowed("rectify_workflow", "UPDATE task SET status = 'closed' WHERE false");
    s_allowed("rectify_workflow", "SELECT * FROM task_status_as_of('r', current_date)");
    s_refused("rectify_workflow", "UPDATE delivery SET status = 'sent'");
    s_refused("rectify_workflow", "SELECT * FROM intake_event");
    s_refused("rectify_workflow", "DELETE FROM task_history");
    s_refused("rectify_workflow", "UPDATE unit SET name = 'x'");
}

Test(roles, notify_delivers_notices_and_cannot_touch_the_lifecycle)
{
    s_allowed("rectify_notify", "UPDATE delivery SET status = 'sent' WHERE false");
    s_refused("rectify_notify",
              "INSERT INTO task_history (round_id, task_id, event_id, actor, action, to_status,"
              " effective_on) VALUES ('r', 't', gen_random_uuid(), 'x', 'x', 'closed', now())");
    s_refused("rectify_notify", "UPDATE task SET status = 'closed'");
    s_refused("rectify_notify", "SELECT * FROM outbox");
    s_refused("rectify_notify", "INSERT INTO recipient (unit, role, channel, address)"
                                " VALUES ('admin', 'lead', 'mail', 'a@b')");
    s_refused("rectify_notify", "SELECT * FROM requeue_dead_events('')");
}

Test(roles, report_reads_every_table_and_writes_none)
{
    PGconn *c = PQconnectdb(t.conninfo);
    cr_assert_eq(PQstatus(c), CONNECTION_OK, "%s", PQerrorMessage(c));
    PGresult *r = PQexec(c, "SELECT tablename FROM pg_tables WHERE schemaname = 'public'");
    cr_assert_eq(PQresultStatus(r), PGRES_TUPLES_OK, "%s", PQerrorMessage(c));
    cr_assert_gt(PQntuples(r), 20);
    for (int i = 0; i < PQntuples(r); i++) {
        const char *table = PQgetvalue(r, i, 0);
        char sql[256];
        snprintf(sql, sizeof sql, "SELECT count(*) FROM \"%s\"", table);
        s_allowed("rectify_report", sql);
        snprintf(sql, sizeof sql, "INSERT INTO \"%s\" DEFAULT VALUES", table);
        s_refused("rectify_report", sql);
        snprintf(sql, sizeof sql, "DELETE FROM \"%s\"", table);
        s_refused("rectify_report", sql);
    }
    PQclear(r);
    PQfinish(c);
    s_refused("rectify_report", "SELECT * FROM intake_accept('{00000000-0000-0000-0000-"
                                "000000000001}', '{a}', '{b}', '{0}', '{x}', '{x}', '{NULL}')");
}

Test(roles, only_the_owner_makes_and_revokes_keys)
{
    const char *roles[] = {"rectify_intake", "rectify_workflow", "rectify_notify",
                           "rectify_report"};
    for (int i = 0; i < 4; i++) {
        if (i < 3) /* their ZAP handlers read the keys */
            s_allowed(roles[i], "SELECT key_id, public_key, kind, unit FROM api_key");
        s_refused(roles[i], "INSERT INTO api_key (public_key, kind, unit, name)"
                            " VALUES (repeat('a', 40), 'system', 'admin', 'x')");
        s_refused(roles[i], "UPDATE api_key SET revoked_at = NULL");
    }
    /* intake reads outcomes, never changes them; workflow reads only which
     * key sent an event */
    s_refused("rectify_intake", "UPDATE wf_event SET outcome = 'applied'");
    s_allowed("rectify_workflow", "SELECT event_id, key_id FROM intake_event");
    s_refused("rectify_workflow", "SELECT payload FROM intake_event");
}

Test(roles, no_service_changes_the_schema)
{
    const char *const roles[] = {"rectify_intake", "rectify_workflow", "rectify_notify",
                                 "rectify_report"};
    for (size_t i = 0; i < sizeof roles / sizeof *roles; i++) {
        s_refused(roles[i], "CREATE TABLE mine (x int)");
        s_refused(roles[i], "ALTER TABLE task ADD COLUMN mine int");
        s_refused(roles[i], "DELETE FROM schema_migration");
    }
}

Test(roles, a_service_refuses_to_start_on_a_schema_not_yet_migrated)
{
    testdb_t bare;
    testdb_create(&bare);
    char cmd[2048];
    snprintf(cmd, sizeof cmd,
             "RECTIFY_DB='%s user=rectify_intake' RECTIFY_ALLOW_PLAIN=true"
             " RECTIFY_INTAKE_BIND=ipc:///tmp/rectify-access-%d.sock"
             " RECTIFY_INTAKE_LOG_PUB= timeout 30 %s/rectify-intake 2>&1",
             bare.conninfo, (int)getpid(), RECTIFY_BIN_DIR);
    char out[8192];
    int status = test_shell(cmd, out, sizeof out);
    testdb_drop(&bare);
    cr_assert(status > 0 && status != 124, "intake started (status %d): %s", status, out);
    cr_assert(strstr(out, "rectifyctl migrate"), "no word of what to do: %s", out);
}

/* Runs rectifyctl with RECTIFY_DB = the test database as role; its exit
 * status, its output in out. */
static int s_ctl_as(const char *role, const char *args, char *out, size_t outlen)
{
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "RECTIFY_DB='%s user=%s' %s/rectifyctl %s 2>&1", t.conninfo, role,
             RECTIFY_BIN_DIR, args);
    return test_shell(cmd, out, outlen);
}

Test(roles, rectifyctl_reads_as_the_report_role_and_writes_as_the_owner)
{
    char out[8192];
    cr_assert_eq(s_ctl_as("rectify", "status", out, sizeof out), 0, "%s", out);
    /* a role that is not allowed to become rectify_report cannot read this way */
    cr_assert_eq(s_ctl_as("rectify_notify", "status", out, sizeof out), 1, "%s", out);
    cr_assert(strstr(out, "cannot read as rectify_report"), "%s", out);
    /* writing commands are the owner's: the report role cannot add a recipient */
    cr_assert_neq(s_ctl_as("rectify_report",
                           "recipient add --unit admin --role lead --channel mail --address a@b.c",
                           out, sizeof out),
                  0, "%s", out);
    cr_assert(strstr(out, "permission denied"), "%s", out);
}

/* Connects as the OS user "nobody" in a child process and reports whether
 * it got in, with libpq's message in err. past_the_folder: the child keeps
 * root's file access (fsuid 0) to reach the socket, yet the server sees the
 * peer nobody (the effective uid): that tests authentication alone. */
static int s_nobody_connects(const char *conninfo, int past_the_folder, char *err, size_t errlen)
{
    struct passwd *pw = getpwnam("nobody");
    cr_assert(pw, "no OS user nobody");
    int fds[2];
    cr_assert_eq(pipe(fds), 0);
    pid_t pid = fork();
    cr_assert(pid >= 0);
    if (pid == 0) {
        close(fds[0]);
        if (setgroups(0, NULL) != 0 || setresgid(pw->pw_gid, pw->pw_gid, pw->pw_gid) != 0)
            _exit(3);
        if (past_the_folder) {
            if (setresuid(0, pw->pw_uid, 0) != 0 || geteuid() != pw->pw_uid)
                _exit(3);
            setfsuid(0);
            if (setfsuid((uid_t)-1) != 0) /* reads back the fsuid */
                _exit(3);
        } else if (setresuid(pw->pw_uid, pw->pw_uid, pw->pw_uid) != 0 || getuid() == 0) {
            _exit(3);
        }
        PGconn *c = PQconnectdb(conninfo);
        int in = PQstatus(c) == CONNECTION_OK;
        const char *msg = PQerrorMessage(c);
        if (write(fds[1], msg, strlen(msg)) < 0)
            _exit(3);
        PQfinish(c);
        _exit(in ? 0 : 1);
    }
    close(fds[1]);
    ssize_t n = read(fds[0], err, errlen - 1);
    err[n > 0 ? n : 0] = '\0';
    close(fds[0]);
    int status;
    waitpid(pid, &status, 0);
    cr_assert(WIFEXITED(status) && WEXITSTATUS(status) <= 1, "the child could not become nobody");
    return WEXITSTATUS(status) == 0;
}

/* nobody is refused as the owner and as every role, where the process that
 * runs the test (root) gets in with the same connection string; the refusal
 * says refused_by. */
static void s_nobody_refused(int past_the_folder, const char *refused_by)
{
    if (geteuid() != 0)
        cr_skip_test("needs root to act as another OS user (CI runs as root)");
    const char *const roles[] = {"rectify", "rectify_intake", "rectify_workflow", "rectify_notify",
                                 "rectify_report"};
    for (size_t i = 0; i < sizeof roles / sizeof *roles; i++) {
        char conninfo[sizeof t.conninfo + 64], err[1024];
        snprintf(conninfo, sizeof conninfo, "%s user=%s", t.conninfo, roles[i]);
        PGconn *c = PQconnectdb(conninfo);
        cr_assert_eq(PQstatus(c), CONNECTION_OK, "root as %s: %s", roles[i], PQerrorMessage(c));
        PQfinish(c);
        cr_assert_not(s_nobody_connects(conninfo, past_the_folder, err, sizeof err),
                      "nobody got in as %s", roles[i]);
        cr_assert(strstr(err, refused_by), "refused, but not for \"%s\": %s", refused_by, err);
    }
}

Test(access, another_os_user_cannot_reach_the_socket)
{
    s_nobody_refused(0, "Permission denied");
}

Test(access, another_os_user_is_refused_even_at_the_socket)
{
    s_nobody_refused(1, "Peer authentication failed");
}

Test(access, the_cluster_trusts_nobody_on_their_word)
{
    /* pg_hba.conf as the server reads it: no rule lets anyone in unchecked */
    long long trusting = testdb_number(
        &t,
        "SELECT count(*) FROM pg_hba_file_rules WHERE auth_method NOT IN ('peer', 'scram-sha-256')"
        " OR error IS NOT NULL");
    cr_assert_eq(trusting, 0, "%lld pg_hba.conf rule(s) other than peer or scram", trusting);
    cr_assert_gt(testdb_number(&t, "SELECT count(*) FROM pg_hba_file_rules"), 0);
}
