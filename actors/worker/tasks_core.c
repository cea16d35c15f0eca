/* In-loop core tasks: Log, Return, OutputValues (KESTRA-model.md §6.2). */
#include "actors/worker/task.h"

#include <string.h>

static const char *kt_task_level(kt_task_run *r)
{
    const char *level = kt_task_prop_string(r, "level");
    return level ? level : "INFO";
}

static void kt_log_start(kt_task_run *r)
{
    json_t *msg = json_object_get(kt_task_props(r), "message");
    const char *level = kt_task_level(r);
    if (json_is_string(msg)) {
        kt_task_log(r, level, json_string_value(msg), json_string_length(msg));
    } else if (json_is_array(msg)) {
        size_t i;
        json_t *m;
        json_array_foreach(msg, i, m) {
            if (!json_is_string(m)) {
                kt_task_logf(r, "ERROR", "Invalid message type '%s'", json_is_object(m) ? "LinkedHashMap" : "Object");
                kt_task_finish(r, "FAILED", NULL);
                return;
            }
            kt_task_log(r, level, json_string_value(m), json_string_length(m));
        }
    } else {
        kt_task_logf(r, "ERROR", "Invalid message type '%s'", msg ? "Object" : "null");
        kt_task_finish(r, "FAILED", NULL);
        return;
    }
    kt_task_finish(r, "SUCCESS", json_object());
}

static void kt_return_start(kt_task_run *r)
{
    json_t *format = json_object_get(kt_task_props(r), "format");
    json_t *out = json_object();
    if (json_is_string(format)) {
        kt_task_log(r, "DEBUG", json_string_value(format), json_string_length(format));
        json_object_set(out, "value", format);
    }
    kt_task_finish(r, "SUCCESS", out);
}

static void kt_output_values_start(kt_task_run *r)
{
    json_t *values = json_object_get(kt_task_props(r), "values");
    json_t *out = json_object();
    json_object_set_new(out, "values", json_is_object(values) ? json_incref(values) : json_object());
    kt_task_finish(r, "SUCCESS", out);
}

const kt_task_impl kt_task_log_impl = {.type = "io.kestra.plugin.core.log.Log", .start = kt_log_start};
const kt_task_impl kt_task_return_impl = {.type = "io.kestra.plugin.core.debug.Return", .start = kt_return_start};
const kt_task_impl kt_task_output_values_impl = {.type = "io.kestra.plugin.core.output.OutputValues",
                                                 .start = kt_output_values_start};
