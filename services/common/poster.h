/* poster.h: the sending side of intake's protocol, for rectifyctl and the
 * tests: sends packed Envelopes over a DEALER socket, keeps a window of them
 * in flight, matches each Ack to its event by id, and sends again, with the
 * same id and bytes, what is not answered in time. */
#ifndef RECTIFY_POSTER_H
#define RECTIFY_POSTER_H

#include "config.h"
#include "curve.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum {
    POST_WAITING = 0,
    POST_ACCEPTED,
    POST_DUPLICATE,
    POST_REJECTED,
    POST_UNANSWERED
} post_status_t;

typedef struct {
    char event_id[40];
    uint8_t *frame; /* the packed Envelope; owned by the caller */
    size_t len;
    /* filled by poster_run */
    post_status_t status;
    char code[32];
    char message[256];
    int attempts;
    int64_t sent_us, answered_us; /* monotonic: first send, answer (0 if none) */
} post_item_t;

#define POSTER_MAX_KEYS 64

/* How a client authenticates to intake: off in plain mode; else its own
 * certificate (a system key, rectifyctl key new) and intake's public key.
 * Several certificates (an operator posting for several units, the demo):
 * each event goes with the certificate of its unit. */
typedef struct {
    bool on;
    char server_key[CURVE_KEY_TEXT];
    int nkeys;
    curve_cert_t keys[POSTER_MAX_KEYS];
} poster_creds_t;

/* Reads the credentials the settings name: key_file (the client's secret
 * certificate, or a folder of them) and keys_dir/intake.key; nothing with
 * allow_plain=true. Returns 0, or an error with the reason (naming the
 * setting) in err. */
int poster_credentials(const config_t *cfg, poster_creds_t *creds, char *err, size_t errlen);

typedef struct {
    const poster_creds_t *creds; /* NULL or off: plain */
    int timeout_ms; /* wait this long for an answer before sending again */
    int retries;    /* sends after the first; then the item is POST_UNANSWERED */
    int window;     /* most items in flight */
    int rate;       /* most first sends a second; 0 for no limit */
} poster_opts_t;

/* Sends every item and waits for the answers. With credentials, runs of
 * items of one key go over a connection each, in order; an item whose unit
 * has no certificate (several given) is POST_REJECTED no_key, unsent. Returns 0 when every item was
 * answered (whatever the answer), RC_ERR_TIMEOUT when some were not, or
 * RC_ERR_IO when the socket could not be set up. */
int poster_run(void *zmq_ctx, const char *endpoint, post_item_t *items, size_t n,
               const poster_opts_t *opts);

/* What workflow made of an event, as intake tells its sender. */
typedef struct {
    char outcome[16]; /* "applied", "refused", "" (not decided, or not known) */
    char code[32];
    char message[256];
} poster_outcome_t;

/* Asks intake, over the same kind of authenticated connection, for the
 * outcome of every ACCEPTED or DUPLICATE item, again until each is decided
 * or timeout_ms has passed; writes outcomes[i]. Returns how many were
 * refused, or a negative RC when intake could not be asked. */
int poster_outcomes(void *zmq_ctx, const char *endpoint, const post_item_t *items, size_t n,
                    const poster_opts_t *opts, poster_outcome_t *outcomes, int timeout_ms);

/* Name of a status as rectifyctl prints it: "ACCEPTED", ... */
const char *poster_status_name(post_status_t status);

#endif
