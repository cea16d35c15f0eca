/* Flow inputs: typing and validating the values an execution is started with, as Kestra's FlowInputOutput
 * does (KESTRA-execution.md §4), with Kestra's exact error texts. */
#ifndef KT_FLOW_INPUTS_H
#define KT_FLOW_INPUTS_H

#include <jansson.h>

#include "flow/yaml.h"
#include "base/status.h"

/* Coerces raw inputs (object name -> JSON string as sent in multipart form, or already-typed JSON values) against
 * the flow's input definitions, applying defaults, required checks and validators, as Kestra's FlowInputOutput does.
 * On success *typed_out is the execution's `inputs` object (ids with dots nested, top level sorted by key).
 * On failure returns KT_EINVAL and diags holds Kestra's message ("Invalid input for `x`, ..., but received `v`")
 * with path "inputs.<id>", one per failing input in declaration order (the API reports the first).
 * input_defs may be NULL (no inputs: result is {}). raw may be NULL.
 * Not done here: dependsOn.condition (needs the expression engine: such inputs are treated as enabled),
 * SELECT/MULTISELECT `expression`, SECRET encryption (the value is kept as given), FILE upload (a kestra:// URI
 * string passes through; any other string is refused). */
kt_status kt_inputs_resolve(const json_t *input_defs, const json_t *raw, json_t **typed_out, kt_diags *diags);

/* Types one value against one input definition (parse step only: no required/defaults/validators).
 * Returns a new reference, or NULL with *err set to the malloc'ed detail text (e.g. `For input string: "x"`). */
json_t *kt_input_parse_value(const json_t *def, const json_t *value, char **err);

/* Full check of one value (parse + validators) as a flow's `defaults` or a resume input is checked.
 * Returns the typed value or NULL with *err set to the complete Kestra message. */
json_t *kt_input_check_value(const json_t *def, const json_t *value, char **err);

/* Save-time check of a list of input definitions (flow `inputs`, Pause `onResume`): id pattern and uniqueness,
 * known type, strict properties per type, itemType, validator regex, defaults compatible with the type,
 * dependsOn references and cycles. Positions come from doc (may be NULL); paths start with `path`.
 * Returns the number of errors added to diags. */
int kt_inputs_check_defs(const json_t *defs, const kt_yaml_doc *doc, const char *file, const char *path,
                         kt_diags *diags);

/* The id of an input definition (`id`, or the legacy `name`); NULL when absent. */
const char *kt_input_id(const json_t *def);

/* Java-style text of a value as Kestra prints it in messages: strings bare, lists "[a, b]", maps "{k=v}". */
char *kt_input_java_string(const json_t *v);

#endif
