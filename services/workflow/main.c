/* rectify-workflow: applies events to the rectification lifecycle. */
#include "workflow_server.h"

int main(int argc, char **argv)
{
    service_t svc;
    int code;
    if (service_start(&svc, "workflow",
                      "Applies accepted events to the rectification lifecycle, refuses what the\n"
                      "state does not allow, and asks notification to tell the people concerned.",
                      SET_workflow_log_pub, argc, argv, &code) != 0)
        return code;
    wf_server_t *server = wf_server_new(&svc);
    int rc = server ? wf_server_run(server) : 1;
    wf_server_destroy(&server);
    service_stop(&svc);
    return rc;
}
