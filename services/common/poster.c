/* poster.c: windowed, re-sending client of intake. */
#include "poster.h"
#include "refusal.h"
#include "text.h"
#include "bus.h"
#include "clock.h"
#include "errors.h"
#include "rectify.pb-c.h"

#include <dirent.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

const char *poster_status_name(post_status_t status)
{
    switch (status) {
    case POST_WAITING:
        return "WAITING";
    case POST_ACCEPTED:
        return "ACCEPTED";
    case POST_DUPLICATE:
        return "DUPLICATE";
    case POST_REJECTED:
        return "REJECTED";
    case POST_UNANSWERED:
        return "UNANSWERED";
    }
    return "?";
}

/* Open-addressing index from event id to item position. */
typedef struct {
    size_t *slots; /* position + 1; 0 is empty */
    size_t mask;
} s_index_t;

static uint64_t s_hash(const char *s)
{
    uint64_t h = 1469598103934665603ULL;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h;
}

static int s_index_build(s_index_t *ix, const post_item_t *items, size_t n)
{
    size_t cap = 16;
    while (cap < n * 2)
        cap *= 2;
    ix->slots = calloc(cap, sizeof *ix->slots);
    if (!ix->slots)
        return RC_ERR_NOMEM;
    ix->mask = cap - 1;
    for (size_t i = 0; i < n; i++) {
        size_t s = s_hash(items[i].event_id) & ix->mask;
        while (ix->slots[s])
            s = (s + 1) & ix->mask;
        ix->slots[s] = i + 1;
    }
    return RC_OK;
}

/* Finds the first still-waiting item with this id (ids may repeat in a file). */
static post_item_t *s_index_find(const s_index_t *ix, post_item_t *items, const char *id)
{
    post_item_t *first = NULL;
    for (size_t s = s_hash(id) & ix->mask; ix->slots[s]; s = (s + 1) & ix->mask) {
        post_item_t *it = &items[ix->slots[s] - 1];
        if (strcmp(it->event_id, id) != 0)
            continue;
        if (it->status == POST_WAITING && it->attempts > 0 && (!first || it < first))
            first = it;
    }
    return first;
}

/* Adds the secret certificate at path to creds. */
static int s_add_key(poster_creds_t *creds, const char *path, char *err, size_t errlen)
{
    if (creds->nkeys == POSTER_MAX_KEYS) {
        snprintf(err, errlen, "key_file: more than %d certificates", POSTER_MAX_KEYS);
        return RC_ERR_CONFIG;
    }
    char why[700];
    int rc = curve_load_secret(path, &creds->keys[creds->nkeys], why, sizeof why);
    if (rc != RC_OK) {
        snprintf(err, errlen, "key_file: %s", why);
        return rc;
    }
    creds->nkeys++;
    return RC_OK;
}

int poster_credentials(const config_t *cfg, poster_creds_t *creds, char *err, size_t errlen)
{
    memset(creds, 0, sizeof *creds);
    if (config_bool(cfg, SET_allow_plain))
        return RC_OK;
    const char *file = config_str(cfg, SET_key_file);
    if (!*file) {
        snprintf(err, errlen,
                 "key_file: name this system's secret certificate (RECTIFY_KEY_FILE; made by "
                 "rectifyctl key new), or set allow_plain=true for loopback development");
        return RC_ERR_CONFIG;
    }
    int rc = RC_OK;
    DIR *dir = opendir(file);
    if (dir) { /* a folder of certificates: each event goes with its unit's */
        struct dirent *e;
        while (rc == RC_OK && (e = readdir(dir))) {
            size_t len = strlen(e->d_name);
            if (len <= 11 || strcmp(e->d_name + len - 11, ".key_secret") != 0)
                continue;
            char path[1024];
            snprintf(path, sizeof path, "%s/%s", file, e->d_name);
            rc = s_add_key(creds, path, err, errlen);
        }
        closedir(dir);
        if (rc == RC_OK && creds->nkeys == 0) {
            snprintf(err, errlen, "key_file: %s holds no .key_secret certificate", file);
            rc = RC_ERR_CONFIG;
        }
    } else {
        rc = s_add_key(creds, file, err, errlen);
    }
    if (rc != RC_OK)
        return rc;
    char why[700];
    rc =
        curve_peer_key(config_str(cfg, SET_keys_dir), "intake", creds->server_key, why, sizeof why);
    if (rc != RC_OK) {
        snprintf(err, errlen, "keys_dir: intake's public key: %s", why);
        return rc;
    }
    creds->on = true;
    return RC_OK;
}

