/* bus.c: ZeroMQ helpers and signal descriptor. */
#include "bus.h"
#include "errors.h"
#include "log.h"
#include "zap.h"

#include <signal.h>
#include <stdatomic.h>
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

int bus_client_open(bus_client_t *c, void *ctx, const char *endpoint, const curve_cert_t *mine,
                    const char *server_public)
{
    static atomic_uint s_seq;
    memset(c, 0, sizeof *c);
    snprintf(c->mon_endpoint, sizeof c->mon_endpoint, "inproc://rectify-client-mon-%d-%u",
             (int)getpid(), atomic_fetch_add(&s_seq, 1));
    c->sock = bus_socket(ctx, ZMQ_DEALER, 0);
    if (!c->sock || (mine && bus_curve_client_with(c->sock, mine, server_public) != RC_OK))
        goto fail;
    int events = ZMQ_EVENT_HANDSHAKE_SUCCEEDED | ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL |
                 ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL | ZMQ_EVENT_HANDSHAKE_FAILED_AUTH;
    if (zmq_socket_monitor(c->sock, c->mon_endpoint, events) != 0)
        goto fail;
    c->mon = bus_socket(ctx, ZMQ_PAIR, 0);
    if (!c->mon || zmq_connect(c->mon, c->mon_endpoint) != 0 || zmq_connect(c->sock, endpoint) != 0)
        goto fail;
    return RC_OK;
fail:
    bus_client_close(c);
    return RC_ERR_IO;
}

bus_client_state_t bus_client_check(bus_client_t *c)
{
    bus_client_state_t state = BUS_CLIENT_OK;
    for (;;) {
        zmq_msg_t head, where;
        zmq_msg_init(&head);
        if (zmq_msg_recv(&head, c->mon, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close(&head);
            return state;
        }
        /* an event is two frames: event (16 bits) and value (32 bits), then
         * the endpoint */
        uint16_t event = 0;
        uint32_t value = 0;
        if (zmq_msg_size(&head) >= 6) {
            memcpy(&event, zmq_msg_data(&head), 2);
            memcpy(&value, (uint8_t *)zmq_msg_data(&head) + 2, 4);
        }
        bool more = zmq_msg_more(&head);
        zmq_msg_close(&head);
        if (more) {
            zmq_msg_init(&where);
            zmq_msg_recv(&where, c->mon, 0);
            zmq_msg_close(&where);
        }
        if (event == ZMQ_EVENT_HANDSHAKE_SUCCEEDED)
            c->admitted = true;
        else if (event == ZMQ_EVENT_HANDSHAKE_FAILED_AUTH && value == 400)
            state = BUS_CLIENT_REFUSED;
        else if (state == BUS_CLIENT_OK)
            state = BUS_CLIENT_DROPPED;
    }
}

void bus_client_close(bus_client_t *c)
{
    if (c->sock) {
        zmq_socket_monitor(c->sock, NULL, 0);
        zmq_close(c->sock);
    }
    if (c->mon)
        zmq_close(c->mon);
    c->sock = c->mon = NULL;
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
