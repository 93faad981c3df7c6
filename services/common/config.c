/* config.c: settings table, loading and validation. */
#include "config.h"

#include <assert.h>
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define MAX_LINE 1024

const cfg_spec_t config_table[] = {
    {"db", CFG_STRING, "", 0, 0, NULL,
     "libpq connection string; empty uses the PG* environment variables"},
    {"allow_plain", CFG_BOOL, "false", 0, 0, NULL,
     "accept unauthenticated ZeroMQ peers; only loopback (tcp://127.*, ipc://) endpoints "
     "may be bound then. Required until CURVE keys are implemented"},
    {"log_level", CFG_STRING, "info", 0, 0, "debug|info|warn|error",
     "lowest level written to stderr and the log stream"},
    {"intake_bind", CFG_STRING, "tcp://127.0.0.1:7101", 0, 0, NULL,
     "where intake listens for district and bureau systems (and rectifyctl post)"},
    {"workflow_bind", CFG_STRING, "tcp://127.0.0.1:7102", 0, 0, NULL,
     "where workflow listens for intake's event batches"},
    {"notify_bind", CFG_STRING, "tcp://127.0.0.1:7103", 0, 0, NULL,
     "where notification listens for workflow's notice batches"},
    {"intake_log_pub", CFG_STRING, "tcp://127.0.0.1:7111", 0, 0, NULL,
     "intake's live log stream (ZeroMQ PUB); empty disables it"},
    {"workflow_log_pub", CFG_STRING, "tcp://127.0.0.1:7112", 0, 0, NULL,
     "workflow's live log stream (ZeroMQ PUB); empty disables it"},
    {"notify_log_pub", CFG_STRING, "tcp://127.0.0.1:7113", 0, 0, NULL,
     "notification's live log stream (ZeroMQ PUB); empty disables it"},
    {"max_message_bytes", CFG_INT, "1048576", 256, 16777216, NULL,
     "largest Envelope intake accepts; larger ones are REJECTED (too_large)"},
    {"batch_max", CFG_INT, "512", 1, 10000, NULL, "most events committed in one transaction"},
    {"send_window", CFG_INT, "8192", 1, 1000000, NULL,
     "most unacknowledged outbox rows in flight to the next service"},
    {"resend_timeout_ms", CFG_INT, "2000", 50, 600000, NULL,
     "re-send what the next service has not acknowledged after this long"},
    {"poll_interval_ms", CFG_INT, "50", 1, 10000, NULL,
     "how often an idle service looks for outbox rows written by other processes"},
    {"quarantine_after", CFG_INT, "5", 1, 1000, NULL,
     "an event that keeps failing (not for its data, not for the connection) is quarantined "
     "after this many tries (rectifyctl dead-events, requeue); the pipeline goes on"},
    {"drain_timeout_ms", CFG_INT, "3000", 0, 600000, NULL,
     "on SIGTERM, how long to wait for in-flight batches to be acknowledged"},
    {"sim_clock", CFG_BOOL, "false", 0, 0, NULL,
     "read the current time from the table sim_clock (rectifyctl clock); tests and demos only"},
    {"timer_interval_ms", CFG_INT, "1000", 10, 3600000, NULL,
     "how often workflow looks for clocks that are due"},
    {"remind_days", CFG_STRING, "7,3,1", 0, 0, NULL,
     "reminders this many days before a deadline (comma-separated, each 1..365)"},
    {"escalation_fix_now", CFG_STRING, "1,3,7", 0, 0, NULL,
     "fix-now tasks: days past the deadline for the yellow card, red card, interview"},
    {"escalation_special_campaign", CFG_STRING, "3,7,14", 0, 0, NULL,
     "special-campaign tasks: days past the deadline for yellow card, red card, interview"},
    {"escalation_long_term", CFG_STRING, "7,14,30", 0, 0, NULL,
     "long-term tasks: days past the deadline for yellow card, red card, interview"},
    {"report_interval_days", CFG_INT, "30", 0, 366, NULL,
     "a long-term task owes a progress report this often (0: never); a missed one is overdue"},
    {"look_back_after_days", CFG_INT, "90", 0, 3660, NULL,
     "a look-back falls due this many days after a write-off (0: none)"},
    {"smtp_url", CFG_STRING, "smtp://127.0.0.1:25", 0, 0, NULL,
     "the SMTP relay mail is sent through (smtp:// or smtps://)"},
    {"mail_from", CFG_STRING, "rectify@localhost", 0, 0, NULL, "the sender address of mail"},
    {"delivery_timeout_ms", CFG_INT, "5000", 100, 600000, NULL,
     "a webhook or mail delivery that takes longer has failed (and is tried again)"},
    {"delivery_max_attempts", CFG_INT, "6", 1, 100, NULL,
     "after this many failed attempts a delivery is a dead letter"},
    {"retry_base_ms", CFG_INT, "2000", 1, 3600000, NULL,
     "first retry after about this long; each next one waits twice as long (with jitter)"},
    {"retry_max_ms", CFG_INT, "600000", 1, 86400000, NULL, "the longest wait between attempts"},
    {"delivery_concurrency", CFG_INT, "32", 1, 1024, NULL,
     "most webhook and mail deliveries in flight at once"},
};
const int config_table_len = (int)(sizeof config_table / sizeof config_table[0]);

