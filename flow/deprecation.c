/* Kestra's deprecation paths and flow warnings (deprecation.h). */
#include "flow/deprecation.h"

#include "flow/flow.h"

#include <stdio.h>
#include <string.h>

/* Classes annotated @Deprecated, by plugin type (canonical names). */
static const char *const kt_dep_types[] = {
    "io.kestra.plugin.core.debug.Echo",
    "io.kestra.plugin.core.flow.EachParallel",
    "io.kestra.plugin.core.flow.EachSequential",
    "io.kestra.plugin.core.flow.Template",
    "io.kestra.plugin.core.storage.LocalFiles",
    "io.kestra.plugin.core.condition.FlowCondition",
    "io.kestra.plugin.core.condition.FlowNamespaceCondition",
    "io.kestra.plugin.core.condition.MultipleCondition",
};

/* @Deprecated properties (their getters carry the annotation): owner type ("" = the flow itself, "input" = any
 * input, "input:TYPE" = inputs of that type) and the property. */
static const struct {
    const char *owner, *prop;
} kt_dep_props[] = {
    {"", "listeners"},
    {"", "taskDefaults"},
    {"input", "name"},
    {"input:MULTISELECT", "options"},
    {"io.kestra.plugin.core.flow.Pause", "tasks"},
    {"io.kestra.plugin.core.flow.Subflow", "outputs"},
    {"io.kestra.plugin.core.trigger.Schedule", "scheduleConditions"},
    {"io.kestra.plugin.core.trigger.Schedule", "backfill"},
    {"io.kestra.plugin.core.condition.MultipleCondition", "window"},
    {"io.kestra.plugin.core.condition.MultipleCondition", "windowAdvance"},
    {"io.kestra.plugin.core.kv.PurgeKV", "expiredOnly"}, /* Kestra 1.1+: behavior instead (it still wins) */
};

/* What kind of object o is, for the tables: "" for the root flow, the canonical plugin type, "input:TYPE" for an
 * element of the flow's inputs. */
static void kt_dep_owner(const json_t *o, int root, int is_input, char *out, size_t cap)
{
    const char *type = json_string_value(json_object_get(o, "type"));
    if (root)
        snprintf(out, cap, "%s", "");
    else if (is_input)
        snprintf(out, cap, "input:%s", type ? type : "");
    else
        snprintf(out, cap, "%s", type ? kt_task_canonical_type(type) : "?");
}

static void kt_dep_walk(const json_t *o, const char *prefix, int root, int is_input, json_t *out)
{
    if (!json_is_object(o))
        return;
    char owner[256];
    kt_dep_owner(o, root, is_input, owner, sizeof owner);
    if (!is_input)
        for (size_t i = 0; i < sizeof kt_dep_types / sizeof *kt_dep_types; i++)
            if (!strcmp(owner, kt_dep_types[i]))
                json_array_append_new(out, json_string(prefix));
    if (is_input && !strcmp(owner, "input:ENUM")) /* EnumInput is a deprecated class */
        json_array_append_new(out, json_string(prefix));
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)o, k, v) {
        if (json_is_null(v))
            continue;
        for (size_t i = 0; i < sizeof kt_dep_props / sizeof *kt_dep_props; i++) {
            const char *po = kt_dep_props[i].owner;
            int owner_ok = !strcmp(po, owner) || (is_input && !strcmp(po, "input"));
            if (owner_ok && !strcmp(kt_dep_props[i].prop, k)) {
                char path[512];
                snprintf(path, sizeof path, "%s%s%s", prefix, *prefix ? "." : "", k);
                json_array_append_new(out, json_string(path));
            }
        }
        if (!json_is_array(v))
            continue; /* Kestra descends into lists only */
        size_t i;
        json_t *x;
        json_array_foreach(v, i, x) {
            char path[512];
            snprintf(path, sizeof path, "%s[%zu]", k, i); /* the parent's prefix is dropped, as Kestra does */
            kt_dep_walk(x, path, 0, root && !strcmp(k, "inputs"), out);
        }
    }
}

json_t *kt_flow_deprecation_paths(const json_t *flow)
{
    json_t *out = json_array();
    kt_dep_walk(flow, "", 1, 0, out);
    return out;
}

json_t *kt_flow_warnings(const json_t *flow)
{
    json_t *out = json_array();
    size_t i;
    json_t *t;
    json_array_foreach(json_object_get(flow, "triggers"), i, t) {
        const char *type = json_string_value(json_object_get(t, "type"));
        const char *id = json_string_value(json_object_get(t, "id"));
        if (!type || strcmp(kt_task_canonical_type(type), "io.kestra.plugin.core.trigger.Flow"))
            continue;
        json_t *conds = json_object_get(t, "conditions"), *pre = json_object_get(t, "preconditions");
        if (json_array_size(conds) || json_object_size(conds) || (pre && !json_is_null(pre)))
            continue;
        char msg[512];
        snprintf(msg, sizeof msg,
                 "This flow will be triggered for EVERY execution of EVERY flow on your instance. We recommend adding "
                 "the preconditions property to the Flow trigger '%s'.",
                 id ? id : "null");
        json_array_append_new(out, json_string(msg));
    }
    return out;
}

void kt_flow_deprecation_merge(json_t *paths, json_t *warnings, const kt_diags *dw)
{
    for (size_t i = 0; dw && i < dw->count; i++) {
        const kt_diag *g = &dw->items[i];
        const char *path = g->path ? g->path : "";
        int seen = 0;
        size_t k;
        json_t *p;
        json_array_foreach(paths, k, p) seen |= !strcmp(json_string_value(p), path);
        if (!seen)
            json_array_append_new(paths, json_string(path));
        char msg[1536];
        if (g->line > 0)
            snprintf(msg, sizeof msg, "%s: %s (at line %d, column %d)", *path ? path : "flow", g->message, g->line,
                     g->col);
        else
            snprintf(msg, sizeof msg, "%s: %s", *path ? path : "flow", g->message);
        json_array_append_new(warnings, json_string(msg));
    }
}
