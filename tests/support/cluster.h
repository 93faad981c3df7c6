/* cluster.h: the real three services, started as processes for a test on a
 * database of its own, talking over ipc:// endpoints in a temporary folder. */
#ifndef RECTIFY_CLUSTER_H
#define RECTIFY_CLUSTER_H

#include "poster.h"
#include "testdb.h"

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

enum { SVC_INTAKE, SVC_WORKFLOW, SVC_NOTIFY, SVC_COUNT };

typedef struct {
    testdb_t db;
    char dir[128];
    char bind[SVC_COUNT][200];    /* intake, workflow, notify */
    char pub[SVC_COUNT][200];     /* their log streams */
    char tail_ep[SVC_COUNT][220]; /* the same as rectify-tail names them: "intake=ipc://..." */
    pid_t pid[SVC_COUNT];
    int restarts[SVC_COUNT];
    pid_t extra_pid; /* a second copy of a service, if started */
    pid_t door_pid;  /* rectify-open311, if started */
    void *ctx;
    /* CURVE, as in production (unless an extra environment string sets
     * RECTIFY_ALLOW_PLAIN=true): the services' keys are in DIR/keys, and
     * each unit the test posts as gets a system key of its own, recorded
     * in api_key and written to DIR/clients/UNIT.key_secret */
    bool plain;
    poster_creds_t creds;
} cluster_t;

/* In a child the test forked (call it first): the child is killed when the
 * test process dies, so a test that times out leaves no service behind
 * holding the test runner's output open. */
void cluster_child_dies_with_test(pid_t test_pid);

/* Creates the database and folder, starts all three services and waits
 * until each has bound its socket. The test process's environment then
 * points the tools it starts at this cluster's keys: RECTIFY_KEYS_DIR, and
 * RECTIFY_KEY_FILE at an on-call key (rectify-tail; cluster_ctl posts with
 * the units' keys). Extra environment "NAME=value" strings
 * (NULL-terminated list, may be NULL) go to every service. */
void cluster_start(cluster_t *c, const char *const *extra_env);
/* Starts (again) one service and waits until it listens (its ipc:// socket
 * file exists; for a tcp://HOST:PORT bind, PORT takes connections on
 * 127.0.0.1). */
void cluster_spawn(cluster_t *c, int which);
/* Starts a second copy of a service (its own bind and log endpoints; the
 * same database), stopped with the others. */
void cluster_spawn_copy(cluster_t *c, int which);
/* Sets the simulated clock (services started with RECTIFY_SIM_CLOCK=true
 * follow it) and waits until every clock due by then has fired. */
void cluster_set_clock(cluster_t *c, const char *iso_time);

/* Starts rectify-open311 against this cluster (its own service key, reading
 * as rectify_report) on a free loopback port with caller_salt salt, and
 * waits until it listens; stopped with the others. Returns the port, or -1
 * when the door exited during its start (its stderr: DIR/open311.log). */
int cluster_spawn_open311(cluster_t *c, const char *salt);
/* A TCP port nothing listens on now on loopback. */
int cluster_free_port(void);

/* Sends sig to one service and reaps it; returns its exit status as from
 * waitpid (use WIFEXITED and friends). */
int cluster_signal(cluster_t *c, int which, int sig);
/* SIGTERM to every service, asserting each exits 0 (a graceful stop); drops
 * the database and removes the folder. */
void cluster_stop(cluster_t *c);

/* Waits until sql (returning one number) gives at least want; returns the
 * last value seen. Gives up after timeout_ms. */
long long cluster_wait_number(cluster_t *c, const char *sql, long long want, int timeout_ms);

/* Packs an Envelope for open_round with a new event id (or the given one). */
void cluster_open_round(post_item_t *item, const char *event_id, const char *round_id);
/* Posts items to intake and waits for every answer (asserts the socket works). */
int cluster_post(cluster_t *c, post_item_t *items, size_t n);
/* Sends one raw frame to intake and returns its Ack (caller frees with
 * rectify__ack__free_unpacked); NULL if none came in 5 s. */
struct Rectify__Ack *cluster_send_raw(cluster_t *c, const void *frame, size_t len);

/* Posts JSON lines (one Envelope a line, as rectifyctl post reads them; a
 * line without event_id gets a new one) and waits for every answer. Returns
 * the items (caller frees with cluster_free_items) and their count. */
post_item_t *cluster_post_json(cluster_t *c, const char *jsonl, size_t *n);
void cluster_free_items(post_item_t *items, size_t n);
/* Waits until workflow has an outcome for every event posted so far (all
 * rows of intake_event); asserts it within 20 s. */
void cluster_wait_applied(cluster_t *c);
/* Waits until notification has stored every notice workflow has queued so
 * far (its inbox cursor has reached the end of workflow's outbox to it);
 * asserts it within 20 s. A recipient added after this cannot receive the
 * notices queued before. */
void cluster_wait_notified(cluster_t *c);
/* Waits until nothing is in flight between the services: every outbox row
 * (intake's to workflow, workflow's to notification) acknowledged by its
 * receiver, so no effect of what was posted so far is still to come. Asserts
 * it within 20 s. */
void cluster_wait_quiet(cluster_t *c);
/* The outcome workflow recorded for an event: "applied", "refused: CODE: MESSAGE", or "". */
void cluster_outcome(cluster_t *c, const char *event_id, char *out, size_t outlen);

/* Runs rectifyctl with args (a shell command line's tail: redirections
 * allowed) against this cluster; its stdout and stderr go into out. Returns
 * its exit status. */
int cluster_ctl(cluster_t *c, char *out, size_t outlen, const char *args);
/* Posts one JSON event and writes workflow's outcome (as cluster_outcome). */
void cluster_post_one(cluster_t *c, const char *json, char *outcome, size_t outlen);
/* Writes text into the file path (asserts). */
void cluster_write_file(const char *path, const char *text);

/* The key (and certificate) unit posts with, made on first use; its
 * key_id. Not in plain mode. */
long long cluster_key(cluster_t *c, const char *unit);
/* The DEALER socket a system of unit would connect with (CURVE with its key,
 * or plain), connected to intake; the caller closes it. */
void *cluster_client(cluster_t *c, const char *unit);

/* Prints a service's stderr (for a failing test's diagnosis). */
void cluster_dump_log(const cluster_t *c, int which);

#endif
