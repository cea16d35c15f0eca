/* Flow parsing and save-time validation (KESTRA-model.md §1-4). Everything is checked in one walk so a user
 * sees all the errors of a file at once, each at the line:col of the node it is about: the value for a bad
 * value, the key for an unknown property, the enclosing map for a missing one. This file holds the flow-level
 * checks (root properties, ids, outputs, triggers, SLAs, types that do not run yet), the cron syntax and the
 * model; the walk over the values, plugins and tasks is flow/validate.c. */
#include "flow/flow.h"
#include "time/cron.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "flow/checks.h"
#include "flow/depends_on.h"
#include "flow/trigger_inputs.h"
#include "flow/defaults.h"
#include "flow/dialect.h"
#include "flow/inputs.h"
#include "flow/tasks.h"
#include "flow/validate.h"

struct kt_flow {
    json_t *json;
    const char *id, *ns; /* borrowed from json */
    int disabled;
};

/* ---------------------------------------------------------------- cron (flow/cron.c: Kestra's cron-utils rules) */

int kt_flow_check_cron(const char *expr, int with_seconds, char *reason, size_t cap)
{
    return kt_cron_validate(expr, with_seconds, reason, cap) == KT_OK ? 0 : -1;
}

/* ---------------------------------------------------------------- outputs, triggers, SLAs */

/* Input/output ids share one pattern; dots nest the value in the execution's inputs map. */
static void check_outputs(kt_validate_ctx *c, const json_t *v)
{
    if (!v || json_is_null(v))
        return;
    if (!json_is_array(v)) {
        kt_validate_err(c, "outputs", 0, "outputs", "must be a list");
        return;
    }
    static const kt_prop out_props[] = {{"id", KT_P_STR, KT_PF_REQ, NULL, NULL},
                                        {"type", KT_P_ENUM, KT_PF_REQ, kt_enum_input_types, NULL},
                                        {"value", KT_P_ANY, KT_PF_REQ, NULL, NULL},
                                        {"description", KT_P_STR, 0, NULL, NULL},
                                        {"displayName", KT_P_STR, 0, NULL, NULL},
                                        {"required", KT_P_BOOL, 0, NULL, NULL},
                                        {NULL, 0, 0, NULL, NULL}};
    const kt_prop *tables[] = {out_props, NULL};
    json_t *seen = json_object();
    size_t i;
    json_t *o;
    json_array_foreach(v, i, o) {
        char *ip = kt_validate_item("outputs", i);
        if (!json_is_object(o)) {
            kt_validate_err(c, ip, 0, ip, "must be an object {id, type, value}");
            free(ip);
            continue;
        }
        kt_validate_object(c, o, ip, "io.kestra.core.models.flows.Output", tables, NULL);
        const char *id = json_string_value(json_object_get(o, "id"));
        char *idp = kt_validate_child(ip, "id");
        if (id && !kt_validate_match_id(id, 1, 0))
            kt_validate_err(c, idp, 0, idp, "must match \"^[a-zA-Z0-9][.a-zA-Z0-9_-]*\"");
        else if (id && json_object_get(seen, id))
            kt_validate_err(c, idp, 0, idp, "Duplicate output with name [%s]", id);
        else if (id)
            json_object_set_new(seen, id, json_true());
        free(idp);
        free(ip);
    }
    json_decref(seen);
}

