/* In-loop core tasks: Log, Return, OutputValues (KESTRA-model.md §6.2), Echo, Fail, Sleep, and 1.x's Assert. */
#include "actors/worker/task.h"
#include "base/clock.h"
#include "base/dialect.h"
#include "base/env.h"
#include "expr/expr.h"
#include "flow/model.h"
#include "flow/render.h"
#include "store/storage_env.h"
#include "time/duration.h"

#include <stdlib.h>

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
                kt_task_finish(r, KT_S(FAILED), NULL);
                return;
            }
            kt_task_log(r, level, json_string_value(m), json_string_length(m));
        }
    } else {
        kt_task_logf(r, "ERROR", "Invalid message type '%s'", msg ? "Object" : "null");
        kt_task_finish(r, KT_S(FAILED), NULL);
        return;
    }
    kt_task_finish(r, KT_S(SUCCESS), json_object());
}

/* Java's String.length(): UTF-16 code units (a character beyond the BMP counts two). */
static size_t kt_utf16_length(const char *s, size_t len)
{
    size_t n = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if ((c & 0xC0) != 0x80)
            n += c >= 0xF0 ? 2 : 1;
    }
    return n;
}

/* Return also records Kestra's two metrics: counter `length` (the rendered text's length) and timer `duration`,
 * both tagged format=<rendered>. */
static void kt_return_start(kt_task_run *r)
{
    int64_t start = kt_now_us();
    json_t *format = json_object_get(kt_task_props(r), "format");
    json_t *out = json_object();
    json_t *tags = json_object();
    size_t length = 0;
    if (json_is_string(format)) {
        kt_task_log(r, "DEBUG", json_string_value(format), json_string_length(format));
        json_object_set(out, "value", format);
        json_object_set(tags, "format", format);
        length = kt_utf16_length(json_string_value(format), json_string_length(format));
    }
    kt_task_counter(r, "length", (double)length, tags);
    kt_task_timer(r, "duration", kt_now_us() - start, tags);
    json_decref(tags);
    kt_task_finish(r, KT_S(SUCCESS), out);
}

static void kt_output_values_start(kt_task_run *r)
{
    json_t *values = json_object_get(kt_task_props(r), "values");
    json_t *out = json_object();
    json_object_set_new(out, "values", json_is_object(values) ? json_incref(values) : json_object());
    kt_task_finish(r, KT_S(SUCCESS), out);
}

const kt_task_impl kt_task_log_impl = {.type = "io.kestra.plugin.core.log.Log", .start = kt_log_start};
const kt_task_impl kt_task_return_impl = {.type = "io.kestra.plugin.core.debug.Return", .start = kt_return_start};
const kt_task_impl kt_task_output_values_impl = {.type = "io.kestra.plugin.core.output.OutputValues",
                                                 .start = kt_output_values_start};

/* ---- Echo (deprecated): Log with `format` ---- */

static void kt_echo_start(kt_task_run *r)
{
    const char *format = kt_task_prop_string(r, "format");
    const char *level = kt_task_prop_string(r, "level");
    if (format)
        kt_task_log(r, level ? level : "INFO", format, strlen(format));
    kt_task_finish(r, KT_S(SUCCESS), json_object());
}

const kt_task_impl kt_task_echo_impl = {.type = "io.kestra.plugin.core.debug.Echo", .start = kt_echo_start};

/* ---- Fail (KESTRA-model.md §6.3) ---- */

static int kt_truthy(const char *s) { return s && *s && strcmp(s, "false") && strcmp(s, "0") && strcmp(s, "-0"); }

static void kt_fail_start(kt_task_run *r)
{
    const char *msg = kt_task_prop_string(r, "errorMessage");
    if (!msg)
        msg = "Task failure";
    json_t *cond = json_object_get(kt_task_props(r), "condition");
    if (!cond) {
        kt_task_log(r, "ERROR", msg, strlen(msg));
        kt_task_finish(r, KT_S(FAILED), NULL);
        return;
    }
    const char *c = json_string_value(cond);
    char *dumped = c ? NULL : json_dumps(cond, JSON_ENCODE_ANY);
    int yes = kt_truthy(c ? c : dumped);
    free(dumped);
    if (yes) {
        kt_task_log(r, "ERROR", msg, strlen(msg));
        kt_task_log(r, "ERROR", "Fail on a condition", 19);
        kt_task_finish(r, KT_S(FAILED), NULL);
        return;
    }
    kt_task_finish(r, KT_S(SUCCESS), json_object());
}

const kt_task_impl kt_task_fail_impl = {.type = "io.kestra.plugin.core.execution.Fail", .start = kt_fail_start};

/* ---- Sleep: a timer on the loop, not a blocked thread ---- */

typedef struct kt_sleep {
    uv_timer_t timer;
    kt_task_run *r;
    int killed;
} kt_sleep;

static void kt_sleep_closed(uv_handle_t *h)
{
    kt_sleep *s = h->data;
    kt_task_finish(s->r, s->killed ? KT_S(KILLED) : KT_S(SUCCESS), s->killed ? NULL : json_object());
    free(s);
}

static void kt_sleep_done(uv_timer_t *t) { uv_close((uv_handle_t *)t, kt_sleep_closed); }

