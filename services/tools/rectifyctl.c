/* rectifyctl: the command-line client of Rectify. See s_usage for the
 * commands; the reports are in ctl_report.c, the plan import in ctl_import.c. */
#include "clock.h"
#include "refusal.h"
#include "config.h"
#include "ctl.h"
#include "db.h"
#include "errors.h"
#include "ids.h"
#include "log.h"
#include "migrate.h"
#include "pbjson.h"
#include "pgarr.h"
#include "poster.h"
#include "rectify.pb-c.h"

#include <errno.h>
#include <stdbool.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zmq.h>

#define MAX_LINE_BYTES (16 * 1024 * 1024)

static void s_usage(FILE *out)
{
    fprintf(
        out,
        "usage: rectifyctl [--config FILE] COMMAND [ARGS]\n\n"
        "commands:\n"
        "  migrate                 apply the database migrations that are missing\n"
        "  post [OPTIONS] FILE|-   send events (JSON, one object a line) to intake and\n"
        "                          print each acknowledgement as a JSON line; exits 1 if\n"
        "                          any event was rejected or not answered\n"
        "      --timeout-ms N      wait this long for an answer before sending again (2000)\n"
        "      --retries N         sends after the first before giving up (5)\n"
        "      --no-wait           print intake's answers only; do not wait for\n"
        "                          workflow's outcome (applied or refused)\n"
        "  import --round R --unit U [--on DATE] FILE.csv\n"
        "                          post a unit's rectification plan (one row per measure),\n"
        "                          all or nothing; bad rows are listed by line and field\n"
        "  ledger --round R [--unit U] [--status S] [--track T] [--leader L] [--overdue] [--json]\n"
        "                          items and measures of a round, filtered\n"
        "  item --round R ID [--json]\n"
        "                          one item with its measures and its whole history\n"
        "  bulletin --round R [--as-of YYYY-MM-DD] [--json]\n"
        "                          the public bulletin's figures for any day, as JSON and\n"
        "                          as the Chinese text of a progress bulletin\n"
        "  orders [--unit U] [--status S] [--breached] [--json | --xlsx FILE]\n"
        "                          the hotline's work orders, with their breached clocks\n"
        "  order ID [--json]       one work order and its whole history\n"
        "  repeats [--all] [--json]\n"
        "                          the repeat-complaint register and its write-off rate\n"
        "                          (--all: also the cases still below the thresholds)\n"
        "  hotline --month YYYY-MM [--json | --xlsx FILE]\n"
        "                          the month's table per undertaking unit: on-time rate per\n"
        "                          clock, breaches, repeats, satisfaction, cards; the quarter\n"
        "  sla [list [--json]]     the work orders' service levels, minutes per clock\n"
        "  sla set CATEGORY [--urgent] [--take M] [--contact M] [--onsite M] [--complete M]\n"
        "          [--reply M] [--warn-percent P] [--calendar | --wall]\n"
        "                          set a category's levels ('*': every other category);\n"
        "                          what is not given stays, or comes from '*'\n"
        "  holiday [list] | holiday add DAY [--working] [--note TEXT] | holiday remove DAY\n"
        "                          the working calendar's exceptions (--working: a working\n"
        "                          weekend day, 调休)\n"
        "  status [--json]         what the services hold: events, outcomes, queues\n"
        "  report weekly|monthly --round R [--as-of DATE] [--json]\n"
        "                          the weekly reconciliation (the week to DATE) or the\n"
        "                          monthly progress table (on DATE), per responsible unit\n"
        "  recipient add --unit U --role R --channel webhook|mail --address A [--kinds K,K]\n"
        "  recipient list [--unit U] | recipient remove ID\n"
        "                          who is told, on which channel (notices of unit U)\n"
        "  dead-letters            deliveries that failed their last attempt\n"
        "  dead-events             events quarantined after failing again and again\n"
        "  requeue EVENT_ID|--all  send quarantined events to their consumer again\n"
        "  resend NOTICE_ID|--all  send dead letters again\n"
        "  key new --unit U --name NAME [--out FILE]\n"
        "                          a CURVE key for a system posting as unit U: recorded,\n"
        "                          its secret written to FILE (0600) for its operator\n"
        "  key new --oncall --name NAME [--out FILE]\n"
        "                          a key for an on-call admin (rectify-tail)\n"
        "  key list | key revoke ID\n"
        "                          the keys; a revoked key is refused within a second\n"
        "  key service             the services' own key pairs, into keys_dir\n"
        "  codes [--json]          every code an event can be refused with: who gives\n"
        "                          it (intake, workflow, rectifyctl) and what it means\n"
        "  clock [show | set TIME | advance N(d|h|m) | real]\n"
        "                          the simulated clock that services started with\n"
        "                          sim_clock=true read (tests and demos)\n\n");
    config_print_help(out);
}

