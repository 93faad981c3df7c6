/* rectify-intake: the only door for district, bureau and hotline systems. */
#include "intake_server.h"
#include "log.h"

int main(int argc, char **argv)
{
    service_t svc;
    int code;
    if (service_start(&svc, "intake",
                      "Receives events from outside systems, checks them, stores them durably,\n"
                      "acknowledges each and hands them on to workflow.",
                      SET_intake_log_pub, argc, argv, &code) != 0)
        return code;
    intake_server_t *server = intake_server_new(&svc);
    int rc = server ? intake_server_run(server) : 1;
    intake_server_destroy(&server);
    service_stop(&svc);
    return rc;
}