static void check_triggers(kt_validate_ctx *c, const json_t *v)
{
    if (!v || json_is_null(v))
        return;
    if (!json_is_array(v)) {
        kt_validate_err(c, "triggers", 0, "triggers", "must be a list");
        return;
    }
    json_t *seen = json_object();
    size_t i;
    json_t *t;
    json_array_foreach(v, i, t) {
        char *ip = kt_validate_item("triggers", i);
        kt_validate_plugin(c, t, ip, KT_PLUGIN_TRIGGER, "trigger");
        const char *id = json_string_value(json_object_get(t, "id"));
        char *idp = kt_validate_child(ip, "id");
        if (id && !kt_validate_match_id(id, 0, 0))
            kt_validate_err(c, idp, 0, idp, "must match \"^[a-zA-Z0-9][a-zA-Z0-9_-]*\"");
        else if (id && json_object_get(seen, id))
            kt_validate_err(c, idp, 0, idp, "Duplicate trigger id with name [%s]", id);
        else if (id)
            json_object_set_new(seen, id, json_true());
        free(idp);
        const kt_task_def *d = kt_task_lookup(json_string_value(json_object_get(t, "type")));
        if (d && !strcmp(d->type, "io.kestra.plugin.core.trigger.Flow"))
            kt_depends_on_check(c, t, ip); /* 2.0 dependsOn / window / mode, with the location of a problem */
        size_t j;
        json_t *cond;
        if (d && !strcmp(d->type, "io.kestra.plugin.core.trigger.Webhook")) {
            json_array_foreach(json_object_get(t, "conditions"), j, cond) {
                const kt_task_def *cd = kt_task_lookup(json_string_value(json_object_get(cond, "type")));
                if (cd && strstr(cd->type, "MultipleCondition"))
                    kt_validate_err(c, ip, 0, ip,
                                    "invalid webhook: conditions of type MultipleCondition are not supported");
            }
        }
        free(ip);
    }
    json_decref(seen);
}

static void check_slas(kt_validate_ctx *c, const json_t *v)
{
    if (!v || json_is_null(v))
        return;
    if (!json_is_array(v)) {
        kt_validate_err(c, "sla", 0, "sla", "must be a list");
        return;
    }
    static const char *const sla_types[] = {"MAX_DURATION", "EXECUTION_ASSERTION", NULL};
    static const char *const sla_behaviors[] = {"FAIL", "CANCEL", "NONE", NULL};
    static const kt_prop sla_common[] = {{"id", KT_P_STR, KT_PF_REQ | KT_PF_NONEMPTY, NULL, NULL},
                                         {"type", KT_P_ENUM, KT_PF_REQ, sla_types, NULL},
                                         {"behavior", KT_P_ENUM, KT_PF_REQ, sla_behaviors, NULL},
                                         {"labels", KT_P_LABELS, 0, NULL, NULL},
                                         {NULL, 0, 0, NULL, NULL}};
    static const kt_prop sla_max[] = {{"duration", KT_P_DUR, KT_PF_REQ, NULL, NULL}, {NULL, 0, 0, NULL, NULL}};
    static const kt_prop sla_assert[] = {{"assert", KT_P_STR, KT_PF_REQ | KT_PF_NONEMPTY, NULL, NULL},
                                         {NULL, 0, 0, NULL, NULL}};
    size_t i;
    json_t *s;
    json_array_foreach(v, i, s) {
        char *ip = kt_validate_item("sla", i);
        const char *t = json_string_value(json_object_get(s, "type"));
        if (!json_is_object(s)) {
            kt_validate_err(c, ip, 0, ip, "must be an object");
        } else if (!t || !kt_validate_in_enum(sla_types, json_object_get(s, "type"))) {
            char *tp = kt_validate_child(ip, "type");
            kt_validate_err(c, t ? tp : ip, 0, tp, "Invalid type: %s", t ? t : "<null>");
            free(tp);
        } else {
            const kt_prop *tables[] = {sla_common, !strcmp(t, "MAX_DURATION") ? sla_max : sla_assert, NULL};
            kt_validate_object(c, s, ip, t, tables, NULL);
        }
        free(ip);
    }
}

/* ---------------------------------------------------------------- types that do not run yet */

/* A flow is refused when it uses a type the catalogue says does not run yet (KT_SUPPORT_NOT_YET): saved, it would
 * only fail at run time ("not supported by this worker"), so the user learns it at the first step instead. One
 * error per plugin, on its type, worded like the other constraint violations. The walk is over the flow with its
 * plugin defaults applied, as the executor runs it: a default may give script tasks a Docker task runner; that
 * error lands on the task, and says where the runner came from. */
