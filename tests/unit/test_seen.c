/* seen: the bounded memory of recent ids behind rectify-tail's once-only
 * notices. */
#include "ids.h"
#include "seen.h"

#include <criterion/criterion.h>
#include <stdlib.h>

Test(seen, an_id_is_new_once_then_seen)
{
    seen_t *s = seen_new(4);
    cr_assert_not_null(s);
    const char *a = "7d444840-9dc0-11d1-b245-5ffdce74fad2";
    cr_assert_eq(seen_check(s, a), false);
    cr_assert_eq(seen_check(s, a), true);
    cr_assert_eq(seen_check(s, "7D444840-9DC0-11D1-B245-5FFDCE74FAD2"), true,
                 "the same UUID in capitals");
    cr_assert_eq(seen_check(s, "7d444840-9dc0-11d1-b245-5ffdce74fad3"), false);
    seen_destroy(&s);
    cr_assert_null(s);
    seen_destroy(&s);
}

Test(seen, what_is_not_a_uuid_is_never_remembered)
{
    seen_t *s = seen_new(4);
    for (int i = 0; i < 2; i++) {
        cr_assert_eq(seen_check(s, "not-a-uuid"), false);
        cr_assert_eq(seen_check(s, ""), false);
        cr_assert_eq(seen_check(s, NULL), false);
        cr_assert_eq(seen_check(s, "7d444840-9dc0-11d1-b245-5ffdce74fad2x"), false);
    }
    seen_destroy(&s);
}

Test(seen, the_oldest_is_forgotten_and_the_last_capacity_are_kept)
{
    enum { CAP = 1000, N = 50000 };
    static char ids[N][IDS_UUID_LEN + 1];
    seen_t *s = seen_new(CAP);
    for (int i = 0; i < N; i++) {
        ids_new_uuid(ids[i]);
        cr_assert_eq(seen_check(s, ids[i]), false, "id %d new", i);
        if (i >= 1) /* the one before is still there */
            cr_assert_eq(seen_check(s, ids[i - 1]), true, "id %d kept", i - 1);
    }
    for (int i = N - CAP; i < N; i++)
        cr_assert_eq(seen_check(s, ids[i]), true, "id %d among the last %d", i, CAP);
    /* the one before them was forgotten: new again, and it pushes out the oldest */
    cr_assert_eq(seen_check(s, ids[N - CAP - 1]), false);
    cr_assert_eq(seen_check(s, ids[N - CAP]), false);
    seen_destroy(&s);
}

Test(seen, a_memory_of_nothing_is_refused)
{
    cr_assert_null(seen_new(0));
}
