/* ForEachItem's generated tasks (flow/foreachitem.h), as ForEachItem.getTasks() builds them. */
#include "flow/foreachitem.h"

#include <stdio.h>
#include <string.h>

#include "flow/tasks.h"

static void copy_props(json_t *to, const json_t *from, const char *const *names)
{
    for (; *names; names++) {
        json_t *v = json_object_get(from, *names);
        if (v)
            json_object_set(to, *names, v);
    }
}

static json_t *generated(const char *id, const char *suffix, const char *type)
{
    char gid[512];
    snprintf(gid, sizeof gid, "%s%s", id, suffix);
    return json_pack("{s:s, s:s}", "id", gid, "type", type);
}

static json_t *children_of(const json_t *task)
{
    const char *id = json_string_value(json_object_get(task, "id"));
    if (!id)
        return NULL;
    json_t *split = generated(id, KT_FOREACHITEM_SPLIT_SUFFIX, KT_FOREACHITEM_SPLIT_TYPE);
    static const char *const split_props[] = {"items", NULL};
    copy_props(split, task, split_props);
    /* Batch's default is {rows: 1} (ForEachItem.batch = Batch.builder().rows(1)) */
    json_t *batch = json_object_get(task, "batch");
    json_object_set_new(split, "batch", json_is_object(batch) ? json_incref(batch) : json_pack("{s:i}", "rows", 1));

    json_t *items = generated(id, KT_FOREACHITEM_ITEMS_SUFFIX, KT_FOREACHITEM_ITEMS_TYPE);
    static const char *const items_props[] = {"namespace", "flowId", "revision", "inputs", "inheritLabels", "labels",
                                              "wait", "transmitFailed", "scheduleDate", "scheduleOn", NULL};
    copy_props(items, task, items_props);

    json_t *merge = generated(id, KT_FOREACHITEM_MERGE_SUFFIX, KT_FOREACHITEM_MERGE_TYPE);
    return json_pack("[o, o, o]", split, items, merge);
}

static int expand_list(json_t *tasks);

static int expand_task(json_t *t)
{
    int n = 0;
    if (!strcmp(kt_task_canonical_type(json_string_value(json_object_get(t, "type")) ? json_string_value(json_object_get(t, "type")) : ""),
                KT_FOREACHITEM_TYPE) &&
        !json_object_get(t, "tasks")) {
        json_t *kids = children_of(t);
        if (kids) {
            json_object_set_new(t, "tasks", kids);
            n++;
        }
    }
    static const char *const lists[] = {"tasks", "errors", "then", "else", "defaults", "finally", NULL};
    for (const char *const *l = lists; *l; l++)
        n += expand_list(json_object_get(t, *l));
    const char *k;
    json_t *v;
    json_object_foreach(json_object_get(t, "cases"), k, v) n += expand_list(v);
    return n;
}

static int expand_list(json_t *tasks)
{
    int n = 0;
    size_t i;
    json_t *t;
    json_array_foreach(tasks, i, t) {
        /* Dag entries wrap the task: {task: {...}, dependsOn: [...]} */
        json_t *task = json_object_get(t, "task") && !json_object_get(t, "type") ? json_object_get(t, "task") : t;
        if (json_is_object(task))
            n += expand_task(task);
    }
    return n;
}

int kt_foreachitem_expand(json_t *flow)
{
    return expand_list(json_object_get(flow, "tasks")) + expand_list(json_object_get(flow, "errors")) +
           expand_list(json_object_get(flow, "finally"));
}

int kt_foreachitem_sibling(const char *task_id, const char *suffix, char *out, size_t cap)
{
    static const char *const suffixes[] = {KT_FOREACHITEM_SPLIT_SUFFIX, KT_FOREACHITEM_ITEMS_SUFFIX,
                                           KT_FOREACHITEM_MERGE_SUFFIX, NULL};
    size_t n = task_id ? strlen(task_id) : 0;
    for (const char *const *s = suffixes; *s; s++) {
        size_t m = strlen(*s);
        if (n > m && !strcmp(task_id + n - m, *s)) {
            int w = snprintf(out, cap, "%.*s%s", (int)(n - m), task_id, suffix);
            return w > 0 && (size_t)w < cap;
        }
    }
    return 0;
}