static void refuse_not_yet(void *ud, const char *path, const char *type, const kt_task_def *d)
{
    if (d->support != KT_SUPPORT_NOT_YET)
        return;
    kt_validate_ctx *c = ud;
    char *tp = kt_validate_child(path, "type");
    int line, col;
    int from_defaults = c->doc && tp && kt_yaml_doc_pos(c->doc, tp, &line, &col) != 0;
    kt_validate_err(c, tp ? tp : path, 0, tp ? tp : path, "%s type '%s' is not supported yet by Kite%s",
                    kt_task_kind_name(d), type, from_defaults ? " (set by plugin defaults)" : "");
    free(tp);
}

static void check_not_yet(kt_validate_ctx *c, const json_t *root, const json_t *server_defaults)
{
    json_t *applied = json_array_size(c->defaults) ? kt_defaults_apply(root, server_defaults) : NULL;
    kt_task_walk_flow(applied ? applied : root, refuse_not_yet, c);
    json_decref(applied);
}

/* ---------------------------------------------------------------- the flow */

static const char *const conc_behaviors[] = {"QUEUE", "CANCEL", "FAIL", NULL};
static const kt_prop concurrency_props[] = {{"limit", KT_P_INT, KT_PF_REQ, NULL, NULL},
                                            {"behavior", KT_P_ENUM, 0, conc_behaviors, NULL},
                                            {NULL, 0, 0, NULL, NULL}};
static const kt_prop listener_props[] = {{"description", KT_P_STR, 0, NULL, NULL},
                                         {"conditions", KT_P_CONDS, 0, NULL, NULL},
                                         {"tasks", KT_P_TASKS, KT_PF_REQ | KT_PF_NONEMPTY, NULL, NULL},
                                         {NULL, 0, 0, NULL, NULL}};
static const kt_prop plugin_default_props[] = {{"type", KT_P_STR, KT_PF_REQ, NULL, NULL},
                                               {"forced", KT_P_BOOL, 0, NULL, NULL},
                                               {"values", KT_P_MAP, KT_PF_REQ, NULL, NULL},
                                               {NULL, 0, 0, NULL, NULL}};
static const kt_prop flow_props[] = {
    {"id", KT_P_STR, KT_PF_REQ, NULL, NULL},
    {"namespace", KT_P_STR, KT_PF_REQ, NULL, NULL},
    {"revision", KT_P_INT, 0, NULL, NULL},
    {"description", KT_P_STR, 0, NULL, NULL},
    {"labels", KT_P_ANY, 0, NULL, NULL}, /* checked below: system.readOnly is allowed here */
    {"inputs", KT_P_INPUTS, 0, NULL, NULL},
    {"outputs", KT_P_ANY, 0, NULL, NULL},
    {"variables", KT_P_MAP, 0, NULL, NULL},
    {"tasks", KT_P_TASKS, KT_PF_REQ | KT_PF_NONEMPTY, NULL, NULL},
    {"errors", KT_P_TASKS, 0, NULL, NULL},
    {"finally", KT_P_TASKS, 0, NULL, NULL},        /* Kestra 1.x: after tasks and errors, still RUNNING */
    {"afterExecution", KT_P_TASKS, 0, NULL, NULL}, /* Kestra 1.x: once the execution has ended */
    {"listeners", KT_P_OBJ_LIST, 0, NULL, listener_props},
    {"triggers", KT_P_ANY, 0, NULL, NULL},
    {"pluginDefaults", KT_P_OBJ_LIST, 0, NULL, plugin_default_props},
    {"taskDefaults", KT_P_OBJ_LIST, 0, NULL, plugin_default_props},
    {"concurrency", KT_P_OBJ, 0, NULL, concurrency_props},
    {"retry", KT_P_RETRY, 0, NULL, NULL},
    {"sla", KT_P_ANY, 0, NULL, NULL},
    {"disabled", KT_P_BOOL, 0, NULL, NULL},
    {"deleted", KT_P_BOOL, 0, NULL, NULL},
    {"tenantId", KT_P_STR, 0, NULL, NULL},
    {"dialect", KT_P_STR, 0, NULL, NULL}, /* Kite's: the line the flow is written in (flow/dialect.h) */
    {"checks", KT_P_OBJ_LIST, 0, NULL, kt_check_props}, /* Kestra 1.x, both dialects (flow/checks.h) */
    {"extend", KT_P_ANY, 0, NULL, NULL},  /* blueprint metadata: ignored with a warning, dropped (check_dialect) */
    {NULL, 0, 0, NULL, NULL},
};

