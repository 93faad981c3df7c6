/* cluster.c: start, kill, restart and stop the real services for tests. */
#include "cluster.h"
#include "clock.h"
#include "db.h"
#include "errors.h"
#include "ids.h"
#include "bus.h"
#include "curve.h"
#include "migrate.h"
#include "pbjson.h"
#include "rectify.pb-c.h"

#include <criterion/criterion.h>
#include <jansson.h>
#include <libpq-fe.h>
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

static const char *s_names[SVC_COUNT] = {"intake", "workflow", "notify"};
static const char *const *s_extra_env;

void cluster_dump_log(const cluster_t *c, int which)
{
    char path[256];
    snprintf(path, sizeof path, "%s/%s.log", c->dir, s_names[which]);
    FILE *f = fopen(path, "r");
    if (!f)
        return;
    fprintf(stderr, "---- %s ----\n", path);
    char line[4096];
    int n = 0;
    while (fgets(line, sizeof line, f) && n++ < 400)
        fputs(line, stderr);
    fclose(f);
}

void cluster_child_dies_with_test(pid_t test_pid)
{
    if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || getppid() != test_pid)
        _exit(127); /* the test is already gone */
}

static void s_exec_child(cluster_t *c, int which, pid_t test_pid)
{
    cluster_child_dies_with_test(test_pid);
    char path[256];
    snprintf(path, sizeof path, "%s/%s.log", c->dir, s_names[which]);
    int fd = open(path, O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (fd >= 0) {
        dup2(fd, STDERR_FILENO);
        close(fd);
    }
    /* each service as its own role, as deployed (090_roles.sql) */
    char conninfo[sizeof c->db.conninfo + 64];
    snprintf(conninfo, sizeof conninfo, "%s user=rectify_%s", c->db.conninfo, s_names[which]);
    setenv("RECTIFY_DB", conninfo, 1);
    char keys[sizeof c->dir + 8];
    snprintf(keys, sizeof keys, "%s/keys", c->dir);
    setenv("RECTIFY_KEYS_DIR", keys, 1);
    unsetenv("RECTIFY_ALLOW_PLAIN");
    setenv("RECTIFY_INTAKE_BIND", c->bind[SVC_INTAKE], 1);
    setenv("RECTIFY_WORKFLOW_BIND", c->bind[SVC_WORKFLOW], 1);
    setenv("RECTIFY_NOTIFY_BIND", c->bind[SVC_NOTIFY], 1);
    setenv("RECTIFY_INTAKE_LOG_PUB", c->pub[SVC_INTAKE], 1);
    setenv("RECTIFY_WORKFLOW_LOG_PUB", c->pub[SVC_WORKFLOW], 1);
    setenv("RECTIFY_NOTIFY_LOG_PUB", c->pub[SVC_NOTIFY], 1);
    setenv("RECTIFY_RESEND_TIMEOUT_MS", "500", 0);
    for (const char *const *e = s_extra_env; e && *e; e++)
        putenv((char *)*e);
    char bin[512];
    snprintf(bin, sizeof bin, "%s/rectify-%s", RECTIFY_BIN_DIR, s_names[which]);
    execl(bin, bin, (char *)NULL);
    _exit(127);
}

/* For a tcp:// bind: is something listening on its port on loopback? */
static bool s_tcp_listening(const char *bind)
{
    const char *colon = strrchr(bind, ':');
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(colon + 1))};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    bool up = fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0;
    if (fd >= 0)
        close(fd);
    return up;
}

void cluster_spawn(cluster_t *c, int which)
{
    bool tcp = strncmp(c->bind[which], "tcp://", 6) == 0;
    const char *sock = c->bind[which] + strlen("ipc://");
    if (!tcp)
        unlink(sock);
    pid_t test_pid = getpid();
    pid_t pid = fork();
    cr_assert(pid >= 0, "fork");
    if (pid == 0)
        s_exec_child(c, which, test_pid);
    c->pid[which] = pid;
    /* the socket file appears (the port listens) once the service has
     * migrated and bound */
    int64_t until = clock_mono_ms() + 30000;
    struct stat st;
    while (tcp ? !s_tcp_listening(c->bind[which]) : stat(sock, &st) != 0) {
        int status;
        if (waitpid(pid, &status, WNOHANG) == pid) {
            cluster_dump_log(c, which);
            cr_assert_fail("%s exited during start (status %d)", s_names[which], status);
        }
        cr_assert(clock_mono_ms() < until, "%s did not bind %s in time", s_names[which],
                  c->bind[which]);
        usleep(10000);
    }
}

