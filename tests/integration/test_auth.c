/* Who is speaking (issue 8): CURVE keys bound to units, checked by the real
 * services over real sockets. Every connection is authenticated by intake's
 * ZAP handler; the envelope's unit must be the key's; a revoked key is
 * refused on an open connection too; one key's flood does not slow another
 * key down; the audit trail names the key; the log streams need an on-call
 * key. */
#include "bus.h"
#include "clock.h"
#include "cluster.h"
#include "curve.h"
#include "errors.h"
#include "ids.h"
#include "rectify.pb-c.h"
#include "tail.h"
#include "zap.h"

#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zmq.h>

static cluster_t c;

static void start(void)
{
    cluster_start(&c, NULL);
}

static void stop(void)
{
    cluster_stop(&c);
}

TestSuite(auth, .init = start, .fini = stop, .timeout = 120);

/* Sends frame on sock and waits up to wait_ms for an Ack (NULL if none).
 * A DEALER whose handshake was refused may have no peer to queue to, and a
 * blocking send would then wait for ever (CI saw it): the frame not taken
 * within wait_ms counts as no answer. */
static Rectify__Ack *send_and_wait(void *sock, const post_item_t *item, int wait_ms)
{
    int64_t until = clock_mono_ms() + wait_ms;
    while (zmq_send(sock, item->frame, item->len, ZMQ_DONTWAIT) < 0) {
        cr_assert_eq(zmq_errno(), EAGAIN, "send: %s", zmq_strerror(zmq_errno()));
        if (clock_mono_ms() >= until)
            return NULL;
        usleep(10000);
    }
    zmq_pollitem_t pi[] = {{sock, 0, ZMQ_POLLIN, 0}};
    int64_t left = until - clock_mono_ms();
    if (zmq_poll(pi, 1, left > 0 ? (long)left : 0) != 1)
        return NULL;
    zmq_msg_t msg;
    zmq_msg_init(&msg);
    Rectify__Ack *ack = NULL;
    if (zmq_msg_recv(&msg, sock, 0) >= 0)
        ack = rectify__ack__unpack(NULL, zmq_msg_size(&msg), zmq_msg_data(&msg));
    zmq_msg_close(&msg);
    return ack;
}

/* A register_unit event (admin's) packed into item, with unit as sender. */
static void register_item(post_item_t *item, const char *unit, const char *code)
{
    memset(item, 0, sizeof *item);
    ids_new_uuid(item->event_id);
    Rectify__RegisterUnit ru = RECTIFY__REGISTER_UNIT__INIT;
    ru.code = (char *)code;
    ru.name = (char *)code;
    ru.role = RECTIFY__ROLE__UNIT;
    Rectify__Envelope env = RECTIFY__ENVELOPE__INIT;
    env.event_id = item->event_id;
    env.unit = (char *)unit;
    env.sent_at_ms = clock_now_ms();
    env.event_case = RECTIFY__ENVELOPE__EVENT_REGISTER_UNIT;
    env.register_unit = &ru;
    item->len = rectify__envelope__get_packed_size(&env);
    item->frame = malloc(item->len);
    cr_assert(item->frame);
    rectify__envelope__pack(&env, item->frame);
}

static long long stored(void)
{
    return testdb_number(&c.db, "SELECT count(*) FROM intake_event");
}

/* A key intake does not know posts (as admin, code names the unit):
 * no handshake, no answer, nothing stored. */
static void s_stranger_gets_nothing(const char *code)
{
    curve_cert_t stranger;
    cr_assert_eq(curve_new(&stranger), RC_OK);
    void *sock = zmq_socket(c.ctx, ZMQ_DEALER);
    int linger = 0;
    zmq_setsockopt(sock, ZMQ_LINGER, &linger, sizeof linger);
    cr_assert_eq(bus_curve_client_with(sock, &stranger, c.creds.server_key), RC_OK);
    cr_assert_eq(zmq_connect(sock, c.bind[SVC_INTAKE]), 0);
    long long before = stored();
    post_item_t item;
    register_item(&item, "admin", code);
    Rectify__Ack *ack = send_and_wait(sock, &item, 1500);
    zmq_close(sock);
    free(item.frame);
    cr_assert_null(ack, "an unknown key was answered at %s: %s", c.bind[SVC_INTAKE],
                   ack ? ack->code : "");
    cr_assert_eq(stored(), before);
}

