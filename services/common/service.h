/* service.h: what every Rectify service does around its own loop: parse the
 * command line, load and check the configuration, open the log, connect to
 * PostgreSQL (waiting for it to come up), apply migrations, set up the
 * ZeroMQ context and the signal descriptor. */
#ifndef RECTIFY_SERVICE_H
#define RECTIFY_SERVICE_H

#include "config.h"
#include "db.h"

#include <stdbool.h>

typedef struct {
    const char *name; /* "intake", "workflow", "notify" */
    config_t *cfg;
    db_t *db;
    void *ctx;
    int sigfd;
} service_t;

/* Fills svc. Returns 0 to go on; otherwise the process should exit with
 * *exit_code (0 after --help, 1 on a bad setting or no database); the
 * reason has been printed. */
int service_start(service_t *svc, const char *name, const char *summary, const char *log_pub_key,
                  int argc, char **argv, int *exit_code);
/* Closes everything service_start opened. */
void service_stop(service_t *svc);

/* Checks that endpoint (the value of setting) may be bound in this mode. */
int service_check_endpoint(service_t *svc, const char *setting);
/* A ROUTER socket bound to the endpoint of setting (checked first); NULL on
 * failure, logged with the setting's name. */
void *service_bind_router(service_t *svc, const char *setting);

#endif