static int s_parse_int(const char *s, long lo, long hi, long *out)
{
    char *end = NULL;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < lo || v > hi)
        return -1;
    *out = v;
    return 0;
}

/* The commands that only read: they read as the role rectify_report
 * (090_roles.sql), whoever connects, so a report cannot write. The others
 * (migrate, post, import, recipient, requeue, resend, clock) are the owner's. */
static const char *const s_readers[] = {"status",       "ledger",      "item",   "bulletin",
                                        "dead-letters", "dead-events", "report", "orders",
                                        "order",        "repeats",     "hotline"};
static bool s_read_only;

db_t *ctl_connect(const config_t *cfg)
{
    char err[512];
    db_t *db = db_connect(config_str(cfg, SET_db), err, sizeof err);
    if (!db) {
        fprintf(stderr, "rectifyctl: %s\n", err);
        return NULL;
    }
    if (s_read_only && db_exec_sql(db, "SET ROLE rectify_report") != RC_OK) {
        fprintf(stderr, "rectifyctl: cannot read as rectify_report: %s\n", db_error(db));
        db_destroy(&db);
    }
    return db;
}

int ctl_credentials(const config_t *cfg, poster_creds_t *creds, const char *command)
{
    char err[800];
    int rc = poster_credentials(cfg, creds, err, sizeof err);
    if (rc != RC_OK)
        fprintf(stderr, "rectifyctl %s: %s\n", command, err);
    return rc;
}

static int s_cmd_migrate(const config_t *cfg)
{
    db_t *db = ctl_connect(cfg);
    if (!db)
        return 1;
    int applied = 0;
    int rc = migrate_run(db, &applied);
    db_destroy(&db);
    if (rc != RC_OK) {
        fprintf(stderr, "rectifyctl: migrate failed (%s)\n", rc_name(rc));
        return 1;
    }
    printf("migrations: %d applied now, %d known\n", applied, migrations_count);
    return 0;
}

int ctl_wait_outcomes(const config_t *cfg, const poster_creds_t *creds, const post_item_t *items,
                      size_t n, ctl_outcome_t *outcomes, int timeout_ms)
{
    /* asked of intake over the authenticated socket: no database needed */
    poster_opts_t opts = {.creds = creds};
    void *ctx = zmq_ctx_new();
    int refused = poster_outcomes(ctx, config_str(cfg, SET_intake_bind), items, n, &opts, outcomes,
                                  timeout_ms);
    zmq_ctx_term(ctx);
    if (refused < 0) {
        fprintf(stderr, "rectifyctl: intake did not tell the outcomes (%s)\n", rc_name(refused));
        return 0;
    }
    return refused;
}

/* One input line turned into an item, or refused locally. */
typedef struct {
    long line;
    char local_code[32];
    char local_message[300];
} s_line_t;

static void s_print_result(long line, const char *event_id, const char *status, const char *code,
                           const char *message, const ctl_outcome_t *outcome)
{
    json_t *o = json_pack("{s:I, s:s, s:s, s:s, s:s}", "line", (json_int_t)line, "event_id",
                          event_id, "status", status, "code", code, "message", message);
    if (o && outcome) {
        json_object_set_new(o, "outcome",
                            json_string(outcome->outcome[0] ? outcome->outcome : "unknown"));
        if (outcome->code[0]) {
            json_object_set_new(o, "outcome_code", json_string(outcome->code));
            json_object_set_new(o, "outcome_message", json_string(outcome->message));
        }
    }
    char *text = o ? json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    if (text)
        puts(text);
    free(text);
    json_decref(o);
}