Test(auth, an_unknown_key_gets_no_handshake_and_nothing_is_stored)
{
    s_stranger_gets_nothing("by-a-stranger");
}

Test(auth, a_key_made_a_moment_ago_posts_at_once)
{
    /* intake's key cache had just been read when the key was made: the
     * handshake admitted it from the table, so must the message check (CI
     * saw unknown_key here) */
    for (int i = 0; i < 10; i++) {
        char unit[32];
        snprintf(unit, sizeof unit, "fresh-%d", i);
        post_item_t item;
        register_item(&item, unit, unit);
        cr_assert_eq(cluster_post(&c, &item, 1), 0);
        cr_assert_eq(item.status, POST_ACCEPTED, "%s: %s", item.code, item.message);
        free(item.frame);
    }
}

Test(auth, a_system_posts_over_tcp_to_an_intake_bound_on_every_interface)
{
    /* as deployed (docker-compose): intake on 0.0.0.0, which only CURVE may
     * do (test_services: plain binds loopback only); the system connects
     * over TCP (loopback here: the tests use no other network) */
    int port = cluster_free_port();
    cr_assert_eq(cluster_signal(&c, SVC_INTAKE, SIGTERM), 0);
    snprintf(c.bind[SVC_INTAKE], sizeof c.bind[SVC_INTAKE], "tcp://0.0.0.0:%d", port);
    cluster_spawn(&c, SVC_INTAKE);
    snprintf(c.bind[SVC_INTAKE], sizeof c.bind[SVC_INTAKE], "tcp://127.0.0.1:%d", port);

    post_item_t item;
    register_item(&item, "admin", "over-tcp");
    cr_assert_eq(cluster_post(&c, &item, 1), 0);
    cr_assert_eq(item.status, POST_ACCEPTED, "%s: %s", item.code, item.message);
    char sql[300];
    snprintf(sql, sizeof sql,
             "SELECT count(*) FROM wf_event w JOIN api_key k USING (key_id)"
             " WHERE w.event_id = '%s' AND w.outcome = 'applied' AND k.unit = 'admin'",
             item.event_id);
    cr_assert_eq(cluster_wait_number(&c, sql, 1, 20000), 1,
                 "applied, and the audit names admin's key");
    free(item.frame);

    /* a stranger's key over TCP: no handshake, nothing stored */
    s_stranger_gets_nothing("over-tcp-by-a-stranger");
}

Test(auth, a_plain_client_to_a_curve_intake_gets_nothing)
{
    void *sock = zmq_socket(c.ctx, ZMQ_DEALER);
    int linger = 0;
    zmq_setsockopt(sock, ZMQ_LINGER, &linger, sizeof linger);
    cr_assert_eq(zmq_connect(sock, c.bind[SVC_INTAKE]), 0);
    long long before = stored();
    post_item_t item;
    register_item(&item, "admin", "by-plain");
    cr_assert_null(send_and_wait(sock, &item, 1500), "a plain client was answered");
    cr_assert_eq(stored(), before);
    free(item.frame);
    zmq_close(sock);
}

Test(auth, a_key_of_one_unit_posting_as_another_is_refused_unit_mismatch)
{
    long long key = cluster_key(&c, "sh-cgzf");
    void *sock = cluster_client(&c, "sh-cgzf");
    long long before = stored();
    post_item_t item;
    register_item(&item, "admin", "by-sh-cgzf"); /* sh-cgzf's key, "admin" declared */
    Rectify__Ack *ack = send_and_wait(sock, &item, 5000);
    cr_assert_not_null(ack);
    cr_assert_eq(ack->status, RECTIFY__ACK_STATUS__REJECTED);
    cr_assert_str_eq(ack->code, "unit_mismatch");
    char want[128];
    snprintf(want, sizeof want, "unit: this connection's key (%lld) posts as unit \"sh-cgzf\"",
             key);
    cr_assert(strstr(ack->message, want), "%s", ack->message);
    cr_assert_str_eq(ack->event_id, item.event_id);
    rectify__ack__free_unpacked(ack, NULL);
    cr_assert_eq(stored(), before, "a refused event was stored");
    free(item.frame);
    zmq_close(sock);
}

