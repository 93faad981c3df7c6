/* bus: the plain-mode guard. */
#include "bus.h"
#include "errors.h"

#include <criterion/criterion.h>
#include <string.h>

Test(bus, loopback_endpoints_are_recognised)
{
    cr_assert(bus_endpoint_is_loopback("tcp://127.0.0.1:7101"));
    cr_assert(bus_endpoint_is_loopback("tcp://localhost:7101"));
    cr_assert(bus_endpoint_is_loopback("tcp://[::1]:7101"));
    cr_assert(bus_endpoint_is_loopback("ipc:///tmp/x.sock"));
    cr_assert_not(bus_endpoint_is_loopback("tcp://0.0.0.0:7101"));
    cr_assert_not(bus_endpoint_is_loopback("tcp://*:7101"));
    cr_assert_not(bus_endpoint_is_loopback("tcp://10.0.0.1:7101"));
    cr_assert_not(bus_endpoint_is_loopback("tcp://localhost.example.com:7101"));
    cr_assert_not(bus_endpoint_is_loopback(NULL));
}

Test(bus, with_curve_any_endpoint_may_be_bound)
{
    char err[512];
    cr_assert_eq(bus_check_plain(false, "intake_bind", "tcp://*:7101", err, sizeof err), RC_OK);
    cr_assert_eq(bus_check_plain(false, "intake_bind", "tcp://10.0.0.1:7101", err, sizeof err),
                 RC_OK);
}

Test(bus, plain_mode_refuses_an_outside_endpoint)
{
    char err[512];
    cr_assert_eq(bus_check_plain(true, "intake_bind", "tcp://*:7101", err, sizeof err),
                 RC_ERR_CONFIG);
    cr_assert(strstr(err, "not a loopback endpoint"), "%s", err);
    cr_assert(strstr(err, "intake_bind") && strstr(err, "allow_plain"), "%s", err);
    cr_assert_eq(bus_check_plain(true, "intake_bind", "ipc:///tmp/a", err, sizeof err), RC_OK);
}
