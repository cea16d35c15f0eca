/* Storage-to-storage steps the worker's file tasks share, asynchronous on the loop through store/storage.h: walking a
 * folder tree (Kestra's allByPrefix / Files.walk) and copying files into one new file (a copy, or several
 * concatenated: ForEachItem's merged outputs). Private to the worker. Prefix kt_sops. */
#ifndef KT_WORKER_STORAGE_OPS_H
#define KT_WORKER_STORAGE_OPS_H

#include <jansson.h>
#include <stddef.h>

#include "base/status.h"
#include "store/storage.h"

/* entries (stolen; NULL unless KT_OK): the checked paths (store/storage_uri.h: no scheme, no leading '/') of every
 * file under the folder, and of every folder below it (written with a trailing '/') when with_dirs; the folder
 * itself is not listed. Sorted by strcmp. A missing folder is KT_OK with no entries. */
typedef void (*kt_sops_walk_fn)(void *data, kt_status st, const char *err, json_t *entries);
/* Walks the folder `uri` (one kt_storage_list per folder, one at a time). KT_OK (done runs later, once) or an error
 * with err (done never runs). */
kt_status kt_sops_walk(kt_storage *s, const char *uri, int with_dirs, kt_sops_walk_fn done, void *data, char *err,
                       size_t errcap);

typedef struct kt_sops_cat kt_sops_cat;
/* copied: how many sources went into the file. */
typedef void (*kt_sops_cat_fn)(void *data, kt_status st, const char *err, size_t copied);
/* Streams the files `sources` (a non-empty array of kestra:// URIs, borrowed until done) one after the other into
 * the new file `to` (replacing it at commit). skip_missing: a missing source is passed over (KT_ENOTFOUND
 * otherwise), and when none was found the writer is dropped: nothing is written and done gets KT_OK with copied 0.
 * KT_OK (done runs later, once; *out valid until then) or an error with err (done never runs). */
kt_status kt_sops_concat(kt_storage *s, const json_t *sources, const char *to, int skip_missing, kt_sops_cat_fn done,
                         void *data, kt_sops_cat **out, char *err, size_t errcap);
/* Stops the copy at its next step: the writer is aborted (nothing appears under `to`), done runs later with
 * KT_ECLOSED. Calling it again does nothing. */
void kt_sops_concat_cancel(kt_sops_cat *c);

#endif