Test(auth, a_revoked_key_is_refused_within_a_second_on_an_open_connection)
{
    long long key = cluster_key(&c, "admin");
    void *sock = cluster_client(&c, "admin");
    post_item_t item;
    register_item(&item, "admin", "before-revocation");
    Rectify__Ack *ack = send_and_wait(sock, &item, 5000);
    cr_assert(ack && ack->status == RECTIFY__ACK_STATUS__ACCEPTED, "%s",
              ack ? ack->message : "no answer");
    rectify__ack__free_unpacked(ack, NULL);
    free(item.frame);

    char args[64], out[1024];
    snprintf(args, sizeof args, "key revoke %lld", key);
    cr_assert_eq(cluster_ctl(&c, out, sizeof out, args), 0, "%s", out);
    int64_t revoked = clock_mono_ms();
    int64_t refused_after = -1;
    for (int i = 0; i < 100 && refused_after < 0; i++) {
        char code[32];
        snprintf(code, sizeof code, "after-%d", i);
        register_item(&item, "admin", code);
        ack = send_and_wait(sock, &item, 5000);
        cr_assert_not_null(ack, "no answer on the open connection");
        if (ack->status == RECTIFY__ACK_STATUS__REJECTED) {
            cr_assert_str_eq(ack->code, "key_revoked", "%s", ack->message);
            refused_after = clock_mono_ms() - revoked;
        } else {
            cr_assert_eq(ack->status, RECTIFY__ACK_STATUS__ACCEPTED);
            usleep(20000);
        }
        rectify__ack__free_unpacked(ack, NULL);
        free(item.frame);
    }
    cr_log_info("a revoked key was refused %lld ms after the revocation", (long long)refused_after);
    cr_assert(refused_after >= 0 && refused_after <= 1000, "refused %lld ms after the revocation",
              (long long)refused_after);
    zmq_close(sock);

    /* and a new connection with it gets no handshake at all */
    sock = cluster_client(&c, "admin");
    register_item(&item, "admin", "new-connection");
    cr_assert_null(send_and_wait(sock, &item, 1500), "a revoked key was admitted again");
    free(item.frame);
    zmq_close(sock);
}

Test(auth, no_curve_server_socket_is_set_up_without_a_zap_handler)
{
    /* libzmq admits every CURVE client when no handler answers on
     * inproc://zeromq.zap.01: the services refuse to set such a socket up */
    char dir[256], err[700];
    snprintf(dir, sizeof dir, "%s/keys", c.dir);
    cr_assert_eq(bus_curve_setup(dir, "intake", err, sizeof err), RC_OK, "%s", err);
    cr_assert_not(zap_running());
    void *ctx = zmq_ctx_new();
    void *sock = zmq_socket(ctx, ZMQ_ROUTER);
    cr_assert_eq(bus_curve_server(sock, ZAP_DOMAIN_SYSTEMS), RC_ERR_STATE);
    zmq_close(sock);

    /* and what such a socket would let in carries no User-Id, which intake
     * refuses per message (unauthenticated) */
    sock = zmq_socket(ctx, ZMQ_ROUTER);
    curve_cert_t server, client;
    cr_assert_eq(curve_new(&server), RC_OK);
    cr_assert_eq(curve_new(&client), RC_OK);
    int one = 1, linger = 0;
    zmq_setsockopt(sock, ZMQ_CURVE_SERVER, &one, sizeof one);
    zmq_setsockopt(sock, ZMQ_CURVE_SECRETKEY, server.secret_key, 40);
    zmq_setsockopt(sock, ZMQ_LINGER, &linger, sizeof linger);
    char ep[300];
    snprintf(ep, sizeof ep, "ipc://%s/nozap.sock", c.dir);
    cr_assert_eq(zmq_bind(sock, ep), 0);
    void *cli = zmq_socket(ctx, ZMQ_DEALER);
    zmq_setsockopt(cli, ZMQ_LINGER, &linger, sizeof linger);
    cr_assert_eq(bus_curve_client_with(cli, &client, server.public_key), RC_OK);
    cr_assert_eq(zmq_connect(cli, ep), 0);
    zmq_send(cli, "x", 1, 0);
    /* libzmq 4.3 lets it in (the reason for the refusal above) ... */
    zmq_pollitem_t pi[] = {{sock, 0, ZMQ_POLLIN, 0}};
    cr_assert_eq(zmq_poll(pi, 1, 5000), 1, "libzmq no longer admits clients without ZAP");
    zmq_msg_t id, body;
    zmq_msg_init(&id);
    zmq_msg_init(&body);
    cr_assert_geq(zmq_msg_recv(&id, sock, 0), 0);
    cr_assert_geq(zmq_msg_recv(&body, sock, 0), 0);
    /* ... with no User-Id on its messages */
    cr_assert_null(bus_user_id(&body), "a connection no handler admitted has a User-Id");
    zmq_msg_close(&id);
    zmq_msg_close(&body);
    zmq_close(cli);
    zmq_close(sock);
    zmq_ctx_term(ctx);
}

