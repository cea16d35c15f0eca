/* Kestra 2.0's Loop task (io.kestra.plugin.core.flow.Loop), the parts that need no executor: what its `values` give
 * as iterations, and what an iteration's `item` is. Pure: no I/O (the executor reads an internal-storage file and
 * hands its bytes here). Prefix kt_loop.
 *
 * An iteration's item is {value, index, key?}: value a string (elements that are not strings are coalesced to their
 * compact JSON, as Loop.java's values doc says: "individual objects will be coalesced to strings"), index 0-based,
 * key only when the values were a map. */
#ifndef KT_LOOP_H
#define KT_LOOP_H

#include <jansson.h>
#include <stddef.h>

/* Loop.concurrencyLimit's default: 0, no limit. The 2.0 plugin page says only "0 = unlimited, 1 = fully serialized,
 * N = up to N"; Loop.java (05f736b) has @Builder.Default concurrencyLimit = 0. */
#define KT_LOOP_DEFAULT_CONCURRENCY 0

/* The run field that marks a task run as the first level of a Loop iteration and carries its item (flow/render.c
 * reads it for `item.*` and for the iteration's isolation). */
#define KT_LOOP_ITEM_FIELD "item"

/* The items of rendered `values`: a list (one per element), a map (one per entry, with its key), or a string holding
 * a JSON array or object. A new array of items, or NULL with err (a null element, a scalar, a string that is not a
 * JSON list or map). */
json_t *kt_loop_items(const json_t *values, char *err, size_t errcap);

/* 1 when the rendered values string is an internal-storage URI (kestra://...): one iteration per line of the file. */
int kt_loop_values_is_uri(const char *s);

/* The items of a file's bytes, one per non-empty line: a line that starts like an Ion/JSON value ({, [, ") is read
 * as one and coalesced, any other line is taken as it is. NULL with err when a line that looks like a value does not
 * parse. */
json_t *kt_loop_items_of_lines(const char *data, size_t len, char *err, size_t errcap);

/* The element of a Loop's `outputs` output for one iteration (Loop.LoopOutput): {item: {value, iteration, key?},
 * outputs}; outputs is stolen. */
json_t *kt_loop_output_entry(const json_t *item, json_t *outputs);

/* The fetch mode a Loop resolves to: "STORE" or "FETCH" (AUTO: STORE when the values rendered to a storage URI). */
const char *kt_loop_fetch_type(const json_t *task, int values_from_uri);

#endif
