/* loopOutputs(outputs, id) (Kestra 2.0, beside the Loop task): one declared output of a Loop across its iterations,
 * as a flat list in iteration order. `outputs` is a Loop run's `outputs` output (FETCH mode): a list of
 * {item: {value, iteration, key}, outputs: {<id>: value}}; an iteration without that output gives null, so the
 * list keeps one entry per iteration and its positions still match item.index. A Loop in STORE mode has no such
 * list (its outputs are in the file at `uri`): the function says so rather than returning an empty list. */
#include <stdio.h>
#include <string.h>

#include "expr/expr_int.h"

static json_t *fn_loop_outputs(kx_env *env, const kx_node *n, json_t *in, json_t **a, int na)
{
    (void)in;
    (void)na;
    if (!a[0] || json_is_null(a[0]))
        return kx_fail(env, n, KX_E_PEBBLE,
                       "The 'loopOutputs' function expects an argument 'outputs' (a Loop task's outputs.outputs)");
    if (!a[1] || !json_is_string(a[1]))
        return kx_fail(env, n, KX_E_PEBBLE, "The 'loopOutputs' function expects an argument 'id' (a string)");
    if (!json_is_array(a[0]))
        return kx_fail(env, n, KX_E_PEBBLE,
                       "The 'loopOutputs' function expects a list of loop iterations (outputs.<loop>.outputs), a "
                       "Loop with fetchType STORE has its outputs in outputs.<loop>.uri instead");
    const char *id = json_string_value(a[1]);
    json_t *out = json_array();
    size_t i;
    json_t *it;
    json_array_foreach(a[0], i, it) {
        if (!json_is_object(it)) {
            json_decref(out);
            return kx_fail(env, n, KX_E_PEBBLE, "The 'loopOutputs' function expects a list of loop iterations, "
                                                 "element %zu is not one", i);
        }
        json_t *v = json_object_get(json_object_get(it, "outputs"), id);
        json_array_append(out, v ? v : json_null());
    }
    return out;
}

const kx_builtin kx_functions_loop[] = {
    {"loopOutputs", fn_loop_outputs, {"outputs", "id"}, 0},
    {NULL, NULL, {NULL}, 0},
};
