#include "base/partition.h"

#include "base/id.h"

#include <string.h>

uint32_t kt_fnv1a(const void *data, size_t n)
{
    const unsigned char *b = data;
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++) {
        h ^= b[i];
        h *= 16777619u;
    }
    return h;
}

int kt_exec_partition(const char *id)
{
    return (int)(kt_fnv1a(id, strlen(id)) % KT_PARTITIONS);
}

int kt_flow_partition(const char *ns, const char *flow_id)
{
    /* fnv1a over the bytes of ns "/" flow_id, without building the string (ids have no length limit here) */
    uint32_t h = 2166136261u;
    const char *parts[3] = {ns ? ns : "", "/", flow_id ? flow_id : ""};
    for (int k = 0; k < 3; k++)
        for (const unsigned char *c = (const unsigned char *)parts[k]; *c; c++) {
            h ^= *c;
            h *= 16777619u;
        }
    return (int)(h % KT_PARTITIONS);
}

/* Each draw lands in the wanted partition with probability 1/KT_PARTITIONS, so missing it this many times in a row
 * has a probability of about e^-64: the bound only stops a broken random source from spinning forever. */
#define KT_PARTITION_MAX_DRAWS (64 * KT_PARTITIONS)

void kt_exec_id_for(const char *ns, const char *flow_id, int limited, char *out)
{
    kt_id_new(out);
    if (!limited)
        return;
    int want = kt_flow_partition(ns, flow_id);
    for (int i = 1; i < KT_PARTITION_MAX_DRAWS && kt_exec_partition(out) != want; i++)
        kt_id_new(out);
}

void kt_exec_id_env_in(kt_env *env, int p, char *out)
{
    kt_env_id(env, out);
    if (p < 0 || env->ids)
        return;
    for (int i = 1; i < KT_PARTITION_MAX_DRAWS && kt_exec_partition(out) != p; i++)
        kt_env_id(env, out);
}

void kt_exec_id_env(kt_env *env, const char *ns, const char *flow_id, int limited, char *out)
{
    kt_exec_id_env_in(env, limited ? kt_flow_partition(ns, flow_id) : -1, out);
}

/* splitmix64's finalizer: every input bit reaches every output bit. */
static uint64_t kt_partition_mix(uint64_t x)
{
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ull;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebull;
    x ^= x >> 31;
    return x;
}

uint64_t kt_partition_weight(const char *node_id, int p)
{
    /* 64-bit FNV-1a of the node id, then the partition mixed in: the same on every node, whatever its byte order */
    uint64_t h = 14695981039346656037ull;
    for (const unsigned char *c = (const unsigned char *)(node_id ? node_id : ""); *c; c++) {
        h ^= *c;
        h *= 1099511628211ull;
    }
    return kt_partition_mix(h ^ kt_partition_mix((uint64_t)(uint32_t)p + 0x9e3779b97f4a7c15ull));
}
