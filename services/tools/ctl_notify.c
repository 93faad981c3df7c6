/* ctl_notify.c: who is told what (recipients), and the dead letters. */
#include "ctl.h"
#include "errors.h"
#include "table.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const db_stmt_t s_add = {
    "ctl_recipient_add",
    "INSERT INTO recipient (unit, role, channel, address, kinds)"
    " VALUES ($1, $2, $3, $4, CASE WHEN $5 = '' THEN NULL ELSE string_to_array($5, ',') END)"
    " ON CONFLICT (unit, channel, address) DO UPDATE SET role = excluded.role,"
    " kinds = excluded.kinds, active = true RETURNING id",
    5, 0};
static const db_stmt_t s_list = {
    "ctl_recipient_list",
    "SELECT id::text AS id, unit, role, channel, address,"
    " coalesce(array_to_string(kinds, ','), '(all)') AS kinds,"
    " CASE WHEN active THEN 'active' ELSE 'removed' END AS state"
    " FROM recipient WHERE ($1 = '' OR unit = $1) ORDER BY unit, channel, id",
    1, 0};
static const db_stmt_t s_remove = {
    "ctl_recipient_remove",
    "UPDATE recipient SET active = false WHERE id = $1::bigint RETURNING id", 1, 0};
static const db_stmt_t s_dead = {
    "ctl_dead_letters",
    "SELECT d.notice_id::text AS notice, n.kind, n.unit, d.channel, d.recipient,"
    " d.attempts::text AS attempts, coalesce(d.last_error, '') AS last_error,"
    " to_char(d.updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS') AS since"
    " FROM delivery d JOIN notification n USING (notice_id)"
    " WHERE d.status = 'dead' ORDER BY d.updated_at, d.notice_id",
    0, 0};
static const db_stmt_t s_resend = {
    "ctl_resend",
    "UPDATE delivery SET status = 'pending', attempts = 0, next_attempt_at = now(),"
    " lease_until = NULL, updated_at = now()"
    " WHERE status = 'dead' AND ($1 = '' OR notice_id::text = $1)"
    " RETURNING 'queued ' || notice_id::text || ' again'",
    1, 0};

int ctl_print_table(PGresult *res)
{
    int ncols = PQnfields(res);
    const char *headers[16];
    for (int c = 0; c < ncols && c < 16; c++)
        headers[c] = PQfname(res, c);
    table_t *t = table_new(ncols, headers);
    if (!t)
        return 1;
    for (int r = 0; r < PQntuples(res); r++) {
        const char *cells[16];
        for (int c = 0; c < ncols && c < 16; c++)
            cells[c] = PQgetvalue(res, r, c);
        table_add_row(t, cells);
    }
    table_print(t, stdout);
    table_destroy(&t);
    return 0;
}

/* recipient add --unit U --role R --channel webhook|mail --address A [--kinds k1,k2]
 * recipient list [--unit U]
 * recipient remove ID */
