/* Save-time validation of the values in a flow, driven by the property tables of flow/tasks.h: the walk over
 * objects, values, plugins (tasks, triggers, conditions, task runners) and task lists that flow/flow.c starts
 * from the flow's root. Errors go to the context's diags, each at the line:col of the node it is about.
 * Prefix kt_validate_. */
#ifndef KT_FLOW_VALIDATE_H
#define KT_FLOW_VALIDATE_H

#include <stddef.h>
#include <jansson.h>

#include "flow/tasks.h"
#include "flow/yaml.h"
#include "base/dialect.h"
#include "base/status.h"

typedef struct kt_validate_ctx {
    const kt_yaml_doc *doc; /* NULL when validating plain JSON */
    const char *file;
    kt_diags *diags;
    int errors;
    json_t *task_ids;        /* id -> first path */
    const json_t *defaults;  /* pluginDefaults + taskDefaults entries, borrowed */
    const char *flow_id, *flow_ns;
    kt_diags *warnings;         /* deprecations and ignored properties, NULL when not wanted (flow/flow.c) */
    kt_dialect dialect_default; /* the dialect of a flow using only constructs common to both lines */
    kt_dialect dialect;         /* the flow's, once flow/flow.c's check_dialect has decided it */
} kt_validate_ctx;

/* Reports at the position of pos_path (key position when at_key), with diag path `path`. When pos_path is
 * not in the document (a missing property), its parents are tried so the error lands on the enclosing map. */
void kt_validate_err(kt_validate_ctx *c, const char *pos_path, int at_key, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

/* Property paths: "path.key" (just "key" at the root) and "path[i]". Malloc'ed; NULL when out of memory. */
char *kt_validate_child(const char *path, const char *key);
char *kt_validate_item(const char *path, size_t i);

/* Kestra's id patterns: ^[a-zA-Z0-9][a-zA-Z0-9_-]* (allow_dot adds '.' after the first char, lower_only drops
 * A-Z). 1 when s matches. */
int kt_validate_match_id(const char *s, int allow_dot, int lower_only);
/* 1 when v is a string among the NULL-terminated e. */
int kt_validate_in_enum(const char *const *e, const json_t *v);

/* Checks object o of class cls against the NULL-terminated list of property tables: unknown properties, each
 * value's kind (recursing into nested objects, tasks, plugins, inputs), required properties. pd_type, when not
 * NULL, is the plugin type whose pluginDefaults may supply a required property. */
void kt_validate_object(kt_validate_ctx *c, const json_t *o, const char *path, const char *cls,
                        const kt_prop *const *tables, const char *pd_type);
/* Checks an object that names its class with `type`, which must be a known plugin of `kind` (kt_plugin_kind);
 * `what` names it in messages ("trigger", "condition"...). */
void kt_validate_plugin(kt_validate_ctx *c, const json_t *v, const char *path, int kind, const char *what);
/* Labels as a map or a list of {key, value}; system.* labels are refused (system.readOnly is allowed when
 * allow_readonly). */
void kt_validate_labels(kt_validate_ctx *c, const json_t *v, const char *path, int allow_readonly);

#endif
