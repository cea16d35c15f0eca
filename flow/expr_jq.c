#include <stdio.h>
#include "flow/expr_int.h"
json_t *kx_jq(const json_t *input, const char *expr, char *err, size_t errcap)
{
    snprintf(err, errcap, "jq not implemented");
    return NULL;
}
