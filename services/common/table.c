/* table.c: aligned text tables; widths from a table of Unicode ranges. */
#include "table.h"

#include "errors.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define S_INVALID UINT32_MAX      /* what s_decode yields for a stray byte */
#define S_ELLIPSIS "\xE2\x80\xA6" /* "…", width 1 */

/* Code points whose width is not 1, sorted and disjoint. Derived from the
 * Unicode 14.0 character database: width 0 for general categories Mn, Me
 * and Cf (except U+00AD and the prepended concatenation marks, which show)
 * and for the conjoining Hangul vowels and finals U+1160-11FF, U+D7B0-D7FF;
 * width 2 for East Asian Width W and F, for the blocks where unassigned code
 * points default to W, and for the quotes ‘’“” (East Asian Ambiguous, but
 * full-width in Chinese text). Neighbouring ranges of one width were joined
 * across short runs (at most 16) of unassigned code points. */
static const struct {
    uint32_t first, last;
    uint8_t width;
} s_ranges[] = {
    /* clang-format off */
    {0x0300, 0x036F, 0}, {0x0483, 0x0489, 0}, {0x0591, 0x05BD, 0}, {0x05BF, 0x05BF, 0},
    {0x05C1, 0x05C2, 0}, {0x05C4, 0x05C5, 0}, {0x05C7, 0x05C7, 0}, {0x0610, 0x061A, 0},
    {0x061C, 0x061C, 0}, {0x064B, 0x065F, 0}, {0x0670, 0x0670, 0}, {0x06D6, 0x06DC, 0},
    {0x06DF, 0x06E4, 0}, {0x06E7, 0x06E8, 0}, {0x06EA, 0x06ED, 0}, {0x0711, 0x0711, 0},
    {0x0730, 0x074A, 0}, {0x07A6, 0x07B0, 0}, {0x07EB, 0x07F3, 0}, {0x07FD, 0x07FD, 0},
    {0x0816, 0x0819, 0}, {0x081B, 0x0823, 0}, {0x0825, 0x0827, 0}, {0x0829, 0x082D, 0},
    {0x0859, 0x085B, 0}, {0x0898, 0x089F, 0}, {0x08CA, 0x08E1, 0}, {0x08E3, 0x0902, 0},
    {0x093A, 0x093A, 0}, {0x093C, 0x093C, 0}, {0x0941, 0x0948, 0}, {0x094D, 0x094D, 0},
    {0x0951, 0x0957, 0}, {0x0962, 0x0963, 0}, {0x0981, 0x0981, 0}, {0x09BC, 0x09BC, 0},
    {0x09C1, 0x09C4, 0}, {0x09CD, 0x09CD, 0}, {0x09E2, 0x09E3, 0}, {0x09FE, 0x0A02, 0},
    {0x0A3C, 0x0A3C, 0}, {0x0A41, 0x0A51, 0}, {0x0A70, 0x0A71, 0}, {0x0A75, 0x0A75, 0},
    {0x0A81, 0x0A82, 0}, {0x0ABC, 0x0ABC, 0}, {0x0AC1, 0x0AC8, 0}, {0x0ACD, 0x0ACD, 0},
    {0x0AE2, 0x0AE3, 0}, {0x0AFA, 0x0B01, 0}, {0x0B3C, 0x0B3C, 0}, {0x0B3F, 0x0B3F, 0},
    {0x0B41, 0x0B44, 0}, {0x0B4D, 0x0B56, 0}, {0x0B62, 0x0B63, 0}, {0x0B82, 0x0B82, 0},
    {0x0BC0, 0x0BC0, 0}, {0x0BCD, 0x0BCD, 0}, {0x0C00, 0x0C00, 0}, {0x0C04, 0x0C04, 0},
    {0x0C3C, 0x0C3C, 0}, {0x0C3E, 0x0C40, 0}, {0x0C46, 0x0C56, 0}, {0x0C62, 0x0C63, 0},
    {0x0C81, 0x0C81, 0}, {0x0CBC, 0x0CBC, 0}, {0x0CBF, 0x0CBF, 0}, {0x0CC6, 0x0CC6, 0},
    {0x0CCC, 0x0CCD, 0}, {0x0CE2, 0x0CE3, 0}, {0x0D00, 0x0D01, 0}, {0x0D3B, 0x0D3C, 0},
    {0x0D41, 0x0D44, 0}, {0x0D4D, 0x0D4D, 0}, {0x0D62, 0x0D63, 0}, {0x0D81, 0x0D81, 0},
    {0x0DCA, 0x0DCA, 0}, {0x0DD2, 0x0DD6, 0}, {0x0E31, 0x0E31, 0}, {0x0E34, 0x0E3A, 0},
    {0x0E47, 0x0E4E, 0}, {0x0EB1, 0x0EB1, 0}, {0x0EB4, 0x0EBC, 0}, {0x0EC8, 0x0ECD, 0},
    {0x0F18, 0x0F19, 0}, {0x0F35, 0x0F35, 0}, {0x0F37, 0x0F37, 0}, {0x0F39, 0x0F39, 0},
    {0x0F71, 0x0F7E, 0}, {0x0F80, 0x0F84, 0}, {0x0F86, 0x0F87, 0}, {0x0F8D, 0x0FBC, 0},
    {0x0FC6, 0x0FC6, 0}, {0x102D, 0x1030, 0}, {0x1032, 0x1037, 0}, {0x1039, 0x103A, 0},
    {0x103D, 0x103E, 0}, {0x1058, 0x1059, 0}, {0x105E, 0x1060, 0}, {0x1071, 0x1074, 0},
    {0x1082, 0x1082, 0}, {0x1085, 0x1086, 0}, {0x108D, 0x108D, 0}, {0x109D, 0x109D, 0},
    {0x1100, 0x115F, 2}, {0x1160, 0x11FF, 0}, {0x135D, 0x135F, 0}, {0x1712, 0x1714, 0},
    {0x1732, 0x1733, 0}, {0x1752, 0x1753, 0}, {0x1772, 0x1773, 0}, {0x17B4, 0x17B5, 0},
    {0x17B7, 0x17BD, 0}, {0x17C6, 0x17C6, 0}, {0x17C9, 0x17D3, 0}, {0x17DD, 0x17DD, 0},
    {0x180B, 0x180F, 0}, {0x1885, 0x1886, 0}, {0x18A9, 0x18A9, 0}, {0x1920, 0x1922, 0},
    {0x1927, 0x1928, 0}, {0x1932, 0x1932, 0}, {0x1939, 0x193B, 0}, {0x1A17, 0x1A18, 0},
    {0x1A1B, 0x1A1B, 0}, {0x1A56, 0x1A56, 0}, {0x1A58, 0x1A60, 0}, {0x1A62, 0x1A62, 0},
    {0x1A65, 0x1A6C, 0}, {0x1A73, 0x1A7F, 0}, {0x1AB0, 0x1ACE, 0}, {0x1B00, 0x1B03, 0},
    {0x1B34, 0x1B34, 0}, {0x1B36, 0x1B3A, 0}, {0x1B3C, 0x1B3C, 0}, {0x1B42, 0x1B42, 0},
    {0x1B6B, 0x1B73, 0}, {0x1B80, 0x1B81, 0}, {0x1BA2, 0x1BA5, 0}, {0x1BA8, 0x1BA9, 0},
    {0x1BAB, 0x1BAD, 0}, {0x1BE6, 0x1BE6, 0}, {0x1BE8, 0x1BE9, 0}, {0x1BED, 0x1BED, 0},
    {0x1BEF, 0x1BF1, 0}, {0x1C2C, 0x1C33, 0}, {0x1C36, 0x1C37, 0}, {0x1CD0, 0x1CD2, 0},
    {0x1CD4, 0x1CE0, 0}, {0x1CE2, 0x1CE8, 0}, {0x1CED, 0x1CED, 0}, {0x1CF4, 0x1CF4, 0},
    {0x1CF8, 0x1CF9, 0}, {0x1DC0, 0x1DFF, 0}, {0x200B, 0x200F, 0}, {0x2018, 0x2019, 2},
    {0x201C, 0x201D, 2}, {0x202A, 0x202E, 0}, {0x2060, 0x206F, 0}, {0x20D0, 0x20F0, 0},
    {0x231A, 0x231B, 2}, {0x2329, 0x232A, 2}, {0x23E9, 0x23EC, 2}, {0x23F0, 0x23F0, 2},
    {0x23F3, 0x23F3, 2}, {0x25FD, 0x25FE, 2}, {0x2614, 0x2615, 2}, {0x2648, 0x2653, 2},
    {0x267F, 0x267F, 2}, {0x2693, 0x2693, 2}, {0x26A1, 0x26A1, 2}, {0x26AA, 0x26AB, 2},
    {0x26BD, 0x26BE, 2}, {0x26C4, 0x26C5, 2}, {0x26CE, 0x26CE, 2}, {0x26D4, 0x26D4, 2},
    {0x26EA, 0x26EA, 2}, {0x26F2, 0x26F3, 2}, {0x26F5, 0x26F5, 2}, {0x26FA, 0x26FA, 2},
    {0x26FD, 0x26FD, 2}, {0x2705, 0x2705, 2}, {0x270A, 0x270B, 2}, {0x2728, 0x2728, 2},
    {0x274C, 0x274C, 2}, {0x274E, 0x274E, 2}, {0x2753, 0x2755, 2}, {0x2757, 0x2757, 2},
    {0x2795, 0x2797, 2}, {0x27B0, 0x27B0, 2}, {0x27BF, 0x27BF, 2}, {0x2B1B, 0x2B1C, 2},
    {0x2B50, 0x2B50, 2}, {0x2B55, 0x2B55, 2}, {0x2CEF, 0x2CF1, 0}, {0x2D7F, 0x2D7F, 0},
    {0x2DE0, 0x2DFF, 0}, {0x2E80, 0x2FD5, 2}, {0x2FF0, 0x3029, 2}, {0x302A, 0x302D, 0},
    {0x302E, 0x303E, 2}, {0x3041, 0x3096, 2}, {0x3099, 0x309A, 0}, {0x309B, 0x3247, 2},
    {0x3250, 0x4DBF, 2}, {0x4E00, 0xA4C6, 2}, {0xA66F, 0xA672, 0}, {0xA674, 0xA67D, 0},
    {0xA69E, 0xA69F, 0}, {0xA6F0, 0xA6F1, 0}, {0xA802, 0xA802, 0}, {0xA806, 0xA806, 0},
    {0xA80B, 0xA80B, 0}, {0xA825, 0xA826, 0}, {0xA82C, 0xA82C, 0}, {0xA8C4, 0xA8C5, 0},
    {0xA8E0, 0xA8F1, 0}, {0xA8FF, 0xA8FF, 0}, {0xA926, 0xA92D, 0}, {0xA947, 0xA951, 0},
    {0xA960, 0xA97C, 2}, {0xA980, 0xA982, 0}, {0xA9B3, 0xA9B3, 0}, {0xA9B6, 0xA9B9, 0},
    {0xA9BC, 0xA9BD, 0}, {0xA9E5, 0xA9E5, 0}, {0xAA29, 0xAA2E, 0}, {0xAA31, 0xAA32, 0},
    {0xAA35, 0xAA36, 0}, {0xAA43, 0xAA43, 0}, {0xAA4C, 0xAA4C, 0}, {0xAA7C, 0xAA7C, 0},
    {0xAAB0, 0xAAB0, 0}, {0xAAB2, 0xAAB4, 0}, {0xAAB7, 0xAAB8, 0}, {0xAABE, 0xAABF, 0},
    {0xAAC1, 0xAAC1, 0}, {0xAAEC, 0xAAED, 0}, {0xAAF6, 0xAAF6, 0}, {0xABE5, 0xABE5, 0},
    {0xABE8, 0xABE8, 0}, {0xABED, 0xABED, 0}, {0xAC00, 0xD7A3, 2}, {0xD7B0, 0xD7FB, 0},
    {0xF900, 0xFAFF, 2}, {0xFB1E, 0xFB1E, 0}, {0xFE00, 0xFE0F, 0}, {0xFE10, 0xFE19, 2},
    {0xFE20, 0xFE2F, 0}, {0xFE30, 0xFE6B, 2}, {0xFEFF, 0xFEFF, 0}, {0xFF01, 0xFF60, 2},
    {0xFFE0, 0xFFE6, 2}, {0xFFF9, 0xFFFB, 0}, {0x101FD, 0x101FD, 0}, {0x102E0, 0x102E0, 0},
    {0x10376, 0x1037A, 0}, {0x10A01, 0x10A0F, 0}, {0x10A38, 0x10A3F, 0}, {0x10AE5, 0x10AE6, 0},
    {0x10D24, 0x10D27, 0}, {0x10EAB, 0x10EAC, 0}, {0x10F46, 0x10F50, 0}, {0x10F82, 0x10F85, 0},
    {0x11001, 0x11001, 0}, {0x11038, 0x11046, 0}, {0x11070, 0x11070, 0}, {0x11073, 0x11074, 0},
    {0x1107F, 0x11081, 0}, {0x110B3, 0x110B6, 0}, {0x110B9, 0x110BA, 0}, {0x110C2, 0x110C2, 0},
    {0x11100, 0x11102, 0}, {0x11127, 0x1112B, 0}, {0x1112D, 0x11134, 0}, {0x11173, 0x11173, 0},
    {0x11180, 0x11181, 0}, {0x111B6, 0x111BE, 0}, {0x111C9, 0x111CC, 0}, {0x111CF, 0x111CF, 0},
    {0x1122F, 0x11231, 0}, {0x11234, 0x11234, 0}, {0x11236, 0x11237, 0}, {0x1123E, 0x1123E, 0},
    {0x112DF, 0x112DF, 0}, {0x112E3, 0x112EA, 0}, {0x11300, 0x11301, 0}, {0x1133B, 0x1133C, 0},
    {0x11340, 0x11340, 0}, {0x11366, 0x11374, 0}, {0x11438, 0x1143F, 0}, {0x11442, 0x11444, 0},
    {0x11446, 0x11446, 0}, {0x1145E, 0x1145E, 0}, {0x114B3, 0x114B8, 0}, {0x114BA, 0x114BA, 0},
    {0x114BF, 0x114C0, 0}, {0x114C2, 0x114C3, 0}, {0x115B2, 0x115B5, 0}, {0x115BC, 0x115BD, 0},
    {0x115BF, 0x115C0, 0}, {0x115DC, 0x115DD, 0}, {0x11633, 0x1163A, 0}, {0x1163D, 0x1163D, 0},
    {0x1163F, 0x11640, 0}, {0x116AB, 0x116AB, 0}, {0x116AD, 0x116AD, 0}, {0x116B0, 0x116B5, 0},
    {0x116B7, 0x116B7, 0}, {0x1171D, 0x1171F, 0}, {0x11722, 0x11725, 0}, {0x11727, 0x1172B, 0},
    {0x1182F, 0x11837, 0}, {0x11839, 0x1183A, 0}, {0x1193B, 0x1193C, 0}, {0x1193E, 0x1193E, 0},
    {0x11943, 0x11943, 0}, {0x119D4, 0x119DB, 0}, {0x119E0, 0x119E0, 0}, {0x11A01, 0x11A0A, 0},
    {0x11A33, 0x11A38, 0}, {0x11A3B, 0x11A3E, 0}, {0x11A47, 0x11A47, 0}, {0x11A51, 0x11A56, 0},
    {0x11A59, 0x11A5B, 0}, {0x11A8A, 0x11A96, 0}, {0x11A98, 0x11A99, 0}, {0x11C30, 0x11C3D, 0},
    {0x11C3F, 0x11C3F, 0}, {0x11C92, 0x11CA7, 0}, {0x11CAA, 0x11CB0, 0}, {0x11CB2, 0x11CB3, 0},
    {0x11CB5, 0x11CB6, 0}, {0x11D31, 0x11D45, 0}, {0x11D47, 0x11D47, 0}, {0x11D90, 0x11D91, 0},
    {0x11D95, 0x11D95, 0}, {0x11D97, 0x11D97, 0}, {0x11EF3, 0x11EF4, 0}, {0x13430, 0x13438, 0},
    {0x16AF0, 0x16AF4, 0}, {0x16B30, 0x16B36, 0}, {0x16F4F, 0x16F4F, 0}, {0x16F8F, 0x16F92, 0},
    {0x16FE0, 0x16FE3, 2}, {0x16FE4, 0x16FE4, 0}, {0x16FF0, 0x18CD5, 2}, {0x18D00, 0x18D08, 2},
    {0x1AFF0, 0x1B122, 2}, {0x1B150, 0x1B152, 2}, {0x1B164, 0x1B2FB, 2}, {0x1BC9D, 0x1BC9E, 0},
    {0x1BCA0, 0x1BCA3, 0}, {0x1CF00, 0x1CF46, 0}, {0x1D167, 0x1D169, 0}, {0x1D173, 0x1D182, 0},
    {0x1D185, 0x1D18B, 0}, {0x1D1AA, 0x1D1AD, 0}, {0x1D242, 0x1D244, 0}, {0x1DA00, 0x1DA36, 0},
    {0x1DA3B, 0x1DA6C, 0}, {0x1DA75, 0x1DA75, 0}, {0x1DA84, 0x1DA84, 0}, {0x1DA9B, 0x1DAAF, 0},
    {0x1E000, 0x1E02A, 0}, {0x1E130, 0x1E136, 0}, {0x1E2AE, 0x1E2AE, 0}, {0x1E2EC, 0x1E2EF, 0},
    {0x1E8D0, 0x1E8D6, 0}, {0x1E944, 0x1E94A, 0}, {0x1F004, 0x1F004, 2}, {0x1F0CF, 0x1F0CF, 2},
    {0x1F18E, 0x1F18E, 2}, {0x1F191, 0x1F19A, 2}, {0x1F200, 0x1F265, 2}, {0x1F300, 0x1F320, 2},
    {0x1F32D, 0x1F335, 2}, {0x1F337, 0x1F37C, 2}, {0x1F37E, 0x1F393, 2}, {0x1F3A0, 0x1F3CA, 2},
    {0x1F3CF, 0x1F3D3, 2}, {0x1F3E0, 0x1F3F0, 2}, {0x1F3F4, 0x1F3F4, 2}, {0x1F3F8, 0x1F43E, 2},
    {0x1F440, 0x1F440, 2}, {0x1F442, 0x1F4FC, 2}, {0x1F4FF, 0x1F53D, 2}, {0x1F54B, 0x1F54E, 2},
    {0x1F550, 0x1F567, 2}, {0x1F57A, 0x1F57A, 2}, {0x1F595, 0x1F596, 2}, {0x1F5A4, 0x1F5A4, 2},
    {0x1F5FB, 0x1F64F, 2}, {0x1F680, 0x1F6C5, 2}, {0x1F6CC, 0x1F6CC, 2}, {0x1F6D0, 0x1F6D2, 2},
    {0x1F6D5, 0x1F6DF, 2}, {0x1F6EB, 0x1F6EC, 2}, {0x1F6F4, 0x1F6FC, 2}, {0x1F7E0, 0x1F7F0, 2},
    {0x1F90C, 0x1F93A, 2}, {0x1F93C, 0x1F945, 2}, {0x1F947, 0x1F9FF, 2}, {0x1FA70, 0x1FAF6, 2},
    {0x20000, 0x3FFFD, 2}, {0xE0001, 0xE0001, 0}, {0xE0020, 0xE007F, 0}, {0xE0100, 0xE01EF, 0},
    /* clang-format on */
};