Test(auth, the_audit_trail_names_the_key_of_each_event)
{
    size_t n;
    post_item_t *items = cluster_post_json(
        &c,
        "{\"unit\":\"inspection-office\",\"open_round\":{\"round_id\":\"r-audit\","
        "\"group_name\":\"第六巡视组\",\"target_unit\":\"sh-cgzf\",\"feedback_date\":\"2021-01-"
        "29\","
        "\"kind\":\"INSPECTION\"}}\n"
        "{\"unit\":\"inspection-office\",\"post_problem\":{\"round_id\":\"r-audit\","
        "\"problem_id\":\"1\",\"aspect\":\"方面一\",\"title\":\"问题一\"}}\n"
        "{\"unit\":\"sh-cgzf\",\"post_item\":{\"round_id\":\"r-audit\",\"problem_id\":\"1\","
        "\"item_id\":\"I\",\"title\":\"事项\"}}\n",
        &n);
    for (size_t i = 0; i < n; i++)
        cr_assert_eq(items[i].status, POST_ACCEPTED, "%s", items[i].message);
    cluster_wait_applied(&c);
    long long office = cluster_key(&c, "inspection-office"), unit = cluster_key(&c, "sh-cgzf");
    char sql[512];
    snprintf(sql, sizeof sql,
             "SELECT count(*) FROM wf_event w JOIN intake_event i USING (event_id)"
             " WHERE w.outcome = 'applied' AND w.key_id = i.key_id AND w.key_id = %lld",
             office);
    cr_assert_eq(testdb_number(&c.db, sql), 2);
    snprintf(sql, sizeof sql,
             "SELECT count(*) FROM task_history WHERE task_id = 'I' AND key_id = %lld", unit);
    cr_assert_eq(testdb_number(&c.db, sql), 1);
    cr_assert_eq(testdb_number(&c.db, "SELECT count(*) FROM wf_event WHERE key_id IS NULL"), 0,
                 "an event without its key");
    cluster_free_items(items, n);
}

/* rectifyctl post of the events file with the certificate key_file alone,
 * as a district's machine would (no database); out gets its output and
 * "exit=N". Ended after 60 s (exit=124) should it hang. */
static void s_post_from_file(const char *key_file, const char *events, char *out, size_t outlen)
{
    char cmd[2048];
    snprintf(cmd, sizeof cmd,
             "RECTIFY_DB='host=/nonexistent' RECTIFY_INTAKE_BIND='%s' RECTIFY_KEY_FILE='%s'"
             " timeout 60 %s/rectifyctl post %s; echo \"exit=$?\"",
             c.bind[SVC_INTAKE], key_file, RECTIFY_BIN_DIR, events);
    test_shell(cmd, out, outlen);
}

