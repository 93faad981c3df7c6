/* service.c: common start and stop of a service. */
#include "service.h"
#include "bus.h"
#include "clock.h"
#include "errors.h"
#include "log.h"
#include "migrate.h"
#include "zap.h"

#include <errno.h>
#include <malloc.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <unistd.h>
#include <zmq.h>

#define IDLE_TRIM_MS 2000

lease_t *service_lease_new(service_t *svc, cfg_key_t setting)
{
    return lease_new(svc->db, svc->name, config_str(svc->cfg, setting),
                     (int)config_int(svc->cfg, SET_lease_ms));
}

int service_check_endpoint(service_t *svc, cfg_key_t setting)
{
    char err[512];
    if (bus_check_plain(config_bool(svc->cfg, SET_allow_plain), config_name(setting),
                        config_str(svc->cfg, setting), err, sizeof err) != RC_OK) {
        log_event(LOG_ERROR, NULL, NULL, NULL, 0, "config: %s", err);
        return RC_ERR_CONFIG;
    }
    return RC_OK;
}

void *service_bind_router(service_t *svc, cfg_key_t setting, const char *zap_domain,
                          int max_queued)
{
    if (service_check_endpoint(svc, setting) != RC_OK)
        return NULL;
    const char *endpoint = config_str(svc->cfg, setting);
    void *router = bus_socket(svc->ctx, ZMQ_ROUTER, 1000);
    if (router && max_queued > 0)
        zmq_setsockopt(router, ZMQ_RCVHWM, &max_queued, sizeof max_queued);
    if (router && bus_curve_server(router, zap_domain) != RC_OK) {
        zmq_close(router);
        return NULL;
    }
    if (router && zmq_bind(router, endpoint) == 0) {
        log_event(LOG_INFO, NULL, NULL, (log_field_t[]){LF_STR("bind", endpoint)}, 1,
                  "%s listening", svc->name);
        return router;
    }
    log_error("config: %s: cannot bind %s: %s", config_name(setting), endpoint,
              zmq_strerror(zmq_errno()));
    if (router)
        zmq_close(router);
    return NULL;
}

/* Connects, waiting as long as it takes (with the database's own back-off
 * between attempts) until the database answers or a signal asks to stop. */
static db_t *s_connect_waiting(const char *conninfo, int sigfd)
{
    char err[512] = "";
    for (int attempt = 0;; attempt++) {
        db_t *db = db_connect(conninfo, err, sizeof err);
        if (db) {
            if (attempt > 0)
                log_info("database: connected after %d attempt(s)", attempt + 1);
            return db;
        }
        if (attempt == 0)
            log_warn("%s; waiting for it (one line now, one when it answers)", err);
        struct pollfd pfd = {.fd = sigfd, .events = POLLIN};
        if (poll(&pfd, 1, db_backoff_ms(attempt)) > 0) {
            log_info("stopping while waiting for the database (signal %d)", bus_signal_read(sigfd));
            return NULL;
        }
    }
}

/* CURVE on: this service's certificate, and its ZAP handler (bound before
 * any CURVE socket), pinning the public key of the one service that sends
 * to it: workflow hears intake, notification hears workflow. */
static int s_start_curve(service_t *svc)
{
    char err[700];
    const char *dir = config_str(svc->cfg, SET_keys_dir);
    if (bus_curve_setup(dir, svc->name, err, sizeof err) != RC_OK) {
        log_error("config: keys_dir: %s (make the services' keys with rectifyctl key service, "
                  "or set allow_plain=true for loopback development)",
                  err);
        return RC_ERR_CONFIG;
    }
    const char *sender = !strcmp(svc->name, "workflow") ? "intake"
                         : !strcmp(svc->name, "notify") ? "workflow"
                                                        : NULL;
    zap_peer_t peer = {.name = sender};
    if (sender && bus_curve_peer(sender, peer.public_key, err, sizeof err) != RC_OK) {
        log_error("config: keys_dir: %s", err);
        return RC_ERR_CONFIG;
    }
    svc->zap = zap_start(svc->ctx, config_str(svc->cfg, SET_db), &peer, sender ? 1 : 0, err,
                         sizeof err);
    if (!svc->zap) {
        log_error("%s", err);
        return RC_ERR_IO;
    }
    log_info("CURVE on: %s's ZAP handler is running", svc->name);
    return RC_OK;
}

