/* money: exact decimal amounts, the figures bulletins print in 万元. */
#include "errors.h"
#include "money.h"

#include <criterion/criterion.h>

Test(money, yuan_with_and_without_decimals_parse_exactly)
{
    int64_t fen;
    cr_assert_eq(money_parse_fen("2000.00", &fen), RC_OK);
    cr_assert_eq(fen, 200000);
    cr_assert_eq(money_parse_fen("2000", &fen), RC_OK);
    cr_assert_eq(fen, 200000);
    cr_assert_eq(money_parse_fen("59700.5", &fen), RC_OK);
    cr_assert_eq(fen, 5970050);
    cr_assert_eq(money_parse_fen("0.01", &fen), RC_OK);
    cr_assert_eq(fen, 1);
    cr_assert_eq(money_parse_fen("", &fen), RC_OK);
    cr_assert_eq(fen, 0);
}

Test(money, anything_but_plain_decimals_is_refused)
{
    const char *bad[] = {"-5",    "1e3", "1.234", "1.", ".5",
                         "1,000", "12a", "1.2.3", " 5", "99999999999999999999"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int64_t fen = 7;
        cr_assert_eq(money_parse_fen(bad[i], &fen), RC_ERR_INVALID, "%s was accepted", bad[i]);
    }
}

Test(money, amounts_format_in_yuan_and_wan_yuan)
{
    char out[32];
    money_format_yuan(200000, out, sizeof out);
    cr_assert_str_eq(out, "2000.00");
    money_format_wan(200000, out, sizeof out);
    cr_assert_str_eq(out, "0.20");
    money_format_wan(5970000, out, sizeof out); /* seed 004: 5.97万元 */
    cr_assert_str_eq(out, "5.97");
    money_format_wan(5975000, out, sizeof out); /* half up */
    cr_assert_str_eq(out, "5.98");
    money_format_yuan(5, out, sizeof out);
    cr_assert_str_eq(out, "0.05");
}
