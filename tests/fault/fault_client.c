/* rectify-fault-client: the load of the fault suite (scripts/faults.sh).
 *
 *   rectify-fault-client --endpoint EP --out FILE [--setup units|round|all] [--phase NAME]
 *       [--events N] [--rate R] [--window W] [--timeout-ms T] [--give-up-ms G]
 *       [--poison-every K] [--poison-kinds KIND,...]
 *
 * Posts chains of lifecycle events to intake, each event on the DEALER of
 * its unit's key (CURVE: RECTIFY_KEY_FILE names a folder of the units'
 * certificates, RECTIFY_KEYS_DIR holds intake's public key; one plain
 * socket with allow_plain): each
 * chain opens a round, posts a problem and an item, assigns, starts, reports
 * progress, submits and writes off that item, each step sent only once the
 * step before it was answered, so a step applied out of order is refused by
 * workflow and shows. At most W events are in flight; what is not answered
 * within T ms is sent again with the same id and bytes, until it is answered
 * or G ms have passed since its first send (then it counts as unanswered).
 *
 * With --poison-every K, every K-th first send is a poison event instead,
 * in turn of the kinds below (or of those named by --poison-kinds); each
 * must be answered and must not stop the valid events. --setup posts the
 * units and the poison round the other runs need (once, first, on a fresh
 * database): "units" the admin's registrations, "round" the office's poison
 * round (a key is made for a registered unit only, so between the two the
 * units get their keys), "all" both.
 *
 * FILE receives one tab-separated line per event sent, for psql's \copy:
 *   phase kind expect chain step event_id(uuid or \N) status code attempts
 *   accept_order(\N unless ACCEPTED) n_accepted answers frame(hex) round_id sock
 * accept_order numbers the events in the order intake's ACCEPTED answers
 * arrived; sock is the connection (the key) the event went on, and answers
 * are in intake's order on each connection, not across them. stdout gets one line of counts. The checker (scripts/faults.sh)
 * judges; the exit status says only whether the load ran (0), could not run
 * (1) or was asked wrongly (2). */
#include "bus.h"
#include "config.h"
#include "poster.h"
#include "clock.h"
#include "ids.h"
#include "pbjson.h"
#include "rectify.pb-c.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zmq.h>

/* The units every run posts as, registered by --setup, and the round the
 * poisons that need one refer to. */
#define U_OFFICE "fault-office"
#define U_UNIT "fault-unit"
#define U_DEPT "fault-unit.dept"
#define U_TEAM "fault-unit.team"
#define POISON_ROUND "fault-poison-round"

#define MAX_SIDE 8 /* poisons without a usable id, each on a socket of its own */

/* Events as rectifyctl post reads them (deploy/demo). In a template, $R is
 * the round id, $N a name unique in the run, $D the deadline, $B a name of
 * 300 Chinese characters (900 bytes) and $L one of 500 (1,500 bytes). */
#define OPEN_ROUND(group)                                                                          \
    "{\"unit\":\"" U_OFFICE "\",\"open_round\":{\"round_id\":\"$R\",\"group_name\":\"" group       \
    "\",\"target_unit\":\"" U_UNIT "\",\"onsite_from\":\"2020-10-16\",\"onsite_to\":\"2020-12-"    \
    "18\",\"feedback_date\":\"2021-01-29\",\"kind\":\"INSPECTION\"}}"
#define POST_PROBLEM(id, title)                                                                    \
    "{\"unit\":\"" U_OFFICE "\",\"post_problem\":{\"round_id\":\"$R\",\"problem_id\":\"" id        \
    "\",\"aspect\":\"(一)贯彻落实党中央决策部署方面\",\"title\":\"" title "\"}}"
#define REGISTER_UNIT(sender, code, name, parent, role)                                            \
    "{\"unit\":\"" sender "\",\"register_unit\":{\"code\":\"" code "\",\"name\":\"" name           \
    "\",\"parent\":\"" parent "\",\"role\":\"" role "\"}}"
#define TASK_EVENT(sender, type, fields)                                                           \
    "{\"unit\":\"" sender "\",\"" type "\":{\"round_id\":\"$R\",\"task_id\":\"1.1\"" fields "}}"
#define EVIDENCE                                                                                   \
    ",\"evidence\":[{\"title\":\"整改台账\",\"sha256\":"                                       \
    "\"9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08\","                        \
    "\"uri\":\"https://oa.example.gov.cn/evidence/1\"}]"

/* --setup: the units, then the poison round with its problem "1". */
static const char *const s_setup[] = {
    REGISTER_UNIT("admin", U_OFFICE, "市委巡视办(故障测试)", "", "INSPECTION_OFFICE"),
    REGISTER_UNIT("admin", U_UNIT, "市城管执法局(故障测试)", "", "UNIT"),
    REGISTER_UNIT("admin", U_DEPT, "执法监督处", U_UNIT, "UNIT"),
    REGISTER_UNIT("admin", U_TEAM, "整改专班", U_UNIT, "SUPERVISION_OFFICE"),
    OPEN_ROUND("市委第六巡视组"),
    POST_PROBLEM("1", "把方向、管大局、保落实不够到位的问题"),
};

