/* ctl.h: rectifyctl's commands, one source file per topic:
 * rectifyctl.c (migrate, post, status, the command line), ctl_report.c
 * (ledger, item, bulletin), ctl_orders.c (work orders), ctl_import.c (plan import), ctl_notify.c
 * (recipients, dead letters), ctl_events.c (quarantined events). Each returns the
 * process exit status: 0 success, 1 refused or failed, 2 usage. */
#ifndef RECTIFY_CTL_H
#define RECTIFY_CTL_H

#include "config.h"
#include "db.h"
#include "poster.h"

/* Connects to the configured database; prints the reason and returns NULL on failure. */
db_t *ctl_connect(const config_t *cfg);

/* The credentials posting needs (poster_credentials); prints the reason,
 * naming the command, when they cannot be read. Returns 0 or the error. */
int ctl_credentials(const config_t *cfg, poster_creds_t *creds, const char *command);

/* Waits (up to timeout_ms) for workflow's outcome of every ACCEPTED or
 * DUPLICATE item, asking intake with the credentials the items were posted
 * with (poster_outcomes), and stores it in
 * outcomes[i] ("applied", "refused", or "" if none came) with code and
 * message. Returns how many were refused. */
typedef poster_outcome_t ctl_outcome_t;
int ctl_wait_outcomes(const config_t *cfg, const poster_creds_t *creds, const post_item_t *items,
                      size_t n, ctl_outcome_t *outcomes, int timeout_ms);

/* Prints a result as a table, its column names as headers. Returns 0, or 1 when
 * out of memory. */
int ctl_print_table(PGresult *res);

/* rectifyctl COMMAND (no arguments): prints what stmt selects as a table,
 * then "N noun". Returns the exit status. */
int ctl_list(const config_t *cfg, const char *command, const db_stmt_t *stmt, const char *noun,
             int argc);
/* rectifyctl COMMAND ID|--all: runs stmt with the id ('' for --all), prints
 * each row's first column, then "N noun"; naming an id that matches nothing
 * exits 1. */
int ctl_act_on(const config_t *cfg, const char *command, const db_stmt_t *stmt, const char *noun,
               int argc, char **argv);

int ctl_dead_events(const config_t *cfg, int argc, char **argv);
int ctl_requeue(const config_t *cfg, int argc, char **argv);
int ctl_ledger(const config_t *cfg, int argc, char **argv);
int ctl_item(const config_t *cfg, int argc, char **argv);
int ctl_bulletin(const config_t *cfg, int argc, char **argv);
int ctl_orders(const config_t *cfg, int argc, char **argv);
int ctl_order(const config_t *cfg, int argc, char **argv);
int ctl_repeats(const config_t *cfg, int argc, char **argv);
int ctl_hotline(const config_t *cfg, int argc, char **argv);
int ctl_sla(const config_t *cfg, int argc, char **argv);
int ctl_holiday(const config_t *cfg, int argc, char **argv);
int ctl_report(const config_t *cfg, int argc, char **argv);
int ctl_import(const config_t *cfg, int argc, char **argv);
int ctl_recipient(const config_t *cfg, int argc, char **argv);
int ctl_dead_letters(const config_t *cfg, int argc, char **argv);
int ctl_resend(const config_t *cfg, int argc, char **argv);
int ctl_key(const config_t *cfg, int argc, char **argv);

#endif