static void kt_sleep_start(kt_task_run *r)
{
    json_t *d = json_object_get(kt_task_props(r), "duration");
    int64_t us;
    if (kt_duration_from_json(d, &us) || us < 0) {
        kt_task_logf(r, "ERROR", "Invalid duration '%s'", json_string_value(d) ? json_string_value(d) : "?");
        kt_task_finish(r, KT_S(FAILED), NULL);
        return;
    }
    kt_sleep *s = calloc(1, sizeof *s);
    if (!s) {
        kt_task_finish(r, KT_S(FAILED), NULL);
        return;
    }
    char buf[64];
    kt_duration_format(us, buf, sizeof buf);
    kt_task_logf(r, "INFO", "Waiting for %s", buf);
    s->r = r;
    kt_task_set_data(r, s);
    uv_timer_init(kt_task_loop(r), &s->timer);
    s->timer.data = s;
    uv_timer_start(&s->timer, kt_sleep_done, (uint64_t)((us + 999) / 1000), 0);
}

static void kt_sleep_kill(kt_task_run *r)
{
    kt_sleep *s = kt_task_data(r);
    if (!s || uv_is_closing((uv_handle_t *)&s->timer))
        return;
    s->killed = 1;
    uv_timer_stop(&s->timer);
    uv_close((uv_handle_t *)&s->timer, kt_sleep_closed);
}

const kt_task_impl kt_task_sleep_impl = {.type = "io.kestra.plugin.core.flow.Sleep", .start = kt_sleep_start,
                                         .kill = kt_sleep_kill};

/* ---- Assert (Kestra 1.x, Assert.java): each of `conditions`, left unrendered by the executor (KT_PF_RAW), is
 * rendered here in the task run's context (the job brings {flow, execution}) and coerced as TruthUtils does (0, -0,
 * "", false are false); a false one or one that does not render is logged and counted; metrics `success` and
 * `failed`; any failure fails the task with "<n> assertion(s) failed!" and the rendered errorMessage on a new line. */

static json_t *kt_assert_context(kt_task_run *r)
{
    const json_t *ctx = kt_task_context(r), *flow = json_object_get(ctx, "flow");
    json_t *exec = json_object_get(ctx, "execution");
    const char *id = json_string_value(json_object_get(kt_task_run_info(r), "taskRunId"));
    json_t *run = json_is_object(exec) && id ? kt_taskrun_find(exec, id) : NULL;
    if (!json_is_object(flow) || !run)
        return json_object();
    json_t *task = json_pack("{s:O, s:O}", "id", json_object_get(kt_task_props(r), "id"), "type",
                             json_object_get(kt_task_props(r), "type"));
    json_t *out = kt_render_context(flow, exec, task, run);
    json_decref(task);
    return out;
}

/* One condition rendered: 1 true, 0 false, -1 did not render (logged). */
static int kt_assert_one(kt_task_run *r, const json_t *ctx, kt_env *env, const char *src)
{
    kt_tmpl *t = NULL;
    kt_expr_error e = {0};
    char *out = NULL;
    size_t n = 0;
    if (kt_tmpl_compile(src, strlen(src), &t, &e) || kt_tmpl_render(t, ctx, env, &out, &n, &e)) {
        kt_task_logf(r, "ERROR", "Assertion `%s` failed, failed to render `%s`", src, e.message);
        kt_tmpl_free(t);
        free(out);
        return -1;
    }
    kt_tmpl_free(t);
    int yes = kt_truthy(out);
    free(out);
    if (!yes)
        kt_task_logf(r, "ERROR", "Assertion `%s` failed!", src);
    return yes;
}

static void kt_assert_start(kt_task_run *r)
{
    const json_t *conds = json_object_get(kt_task_props(r), "conditions");
    if (!json_is_array(conds)) {
        kt_task_logf(r, "ERROR", "conditions: must not be null");
        kt_task_finish(r, KT_S(FAILED), NULL);
        return;
    }
    kt_env env;
    kt_env_init_real(&env);
    env.dialect = kt_dialect_of_flow(json_object_get(kt_task_context(r), "flow")); /* kv() strict in 2.x... */
    env.secrets_used = kt_task_secrets(r);
    kt_env_files files;
    if (kt_task_storage(r)) {
        kt_storage_env_files(kt_task_storage(r), &files);
        env.files = &files;
    }
    json_t *ctx = kt_assert_context(r);
    int failed = 0, success = 0;
    size_t i;
    json_t *c;
    json_array_foreach(conds, i, c) {
        char *dumped = json_is_string(c) ? NULL : json_dumps(c, JSON_ENCODE_ANY);
        if (kt_assert_one(r, ctx, &env, dumped ? dumped : json_string_value(c)) == 1)
            success++;
        else
            failed++;
        free(dumped);
    }
    json_decref(ctx);
    kt_task_counter(r, "success", success, NULL);
    kt_task_counter(r, "failed", failed, NULL);
    if (!failed) {
        kt_task_finish(r, KT_S(SUCCESS), json_object());
        return;
    }
    const char *msg = kt_task_prop_string(r, "errorMessage");
    kt_task_logf(r, "ERROR", "%d assertion%s failed!%s%s", failed, failed > 1 ? "s" : "", msg ? "\n" : "",
                 msg ? msg : "");
    kt_task_finish(r, KT_S(FAILED), NULL);
}

const kt_task_impl kt_task_assert_impl = {.type = "io.kestra.plugin.core.execution.Assert", .start = kt_assert_start};
