/* log: line shape, escaping, bounds. Every line must parse as JSON. */
#include "log.h"

#include <criterion/criterion.h>
#include <jansson.h>
#include <string.h>

static json_t *parse(const char *line)
{
    json_error_t e;
    json_t *o = json_loads(line, 0, &e);
    cr_assert(o, "not JSON (%s): %s", e.text, line);
    return o;
}

Test(log, a_line_has_every_field)
{
    char buf[LOG_LINE_MAX];
    log_field_t f[] = {LF_STR("type", "open_round"), LF_INT("seq", 42)};
    log_format(buf, sizeof buf, 1764078777123LL, LOG_WARN, "intake", "e-1", "sh-cgzf", f, 2,
               "refused");
    json_t *o = parse(buf);
    cr_assert_str_eq(json_string_value(json_object_get(o, "ts")), "2025-11-25T13:52:57.123Z");
    cr_assert_str_eq(json_string_value(json_object_get(o, "level")), "warn");
    cr_assert_str_eq(json_string_value(json_object_get(o, "service")), "intake");
    cr_assert_str_eq(json_string_value(json_object_get(o, "event_id")), "e-1");
    cr_assert_str_eq(json_string_value(json_object_get(o, "unit")), "sh-cgzf");
    cr_assert_str_eq(json_string_value(json_object_get(o, "msg")), "refused");
    cr_assert_str_eq(json_string_value(json_object_get(o, "type")), "open_round");
    cr_assert_eq(json_integer_value(json_object_get(o, "seq")), 42);
    json_decref(o);
}

Test(log, quotes_backslashes_and_control_bytes_are_escaped)
{
    char buf[LOG_LINE_MAX];
    log_format(buf, sizeof buf, 0, LOG_INFO, "wf", NULL, NULL, NULL, 0, "a\"b\\c\nd\x01 整改");
    json_t *o = parse(buf);
    cr_assert_str_eq(json_string_value(json_object_get(o, "msg")), "a\"b\\c\nd\x01 整改");
    cr_assert_null(json_object_get(o, "event_id"), "empty ids are left out");
    json_decref(o);
}

Test(log, an_overlong_line_is_cut_and_marked_and_stays_json)
{
    char buf[256];
    char msg[1000];
    memset(msg, 'x', sizeof msg - 1);
    msg[sizeof msg - 1] = '\0';
    size_t n = log_format(buf, sizeof buf, 0, LOG_ERROR, "wf", NULL, NULL, NULL, 0, msg);
    cr_assert_lt(n, sizeof buf);
    json_t *o = parse(buf);
    cr_assert(json_is_true(json_object_get(o, "truncated")));
    json_decref(o);
}

Test(log, a_cut_never_splits_a_character)
{
    for (size_t size = 120; size < 160; size++) {
        char buf[160];
        log_format(buf, size, 0, LOG_INFO, "wf", NULL, NULL, NULL, 0,
                   "整改整改整改整改整改整改整改整改整改整改整改整改整改整改整改整改整改整改");
        json_t *o = parse(buf); /* jansson refuses invalid UTF-8 */
        json_decref(o);
    }
}

Test(log, level_names_round_trip)
{
    for (int l = LOG_DEBUG; l <= LOG_ERROR; l++)
        cr_assert_eq(log_level_from_name(log_level_name((log_level_t)l)), l);
    cr_assert_eq(log_level_from_name("nonsense"), LOG_INFO);
}