struct config_t {
    char *values[sizeof config_table / sizeof config_table[0]];
    long long ints[sizeof config_table / sizeof config_table[0]];
};

static int s_index(const char *name)
{
    for (int i = 0; i < config_table_len; i++)
        if (strcmp(config_table[i].name, name) == 0)
            return i;
    return -1;
}

static const char *s_type_name(cfg_type_t t)
{
    switch (t) {
    case CFG_STRING:
        return "string";
    case CFG_INT:
        return "integer";
    case CFG_BOOL:
        return "boolean";
    }
    return "?";
}

/* Parses and checks one value against its spec; on success stores the int. */
static int s_check(const cfg_spec_t *spec, const char *value, long long *num, char *err,
                   size_t errlen)
{
    if (spec->type == CFG_INT) {
        char *end = NULL;
        errno = 0;
        long long v = strtoll(value, &end, 10);
        if (errno != 0 || end == value || *end != '\0') {
            snprintf(err, errlen, "%s: \"%s\" is not an integer", spec->name, value);
            return -1;
        }
        if (v < spec->min) {
            snprintf(err, errlen, "%s: %lld is below the minimum %lld", spec->name, v, spec->min);
            return -1;
        }
        if (v > spec->max) {
            snprintf(err, errlen, "%s: %lld is above the maximum %lld", spec->name, v, spec->max);
            return -1;
        }
        *num = v;
    } else if (spec->type == CFG_BOOL) {
        if (!strcmp(value, "true") || !strcmp(value, "1") || !strcmp(value, "yes"))
            *num = 1;
        else if (!strcmp(value, "false") || !strcmp(value, "0") || !strcmp(value, "no"))
            *num = 0;
        else {
            snprintf(err, errlen, "%s: \"%s\" is not a boolean (true or false)", spec->name, value);
            return -1;
        }
    } else if (spec->choices) {
        size_t n = strlen(value);
        const char *p = spec->choices;
        bool found = false;
        while (*p && !found) {
            const char *bar = strchr(p, '|');
            size_t len = bar ? (size_t)(bar - p) : strlen(p);
            found = (len == n && strncmp(p, value, n) == 0);
            p += len + (bar ? 1 : 0);
        }
        if (!found) {
            snprintf(err, errlen, "%s: \"%s\" is not one of %s", spec->name, value, spec->choices);
            return -1;
        }
    }
    return 0;
}

static int s_set(config_t *self, int i, const char *value, char *err, size_t errlen)
{
    long long num = 0;
    if (s_check(&config_table[i], value, &num, err, errlen) < 0)
        return -1;
    char *copy = strdup(value);
    if (!copy) {
        snprintf(err, errlen, "%s: out of memory", config_table[i].name);
        return -1;
    }
    free(self->values[i]);
    self->values[i] = copy;
    self->ints[i] = num;
    return 0;
}

static char *s_trim(char *s)
{
    while (isspace((unsigned char)*s))
        s++;
    size_t n = strlen(s);
    while (n > 0 && isspace((unsigned char)s[n - 1]))
        s[--n] = '\0';
    return s;
}

