/* io.kestra.plugin.core.templating.TemplatedTask (KESTRA-model.md, TemplatedTask.java): `spec`, already rendered by
 * the executor like every property, is the YAML of another runnable task, which then runs in its place under the
 * TemplatedTask's id and timeout. Kestra's inner task renders its own properties a second time; in Kite the
 * executor rendered them once as the text of `spec`, so an expression that only a second render would expand (one
 * produced by the first) stays as it is. */
#include "actors/worker/task.h"

#include <stdio.h>
#include <string.h>

#include "flow/tasks.h"
#include "flow/yaml.h"

#define TEMPLATED_TYPE "io.kestra.plugin.core.templating.TemplatedTask"

int kt_task_is_templated(const char *type) { return type && !strcmp(kt_task_canonical_type(type), TEMPLATED_TYPE); }

json_t *kt_task_templated_resolve(const json_t *outer, char *err, size_t errcap)
{
    const char *spec = json_string_value(json_object_get(outer, "spec"));
    if (!spec) {
        snprintf(err, errcap, "spec: must not be null");
        return NULL;
    }
    kt_yaml_doc **docs = NULL;
    size_t n = 0;
    kt_diags d;
    kt_diags_init(&d);
    json_t *inner = NULL;
    if (kt_yaml_load(spec, strlen(spec), "spec", &docs, &n, &d) != KT_OK) {
        char *msg = kt_diags_format(&d);
        snprintf(err, errcap, "Unable to parse the templated task: %s", msg ? msg : "invalid YAML");
        free(msg);
        goto done;
    }
    json_t *root = n == 1 ? kt_yaml_doc_root(docs[0]) : NULL;
    const char *type = json_string_value(json_object_get(root, "type"));
    if (!json_is_object(root) || !type) {
        snprintf(err, errcap, "Unable to parse the templated task: a task with a `type` is expected");
        goto done;
    }
    if (kt_task_is_templated(type)) {
        snprintf(err, errcap, "The templated task cannot be of type '%s'", TEMPLATED_TYPE);
        goto done;
    }
    const kt_task_def *def = kt_task_lookup(type);
    if (def && def->kind != KT_PLUGIN_RUNNABLE) {
        snprintf(err, errcap, "The templated task must be a runnable task");
        goto done;
    }
    inner = json_deep_copy(root);
    /* the task that runs is the TemplatedTask's own attempt: its id, and its timeout (the inner one's is unused) */
    json_object_set(inner, "id", json_object_get(outer, "id"));
    json_object_del(inner, "timeout");
    if (json_object_get(outer, "timeout"))
        json_object_set(inner, "timeout", json_object_get(outer, "timeout"));
done:
    kt_yaml_docs_free(docs, n);
    kt_diags_clear(&d);
    return inner;
}

/* The worker swaps a TemplatedTask for its inner task before it starts anything (kt_worker_run_start), so this is
 * only what kt_worker_find_impl answers for the type. */
static void templated_start(kt_task_run *r)
{
    static const char msg[] = "TemplatedTask reached the worker unresolved";
    kt_task_log(r, "ERROR", msg, sizeof msg - 1);
    kt_task_finish(r, KT_S(FAILED), NULL);
}

const kt_task_impl kt_task_templated_impl = {.type = TEMPLATED_TYPE, .start = templated_start};