typedef struct {
    char *header;
    bool right;   /* right-aligned */
    size_t cap;   /* most display columns; 0 = no cap */
    size_t width; /* scratch for table_print: the column's width */
} s_column_t;

struct table_t {
    size_t ncols;
    s_column_t *columns; /* ncols */
    char **cells;        /* nrows * ncols, row after row, owned */
    size_t nrows;
    size_t row_cap; /* rows cells has room for */
};

/* Decodes one character at s (s[0] != 0) into *cp and returns its length in
 * bytes; a byte that does not start a valid, shortest-form sequence gives
 * S_INVALID and length 1. Never reads past a NUL. */
static size_t s_decode(const unsigned char *s, uint32_t *cp)
{
    uint32_t c;
    uint32_t min;
    size_t len;
    if (s[0] < 0x80) {
        *cp = s[0];
        return 1;
    } else if (s[0] >= 0xC2 && s[0] <= 0xDF) {
        c = s[0] & 0x1Fu;
        min = 0x80;
        len = 2;
    } else if (s[0] >= 0xE0 && s[0] <= 0xEF) {
        c = s[0] & 0x0Fu;
        min = 0x800;
        len = 3;
    } else if (s[0] >= 0xF0 && s[0] <= 0xF4) {
        c = s[0] & 0x07u;
        min = 0x10000;
        len = 4;
    } else {
        *cp = S_INVALID;
        return 1;
    }
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80) {
            *cp = S_INVALID;
            return 1;
        }
        c = (c << 6) | (s[i] & 0x3Fu);
    }
    if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF)) {
        *cp = S_INVALID;
        return 1;
    }
    *cp = c;
    return len;
}

