/* bus.h: ZeroMQ plumbing the services share: sockets with a set linger and
 * size cap, the plain-mode guard, and the signal descriptor the loops poll. */
#ifndef RECTIFY_BUS_H
#define RECTIFY_BUS_H

#include <stdbool.h>
#include <stddef.h>

/* A frame larger than this is refused by ZeroMQ itself (the peer is
 * disconnected); intake's own, smaller, limit answers REJECTED before that. */
#define BUS_HARD_MAX_FRAME (64LL * 1024 * 1024)

/* True for endpoints that cannot leave the host: ipc://, inproc://,
 * tcp://127.x.y.z:port, tcp://localhost:port, tcp://[::1]:port. */
bool bus_endpoint_is_loopback(const char *endpoint);

/* Plain (unauthenticated) mode must be asked for, and then only loopback
 * endpoints are allowed. Returns 0, or RC_ERR_CONFIG with the reason in err. */
int bus_check_plain(bool allow_plain, const char *setting, const char *endpoint, char *err,
                    size_t errlen);

/* New socket of type with linger_ms and the hard frame cap set. NULL on failure. */
void *bus_socket(void *ctx, int type, int linger_ms);

/* Blocks SIGTERM and SIGINT and returns a signalfd that becomes readable when
 * one arrives (poll it with zmq_poll as a plain fd). -1 on failure. */
int bus_signal_fd(void);
/* Reads the pending signal off the fd; returns its number, or 0. */
int bus_signal_read(int fd);

#endif