int service_start(service_t *svc, const char *name, const char *summary, cfg_key_t log_pub_key,
                  int argc, char **argv, int *exit_code)
{
    memset(svc, 0, sizeof *svc);
    svc->name = name;
    svc->sigfd = -1;
    *exit_code = 1;
    const char *file = NULL;
    int exit_now = 0;
    char program[64];
    snprintf(program, sizeof program, "rectify-%s", name);
    if (config_parse_args(argc, argv, program, summary, &file, &exit_now) != 0)
        return -1;
    if (exit_now) {
        *exit_code = 0;
        return -1;
    }
    char err[512];
    svc->cfg = config_load(file, err, sizeof err);
    if (!svc->cfg) {
        fprintf(stderr, "%s: config: %s\n", program, err);
        return -1;
    }
    svc->ctx = zmq_ctx_new();
    if (!svc->ctx)
        goto out_stop;
    log_level_t level = log_level_from_name(config_str(svc->cfg, SET_log_level));
    log_open(name, level, NULL, NULL);
    srand((unsigned)(clock_mono_ms() ^ ((int64_t)getpid() << 16)));
    svc->sigfd = bus_signal_fd();
    if (svc->sigfd < 0) {
        log_error("cannot set up the signal descriptor");
        goto out_stop;
    }
    svc->db = s_connect_waiting(config_str(svc->cfg, SET_db), svc->sigfd);
    if (!svc->db)
        goto out_stop;
    /* the owner migrates (rectifyctl migrate); a service, connected as its
     * own role, only makes sure it speaks the schema it was built for */
    if (migrate_check(svc->db) != RC_OK)
        goto out_stop;
    if (!config_bool(svc->cfg, SET_allow_plain) && s_start_curve(svc) != RC_OK)
        goto out_stop;
    const char *pub = config_str(svc->cfg, log_pub_key);
    if (*pub && service_check_endpoint(svc, log_pub_key) != RC_OK)
        goto out_stop;
    if (log_open(name, level, svc->ctx, pub) != RC_OK) {
        log_error("config: %s: cannot bind %s: %s", config_name(log_pub_key), pub,
                  zmq_strerror(zmq_errno()));
        goto out_stop;
    }
    return 0;

out_stop:
    service_stop(svc);
    return -1;
}

void service_stop(service_t *svc)
{
    db_destroy(&svc->db);
    log_close();
    zap_stop(&svc->zap);
    if (svc->ctx) {
        zmq_ctx_term(svc->ctx);
        svc->ctx = NULL;
    }
    if (svc->sigfd >= 0)
        close(svc->sigfd);
    svc->sigfd = -1;
    config_destroy(&svc->cfg);
}

int service_run(service_t *svc, service_loop_t *loop)
{
    int poll_ms = (int)config_int(svc->cfg, SET_poll_interval_ms);
    zmq_pollitem_t items[] = {
        {NULL, svc->sigfd, ZMQ_POLLIN, 0},
        {loop->input, 0, ZMQ_POLLIN, 0},
    };
    int nitems = 2;
    bool active = false;
    int64_t last_active_ms = 0;
    for (;;) {
        int wait_ms = poll_ms;
        if (loop->lease && lease_due_in(loop->lease, clock_mono_ms()) < wait_ms)
            wait_ms = (int)lease_due_in(loop->lease, clock_mono_ms());
        int ready = zmq_poll(items, nitems, wait_ms);
        if (ready < 0 && zmq_errno() != EINTR)
            break;
        /* after a burst, give the memory it took back to the system once the
         * service has been idle for a while */
        int64_t now = clock_mono_ms();
        if (ready > 0) {
            active = true;
            last_active_ms = now;
        } else if (active && now - last_active_ms > IDLE_TRIM_MS) {
            malloc_trim(0);
            active = false;
        }
        if (items[0].revents & ZMQ_POLLIN) {
            log_info("%s stopping (signal %d)", svc->name, bus_signal_read(svc->sigfd));
            break;
        }
        bool working = !loop->lease || lease_tick(loop->lease, now);
        if ((items[1].revents & ZMQ_POLLIN) && working)
            loop->on_input(loop->arg);
        else if (items[1].revents & ZMQ_POLLIN)
            inbox_discard(loop->input, 64);
        if (loop->on_tick && working)
            loop->on_tick(loop->arg);
    }
    zmq_close(loop->input);
    loop->input = NULL;
    int64_t left = pump_thread_stop(&loop->pump, (int)config_int(svc->cfg, SET_drain_timeout_ms));
    log_event(LOG_INFO, NULL, NULL, (log_field_t[]){LF_INT("in_flight", left)}, 1, "%s stopped",
              svc->name);
    return 0;
}
