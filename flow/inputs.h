/* Flow inputs: typing and validating the values an execution is started with, as Kestra's FlowInputOutput
 * does (KESTRA-execution.md §4), with Kestra's exact error texts. */
#ifndef KT_FLOW_INPUTS_H
#define KT_FLOW_INPUTS_H

#include <jansson.h>

#include "base/dialect.h"
#include "base/env.h"
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
/* The same for the creation of an execution of `flow`, whose dialect decides the defaults (docs/dialects.md A11):
 * in a 2.x flow (Kestra 1.0's dynamic defaults) a `defaults` holding an expression is rendered typed in env with
 * `flow` (its identity), `vars` and the inputs resolved before it, and one that does not render refuses the inputs
 * with the reason ("Unable to render the defaults: ..."); a 1.x flow takes them as written (Kestra 0.21). `prefill`
 * is never applied here: Kestra's forms show it, an execution asked without the input gets null (or the missing
 * required input error). kt_inputs_resolve is this with no flow and no env: defaults are taken as written. */
kt_status kt_inputs_resolve_in(const json_t *input_defs, const json_t *raw, const json_t *flow, kt_env *env,
                               json_t **typed_out, kt_diags *diags);

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

/* What a flow's dialect adds to kt_inputs_check_defs (docs/dialects.md A11, A20): in 2.x an input with `defaults`
 * must be required (Kestra 1.1's InputValidator, kept by 2.0); 1.x keeps Kestra 0.21's rules, where `required:
 * false` with `defaults` is accepted and defaults are literal, so one holding an expression must still read as the
 * input's type (2.x renders it at creation, so it is not typed at save). Returns the number of errors added. */
int kt_inputs_check_dialect(const json_t *defs, kt_dialect dialect, const kt_yaml_doc *doc, const char *file,
                            const char *path, kt_diags *diags);

/* The id of an input definition (`id`, or the legacy `name`); NULL when absent. */
const char *kt_input_id(const json_t *def);

/* Java-style text of a value as Kestra prints it in messages: strings bare, lists "[a, b]", maps "{k=v}". */
char *kt_input_java_string(const json_t *v);

#endif
