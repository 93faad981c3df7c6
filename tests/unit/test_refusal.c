/* The catalogue of refusal codes (refusal.h): well formed, and the README's
 * table of codes is the catalogue, no more and no less. */
#include "errors.h"
#include "refusal.h"
#include "testdb.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

Test(refusal, every_code_is_short_snake_case_unique_and_explained)
{
    for (int r = 0; r < REFUSAL_COUNT; r++) {
        const char *code = refusal_code((refusal_t)r);
        /* the Ack's and the outcome's code fields hold 31 bytes */
        cr_assert(strlen(code) > 0 && strlen(code) < 32, "%s", code);
        cr_assert_eq(strspn(code, "abcdefghijklmnopqrstuvwxyz_0123456789"), strlen(code), "%s",
                     code);
        cr_assert_gt(strlen(refusal_meaning((refusal_t)r)), 10, "%s has no meaning", code);
        cr_assert_neq(refusal_by((refusal_t)r), 0, "%s: nobody gives it", code);
        cr_assert_eq(refusal_find(code), (refusal_t)r, "%s is in the catalogue twice", code);
    }
    cr_assert_eq(refusal_find("no_such_code"), REFUSAL_COUNT);
    cr_assert_eq(refusal_find(NULL), REFUSAL_COUNT);
    cr_assert_str_eq(refusal_code(REFUSAL_unit_mismatch), "unit_mismatch");
}

Test(refusal, a_workflow_code_is_a_refusal_never_a_failure)
{
    /* workflow rolls the batch back and tries again on RC_ERR_DB and
     * RC_ERR_NOMEM: a refusal of that class would never end */
    for (int r = 0; r < REFUSAL_COUNT; r++) {
        if (!(refusal_by((refusal_t)r) & BY_WORKFLOW))
            continue;
        int c = refusal_class((refusal_t)r);
        cr_assert(c == RC_ERR_INVALID || c == RC_ERR_STATE || c == RC_ERR_DENIED ||
                      c == RC_ERR_NOTFOUND,
                  "%s has class %d", refusal_code((refusal_t)r), c);
    }
}

/* The README's table rows: "| `code` | who | meaning |" under the heading
 * "## Refusal codes", up to the next heading. */
static int s_readme_codes(char codes[][40], int max)
{
    FILE *f = fopen(RECTIFY_SOURCE_DIR "/README.md", "r");
    cr_assert(f, "README.md");
    char line[1024];
    bool in = false;
    int n = 0;
    while (fgets(line, sizeof line, f)) {
        if (!strncmp(line, "## ", 3))
            in = !strncmp(line, "## Refusal codes", 16);
        else if (in && !strncmp(line, "| `", 3) && n < max) {
            const char *end = strchr(line + 3, '`');
            cr_assert(end && end - line - 3 < 40, "%s", line);
            snprintf(codes[n++], 40, "%.*s", (int)(end - line - 3), line + 3);
        }
    }
    fclose(f);
    return n;
}

Test(refusal, the_readme_table_lists_every_code_and_no_other)
{
    char codes[200][40];
    int n = s_readme_codes(codes, 200);
    for (int i = 0; i < n; i++)
        cr_expect_neq(refusal_find(codes[i]), REFUSAL_COUNT,
                      "README lists %s, which is not in refusal.h", codes[i]);
    for (int r = 0; r < REFUSAL_COUNT; r++) {
        bool listed = false;
        for (int i = 0; i < n && !listed; i++)
            listed = !strcmp(codes[i], refusal_code((refusal_t)r));
        cr_expect(listed, "README's refusal table lacks %s", refusal_code((refusal_t)r));
    }
    cr_assert_eq(n, REFUSAL_COUNT, "README lists %d codes, refusal.h %d", n, REFUSAL_COUNT);
}

Test(refusal, rectifyctl_codes_prints_every_entry_and_refuses_other_arguments)
{
    static char out[1 << 16];
    cr_assert_eq(test_shell(RECTIFY_BIN_DIR "/rectifyctl codes --json", out, sizeof out), 0, "%s",
                 out);
    int lines = 0;
    for (const char *p = out; (p = strchr(p, '\n')); p++)
        lines++;
    cr_assert_eq(lines, REFUSAL_COUNT, "%s", out);
    cr_assert(strstr(out, "{\"code\":\"unit_mismatch\",\"by\":\"intake\","), "%s", out);
    cr_assert(strstr(out, "\"by\":\"intake,workflow\""), "%s", out);
    cr_assert_eq(test_shell(RECTIFY_BIN_DIR "/rectifyctl codes --xml 2>&1", out, sizeof out), 2,
                 "%s", out);
    cr_assert(strstr(out, "usage: rectifyctl codes [--json]"), "%s", out);
}
