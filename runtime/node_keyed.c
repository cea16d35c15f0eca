/* Keyed routing over the node's live members (runtime/node.h): the owner of a partition by rendezvous hashing. */
#include "base/partition.h"
#include "runtime/node.h"

#include <stdio.h>
#include <string.h>

const char *kt_node_partition_owner(kt_node *n, const char *name, int p)
{
    /* every member of the cluster fits: this node and at most KT_LINK_MAX_PEERS peers */
    const char *ids[KT_LINK_MAX_PEERS + 1];
    size_t count = kt_node_hosts(n, name, ids, sizeof ids / sizeof *ids);
    if (count > sizeof ids / sizeof *ids)
        count = sizeof ids / sizeof *ids;
    const char *best = NULL;
    uint64_t best_w = 0;
    for (size_t i = 0; i < count; i++) {
        uint64_t w = kt_partition_weight(ids[i], p);
        /* a tie (two ids of equal weight: practically never) goes to the smaller id, the same on every node */
        if (!best || w > best_w || (w == best_w && strcmp(ids[i], best) < 0))
            best = ids[i], best_w = w;
    }
    return best;
}

kt_status kt_node_keyed_address(kt_node *n, const char *name, const char *key, char *out, size_t cap)
{
    const char *owner = kt_node_partition_owner(n, name, kt_exec_partition(key ? key : ""));
    if (!owner)
        return KT_ENOTFOUND;
    int len = snprintf(out, cap, "%s@%s", name, owner);
    return len < 0 || (size_t)len >= cap ? KT_EINVAL : KT_OK;
}

kt_status kt_node_send_keyed(kt_node *n, const char *name, const char *key, kt_outmsg *o)
{
    char to[KT_ADDR_MAX];
    kt_status st = kt_node_keyed_address(n, name, key, to, sizeof to);
    if (st) {
        kt_outmsg_destroy(o);
        return st;
    }
    return kt_node_send(n, to, o);
}
