/* config.c: settings table, loading and validation. */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define MAX_LINE 1024

const cfg_spec_t config_table[] = {
#define SETTING(name, type, fallback, min, max, choices, help)                                     \
    {#name, type, fallback, min, max, choices, help},
#include "config_settings.h"
#undef SETTING
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

/* Reading a setting as another type than the table gives is a programmer
 * error that no build may let pass: it stops the program, in every build. */
static int s_require(cfg_key_t key, cfg_type_t type)
{
    if ((int)key < 0 || (int)key >= config_table_len || config_table[key].type != type) {
        fprintf(stderr, "config: setting %d read as %s, but it is %s\n", (int)key,
                s_type_name(type),
                (int)key >= 0 && (int)key < config_table_len ? s_type_name(config_table[key].type)
                                                             : "no setting");
        abort();
    }
    return (int)key;
}

const char *config_str(const config_t *self, cfg_key_t key)
{
    return self->values[s_require(key, CFG_STRING)];
}

long long config_int(const config_t *self, cfg_key_t key)
{
    return self->ints[s_require(key, CFG_INT)];
}

bool config_bool(const config_t *self, cfg_key_t key)
{
    return self->ints[s_require(key, CFG_BOOL)] != 0;
}

const char *config_name(cfg_key_t key)
{
    return (int)key >= 0 && (int)key < config_table_len ? config_table[key].name : "?";
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
