/* Triggers supplying the inputs without defaults, 2.x only (flow/trigger_inputs.h). */
#include "flow/trigger_inputs.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/dialect.h"
#include "flow/dialect.h"
#include "flow/tasks.h"

static int schedule_type(const char *type)
{
    if (!type)
        return 0;
    const char *canon = kt_task_canonical_type(type);
    return !strcmp(canon, "io.kestra.plugin.core.trigger.Schedule") ||
           !strcmp(canon, "io.kestra.plugin.core.trigger.ScheduleOnDates");
}

void kt_trigger_inputs_check(kt_validate_ctx *c, const json_t *root)
{
    const json_t *inputs = json_object_get(root, "inputs");
    if (!json_array_size(inputs) || kt_flow_dialect_detect(root, kt_flow_dialect_default()) != KT_DIALECT_2X)
        return;
    size_t i, j;
    json_t *t, *in;
    json_array_foreach(json_object_get(root, "triggers"), i, t) {
        if (!schedule_type(json_string_value(json_object_get(t, "type"))) ||
            json_is_true(json_object_get(t, "disabled")))
            continue;
        const json_t *given = json_object_get(t, "inputs");
        char missing[512] = "";
        size_t n = 0;
        json_array_foreach(inputs, j, in) {
            const char *id = json_string_value(json_object_get(in, "id"));
            if (!id)
                id = json_string_value(json_object_get(in, "name"));
            const json_t *dflt = json_object_get(in, "defaults");
            if (!id || (dflt && !json_is_null(dflt)) || json_object_get(in, "dependsOn"))
                continue;
            if (json_is_object(given) && json_object_get(given, id))
                continue;
            size_t len = strlen(missing);
            snprintf(missing + len, sizeof missing - len, "%s'%s'", n++ ? ", " : "", id);
        }
        if (!n)
            continue;
        char *tp = kt_validate_item("triggers", i), *ip = tp ? kt_validate_child(tp, "inputs") : NULL;
        const char *tid = json_string_value(json_object_get(t, "id"));
        kt_validate_err(c, given ? ip : tp, 0, given ? ip : tp, "Missing inputs for Schedule Trigger '%s', missing inputs: %s",
                        tid ? tid : "?", missing);
        free(ip);
        free(tp);
    }
}