void cluster_spawn_copy(cluster_t *c, int which)
{
    char bind[200], pub[200];
    pid_t pid = c->pid[which];
    snprintf(bind, sizeof bind, "%s", c->bind[which]);
    snprintf(pub, sizeof pub, "%s", c->pub[which]);
    snprintf(c->bind[which], sizeof c->bind[which], "ipc://%s/%s-copy.sock", c->dir,
             s_names[which]);
    snprintf(c->pub[which], sizeof c->pub[which], "ipc://%s/%s-copy.log.sock", c->dir,
             s_names[which]);
    cluster_spawn(c, which);
    c->extra_pid = c->pid[which];
    c->pid[which] = pid;
    snprintf(c->bind[which], sizeof c->bind[which], "%s", bind);
    snprintf(c->pub[which], sizeof c->pub[which], "%s", pub);
}

void cluster_set_clock(cluster_t *c, const char *iso_time)
{
    PGconn *conn = PQconnectdb(c->db.conninfo);
    cr_assert_eq(PQstatus(conn), CONNECTION_OK);
    const char *params[] = {iso_time};
    PGresult *r = PQexecParams(conn,
                               "WITH fresh AS (DELETE FROM report_schedule"
                               "  WHERE NOT EXISTS (SELECT 1 FROM sim_clock))"
                               " INSERT INTO sim_clock (at) VALUES ($1::timestamptz)"
                               " ON CONFLICT (only_row) DO UPDATE SET at = excluded.at",
                               1, NULL, params, NULL, NULL, 0);
    cr_assert_eq(PQresultStatus(r), PGRES_COMMAND_OK, "%s", PQerrorMessage(conn));
    PQclear(r);
    PQfinish(conn);
    long long left = -cluster_wait_number(
        c,
        "SELECT -(SELECT count(*) FROM timer WHERE fired_at IS NULL AND cancelled_at IS NULL"
        "  AND due_at <= (SELECT at FROM sim_clock))"
        " - (SELECT count(*) FROM subject_clock WHERE fired_at IS NULL AND cancelled_at IS NULL"
        "  AND held_minutes IS NULL AND due_at <= (SELECT at FROM sim_clock))",
        0, 20000);
    cr_assert_eq(left, 0, "%lld clocks due by %s did not fire", left, iso_time);
}

/* A service's key pair into dir (NAME.key_secret, NAME.key); its public key
 * into public_key unless NULL. */
static void s_make_key(const char *dir, const char *name, char *public_key)
{
    char file[300], err[700];
    curve_cert_t cert;
    cr_assert_eq(curve_new(&cert), RC_OK, "libzmq without CURVE");
    curve_path(file, sizeof file, dir, name, true);
    cr_assert_eq(curve_save(&cert, file, true, NULL, err, sizeof err), RC_OK, "%s", err);
    curve_path(file, sizeof file, dir, name, false);
    cr_assert_eq(curve_save(&cert, file, false, NULL, err, sizeof err), RC_OK, "%s", err);
    if (public_key)
        memcpy(public_key, cert.public_key, CURVE_KEY_TEXT);
}

/* DIR/keys: each service's key pair; DIR/clients: the units' certificates. */
static void s_make_service_keys(cluster_t *c)
{
    char path[300];
    snprintf(path, sizeof path, "%s/keys", c->dir);
    cr_assert_eq(mkdir(path, 0700), 0);
    snprintf(path, sizeof path, "%s/clients", c->dir);
    cr_assert_eq(mkdir(path, 0700), 0);
    char dir[200];
    snprintf(dir, sizeof dir, "%s/keys", c->dir);
    for (int i = 0; i < SVC_COUNT; i++)
        s_make_key(dir, s_names[i], i == SVC_INTAKE ? c->creds.server_key : NULL);
    c->creds.on = !c->plain;
}

/* The environment of the tools a test starts: this cluster's keys, and an
 * on-call key for rectify-tail. */
