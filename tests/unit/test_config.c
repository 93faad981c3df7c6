/* config: defaults, file, environment, bounds, and the messages that name
 * the setting. */
#include "config.h"

#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char err[512];

static void clean_env(void)
{
    for (int i = 0; i < config_table_len; i++) {
        char var[128] = "RECTIFY_";
        size_t n = strlen(var);
        for (const char *p = config_table[i].name; *p; p++)
            var[n++] = (char)(*p >= 'a' && *p <= 'z' ? *p - 32 : *p);
        var[n] = '\0';
        unsetenv(var);
    }
    unsetenv("RECTIFY_CONFIG");
}

TestSuite(config, .init = clean_env);

static const char *write_file(const char *text)
{
    static char path[64];
    snprintf(path, sizeof path, "/tmp/rectify-config-%d.conf", (int)getpid());
    FILE *f = fopen(path, "w");
    cr_assert(f);
    fputs(text, f);
    fclose(f);
    return path;
}

Test(config, defaults_come_from_the_table)
{
    config_t *c = config_load(NULL, err, sizeof err);
    cr_assert(c, "%s", err);
    cr_assert_eq(config_int(c, SET_batch_max), 512);
    cr_assert_eq(config_bool(c, SET_allow_plain), false);
    cr_assert_str_eq(config_str(c, SET_intake_bind), "tcp://127.0.0.1:7101");
    config_destroy(&c);
    cr_assert_null(c, "destroy nulls the caller's pointer");
    config_destroy(&c); /* safe on NULL */
}

Test(config, the_environment_overrides_the_file)
{
    const char *path = write_file("# comment\nbatch_max = 100\n\nlog_level = warn  # trailing\n");
    setenv("RECTIFY_BATCH_MAX", "200", 1);
    config_t *c = config_load(path, err, sizeof err);
    cr_assert(c, "%s", err);
    cr_assert_eq(config_int(c, SET_batch_max), 200);
    cr_assert_str_eq(config_str(c, SET_log_level), "warn");
    config_destroy(&c);
    unlink(path);
}

Test(config, a_value_below_the_minimum_is_refused_by_name)
{
    setenv("RECTIFY_BATCH_MAX", "0", 1);
    cr_assert_null(config_load(NULL, err, sizeof err));
    cr_assert_str_eq(err, "batch_max: 0 is below the minimum 1 (from RECTIFY_BATCH_MAX)");
}

Test(config, a_value_above_the_maximum_is_refused_by_name)
{
    setenv("RECTIFY_RESEND_TIMEOUT_MS", "600001", 1);
    cr_assert_null(config_load(NULL, err, sizeof err));
    cr_assert(strstr(err, "resend_timeout_ms: 600001 is above the maximum 600000"), "%s", err);
}

Test(config, a_non_number_is_refused)
{
    setenv("RECTIFY_SEND_WINDOW", "12abc", 1);
    cr_assert_null(config_load(NULL, err, sizeof err));
    cr_assert(strstr(err, "send_window: \"12abc\" is not an integer"), "%s", err);
}

Test(config, a_bad_boolean_and_a_bad_choice_are_refused)
{
    setenv("RECTIFY_ALLOW_PLAIN", "maybe", 1);
    cr_assert_null(config_load(NULL, err, sizeof err));
    cr_assert(strstr(err, "allow_plain: \"maybe\" is not a boolean"), "%s", err);
    unsetenv("RECTIFY_ALLOW_PLAIN");
    setenv("RECTIFY_LOG_LEVEL", "loud", 1);
    cr_assert_null(config_load(NULL, err, sizeof err));
    cr_assert(strstr(err, "log_level: \"loud\" is not one of debug|info|warn|error"), "%s", err);
}

Test(config, an_unknown_name_in_the_file_is_refused_with_its_line)
{
    const char *path = write_file("batch_max = 10\nbatch_maxx = 10\n");
    cr_assert_null(config_load(path, err, sizeof err));
    cr_assert(strstr(err, ":2: batch_maxx: no such setting"), "%s", err);
    unlink(path);
}

Test(config, a_line_without_equals_is_refused)
{
    const char *path = write_file("batch_max 10\n");
    cr_assert_null(config_load(path, err, sizeof err));
    cr_assert(strstr(err, ":1: expected \"name = value\""), "%s", err);
    unlink(path);
}

Test(config, a_missing_file_is_refused)
{
    cr_assert_null(config_load("/nonexistent/rectify.conf", err, sizeof err));
    cr_assert(strstr(err, "/nonexistent/rectify.conf"), "%s", err);
}

Test(config, every_default_passes_its_own_bounds)
{
    for (int i = 0; i < config_table_len; i++) {
        const cfg_spec_t *s = &config_table[i];
        cr_assert(s->help && *s->help, "%s has no help", s->name);
        if (s->type == CFG_INT) {
            long long v = strtoll(s->fallback, NULL, 10);
            cr_assert(v >= s->min && v <= s->max, "%s default out of bounds", s->name);
        }
    }
}

/* kept reachable: the process ends in abort() with it still allocated */
static config_t *s_aborting;

Test(config, reading_a_setting_as_another_type_stops_the_program_in_every_build,
     .signal = SIGABRT)
{
    s_aborting = config_load(NULL, err, sizeof err);
    cr_assert(s_aborting, "%s", err);
    config_int(s_aborting, SET_intake_bind); /* a string read as an integer */
}

Test(config, every_key_names_its_row_of_the_table)
{
    cr_assert_eq(SET__COUNT, config_table_len);
    cr_assert_str_eq(config_name(SET_batch_max), "batch_max");
    cr_assert_str_eq(config_name(SET_quarantine_after), "quarantine_after");
}
