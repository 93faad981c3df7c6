/* poster.c: windowed, re-sending client of intake. */
#include "poster.h"
#include "text.h"
#include "bus.h"
#include "clock.h"
#include "errors.h"
#include "rectify.pb-c.h"

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

int poster_run(void *ctx, const char *endpoint, post_item_t *items, size_t n,
               const poster_opts_t *opts)
{
    s_index_t ix;
    if (s_index_build(&ix, items, n) != RC_OK)
        return RC_ERR_NOMEM;
    int64_t *sent_at = calloc(n ? n : 1, sizeof *sent_at);
    void *sock = bus_socket(ctx, ZMQ_DEALER, 0);
    int rc = RC_ERR_IO;
    if (!sent_at || !sock || zmq_connect(sock, endpoint) != 0)
        goto out_close;

    size_t next = 0, done = 0, in_flight = 0;
    size_t oldest = 0; /* no item before this is in flight */
    int64_t start_us = clock_mono_us();
    while (done < n) {
        int64_t now = clock_mono_ms();
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
                snprintf(it->code, sizeof it->code, "unanswered");
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
    if (sock)
        zmq_close(sock);
    free(sent_at);
    free(ix.slots);
    return rc;
}