static void s_tool_env(cluster_t *c)
{
    char path[300], err[700];
    snprintf(path, sizeof path, "%s/keys", c->dir);
    setenv("RECTIFY_KEYS_DIR", path, 1);
    setenv("RECTIFY_ALLOW_PLAIN", c->plain ? "true" : "false", 1);
    snprintf(path, sizeof path, "%s/oncall.key_secret", c->dir);
    setenv("RECTIFY_KEY_FILE", path, 1);
    curve_cert_t cert;
    cr_assert_eq(curve_new(&cert), RC_OK);
    char sql[300];
    snprintf(sql, sizeof sql,
             "INSERT INTO api_key (public_key, kind, name) VALUES ('%s', 'oncall', 'test on-call')"
             " RETURNING key_id",
             cert.public_key);
    cr_assert_gt(testdb_number(&c->db, sql), 0);
    cr_assert_eq(curve_save(&cert, path, true, NULL, err, sizeof err), RC_OK, "%s", err);
}

long long cluster_key(cluster_t *c, const char *unit)
{
    char sql[512];
    for (int i = 0; i < c->creds.nkeys; i++)
        if (!strcmp(c->creds.keys[i].unit, unit)) {
            snprintf(sql, sizeof sql, "SELECT key_id FROM api_key WHERE public_key = '%s'",
                     c->creds.keys[i].public_key);
            return testdb_number(&c->db, sql);
        }
    cr_assert_lt(c->creds.nkeys, POSTER_MAX_KEYS, "too many units for the test's keys");
    curve_cert_t *cert = &c->creds.keys[c->creds.nkeys];
    cr_assert_eq(curve_new(cert), RC_OK);
    snprintf(cert->unit, sizeof cert->unit, "%s", unit);
    snprintf(sql, sizeof sql,
             "INSERT INTO api_key (public_key, kind, unit, name) VALUES ('%s', 'system', '%s',"
             " 'test system of %s') RETURNING key_id",
             cert->public_key, unit, unit);
    long long id = testdb_number(&c->db, sql);
    cr_assert_gt(id, 0);
    char path[400], err[700];
    snprintf(path, sizeof path, "%s/clients/%s.key_secret", c->dir, unit);
    const char *meta[] = {"unit", unit, NULL};
    cr_assert_eq(curve_save(cert, path, true, meta, err, sizeof err), RC_OK, "%s", err);
    c->creds.nkeys++;
    return id;
}

/* Makes sure each item's unit has a key. */
static void s_keys_for_items(cluster_t *c, const post_item_t *items, size_t n)
{
    if (c->plain)
        return;
    for (size_t i = 0; i < n; i++) {
        Rectify__Envelope *env = rectify__envelope__unpack(NULL, items[i].len, items[i].frame);
        if (env && env->unit && *env->unit && strlen(env->unit) < 64 && !strchr(env->unit, '\''))
            cluster_key(c, env->unit);
        if (env)
            rectify__envelope__free_unpacked(env, NULL);
    }
}

void *cluster_client(cluster_t *c, const char *unit)
{
    void *sock = zmq_socket(c->ctx, ZMQ_DEALER);
    int linger = 0;
    zmq_setsockopt(sock, ZMQ_LINGER, &linger, sizeof linger);
    if (!c->plain) {
        cluster_key(c, unit);
        for (int i = 0; i < c->creds.nkeys; i++)
            if (!strcmp(c->creds.keys[i].unit, unit))
                cr_assert_eq(bus_curve_client_with(sock, &c->creds.keys[i], c->creds.server_key),
                             RC_OK);
    }
    cr_assert_eq(zmq_connect(sock, c->bind[SVC_INTAKE]), 0);
    return sock;
}

