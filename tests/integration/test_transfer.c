/* The inbox and outbox on a real PostgreSQL: sequence numbers, repeats,
 * gaps, rollback, and the pump's re-sending over a real ZeroMQ socket. */
#include "clock.h"
#include "db.h"
#include "errors.h"
#include "ids.h"
#include "migrate.h"
#include "testdb.h"
#include "transfer.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zmq.h>

static testdb_t t;
static db_t *db;

static void setup(void)
{
    testdb_create(&t);
    char err[512];
    db = db_connect(t.conninfo, err, sizeof err);
    cr_assert(db, "%s", err);
    cr_assert_eq(migrate_run(db, NULL), RC_OK);
}

static void teardown(void)
{
    db_destroy(&db);
    testdb_drop(&t);
}

TestSuite(transfer, .init = setup, .fini = teardown, .timeout = 60);

typedef struct {
    int applied[64];
    int n;
    int fail_at; /* seq whose apply fails, 0 for none */
} recorder_t;

static int record_apply(void *arg, const Rectify__Transfer *item)
{
    recorder_t *r = arg;
    if (item->seq == r->fail_at)
        return RC_ERR_DB;
    /* a real effect in the same transaction */
    char sql[160];
    snprintf(sql, sizeof sql,
             "INSERT INTO inbox_cursor (consumer, source) VALUES ('effect-%lld', 'x')",
             (long long)item->seq);
    cr_assert_eq(db_exec_sql(db, sql), RC_OK);
    r->applied[r->n++] = (int)item->seq;
    return RC_OK;
}

static Rectify__Batch *make_batch(const int *seqs, int n)
{
    Rectify__Batch *b = calloc(1, sizeof *b);
    rectify__batch__init(b);
    b->source = "test";
    b->n_items = (size_t)n;
    b->items = calloc((size_t)n, sizeof *b->items);
    for (int i = 0; i < n; i++) {
        b->items[i] = calloc(1, sizeof **b->items);
        rectify__transfer__init(b->items[i]);
        b->items[i]->seq = seqs[i];
        b->items[i]->event_id = "00000000-0000-4000-8000-000000000000";
    }
    return b;
}

static void free_batch(Rectify__Batch *b)
{
    for (size_t i = 0; i < b->n_items; i++)
        free(b->items[i]);
    free(b->items);
    free(b);
}

static int64_t apply(recorder_t *r, const int *seqs, int n, bool *gap)
{
    inbox_opts_t opts = {.consumer = "c", .apply = record_apply, .arg = r, .max_frame = 1 << 20};
    Rectify__Batch *b = make_batch(seqs, n);
    int64_t through = -1;
    int rc = inbox_apply_batch(db, &opts, b, &through, gap);
    free_batch(b);
    return rc == RC_OK ? through : -100 + rc;
}

static long long effects(void)
{
    return testdb_number(&t, "SELECT count(*) FROM inbox_cursor WHERE consumer LIKE 'effect-%'");
}

Test(transfer, the_inbox_applies_in_order_and_skips_repeats)
{
    recorder_t r = {0};
    bool gap;
    int first[] = {1, 2, 3};
    cr_assert_eq(apply(&r, first, 3, &gap), 3);
    cr_assert_not(gap);
    int again[] = {2, 3, 4};
    cr_assert_eq(apply(&r, again, 3, &gap), 4);
    cr_assert_eq(r.n, 4);
    cr_assert_eq(r.applied[3], 4);
    cr_assert_eq(effects(), 4);
}

Test(transfer, the_inbox_stops_at_a_gap_and_reports_it)
{
    recorder_t r = {0};
    bool gap;
    int first[] = {1, 2};
    cr_assert_eq(apply(&r, first, 2, &gap), 2);
    int later[] = {4, 5};
    cr_assert_eq(apply(&r, later, 2, &gap), 2);
    cr_assert(gap);
    cr_assert_eq(r.n, 2);
    int rest[] = {3, 4, 5};
    cr_assert_eq(apply(&r, rest, 3, &gap), 5);
    cr_assert_not(gap);
    cr_assert_eq(effects(), 5);
}

Test(transfer, a_failed_apply_rolls_back_the_whole_batch)
{
    recorder_t r = {.fail_at = 3};
    bool gap;
    int seqs[] = {1, 2, 3};
    cr_assert_lt(apply(&r, seqs, 3, &gap), 0);
    cr_assert_eq(effects(), 0, "effects of a failed batch were kept");
    cr_assert_eq(testdb_number(&t, "SELECT coalesce(max(applied_through), 0) FROM inbox_cursor"
                                   " WHERE consumer = 'c'"),
                 0);
    r.fail_at = 0;
    r.n = 0;
    cr_assert_eq(apply(&r, seqs, 3, &gap), 3);
    cr_assert_eq(effects(), 3);
}

Test(transfer, outbox_put_numbers_rows_without_gaps)
{
    cr_assert_eq(
        db_exec_sql(db, "SELECT outbox_put('notify', ARRAY[gen_random_uuid(), gen_random_uuid()],"
                        " ARRAY['\\x01'::bytea, '\\x02'::bytea])"),
        RC_OK);
    cr_assert_eq(db_exec_sql(db, "BEGIN"), RC_OK);
    cr_assert_eq(
        db_exec_sql(db,
                    "SELECT outbox_put('notify', ARRAY[gen_random_uuid()], ARRAY['\\x03'::bytea])"),
        RC_OK);
    cr_assert_eq(db_exec_sql(db, "ROLLBACK"), RC_OK);
    cr_assert_eq(
        db_exec_sql(db,
                    "SELECT outbox_put('notify', ARRAY[gen_random_uuid()], ARRAY['\\x04'::bytea])"),
        RC_OK);
    char seqs[64];
    testdb_text(&t,
                "SELECT string_agg(seq::text, ',' ORDER BY seq) FROM outbox WHERE dest = 'notify'",
                seqs, sizeof seqs);
    cr_assert_str_eq(seqs, "1,2,3", "a rolled-back put left a gap");
    cr_assert_eq(
        db_exec_sql(
            db, "SELECT outbox_put('nowhere', ARRAY[gen_random_uuid()], ARRAY['\\x05'::bytea])"),
        RC_ERR_DB);
}

