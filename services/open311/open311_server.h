/* open311_server.h: rectify-open311, the Open311 GeoReport v2 door for
 * hotline and city systems (open311_server.c says what it serves). */
#ifndef RECTIFY_OPEN311_SERVER_H
#define RECTIFY_OPEN311_SERVER_H

#include "service.h"

typedef struct open311_t open311_t;

/* Checks the settings (caller_salt, open311_bind, CURVE) and starts
 * listening; NULL (logged) on failure. */
open311_t *open311_new(service_t *svc);
/* Serves until SIGTERM or SIGINT; returns the exit status. */
int open311_run(open311_t *self);
void open311_destroy(open311_t **self_p);

#endif