Test(auth, rectifyctl_makes_lists_and_revokes_keys_and_a_new_key_posts_from_its_file)
{
    char out[8192], args[1024], path[300];
    snprintf(path, sizeof path, "%s/yp.key_secret", c.dir);
    snprintf(args, sizeof args, "key new --unit nonesuch --name x --out %s", path);
    cr_assert_eq(cluster_ctl(&c, out, sizeof out, args), 1, "%s", out);
    cr_assert(strstr(out, "--unit: \"nonesuch\" is not a registered unit"), "%s", out);
    cr_assert_neq(access(path, F_OK), 0, "a refused key left a file");
    cr_assert_eq(cluster_ctl(&c, out, sizeof out, "key new --name x"), 2, "%s", out);

    snprintf(args, sizeof args, "key new --unit sh-cgzf --name '杨浦区 OA' --out %s", path);
    cr_assert_eq(cluster_ctl(&c, out, sizeof out, args), 0, "%s", out);
    struct stat st;
    cr_assert_eq(stat(path, &st), 0);
    cr_assert_eq(st.st_mode & 0777, 0600, "mode %o", st.st_mode & 0777);
    curve_cert_t cert;
    char err[700];
    cr_assert_eq(curve_load(path, &cert, err, sizeof err), RC_OK, "%s", err);
    cr_assert_str_eq(cert.unit, "sh-cgzf");
    char sql[256];
    snprintf(sql, sizeof sql,
             "SELECT key_id FROM api_key WHERE public_key = '%s' AND unit = 'sh-cgzf'"
             " AND name = '杨浦区 OA'",
             cert.public_key);
    long long id = testdb_number(&c.db, sql);
    cr_assert_gt(id, 0);
    /* the same file is never overwritten */
    cr_assert_eq(cluster_ctl(&c, out, sizeof out, args), 1, "%s", out);

    cr_assert_eq(cluster_ctl(&c, out, sizeof out, "key list"), 0, "%s", out);
    cr_assert(strstr(out, "杨浦区 OA") && strstr(out, cert.public_key), "%s", out);

    /* posting from the file alone, as the district's machine would */
    char events[300];
    snprintf(events, sizeof events, "%s/yp.json", c.dir);
    cluster_write_file(events,
                       "{\"unit\":\"sh-cgzf\",\"register_unit\":{\"code\":\"x\",\"name\":\"x\","
                       "\"role\":\"UNIT\"}}\n"
                       "{\"unit\":\"admin\",\"register_unit\":{\"code\":\"y\",\"name\":\"y\","
                       "\"role\":\"UNIT\"}}\n");
    /* no database: the outcomes come from intake over the same socket */
    s_post_from_file(path, events, out, sizeof out);
    cr_assert(strstr(out, "\"status\":\"ACCEPTED\""), "%s", out);
    cr_assert(strstr(out, "\"outcome\":\"refused\""), "workflow's refusal, told by intake: %s",
              out); /* sh-cgzf may not register units */
    cr_assert(strstr(out, "unit_mismatch"), "%s", out);

    snprintf(args, sizeof args, "key revoke %lld", id);
    cr_assert_eq(cluster_ctl(&c, out, sizeof out, args), 0, "%s", out);
    cr_assert_eq(cluster_ctl(&c, out, sizeof out, args), 1, "revoked twice: %s", out);
    cr_assert_eq(cluster_ctl(&c, out, sizeof out, "key revoke abc"), 2, "%s", out);

    /* posting with the revoked key: intake refuses the handshake, and libzmq
     * gives the connection up for good; rectifyctl said nothing and waited
     * for ever (timeout's 124). Now it ends at once and says why. */
    long long before = stored();
    s_post_from_file(path, events, out, sizeof out);
    cr_assert(strstr(out, "exit=1"), "%s", out);
    cr_assert(strstr(out, "\"code\":\"key_refused\""), "%s", out);
    cr_assert(strstr(out, "nothing was stored"), "%s", out);
    cr_assert_eq(stored(), before);
}

Test(auth, a_system_is_told_the_outcomes_of_its_own_units_events_only)
{
    size_t n;
    post_item_t *items =
        cluster_post_json(&c,
                          "{\"unit\":\"sh-cgzf\",\"register_unit\":{\"code\":\"x1\",\"name\":\"x\","
                          "\"role\":\"UNIT\"}}\n"
                          "{\"unit\":\"admin\",\"register_unit\":{\"code\":\"x2\",\"name\":\"x\","
                          "\"role\":\"UNIT\"}}\n",
                          &n);
    cr_assert_eq(n, 2);
    cluster_wait_applied(&c);
    /* asked with sh-cgzf's key alone */
    poster_creds_t *creds = calloc(1, sizeof *creds);
    cr_assert(creds);
    creds->on = true;
    memcpy(creds->server_key, c.creds.server_key, CURVE_KEY_TEXT);
    for (int i = 0; i < c.creds.nkeys; i++)
        if (!strcmp(c.creds.keys[i].unit, "sh-cgzf"))
            creds->keys[creds->nkeys++] = c.creds.keys[i];
    cr_assert_eq(creds->nkeys, 1);
    poster_opts_t opts = {.creds = creds};
    poster_outcome_t out[2];
    int refused = poster_outcomes(c.ctx, c.bind[SVC_INTAKE], items, 2, &opts, out, 1500);
    cr_assert_eq(refused, 1);
    cr_assert_str_eq(out[0].outcome, "refused");
    cr_assert_str_eq(out[0].code, "denied", "%s: %s", out[0].code, out[0].message);
    cr_assert_str_eq(out[1].outcome, "", "another unit's outcome was told: %s", out[1].outcome);
    /* its own unit's key is told */
    opts.creds = &c.creds;
    cr_assert_eq(poster_outcomes(c.ctx, c.bind[SVC_INTAKE], items, 2, &opts, out, 5000), 1);
    cr_assert_str_eq(out[1].outcome, "applied");
    free(creds);
    cluster_free_items(items, n);
}

