/* table: display widths and the exact text of printed tables. */
#include "errors.h"
#include "table.h"

#include <criterion/criterion.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* What table_print writes, as a string the caller frees. */
static char *s_print(const table_t *t)
{
    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);
    cr_assert_not_null(out);
    table_print(t, out);
    cr_assert_eq(fclose(out), 0);
    return text;
}

/* Display column where each space-separated field of line starts, counted
 * without the module: ASCII is 1 column, a 3-byte UTF-8 sequence (all the
 * Chinese used here) 2. Returns the number of fields found. */
static int s_field_starts(const char *line, int *starts, int max)
{
    int n = 0, col = 0;
    bool in_field = false;
    for (const unsigned char *s = (const unsigned char *)line; *s && *s != '\n';) {
        bool space = *s == ' ';
        if (!space && !in_field && n < max)
            starts[n++] = col;
        in_field = !space;
        if (*s >= 0xE0 && *s <= 0xEF) {
            col += 2;
            s += 3;
        } else {
            col += 1;
            s += 1;
        }
    }
    return n;
}

Test(table, ascii_text_takes_one_column_per_character)
{
    cr_assert_eq(table_display_width("abc"), 3);
    cr_assert_eq(table_display_width("Case 2021-07, no. 12"), 20);
    cr_assert_eq(table_display_width(""), 0);
    cr_assert_eq(table_display_width(NULL), 0);
}

Test(table, cjk_ideographs_take_two_columns_each)
{
    cr_assert_eq(table_display_width("整改"), 4);
    cr_assert_eq(table_display_width("整改措施落实情况"), 16);
    cr_assert_eq(table_display_width("\xF0\xA0\x80\x80"), 2, "U+20000, extension B");
}

Test(table, fullwidth_and_cjk_punctuation_take_two_columns_each)
{
    cr_assert_eq(table_display_width("\xEF\xBC\x8C"), 2, "fullwidth comma");
    cr_assert_eq(table_display_width("。"), 2);
    cr_assert_eq(table_display_width("\xEF\xBC\x8C" /* ， */ "。、"
                                     "\xEF\xBC\x88\xEF\xBC\x89" /* （） */ "【】“”"),
                 18);
    cr_assert_eq(table_display_width("ＡＢ１"), 6, "fullwidth forms");
    cr_assert_eq(table_display_width("\xE3\x80\x80"), 2, "ideographic space");
    cr_assert_eq(table_display_width("한국"), 4, "Hangul");
    cr_assert_eq(table_display_width("カナ"), 4, "kana");
    cr_assert_eq(table_display_width("😀"), 2, "emoji");
}

Test(table, combining_and_zero_width_characters_take_no_column)
{
    cr_assert_eq(table_display_width("e\xCC\x81"), 1, "e + U+0301");
    cr_assert_eq(table_display_width("cafe\xCC\x81"), 4);
    cr_assert_eq(table_display_width("a\xE2\x80\x8B"
                                     "b"),
                 2, "zero width space");
    cr_assert_eq(table_display_width("\xEF\xBB\xBF"
                                     "x"),
                 1, "byte order mark");
}

Test(table, other_characters_take_one_column)
{
    cr_assert_eq(table_display_width("é"), 1);
    cr_assert_eq(table_display_width("Ωж"), 2);
    cr_assert_eq(table_display_width("…"), 1);
    cr_assert_eq(table_display_width("a\tb\n"), 4, "controls print as one space");
}

Test(table, mixed_strings_add_up_their_widths)
{
    cr_assert_eq(table_display_width("第3批"), 5);
    cr_assert_eq(table_display_width("问题 no.12\xEF\xBC\x88已整改\xEF\xBC\x89"), 20);
    cr_assert_eq(table_display_width("A区\xEF\xBC\x9AＡB"), 8, "fullwidth colon");
}

Test(table, invalid_utf8_takes_one_column_per_byte)
{
    cr_assert_eq(table_display_width("\xFF\xFE"), 2, "never a lead byte");
    cr_assert_eq(table_display_width("\xE6\x95"), 2, "cut short at the end");
    cr_assert_eq(table_display_width("a\xE6\x95"
                                     "b"),
                 4, "cut short by an ASCII byte");
    cr_assert_eq(table_display_width("\xC0\xAF"), 2, "overlong");
    cr_assert_eq(table_display_width("\xED\xA0\x80"), 3, "surrogate");
    cr_assert_eq(table_display_width("\xF4\x90\x80\x80"), 4, "above U+10FFFF");
    cr_assert_eq(table_display_width("\x80整"), 3, "stray continuation byte");
}