static void collect_defaults(json_t *acc, const json_t *list)
{
    size_t i;
    json_t *x;
    json_array_foreach(list, i, x)
        if (json_is_object(x))
            json_array_append(acc, x);
}

/* ---------------------------------------------------------------- the dialect (flow/dialect.h) */

static void warn(kt_validate_ctx *c, const char *path, const char *msg)
{
    if (!c->warnings)
        return;
    int line, col;
    kt_yaml_doc_locate(c->doc, path, 1, &line, &col);
    kt_diags_add(c->warnings, c->file, line, col, path, "%s", msg);
}

static void on_finding(void *ud, int refused, const char *path, const char *path2, const char *message)
{
    kt_validate_ctx *c = ud;
    if (!refused) {
        warn(c, path, message);
        return;
    }
    char other[512] = "";
    if (path2) {
        int line, col;
        kt_yaml_doc_locate(c->doc, path2, 1, &line, &col);
        if (line > 0)
            snprintf(other, sizeof other, " [%s at line %d, column %d]", path2, line, col);
        else
            snprintf(other, sizeof other, " [%s]", path2);
    }
    kt_validate_err(c, path, 1, path, "%s%s", message, other);
}

/* What the flow's dialect accepts of the other line's constructs (refusals are errors, deprecations warnings), the
 * ids 2.x reserves, and the blueprint site's `extend:` block, which is not part of a flow in either line (Kestra's
 * UI strips it; its migration tool comments it out). */
static void check_dialect(kt_validate_ctx *c, const json_t *root)
{
    kt_dialect d = c->dialect = kt_flow_dialect_detect(root, c->dialect_default);
    kt_flow_dialect_findings(root, d, on_finding, c);
    if (d == KT_DIALECT_2X && c->flow_id && kt_flow_dialect_reserved_id(c->flow_id))
        kt_validate_err(c, "id", 0, "id", "'%s' is reserved in Kestra 2.x and cannot be a flow id (reserved: %s)",
                        c->flow_id, kt_flow_dialect_reserved_list());
    if (json_object_get(root, "extend"))
        warn(c, "extend", "blueprint metadata, not part of a flow: ignored");
}