/* A chain: one item of a new round from feedback to write-off. */
static const char *const s_chain[] = {
    OPEN_ROUND("市委第六巡视组"),
    POST_PROBLEM("1", "执法监督不够到位的问题"),
    "{\"unit\":\"" U_UNIT "\",\"post_item\":{\"round_id\":\"$R\",\"problem_id\":\"1\","
    "\"item_id\":\"1.1\",\"title\":\"建立健全执法监督长效机制\"}}",
    TASK_EVENT(U_UNIT, "assign",
               ",\"lead_leader\":\"局长\",\"responsible_unit\":\"" U_DEPT "\",\"deadline\":\"$D\","
               "\"track\":\"FIX_NOW\""),
    TASK_EVENT(U_DEPT, "start", ""),
    TASK_EVENT(U_DEPT, "report_progress", ",\"text\":\"已完成专项检查,整改过半\"" EVIDENCE),
    TASK_EVENT(U_DEPT, "submit_write_off", ",\"text\":\"整改完成,申请销号\"" EVIDENCE),
    TASK_EVENT(U_TEAM, "write_off", ",\"note\":\"核查属实,同意销号\""),
};

#define SETUP_STEPS ((int)(sizeof s_setup / sizeof s_setup[0]))
#define CHAIN_STEPS ((int)(sizeof s_chain / sizeof s_chain[0]))
#define SETUP_UNITS 4 /* the first steps of s_setup: the admin's */

/* The steps of s_setup a --setup run posts ([from, to)). */
static int s_setup_from, s_setup_to = SETUP_STEPS;

typedef enum {
    K_SETUP,
    K_VALID,
    /* the poisons, sent in this order, round and round */
    K_SURROGATE,
    K_OVERLONG,
    K_BEYOND_MAX,
    K_NUL_UNIT,
    K_NUL_FIELD,
    K_OVERSIZED,
    K_TOO_LONG,
    K_FAR_SENT_AT,
    K_LONG_ID,
    K_REUSED_ID,
    K_FUTURE_DATE,
    K_COUNT
} kind_t;

#define K_FIRST_POISON K_SURROGATE

/* Each kind: what the checker demands of it (scripts/faults.sh), and for a
 * poison its event and the bytes patched into the packed frame over a
 * marker of the same length (JSON cannot carry them; protobuf-c packs C
 * strings, so a NUL inside a string is written this way too).
 *   applied   ACCEPTED (or DUPLICATE) and applied by workflow
 *   refused   REJECTED with a code, or accepted and refused by workflow
 *   rejected  REJECTED with a code
 *   answered  REJECTED with a code, or accepted with an outcome in workflow
 *   duplicate DUPLICATE or REJECTED with a code, and the stored event is
 *             still the first one sent with that id
 * K_FAR_SENT_AT, K_LONG_ID and K_REUSED_ID differ in the envelope (see
 * s_build_poison). */
static const struct {
    const char *name, *expect;
    const char *json;
    const char *marker, *bytes;
} s_kinds[K_COUNT] = {
    [K_SETUP] = {"setup", "applied", NULL, NULL, NULL},
    [K_VALID] = {"valid", "applied", NULL, NULL, NULL},
    [K_SURROGATE] = {"surrogate", "refused", OPEN_ROUND("市委第六巡视组@@@"), "@@@",
                     "\xED\xA0\x80"}, /* U+D800, a UTF-16 surrogate */
    [K_OVERLONG] = {"overlong", "refused", POST_PROBLEM("o-$N", "问题@@@标题"), "@@@",
                    "\xE0\x80\x80"}, /* NUL, overlong */
    [K_BEYOND_MAX] = {"beyond_max", "refused",
                      REGISTER_UNIT("admin", "fault-b-$N", "单位@@@@", "", "UNIT"), "@@@@",
                      "\xF4\x90\x80\x80"}, /* past U+10FFFF */
    /* read as "admin", this would register an admin */
    [K_NUL_UNIT] = {"nul_unit", "refused",
                    REGISTER_UNIT("admin#evil", "fault-evil-$N", "evil", "", "ADMIN"), "admin#evil",
                    "admin\0evil"},
    [K_NUL_FIELD] = {"nul_field", "refused", OPEN_ROUND("巡视组#<script>"), "#<script>",
                     "\0<script>"},
    [K_OVERSIZED] = {"oversized", "answered", OPEN_ROUND("$B"), NULL, NULL},
    [K_TOO_LONG] = {"too_long", "rejected", OPEN_ROUND("$L"), NULL, NULL},
    [K_FAR_SENT_AT] = {"far_sent_at", "answered", OPEN_ROUND("市委第六巡视组"), NULL,
                       NULL}, /* sent_at_ms = 2^62 */
    [K_LONG_ID] = {"long_id", "rejected", OPEN_ROUND("市委第六巡视组"), NULL,
                   NULL}, /* a 1,000-byte id, not a UUID */
    [K_REUSED_ID] = {"reused_id", "duplicate", OPEN_ROUND("另一内容"), NULL,
                     NULL}, /* an accepted id, other content */
    [K_FUTURE_DATE] = {"future_date", "refused",
                       "{\"unit\":\"" U_UNIT "\",\"post_item\":{\"round_id\":\"" POISON_ROUND
                       "\",\"problem_id\":\"1\",\"item_id\":\"f-$N\",\"title\":\"未来事项\","
                       "\"on_date\":\"9999-12-31\"}}",
                       NULL, NULL},
};

