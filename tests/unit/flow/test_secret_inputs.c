/* SECRET inputs sealed with the configured key and opened for a task's context (flow/secret_inputs.h), and the
 * render of a task: secret() values and SECRET inputs recorded for masking, envs from the environment. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "base/env.h"
#include "base/secrets.h"
#include "flow/render.h"
#include "flow/secret_inputs.h"

#define KEY "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="

static json_t *defs(void)
{
    return json_pack("[{s:s, s:s}, {s:s, s:s}]", "id", "pw", "type", "SECRET", "id", "name", "type", "STRING");
}

static void test_seal_then_open(void **state)
{
    (void)state;
    char *envp[] = {NULL};
    kt_secrets *s = kt_secrets_new(envp, NULL, KEY, NULL);
    kt_env env;
    kt_env_init(&env, 0, 3);
    env.secrets = s;
    json_t *d = defs(), *typed = json_pack("{s:s, s:s}", "pw", "hunter2", "name", "bob");
    char err[256] = "";
    assert_int_equal(kt_secret_inputs_seal(d, typed, &env, err, sizeof err), KT_OK);
    const char *sealed = json_string_value(json_object_get(typed, "pw"));
    assert_string_not_equal(sealed, "hunter2");
    assert_int_equal(strlen(sealed), 4 * ((12 + 7 + 16 + 2) / 3));
    assert_string_equal(json_string_value(json_object_get(typed, "name")), "bob"); /* not a SECRET: as given */
    json_t *used = json_array();
    json_t *open = kt_secret_inputs_open(d, typed, s, used);
    assert_ptr_not_equal(open, typed); /* a copy: the stored execution keeps the sealed value */
    assert_string_equal(json_string_value(json_object_get(open, "pw")), "hunter2");
    assert_string_equal(json_string_value(json_object_get(typed, "pw")), sealed);
    assert_int_equal(json_array_size(used), 1);
    assert_string_equal(json_string_value(json_array_get(used, 0)), "hunter2");
    json_decref(open);
    json_decref(used);
    /* another key cannot open it: the stored text is kept (and masked) */
    char *envp2[] = {NULL};
    kt_secrets *other = kt_secrets_new(envp2, NULL, "I6EGNzRESu3X3pKZidrqCGOHQFUFC0yK", NULL);
    open = kt_secret_inputs_open(d, typed, other, NULL);
    assert_string_equal(json_string_value(json_object_get(open, "pw")), sealed);
    json_decref(open);
    kt_secrets_free(other);
    json_decref(typed);
    /* without a key: refused, as Kestra refuses it (it would be stored and shown in clear); no value is fine */
    kt_secrets *nokey = kt_secrets_new(envp, NULL, NULL, NULL);
    env.secrets = nokey;
    typed = json_pack("{s:s}", "pw", "hunter2");
    assert_int_equal(kt_secret_inputs_seal(d, typed, &env, err, sizeof err), KT_EINVAL);
    assert_string_equal(err, KT_SECRET_NO_KEY);
    json_decref(typed);
    typed = json_pack("{s:s}", "name", "bob");
    assert_int_equal(kt_secret_inputs_seal(d, typed, &env, err, sizeof err), KT_OK);
    json_decref(typed);
    kt_secrets_free(nokey);
    kt_secrets_free(s);
    json_decref(d);
}

static void test_task_render_records_secrets(void **state)
{
    (void)state;
    char *envp[] = {"SECRET_TOKEN=dG9rLTE=", "ENV_REGION=eu", NULL}; /* tok-1 */
    kt_secrets *s = kt_secrets_new(envp, NULL, NULL, NULL);
    kt_env env;
    kt_env_init(&env, 0, 1);
    env.secrets = s;
    json_t *used = json_array();
    env.secrets_used = used;
    json_t *flow = json_pack("{s:s, s:s, s:[{s:s, s:s}]}", "id", "f", "namespace", "n", "inputs", "id", "pw", "type",
                             "SECRET");
    json_t *ex = json_pack("{s:s, s:s, s:s, s:{s:s}}", "id", "e1", "namespace", "n", "flowId", "f", "inputs", "pw",
                           "in-put");
    json_t *task = json_pack("{s:s, s:s, s:s}", "id", "t", "type", "io.kestra.plugin.core.log.Log", "message",
                             "{{ secret('token') }} {{ inputs.pw }} {{ envs.region }}");
    kt_render_secret_inputs(flow, ex, used);
    char err[256] = "";
    json_t *out = kt_render_task(flow, NULL, &env, ex, task, NULL, err, sizeof err);
    assert_non_null(out);
    assert_string_equal(json_string_value(json_object_get(out, "message")), "tok-1 in-put eu");
    assert_int_equal(json_array_size(used), 2);
    char *masked = kt_mask_text("tok-1 in-put eu", 15, used, NULL);
    assert_string_equal(masked, "****** ****** eu");
    free(masked);
    json_decref(out);
    json_decref(task);
    json_decref(ex);
    json_decref(flow);
    json_decref(used);
    kt_secrets_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_seal_then_open),
        cmocka_unit_test(test_task_render_records_secrets),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
