/* money.c: exact decimal money. */
#include "money.h"
#include "errors.h"

#include <stdio.h>

int money_parse_fen(const char *s, int64_t *fen)
{
    int64_t v = 0;
    int decimals = -1;
    *fen = 0;
    if (!s || !*s)
        return RC_OK;
    for (const char *p = s; *p; p++) {
        if (*p == '.') {
            if (decimals >= 0 || p == s || !p[1])
                return RC_ERR_INVALID;
            decimals = 0;
            continue;
        }
        if (*p < '0' || *p > '9' || decimals == 2)
            return RC_ERR_INVALID;
        v = v * 10 + (*p - '0');
        if (v > MONEY_MAX_FEN)
            return RC_ERR_INVALID;
        if (decimals >= 0)
            decimals++;
    }
    for (int d = decimals < 0 ? 0 : decimals; d < 2; d++)
        v *= 10;
    if (v > MONEY_MAX_FEN)
        return RC_ERR_INVALID;
    *fen = v;
    return RC_OK;
}

void money_format_yuan(int64_t fen, char *out, size_t outlen)
{
    snprintf(out, outlen, "%lld.%02lld", (long long)(fen / 100), (long long)(fen % 100));
}

void money_format_wan(int64_t fen, char *out, size_t outlen)
{
    /* 1 万元 = 1,000,000 fen; two decimals = units of 10,000 fen */
    int64_t hundredths = (fen + 5000) / 10000;
    snprintf(out, outlen, "%lld.%02lld", (long long)(hundredths / 100),
             (long long)(hundredths % 100));
}