/* Sends an outcome query's frames (body as given) and returns intake's
 * Outcomes (caller frees), asserting it answers in 5 s. */
static Rectify__Outcomes *ask_raw(void *sock, const void *body, size_t len)
{
    cr_assert_geq(zmq_send(sock, "outcomes", 8, ZMQ_SNDMORE), 0);
    cr_assert_geq(zmq_send(sock, body, len, 0), 0);
    zmq_pollitem_t pi[] = {{sock, 0, ZMQ_POLLIN, 0}};
    cr_assert_eq(zmq_poll(pi, 1, 5000), 1, "intake did not answer the query");
    char head[16];
    cr_assert_eq(zmq_recv(sock, head, sizeof head, 0), 8);
    cr_assert(!memcmp(head, "outcomes", 8));
    zmq_msg_t msg;
    zmq_msg_init(&msg);
    cr_assert_geq(zmq_msg_recv(&msg, sock, 0), 0);
    Rectify__Outcomes *out =
        rectify__outcomes__unpack(NULL, zmq_msg_size(&msg), zmq_msg_data(&msg));
    zmq_msg_close(&msg);
    cr_assert_not_null(out);
    return out;
}

static Rectify__Outcomes *ask_ids(void *sock, char **ids, size_t n)
{
    Rectify__OutcomeQuery q = RECTIFY__OUTCOME_QUERY__INIT;
    q.event_ids = ids;
    q.n_event_ids = n;
    size_t len = rectify__outcome_query__get_packed_size(&q);
    uint8_t *buf = malloc(len);
    cr_assert(buf);
    rectify__outcome_query__pack(&q, buf);
    Rectify__Outcomes *out = ask_raw(sock, buf, len);
    free(buf);
    return out;
}

Test(auth, an_outcome_query_it_cannot_answer_is_refused_naming_why)
{
    void *sock = cluster_client(&c, "admin");
    Rectify__Outcomes *out = ask_raw(sock, "\xff\xff\xff", 3);
    cr_assert_str_eq(out->error, "the query is not an OutcomeQuery");
    cr_assert_eq(out->n_outcomes, 0);
    rectify__outcomes__free_unpacked(out, NULL);

    char **many = calloc(1001, sizeof *many);
    cr_assert(many);
    for (int i = 0; i < 1001; i++)
        many[i] = "00000000-0000-4000-8000-000000000001";
    out = ask_ids(sock, many, 1001);
    cr_assert_str_eq(out->error, "event_ids: at most 1000 a query");
    cr_assert_eq(out->n_outcomes, 0);
    rectify__outcomes__free_unpacked(out, NULL);
    free(many);

    char *odd[] = {"not-a-uuid", "\xc3\x28"};
    out = ask_ids(sock, odd, 1); /* never accepted: unknown, not an error */
    cr_assert_str_eq(out->error, "");
    cr_assert_eq(out->n_outcomes, 1);
    cr_assert_eq(out->outcomes[0]->state, RECTIFY__OUTCOME_STATE__OUTCOME_UNKNOWN);
    rectify__outcomes__free_unpacked(out, NULL);
    out = ask_ids(sock, odd, 2); /* an id that is not UTF-8 */
    cr_assert_str_eq(out->error, "event_ids: not valid UTF-8, or longer than 64 bytes");
    rectify__outcomes__free_unpacked(out, NULL);
    zmq_close(sock);
}

/* rectify-tail of the three log streams with key_file (under c.dir) for
 * timeout_ms, given a moment to connect; its output is read from *fd. */
