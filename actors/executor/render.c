#include "actors/executor/render.h"
#include "actors/executor/model.h"
#include "flow/expr.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern char **environ;

/* envs: KESTRA_* environment variables, prefix dropped, lower-cased; read once per process. */
static json_t *kt_render_envs(void)
{
    static json_t *envs;
    if (envs)
        return envs;
    envs = json_object();
    for (char **e = environ; e && *e; e++) {
        if (strncmp(*e, "KESTRA_", 7))
            continue;
        const char *eq = strchr(*e, '=');
        if (!eq)
            continue;
        char key[256];
        size_t n = (size_t)(eq - (*e + 7));
        if (n == 0 || n >= sizeof key)
            continue;
        for (size_t i = 0; i < n; i++)
            key[i] = (char)tolower((unsigned char)(*e)[7 + i]);
        key[n] = 0;
        if (!strcmp(key, "plugins_path") || !strcmp(key, "configuration_path") || !strcmp(key, "configuration"))
            continue;
        json_object_set_new(envs, key, json_string(eq + 1));
    }
    return envs;
}

static json_t *kt_render_first_date(const json_t *holder)
{
    json_t *h = json_object_get(json_object_get(holder, "state"), "histories");
    return json_incref(json_object_get(json_array_get(h, 0), "date"));
}

json_t *kt_render_context(const kt_flow *flow, const json_t *execution, const json_t *task, const json_t *taskrun)
{
    const json_t *fj = kt_flow_json(flow);
    json_t *ctx = json_object();
    json_object_set(ctx, "envs", kt_render_envs());
    json_object_set_new(ctx, "globals", json_object());
    json_t *f = json_pack("{s:O, s:O}", "id", json_object_get(execution, "flowId"), "namespace",
                          json_object_get(execution, "namespace"));
    json_object_set(f, "revision", json_object_get(execution, "flowRevision"));
    json_object_set_new(ctx, "flow", f);
    if (json_object_get(fj, "variables"))
        json_object_set(ctx, "vars", json_object_get(fj, "variables"));
    json_object_set_new(ctx, "execution", json_pack("{s:O, s:o, s:O}", "id", json_object_get(execution, "id"),
                                                    "startDate", kt_render_first_date(execution), "originalId",
                                                    json_object_get(execution, "originalId")));
    json_t *runs = json_object_get(execution, "taskRunList");
    if (json_is_array(runs)) {
        json_t *outputs = json_object(), *tasks = json_object();
        size_t i;
        json_t *tr;
        json_array_foreach(runs, i, tr) {
            const char *tid = json_string_value(json_object_get(tr, "taskId"));
            json_t *o = json_object_get(tr, "outputs");
            if (!tid)
                continue;
            if (json_is_object(o))
                json_object_set(outputs, tid, o);
            json_object_set_new(tasks, tid, json_pack("{s:O}", "state", json_object_get(json_object_get(tr, "state"), "current")));
        }
        json_object_set_new(ctx, "outputs", outputs);
        json_object_set_new(ctx, "tasks", tasks);
    }
    json_t *inputs = json_object_get(execution, "inputs");
    if (json_object_size(inputs))
        json_object_set(ctx, "inputs", inputs);
    json_t *labels = json_object();
    size_t i;
    json_t *l;
    json_array_foreach(json_object_get(execution, "labels"), i, l) {
        const char *k = json_string_value(json_object_get(l, "key"));
        json_t *v = json_object_get(l, "value");
        if (!k || !v)
            continue;
        /* Kestra collapses system.* labels onto one "system" entry holding the first of them. */
        if (!strncmp(k, "system.", 7)) {
            if (!json_object_get(labels, "system"))
                json_object_set_new(labels, "system", json_pack("{s:s, s:O}", "key", k + 7, "value", v));
        } else if (!json_object_get(labels, k)) {
            json_object_set(labels, k, v);
        }
    }
    json_object_set_new(ctx, "labels", labels);
    if (task)
        json_object_set_new(ctx, "task", json_pack("{s:O, s:O}", "id", json_object_get(task, "id"), "type",
                                                   json_object_get(task, "type")));
    if (taskrun) {
        json_t *t = json_pack("{s:O, s:o, s:I}", "id", json_object_get(taskrun, "id"), "startDate",
                              kt_render_first_date(taskrun), "attemptsCount",
                              (json_int_t)(kt_taskrun_attempts(taskrun) ? kt_taskrun_attempts(taskrun) - 1 : 0));
        if (json_object_get(taskrun, "parentTaskRunId"))
            json_object_set(t, "parentId", json_object_get(taskrun, "parentTaskRunId"));
        if (json_object_get(taskrun, "value"))
            json_object_set(t, "value", json_object_get(taskrun, "value"));
        json_object_set_new(ctx, "taskrun", t);
        json_object_set_new(ctx, "parents", json_array());
    }
    return ctx;
}

/* Properties that hold tasks (rendered when those tasks run, not with their parent) or identify the task. */
static int kt_render_skip(const char *key)
{
    static const char *const skip[] = {"id", "type", "tasks", "errors", "finally", "then", "else", "cases", "defaults",
                                       "retry", "runIf", "workerGroup"};
    for (size_t i = 0; i < sizeof skip / sizeof *skip; i++)
        if (!strcmp(key, skip[i]))
            return 1;
    return 0;
}

json_t *kt_render_task(const kt_flow *flow, kt_tmpl_cache *cache, const json_t *execution, const json_t *task,
                       const json_t *taskrun, char *err, size_t errcap)
{
    json_t *ctx = kt_render_context(flow, execution, task, taskrun);
    json_t *out = json_object();
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)task, k, v) {
        if (kt_render_skip(k)) {
            json_object_set(out, k, v);
            continue;
        }
        json_t *r = NULL;
        kt_expr_error e = {0};
        if (kt_expr_render_json_cached(cache, v, ctx, &r, &e) != KT_OK) {
            snprintf(err, errcap, "%s", e.message[0] ? e.message : "rendering failed");
            json_decref(out);
            json_decref(ctx);
            return NULL;
        }
        json_object_set_new(out, k, r);
    }
    json_decref(ctx);
    return out;
}

const json_t *kt_render_find_task(const json_t *tasks, const char *id)
{
    size_t i;
    json_t *t;
    json_array_foreach(tasks, i, t) {
        const char *tid = json_string_value(json_object_get(t, "id"));
        if (tid && !strcmp(tid, id))
            return t;
        static const char *const nested[] = {"tasks", "errors", "finally", "then", "else"};
        for (size_t k = 0; k < sizeof nested / sizeof *nested; k++) {
            const json_t *found = kt_render_find_task(json_object_get(t, nested[k]), id);
            if (found)
                return found;
        }
        const char *ck;
        json_t *cv;
        json_object_foreach(json_object_get(t, "cases"), ck, cv) {
            const json_t *found = kt_render_find_task(cv, id);
            if (found)
                return found;
        }
    }
    return NULL;
}