static void check_flow(kt_validate_ctx *c, const json_t *root, const json_t *server_defaults)
{
    if (!json_is_object(root)) {
        kt_validate_err(c, "", 0, "", "a flow must be a mapping (id, namespace, tasks...)");
        return;
    }
    const json_t *id = json_object_get(root, "id"), *ns = json_object_get(root, "namespace");
    c->flow_id = json_string_value(id);
    c->flow_ns = json_string_value(ns);
    json_t *defs = json_array();
    collect_defaults(defs, kt_defaults_of_flow(root)); /* the lists the executor applies */
    collect_defaults(defs, server_defaults);
    c->defaults = defs;
    const kt_prop *tables[] = {flow_props, NULL};
    kt_validate_object(c, root, "", "io.kestra.core.models.flows.Flow", tables, NULL);
    if (c->flow_id && (!kt_validate_match_id(c->flow_id, 1, 0) || strlen(c->flow_id) > 100))
        kt_validate_err(c, "id", 0, "id",
                        strlen(c->flow_id) > 100 ? "size must be between 1 and 100"
                                                 : "must match \"^[a-zA-Z0-9][a-zA-Z0-9._-]*\"");
    if (c->flow_ns && (!kt_validate_match_id(c->flow_ns, 1, 1) || strlen(c->flow_ns) > 150))
        kt_validate_err(c, "namespace", 0, "namespace",
                        strlen(c->flow_ns) > 150 ? "size must be between 1 and 150"
                                                 : "must match \"^[a-z0-9][a-z0-9._-]*\"");
    const json_t *limit = json_object_get(json_object_get(root, "concurrency"), "limit");
    if (json_is_integer(limit) && json_integer_value(limit) <= 0)
        kt_validate_err(c, "concurrency.limit", 0, "concurrency.limit", "must be greater than 0");
    kt_dialect named;
    const json_t *dialect = json_object_get(root, "dialect");
    if (json_is_string(dialect) && kt_dialect_parse(json_string_value(dialect), &named))
        kt_validate_err(c, "dialect", 0, "dialect", "must be 1.x or 2.x (Kestra's line the flow is written in)");
    if (json_object_get(root, "labels"))
        kt_validate_labels(c, json_object_get(root, "labels"), "labels", 1);
    check_outputs(c, json_object_get(root, "outputs"));
    c->errors += kt_inputs_check_dialect(json_object_get(root, "inputs"), /* defaults => required in 2.x */
                                         kt_flow_dialect_detect(root, kt_flow_dialect_default()), c->doc, c->file,
                                         "inputs", c->diags);
    c->errors += kt_checks_validate(json_object_get(root, "checks"), c->doc, c->file, c->diags);
    check_triggers(c, json_object_get(root, "triggers"));
    kt_trigger_inputs_check(c, root); /* 2.x: automatic triggers supply the inputs without defaults */
    check_slas(c, json_object_get(root, "sla"));
    check_not_yet(c, root, server_defaults);
    check_dialect(c, root);
    c->defaults = NULL;
    json_decref(defs);
}

static int diag_cmp(const void *a, const void *b)
{
    const kt_diag *x = a, *y = b;
    if (x->line != y->line)
        return x->line < y->line ? -1 : 1;
    if (x->col != y->col)
        return x->col < y->col ? -1 : 1;
    int p = strcmp(x->path, y->path);
    return p ? p : strcmp(x->message, y->message);
}

static kt_status build(const json_t *root, const kt_yaml_doc *doc, const char *file, const kt_flow_parse_opts *o,
                       kt_flow **out, kt_diags *diags)
{
    *out = NULL;
    const json_t *server_defaults = o ? o->server_defaults : NULL;
    kt_dialect dflt = o && o->pinned ? o->dialect : kt_flow_dialect_default();
    kt_validate_ctx c = {.doc = doc,
                         .file = file,
                         .diags = diags,
                         .task_ids = json_object(),
                         .warnings = o ? o->warnings : NULL,
                         .dialect_default = dflt};
    if (!c.task_ids)
        return KT_ENOMEM;
    size_t first = diags ? diags->count : 0;
    check_flow(&c, root, server_defaults);
    json_decref(c.task_ids);
    /* The walk visits flow-level checks last; a reader wants the file's errors top to bottom. */
    if (diags && doc && diags->count > first + 1)
        qsort(diags->items + first, diags->count - first, sizeof(kt_diag), diag_cmp);
    if (c.warnings && doc && c.warnings->count > 1)
        qsort(c.warnings->items, c.warnings->count, sizeof(kt_diag), diag_cmp);
    if (c.errors)
        return KT_EINVAL;
    kt_flow *f = calloc(1, sizeof(*f));
    json_t *j = json_deep_copy(root);
    if (!f || !j) {
        free(f);
        json_decref(j);
        return KT_ENOMEM;
    }
    if (!json_object_get(j, "disabled"))
        json_object_set_new(j, "disabled", json_false());
    if (!json_object_get(j, "deleted"))
        json_object_set_new(j, "deleted", json_false());
    json_object_set_new(j, "dialect", json_string(kt_dialect_name(c.dialect))); /* check_dialect's */
    json_object_del(j, "extend");
    /* Booleans written as "true" strings are coerced by Jackson; keep the typed form in the model. */
    const json_t *dis = json_object_get(j, "disabled");
    if (json_is_string(dis))
        json_object_set_new(j, "disabled", json_boolean(!strcmp(json_string_value(dis), "true")));
    size_t i;
    json_t *in;
    json_array_foreach(json_object_get(j, "inputs"), i, in)
        if (!json_object_get(in, "id") && json_is_string(json_object_get(in, "name")))
            json_object_set(in, "id", json_object_get(in, "name"));
    f->json = j;
    f->id = json_string_value(json_object_get(j, "id"));
    f->ns = json_string_value(json_object_get(j, "namespace"));
    f->disabled = json_is_true(json_object_get(j, "disabled"));
    *out = f;
    return KT_OK;
}

