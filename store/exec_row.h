/* An execution as every store backend keeps it (store/sqlite.c, store/pg_exec.c), without a database: one header row
 * (the document without taskRunList, as msgpack, beside the columns searched and sorted on) and one row per task run
 * (its msgpack, keyed by its position in taskRunList). A transition rewrites the header and only the runs it changed,
 * so a commit does not grow with the number of tasks already done.
 *
 * Writing: kt_exec_row_split reads the columns and packs the header; the backend upserts the header, deletes the runs
 * at positions >= nruns when trim is set, then writes kt_exec_row_run(r, 0..nruns-1). Reading: the backend decodes
 * the header with kt_exec_row_decode, then hands each task run row, in position order, to kt_exec_row_add_run. */
#ifndef KT_STORE_EXEC_ROW_H
#define KT_STORE_EXEC_ROW_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "base/status.h"

typedef struct kt_exec_row {
    const char *id, *namespace_, *flow_id, *state; /* borrowed from the execution */
    int terminal;       /* the state is terminal: executions_unfinished leaves the row out */
    int64_t updated_us; /* when the row is written (kt_now_us) */
    int64_t start_us;   /* the first state history's date (state.startDate), 0 without one */
    int64_t end_us;     /* the last history's date; only when terminal (the column is NULL otherwise) */
    char *labels;       /* labels as compact JSON text, "[]" without */
    char *header;       /* msgpack of the execution without taskRunList */
    size_t header_len;
    const json_t *list; /* taskRunList (borrowed, may be NULL) */
    const size_t *runs; /* the positions to write, NULL: all of them */
    size_t nruns;       /* how many runs to write: kt_exec_row_run(r, 0 .. nruns-1) */
    int trim;           /* all the runs are written: rows at positions >= nruns are stale (restart and replay
                           shrink the list) and must go */
} kt_exec_row;

/* Reads the indexed columns and packs the header of `execution` (kt_store_execution_put's arguments). KT_EINVAL when
 * id, namespace, flowId or state.current is not a string, or a position in runs is outside taskRunList: checked
 * before anything is written. */
kt_status kt_exec_row_split(const json_t *execution, const size_t *runs, size_t nruns, kt_exec_row *out);
/* The i-th run to write (i < r->nruns): its position in taskRunList and its msgpack (*blob malloc'ed). */
kt_status kt_exec_row_run(const kt_exec_row *r, size_t i, size_t *pos, char **blob, size_t *len);
void kt_exec_row_clear(kt_exec_row *r);

/* A stored header back into a new document (without taskRunList). */
kt_status kt_exec_row_decode(const void *header, size_t len, json_t **out);
/* Appends one stored task run to the document's taskRunList, created at the first (an execution without runs comes
 * back without the key, as Kestra's null list). KT_EDB when the run does not decode. */
kt_status kt_exec_row_add_run(json_t *execution, const void *run, size_t len);

#endif