static pid_t s_tail_with(const char *key_file, const char *timeout_ms, int *fd)
{
    char file[300];
    snprintf(file, sizeof file, "%s/%s", c.dir, key_file);
    setenv("RECTIFY_KEY_FILE", file, 1);
    const char *args[] = {"--json",     "--timeout-ms", timeout_ms, c.tail_ep[0],
                          c.tail_ep[1], c.tail_ep[2],   NULL};
    pid_t pid = tail_start(args, fd, NULL);
    usleep(500000);
    return pid;
}

/* rectify-tail with key_file as RECTIFY_KEY_FILE exits 2 at once, its
 * error naming why. */
static void s_tail_refused(const char *key_file, const char *why)
{
    setenv("RECTIFY_KEY_FILE", key_file, 1);
    const char *args[] = {"--json", "--timeout-ms", "3000", c.tail_ep[0], NULL};
    int fd, err_fd, status;
    pid_t pid = tail_start(args, &fd, &err_fd);
    waitpid(pid, &status, 0);
    char out[4096];
    tail_read(fd, out, sizeof out);
    tail_read(err_fd, out, sizeof out);
    cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 2, "%s: status %d", key_file, status);
    cr_assert(strstr(out, why), "%s: %s", key_file, out);
}

Test(auth, the_log_streams_show_nothing_without_an_on_call_key)
{
    /* a system key is not an on-call key */
    char file[300];
    cluster_key(&c, "sh-cgzf");
    int fd;
    pid_t pid = s_tail_with("clients/sh-cgzf.key_secret", "3000", &fd);
    post_item_t item;
    for (int i = 0; i < 5; i++) {
        char code[32];
        snprintf(code, sizeof code, "seen-by-none-%d", i);
        register_item(&item, "admin", code);
        cr_assert_eq(cluster_post(&c, &item, 1), 0);
        free(item.frame);
    }
    int status;
    waitpid(pid, &status, 0);
    char out[4096];
    cr_assert_eq(tail_read(fd, out, sizeof out), 0, "a system key saw log lines: %s", out);

    /* no key at all: refused at once, saying what is needed */
    s_tail_refused("", "on-call key");
    /* a public certificate is not a key to connect with */
    snprintf(file, sizeof file, "%s/keys/intake.key", c.dir);
    s_tail_refused(file, "holds no secret-key");
}

Test(auth, an_on_call_key_revoked_while_tailing_sees_no_more_lines)
{
    /* a PUB socket checks a listener at its handshake only: the stream is
     * bound again on a revocation, and the tail's reconnection is refused */
    int fd;
    pid_t pid = s_tail_with("oncall.key_secret", "8000", &fd);
    post_item_t before, after;
    register_item(&before, "admin", "seen-before-revocation");
    cr_assert_eq(cluster_post(&c, &before, 1), 0);
    cluster_wait_applied(&c);
    usleep(300000);
    cr_assert_eq(testdb_number(&c.db, "WITH r AS (UPDATE api_key SET revoked_at = now()"
                                      " WHERE kind = 'oncall' RETURNING 1)"
                                      " SELECT count(*) FROM r"),
                 1);
    usleep(1500000); /* the services look every 0.5 s */
    register_item(&after, "admin", "seen-after-revocation");
    cr_assert_eq(cluster_post(&c, &after, 1), 0);
    cluster_wait_applied(&c);
    int status;
    waitpid(pid, &status, 0);
    static char out[1 << 16];
    tail_read(fd, out, sizeof out);
    cr_assert(strstr(out, before.event_id), "the tail saw nothing before: %s", out);
    cr_assert_null(strstr(out, after.event_id), "a revoked on-call key still saw lines");
    free(before.frame);
    free(after.frame);
}

/* --- one key's flood --------------------------------------------------------- */

typedef struct {
    cluster_t *c;
    int pause_us; /* between rounds of 200 frames; 0: as fast as the socket takes them */
    atomic_bool stop;
    long sent, limited;
} flood_t;

