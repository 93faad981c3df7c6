/* bus.c: ZeroMQ helpers and signal descriptor. */
#include "bus.h"
#include "errors.h"

#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>
#include <zmq.h>

bool bus_endpoint_is_loopback(const char *ep)
{
    if (!ep)
        return false;
    if (!strncmp(ep, "ipc://", 6) || !strncmp(ep, "inproc://", 9))
        return true;
    if (strncmp(ep, "tcp://", 6) != 0)
        return false;
    const char *host = ep + 6;
    if (!strncmp(host, "127.", 4) || !strncmp(host, "localhost:", 10) ||
        !strncmp(host, "[::1]:", 6))
        return true;
    return false;
}

int bus_check_plain(bool allow_plain, const char *setting, const char *endpoint, char *err,
                    size_t errlen)
{
    if (!allow_plain) {
        snprintf(err, errlen,
                 "%s: authenticated (CURVE) sockets are not built yet; set allow_plain=true "
                 "(RECTIFY_ALLOW_PLAIN=true) to run unauthenticated on loopback",
                 setting);
        return RC_ERR_CONFIG;
    }
    if (!bus_endpoint_is_loopback(endpoint)) {
        snprintf(err, errlen,
                 "%s: \"%s\" is not a loopback endpoint; plain mode binds only tcp://127.*, "
                 "tcp://localhost, tcp://[::1], ipc:// or inproc://",
                 setting, endpoint);
        return RC_ERR_CONFIG;
    }
    return RC_OK;
}

void *bus_socket(void *ctx, int type, int linger_ms)
{
    void *sock = zmq_socket(ctx, type);
    if (!sock)
        return NULL;
    int64_t max = BUS_HARD_MAX_FRAME;
    int hwm = 100000;
    zmq_setsockopt(sock, ZMQ_LINGER, &linger_ms, sizeof linger_ms);
    zmq_setsockopt(sock, ZMQ_MAXMSGSIZE, &max, sizeof max);
    zmq_setsockopt(sock, ZMQ_SNDHWM, &hwm, sizeof hwm);
    zmq_setsockopt(sock, ZMQ_RCVHWM, &hwm, sizeof hwm);
    return sock;
}

int bus_signal_fd(void)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    if (sigprocmask(SIG_BLOCK, &set, NULL) != 0)
        return -1;
    return signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
}

int bus_signal_read(int fd)
{
    struct signalfd_siginfo info;
    ssize_t n = read(fd, &info, sizeof info);
    return n == (ssize_t)sizeof info ? (int)info.ssi_signo : 0;
}