void cluster_start(cluster_t *c, const char *const *extra_env)
{
    memset(c, 0, sizeof *c);
    s_extra_env = extra_env;
    testdb_create(&c->db);
    /* the owner migrates, as rectifyctl migrate does; the services only check */
    char err[512];
    db_t *owner = db_connect(c->db.conninfo, err, sizeof err);
    cr_assert(owner, "connect: %s", err);
    cr_assert_eq(migrate_run(owner, NULL), RC_OK, "migrate: %s", db_error(owner));
    db_destroy(&owner);
    snprintf(c->dir, sizeof c->dir, "/tmp/rectify-test-XXXXXX");
    cr_assert(mkdtemp(c->dir), "mkdtemp");
    for (int i = 0; i < SVC_COUNT; i++) {
        snprintf(c->bind[i], sizeof c->bind[i], "ipc://%s/%s.sock", c->dir, s_names[i]);
        snprintf(c->pub[i], sizeof c->pub[i], "ipc://%s/%s.log.sock", c->dir, s_names[i]);
    }
    for (const char *const *e = extra_env; e && *e; e++)
        c->plain = c->plain || !strcmp(*e, "RECTIFY_ALLOW_PLAIN=true");
    s_make_service_keys(c);
    for (int i = 0; i < SVC_COUNT; i++)
        snprintf(c->tail_ep[i], sizeof c->tail_ep[i], "%s=%s", s_names[i], c->pub[i]);
    s_tool_env(c);
    c->ctx = zmq_ctx_new();
    for (int i = 0; i < SVC_COUNT; i++)
        cluster_spawn(c, i);
    /* the units every test uses, registered through the services */
    size_t n;
    post_item_t *items = cluster_post_json(
        c,
        "{\"unit\":\"admin\",\"register_unit\":{\"code\":\"inspection-office\",\"name\":"
        "\"市委巡视办\","
        "\"role\":\"INSPECTION_OFFICE\"}}\n"
        "{\"unit\":\"admin\",\"register_unit\":{\"code\":\"sh-cgzf\",\"name\":\"市城管执法局\","
        "\"role\":\"UNIT\"}}\n",
        &n);
    cluster_free_items(items, n);
    cluster_wait_applied(c);
    cluster_wait_notified(c); /* the tests start from a quiet cluster */
}

post_item_t *cluster_post_json(cluster_t *c, const char *jsonl, size_t *n)
{
    size_t cap = 16;
    post_item_t *items = calloc(cap, sizeof *items);
    cr_assert(items);
    *n = 0;
    const char *line = jsonl;
    while (*line) {
        const char *end = strchr(line, '\n');
        size_t len = end ? (size_t)(end - line) : strlen(line);
        if (len > 0) {
            json_error_t jerr;
            json_t *obj = json_loadb(line, len, 0, &jerr);
            cr_assert(obj, "test JSON line %zu: %s", *n + 1, jerr.text);
            ProtobufCMessage *msg = NULL;
            char err[256];
            cr_assert_eq(pbjson_parse(&rectify__envelope__descriptor, obj, &msg, err, sizeof err),
                         0, "test JSON line %zu: %s", *n + 1, err);
            json_decref(obj);
            Rectify__Envelope *env = (Rectify__Envelope *)msg;
            if (*n == cap) {
                cap *= 2;
                items = realloc(items, cap * sizeof *items);
                cr_assert(items);
            }
            post_item_t *it = &items[(*n)++];
            memset(it, 0, sizeof *it);
            if (env->event_id && *env->event_id)
                snprintf(it->event_id, sizeof it->event_id, "%s", env->event_id);
            else
                ids_new_uuid(it->event_id);
            char *keep = env->event_id;
            env->event_id = it->event_id;
            it->len = rectify__envelope__get_packed_size(env);
            it->frame = malloc(it->len);
            cr_assert(it->frame);
            rectify__envelope__pack(env, it->frame);
            env->event_id = keep;
            rectify__envelope__free_unpacked(env, NULL);
        }
        line += len + (end ? 1 : 0);
    }
    cr_assert_eq(cluster_post(c, items, *n), 0, "some events were not answered");
    return items;
}

void cluster_free_items(post_item_t *items, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(items[i].frame);
    free(items);
}

void cluster_wait_applied(cluster_t *c)
{
    long long want = testdb_number(&c->db, "SELECT count(*) FROM intake_event");
    long long got = cluster_wait_number(c, "SELECT count(*) FROM wf_event", want, 20000);
    cr_assert_eq(got, want, "workflow applied %lld of %lld events", got, want);
}