/* C0 and C1 controls and DEL: printed as a space. */
static bool s_is_control(uint32_t cp)
{
    return cp < 0x20 || (cp >= 0x7F && cp <= 0x9F);
}

static size_t s_char_width(uint32_t cp)
{
    if (cp < s_ranges[0].first || cp == S_INVALID)
        return 1;
    size_t lo = 0, hi = sizeof s_ranges / sizeof s_ranges[0];
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (cp < s_ranges[mid].first)
            hi = mid;
        else if (cp > s_ranges[mid].last)
            lo = mid + 1;
        else
            return s_ranges[mid].width;
    }
    return 1;
}

size_t table_display_width(const char *utf8)
{
    if (!utf8)
        return 0;
    const unsigned char *s = (const unsigned char *)utf8;
    size_t width = 0;
    while (*s) {
        uint32_t cp;
        s += s_decode(s, &cp);
        width += s_char_width(cp);
    }
    return width;
}

/* How much of cell fits in cap columns (0 = no cap): sets *keep to the bytes
 * shown and *width to the columns they and the "…" take; returns true when
 * the cell is cut and ends with "…". */
static bool s_fit(const char *cell, size_t cap, size_t *keep, size_t *width)
{
    size_t full = table_display_width(cell);
    if (cap == 0 || full <= cap) {
        *keep = strlen(cell);
        *width = full;
        return false;
    }
    const unsigned char *s = (const unsigned char *)cell;
    size_t used = 0, bytes = 0;
    while (s[bytes]) {
        uint32_t cp;
        size_t len = s_decode(s + bytes, &cp);
        size_t w = s_char_width(cp);
        if (used + w > cap - 1)
            break;
        used += w;
        bytes += len;
    }
    *keep = bytes;
    *width = used + 1;
    return true;
}

