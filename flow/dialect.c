#include "flow/dialect.h"

#include <string.h>

#include "flow/tasks.h"

/* Written once by cmd/ at start-up, before the loop and its threads start; read-only afterwards. */
static kt_dialect default_dialect = KT_DIALECT_1X;

void kt_flow_dialect_set_default(kt_dialect d) { default_dialect = d; }
kt_dialect kt_flow_dialect_default(void) { return default_dialect; }

typedef struct marks {
    int v1, v2;
} marks;

static void scan(const json_t *v, marks *m);

/* A trigger's 2.x properties (the guide's trigger redesign) and its 1.x ones. */
static void scan_trigger(const json_t *t, marks *m)
{
    static const char *const v2[] = {"when", "dependsOn", "window", "mode", "minSatisfied", "onMiss", NULL};
    static const char *const v1[] = {"conditions", "scheduleConditions", "preconditions", NULL};
    for (const char *const *k = v2; *k; k++)
        m->v2 |= json_object_get(t, *k) != NULL;
    for (const char *const *k = v1; *k; k++)
        m->v1 |= json_object_get(t, *k) != NULL;
}

static void scan_object(const json_t *o, marks *m)
{
    const char *type = json_string_value(json_object_get(o, "type"));
    if (type) {
        const char *canon = kt_task_canonical_type(type);
        if (!strcmp(canon, "io.kestra.plugin.core.flow.Loop"))
            m->v2 = 1;
        else if (!strcmp(canon, "io.kestra.plugin.core.flow.ForEach") ||
                 !strcmp(canon, "io.kestra.plugin.core.flow.ForEachItem") ||
                 !strcmp(canon, "io.kestra.plugin.core.flow.EachSequential") ||
                 !strcmp(canon, "io.kestra.plugin.core.flow.EachParallel"))
            m->v1 = 1;
    }
    const char *key;
    json_t *val;
    json_object_foreach((json_t *)o, key, val) scan(val, m);
}

static void scan(const json_t *v, marks *m)
{
    size_t i;
    json_t *x;
    if (json_is_object(v))
        scan_object(v, m);
    else if (json_is_array(v))
        json_array_foreach(v, i, x) scan(x, m);
}

kt_dialect kt_flow_dialect_detect(const json_t *flow, kt_dialect dflt)
{
    kt_dialect named;
    if (!kt_dialect_parse(json_string_value(json_object_get(flow, "dialect")), &named))
        return named;
    marks m = {0, 0};
    size_t i;
    json_t *t;
    json_array_foreach(json_object_get(flow, "triggers"), i, t) scan_trigger(t, &m);
    m.v1 |= json_object_get(flow, "pluginDefaults") != NULL || json_object_get(flow, "taskDefaults") != NULL;
    scan(json_object_get(flow, "tasks"), &m);
    scan(json_object_get(flow, "errors"), &m);
    scan(json_object_get(flow, "finally"), &m);
    scan(json_object_get(flow, "afterExecution"), &m);
    if (m.v2)
        return KT_DIALECT_2X; /* with 1.x markers too: half-way through a migration */
    if (m.v1)
        return KT_DIALECT_1X;
    return dflt;
}
