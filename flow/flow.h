/* A Kestra flow: parsed from YAML, validated the way Kestra validates it at save time (strict properties,
 * required fields, id patterns, unique task ids, known plugin types, durations, cron, inputs), and kept as
 * Kestra's Flow JSON for the rest of Kite. */
#ifndef KT_FLOW_FLOW_H
#define KT_FLOW_FLOW_H

#include <stddef.h>
#include <jansson.h>

#include "flow/yaml.h"
#include "base/dialect.h"
#include "base/status.h"

typedef struct kt_flow kt_flow;

/* Parses and validates ONE flow document (src may contain exactly one document). All errors of the file are
 * reported in one pass into diags with file:line:col + property path; returns KT_EINVAL when any. */
kt_status kt_flow_parse(const char *src, size_t len, const char *file, kt_flow **out, kt_diags *diags);
/* The same, on a server with plugin defaults in its configuration (conf plugins.defaults, may be NULL): Kestra
 * injects those too before validating, so they may also supply a required property. */
kt_status kt_flow_parse_with_defaults(const char *src, size_t len, const char *file, const json_t *server_defaults,
                                      kt_flow **out, kt_diags *diags);
/* How a flow is read (kt_flow_parse_opt); zero-initialised: as kt_flow_parse. */
typedef struct kt_flow_parse_opts {
    const json_t *server_defaults; /* conf plugins.defaults, may be NULL */
    /* pinned: the flow is a stored revision, read in the dialect it was saved in: `dialect` replaces the server's
     * default (flows.dialect) for a flow using only constructs common to both lines, so that changing the default
     * never changes a saved flow's dialect (a flow with markers of a line is that line whatever the default). */
    int pinned;
    kt_dialect dialect;
    kt_diags *warnings; /* when not NULL, gets the deprecations of the flow's dialect and the ignored extend:,
                           file:line:col like the errors (flow/dialect.h) */
} kt_flow_parse_opts;
kt_status kt_flow_parse_opt(const char *src, size_t len, const char *file, const kt_flow_parse_opts *o,
                            kt_flow **out, kt_diags *diags);
/* kt_flow_parse_with_defaults of a stored revision, pinned to the dialect it was saved in (kt_flow_row.dialect). */
kt_status kt_flow_parse_pinned(const char *src, size_t len, const char *file, const json_t *server_defaults,
                               kt_dialect dialect, kt_flow **out, kt_diags *diags);
/* Validates an already-loaded JSON flow (e.g. from the API's JSON body or the store): the same checks,
 * without positions. */
kt_status kt_flow_from_json(const json_t *root, const char *file, kt_flow **out, kt_diags *diags);
void kt_flow_free(kt_flow *f);

const char *kt_flow_id(const kt_flow *f);
const char *kt_flow_namespace(const kt_flow *f);
int kt_flow_disabled(const kt_flow *f);
/* The flow as Kestra's Flow JSON (id, namespace, description, labels, inputs, variables, tasks, errors, finally,
 * triggers, outputs, ... exactly the properties the user wrote, plus "disabled": false, "deleted": false defaults),
 * types as written. An input written with the legacy `name` also gets `id`. Borrowed. */
const json_t *kt_flow_json(const kt_flow *f);
const json_t *kt_flow_tasks(const kt_flow *f);  /* borrowed array of task objects (each has id, type, props) */
const json_t *kt_flow_inputs(const kt_flow *f); /* borrowed array or NULL */
const json_t *kt_flow_triggers(const kt_flow *f); /* borrowed array or NULL */
/* The `concurrency.limit` of a flow's JSON (KESTRA-execution.md §2.14), 0 when it has none. A flow with one keeps
 * all its executions in one partition (base/partition.h), where its running executions are counted. */
long kt_flow_concurrency_limit(const json_t *flow);

/* Canonical type for a task/trigger type name (legacy io.kestra.core.tasks.* aliases -> io.kestra.plugin.core.*);
 * returns the input when it is not an alias. Defined in flow/tasks.c. */
const char *kt_task_canonical_type(const char *type);

/* Cron syntax check used for Schedule triggers: 5 fields (6 with seconds first when with_seconds) or a
 * nickname (@daily...). 0 when valid; otherwise -1 and reason (may be NULL) says why. */
int kt_flow_check_cron(const char *expr, int with_seconds, char *reason, size_t cap);

#endif
