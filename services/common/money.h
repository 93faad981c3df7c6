/* money.h: amounts of money are exact: integer fen (0.01 yuan), never floating point. */
#ifndef RECTIFY_MONEY_H
#define RECTIFY_MONEY_H

#include <stddef.h>
#include <stdint.h>

#define MONEY_MAX_FEN 100000000000000LL /* 1 trillion yuan: far above any real amount */

/* Parses "2000", "2000.5" or "2000.50" (yuan; no sign, no exponent, at most
 * two decimals) into fen. "" is 0. Returns 0 or RC_ERR_INVALID. */
int money_parse_fen(const char *yuan, int64_t *fen);
/* Writes fen as yuan with two decimals, e.g. "2000.00". */
void money_format_yuan(int64_t fen, char *out, size_t outlen);
/* Writes fen as 万元 with two decimals, rounded half up, e.g. 200000 fen -> "0.20". */
void money_format_wan(int64_t fen, char *out, size_t outlen);

#endif
