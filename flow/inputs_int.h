/* Shared by flow/inputs*.c only: the pieces of input typing that resolution needs too. */
#ifndef KT_FLOW_INPUTS_INT_H
#define KT_FLOW_INPUTS_INT_H

#include <jansson.h>

/* An input's `required` (true unless it says false, as Kestra's default). */
int kt_input_is_required(const json_t *def);
/* Kestra's message for a refused value: "Invalid input for `id`, detail, but received `raw`" (malloc'ed). */
char *kt_input_invalid(const char *id, const char *detail, const json_t *raw);

#endif
