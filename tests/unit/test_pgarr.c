/* pgarr: array literals; the database test suites check PostgreSQL reads
 * them back, here the exact text is checked. */
#include "pgarr.h"

#include <criterion/criterion.h>

Test(pgarr, an_empty_array_is_braces)
{
    pgarr_t a;
    pgarr_init(&a);
    cr_assert_str_eq(pgarr_text(&a), "{}");
    pgarr_free(&a);
}

Test(pgarr, text_elements_are_quoted_and_escaped)
{
    pgarr_t a;
    pgarr_init(&a);
    pgarr_add_text(&a, "plain");
    pgarr_add_text(&a, "with \"quotes\" and \\ and ,{}");
    pgarr_add_text(&a, "");
    cr_assert_str_eq(pgarr_text(&a), "{\"plain\",\"with \\\"quotes\\\" and \\\\ and ,{}\",\"\"}");
    pgarr_free(&a);
}

Test(pgarr, bytea_elements_use_the_hex_form)
{
    pgarr_t a;
    pgarr_init(&a);
    const uint8_t data[] = {0x00, 0xab, 0x10};
    pgarr_add_bytea(&a, data, sizeof data);
    pgarr_add_bytea(&a, data, 0);
    cr_assert_str_eq(pgarr_text(&a), "{\"\\\\x00ab10\",\"\\\\x\"}");
    pgarr_free(&a);
}

Test(pgarr, integers_are_bare)
{
    pgarr_t a;
    pgarr_init(&a);
    pgarr_add_int(&a, -5);
    pgarr_add_int(&a, 9223372036854775807LL);
    cr_assert_str_eq(pgarr_text(&a), "{-5,9223372036854775807}");
    pgarr_free(&a);
}

Test(pgarr, many_elements_grow_the_buffer)
{
    pgarr_t a;
    pgarr_init(&a);
    for (int i = 0; i < 10000; i++)
        pgarr_add_text(&a, "0123456789");
    const char *s = pgarr_text(&a);
    cr_assert_eq(a.count, 10000);
    cr_assert_eq(strlen(s), 2 + 10000 * 12 + 9999);
    pgarr_free(&a);
}