typedef enum { S_NEW, S_WAITING, S_ACCEPTED, S_DUPLICATE, S_REJECTED, S_UNANSWERED } status_t;

static const char *s_status_name[] = {"NEW",       "WAITING",  "ACCEPTED",
                                      "DUPLICATE", "REJECTED", "UNANSWERED"};

typedef struct {
    kind_t kind;
    int chain, step; /* -1 for poisons */
    char *id;        /* owned: a UUID, or for K_LONG_ID the long id */
    uint8_t *frame;  /* owned: the packed Envelope, the same bytes on every send */
    size_t len;
    char round_id[64];
    status_t status;
    char code[32];
    int attempts, answers, n_accepted;
    long accept_order; /* 0: not accepted */
    int64_t first_ms, last_ms;
    int key;        /* the socket (the unit's key) it goes on */
    bus_client_t *side; /* K_LONG_ID: its own connection */
    int flight_pos; /* index in the in-flight list, -1 when not in it */
    int next_same;  /* the next item with the same id, -1 */
} item_t;

typedef struct {
    bool setup;
    int next_step; /* the step to send once the one before is answered */
} chain_t;

typedef struct {
    const char *phase, *endpoint;
    void *ctx;
    /* CURVE (as deployed): a socket per unit key of key_file's folder; plain
     * (allow_plain): one socket */
    poster_creds_t creds;
    bus_client_t socks[POSTER_MAX_KEYS];
    int nsocks;
    long reopened; /* connections opened again after a refused handshake */
    item_t *items;
    int nitems, cap;
    chain_t *chains;
    int nchains, next_chain;
    int *ready; /* ring of chains whose next step may be sent */
    int ready_head, ready_len;
    int *flight; /* items waiting for an answer */
    int nflight;
    int *slots; /* hash of event id -> first item index + 1 */
    size_t mask;
    long first_sends, valid_sends, poisons;
    long accept_seq, stray, late;
    long retry_later; /* RETRY_LATER answers: the item is sent again on its timeout */
    int next_poison;
    bool poison_on[K_COUNT]; /* the kinds to send (--poison-kinds) */
    char deadline[11];
    /* options */
    int window, timeout_ms, give_up_ms, rate, poison_every;
} load_t;

static long s_arg(const char *name, const char *value, long lo, long hi)
{
    char *end = NULL;
    errno = 0;
    long v = strtol(value, &end, 10);
    if (errno || !end || *end || v < lo || v > hi) {
        fprintf(stderr, "rectify-fault-client: %s: \"%s\" is not %ld..%ld\n", name, value, lo, hi);
        exit(2);
    }
    return v;
}

static void *s_xcalloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size);
    if (!p) {
        fprintf(stderr, "rectify-fault-client: out of memory\n");
        exit(1);
    }
    return p;
}

static uint64_t s_hash(const char *s)
{
    uint64_t h = 1469598103934665603ULL;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h;
}

/* The first item with this id, or NULL. */
static item_t *s_find(load_t *l, const char *id)
{
    for (size_t s = s_hash(id) & l->mask; l->slots[s]; s = (s + 1) & l->mask) {
        item_t *it = &l->items[l->slots[s] - 1];
        if (strcmp(it->id, id) == 0)
            return it;
    }
    return NULL;
}

static void s_index(load_t *l, item_t *it)
{
    int idx = (int)(it - l->items);
    item_t *first = s_find(l, it->id);
    if (first) { /* a reused id: chain it behind the first */
        while (first->next_same >= 0)
            first = &l->items[first->next_same];
        first->next_same = idx;
        return;
    }
    size_t s = s_hash(it->id) & l->mask;
    while (l->slots[s])
        s = (s + 1) & l->mask;
    l->slots[s] = idx + 1;
}

