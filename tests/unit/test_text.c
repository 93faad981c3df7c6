/* text: UTF-8 exactly as PostgreSQL accepts it, and cutting on characters. */
#include "text.h"

#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#define CHECK(lit, max) text_check((lit), sizeof(lit) - 1, (max), NULL)

Test(text, ascii_and_chinese_and_four_byte_characters_are_valid)
{
    cr_assert_eq(CHECK("round 2020-sh-6", 0), TEXT_OK);
    cr_assert_eq(CHECK("上海市城市管理行政执法局", 0), TEXT_OK);
    cr_assert_eq(CHECK("\xF0\x9F\x98\x80", 0), TEXT_OK); /* U+1F600 */
    cr_assert_eq(CHECK("\xF4\x8F\xBF\xBF", 0), TEXT_OK); /* U+10FFFF */
    cr_assert_eq(CHECK("\xED\x9F\xBF", 0), TEXT_OK);     /* U+D7FF */
    cr_assert_eq(CHECK("", 0), TEXT_OK);
}

Test(text, what_postgresql_refuses_is_refused)
{
    cr_assert_eq(CHECK("\xED\xA0\x80", 0), TEXT_INVALID);     /* surrogate U+D800 */
    cr_assert_eq(CHECK("\xED\xBF\xBF", 0), TEXT_INVALID);     /* surrogate U+DFFF */
    cr_assert_eq(CHECK("\xE0\x80\x80", 0), TEXT_INVALID);     /* overlong NUL */
    cr_assert_eq(CHECK("\xC0\xAF", 0), TEXT_INVALID);         /* overlong '/' */
    cr_assert_eq(CHECK("\xF0\x80\x80\xAF", 0), TEXT_INVALID); /* overlong 4-byte */
    cr_assert_eq(CHECK("\xF4\x90\x80\x80", 0), TEXT_INVALID); /* U+110000 */
    cr_assert_eq(CHECK("\xF5\x80\x80\x80", 0), TEXT_INVALID);
    cr_assert_eq(CHECK("\x80", 0), TEXT_INVALID);     /* lone continuation */
    cr_assert_eq(CHECK("\xE4\xB8", 0), TEXT_INVALID); /* cut in the middle */
    cr_assert_eq(CHECK("ab\xFF", 0), TEXT_INVALID);
}

Test(text, a_nul_byte_is_refused_and_located)
{
    size_t at = 0;
    cr_assert_eq(text_check("admin\0evil", 10, 0, &at), TEXT_NUL);
    cr_assert_eq(at, 5);
}

Test(text, the_byte_limit_is_checked_after_validity)
{
    size_t at = 0;
    cr_assert_eq(text_check("上海市", 9, 9, NULL), TEXT_OK);
    cr_assert_eq(text_check("上海市", 9, 8, &at), TEXT_TOO_LONG);
    cr_assert_eq(at, 6, "the longest whole prefix is reported");
    cr_assert_eq(text_check("\xFF"
                            "abc",
                            4, 2, NULL),
                 TEXT_INVALID);
}

Test(text, the_byte_limit_reads_nothing_past_the_length)
{
    /* found by the fuzzer: bytes that are not NUL-terminated, over the limit */
    char *bytes = malloc(8);
    memcpy(bytes, "上海..", 8); /* 8 bytes, no NUL after them */
    size_t at = 0;
    cr_assert_eq(text_check(bytes, 8, 4, &at), TEXT_TOO_LONG);
    cr_assert_eq(at, 3);
    free(bytes);
}

Test(text, a_prefix_never_ends_inside_a_character)
{
    const char *s = "整改事项";
    for (size_t max = 0; max <= 12; max++) {
        size_t n = text_prefix(s, max);
        cr_assert_eq(n % 3, 0, "max %zu gave %zu", max, n);
        cr_assert(n <= max);
    }
}

Test(text, cut_copies_whole_characters_and_replaces_invalid_bytes)
{
    char out[8];
    cr_assert_eq(text_cut(out, sizeof out, "上海市"), false);
    cr_assert_str_eq(out, "上海");
    cr_assert_eq(text_cut(out, sizeof out, "a\xED\xA0\x80z"), true);
    cr_assert_str_eq(out, "a???z");
    cr_assert_eq(text_check(out, strlen(out), 0, NULL), TEXT_OK);
    char big[64];
    cr_assert_eq(text_cut(big, sizeof big, "ok"), true);
    cr_assert_str_eq(big, "ok");
}

Test(text, a_character_cut_off_at_the_end_is_dropped_not_replaced)
{
    char out[16];
    cr_assert_eq(text_cut(out, sizeof out, "上海\xE5\xB8"), false);
    cr_assert_str_eq(out, "上海");
    cr_assert_eq(text_cut(out, sizeof out, "a\xE5\xB8z"), true);
    cr_assert_str_eq(out, "a??z", "inside the text it is replaced");
}

Test(text, printf_results_are_always_valid)
{
    char out[10];
    cr_assert_eq(text_printf(out, sizeof out, "task %s", "整改措施"), false);
    cr_assert_str_eq(out, "task 整");
    cr_assert_eq(text_check(out, strlen(out), 0, NULL), TEXT_OK);
}
