/* rectify-notify: delivers what workflow asks to be told to people. */
#include "notify_server.h"

#include <curl/curl.h>

int main(int argc, char **argv)
{
    service_t svc;
    int code;
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        return 1;
    if (service_start(&svc, "notify",
                      "Turns workflow's notices into deliveries on channels and records the\n"
                      "status of each delivery.",
                      SET_notify_log_pub, argc, argv, &code) != 0) {
        curl_global_cleanup();
        return code;
    }
    notify_server_t *server = notify_server_new(&svc);
    int rc = server ? notify_server_run(server) : 1;
    notify_server_destroy(&server);
    service_stop(&svc);
    curl_global_cleanup();
    return rc;
}