/* A new item; id NULL for a new UUID. */
static item_t *s_new_item(load_t *l, kind_t kind, const char *id)
{
    if (l->nitems == l->cap) {
        fprintf(stderr, "rectify-fault-client: more events than planned (a bug)\n");
        exit(1);
    }
    item_t *it = &l->items[l->nitems++];
    memset(it, 0, sizeof *it);
    it->kind = kind;
    it->chain = it->step = -1;
    it->flight_pos = it->next_same = -1;
    it->id = s_xcalloc(id ? strlen(id) + 1 : IDS_UUID_LEN + 1, 1);
    if (id)
        memcpy(it->id, id, strlen(id) + 1);
    else
        ids_new_uuid(it->id);
    return it;
}

/* Writes tmpl with $R, $N, $D, $B and $L filled in (see OPEN_ROUND). */
static void s_expand(const load_t *l, const char *tmpl, const char *round_id, const char *name,
                     char *out, size_t outlen)
{
    size_t k = 0;
    for (const char *p = tmpl; *p; p++) {
        char big[1501];
        const char *v = NULL;
        if (*p == '$' && p[1]) {
            switch (p[1]) {
            case 'R':
                v = round_id;
                break;
            case 'N':
                v = name;
                break;
            case 'D':
                v = l->deadline;
                break;
            case 'B':
            case 'L': {
                size_t chars = p[1] == 'B' ? 300 : 500;
                for (size_t i = 0; i < chars; i++)
                    memcpy(big + 3 * i, "巡", 3);
                big[3 * chars] = '\0';
                v = big;
                break;
            }
            }
        }
        size_t n = v ? strlen(v) : 1;
        if (k + n >= outlen) {
            fprintf(stderr, "rectify-fault-client: an event template is too long (a bug)\n");
            exit(1);
        }
        memcpy(out + k, v ? v : p, n);
        k += n;
        p += v != NULL;
    }
    out[k] = '\0';
}

/* The socket an event of unit goes on: its unit's key; for a unit with no
 * key of its own (the nul_unit poison's "admin#evil"), the key of the
 * longest unit it begins with, so a key holder tries to smuggle it; else
 * the first. */
static int s_key_of(const load_t *l, const char *unit)
{
    int best = 0;
    size_t best_len = 0;
    for (int i = 0; l->creds.on && i < l->creds.nkeys; i++) {
        const char *u = l->creds.keys[i].unit;
        size_t n = strlen(u);
        if (strcmp(u, unit) == 0)
            return i;
        if (n > best_len && strncmp(u, unit, n) == 0) {
            best = i;
            best_len = n;
        }
    }
    return best;
}

/* Opens c: a DEALER to intake, with the key-th certificate when CURVE is
 * on; exits when it cannot. */
static void s_open(load_t *l, int key, bus_client_t *c)
{
    if (bus_client_open(c, l->ctx, l->endpoint, l->creds.on ? &l->creds.keys[key] : NULL,
                        l->creds.server_key) != RC_OK) {
        fprintf(stderr, "rectify-fault-client: cannot connect to %s: %s\n", l->endpoint,
                zmq_strerror(errno));
        exit(1);
    }
}

/* A handshake of c was refused (intake's key store away while PostgreSQL
 * restarts, say): libzmq gave the connection up, so it is opened again. */
static bool s_reopen_if_dropped(load_t *l, int key, bus_client_t *c)
{
    if (bus_client_check(c) == BUS_CLIENT_OK)
        return false;
    bus_client_close(c);
    s_open(l, key, c);
    l->reopened++;
    return true;
}

/* Packs the event of template tmpl into it->frame, with it->id as event id
 * and sent_at_ms (0: now). */
static void s_pack(const load_t *l, item_t *it, const char *tmpl, const char *name,
                   int64_t sent_at_ms)
{
    char text[4096], err[256];
    s_expand(l, tmpl, it->round_id, name, text, sizeof text);
    json_error_t jerr;
    json_t *obj = json_loads(text, 0, &jerr);
    ProtobufCMessage *msg = NULL;
    if (!obj || pbjson_parse(&rectify__envelope__descriptor, obj, &msg, err, sizeof err) != 0) {
        fprintf(stderr, "rectify-fault-client: event template: %s (a bug)\n",
                obj ? err : jerr.text);
        exit(1);
    }
    json_decref(obj);
    Rectify__Envelope *env = (Rectify__Envelope *)msg;
    it->key = s_key_of(l, env->unit);
    char *keep = env->event_id;
    env->event_id = it->id;
    env->sent_at_ms = sent_at_ms ? sent_at_ms : clock_now_ms();
    it->len = rectify__envelope__get_packed_size(env);
    it->frame = s_xcalloc(it->len, 1);
    rectify__envelope__pack(env, it->frame);
    env->event_id = keep;
    rectify__envelope__free_unpacked(env, NULL);
}

/* Writes the poison's bytes over its marker in the packed frame. */
static void s_patch(item_t *it, const char *marker, const char *bytes)
{
    size_t n = strlen(marker);
    for (size_t i = 0; i + n <= it->len; i++)
        if (memcmp(it->frame + i, marker, n) == 0) {
            memcpy(it->frame + i, bytes, n);
            return;
        }
    fprintf(stderr, "rectify-fault-client: marker not found in a poison frame (a bug)\n");
    exit(1);
}