/* The pump against a hand-driven ROUTER: it sends, re-sends after the
 * timeout, stops at the acknowledged sequence, and forgets acknowledged rows. */
Test(transfer, the_pump_sends_again_until_acknowledged)
{
    cr_assert_eq(
        db_exec_sql(db, "SELECT outbox_put('notify', ARRAY[gen_random_uuid(), gen_random_uuid(),"
                        " gen_random_uuid()], ARRAY['\\x01'::bytea, '\\x02', '\\x03'])"),
        RC_OK);
    void *ctx = zmq_ctx_new();
    void *router = zmq_socket(ctx, ZMQ_ROUTER);
    int linger = 0;
    zmq_setsockopt(router, ZMQ_LINGER, &linger, sizeof linger);
    char ep[64];
    snprintf(ep, sizeof ep, "ipc:///tmp/rectify-pump-%d.sock", (int)getpid());
    cr_assert_eq(zmq_bind(router, ep), 0);
    pump_opts_t opts = {.source = "workflow",
                        .dest = "notify",
                        .endpoint = ep,
                        .batch_max = 2,
                        .window = 10,
                        .resend_timeout_ms = 100,
                        .poll_interval_ms = 10};
    outbox_pump_t *pump = outbox_pump_new(db, ctx, &opts);
    cr_assert(pump);

    /* receives the batches sent in one pass; returns the seqs seen */
    int seen[16], nseen = 0;
    zmq_msg_t id;
    zmq_msg_init(&id);
    int64_t until = clock_mono_ms() + 5000;
    while (nseen < 3 && clock_mono_ms() < until) {
        outbox_pump_tick(pump, clock_mono_ms());
        zmq_pollitem_t pi[] = {{router, 0, ZMQ_POLLIN, 0}};
        if (zmq_poll(pi, 1, 20) <= 0)
            continue;
        zmq_msg_close(&id);
        zmq_msg_init(&id);
        zmq_msg_recv(&id, router, 0);
        zmq_msg_t body;
        zmq_msg_init(&body);
        zmq_msg_recv(&body, router, 0);
        Rectify__Batch *b = rectify__batch__unpack(NULL, zmq_msg_size(&body), zmq_msg_data(&body));
        cr_assert(b);
        cr_assert_str_eq(b->source, "workflow");
        for (size_t i = 0; i < b->n_items; i++)
            seen[nseen++] = (int)b->items[i]->seq;
        rectify__batch__free_unpacked(b, NULL);
        zmq_msg_close(&body);
    }
    cr_assert_eq(nseen, 3);
    cr_assert_eq(seen[0], 1);
    cr_assert_eq(seen[2], 3);
    cr_assert_eq(outbox_pump_in_flight(pump), 3);

    /* no acknowledgement: after the timeout the same rows come again */
    int resent = 0;
    until = clock_mono_ms() + 3000;
    while (!resent && clock_mono_ms() < until) {
        outbox_pump_tick(pump, clock_mono_ms());
        zmq_pollitem_t pi[] = {{router, 0, ZMQ_POLLIN, 0}};
        if (zmq_poll(pi, 1, 20) <= 0)
            continue;
        zmq_msg_t body;
        zmq_msg_init(&body);
        zmq_msg_close(&id);
        zmq_msg_init(&id);
        zmq_msg_recv(&id, router, 0);
        zmq_msg_recv(&body, router, 0);
        Rectify__Batch *b = rectify__batch__unpack(NULL, zmq_msg_size(&body), zmq_msg_data(&body));
        resent = b && b->n_items > 0 && b->items[0]->seq == 1;
        rectify__batch__free_unpacked(b, NULL);
        zmq_msg_close(&body);
    }
    cr_assert(resent, "nothing was sent again after the timeout");

    /* acknowledge through 3: the rows are forgotten and nothing is in flight */
    Rectify__BatchAck ack = RECTIFY__BATCH_ACK__INIT;
    ack.source = "notify";
    ack.applied_through = 3;
    uint8_t buf[64];
    size_t len = rectify__batch_ack__pack(&ack, buf);
    zmq_msg_send(&id, router, ZMQ_SNDMORE);
    zmq_send(router, buf, len, 0);
    until = clock_mono_ms() + 3000;
    while (outbox_pump_in_flight(pump) > 0 && clock_mono_ms() < until) {
        zmq_pollitem_t pi[] = {{outbox_pump_socket(pump), 0, ZMQ_POLLIN, 0}};
        if (zmq_poll(pi, 1, 20) > 0)
            outbox_pump_on_readable(pump, clock_mono_ms());
    }
    cr_assert_eq(outbox_pump_in_flight(pump), 0);
    cr_assert_eq(testdb_number(&t, "SELECT count(*) FROM outbox"), 0);
    cr_assert_eq(
        testdb_number(&t, "SELECT acked_through FROM outbox_counter WHERE dest = 'notify'"), 3);

    outbox_pump_destroy(&pump);
    zmq_close(router);
    zmq_ctx_term(ctx);
    unlink(ep + strlen("ipc://"));
}
