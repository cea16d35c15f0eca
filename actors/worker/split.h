/* The split engine shared by storage.Split and ForEachItem's split task (Kestra's StorageService.split and
 * StorageSplitInterface): a file cut into pieces by size, by a number of partitions or by rows, line by line as
 * Java's BufferedReader.readLine cuts lines (\n, \r or \r\n; a last line without terminator still counts), each
 * line written to its piece followed by `separator`. Streamed: the file and the pieces never sit in memory (one
 * read block and stdio buffers, whatever the line lengths). Private to the worker. Prefix kt_split.
 *
 * The rules, as Kestra's:
 *   bytes       a new piece starts before a line when the current one already holds `bytes` bytes or more (so a
 *               piece may pass the limit by one line); readable sizes: "10MB", "200kb", "1GB", "1024".
 *   partitions  lines dealt round-robin to `partitions` pieces; the empty ones are dropped.
 *   rows        a new piece every `rows` lines.
 * bytes is looked at first, then partitions, then rows. */
#ifndef KT_WORKER_SPLIT_H
#define KT_WORKER_SPLIT_H

#include <jansson.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "actors/worker/task.h"

typedef enum kt_split_mode { KT_SPLIT_BYTES, KT_SPLIT_PARTITIONS, KT_SPLIT_ROWS } kt_split_mode;

typedef struct kt_split_opts {
    kt_split_mode mode;
    int64_t n;       /* the byte limit, the number of partitions or the rows per piece */
    char *separator; /* owned; "\n" by default */
} kt_split_opts;

/* Micronaut's ReadableBytesTypeConverter (what Kestra converts `bytes` with): case-insensitive KB/MB/GB suffixes in
 * powers of 1024 after a Long.parseLong number (an optional sign, digits, nothing else), or a plain number. 0, or -1
 * when s is not one (or overflows). */
int kt_split_parse_bytes(const char *s, int64_t *out);

/* Reads the rendered properties {bytes, partitions, rows, separator} of obj (a task, or ForEachItem's `batch`).
 * default_rows > 0 is used when rows is absent (ForEachItem.Batch's 1); 0 means none (storage.Split). Integers may
 * be JSON numbers or numeric strings (Jackson's conversion). 0, or -1 with Kestra's message in err: `Invalid size
 * with value '<bytes>'`, `Invalid configuration with no size, count, nor rows`. */
int kt_split_opts_read(const json_t *obj, int64_t default_rows, kt_split_opts *o, char *err, size_t errcap);
void kt_split_opts_clear(kt_split_opts *o);

/* Splits the local file in_path into new files in dir, named as Java's createTempFile names them (kt_st_temp_name:
 * a random number, then ext). *names (a new array) lists them in order. cancel (may be NULL) is polled between
 * blocks: a set flag stops with -1 and err "cancelled". Blocking: call it on the thread pool. 0, or -1 with err
 * (the pieces already written are removed then). */
int kt_split_local(const char *in_path, const char *dir, const char *ext, const kt_split_opts *o,
                   const atomic_int *cancel, json_t **names, char *err, size_t errcap);

/* Kestra's extension of `from` for the pieces: "." and what follows the last '.' of the URI's last segment, else
 * ".tmp" (Files.createTempFile's default). */
void kt_split_extension(const char *uri, char *out, size_t cap);

/* ---- on a task run: from the storage, back to the storage ---- */

typedef struct kt_split_op kt_split_op;
/* ok 1 with uris (stolen: the pieces' kestra:// URIs, in order), or 0 once the reason was logged (or the op was
 * cancelled: nothing logged). Called exactly once, on the loop. */
typedef void (*kt_split_done_fn)(kt_task_run *r, void *data, int ok, json_t *uris);

/* Copies `from` (a checked kestra:// URI) into a fresh working folder, splits it on the thread pool, and stores each
 * piece in the task run's folder under its file name (StorageService.split: putFile of each temporary file), one
 * after the other. Takes a copy of o. Returns the op (done runs later) or NULL once the reason was logged (done
 * never runs). */
kt_split_op *kt_split_start(kt_task_run *r, const char *from, const kt_split_opts *o, kt_split_done_fn done,
                            void *data);
/* Stops at the current step (a storage copy is cancelled, the pool's split stops at its next block); done runs once,
 * later, with ok 0. Calling it again does nothing; calling it after done ran is a bug. */
void kt_split_cancel(kt_split_op *op);

#endif
