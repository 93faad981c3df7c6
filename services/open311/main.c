/* rectify-open311: the Open311 GeoReport v2 door (HTTP) in front of intake. */
#include "open311_server.h"

int main(int argc, char **argv)
{
    service_t svc;
    int code;
    if (service_start(&svc, "open311",
                      "Serves Open311 GeoReport v2 (services, requests) over HTTP: each request\n"
                      "is posted to intake as a work order with the caller's own system key.",
                      SET_open311_log_pub, argc, argv, &code) != 0)
        return code;
    open311_t *server = open311_new(&svc);
    int rc = server ? open311_run(server) : 1;
    open311_destroy(&server);
    service_stop(&svc);
    return rc;
}