/* Intake refused the key at the handshake: what is not answered is
 * settled. Nothing sent over a connection that was never admitted can have
 * been stored; after an admitted one, an unanswered event may have been. */
static void s_key_refused(post_item_t *items, size_t n, bool admitted, const char *endpoint)
{
    for (size_t i = 0; i < n; i++) {
        post_item_t *it = &items[i];
        if (it->status != POST_WAITING)
            continue;
        bool maybe = admitted && it->attempts > 0;
        it->status = maybe ? POST_UNANSWERED : POST_REJECTED;
        snprintf(it->code, sizeof it->code, "%s", refusal_code(REFUSAL_key_refused));
        snprintf(it->message, sizeof it->message,
                 "intake at %s refused this system's key (unknown or revoked: rectifyctl key "
                 "list); %s",
                 endpoint,
                 maybe ? "it may have been stored before: ask its outcome with a valid key"
                       : "nothing was stored");
    }
}

/* Posts items over one connection, authenticated with cert (NULL: plain). */
static int s_run(void *ctx, const char *endpoint, post_item_t *items, size_t n,
                 const poster_opts_t *opts, const curve_cert_t *cert, const char *server_key)
{
    s_index_t ix;
    if (s_index_build(&ix, items, n) != RC_OK)
        return RC_ERR_NOMEM;
    int64_t *sent_at = calloc(n ? n : 1, sizeof *sent_at);
    bus_client_t client = {.sock = NULL};
    int rc = RC_ERR_IO;
    if (!sent_at || bus_client_open(&client, ctx, endpoint, cert, server_key) != RC_OK)
        goto out_close;
    void *sock = client.sock;

    size_t next = 0, done = 0, in_flight = 0;
    size_t oldest = 0; /* no item before this is in flight */
    int64_t start_us = clock_mono_us();
    while (done < n) {
        int64_t now = clock_mono_ms();
        bus_client_state_t state = bus_client_check(&client);
        if (state == BUS_CLIENT_REFUSED) {
            s_key_refused(items, n, client.admitted, endpoint);
            break;
        }
        if (state == BUS_CLIENT_DROPPED) {
            /* a passing refusal (the key store was away): libzmq gave the
             * connection up; a new one, and what waits is sent again */
            bool admitted = client.admitted;
            bus_client_close(&client);
            if (bus_client_open(&client, ctx, endpoint, cert, server_key) != RC_OK)
                goto out_close;
            client.admitted = admitted;
            sock = client.sock;
            for (size_t i = 0; i < next; i++)
                sent_at[i] = now - opts->timeout_ms;
        }
        /* fill the window, at the rate asked for */
        size_t allowed = n;
        if (opts->rate > 0) {
            int64_t due = (clock_mono_us() - start_us) * opts->rate / 1000000 + 1;
            allowed = due < (int64_t)n ? (size_t)due : n;
        }
        while (next < allowed && in_flight < (size_t)opts->window) {
            post_item_t *it = &items[next];
            if (zmq_send(sock, it->frame, it->len, ZMQ_DONTWAIT) < 0)
                break;
            it->attempts = 1;
            it->sent_us = clock_mono_us();
            sent_at[next++] = now;
            in_flight++;
        }
        /* re-send or give up what waited too long */
        while (oldest < next && items[oldest].status != POST_WAITING)
            oldest++;
        for (size_t i = oldest; i < next; i++) {
            post_item_t *it = &items[i];
            if (it->status != POST_WAITING || now - sent_at[i] < opts->timeout_ms)
                continue;
            if (it->attempts > opts->retries) {
                it->status = POST_UNANSWERED;
                snprintf(it->code, sizeof it->code, "%s", refusal_code(REFUSAL_unanswered));
                snprintf(it->message, sizeof it->message,
                         "no answer from intake at %s after %d sends", endpoint, it->attempts);
                done++;
                in_flight--;
                continue;
            }
            if (zmq_send(sock, it->frame, it->len, ZMQ_DONTWAIT) >= 0) {
                it->attempts++;
                sent_at[i] = now;
            }
        }
        if (done == n)
            break;
        zmq_pollitem_t pi[] = {{sock, 0, ZMQ_POLLIN, 0}};
        if (zmq_poll(pi, 1, opts->rate > 0 ? 1 : 20) <= 0)
            continue;
        for (;;) {
            zmq_msg_t msg;
            zmq_msg_init(&msg);
            if (zmq_msg_recv(&msg, sock, ZMQ_DONTWAIT) < 0) {
                zmq_msg_close(&msg);
                break;
            }
            Rectify__Ack *ack = rectify__ack__unpack(NULL, zmq_msg_size(&msg), zmq_msg_data(&msg));
            zmq_msg_close(&msg);
            if (!ack)
                continue;
            post_item_t *it = s_index_find(&ix, items, ack->event_id);
            if (it && ack->status == RECTIFY__ACK_STATUS__RETRY_LATER) {
                /* nothing stored: send the same bytes again once the wait is over */
                sent_at[it - items] = clock_mono_ms() + ack->retry_after_ms - opts->timeout_ms;
            } else if (it) {
                it->status = ack->status == RECTIFY__ACK_STATUS__ACCEPTED    ? POST_ACCEPTED
                             : ack->status == RECTIFY__ACK_STATUS__DUPLICATE ? POST_DUPLICATE
                                                                             : POST_REJECTED;
                snprintf(it->code, sizeof it->code, "%s", ack->code);
                text_cut(it->message, sizeof it->message, ack->message);
                it->answered_us = clock_mono_us();
                done++;
                in_flight--;
            }
            rectify__ack__free_unpacked(ack, NULL);
        }
    }
    rc = RC_OK;
    for (size_t i = 0; i < n; i++)
        if (items[i].status == POST_UNANSWERED)
            rc = RC_ERR_TIMEOUT;

out_close:
    bus_client_close(&client);
    free(sent_at);
    free(ix.slots);
    return rc;
}

