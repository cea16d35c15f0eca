/* libFuzzer target: the expression engine. The input is a template; it is compiled, then rendered against a
 * context shaped like a real task's (inputs, outputs, flow, execution), plainly and typed. */
#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "base/env.h"
#include "expr/expr.h"

static json_t *kt_fuzz_ctx;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!kt_fuzz_ctx)
        kt_fuzz_ctx = json_loads("{\"inputs\":{\"name\":\"Kite\",\"n\":3,\"list\":[1,2,3],\"map\":{\"a\":{\"b\":[true,null]}}},"
                                 "\"outputs\":{\"t1\":{\"value\":\"x\",\"vars\":{\"k\":1.5}}},"
                                 "\"flow\":{\"id\":\"f\",\"namespace\":\"n.s\"},\"execution\":{\"id\":\"e\","
                                 "\"startDate\":\"2024-12-20T10:15:30.123Z\"}}",
                                 0, NULL);
    kt_tmpl *t;
    kt_expr_error err;
    if (kt_tmpl_compile((const char *)data, size, &t, &err) != KT_OK)
        return 0;
    /* a fixed clock and seed: a crashing input replays exactly, now() and uuid() included */
    kt_env env;
    kt_env_init(&env, INT64_C(1734689730123456), 7);
    char *out = NULL;
    if (kt_tmpl_render(t, kt_fuzz_ctx, &env, &out, NULL, &err) == KT_OK)
        free(out);
    json_t *typed = NULL;
    if (kt_tmpl_render_typed(t, kt_fuzz_ctx, &env, &typed, &err) == KT_OK)
        json_decref(typed);
    kt_tmpl_free(t);
    return 0;
}