/* Reads one line of any length up to MAX_LINE_BYTES; returns NULL at EOF. */
static char *s_read_line(FILE *in, int *too_long)
{
    size_t cap = 4096, len = 0;
    char *buf = malloc(cap);
    *too_long = 0;
    if (!buf)
        return NULL;
    int c;
    while ((c = fgetc(in)) != EOF && c != '\n') {
        if (len + 2 > cap) {
            if (cap >= MAX_LINE_BYTES) {
                *too_long = 1;
                continue; /* skip the rest of the line */
            }
            char *p = realloc(buf, cap * 2);
            if (!p) {
                free(buf);
                return NULL;
            }
            buf = p;
            cap *= 2;
        }
        buf[len++] = (char)c;
    }
    if (c == EOF && len == 0) {
        free(buf);
        return NULL;
    }
    buf[len] = '\0';
    return buf;
}

/* Builds the packed Envelope for one JSON line. Fills item, or line->local_*. */
static void s_build(const char *text, post_item_t *item, s_line_t *line)
{
    json_error_t jerr;
    json_t *obj = json_loads(text, JSON_REJECT_DUPLICATES, &jerr);
    if (!obj) {
        snprintf(line->local_code, sizeof line->local_code, "%s", refusal_code(REFUSAL_bad_json));
        snprintf(line->local_message, sizeof line->local_message, "column %d: %s", jerr.column,
                 jerr.text);
        return;
    }
    char err[256];
    ProtobufCMessage *msg = NULL;
    int rc = pbjson_parse(&rectify__envelope__descriptor, obj, &msg, err, sizeof err);
    json_decref(obj);
    if (rc != RC_OK) {
        snprintf(line->local_code, sizeof line->local_code, "%s", refusal_code(REFUSAL_bad_field));
        snprintf(line->local_message, sizeof line->local_message, "%s", err);
        return;
    }
    Rectify__Envelope *env = (Rectify__Envelope *)msg;
    if (!env->event_id || !*env->event_id) { /* the sender did not choose one: we do */
        char id[IDS_UUID_LEN + 1];
        ids_new_uuid(id);
        char *copy = strdup(id);
        if (copy) {
            if (env->event_id != protobuf_c_empty_string)
                free(env->event_id);
            env->event_id = copy;
        }
    }
    if (env->sent_at_ms == 0)
        env->sent_at_ms = clock_now_ms();
    snprintf(item->event_id, sizeof item->event_id, "%s", env->event_id);
    item->len = rectify__envelope__get_packed_size(env);
    item->frame = malloc(item->len ? item->len : 1);
    if (item->frame)
        rectify__envelope__pack(env, item->frame);
    else {
        snprintf(line->local_code, sizeof line->local_code, "%s", refusal_code(REFUSAL_no_memory));
        snprintf(line->local_message, sizeof line->local_message, "out of memory");
    }
    rectify__envelope__free_unpacked(env, NULL);
}