Test(table, chinese_and_ascii_columns_start_at_the_same_display_column)
{
    const char *headers[] = {"单位", "问题", "状态"};
    table_t *t = table_new(3, headers);
    cr_assert_not_null(t);
    cr_assert_eq(table_add_row(t, (const char *[]){"市财政局", "整改措施落实情况", "done"}), RC_OK);
    cr_assert_eq(table_add_row(t, (const char *[]){"IT", "ok", "进行中"}), RC_OK);
    char *text = s_print(t);
    cr_assert_str_eq(text, "单位      问题              状态\n"
                           "--------  ----------------  ------\n"
                           "市财政局  整改措施落实情况  done\n"
                           "IT        ok                进行中\n");
    int lines = 0;
    for (const char *line = text; *line; line = strchr(line, '\n') + 1, lines++) {
        int starts[4];
        cr_assert_eq(s_field_starts(line, starts, 4), 3, "line %d", lines);
        cr_assert_eq(starts[0], 0, "line %d", lines);
        cr_assert_eq(starts[1], 10, "line %d", lines);
        cr_assert_eq(starts[2], 28, "line %d", lines);
    }
    cr_assert_eq(lines, 4);
    free(text);
    table_destroy(&t);
}

Test(table, right_aligned_columns_are_padded_on_the_left)
{
    const char *headers[] = {"项目", "金额"};
    table_t *t = table_new(2, headers);
    cr_assert_not_null(t);
    table_align_right(t, 1);
    table_align_right(t, 2);  /* out of range: ignored */
    table_align_right(t, -1); /* likewise */
    table_add_row(t, (const char *[]){"办公费", "12"});
    table_add_row(t, (const char *[]){"差旅费", "1,250"});
    char *text = s_print(t);
    cr_assert_str_eq(text, "项目     金额\n"
                           "------  -----\n"
                           "办公费     12\n"
                           "差旅费  1,250\n");
    free(text);
    table_destroy(&t);
}

Test(table, a_capped_column_cuts_long_cells_and_ends_them_with_an_ellipsis)
{
    const char *headers[] = {"事项", "n"};
    table_t *t = table_new(2, headers);
    cr_assert_not_null(t);
    table_max_width(t, 0, 7);
    table_add_row(t, (const char *[]){"整改措施落实情况", "1"});
    char *text = s_print(t);
    cr_assert_str_eq(text, "事项     n\n"
                           "-------  -\n"
                           "整改措…  1\n");
    cr_assert_eq(table_display_width("整改措…"), 7);
    free(text);
    table_destroy(&t);
}

Test(table, a_cap_never_splits_a_character)
{
    const char *headers[] = {"h"};
    table_t *t = table_new(1, headers);
    cr_assert_not_null(t);
    table_max_width(t, 0, 4);
    table_add_row(t, (const char *[]){"ab整改"});   /* 6 wide: "ab" + "…" */
    table_add_row(t, (const char *[]){"整改措施"}); /* 8 wide: "整" + "…" */
    table_add_row(t, (const char *[]){"整改"});     /* 4 wide: fits */
    table_add_row(t, (const char *[]){"abcde\xCC\x81"});
    char *text = s_print(t);
    cr_assert_str_eq(text, "h\n"
                           "----\n"
                           "ab…\n"
                           "整…\n"
                           "整改\n"
                           "abc…\n");
    free(text);
    table_destroy(&t);
}

Test(table, a_cap_applies_to_the_header_and_can_be_lifted)
{
    const char *headers[] = {"整改措施落实情况"};
    table_t *t = table_new(1, headers);
    cr_assert_not_null(t);
    table_max_width(t, 0, 1);
    table_add_row(t, (const char *[]){"是"});
    char *text = s_print(t);
    cr_assert_str_eq(text, "…\n-\n…\n");
    free(text);
    table_max_width(t, 0, 0);
    text = s_print(t);
    cr_assert_str_eq(text, "整改措施落实情况\n----------------\n是\n");
    free(text);
    table_destroy(&t);
}

Test(table, invalid_utf8_is_printed_as_it_is_and_counts_one_column_per_byte)
{
    const char *headers[] = {"a", "b"};
    table_t *t = table_new(2, headers);
    cr_assert_not_null(t);
    table_add_row(t, (const char *[]){"\xFF\xE6\x95", "x"});
    table_add_row(t, (const char *[]){"整", "y"});
    char *text = s_print(t);
    cr_assert_str_eq(text, "a    b\n"
                           "---  -\n"
                           "\xFF\xE6\x95  x\n"
                           "整   y\n");
    free(text);
    table_max_width(t, 0, 2);
    text = s_print(t);
    cr_assert_str_eq(text, "a   b\n"
                           "--  -\n"
                           "\xFF…  x\n"
                           "整  y\n");
    free(text);
    table_destroy(&t);
}

