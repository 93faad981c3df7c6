/* rectify-notify: delivers what workflow asks to be told to people. */
#include "notify_server.h"

int main(int argc, char **argv)
{
    service_t svc;
    int code;
    if (service_start(&svc, "notify",
                      "Turns workflow's notices into deliveries on channels and records the\n"
                      "status of each delivery.",
                      "notify_log_pub", argc, argv, &code) != 0)
        return code;
    notify_server_t *server = notify_server_new(&svc);
    int rc = server ? notify_server_run(server) : 1;
    notify_server_destroy(&server);
    service_stop(&svc);
    return rc;
}