/* An accepted valid event answered at its first send: no late answer for
 * it can still arrive, so an answer to its id belongs to the reuse. */
static item_t *s_reusable(load_t *l)
{
    for (int i = l->nitems - 1; i >= 0 && i >= l->nitems - 2000; i--) {
        item_t *it = &l->items[i];
        if (it->kind == K_VALID && it->status == S_ACCEPTED && it->attempts == 1 &&
            it->next_same < 0)
            return it;
    }
    return NULL;
}

static int s_side_in_use(const load_t *l)
{
    int n = 0;
    for (int i = 0; i < l->nflight; i++)
        n += l->items[l->flight[i]].side != NULL;
    return n;
}

/* The next poison, of the next kind that can be built now; NULL if none. */
static item_t *s_build_poison(load_t *l)
{
    for (int tries = 0; tries < K_COUNT - K_FIRST_POISON; tries++) {
        kind_t kind = (kind_t)(K_FIRST_POISON + l->next_poison);
        l->next_poison = (l->next_poison + 1) % (K_COUNT - K_FIRST_POISON);
        if (!l->poison_on[kind])
            continue;
        item_t *orig = NULL;
        if (kind == K_REUSED_ID && !(orig = s_reusable(l)))
            continue;
        if (kind == K_LONG_ID && s_side_in_use(l) >= MAX_SIDE)
            continue;
        long n = ++l->poisons;
        item_t *it;
        if (kind == K_LONG_ID) {
            char id[1001];
            char uuid[IDS_UUID_LEN + 1];
            ids_new_uuid(uuid);
            int k = snprintf(id, sizeof id, "not-a-uuid-%s-", uuid);
            memset(id + k, 'x', sizeof id - 1 - (size_t)k);
            id[sizeof id - 1] = '\0';
            it = s_new_item(l, kind, id);
        } else {
            it = s_new_item(l, kind, orig ? orig->id : NULL);
        }
        char name[48];
        snprintf(name, sizeof name, "%s-%ld", l->phase, n);
        snprintf(it->round_id, sizeof it->round_id, "%s-p%ld", l->phase, n);
        if (strstr(s_kinds[kind].json, POISON_ROUND))
            snprintf(it->round_id, sizeof it->round_id, "%s", POISON_ROUND);
        s_pack(l, it, s_kinds[kind].json, name, kind == K_FAR_SENT_AT ? (int64_t)1 << 62 : 0);
        if (s_kinds[kind].marker)
            s_patch(it, s_kinds[kind].marker, s_kinds[kind].bytes);
        s_index(l, it);
        return it;
    }
    return NULL;
}

static item_t *s_build_chain_next(load_t *l, int c)
{
    chain_t *ch = &l->chains[c];
    item_t *it = s_new_item(l, ch->setup ? K_SETUP : K_VALID, NULL);
    it->chain = c;
    it->step = ch->next_step++;
    if (ch->setup)
        snprintf(it->round_id, sizeof it->round_id, "%s", POISON_ROUND);
    else
        snprintf(it->round_id, sizeof it->round_id, "%s-c%d", l->phase, c);
    s_pack(l, it, ch->setup ? s_setup[it->step] : s_chain[it->step], NULL, 0);
    s_index(l, it);
    return it;
}

static int s_chain_steps(const chain_t *ch)
{
    return ch->setup ? s_setup_to : CHAIN_STEPS;
}

static void s_ready_push(load_t *l, int c)
{
    l->ready[(l->ready_head + l->ready_len++) % l->nchains] = c;
}

/* What to send next: a poison when one is due, else the next step of a
 * chain whose last step was answered, else the first step of a new chain. */
static item_t *s_next(load_t *l)
{
    if (l->poison_every > 0 && l->valid_sends >= (l->poisons + 1) * (long)l->poison_every) {
        item_t *p = s_build_poison(l);
        if (p)
            return p;
    }
    if (l->ready_len > 0) {
        int c = l->ready[l->ready_head];
        l->ready_head = (l->ready_head + 1) % l->nchains;
        l->ready_len--;
        return s_build_chain_next(l, c);
    }
    if (l->next_chain < l->nchains)
        return s_build_chain_next(l, l->next_chain++);
    return NULL;
}

static int s_send(load_t *l, item_t *it, int64_t now)
{
    void *sock = it->side ? it->side->sock : l->socks[it->key].sock;
    if (zmq_send(sock, it->frame, it->len, ZMQ_DONTWAIT) < 0)
        return -1;
    it->attempts++;
    it->last_ms = now;
    return 0;
}

static void s_flight_remove(load_t *l, item_t *it)
{
    int pos = it->flight_pos;
    if (pos < 0)
        return;
    l->flight[pos] = l->flight[--l->nflight];
    l->items[l->flight[pos]].flight_pos = pos;
    it->flight_pos = -1;
    if (it->side) {
        bus_client_close(it->side);
        free(it->side);
        it->side = NULL;
    }
}