kt_status kt_flow_parse(const char *src, size_t len, const char *file, kt_flow **out, kt_diags *diags)
{
    return kt_flow_parse_with_defaults(src, len, file, NULL, out, diags);
}

kt_status kt_flow_parse_with_defaults(const char *src, size_t len, const char *file, const json_t *server_defaults,
                                      kt_flow **out, kt_diags *diags)
{
    kt_flow_parse_opts o = {.server_defaults = server_defaults};
    return kt_flow_parse_opt(src, len, file, &o, out, diags);
}

kt_status kt_flow_parse_pinned(const char *src, size_t len, const char *file, const json_t *server_defaults,
                               kt_dialect dialect, kt_flow **out, kt_diags *diags)
{
    kt_flow_parse_opts o = {.server_defaults = server_defaults, .pinned = 1, .dialect = dialect};
    return kt_flow_parse_opt(src, len, file, &o, out, diags);
}

kt_status kt_flow_parse_opt(const char *src, size_t len, const char *file, const kt_flow_parse_opts *o,
                            kt_flow **out, kt_diags *diags)
{
    kt_yaml_doc **docs = NULL;
    size_t n = 0;
    *out = NULL;
    kt_status st = kt_yaml_load(src, len, file, &docs, &n, diags);
    if (st != KT_OK)
        return st;
    if (n != 1) {
        int line = 0, col = 0;
        if (n > 1)
            kt_yaml_doc_pos(docs[1], "", &line, &col);
        kt_diags_add(diags, file, line, col, "",
                     n ? "a flow file must contain exactly one YAML document" : "empty flow: id, namespace and tasks are required");
        kt_yaml_docs_free(docs, n);
        return KT_EINVAL;
    }
    st = build(kt_yaml_doc_root(docs[0]), docs[0], file, o, out, diags);
    kt_yaml_docs_free(docs, n);
    return st;
}

kt_status kt_flow_from_json(const json_t *root, const char *file, kt_flow **out, kt_diags *diags)
{
    return build(root, NULL, file, NULL, out, diags);
}

void kt_flow_free(kt_flow *f)
{
    if (!f)
        return;
    json_decref(f->json);
    free(f);
}

const char *kt_flow_id(const kt_flow *f) { return f->id; }
const char *kt_flow_namespace(const kt_flow *f) { return f->ns; }
int kt_flow_disabled(const kt_flow *f) { return f->disabled; }
const json_t *kt_flow_json(const kt_flow *f) { return f->json; }
const json_t *kt_flow_tasks(const kt_flow *f) { return json_object_get(f->json, "tasks"); }
const json_t *kt_flow_inputs(const kt_flow *f) { return json_object_get(f->json, "inputs"); }
const json_t *kt_flow_triggers(const kt_flow *f) { return json_object_get(f->json, "triggers"); }

long kt_flow_concurrency_limit(const json_t *flow)
{
    json_t *limit = json_object_get(json_object_get(flow, "concurrency"), "limit");
    return json_is_integer(limit) && json_integer_value(limit) > 0 ? (long)json_integer_value(limit) : 0;
}