Test(table, no_line_ends_in_a_space)
{
    const char *headers[] = {"名称", "备注"};
    table_t *t = table_new(2, headers);
    cr_assert_not_null(t);
    table_add_row(t, (const char *[]){"甲", ""});
    table_add_row(t, (const char *[]){"乙", "x  "});
    table_add_row(t, (const char *[]){"丙", "a\n"});
    table_add_row(t, (const char *[]){"", ""});
    char *text = s_print(t);
    cr_assert_str_eq(text, "名称  备注\n"
                           "----  ----\n"
                           "甲\n"
                           "乙    x\n"
                           "丙    a\n"
                           "\n");
    for (const char *nl = strchr(text, '\n'); nl; nl = strchr(nl + 1, '\n'))
        cr_assert(nl == text || nl[-1] != ' ', "a space before byte %td", nl - text);
    free(text);
    table_destroy(&t);
}

Test(table, null_cells_and_headers_print_as_empty)
{
    const char *headers[] = {"编号", NULL, "c"};
    table_t *t = table_new(3, headers);
    cr_assert_not_null(t);
    cr_assert_eq(table_add_row(t, (const char *[]){NULL, "中", NULL}), RC_OK);
    cr_assert_eq(table_add_row(t, (const char *[]){"1", NULL, "z"}), RC_OK);
    char *text = s_print(t);
    cr_assert_str_eq(text, "编号      c\n"
                           "----  --  -\n"
                           "      中\n"
                           "1         z\n");
    free(text);
    table_destroy(&t);
}

Test(table, newlines_and_tabs_in_a_cell_print_as_one_space_each)
{
    const char *headers[] = {"说明", "n"};
    table_t *t = table_new(2, headers);
    cr_assert_not_null(t);
    table_add_row(t, (const char *[]){"第一\n第二\t\tend", "1"});
    char *text = s_print(t);
    cr_assert_str_eq(text, "说明            n\n"
                           "--------------  -\n"
                           "第一 第二  end  1\n");
    free(text);
    table_destroy(&t);
}

Test(table, a_table_with_no_rows_prints_its_header_and_rule)
{
    const char *headers[] = {"a", "bb"};
    table_t *t = table_new(2, headers);
    cr_assert_not_null(t);
    char *text = s_print(t);
    cr_assert_str_eq(text, "a  bb\n-  --\n");
    free(text);
    table_destroy(&t);
}

Test(table, many_rows_are_all_kept_in_order)
{
    const char *headers[] = {"序号", "内容"};
    table_t *t = table_new(2, headers);
    cr_assert_not_null(t);
    table_align_right(t, 0);
    for (int i = 0; i < 1000; i++) {
        char num[16];
        snprintf(num, sizeof num, "%d", i);
        cr_assert_eq(table_add_row(t, (const char *[]){num, "整改"}), RC_OK);
    }
    char *text = s_print(t);
    size_t lines = 0;
    for (const char *p = text; (p = strchr(p, '\n')); p++)
        lines++;
    cr_assert_eq(lines, 1002);
    const char head[] = "序号  内容\n----  ----\n   0  整改\n   1  整改\n";
    cr_assert(strncmp(text, head, sizeof head - 1) == 0);
    const char *tail = text + strlen(text) - strlen(" 999  整改\n");
    cr_assert_str_eq(tail, " 999  整改\n");
    free(text);
    table_destroy(&t);
}

Test(table, bad_arguments_are_refused_and_destroy_nulls_the_pointer)
{
    const char *headers[] = {"a"};
    cr_assert_null(table_new(0, headers));
    cr_assert_null(table_new(-1, headers));
    cr_assert_null(table_new(1, NULL));
    table_t *t = table_new(1, headers);
    cr_assert_not_null(t);
    cr_assert_eq(table_add_row(t, NULL), RC_ERR_INVALID);
    cr_assert_eq(table_add_row(NULL, headers), RC_ERR_INVALID);
    table_max_width(t, 0, -3); /* ignored */
    table_print(NULL, stdout);
    table_print(t, NULL);
    table_destroy(&t);
    cr_assert_null(t);
    table_destroy(&t);
    table_destroy(NULL);
}