void cluster_wait_notified(cluster_t *c)
{
    long long behind =
        -cluster_wait_number(c,
                             "SELECT coalesce((SELECT applied_through FROM inbox_cursor"
                             "   WHERE consumer = 'notify' AND source = 'workflow'), 0)"
                             " - (SELECT next_seq - 1 FROM outbox_counter WHERE dest = 'notify')",
                             0, 20000);
    cr_assert_eq(behind, 0, "notification is %lld notice(s) behind workflow", behind);
}

void cluster_wait_quiet(cluster_t *c)
{
    long long left = -cluster_wait_number(c, "SELECT -count(*) FROM outbox", 0, 20000);
    cr_assert_eq(left, 0, "%lld outbox row(s) never acknowledged", left);
}

void cluster_outcome(cluster_t *c, const char *event_id, char *out, size_t outlen)
{
    char sql[512];
    snprintf(sql, sizeof sql,
             "SELECT CASE outcome WHEN 'applied' THEN 'applied'"
             " ELSE 'refused: ' || code || ': ' || message END FROM wf_event WHERE event_id = '%s'",
             event_id);
    testdb_text(&c->db, sql, out, outlen);
}

int cluster_signal(cluster_t *c, int which, int sig)
{
    int status = -1;
    if (c->pid[which] <= 0)
        return status;
    kill(c->pid[which], sig);
    waitpid(c->pid[which], &status, 0);
    c->pid[which] = 0;
    return status;
}

typedef struct {
    void *ctx;
    pthread_mutex_t lock;
    pthread_cond_t done_cv;
    bool done;
} ctx_term_t;

static void *s_ctx_term_thread(void *arg)
{
    ctx_term_t *t = arg;
    zmq_ctx_term(t->ctx);
    pthread_mutex_lock(&t->lock);
    t->done = true;
    pthread_cond_signal(&t->done_cv);
    pthread_mutex_unlock(&t->lock);
    return NULL;
}

/* zmq_ctx_term waits for every socket to be closed; a test that failed an
 * assertion has left its socket open, and waiting for it would turn the
 * failure into a timeout that hides it. Waits 5 s, then says so and goes
 * on (the test process ends after its fini anyway). */
static void s_ctx_term(void *ctx)
{
    static ctx_term_t t = {.lock = PTHREAD_MUTEX_INITIALIZER, .done_cv = PTHREAD_COND_INITIALIZER};
    t.ctx = ctx;
    t.done = false;
    pthread_t th;
    if (pthread_create(&th, NULL, s_ctx_term_thread, &t) != 0) {
        zmq_ctx_term(ctx);
        return;
    }
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += 5;
    pthread_mutex_lock(&t.lock);
    while (!t.done)
        if (pthread_cond_timedwait(&t.done_cv, &t.lock, &until) != 0)
            break;
    bool done = t.done;
    pthread_mutex_unlock(&t.lock);
    if (done)
        pthread_join(th, NULL);
    else
        cr_expect_fail("a ZeroMQ socket of the test was left open (a failed assertion "
                       "skipped its close); the context was not ended");
}

int cluster_free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof sa;
    cr_assert(fd >= 0 && bind(fd, (struct sockaddr *)&sa, sizeof sa) == 0 &&
              getsockname(fd, (struct sockaddr *)&sa, &len) == 0);
    close(fd);
    return ntohs(sa.sin_port);
}