/* Writes one line; spaces are held back until something visible follows, so
 * a line never ends in spaces. */
typedef struct {
    FILE *out;
    size_t pending; /* spaces owed before the next visible byte */
} s_line_t;

static void s_line_put(s_line_t *line, const char *bytes, size_t len)
{
    static const char spaces[] = "                                ";
    while (line->pending > 0) {
        size_t n = line->pending < sizeof spaces - 1 ? line->pending : sizeof spaces - 1;
        fwrite(spaces, 1, n, line->out);
        line->pending -= n;
    }
    fwrite(bytes, 1, len, line->out);
}

static void s_line_end(s_line_t *line)
{
    line->pending = 0;
    fputc('\n', line->out);
}

static void s_line_put_cell(s_line_t *line, const char *cell, const s_column_t *column)
{
    size_t keep, width;
    bool cut = s_fit(cell, column->cap, &keep, &width);
    size_t pad = column->width > width ? column->width - width : 0;
    if (column->right)
        line->pending += pad;
    const unsigned char *s = (const unsigned char *)cell;
    size_t at = 0;
    while (at < keep) {
        uint32_t cp;
        size_t len = s_decode(s + at, &cp);
        if (cp == ' ' || s_is_control(cp))
            line->pending++;
        else
            s_line_put(line, cell + at, len);
        at += len;
    }
    if (cut)
        s_line_put(line, S_ELLIPSIS, sizeof S_ELLIPSIS - 1);
    if (!column->right)
        line->pending += pad;
}