static int s_load_file(config_t *self, const char *file, char *err, size_t errlen)
{
    FILE *f = fopen(file, "r");
    if (!f) {
        snprintf(err, errlen, "config file %s: %s", file, strerror(errno));
        return -1;
    }
    char line[MAX_LINE];
    int lineno = 0, rc = 0;
    while (rc == 0 && fgets(line, sizeof line, f)) {
        lineno++;
        if (!strchr(line, '\n') && !feof(f)) {
            snprintf(err, errlen, "%s:%d: line longer than %d bytes", file, lineno, MAX_LINE - 2);
            rc = -1;
            break;
        }
        char *hash = strchr(line, '#');
        if (hash)
            *hash = '\0';
        char *s = s_trim(line);
        if (*s == '\0')
            continue;
        char *eq = strchr(s, '=');
        if (!eq) {
            snprintf(err, errlen, "%s:%d: expected \"name = value\"", file, lineno);
            rc = -1;
            break;
        }
        *eq = '\0';
        char *name = s_trim(s), *value = s_trim(eq + 1);
        int i = s_index(name);
        if (i < 0) {
            snprintf(err, errlen, "%s:%d: %s: no such setting (see --help)", file, lineno, name);
            rc = -1;
            break;
        }
        char inner[512];
        if (s_set(self, i, value, inner, sizeof inner) < 0) {
            snprintf(err, errlen, "%s:%d: %s", file, lineno, inner);
            rc = -1;
        }
    }
    fclose(f);
    return rc;
}

config_t *config_load(const char *file, char *err, size_t errlen)
{
    config_t *self = calloc(1, sizeof *self);
    if (!self) {
        snprintf(err, errlen, "config: out of memory");
        return NULL;
    }
    for (int i = 0; i < config_table_len; i++)
        if (s_set(self, i, config_table[i].fallback, err, errlen) < 0)
            goto out_free_self; /* a bad default is a bug, but say so */

    if (!file)
        file = getenv("RECTIFY_CONFIG");
    if (file && *file && s_load_file(self, file, err, errlen) < 0)
        goto out_free_self;

    for (int i = 0; i < config_table_len; i++) {
        char var[128] = "RECTIFY_";
        size_t n = strlen(var);
        for (const char *p = config_table[i].name; *p && n + 1 < sizeof var; p++)
            var[n++] = (char)toupper((unsigned char)*p);
        var[n] = '\0';
        const char *value = getenv(var);
        if (!value)
            continue;
        char inner[512];
        if (s_set(self, i, value, inner, sizeof inner) < 0) {
            snprintf(err, errlen, "%s (from %s)", inner, var);
            goto out_free_self;
        }
    }
    return self;

out_free_self:
    config_destroy(&self);
    return NULL;
}

void config_destroy(config_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    config_t *self = *self_p;
    for (int i = 0; i < config_table_len; i++)
        free(self->values[i]);
    free(self);
    *self_p = NULL;
}

static int s_require(const char *name, cfg_type_t type)
{
    int i = s_index(name);
    assert(i >= 0 && "unknown setting name");
    assert(config_table[i].type == type && "setting read with the wrong type");
    (void)type;
    return i;
}

const char *config_str(const config_t *self, const char *name)
{
    return self->values[s_require(name, CFG_STRING)];
}

long long config_int(const config_t *self, const char *name)
{
    return self->ints[s_require(name, CFG_INT)];
}

bool config_bool(const config_t *self, const char *name)
{
    return self->ints[s_require(name, CFG_BOOL)] != 0;
}

void config_print_help(FILE *out)
{
    fprintf(out, "Settings (file: name = value; environment: RECTIFY_NAME=value):\n\n");
    for (int i = 0; i < config_table_len; i++) {
        const cfg_spec_t *s = &config_table[i];
        fprintf(out, "  %-18s %-8s default \"%s\"", s->name, s_type_name(s->type), s->fallback);
        if (s->type == CFG_INT)
            fprintf(out, ", %lld..%lld", s->min, s->max);
        if (s->choices)
            fprintf(out, ", one of %s", s->choices);
        fprintf(out, "\n      %s\n", s->help);
    }
}

int config_parse_args(int argc, char **argv, const char *program, const char *summary,
                      const char **config_file, int *exit_now)
{
    *exit_now = 0;
    *config_file = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            printf("usage: %s [--config FILE]\n%s\n\n", program, summary);
            config_print_help(stdout);
            *exit_now = 1;
            return 0;
        } else if (!strcmp(argv[i], "--config") && i + 1 < argc) {
            *config_file = argv[++i];
        } else {
            fprintf(stderr, "%s: unknown argument \"%s\" (try --help)\n", program, argv[i]);
            return -1;
        }
    }
    return 0;
}
