/* A flow's YAML source rewritten or generated the way Kestra does it (core/services/FlowService.java):
 *   - injectDisabled, used by the API's disable/enable bulk routes: the text is edited, not re-serialised, so the
 *     user's comments and layout stay;
 *   - generateSource, used when a flow arrives as JSON (the deprecated JSON routes, PATCH of a task): the object
 *     written as YAML with Jackson's YAML mapper settings (block style, two-space maps, sequences at the key's
 *     indentation, quotes only where a plain scalar would be read back as something else, nulls left out, no
 *     `revision`).
 * Pure functions: no I/O. Prefix kt_flow_source. */
#ifndef KT_FLOW_FLOW_SOURCE_H
#define KT_FLOW_FLOW_SOURCE_H

#include <jansson.h>

/* FlowService.injectDisabled: every line starting with `disabled: <not wanted>` (with the blanks after it, newlines
 * included, as Java's `^disabled\s*:\s*false\s*` in MULTILINE mode consumes them) becomes `disabled: <wanted>\n`;
 * when there is none, "\ndisabled: <wanted>" is appended. malloc'd, NULL when out of memory. */
char *kt_flow_source_inject_disabled(const char *source, int disabled);

/* FlowService.generateSource: the JSON value (a flow, a task...) as Jackson writes YAML, the root's `revision`
 * left out. malloc'd, NULL when out of memory. */
char *kt_flow_source_generate(const json_t *flow);

/* One value as YAML (the same writer, nothing left out). */
char *kt_flow_source_yaml(const json_t *v);

#endif