int cluster_spawn_open311(cluster_t *c, const char *salt)
{
    char dir[200], file[300];
    snprintf(dir, sizeof dir, "%s/keys", c->dir);
    curve_path(file, sizeof file, dir, "open311", true);
    if (access(file, F_OK) != 0)
        s_make_key(dir, "open311", NULL);
    int port = cluster_free_port();
    char bind_at[32];
    snprintf(bind_at, sizeof bind_at, "127.0.0.1:%d", port);
    pid_t test_pid = getpid();
    pid_t pid = fork();
    cr_assert(pid >= 0, "fork");
    if (pid == 0) {
        cluster_child_dies_with_test(test_pid);
        char path[256];
        snprintf(path, sizeof path, "%s/open311.log", c->dir);
        int log = open(path, O_WRONLY | O_CREAT | O_APPEND, 0644);
        if (log >= 0) {
            dup2(log, STDERR_FILENO);
            close(log);
        }
        /* the door only reads: as the reports' role */
        char conninfo[sizeof c->db.conninfo + 64], pub[300];
        snprintf(conninfo, sizeof conninfo, "%s user=rectify_report", c->db.conninfo);
        snprintf(pub, sizeof pub, "ipc://%s/open311.log.sock", c->dir);
        setenv("RECTIFY_DB", conninfo, 1);
        setenv("RECTIFY_KEYS_DIR", dir, 1);
        unsetenv("RECTIFY_ALLOW_PLAIN");
        setenv("RECTIFY_INTAKE_BIND", c->bind[SVC_INTAKE], 1);
        setenv("RECTIFY_OPEN311_BIND", bind_at, 1);
        setenv("RECTIFY_OPEN311_LOG_PUB", pub, 1);
        setenv("RECTIFY_CALLER_SALT", salt, 1);
        for (const char *const *e = s_extra_env; e && *e; e++)
            putenv((char *)*e);
        char bin[512];
        snprintf(bin, sizeof bin, "%s/rectify-open311", RECTIFY_BIN_DIR);
        execl(bin, bin, (char *)NULL);
        _exit(127);
    }
    c->door_pid = pid;
    char tcp[64];
    snprintf(tcp, sizeof tcp, "tcp://%s", bind_at);
    int64_t until = clock_mono_ms() + 30000;
    while (!s_tcp_listening(tcp)) {
        int status;
        if (waitpid(pid, &status, WNOHANG) == pid) {
            c->door_pid = 0;
            return -1;
        }
        cr_assert(clock_mono_ms() < until, "rectify-open311 did not listen on %s in time", bind_at);
        usleep(10000);
    }
    return port;
}

void cluster_stop(cluster_t *c)
{
    if (c->door_pid > 0) {
        kill(c->door_pid, SIGTERM);
        int status;
        waitpid(c->door_pid, &status, 0);
        cr_expect(WIFEXITED(status) && WEXITSTATUS(status) == 0,
                  "rectify-open311 did not stop cleanly (status %d)", status);
        c->door_pid = 0;
    }
    if (c->extra_pid > 0) {
        kill(c->extra_pid, SIGTERM);
        int status;
        waitpid(c->extra_pid, &status, 0);
        cr_expect(WIFEXITED(status) && WEXITSTATUS(status) == 0, "the copy did not stop cleanly");
        c->extra_pid = 0;
    }
    for (int i = SVC_COUNT - 1; i >= 0; i--) {
        if (c->pid[i] <= 0)
            continue;
        int status = cluster_signal(c, i, SIGTERM);
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
            cluster_dump_log(c, i);
        cr_expect(WIFEXITED(status) && WEXITSTATUS(status) == 0,
                  "%s did not stop cleanly on SIGTERM (status %d)", s_names[i], status);
    }
    if (c->ctx)
        s_ctx_term(c->ctx);
    c->ctx = NULL;
    testdb_drop(&c->db);
    char cmd[200];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", c->dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", c->dir);
}

long long cluster_wait_number(cluster_t *c, const char *sql, long long want, int timeout_ms)
{
    int64_t until = clock_mono_ms() + timeout_ms;
    long long v;
    while ((v = testdb_number(&c->db, sql)) < want && clock_mono_ms() < until)
        usleep(20000);
    return v;
}

void cluster_open_round(post_item_t *item, const char *event_id, const char *round_id)
{
    memset(item, 0, sizeof *item);
    if (event_id)
        snprintf(item->event_id, sizeof item->event_id, "%s", event_id);
    else
        ids_new_uuid(item->event_id);
    Rectify__OpenRound ev = RECTIFY__OPEN_ROUND__INIT;
    ev.round_id = (char *)round_id;
    ev.group_name = "市委第六巡视组";
    ev.target_unit = "sh-cgzf";
    ev.onsite_from = "2020-10-16";
    ev.onsite_to = "2020-12-18";
    ev.feedback_date = "2021-01-29";
    ev.kind = RECTIFY__ROUND_KIND__INSPECTION;
    Rectify__Envelope env = RECTIFY__ENVELOPE__INIT;
    env.event_id = item->event_id;
    env.unit = "inspection-office";
    env.sent_at_ms = clock_now_ms();
    env.event_case = RECTIFY__ENVELOPE__EVENT_OPEN_ROUND;
    env.open_round = &ev;
    item->len = rectify__envelope__get_packed_size(&env);
    item->frame = malloc(item->len);
    cr_assert(item->frame);
    rectify__envelope__pack(&env, item->frame);
}

