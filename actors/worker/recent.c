/* The results a worker sent lately (recent.h): a ring of encoded WorkerResult bodies, looked up by attempt. A lookup
 * walks the ring: it happens only when an executor takes partitions over, and the ring is small. */
#include "actors/worker/recent.h"
#include "base/alloc.h"
#include "base/id.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct kt_recent_entry {
    char execution_id[KT_ID_LEN + 1];
    char taskrun_id[KT_ID_LEN + 1];
    uint32_t attempt;
    char *body; /* NULL: a free slot */
    size_t len;
} kt_recent_entry;

struct kt_recent {
    kt_recent_entry slots[KT_RECENT_MAX];
    size_t next;  /* the slot the next put takes (the oldest once the ring is full) */
    size_t bytes; /* held by the bodies */
};

kt_recent *kt_recent_new(void) { return kt_xcalloc(1, sizeof(kt_recent)); }

void kt_recent_free(kt_recent *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < KT_RECENT_MAX; i++)
        free(r->slots[i].body);
    free(r);
}

static void kt_recent_forget(kt_recent *r, kt_recent_entry *e)
{
    r->bytes -= e->len;
    free(e->body);
    memset(e, 0, sizeof *e);
}

void kt_recent_put(kt_recent *r, const kt_msg_worker_result *result)
{
    if (!r || result->taskrun || !result->execution_id || !result->taskrun_id ||
        strlen(result->execution_id) > KT_ID_LEN || strlen(result->taskrun_id) > KT_ID_LEN)
        return;
    kt_outmsg o; /* the body alone: no envelope head (kt_outmsg_begin is not called) */
    msgpack_sbuffer_init(&o.sb);
    msgpack_packer_init(&o.pk, &o.sb, msgpack_sbuffer_write);
    kt_msg_encode_worker_result(&o, result);
    if (o.sb.size > KT_RECENT_MAX_BYTES / 8) { /* one large output must not push out hundreds of small ones */
        msgpack_sbuffer_destroy(&o.sb);
        return;
    }
    kt_recent_entry *e = &r->slots[r->next];
    r->next = (r->next + 1) % KT_RECENT_MAX;
    if (e->body)
        kt_recent_forget(r, e);
    /* then the oldest, until the bytes fit */
    for (size_t k = r->next; r->bytes + o.sb.size > KT_RECENT_MAX_BYTES; k = (k + 1) % KT_RECENT_MAX)
        if (r->slots[k].body)
            kt_recent_forget(r, &r->slots[k]);
    snprintf(e->execution_id, sizeof e->execution_id, "%s", result->execution_id);
    snprintf(e->taskrun_id, sizeof e->taskrun_id, "%s", result->taskrun_id);
    e->attempt = result->attempt;
    e->len = o.sb.size;
    e->body = msgpack_sbuffer_release(&o.sb);
    r->bytes += e->len;
}

const char *kt_recent_get(const kt_recent *r, const char *execution_id, const char *taskrun_id, uint32_t attempt,
                          size_t *len)
{
    for (size_t i = 0; r && i < KT_RECENT_MAX; i++) {
        const kt_recent_entry *e = &r->slots[i];
        if (e->body && e->attempt == attempt && !strcmp(e->taskrun_id, taskrun_id) &&
            !strcmp(e->execution_id, execution_id)) {
            *len = e->len;
            return e->body;
        }
    }
    return NULL;
}
