/* testdb.c: per-test databases. */
#include "testdb.h"

#include <criterion/criterion.h>
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *s_base(void)
{
    const char *base = getenv("RECTIFY_DB");
    cr_assert(base && *base, "RECTIFY_DB must name the test server (scripts/test.sh sets it)");
    return base;
}

static void s_admin(const char *sql)
{
    PGconn *c = PQconnectdb(s_base());
    cr_assert_eq(PQstatus(c), CONNECTION_OK, "connect: %s", PQerrorMessage(c));
    PGresult *r = PQexec(c, sql);
    cr_assert_eq(PQresultStatus(r), PGRES_COMMAND_OK, "%s: %s", sql, PQerrorMessage(c));
    PQclear(r);
    PQfinish(c);
}

void testdb_create(testdb_t *t)
{
    static int counter;
    snprintf(t->name, sizeof t->name, "rt_%d_%d", (int)getpid(), counter++);
    snprintf(t->conninfo, sizeof t->conninfo, "%s dbname=%s", s_base(), t->name);
    char sql[160];
    snprintf(sql, sizeof sql, "DROP DATABASE IF EXISTS %s", t->name);
    s_admin(sql);
    snprintf(sql, sizeof sql, "CREATE DATABASE %s", t->name);
    s_admin(sql);
}

void testdb_drop(testdb_t *t)
{
    char sql[160];
    snprintf(sql, sizeof sql, "DROP DATABASE IF EXISTS %s WITH (FORCE)", t->name);
    s_admin(sql);
}

static PGresult *s_query(const testdb_t *t, const char *sql, PGconn **c)
{
    *c = PQconnectdb(t->conninfo);
    cr_assert_eq(PQstatus(*c), CONNECTION_OK, "connect: %s", PQerrorMessage(*c));
    PGresult *r = PQexec(*c, sql);
    cr_assert_eq(PQresultStatus(r), PGRES_TUPLES_OK, "%s: %s", sql, PQerrorMessage(*c));
    return r;
}

long long testdb_number(const testdb_t *t, const char *sql)
{
    PGconn *c;
    PGresult *r = s_query(t, sql, &c);
    long long v =
        PQntuples(r) > 0 && !PQgetisnull(r, 0, 0) ? strtoll(PQgetvalue(r, 0, 0), NULL, 10) : -1;
    PQclear(r);
    PQfinish(c);
    return v;
}

void testdb_text(const testdb_t *t, const char *sql, char *out, size_t outlen)
{
    PGconn *c;
    PGresult *r = s_query(t, sql, &c);
    snprintf(out, outlen, "%s", PQntuples(r) > 0 ? PQgetvalue(r, 0, 0) : "");
    PQclear(r);
    PQfinish(c);
}

void testdb_exec(const testdb_t *t, const char *sql)
{
    PGconn *c = PQconnectdb(t->conninfo);
    cr_assert_eq(PQstatus(c), CONNECTION_OK, "connect: %s", PQerrorMessage(c));
    PGresult *r = PQexec(c, sql);
    cr_assert_eq(PQresultStatus(r), PGRES_COMMAND_OK, "%s: %s", sql, PQerrorMessage(c));
    PQclear(r);
    PQfinish(c);
}

int test_shell(const char *cmd, char *out, size_t outlen)
{
    FILE *p = popen(cmd, "r");
    cr_assert(p, "popen: %s", cmd);
    size_t n = fread(out, 1, outlen - 1, p);
    out[n] = '\0';
    int status = pclose(p);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}