static int s_cmd_post(const config_t *cfg, int argc, char **argv)
{
    poster_opts_t opts = {.timeout_ms = 2000, .retries = 5, .window = 1000};
    const char *path = NULL;
    int wait = 1;
    for (int i = 0; i < argc; i++) {
        long v;
        if (!strcmp(argv[i], "--no-wait")) {
            wait = 0;
        } else if (!strcmp(argv[i], "--timeout-ms") && i + 1 < argc) {
            if (s_parse_int(argv[++i], 10, 600000, &v) < 0) {
                fprintf(stderr, "rectifyctl post: --timeout-ms: \"%s\" is not 10..600000\n",
                        argv[i]);
                return 2;
            }
            opts.timeout_ms = (int)v;
        } else if (!strcmp(argv[i], "--retries") && i + 1 < argc) {
            if (s_parse_int(argv[++i], 0, 1000, &v) < 0) {
                fprintf(stderr, "rectifyctl post: --retries: \"%s\" is not 0..1000\n", argv[i]);
                return 2;
            }
            opts.retries = (int)v;
        } else if (!path) {
            path = argv[i];
        } else {
            fprintf(stderr, "rectifyctl post: unexpected argument \"%s\"\n", argv[i]);
            return 2;
        }
    }
    if (!path) {
        fprintf(stderr, "rectifyctl post: name a FILE, or - for standard input\n");
        return 2;
    }
    FILE *in = strcmp(path, "-") ? fopen(path, "r") : stdin;
    if (!in) {
        fprintf(stderr, "rectifyctl post: %s: %s\n", path, strerror(errno));
        return 2;
    }
    size_t cap = 1024, n = 0;
    post_item_t *items = calloc(cap, sizeof *items);
    s_line_t *lines = calloc(cap, sizeof *lines);
    int status = 0;
    long lineno = 0;
    char *text;
    int too_long;
    while (items && lines && (text = s_read_line(in, &too_long))) {
        lineno++;
        const char *p = text;
        while (*p == ' ' || *p == '\t' || *p == '\r')
            p++;
        if (*p == '\0' || *p == '#') {
            free(text);
            continue;
        }
        if (n == cap) {
            post_item_t *ni = realloc(items, 2 * cap * sizeof *items);
            s_line_t *nl = ni ? realloc(lines, 2 * cap * sizeof *lines) : NULL;
            if (ni)
                items = ni;
            if (nl)
                lines = nl;
            if (!ni || !nl) {
                free(text);
                fprintf(stderr, "rectifyctl post: out of memory\n");
                status = 2;
                break;
            }
            memset(items + cap, 0, cap * sizeof *items);
            memset(lines + cap, 0, cap * sizeof *lines);
            cap *= 2;
        }
        lines[n].line = lineno;
        if (too_long) {
            snprintf(lines[n].local_code, sizeof lines[n].local_code, "%s",
                     refusal_code(REFUSAL_bad_json));
            snprintf(lines[n].local_message, sizeof lines[n].local_message,
                     "line is longer than %d bytes", MAX_LINE_BYTES);
        } else {
            s_build(text, &items[n], &lines[n]);
        }
        free(text);
        n++;
    }
    if (in != stdin)
        fclose(in);
    if (status != 0 || !items || !lines)
        goto out_free;

    /* send only the lines that built; keep the others' local refusals */
    post_item_t *send = calloc(n ? n : 1, sizeof *send);
    size_t *map = calloc(n ? n : 1, sizeof *map);
    size_t nsend = 0;
    if (!send || !map) {
        free(send);
        free(map);
        status = 2;
        goto out_free;
    }
    for (size_t i = 0; i < n; i++)
        if (!lines[i].local_code[0]) {
            map[nsend] = i;
            send[nsend++] = items[i];
        }
    poster_creds_t creds;
    if (ctl_credentials(cfg, &creds, "post") != RC_OK) {
        status = 2;
        goto out_free;
    }
    opts.creds = &creds;
    void *ctx = zmq_ctx_new();
    int rc = poster_run(ctx, config_str(cfg, SET_intake_bind), send, nsend, &opts);
    if (rc == RC_ERR_IO || rc == RC_ERR_NOMEM) {
        fprintf(stderr, "rectifyctl post: cannot reach intake at %s\n",
                config_str(cfg, SET_intake_bind));
        status = 2;
    }
    zmq_ctx_term(ctx);
    ctl_outcome_t *outcomes = wait ? calloc(nsend ? nsend : 1, sizeof *outcomes) : NULL;
    if (outcomes && status == 0 && ctl_wait_outcomes(cfg, &creds, send, nsend, outcomes, 30000) > 0)
        status = 1;
    ctl_outcome_t **by_line = calloc(n ? n : 1, sizeof *by_line);
    for (size_t k = 0; k < nsend; k++) {
        items[map[k]] = send[k];
        if (outcomes && by_line)
            by_line[map[k]] = &outcomes[k];
    }
    free(send);
    free(map);
    for (size_t i = 0; i < n; i++) {
        if (lines[i].local_code[0]) {
            s_print_result(lines[i].line, "", "REJECTED", lines[i].local_code,
                           lines[i].local_message, NULL);
            status = status ? status : 1;
            continue;
        }
        post_item_t *it = &items[i];
        const ctl_outcome_t *oc = by_line ? by_line[i] : NULL;
        s_print_result(lines[i].line, it->event_id, poster_status_name(it->status), it->code,
                       it->message, oc);
        if (it->status == POST_REJECTED || it->status == POST_UNANSWERED ||
            it->status == POST_WAITING || (oc && strcmp(oc->outcome, "applied") != 0))
            status = status ? status : 1;
    }
    free(outcomes);
    free(by_line);
out_free:
    for (size_t i = 0; items && i < n; i++)
        free(items[i].frame);
    free(items);
    free(lines);
    return status;
}

