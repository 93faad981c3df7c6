/* bus.c: ZeroMQ helpers and signal descriptor. */
#include "bus.h"
#include "errors.h"
#include "log.h"
#include "zap.h"

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
    if (!allow_plain) /* CURVE: any endpoint */
        return RC_OK;
    if (!bus_endpoint_is_loopback(endpoint)) {
        snprintf(err, errlen,
                 "%s: \"%s\" is not a loopback endpoint; plain mode (allow_plain=true) binds "
                 "only tcp://127.*, tcp://localhost, tcp://[::1], ipc:// or inproc://; use CURVE "
                 "(allow_plain=false) for anything else",
                 setting, endpoint);
        return RC_ERR_CONFIG;
    }
    return RC_OK;
}

/* CURVE for this process's sockets: its own certificate, and the folder of
 * its peers' public ones. Off (plain) until bus_curve_setup. */
static struct {
    bool on;
    char dir[512];
    curve_cert_t mine;
} s_curve;

int bus_curve_setup(const char *keys_dir, const char *me, char *err, size_t errlen)
{
    char path[600];
    curve_path(path, sizeof path, keys_dir, me, true);
    curve_cert_t cert;
    int rc = curve_load_secret(path, &cert, err, errlen);
    if (rc != RC_OK)
        return rc;
    s_curve.mine = cert;
    snprintf(s_curve.dir, sizeof s_curve.dir, "%s", keys_dir);
    s_curve.on = true;
    return RC_OK;
}

bool bus_curve_on(void)
{
    return s_curve.on;
}

int bus_curve_peer(const char *name, char *public_key, char *err, size_t errlen)
{
    return curve_peer_key(s_curve.dir, name, public_key, err, errlen);
}

int bus_curve_server(void *sock, const char *domain)
{
    if (!s_curve.on)
        return RC_OK;
    if (!zap_running()) {
        /* libzmq would admit every CURVE client with no handler to ask */
        log_error("bus: no ZAP handler is running; refusing to set up a CURVE server socket");
        return RC_ERR_STATE;
    }
    int one = 1;
    if (zmq_setsockopt(sock, ZMQ_ZAP_DOMAIN, domain, strlen(domain)) != 0 ||
        zmq_setsockopt(sock, ZMQ_CURVE_SERVER, &one, sizeof one) != 0 ||
        zmq_setsockopt(sock, ZMQ_CURVE_SECRETKEY, s_curve.mine.secret_key, 40) != 0) {
        log_error("bus: cannot set CURVE on a server socket: %s", zmq_strerror(zmq_errno()));
        return RC_ERR_IO;
    }
    return RC_OK;
}

int bus_curve_client_with(void *sock, const curve_cert_t *mine, const char *server_public)
{
    if (zmq_setsockopt(sock, ZMQ_CURVE_SERVERKEY, server_public, 40) != 0 ||
        zmq_setsockopt(sock, ZMQ_CURVE_PUBLICKEY, mine->public_key, 40) != 0 ||
        zmq_setsockopt(sock, ZMQ_CURVE_SECRETKEY, mine->secret_key, 40) != 0)
        return RC_ERR_IO;
    return RC_OK;
}

int bus_curve_client(void *sock, const char *server)
{
    if (!s_curve.on)
        return RC_OK;
    char err[700], key[CURVE_KEY_TEXT];
    if (bus_curve_peer(server, key, err, sizeof err) != RC_OK) {
        log_error("bus: %s's public key: %s", server, err);
        return RC_ERR_CONFIG;
    }
    return bus_curve_client_with(sock, &s_curve.mine, key);
}

const char *bus_user_id(zmq_msg_t *msg)
{
    const char *id = zmq_msg_gets(msg, "User-Id");
    return id && *id ? id : NULL;
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
