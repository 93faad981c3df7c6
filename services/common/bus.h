/* bus.h: ZeroMQ plumbing the services share: sockets with a set linger and
 * size cap, the plain-mode guard, and the signal descriptor the loops poll. */
#ifndef RECTIFY_BUS_H
#define RECTIFY_BUS_H

#include "curve.h"

#include <stdbool.h>
#include <stddef.h>
#include <zmq.h>

/* A frame larger than this is refused by ZeroMQ itself (the peer is
 * disconnected); intake's own, smaller, limit answers REJECTED before that. */
#define BUS_HARD_MAX_FRAME (64LL * 1024 * 1024)

/* True for endpoints that cannot leave the host: ipc://, inproc://,
 * tcp://127.x.y.z:port, tcp://localhost:port, tcp://[::1]:port. */
bool bus_endpoint_is_loopback(const char *endpoint);

/* Plain (unauthenticated) mode must be asked for (allow_plain), and then
 * only loopback endpoints are allowed; with CURVE any endpoint is. Returns
 * 0, or RC_ERR_CONFIG with the reason in err. */
int bus_check_plain(bool allow_plain, const char *setting, const char *endpoint, char *err,
                    size_t errlen);

/* Turns CURVE on for this process: loads its secret certificate
 * keys_dir/me.key_secret; the peers' public ones are keys_dir/NAME.key.
 * Returns 0, or an error with the reason (naming the file) in err. */
int bus_curve_setup(const char *keys_dir, const char *me, char *err, size_t errlen);
bool bus_curve_on(void);
/* Reads keys_dir/name.key's public key into public_key (CURVE_KEY_TEXT). */
int bus_curve_peer(const char *name, char *public_key, char *err, size_t errlen);
/* Makes sock a CURVE server of ZAP domain (zap.h) with this process's key;
 * refuses (RC_ERR_STATE) unless the ZAP handler runs. No-op in plain mode.
 * Call before bind. Failures are logged. */
int bus_curve_server(void *sock, const char *domain);
/* Makes sock a CURVE client of the named service, pinning its public key
 * (keys_dir/server.key). No-op in plain mode. Call before connect. */
int bus_curve_client(void *sock, const char *server);
/* The same with a given certificate and server key (the tools). */
int bus_curve_client_with(void *sock, const curve_cert_t *mine, const char *server_public);
/* The User-Id the ZAP handler gave the connection msg came on, or NULL
 * (plain mode, or no handler answered: then the peer is unauthenticated). */
const char *bus_user_id(zmq_msg_t *msg);

/* A client's DEALER to intake with a monitor of its handshakes. libzmq does
 * not reconnect a connection whose handshake was refused (a ZAP answer
 * other than 200): it just stops, and every send then fails with EAGAIN.
 * bus_client_check tells the caller, who reopens (a passing refusal) or
 * gives up (the key is refused). */
typedef struct {
    void *sock; /* send and receive on this */
    void *mon;
    char mon_endpoint[64];
    bool admitted; /* a handshake has succeeded */
} bus_client_t;

typedef enum {
    BUS_CLIENT_OK,      /* nothing went wrong since the last check */
    BUS_CLIENT_REFUSED, /* intake refused the key (ZAP 400: unknown or revoked) */
    BUS_CLIENT_DROPPED  /* a handshake failed otherwise (ZAP 300/500, protocol): reopen */
} bus_client_state_t;

/* Opens c: a DEALER (linger 0) connected to endpoint, CURVE with mine and
 * server_public unless mine is NULL. Returns 0 or RC_ERR_IO. */
int bus_client_open(bus_client_t *c, void *ctx, const char *endpoint, const curve_cert_t *mine,
                    const char *server_public);
/* Reads the monitor's events so far (does not wait). */
bus_client_state_t bus_client_check(bus_client_t *c);
void bus_client_close(bus_client_t *c);

/* New socket of type with linger_ms and the hard frame cap set. NULL on failure. */
void *bus_socket(void *ctx, int type, int linger_ms);

/* Blocks SIGTERM and SIGINT and returns a signalfd that becomes readable when
 * one arrives (poll it with zmq_poll as a plain fd). -1 on failure. */
int bus_signal_fd(void);
/* Reads the pending signal off the fd; returns its number, or 0. */
int bus_signal_read(int fd);

#endif
