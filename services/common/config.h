/* config.h: every setting of every Rectify program in one declarative table.
 *
 * A value comes from, in rising precedence: the table's default, the file
 * named by --config FILE or RECTIFY_CONFIG (lines "name = value", '#' starts
 * a comment), the environment variable RECTIFY_<NAME> (name upper-cased).
 * --help prints the table; validation uses the same table, so the two agree. */
#ifndef RECTIFY_CONFIG_H
#define RECTIFY_CONFIG_H

#include <stdbool.h>
#include <stdio.h>

typedef enum { CFG_STRING, CFG_INT, CFG_BOOL } cfg_type_t;

typedef struct {
    const char *name;
    cfg_type_t type;
    const char *fallback; /* default, as text */
    long long min, max;   /* CFG_INT bounds, inclusive */
    const char *choices;  /* CFG_STRING: "a|b|c", or NULL for free text */
    const char *help;
} cfg_spec_t;

/* The settings' keys: SET_batch_max, ... A misspelt key does not compile. */
typedef enum {
#define SETTING(name, ...) SET_##name,
#include "config_settings.h"
#undef SETTING
    SET__COUNT
} cfg_key_t;

typedef struct config_t config_t;

/* Builds the configuration from defaults, the optional file and the
 * environment. On failure returns NULL and writes into err a message naming
 * the setting, e.g. "batch_max: 0 is below the minimum 1". The caller owns
 * the result and frees it with config_destroy. */
config_t *config_load(const char *file, char *err, size_t errlen);
void config_destroy(config_t **self_p);

/* Accessors: the key's setting must be of that type; reading it as another
 * stops the program in every build (a programmer error). Returned strings
 * live as long as the config. */
const char *config_str(const config_t *self, cfg_key_t key);
long long config_int(const config_t *self, cfg_key_t key);
bool config_bool(const config_t *self, cfg_key_t key);
/* The setting's name, as in files and --help ("batch_max"). */
const char *config_name(cfg_key_t key);

/* Prints every setting: name, type, default, bounds, environment variable and help. */
void config_print_help(FILE *out);

/* Parses the common command line of a service: --help (prints usage and the
 * table, *exit_now = 1) and --config FILE. Returns 0, or -1 on a bad argument
 * (message written to stderr). */
int config_parse_args(int argc, char **argv, const char *program, const char *summary,
                      const char **config_file, int *exit_now);

/* The table itself, for tests. */
extern const cfg_spec_t config_table[];
extern const int config_table_len;

#endif
