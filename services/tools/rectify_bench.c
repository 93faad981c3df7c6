/* rectify-bench: measures the running services end to end.
 *
 *   rectify-bench [--config FILE] [--events N] [--rate R] [--window W] [--acks-only]
 *
 * Posts N open_round events (fresh ids and round ids) to intake, at R a
 * second (0: as fast as the window allows), and prints: intake's answer
 * latency (p50, p99, max), the acknowledged throughput, and the durable
 * end-to-end throughput: from the first send until notification has
 * delivered a notice for every event (read from the database, RECTIFY_DB).
 * With --acks-only it stops once intake has answered every event. */
#include "clock.h"
#include "config.h"
#include "db.h"
#include "ids.h"
#include "log.h"
#include "poster.h"
#include "rectify.pb-c.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zmq.h>

static int s_cmp(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static long s_arg(const char *name, const char *value, long lo, long hi)
{
    char *end = NULL;
    errno = 0;
    long v = strtol(value, &end, 10);
    if (errno || !end || *end || v < lo || v > hi) {
        fprintf(stderr, "rectify-bench: %s: \"%s\" is not %ld..%ld\n", name, value, lo, hi);
        exit(2);
    }
    return v;
}

static const db_stmt_t s_delivered = {
    "bench_delivered",
    "SELECT count(*) FROM notification n JOIN delivery d USING (notice_id)"
    " WHERE d.status = 'sent' AND n.subject LIKE $1",
    1, 0};

static const db_stmt_t s_units_ready = {
    "bench_units_ready", "SELECT count(*) FROM unit WHERE code IN ('bench-office', 'bench-unit')",
    0, 0};

int main(int argc, char **argv)
{
    const char *file = NULL;
    long events = 20000, rate = 0, window = 2000;
    int acks_only = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--config") && i + 1 < argc)
            file = argv[++i];
        else if (!strcmp(argv[i], "--events") && i + 1 < argc)
            events = s_arg("--events", argv[++i], 1, 10000000);
        else if (!strcmp(argv[i], "--rate") && i + 1 < argc)
            rate = s_arg("--rate", argv[++i], 0, 10000000);
        else if (!strcmp(argv[i], "--window") && i + 1 < argc)
            window = s_arg("--window", argv[++i], 1, 1000000);
        else if (!strcmp(argv[i], "--acks-only"))
            acks_only = 1;
        else {
            fprintf(stderr, "usage: rectify-bench [--config FILE] [--events N] [--rate R] "
                            "[--window W] [--acks-only]\n");
            return 2;
        }
    }
    char err[512];
    config_t *cfg = config_load(file, err, sizeof err);
    if (!cfg) {
        fprintf(stderr, "rectify-bench: config: %s\n", err);
        return 2;
    }
    log_open("bench", LOG_WARN, NULL, NULL);
    db_t *db = db_connect(config_str(cfg, SET_db), err, sizeof err);
    if (!db) {
        fprintf(stderr, "rectify-bench: %s\n", err);
        return 1;
    }

    /* CURVE unless allow_plain: key_file is a folder holding a key for
     * admin and one for bench-office (scripts/bench.sh makes them) */
    poster_creds_t creds;
    if (poster_credentials(cfg, &creds, err, sizeof err) != 0) {
        fprintf(stderr, "rectify-bench: %s\n", err);
        return 2;
    }
    printf("transport: %s\n", creds.on ? "CURVE (a key per unit)" : "plain (allow_plain)");

    /* the units the benchmark posts as (a repeat is a harmless DUPLICATE) */
    {
        static const char *codes[] = {"bench-office", "bench-unit"};
        static const Rectify__Role roles[] = {RECTIFY__ROLE__INSPECTION_OFFICE,
                                              RECTIFY__ROLE__UNIT};
        post_item_t reg[2];
        memset(reg, 0, sizeof reg);
        for (int i = 0; i < 2; i++) {
            /* fixed ids: the same two events every run */
            snprintf(reg[i].event_id, sizeof reg[i].event_id,
                     "00000000-0000-4000-8000-00000000000%d", i + 1);
            Rectify__RegisterUnit ru = RECTIFY__REGISTER_UNIT__INIT;
            ru.code = (char *)codes[i];
            ru.name = (char *)codes[i];
            ru.role = roles[i];
            Rectify__Envelope env = RECTIFY__ENVELOPE__INIT;
            env.event_id = reg[i].event_id;
            env.unit = "admin";
            env.event_case = RECTIFY__ENVELOPE__EVENT_REGISTER_UNIT;
            env.register_unit = &ru;
            reg[i].len = rectify__envelope__get_packed_size(&env);
            reg[i].frame = malloc(reg[i].len);
            if (!reg[i].frame)
                return 1;
            rectify__envelope__pack(&env, reg[i].frame);
        }
        void *rctx = zmq_ctx_new();
        poster_opts_t ropts = {.creds = &creds, .timeout_ms = 2000, .retries = 5, .window = 2};
        int rrc = poster_run(rctx, config_str(cfg, SET_intake_bind), reg, 2, &ropts);
        zmq_ctx_term(rctx);
        free(reg[0].frame);
        free(reg[1].frame);
        if (rrc != 0) {
            fprintf(stderr, "rectify-bench: intake does not answer at %s\n",
                    config_str(cfg, SET_intake_bind));
            return 1;
        }
        for (int tries = 0; tries < 500; tries++) { /* until workflow has them */
            PGresult *res = db_run(db, &s_units_ready, NULL, NULL, NULL);
            int ready = res && strcmp(PQgetvalue(res, 0, 0), "2") == 0;
            PQclear(res);
            if (ready)
                break;
            usleep(10000);
        }
    }

    char run[IDS_UUID_LEN + 1];
    ids_new_uuid(run);
    run[8] = '\0';
    post_item_t *items = calloc((size_t)events, sizeof *items);
    if (!items)
        return 1;
    for (long i = 0; i < events; i++) {
        char round_id[64];
        snprintf(round_id, sizeof round_id, "bench-%s-%07ld", run, i);
        ids_new_uuid(items[i].event_id);
        Rectify__OpenRound ev = RECTIFY__OPEN_ROUND__INIT;
        ev.round_id = round_id;
        ev.group_name = "bench";
        ev.target_unit = "bench-unit";
        ev.feedback_date = "2021-01-29";
        ev.kind = RECTIFY__ROUND_KIND__INSPECTION;
        Rectify__Envelope env = RECTIFY__ENVELOPE__INIT;
        env.event_id = items[i].event_id;
        env.unit = "bench-office";
        env.sent_at_ms = clock_now_ms();
        env.event_case = RECTIFY__ENVELOPE__EVENT_OPEN_ROUND;
        env.open_round = &ev;
        items[i].len = rectify__envelope__get_packed_size(&env);
        items[i].frame = malloc(items[i].len);
        if (!items[i].frame)
            return 1;
        rectify__envelope__pack(&env, items[i].frame);
    }

    void *ctx = zmq_ctx_new();
    poster_opts_t opts = {
        .creds = &creds, .timeout_ms = 5000, .retries = 10, .window = (int)window, .rate = (int)rate};
    int64_t t0 = clock_mono_us();
    int rc = poster_run(ctx, config_str(cfg, SET_intake_bind), items, (size_t)events, &opts);
    int64_t t_acked = clock_mono_us();

    char like[64];
    snprintf(like, sizeof like, "%% round bench-%s-%%", run);
    const char *params[] = {like};
    long long delivered = 0;
    int64_t deadline = clock_mono_ms() + 300000;
    while (!acks_only && delivered < events && clock_mono_ms() < deadline) {
        PGresult *res = db_run(db, &s_delivered, params, NULL, NULL);
        if (res) {
            delivered = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
            PQclear(res);
        }
        if (delivered < events)
            usleep(2000);
    }
    int64_t t_done = clock_mono_us();

    int64_t *lat = calloc((size_t)events, sizeof *lat);
    long answered = 0, accepted = 0;
    for (long i = 0; i < events; i++) {
        if (items[i].answered_us)
            lat[answered++] = items[i].answered_us - items[i].sent_us;
        accepted += items[i].status == POST_ACCEPTED;
        free(items[i].frame);
    }
    qsort(lat, (size_t)answered, sizeof *lat, s_cmp);
    double ack_s = (double)(t_acked - t0) / 1e6, e2e_s = (double)(t_done - t0) / 1e6;
    printf("events:                    %ld (%ld accepted)%s\n", events, accepted,
           rc ? ", SOME UNANSWERED" : "");
    if (rate)
        printf("offered rate:              %ld events/s\n", rate);
    else
        printf("offered rate:              unlimited (%ld in flight)\n", window);
    printf("ack latency p50/p99/max:   %.2f / %.2f / %.2f ms\n",
           answered ? (double)lat[answered / 2] / 1000 : 0,
           answered ? (double)lat[answered * 99 / 100] / 1000 : 0,
           answered ? (double)lat[answered - 1] / 1000 : 0);
    printf("acknowledged throughput:   %.0f events/s (%.2f s)\n", (double)events / ack_s, ack_s);
    if (!acks_only)
        printf("end-to-end throughput:     %.0f events/s (%.2f s until %lld notices delivered)\n",
               (double)delivered / e2e_s, e2e_s, delivered);
    free(lat);
    free(items);
    zmq_ctx_term(ctx);
    db_destroy(&db);
    config_destroy(&cfg);
    return rc == 0 && (acks_only || delivered == events) ? 0 : 1;
}