/* The key each item is sent with: the one certificate there is (a mismatch
 * is intake's to refuse), or the certificate of the item's unit; -1 when
 * none fits. Each envelope is read once. NULL when out of memory. */
static int *s_keys_of(const poster_creds_t *creds, const post_item_t *items, size_t n)
{
    int *key = calloc(n ? n : 1, sizeof *key);
    for (size_t j = 0; key && creds->nkeys > 1 && j < n; j++) {
        Rectify__Envelope *env = rectify__envelope__unpack(NULL, items[j].len, items[j].frame);
        key[j] = -1;
        for (int i = 0; env && env->unit && i < creds->nkeys && key[j] < 0; i++)
            if (!strcmp(creds->keys[i].unit, env->unit))
                key[j] = i;
        if (env)
            rectify__envelope__free_unpacked(env, NULL);
    }
    return key;
}

/* The end of the run of items sharing start's key. */
static size_t s_run_end(const int *key, size_t start, size_t n)
{
    size_t end = start + 1;
    while (end < n && key[end] == key[start])
        end++;
    return end;
}

int poster_run(void *ctx, const char *endpoint, post_item_t *items, size_t n,
               const poster_opts_t *opts)
{
    const poster_creds_t *creds = opts->creds;
    if (!creds || !creds->on)
        return s_run(ctx, endpoint, items, n, opts, NULL, NULL);
    int *key = s_keys_of(creds, items, n);
    if (!key)
        return RC_ERR_NOMEM;
    /* runs of items with the same key, one connection each, in order: what
     * one unit posts after another's is applied after it */
    int rc = RC_OK;
    for (size_t start = 0, end; start < n; start = end) {
        end = s_run_end(key, start, n);
        if (key[start] < 0) {
            for (size_t i = start; i < end; i++) {
                items[i].status = POST_REJECTED;
                snprintf(items[i].code, sizeof items[i].code, "%s", refusal_code(REFUSAL_no_key));
                snprintf(items[i].message, sizeof items[i].message,
                         "unit: key_file holds no certificate of this event's unit; nothing "
                         "was sent");
            }
            continue;
        }
        int r = s_run(ctx, endpoint, items + start, end - start, opts, &creds->keys[key[start]],
                      creds->server_key);
        if (r != RC_OK && (rc == RC_OK || r != RC_ERR_TIMEOUT))
            rc = r;
    }
    free(key);
    return rc;
}

#define OUTCOME_QUERY_IDS 500

static bool s_wants_outcome(const post_item_t *it, const poster_outcome_t *o)
{
    return (it->status == POST_ACCEPTED || it->status == POST_DUPLICATE) && !o->outcome[0];
}

/* One round of questions over sock for items [0, n): fills what is decided.
 * Returns 0, or RC_ERR_TIMEOUT / RC_ERR_INVALID (intake refused the query). */
