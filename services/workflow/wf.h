/* wf.h: what workflow's event handlers share. One handler per event type,
 * grouped by topic (wf_rounds.c: rounds and feedback problems). A handler
 * runs inside the batch's transaction and either applies the event (RC_OK),
 * refuses it (RC_ERR_STATE, RC_ERR_NOTFOUND, RC_ERR_DENIED, RC_ERR_INVALID
 * with code and message set: recorded, nothing changed) or fails
 * (RC_ERR_DB: the whole batch rolls back and is sent again). */
#ifndef RECTIFY_WF_H
#define RECTIFY_WF_H

#include "db.h"
#include "rectify.pb-c.h"

#include <stdint.h>

typedef struct wf_server_t wf_server_t;

typedef struct {
    wf_server_t *server;
    db_t *db;
    const Rectify__Envelope *env;
    int64_t seq;
    char code[32];     /* refusal code */
    char message[256]; /* refusal message, names the field or the state */
} wf_ctx_t;

/* Sets the refusal and returns rc. */
int wf_refuse(wf_ctx_t *ctx, int rc, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Queues a notice for the notification service; it is written to the outbox
 * with the batch, so it is sent if and only if the batch commits. */
int wf_notify(wf_ctx_t *ctx, const char *kind, const char *unit, const char *subject,
              const char *body);

int wf_open_round(wf_ctx_t *ctx, const Rectify__OpenRound *ev);
int wf_post_problem(wf_ctx_t *ctx, const Rectify__PostProblem *ev);

#endif