/* status: what each service holds, from the database. */
static const db_stmt_t s_status = {"ctl_status",
                                   "SELECT (SELECT count(*) FROM intake_event),"
                                   " (SELECT count(*) FROM wf_event WHERE outcome = 'applied'),"
                                   " (SELECT count(*) FROM wf_event WHERE outcome = 'refused'),"
                                   " (SELECT count(*) FROM inspection_round),"
                                   " (SELECT count(*) FROM feedback_problem),"
                                   " (SELECT count(*) FROM notification),"
                                   " (SELECT count(*) FROM delivery WHERE status = 'sent'),"
                                   " (SELECT count(*) FROM delivery WHERE status = 'pending'),"
                                   " (SELECT count(*) FROM outbox WHERE dest = 'workflow'),"
                                   " (SELECT count(*) FROM outbox WHERE dest = 'notify')",
                                   0, 0};
static const db_stmt_t s_refusals = {
    "ctl_refusals",
    "SELECT event_id::text, event_type, unit, code, message FROM wf_event"
    " WHERE outcome = 'refused' ORDER BY seq DESC LIMIT 20",
    0, 0};

static int s_cmd_status(const config_t *cfg, int argc, char **argv)
{
    int as_json = argc > 0 && !strcmp(argv[0], "--json");
    db_t *db = ctl_connect(cfg);
    if (!db)
        return 1;
    PGresult *res = db_run(db, &s_status, NULL, NULL, NULL);
    PGresult *ref = res ? db_run(db, &s_refusals, NULL, NULL, NULL) : NULL;
    if (!res || !ref) {
        fprintf(stderr, "rectifyctl status: %s\n", db_error(db));
        PQclear(res);
        db_destroy(&db);
        return 1;
    }
    static const char *names[] = {"events_accepted", "events_applied",     "events_refused",
                                  "rounds",          "problems",           "notices",
                                  "deliveries_sent", "deliveries_pending", "queued_to_workflow",
                                  "queued_to_notify"};
    static const char *labels[] = {"intake: events accepted",     "workflow: events applied",
                                   "workflow: events refused",    "workflow: inspection rounds",
                                   "workflow: feedback problems", "notify: notices",
                                   "notify: deliveries sent",     "notify: deliveries pending",
                                   "queued intake -> workflow",   "queued workflow -> notify"};
    if (as_json) {
        json_t *o = json_object();
        for (int i = 0; i < 10; i++)
            json_object_set_new(o, names[i],
                                json_integer(strtoll(PQgetvalue(res, 0, i), NULL, 10)));
        json_t *arr = json_array();
        for (int r = 0; r < PQntuples(ref); r++)
            json_array_append_new(
                arr, json_pack("{s:s,s:s,s:s,s:s,s:s}", "event_id", PQgetvalue(ref, r, 0), "type",
                               PQgetvalue(ref, r, 1), "unit", PQgetvalue(ref, r, 2), "code",
                               PQgetvalue(ref, r, 3), "message", PQgetvalue(ref, r, 4)));
        json_object_set_new(o, "recent_refusals", arr);
        char *text = json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        if (text)
            puts(text);
        free(text);
        json_decref(o);
    } else {
        for (int i = 0; i < 10; i++)
            printf("%-30s %10s\n", labels[i], PQgetvalue(res, 0, i));
        if (PQntuples(ref) > 0)
            printf("\nrecent refusals:\n");
        for (int r = 0; r < PQntuples(ref); r++)
            printf("  %s %-14s %-10s %s: %s\n", PQgetvalue(ref, r, 0), PQgetvalue(ref, r, 1),
                   PQgetvalue(ref, r, 2), PQgetvalue(ref, r, 3), PQgetvalue(ref, r, 4));
    }
    PQclear(res);
    PQclear(ref);
    db_destroy(&db);
    return 0;
}

static const db_stmt_t s_clock_show = {
    "ctl_clock_show",
    "SELECT coalesce(to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), 'real time')"
    " FROM (SELECT (SELECT at FROM sim_clock) AS at) x",
    0, 0};
