/* ctl_keys.c: CURVE keys. An outside system's key is bound to its unit and
 * recorded in api_key; its secret goes into a certificate file for that
 * system's operator. On-call keys let an admin watch the log streams. The
 * services' own keys are files in keys_dir. Every command here needs the
 * database as its owner: only the operator on the server makes keys. */
#include "ctl.h"
#include "curve.h"
#include "errors.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const db_stmt_t s_key_insert = {
    "ctl_key_insert",
    "INSERT INTO api_key (public_key, kind, unit, name) VALUES ($1, $2, $3, $4)"
    " RETURNING key_id::text",
    4, 0};
static const db_stmt_t s_unit_known = {
    "ctl_key_unit", "SELECT role FROM unit WHERE code = $1", 1, 0};
static const db_stmt_t s_key_list = {
    "ctl_key_list",
    "SELECT key_id::text AS id, kind, coalesce(unit, '') AS unit, name, public_key,"
    " to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI') AS created,"
    " coalesce(to_char(revoked_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS'), '') AS revoked"
    " FROM api_key ORDER BY key_id",
    0, 0};
static const db_stmt_t s_key_revoke = {
    "ctl_key_revoke",
    "UPDATE api_key SET revoked_at = now() WHERE key_id = $1::bigint AND revoked_at IS NULL"
    " RETURNING key_id::text, kind, coalesce(unit, ''), name",
    1, 0};

static const char *const s_services[] = {"intake", "workflow", "notify", "open311"};

static int s_usage(void)
{
    fprintf(stderr,
            "usage: rectifyctl key new --unit U --name NAME [--out FILE]\n"
            "       rectifyctl key new --oncall --name NAME [--out FILE]\n"
            "       rectifyctl key list | key revoke ID | key service\n");
    return 2;
}

/* key new: a key pair for a system of unit U (or an on-call admin), the
 * public key recorded, the secret written to FILE (0600; never replaced). */
static int s_new(const config_t *cfg, int argc, char **argv)
{
    const char *unit = NULL, *name = NULL, *out = NULL;
    bool oncall = false;
    for (int i = 0; i < argc; i++) {
        if (!strcmp(argv[i], "--unit") && i + 1 < argc)
            unit = argv[++i];
        else if (!strcmp(argv[i], "--name") && i + 1 < argc)
            name = argv[++i];
        else if (!strcmp(argv[i], "--out") && i + 1 < argc)
            out = argv[++i];
        else if (!strcmp(argv[i], "--oncall"))
            oncall = true;
        else {
            fprintf(stderr, "rectifyctl key new: unexpected argument \"%s\"\n", argv[i]);
            return s_usage();
        }
    }
    if (!name || !*name || oncall == (unit != NULL)) {
        fprintf(stderr, "rectifyctl key new: give --name, and either --unit U (a system "
                        "posting as unit U) or --oncall (an admin watching the logs)\n");
        return 2;
    }
    db_t *db = ctl_connect(cfg);
    if (!db)
        return 1;
    int status = 1;
    char path[512];
    PGresult *res = NULL;
    if (unit) {
        const char *p[] = {unit};
        res = db_run(db, &s_unit_known, p, NULL, NULL);
        if (!res || PQntuples(res) != 1) {
            fprintf(stderr, "rectifyctl key new: --unit: \"%s\" is not a registered unit\n",
                    unit);
            goto out;
        }
        PQclear(res);
        res = NULL;
    }
    curve_cert_t cert;
    if (curve_new(&cert) != RC_OK) {
        fprintf(stderr, "rectifyctl key new: libzmq was built without CURVE\n");
        goto out;
    }
    /* recorded and written together: a key whose file could not be written
     * is not left behind in the table */
    if (db_begin(db) != RC_OK)
        goto out;
    const char *params[] = {cert.public_key, oncall ? "oncall" : "system", unit, name};
    res = db_run(db, &s_key_insert, params, NULL, NULL);
    if (!res) {
        fprintf(stderr, "rectifyctl key new: %s\n", db_error(db));
        db_rollback(db);
        goto out;
    }
    const char *id = PQgetvalue(res, 0, 0);
    if (out)
        snprintf(path, sizeof path, "%s", out);
    else
        snprintf(path, sizeof path, "key-%s.key_secret", id);
    const char *meta[] = {"key-id", id, "kind", oncall ? "oncall" : "system", "unit",
                          unit ? unit : "", "name", name, NULL};
    char err[700];
    if (curve_save(&cert, path, true, meta, err, sizeof err) != RC_OK) {
        fprintf(stderr, "rectifyctl key new: %s\n", err);
        db_rollback(db);
        goto out;
    }
    if (db_commit(db) != RC_OK) {
        unlink(path);
        fprintf(stderr, "rectifyctl key new: %s\n", db_error(db));
        goto out;
    }
    printf("key %s (%s%s%s, \"%s\"): public key %s\nsecret certificate: %s (mode 0600): hand it "
           "to the system's operator, with intake's public key (keys_dir/intake.key)\n",
           id, oncall ? "on-call" : "system of unit ", unit ? unit : "", "", name,
           cert.public_key, path);
    status = 0;
out:
    PQclear(res);
    memset(&cert, 0, sizeof cert);
    db_destroy(&db);
    return status;
}