static void *flood(void *arg)
{
    flood_t *f = arg;
    void *sock = cluster_client(f->c, "inspection-office");
    post_item_t item;
    register_item(&item, "inspection-office", "flood"); /* refused by workflow: not admin */
    while (!atomic_load(&f->stop)) {
        for (int i = 0; i < 200; i++) {
            if (zmq_send(sock, item.frame, item.len, ZMQ_DONTWAIT) >= 0)
                f->sent++;
        }
        zmq_msg_t msg;
        zmq_msg_init(&msg);
        while (zmq_msg_recv(&msg, sock, ZMQ_DONTWAIT) >= 0) {
            Rectify__Ack *ack = rectify__ack__unpack(NULL, zmq_msg_size(&msg), zmq_msg_data(&msg));
            if (ack && !strcmp(ack->code, "rate_limited"))
                f->limited++;
            if (ack)
                rectify__ack__free_unpacked(ack, NULL);
        }
        zmq_msg_close(&msg);
        if (f->pause_us > 0)
            usleep((useconds_t)f->pause_us);
    }
    free(item.frame);
    zmq_close(sock);
    return NULL;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* Posts n events as admin, one at a time; returns the p99 answer time in us. */
static int64_t admin_p99(int n)
{
    void *sock = cluster_client(&c, "admin");
    int64_t *lat = calloc((size_t)n, sizeof *lat);
    cr_assert(lat);
    for (int i = 0; i < n; i++) {
        post_item_t item;
        char code[32];
        snprintf(code, sizeof code, "p-%d", i);
        register_item(&item, "admin", code);
        int64_t t0 = clock_mono_us();
        Rectify__Ack *ack = send_and_wait(sock, &item, 5000);
        lat[i] = clock_mono_us() - t0;
        cr_assert(ack && ack->status == RECTIFY__ACK_STATUS__ACCEPTED, "the other key: %s",
                  ack ? ack->code : "no answer");
        rectify__ack__free_unpacked(ack, NULL);
        free(item.frame);
        usleep(5000);
    }
    qsort(lat, (size_t)n, sizeof *lat, cmp_i64);
    int64_t p99 = lat[(n * 99) / 100 - (n >= 100 ? 1 : 0)];
    free(lat);
    zmq_close(sock);
    return p99;
}

/* Floods from the inspection office's key (pausing pause_us between rounds
 * of 200 frames) while admin posts 100 events one at a time, each answered
 * within 5 s; asserts the flood was rate limited and admin's p99 stayed
 * within 3 times its quiet figure + slack_ms (what a busy 2-core machine
 * varies by). */
static void s_flood_against_admin(int pause_us, int slack_ms, const char *what)
{
    const char *env[] = {"RECTIFY_RATE_PER_S=200", "RECTIFY_RATE_BURST=100", NULL};
    cluster_start(&c, env);
    int64_t quiet = admin_p99(100);
    flood_t f = {.c = &c, .pause_us = pause_us};
    pthread_t t;
    cr_assert_eq(pthread_create(&t, NULL, flood, &f), 0);
    usleep(300000);
    int64_t flooded = admin_p99(100);
    atomic_store(&f.stop, true);
    pthread_join(t, NULL);
    cr_log_info("%s: the other key's p99: %.1f ms quiet, %.1f ms during a flood of %ld frames "
                "(%ld refused rate_limited)",
                what, quiet / 1000.0, flooded / 1000.0, f.sent, f.limited);
    fprintf(stderr,
            "%s: the other key's p99 %.1f ms quiet, %.1f ms during the flood (%ld frames, "
            "%ld rate_limited)\n",
            what, quiet / 1000.0, flooded / 1000.0, f.sent, f.limited);
    cr_assert_gt(f.limited, 0, "the flood was never rate limited");
    cr_assert_leq(flooded, 3 * quiet + slack_ms * 1000,
                  "p99 %.1f ms during the flood, %.1f ms quiet", flooded / 1000.0, quiet / 1000.0);
    cluster_stop(&c);
}

Test(flood, one_keys_flood_is_rate_limited_and_leaves_another_keys_latency, .timeout = 180)
{
    s_flood_against_admin(40000, 20, "flood at 5,000 frames/s"); /* 25 times its limit */
}

Test(flood, a_flood_as_fast_as_the_socket_takes_does_not_starve_another_key, .timeout = 180)
{
    /* refused frames never let up, and intake kept reading them without
     * committing the events read between them: admin's posts waited for
     * ever (the test timed out); and each refusal was a log line. The
     * flooder, intake's decryption and admin share 2 cores here, so the
     * bound is looser: answered promptly, not starved */
    s_flood_against_admin(0, 250, "unbounded flood");
}