/* setting the clock also lets workflow schedule the periodic reports anew
 * from the new time */
static const db_stmt_t s_clock_set = {"ctl_clock_set",
                                      "WITH fresh AS (DELETE FROM report_schedule)"
                                      " INSERT INTO sim_clock (at) VALUES ($1::timestamptz)"
                                      " ON CONFLICT (only_row) DO UPDATE SET at = excluded.at",
                                      1, 0};
static const db_stmt_t s_clock_advance = {
    "ctl_clock_advance",
    "INSERT INTO sim_clock (at) VALUES (now() + $1::interval)"
    " ON CONFLICT (only_row) DO UPDATE SET at = sim_clock.at + $1::interval",
    1, 0};
static const db_stmt_t s_clock_real = {"ctl_clock_real", "DELETE FROM sim_clock", 0, 0};

/* clock: shows or moves the simulated clock. */
static int s_cmd_clock(const config_t *cfg, int argc, char **argv)
{
    const char *verb = argc > 0 ? argv[0] : "show";
    char interval[64] = "";
    if (!strcmp(verb, "advance")) {
        char *end = NULL;
        long v = argc > 1 ? strtol(argv[1], &end, 10) : -1;
        const char *unit = end && !strcmp(end, "d")   ? "days"
                           : end && !strcmp(end, "h") ? "hours"
                           : end && !strcmp(end, "m") ? "minutes"
                                                      : NULL;
        if (v < 0 || v > 100000 || !unit || end == argv[1]) {
            fprintf(stderr, "rectifyctl clock advance: \"%s\" is not N followed by d, h or m\n",
                    argc > 1 ? argv[1] : "");
            return 2;
        }
        snprintf(interval, sizeof interval, "%ld %s", v, unit);
    } else if (!strcmp(verb, "set") && argc < 2) {
        fprintf(stderr, "rectifyctl clock set: name the time, e.g. 2021-12-27T00:00:00Z\n");
        return 2;
    } else if (strcmp(verb, "show") && strcmp(verb, "set") && strcmp(verb, "real")) {
        fprintf(stderr, "rectifyctl clock: unknown verb \"%s\"\n", verb);
        return 2;
    }
    db_t *db = ctl_connect(cfg);
    if (!db)
        return 1;
    int rc = RC_OK;
    if (!strcmp(verb, "set")) {
        const char *params[] = {argv[1]};
        rc = db_do(db, &s_clock_set, params);
    } else if (!strcmp(verb, "advance")) {
        const char *params[] = {interval};
        rc = db_do(db, &s_clock_advance, params);
    } else if (!strcmp(verb, "real")) {
        rc = db_do(db, &s_clock_real, NULL);
    }
    PGresult *res = rc == RC_OK ? db_run(db, &s_clock_show, NULL, NULL, NULL) : NULL;
    if (!res) {
        fprintf(stderr, "rectifyctl clock: %s\n", db_error(db));
        db_destroy(&db);
        return 1;
    }
    printf("%s\n", PQgetvalue(res, 0, 0));
    PQclear(res);
    db_destroy(&db);
    return 0;
}

/* rectifyctl codes [--json]: the catalogue of refusal codes (refusal.h). */
static int s_cmd_codes(int argc, char **argv)
{
    bool as_json = argc == 1 && !strcmp(argv[0], "--json");
    if (argc > 1 || (argc == 1 && !as_json)) {
        fprintf(stderr, "usage: rectifyctl codes [--json]\n");
        return 2;
    }
    for (int r = 0; r < REFUSAL_COUNT; r++) {
        int by = refusal_by((refusal_t)r);
        char who[40];
        snprintf(who, sizeof who, "%s%s%s", by & BY_INTAKE ? "intake," : "",
                 by & BY_WORKFLOW ? "workflow," : "", by & BY_RECTIFYCTL ? "rectifyctl," : "");
        who[strlen(who) - 1] = '\0'; /* the last comma */
        if (as_json) {
            json_t *o = json_pack("{s:s, s:s, s:s}", "code", refusal_code((refusal_t)r), "by", who,
                                  "meaning", refusal_meaning((refusal_t)r));
            char *line = o ? json_dumps(o, JSON_COMPACT | JSON_ENSURE_ASCII) : NULL;
            if (!line) {
                json_decref(o);
                fprintf(stderr, "rectifyctl codes: out of memory\n");
                return 1;
            }
            printf("%s\n", line);
            free(line);
            json_decref(o);
        } else {
            printf("%-20s %-20s %s\n", refusal_code((refusal_t)r), who,
                   refusal_meaning((refusal_t)r));
        }
    }
    return 0;
}