int cluster_post(cluster_t *c, post_item_t *items, size_t n)
{
    s_keys_for_items(c, items, n);
    poster_opts_t opts = {.creds = &c->creds, .timeout_ms = 1000, .retries = 60, .window = 200};
    return poster_run(c->ctx, c->bind[SVC_INTAKE], items, n, &opts);
}

Rectify__Ack *cluster_send_raw(cluster_t *c, const void *frame, size_t len)
{
    void *sock = cluster_client(c, "admin");
    cr_assert(zmq_send(sock, frame, len, 0) >= 0);
    zmq_pollitem_t pi[] = {{sock, 0, ZMQ_POLLIN, 0}};
    Rectify__Ack *ack = NULL;
    if (zmq_poll(pi, 1, 5000) == 1) {
        zmq_msg_t msg;
        zmq_msg_init(&msg);
        if (zmq_msg_recv(&msg, sock, 0) >= 0)
            ack = rectify__ack__unpack(NULL, zmq_msg_size(&msg), zmq_msg_data(&msg));
        zmq_msg_close(&msg);
    }
    zmq_close(sock);
    return ack;
}

/* Before rectifyctl posts: a key for every registered unit and for every
 * unit of the JSON lines files its arguments name. */
static void s_keys_for_ctl(cluster_t *c, const char *args)
{
    if (c->plain)
        return;
    PGconn *conn = PQconnectdb(c->db.conninfo);
    PGresult *r = PQexec(conn, "SELECT code FROM unit");
    for (int i = 0; PQresultStatus(r) == PGRES_TUPLES_OK && i < PQntuples(r); i++)
        cluster_key(c, PQgetvalue(r, i, 0));
    PQclear(r);
    PQfinish(conn);
    char copy[4096];
    snprintf(copy, sizeof copy, "%s", args);
    for (char *save = NULL, *w = strtok_r(copy, " ", &save); w; w = strtok_r(NULL, " ", &save)) {
        size_t len = strlen(w);
        if (len < 6 || strcmp(w + len - 6, ".jsonl") != 0)
            continue;
        FILE *f = fopen(w, "r");
        char line[65536];
        while (f && fgets(line, sizeof line, f)) {
            json_t *obj = json_loads(line, 0, NULL);
            const char *unit = json_string_value(json_object_get(obj, "unit"));
            if (unit && *unit && strlen(unit) < 64 && !strchr(unit, '\''))
                cluster_key(c, unit);
            json_decref(obj);
        }
        if (f)
            fclose(f);
    }
}

int cluster_ctl(cluster_t *c, char *out, size_t outlen, const char *args)
{
    s_keys_for_ctl(c, args);
    char cmd[4096];
    snprintf(cmd, sizeof cmd,
             "RECTIFY_DB='%s' RECTIFY_INTAKE_BIND='%s' RECTIFY_ALLOW_PLAIN=%s"
             " RECTIFY_KEYS_DIR='%s/keys' RECTIFY_KEY_FILE='%s/clients' %s/rectifyctl %s 2>&1",
             c->db.conninfo, c->bind[SVC_INTAKE], c->plain ? "true" : "false", c->dir, c->dir,
             RECTIFY_BIN_DIR, args);
    FILE *p = popen(cmd, "r");
    cr_assert(p);
    size_t n = fread(out, 1, outlen - 1, p);
    out[n] = '\0';
    int status = pclose(p);
    cr_assert(WIFEXITED(status));
    return WEXITSTATUS(status);
}

void cluster_post_one(cluster_t *c, const char *json, char *outcome, size_t outlen)
{
    size_t n;
    post_item_t *items = cluster_post_json(c, json, &n);
    cr_assert_eq(items[0].status, POST_ACCEPTED, "intake: %s %s", items[0].code, items[0].message);
    cluster_wait_applied(c);
    cluster_outcome(c, items[0].event_id, outcome, outlen);
    cluster_free_items(items, n);
}

void cluster_write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    cr_assert(f, "%s", path);
    fputs(text, f);
    cr_assert_eq(fclose(f), 0);
}
