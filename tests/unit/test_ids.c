/* ids and clock: the two small things every event carries. */
#include "clock.h"
#include "ids.h"

#include <criterion/criterion.h>
#include <string.h>

Test(ids, a_new_uuid_is_a_uuid_and_new_each_time)
{
    char a[IDS_UUID_LEN + 1], b[IDS_UUID_LEN + 1];
    ids_new_uuid(a);
    ids_new_uuid(b);
    cr_assert(ids_is_uuid(a));
    cr_assert_eq(a[14], '4', "version 4");
    cr_assert_str_neq(a, b);
}

Test(ids, malformed_uuids_are_refused)
{
    cr_assert_not(ids_is_uuid(""));
    cr_assert_not(ids_is_uuid(NULL));
    cr_assert_not(ids_is_uuid("6f1c2a3e-4b5d-4e6f-8a9b-0c1d2e3f4a5"));
    cr_assert_not(ids_is_uuid("6f1c2a3e-4b5d-4e6f-8a9b-0c1d2e3f4a5bb"));
    cr_assert_not(ids_is_uuid("6f1c2a3e-4b5d-4e6f-8a9b-0c1d2e3f4a5g"));
    cr_assert_not(ids_is_uuid("6f1c2a3e04b5d04e6f08a9b00c1d2e3f4a5b"));
    cr_assert(ids_is_uuid("6F1C2A3E-4B5D-4E6F-8A9B-0C1D2E3F4A5B"));
}

Test(clock, a_set_clock_holds_until_cleared)
{
    clock_set_ms(1611878400000LL); /* 2021-01-29 */
    cr_assert_eq(clock_now_ms(), 1611878400000LL);
    clock_set_ms(0);
    cr_assert_gt(clock_now_ms(), 1700000000000LL, "back to real time");
    int64_t a = clock_mono_ms(), b = clock_mono_ms();
    cr_assert_geq(b, a);
}