/* The item is answered (or given up): its chain may go on. */
static void s_finish(load_t *l, item_t *it, status_t status)
{
    it->status = status;
    s_flight_remove(l, it);
    if (it->chain >= 0 && (status == S_ACCEPTED || status == S_DUPLICATE)) {
        chain_t *ch = &l->chains[it->chain];
        if (ch->next_step < s_chain_steps(ch))
            s_ready_push(l, it->chain);
    }
}

static void s_on_ack(load_t *l, item_t *it, const Rectify__Ack *ack)
{
    if (ack->status == RECTIFY__ACK_STATUS__RETRY_LATER) {
        l->retry_later++; /* nothing stored: the item waits and is sent again */
        return;
    }
    status_t st = ack->status == RECTIFY__ACK_STATUS__ACCEPTED    ? S_ACCEPTED
                  : ack->status == RECTIFY__ACK_STATUS__DUPLICATE ? S_DUPLICATE
                                                                  : S_REJECTED;
    it->answers++;
    if (st == S_ACCEPTED)
        it->n_accepted++; /* more than once for one id is a double */
    if (it->status != S_WAITING) {
        l->late++;
        return;
    }
    if (st == S_ACCEPTED)
        it->accept_order = ++l->accept_seq;
    size_t k = 0;
    for (const char *p = ack->code; *p && k + 1 < sizeof it->code; p++)
        it->code[k++] =
            (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_' ? *p : '?';
    it->code[k] = '\0';
    s_finish(l, it, st);
}

/* Reads what is waiting on sock; side is the item owning a side socket. */
static void s_receive(load_t *l, void *sock, item_t *side)
{
    for (int n = 0; n < 10000; n++) {
        zmq_msg_t msg;
        zmq_msg_init(&msg);
        if (zmq_msg_recv(&msg, sock, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close(&msg);
            return;
        }
        Rectify__Ack *ack = rectify__ack__unpack(NULL, zmq_msg_size(&msg), zmq_msg_data(&msg));
        zmq_msg_close(&msg);
        if (!ack) {
            l->stray++;
            continue;
        }
        item_t *it = side;
        if (!it) {
            /* the waiting item with this id, else its first (a late answer) */
            it = s_find(l, ack->event_id);
            for (item_t *w = it; w; w = w->next_same >= 0 ? &l->items[w->next_same] : NULL)
                if (w->status == S_WAITING) {
                    it = w;
                    break;
                }
        }
        if (it && (it->side == NULL) == (side == NULL))
            s_on_ack(l, it, ack);
        else
            l->stray++;
        rectify__ack__free_unpacked(ack, NULL);
        if (side)
            return; /* answered: its socket is closed */
    }
}

static void s_run(load_t *l)
{
    int64_t start_us = clock_mono_us();
    for (;;) {
        int64_t now = clock_mono_ms();
        /* connections given up by libzmq: opened again, and what waited on
         * them sent again at once */
        for (int k = 0; k < l->nsocks; k++)
            if (s_reopen_if_dropped(l, k, &l->socks[k]))
                for (int i = 0; i < l->nflight; i++) {
                    item_t *it = &l->items[l->flight[i]];
                    if (!it->side && it->key == k)
                        it->last_ms = now - l->timeout_ms;
                }
        for (int i = 0; i < l->nflight; i++) {
            item_t *it = &l->items[l->flight[i]];
            if (it->side && s_reopen_if_dropped(l, it->key, it->side))
                it->last_ms = now - l->timeout_ms;
        }
        /* first sends: within the window and the rate */
        while (l->nflight < l->window) {
            if (l->rate > 0 &&
                l->first_sends >= (clock_mono_us() - start_us) * l->rate / 1000000 + 1)
                break;
            item_t *it = s_next(l);
            if (!it)
                break;
            if (it->kind == K_LONG_ID) {
                it->side = s_xcalloc(1, sizeof *it->side);
                s_open(l, it->key, it->side);
            }
            it->status = S_WAITING;
            it->first_ms = now;
            it->last_ms = now - l->timeout_ms; /* sent below, or at the next turn */
            it->flight_pos = l->nflight;
            l->flight[l->nflight++] = (int)(it - l->items);
            l->first_sends++;
            l->valid_sends += it->kind == K_VALID || it->kind == K_SETUP;
        }
        /* (re)sends of what waited long enough; give up past give_up_ms */
        for (int i = 0; i < l->nflight; i++) {
            item_t *it = &l->items[l->flight[i]];
            if (now - it->last_ms < l->timeout_ms)
                continue;
            if (now - it->first_ms >= l->give_up_ms) {
                s_finish(l, it, S_UNANSWERED);
                i--; /* the last one moved into this place */
                continue;
            }
            s_send(l, it, now);
        }
        if (l->nflight == 0 && l->ready_len == 0 && l->next_chain == l->nchains)
            break;
        zmq_pollitem_t pi[POSTER_MAX_KEYS + MAX_SIDE];
        item_t *owner[POSTER_MAX_KEYS + MAX_SIDE];
        int npi = 0;
        for (int k = 0; k < l->nsocks; k++) {
            pi[npi] = (zmq_pollitem_t){l->socks[k].sock, 0, ZMQ_POLLIN, 0};
            owner[npi++] = NULL;
        }
        for (int i = 0; i < l->nflight && npi < l->nsocks + MAX_SIDE; i++) {
            item_t *it = &l->items[l->flight[i]];
            if (it->side) {
                pi[npi] = (zmq_pollitem_t){it->side->sock, 0, ZMQ_POLLIN, 0};
                owner[npi++] = it;
            }
        }
        if (zmq_poll(pi, npi, l->rate > 0 ? 2 : 10) <= 0)
            continue;
        for (int i = 0; i < npi; i++)
            if (pi[i].revents & ZMQ_POLLIN)
                s_receive(l, pi[i].socket, owner[i]);
    }
}

/* Writes s as a \copy text field: printable ASCII, others as '?'. */
static void s_field(FILE *f, const char *s)
{
    for (; *s; s++)
        fputc(*s >= 0x20 && *s < 0x7F && *s != '\\' ? *s : '?', f);
}

static int s_write(const load_t *l, const char *path)
{
    FILE *f = fopen(path, "w");
    if (!f) {
        fprintf(stderr, "rectify-fault-client: %s: %s\n", path, strerror(errno));
        return -1;
    }
    for (int i = 0; i < l->nitems; i++) {
        const item_t *it = &l->items[i];
        if (it->status == S_NEW)
            continue; /* built, never sent: cannot happen, the loop sends what it builds */
        fprintf(f, "%s\t%s\t%s\t%d\t%d\t", l->phase, s_kinds[it->kind].name,
                s_kinds[it->kind].expect, it->chain, it->step);
        if (ids_is_uuid(it->id))
            fputs(it->id, f);
        else
            fputs("\\N", f);
        fprintf(f, "\t%s\t", s_status_name[it->status]);
        s_field(f, it->code);
        fprintf(f, "\t%d\t", it->attempts);
        if (it->accept_order)
            fprintf(f, "%ld", it->accept_order);
        else
            fputs("\\N", f);
        fprintf(f, "\t%d\t%d\t", it->n_accepted, it->answers);
        for (size_t k = 0; k < it->len; k++)
            fprintf(f, "%02x", it->frame[k]);
        fputc('\t', f);
        s_field(f, it->round_id);
        fprintf(f, "\t%d\n", it->key);
    }
    if (fclose(f) != 0) {
        fprintf(stderr, "rectify-fault-client: %s: %s\n", path, strerror(errno));
        return -1;
    }
    return 0;
}

/* Sets the kinds named in list ("surrogate,nul_unit") or all of them. */
static void s_poison_kinds(load_t *l, const char *list)
{
    for (int k = K_FIRST_POISON; k < K_COUNT; k++)
        l->poison_on[k] = list == NULL;
    for (const char *p = list; p && *p;) {
        size_t n = strcspn(p, ",");
        int k = K_FIRST_POISON;
        while (k < K_COUNT && !(strlen(s_kinds[k].name) == n && !strncmp(s_kinds[k].name, p, n)))
            k++;
        if (k == K_COUNT) {
            fprintf(stderr, "rectify-fault-client: --poison-kinds: \"%.*s\" is not one of:", (int)n,
                    p);
            for (k = K_FIRST_POISON; k < K_COUNT; k++)
                fprintf(stderr, " %s", s_kinds[k].name);
            fputc('\n', stderr);
            exit(2);
        }
        l->poison_on[k] = true;
        p += n + (p[n] == ',');
    }
}

static void s_usage(void)
{
    fprintf(stderr,
            "usage: rectify-fault-client --endpoint EP --out FILE [--setup units|round|all]\n"
            "         [--phase NAME]\n"
            "         [--events N] [--rate R] [--window W] [--timeout-ms T] [--give-up-ms G]\n"
            "         [--poison-every K] [--poison-kinds KIND,...]\n");
    exit(2);
}

int main(int argc, char **argv)
{
    load_t l;
    memset(&l, 0, sizeof l);
    const char *out = NULL;
    bool setup = false;
    const char *kinds = NULL;
    long events = 800;
    l.phase = "load";
    l.window = 200;
    l.timeout_ms = 1000;
    l.give_up_ms = 30000;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!v)
            s_usage();
        i++;
        if (!strcmp(a, "--setup")) {
            setup = true;
            if (!strcmp(v, "units"))
                s_setup_to = SETUP_UNITS;
            else if (!strcmp(v, "round"))
                s_setup_from = SETUP_UNITS;
            else if (strcmp(v, "all") != 0)
                s_usage();
        } else if (!strcmp(a, "--endpoint"))
            l.endpoint = v;
        else if (!strcmp(a, "--out"))
            out = v;
        else if (!strcmp(a, "--phase"))
            l.phase = v;
        else if (!strcmp(a, "--events"))
            events = s_arg(a, v, 1, 10000000);
        else if (!strcmp(a, "--rate"))
            l.rate = (int)s_arg(a, v, 0, 1000000);
        else if (!strcmp(a, "--window"))
            l.window = (int)s_arg(a, v, 1, 100000);
        else if (!strcmp(a, "--timeout-ms"))
            l.timeout_ms = (int)s_arg(a, v, 10, 600000);
        else if (!strcmp(a, "--give-up-ms"))
            l.give_up_ms = (int)s_arg(a, v, 10, 3600000);
        else if (!strcmp(a, "--poison-every"))
            l.poison_every = (int)s_arg(a, v, 0, 1000000);
        else if (!strcmp(a, "--poison-kinds"))
            kinds = v;
        else
            s_usage();
    }
    if (!l.endpoint || !out)
        s_usage();
    s_poison_kinds(&l, kinds);
    for (const char *p = l.phase; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-') ||
            p - l.phase > 20) {
            fprintf(stderr, "rectify-fault-client: --phase: a-z, 0-9 and '-', at most 20\n");
            return 2;
        }

    /* the chains and room for every event they and the poisons make */
    l.nchains = setup ? 1 : (int)((events + CHAIN_STEPS - 1) / CHAIN_STEPS);
    if (setup)
        l.poison_every = 0;
    l.chains = s_xcalloc((size_t)l.nchains, sizeof *l.chains);
    for (int c = 0; c < l.nchains; c++) {
        l.chains[c].setup = setup;
        l.chains[c].next_step = setup ? s_setup_from : 0;
    }
    long valid = setup ? s_setup_to - s_setup_from : (long)l.nchains * CHAIN_STEPS;
    l.cap = (int)(valid + (l.poison_every ? valid / l.poison_every + 1 : 0));
    l.items = s_xcalloc((size_t)l.cap, sizeof *l.items);
    l.ready = s_xcalloc((size_t)l.nchains, sizeof *l.ready);
    l.flight = s_xcalloc((size_t)l.window, sizeof *l.flight);
    size_t slots = 16;
    while (slots < (size_t)l.cap * 2)
        slots *= 2;
    l.slots = s_xcalloc(slots, sizeof *l.slots);
    l.mask = slots - 1;
    /* deadlines a year ahead: no clock fires during the run */
    time_t later = (time_t)(clock_now_ms() / 1000) + 365 * 86400;
    struct tm tm;
    gmtime_r(&later, &tm);
    strftime(l.deadline, sizeof l.deadline, "%Y-%m-%d", &tm);

    /* the keys as the tools read them: RECTIFY_KEY_FILE (a folder of the
     * units' certificates) and RECTIFY_KEYS_DIR; none with allow_plain */
    char err[1024];
    config_t *cfg = config_load(NULL, err, sizeof err);
    if (!cfg || poster_credentials(cfg, &l.creds, err, sizeof err) != 0) {
        fprintf(stderr, "rectify-fault-client: %s\n", err);
        return 2;
    }
    config_destroy(&cfg);
    l.ctx = zmq_ctx_new();
    l.nsocks = l.creds.on ? l.creds.nkeys : 1;
    for (int k = 0; k < l.nsocks; k++)
        if (!l.ctx) {
            fprintf(stderr, "rectify-fault-client: no ZeroMQ context\n");
            return 1;
        } else {
            s_open(&l, k, &l.socks[k]);
        }
    int64_t t0 = clock_mono_ms();
    s_run(&l);
    double secs = (double)(clock_mono_ms() - t0) / 1000;

    long count[6] = {0}, doubled = 0;
    for (int i = 0; i < l.nitems; i++) {
        count[l.items[i].status]++;
        doubled += l.items[i].n_accepted > 1;
    }
    printf("phase=%s sent=%d poisons=%ld accepted=%ld duplicate=%ld rejected=%ld "
           "unanswered=%ld doubled_acks=%ld stray=%ld late=%ld reopened=%ld seconds=%.1f\n",
           l.phase, l.nitems, l.poisons, count[S_ACCEPTED], count[S_DUPLICATE], count[S_REJECTED],
           count[S_UNANSWERED], doubled, l.stray, l.late, l.reopened, secs);
    int rc = s_write(&l, out) == 0 ? 0 : 1;

    for (int k = 0; k < l.nsocks; k++)
        bus_client_close(&l.socks[k]);
    zmq_ctx_term(l.ctx);
    for (int i = 0; i < l.nitems; i++) {
        free(l.items[i].id);
        free(l.items[i].frame);
    }
    free(l.items);
    free(l.chains);
    free(l.ready);
    free(l.flight);
    free(l.slots);
    return rc;
}