/* Writes the row's cells, or the headers when row is NULL. */
static void s_line_put_row(s_line_t *line, const table_t *self, char *const *row)
{
    for (size_t c = 0; c < self->ncols; c++) {
        const s_column_t *column = &self->columns[c];
        if (c > 0)
            line->pending += 2;
        s_line_put_cell(line, row ? row[c] : column->header, column);
    }
    s_line_end(line);
}

static void s_line_put_rule(s_line_t *line, const table_t *self)
{
    static const char dashes[] = "--------------------------------";
    for (size_t c = 0; c < self->ncols; c++) {
        if (c > 0)
            line->pending += 2;
        size_t left = self->columns[c].width;
        while (left > 0) {
            size_t n = left < sizeof dashes - 1 ? left : sizeof dashes - 1;
            s_line_put(line, dashes, n);
            left -= n;
        }
    }
    s_line_end(line);
}

static char *s_copy(const char *s)
{
    return strdup(s ? s : "");
}

table_t *table_new(int ncols, const char *const *headers)
{
    if (ncols < 1 || !headers)
        return NULL;
    table_t *self = malloc(sizeof *self);
    if (!self)
        return NULL;
    self->ncols = (size_t)ncols;
    self->cells = NULL;
    self->nrows = 0;
    self->row_cap = 0;
    self->columns = calloc(self->ncols, sizeof *self->columns);
    if (!self->columns)
        goto out_free_self;
    for (size_t c = 0; c < self->ncols; c++) {
        self->columns[c].header = s_copy(headers[c]);
        if (!self->columns[c].header)
            goto out_free_headers;
    }
    return self;

out_free_headers:
    for (size_t c = 0; c < self->ncols; c++)
        free(self->columns[c].header);
    free(self->columns);
out_free_self:
    free(self);
    return NULL;
}

