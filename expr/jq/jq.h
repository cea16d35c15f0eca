/* The jq subset behind the `jq` filter (reference 3.2; jackson-jq follows JQ 1.6). Prefix kq_. */
#ifndef KT_EXPR_JQ_JQ_H
#define KT_EXPR_JQ_JQ_H

#include <stddef.h>

#include "base/json.h"

/* Runs the jq program expr on input: a new JSON array of all its outputs, or NULL with a message in err. */
json_t *kq_run(const json_t *input, const char *expr, char *err, size_t errcap);

#endif
