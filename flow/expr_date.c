#include <time.h>
#include "flow/expr_int.h"
int kx_date_now_us(int64_t *us)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    *us = (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
    return 0;
}
json_t *kx_fn_now(kx_env *env, const kx_node *n, json_t *in, json_t **a, int na);
json_t *kx_fn_now(kx_env *env, const kx_node *n, json_t *in, json_t **a, int na) { return json_null(); }
const kx_builtin kx_filters_date[] = {{NULL, NULL, {NULL}, 0}};