void table_destroy(table_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    table_t *self = *self_p;
    for (size_t i = 0; i < self->nrows * self->ncols; i++)
        free(self->cells[i]);
    free(self->cells);
    for (size_t c = 0; c < self->ncols; c++)
        free(self->columns[c].header);
    free(self->columns);
    free(self);
    *self_p = NULL;
}

void table_align_right(table_t *self, int col)
{
    if (self && col >= 0 && (size_t)col < self->ncols)
        self->columns[col].right = true;
}

void table_max_width(table_t *self, int col, int width)
{
    if (self && col >= 0 && (size_t)col < self->ncols && width >= 0)
        self->columns[col].cap = (size_t)width;
}

int table_add_row(table_t *self, const char *const *cells)
{
    if (!self || !cells)
        return RC_ERR_INVALID;
    if (self->nrows == self->row_cap) {
        size_t row_cap = self->row_cap ? self->row_cap * 2 : 8;
        if (row_cap > SIZE_MAX / sizeof *self->cells / self->ncols)
            return RC_ERR_NOMEM;
        char **grown = realloc(self->cells, row_cap * self->ncols * sizeof *grown);
        if (!grown)
            return RC_ERR_NOMEM;
        self->cells = grown;
        self->row_cap = row_cap;
    }
    char **row = self->cells + self->nrows * self->ncols;
    size_t c;
    for (c = 0; c < self->ncols; c++) {
        row[c] = s_copy(cells[c]);
        if (!row[c])
            goto out_free_row;
    }
    self->nrows++;
    return RC_OK;

out_free_row:
    while (c-- > 0)
        free(row[c]);
    return RC_ERR_NOMEM;
}

void table_print(const table_t *self, FILE *out)
{
    if (!self || !out)
        return;
    /* The widths go to the columns' scratch field, so printing allocates
     * nothing and cannot fail half-way. */
    for (size_t c = 0; c < self->ncols; c++) {
        s_column_t *column = &self->columns[c];
        size_t keep;
        s_fit(column->header, column->cap, &keep, &column->width);
        for (size_t r = 0; r < self->nrows; r++) {
            size_t width;
            s_fit(self->cells[r * self->ncols + c], column->cap, &keep, &width);
            if (width > column->width)
                column->width = width;
        }
    }
    s_line_t line = {.out = out, .pending = 0};
    s_line_put_row(&line, self, NULL);
    s_line_put_rule(&line, self);
    for (size_t r = 0; r < self->nrows; r++)
        s_line_put_row(&line, self, self->cells + r * self->ncols);
}
