/* zap.h: the ZAP handler (ZeroMQ RFC 27) every service runs when CURVE is
 * on. libzmq asks it, at each CURVE handshake on a socket of the service's
 * context, whether the client's public key may connect; a socket with no
 * handler to ask would admit every client, so bus_curve_server refuses to
 * set up a server socket unless the handler is running (zap_running).
 *
 * It answers by the socket's ZAP domain:
 *   ZAP_DOMAIN_SYSTEMS  a system key of api_key, not revoked: User-Id is its
 *                       key_id ("17"); intake looks up the unit per message
 *   ZAP_DOMAIN_LOGS     an on-call key of api_key, not revoked: User-Id
 *                       "oncall:17"
 *   ZAP_DOMAIN_PEERS    one of the pinned service keys given at start:
 *                       User-Id is the service's name ("intake")
 * Anything else, and any key it does not know, is refused (400); when the
 * database does not answer it refuses too (500: the client tries again). */
#ifndef RECTIFY_ZAP_H
#define RECTIFY_ZAP_H

#include "curve.h"

#include <stdbool.h>
#include <stddef.h>

#define ZAP_DOMAIN_SYSTEMS "rectify.systems"
#define ZAP_DOMAIN_LOGS "rectify.logs"
#define ZAP_DOMAIN_PEERS "rectify.peers"

typedef struct zap_t zap_t;

typedef struct {
    const char *name;                /* the peer service, e.g. "intake" */
    char public_key[CURVE_KEY_TEXT]; /* its pinned public key */
} zap_peer_t;

/* Binds the handler in ctx (inproc://zeromq.zap.01) and starts its thread
 * with a database connection of its own (conninfo). Returns once it is bound,
 * or NULL with the reason in err. */
zap_t *zap_start(void *ctx, const char *conninfo, const zap_peer_t *peers, int npeers,
                 char *err, size_t errlen);
/* Stops the thread and closes its socket. Call before zmq_ctx_term. */
void zap_stop(zap_t **self_p);

/* True while a handler of this process is bound and answering. */
bool zap_running(void);

#endif