int ctl_recipient(const config_t *cfg, int argc, char **argv)
{
    const char *verb = argc > 0 ? argv[0] : "list";
    const char *unit = "", *role = "", *channel = "", *address = "", *kinds = "", *id = NULL;
    for (int i = 1; i < argc; i++) {
        const char **slot = !strcmp(argv[i], "--unit")      ? &unit
                            : !strcmp(argv[i], "--role")    ? &role
                            : !strcmp(argv[i], "--channel") ? &channel
                            : !strcmp(argv[i], "--address") ? &address
                            : !strcmp(argv[i], "--kinds")   ? &kinds
                                                            : NULL;
        if (slot && i + 1 < argc)
            *slot = argv[++i];
        else if (!id && argv[i][0] != '-')
            id = argv[i];
        else {
            fprintf(stderr, "rectifyctl recipient: unexpected argument \"%s\"\n", argv[i]);
            return 2;
        }
    }
    if (!strcmp(verb, "add")) {
        if (!*unit || !*role || !*address) {
            fprintf(stderr,
                    "rectifyctl recipient add: --unit, --role and --address are required\n");
            return 2;
        }
        if (strcmp(channel, "webhook") && strcmp(channel, "mail")) {
            fprintf(stderr, "rectifyctl recipient add: --channel: \"%s\" is not webhook or mail\n",
                    channel);
            return 2;
        }
        if (!strcmp(channel, "webhook") && strncmp(address, "http://", 7) &&
            strncmp(address, "https://", 8)) {
            fprintf(stderr,
                    "rectifyctl recipient add: --address: a webhook needs an http(s) URL\n");
            return 2;
        }
        if (!strcmp(channel, "mail") && (!strchr(address, '@') || strpbrk(address, " <>\r\n"))) {
            fprintf(stderr, "rectifyctl recipient add: --address: \"%s\" is not a mail address\n",
                    address);
            return 2;
        }
    } else if (!strcmp(verb, "remove") && !id) {
        fprintf(stderr, "rectifyctl recipient remove: name the recipient's id\n");
        return 2;
    } else if (strcmp(verb, "add") && strcmp(verb, "list") && strcmp(verb, "remove")) {
        fprintf(stderr, "rectifyctl recipient: unknown verb \"%s\" (add, list, remove)\n", verb);
        return 2;
    }
    db_t *db = ctl_connect(cfg);
    if (!db)
        return 1;
    int status = 0;
    PGresult *res = NULL;
    if (!strcmp(verb, "add")) {
        const char *params[] = {unit, role, channel, address, kinds};
        res = db_run(db, &s_add, params, NULL, NULL);
        if (res)
            printf("recipient %s: %s %s of %s\n", PQgetvalue(res, 0, 0), channel, address, unit);
    } else if (!strcmp(verb, "remove")) {
        const char *params[] = {id};
        res = db_run(db, &s_remove, params, NULL, NULL);
        if (res && PQntuples(res) == 0) {
            fprintf(stderr, "rectifyctl recipient remove: no recipient %s\n", id);
            status = 1;
        }
    } else {
        const char *params[] = {unit};
        res = db_run(db, &s_list, params, NULL, NULL);
        if (res)
            ctl_print_table(res);
    }
    if (!res) {
        fprintf(stderr, "rectifyctl recipient: %s\n", db_error(db));
        status = 1;
    }
    PQclear(res);
    db_destroy(&db);
    return status;
}

int ctl_list(const config_t *cfg, const char *command, const db_stmt_t *stmt, const char *noun,
             int argc)
{
    if (argc > 0) {
        fprintf(stderr, "rectifyctl %s: takes no arguments\n", command);
        return 2;
    }
    db_t *db = ctl_connect(cfg);
    if (!db)
        return 1;
    PGresult *res = db_run(db, stmt, NULL, NULL, NULL);
    int status = res ? ctl_print_table(res) : 1;
    if (res)
        printf("%d %s\n", PQntuples(res), noun);
    else
        fprintf(stderr, "rectifyctl %s: %s\n", command, db_error(db));
    PQclear(res);
    db_destroy(&db);
    return status;
}

int ctl_act_on(const config_t *cfg, const char *command, const db_stmt_t *stmt, const char *noun,
               int argc, char **argv)
{
    if (argc != 1) {
        fprintf(stderr, "rectifyctl %s: name an id, or --all\n", command);
        return 2;
    }
    const char *which = strcmp(argv[0], "--all") ? argv[0] : "";
    db_t *db = ctl_connect(cfg);
    if (!db)
        return 1;
    const char *params[] = {which};
    PGresult *res = db_run(db, stmt, params, NULL, NULL);
    int status = 0;
    if (!res) {
        fprintf(stderr, "rectifyctl %s: %s\n", command, db_error(db));
        status = 1;
    } else {
        for (int r = 0; r < PQntuples(res); r++)
            printf("%s\n", PQgetvalue(res, r, 0));
        printf("%d %s\n", PQntuples(res), noun);
        if (PQntuples(res) == 0 && *which) {
            fprintf(stderr, "rectifyctl %s: nothing is held as %s\n", command, which);
            status = 1;
        }
    }
    PQclear(res);
    db_destroy(&db);
    return status;
}

int ctl_dead_letters(const config_t *cfg, int argc, char **argv)
{
    (void)argv;
    return ctl_list(cfg, "dead-letters", &s_dead, "dead letter(s)", argc);
}

/* resend --all | NOTICE_ID: dead letters go back to pending, attempts from zero. */
int ctl_resend(const config_t *cfg, int argc, char **argv)
{
    return ctl_act_on(cfg, "resend", &s_resend, "dead letter(s) queued again", argc, argv);
}