static int s_revoke(const config_t *cfg, int argc, char **argv)
{
    char *end = NULL;
    long long id = argc == 1 ? strtoll(argv[0], &end, 10) : 0;
    if (argc != 1 || !end || *end || id <= 0) {
        fprintf(stderr, "rectifyctl key revoke: name one key by its id (rectifyctl key list)\n");
        return 2;
    }
    db_t *db = ctl_connect(cfg);
    if (!db)
        return 1;
    const char *params[] = {argv[0]};
    PGresult *res = db_run(db, &s_key_revoke, params, NULL, NULL);
    int status = 1;
    if (!res)
        fprintf(stderr, "rectifyctl key revoke: %s\n", db_error(db));
    else if (PQntuples(res) == 0)
        fprintf(stderr, "rectifyctl key revoke: no live key %s (unknown, or revoked before)\n",
                argv[0]);
    else {
        printf("revoked key %s (%s %s \"%s\"): refused from now on, also on open connections\n",
               PQgetvalue(res, 0, 0), PQgetvalue(res, 0, 1), PQgetvalue(res, 0, 2),
               PQgetvalue(res, 0, 3));
        status = 0;
    }
    PQclear(res);
    db_destroy(&db);
    return status;
}

/* key service: a key pair for each service that has none in keys_dir. */
static int s_service(const config_t *cfg)
{
    const char *dir = config_str(cfg, SET_keys_dir);
    if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
        fprintf(stderr, "rectifyctl key service: keys_dir: %s: %s\n", dir, strerror(errno));
        return 1;
    }
    for (size_t i = 0; i < sizeof s_services / sizeof *s_services; i++) {
        char secret[600], public[600], err[700];
        curve_path(secret, sizeof secret, dir, s_services[i], true);
        curve_path(public, sizeof public, dir, s_services[i], false);
        if (access(secret, F_OK) == 0) {
            printf("%s: kept (%s exists)\n", s_services[i], secret);
            continue;
        }
        curve_cert_t cert;
        const char *meta[] = {"service", s_services[i], NULL};
        if (curve_new(&cert) != RC_OK ||
            curve_save(&cert, secret, true, meta, err, sizeof err) != RC_OK ||
            curve_save(&cert, public, false, meta, err, sizeof err) != RC_OK) {
            fprintf(stderr, "rectifyctl key service: %s\n", err);
            return 1;
        }
        printf("%s: made %s and %s\n", s_services[i], secret, public);
    }
    return 0;
}

int ctl_key(const config_t *cfg, int argc, char **argv)
{
    const char *verb = argc > 0 ? argv[0] : "";
    if (!strcmp(verb, "new"))
        return s_new(cfg, argc - 1, argv + 1);
    if (!strcmp(verb, "list"))
        return ctl_list(cfg, "key list", &s_key_list, "key(s)", argc - 1);
    if (!strcmp(verb, "revoke"))
        return s_revoke(cfg, argc - 1, argv + 1);
    if (!strcmp(verb, "service") && argc == 1)
        return s_service(cfg);
    return s_usage();
}
