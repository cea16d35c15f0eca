/* The task cache's key and lookup (see task_cache.h). */
#include "actors/executor/task_cache.h"
#include "store/task_cache.h"
#include "time/duration.h"

#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int kt_task_cache_enabled(const json_t *rendered, int64_t *ttl_us)
{
    const json_t *c = json_object_get(rendered, "taskCache"), *e = json_object_get(c, "enabled");
    *ttl_us = -1;
    if (!json_is_object(c) || !(json_is_true(e) || (json_is_string(e) && !strcmp(json_string_value(e), "true"))))
        return 0;
    const json_t *ttl = json_object_get(c, "ttl");
    int64_t us;
    if (ttl && !json_is_null(ttl) && !kt_duration_from_json(ttl, &us) && us > 0)
        *ttl_us = us;
    return 1;
}

void kt_task_cache_key(const json_t *rendered, const char *value, char out[65])
{
    char *json = json_dumps(rendered, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
    size_t n = json ? strlen(json) : 0, v = value ? strlen(value) + 1 : 0;
    unsigned char *buf = malloc(n + v + 1), md[SHA256_DIGEST_LENGTH];
    if (buf) {
        memcpy(buf, json ? json : "", n);
        if (value) { /* after a NUL: no task's JSON ends there */
            buf[n] = 0;
            memcpy(buf + n + 1, value, v - 1);
        }
        SHA256(buf, n + v, md);
    } else {
        memset(md, 0, sizeof md);
    }
    for (size_t i = 0; i < sizeof md; i++)
        snprintf(out + 2 * i, 3, "%02x", md[i]);
    free(buf);
    free(json);
}

kt_status kt_task_cache_lookup(kt_store *s, const char *ns, const char *flow_id, const char *key, int64_t ttl_us,
                               int64_t now_us, json_t **outputs)
{
    int64_t at = 0;
    kt_status st = kt_store_task_cache_get(s, ns, flow_id, key, outputs, &at);
    if (st)
        return st;
    if (ttl_us >= 0 && now_us > at + ttl_us) { /* getCacheFile: expired, deleted, a miss */
        json_decref(*outputs);
        *outputs = NULL;
        kt_store_task_cache_delete(s, ns, flow_id, key);
        return KT_ENOTFOUND;
    }
    return KT_OK;
}

kt_status kt_task_cache_store(kt_store *s, const char *ns, const char *flow_id, const char *key, const json_t *outputs,
                              int64_t now_us)
{
    return kt_store_task_cache_put(s, ns, flow_id, key, outputs, now_us);
}
