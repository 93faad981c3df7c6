/* service.h: what every Rectify service does around its own loop: parse the
 * command line, load and check the configuration, open the log, connect to
 * PostgreSQL (waiting for it to come up) as the service's own role, check
 * that the schema is current (the owner migrates: rectifyctl migrate), set
 * up the ZeroMQ context and the signal descriptor. */
#ifndef RECTIFY_SERVICE_H
#define RECTIFY_SERVICE_H

#include "config.h"
#include "db.h"
#include "lease.h"
#include "pump_thread.h"
#include "transfer.h"

#include <stdbool.h>

typedef struct {
    const char *name; /* "intake", "workflow", "notify" */
    config_t *cfg;
    db_t *db;
    void *ctx;
    struct zap_t *zap; /* CURVE's ZAP handler; NULL in plain mode */
    int sigfd;
} service_t;

/* Fills svc. Returns 0 to go on; otherwise the process should exit with
 * *exit_code (0 after --help, 1 on a bad setting or no database); the
 * reason has been printed. */
int service_start(service_t *svc, const char *name, const char *summary, cfg_key_t log_pub_key,
                  int argc, char **argv, int *exit_code);
/* Closes everything service_start opened. */
void service_stop(service_t *svc);

/* The loop every service runs: wait on its input socket, its pump's
 * acknowledgements and the signal descriptor (poll_interval_ms at most), then
 * on_input when frames wait, on_tick every round, and the pump. */
typedef struct {
    void *input;         /* the ROUTER socket the service serves */
    pump_thread_t *pump; /* to the next service, or NULL; stopped by service_run */
    void (*on_input)(void *arg);
    void (*on_tick)(void *arg); /* may be NULL */
    void *arg;
    /* When not NULL, this copy works (on_input, on_tick) only while it holds
     * the lease; standing by, it drops the frames sent to it. */
    lease_t *lease;
} service_loop_t;

/* Runs until SIGTERM or SIGINT. Then it stops taking input (closes the input
 * socket: senders send again elsewhere or later), waits up to
 * drain_timeout_ms for the pump's in-flight rows to be acknowledged, and
 * returns 0. */
int service_run(service_t *svc, service_loop_t *loop);

/* The lease of this service (named after it), publishing the endpoint of
 * setting as where senders reach this copy. NULL when out of memory. */
lease_t *service_lease_new(service_t *svc, cfg_key_t setting);

/* Checks that endpoint (the value of setting) may be bound in this mode. */
int service_check_endpoint(service_t *svc, cfg_key_t setting);
/* A ROUTER socket bound to the endpoint of setting (checked first), a CURVE
 * server of zap_domain (zap.h) unless in plain mode, queuing at most
 * max_queued frames received and not yet read (0: the bus default); NULL on
 * failure, logged with the setting's name. */
void *service_bind_router(service_t *svc, cfg_key_t setting, const char *zap_domain,
                          int max_queued);

#endif
