/* The backend-free half of storing an execution (exec_row.h): the header's columns and msgpack, the task runs to
 * write, and the document rebuilt from what was stored. */
#include "store/exec_row.h"
#include "base/clock.h"
#include "base/mpjson.h"
#include "flow/state.h"

#include <msgpack.h>
#include <stdlib.h>
#include <string.h>

kt_status kt_exec_row_split(const json_t *ex, const size_t *runs, size_t nruns, kt_exec_row *out)
{
    memset(out, 0, sizeof *out);
    out->id = json_string_value(json_object_get(ex, "id"));
    out->namespace_ = json_string_value(json_object_get(ex, "namespace"));
    out->flow_id = json_string_value(json_object_get(ex, "flowId"));
    out->state = json_string_value(json_object_get(json_object_get(ex, "state"), "current"));
    if (!out->id || !out->namespace_ || !out->flow_id || !out->state)
        return KT_EINVAL;
    out->list = json_object_get(ex, "taskRunList");
    for (size_t i = 0; runs && i < nruns; i++)
        if (runs[i] >= json_array_size(out->list))
            return KT_EINVAL;
    out->runs = runs;
    out->nruns = runs ? nruns : json_array_size(out->list);
    out->trim = !runs;
    out->terminal = kt_state_is(out->state, KT_SF_TERMINATED);
    out->updated_us = kt_now_us();
    const json_t *hist = json_object_get(json_object_get(ex, "state"), "histories");
    size_t nh = json_array_size(hist);
    if (nh) {
        kt_time_parse(json_string_value(json_object_get(json_array_get(hist, 0), "date")), &out->start_us);
        if (out->terminal)
            kt_time_parse(json_string_value(json_object_get(json_array_get(hist, nh - 1), "date")), &out->end_us);
    }

    msgpack_sbuffer sb;
    msgpack_packer pk;
    msgpack_sbuffer_init(&sb);
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    kt_mp_pack_json_except(&pk, ex, "taskRunList");
    out->labels = json_dumps(json_object_get(ex, "labels"), JSON_COMPACT); /* NULL for a missing key or a scalar */
    if (!out->labels)
        out->labels = strdup("[]");
    if (!sb.data || !out->labels) {
        msgpack_sbuffer_destroy(&sb);
        kt_exec_row_clear(out);
        return KT_ENOMEM;
    }
    out->header = sb.data; /* the sbuffer's malloc'ed buffer, now ours */
    out->header_len = sb.size;
    return KT_OK;
}

kt_status kt_exec_row_run(const kt_exec_row *r, size_t i, size_t *pos, char **blob, size_t *len)
{
    if (i >= r->nruns)
        return KT_EINVAL;
    *pos = r->runs ? r->runs[i] : i;
    const json_t *tr = json_array_get(r->list, *pos);
    if (!tr)
        return KT_EINVAL;
    return kt_mp_encode_json(tr, blob, len);
}

void kt_exec_row_clear(kt_exec_row *r)
{
    free(r->labels);
    free(r->header);
    r->labels = r->header = NULL;
}

kt_status kt_exec_row_decode(const void *header, size_t len, json_t **out)
{
    return kt_mp_decode_json(header, len, out);
}

kt_status kt_exec_row_add_run(json_t *ex, const void *run, size_t len)
{
    json_t *tr;
    if (kt_mp_decode_json(run, len, &tr))
        return KT_EDB; /* a stored row that no longer reads is the store's problem, not the caller's */
    json_t *list = json_object_get(ex, "taskRunList");
    if (!list) {
        list = json_array();
        if (json_object_set_new(ex, "taskRunList", list)) {
            json_decref(tr);
            return KT_EDB;
        }
    }
    return json_array_append_new(list, tr) ? KT_ENOMEM : KT_OK;
}
