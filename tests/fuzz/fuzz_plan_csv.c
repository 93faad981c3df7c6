/* libFuzzer target: any file given to rectifyctl import is parsed into a
 * plan or refused with errors that name a line; never a crash or a leak. */
#include "errors.h"
#include "plan_csv.h"

#include <stdint.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    plan_csv_error_t errs[8];
    size_t nerrs = 0;
    Rectify__ImportPlan *plan = NULL;
    int rc = plan_csv_parse((const char *)data, size, "R", &plan, errs, 8, &nerrs);
    if (rc == RC_OK) {
        if (!plan || plan->n_rows == 0 || nerrs != 0)
            abort();
        rectify__import_plan__free_unpacked(plan, NULL);
    } else if (plan) {
        abort();
    }
    return 0;
}