static int s_ask(void *sock, const post_item_t *items, size_t n, poster_outcome_t *out)
{
    for (size_t first = 0; first < n;) {
        char *ids[OUTCOME_QUERY_IDS];
        size_t at[OUTCOME_QUERY_IDS], k = 0;
        for (; first < n && k < OUTCOME_QUERY_IDS; first++)
            if (s_wants_outcome(&items[first], &out[first])) {
                ids[k] = (char *)items[first].event_id;
                at[k++] = first;
            }
        if (k == 0)
            break;
        Rectify__OutcomeQuery q = RECTIFY__OUTCOME_QUERY__INIT;
        q.event_ids = ids;
        q.n_event_ids = k;
        size_t len = rectify__outcome_query__get_packed_size(&q);
        uint8_t *buf = malloc(len ? len : 1);
        if (!buf)
            return RC_ERR_NOMEM;
        rectify__outcome_query__pack(&q, buf);
        int sent =
            zmq_send(sock, "outcomes", 8, ZMQ_SNDMORE) >= 0 && zmq_send(sock, buf, len, 0) >= 0;
        free(buf);
        if (!sent)
            return RC_ERR_IO;
        zmq_pollitem_t pi[] = {{sock, 0, ZMQ_POLLIN, 0}};
        Rectify__Outcomes *answer = NULL;
        while (!answer && zmq_poll(pi, 1, 5000) == 1) {
            zmq_msg_t head, body;
            zmq_msg_init(&head);
            zmq_msg_init(&body);
            if (zmq_msg_recv(&head, sock, 0) >= 0 && zmq_msg_more(&head) &&
                zmq_msg_recv(&body, sock, 0) >= 0 && zmq_msg_size(&head) == 8 &&
                !memcmp(zmq_msg_data(&head), "outcomes", 8))
                answer = rectify__outcomes__unpack(NULL, zmq_msg_size(&body), zmq_msg_data(&body));
            zmq_msg_close(&head);
            zmq_msg_close(&body);
        }
        if (!answer)
            return RC_ERR_TIMEOUT;
        int rc = answer->error && *answer->error ? RC_ERR_INVALID : RC_OK;
        for (size_t i = 0; rc == RC_OK && i < answer->n_outcomes && i < k; i++) {
            const Rectify__Outcome *o = answer->outcomes[i];
            poster_outcome_t *dst = &out[at[i]];
            if (o->state != RECTIFY__OUTCOME_STATE__OUTCOME_APPLIED &&
                o->state != RECTIFY__OUTCOME_STATE__OUTCOME_REFUSED)
                continue;
            snprintf(dst->outcome, sizeof dst->outcome, "%s",
                     o->state == RECTIFY__OUTCOME_STATE__OUTCOME_APPLIED ? "applied" : "refused");
            snprintf(dst->code, sizeof dst->code, "%s", o->code);
            text_cut(dst->message, sizeof dst->message, o->message);
        }
        rectify__outcomes__free_unpacked(answer, NULL);
        if (rc != RC_OK)
            return rc;
    }
    return RC_OK;
}

int poster_outcomes(void *ctx, const char *endpoint, const post_item_t *items, size_t n,
                    const poster_opts_t *opts, poster_outcome_t *outcomes, int timeout_ms)
{
    memset(outcomes, 0, n * sizeof *outcomes);
    const poster_creds_t *creds = opts->creds && opts->creds->on ? opts->creds : NULL;
    int *key = creds ? s_keys_of(creds, items, n) : calloc(n ? n : 1, sizeof *key);
    if (!key)
        return RC_ERR_NOMEM;
    int64_t until = clock_mono_ms() + timeout_ms;
    int rc = RC_OK;
    for (size_t start = 0, end; start < n && rc == RC_OK; start = end) {
        end = s_run_end(key, start, n);
        if (key[start] < 0)
            continue;
        void *sock = bus_socket(ctx, ZMQ_DEALER, 0);
        bool ready = sock &&
                     (!creds || bus_curve_client_with(sock, &creds->keys[key[start]],
                                                      creds->server_key) == RC_OK) &&
                     zmq_connect(sock, endpoint) == 0;
        for (bool open = ready; open && clock_mono_ms() < until;) {
            rc = s_ask(sock, items + start, end - start, outcomes + start);
            open = false;
            for (size_t i = start; rc == RC_OK && i < end && !open; i++)
                open = s_wants_outcome(&items[i], &outcomes[i]);
            if (open)
                zmq_poll(NULL, 0, 100);
        }
        if (sock)
            zmq_close(sock);
    }
    free(key);
    if (rc != RC_OK)
        return rc;
    int refused = 0;
    for (size_t i = 0; i < n; i++)
        refused += !strcmp(outcomes[i].outcome, "refused");
    return refused;
}