int main(int argc, char **argv)
{
    const char *file = NULL;
    int i = 1;
    for (; i < argc && argv[i][0] == '-' && argv[i][1] == '-'; i++) {
        if (!strcmp(argv[i], "--help")) {
            s_usage(stdout);
            return 0;
        } else if (!strcmp(argv[i], "--config") && i + 1 < argc) {
            file = argv[++i];
        } else {
            break;
        }
    }
    if (i >= argc) {
        s_usage(stderr);
        return 2;
    }
    if (!strcmp(argv[i], "codes")) /* the catalogue: no configuration, no database */
        return s_cmd_codes(argc - i - 1, argv + i + 1);
    char err[512];
    config_t *cfg = config_load(file, err, sizeof err);
    if (!cfg) {
        fprintf(stderr, "rectifyctl: config: %s\n", err);
        return 2;
    }
    log_open("rectifyctl", log_level_from_name(config_str(cfg, SET_log_level)), NULL, NULL);
    const char *cmd = argv[i++];
    for (size_t r = 0; r < sizeof s_readers / sizeof *s_readers; r++)
        s_read_only = s_read_only || !strcmp(cmd, s_readers[r]);
    int status;
    if (!strcmp(cmd, "migrate"))
        status = s_cmd_migrate(cfg);
    else if (!strcmp(cmd, "post"))
        status = s_cmd_post(cfg, argc - i, argv + i);
    else if (!strcmp(cmd, "status"))
        status = s_cmd_status(cfg, argc - i, argv + i);
    else if (!strcmp(cmd, "ledger"))
        status = ctl_ledger(cfg, argc - i, argv + i);
    else if (!strcmp(cmd, "item"))
        status = ctl_item(cfg, argc - i, argv + i);
    else if (!strcmp(cmd, "bulletin"))
        status = ctl_bulletin(cfg, argc - i, argv + i);
    else if (!strcmp(cmd, "orders"))
        status = ctl_orders(cfg, argc - i, argv + i);
    else if (!strcmp(cmd, "order"))
        status = ctl_order(cfg, argc - i, argv + i);
    else if (!strcmp(cmd, "repeats"))
        status = ctl_repeats(cfg, argc - i, argv + i);
    else if (!strcmp(cmd, "hotline"))
        status = ctl_hotline(cfg, argc - i, argv + i);
    else if (!strcmp(cmd, "sla"))
        status = ctl_sla(cfg, argc - i, argv + i);
    else if (!strcmp(cmd, "holiday"))
        status = ctl_holiday(cfg, argc - i, argv + i);
    else if (!strcmp(cmd, "import"))
        status = ctl_import(cfg, argc - i, argv + i);
    else if (!strcmp(cmd, "recipient"))
        status = ctl_recipient(cfg, argc - i, argv + i);
    else if (!strcmp(cmd, "dead-letters"))
        status = ctl_dead_letters(cfg, argc - i, argv + i);
    else if (!strcmp(cmd, "dead-events"))
        status = ctl_dead_events(cfg, argc - i, argv + i);
    else if (!strcmp(cmd, "requeue"))
        status = ctl_requeue(cfg, argc - i, argv + i);
    else if (!strcmp(cmd, "resend"))
        status = ctl_resend(cfg, argc - i, argv + i);
    else if (!strcmp(cmd, "report"))
        status = ctl_report(cfg, argc - i, argv + i);
    else if (!strcmp(cmd, "clock"))
        status = s_cmd_clock(cfg, argc - i, argv + i);
    else if (!strcmp(cmd, "key"))
        status = ctl_key(cfg, argc - i, argv + i);
    else {
        fprintf(stderr, "rectifyctl: unknown command \"%s\" (try --help)\n", cmd);
        status = 2;
    }
    config_destroy(&cfg);
    return status;
}
