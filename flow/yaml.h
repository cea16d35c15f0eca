/* YAML -> jansson loader with source positions, and the diagnostics list every flow/ parser reports into.
 *
 * libyaml gives us the node tree but no typing, no merge keys and no duplicate-key detection; this module
 * adds all three the way Kestra's Jackson YAML mapper sees a file, so a flow means the same thing here. */
#ifndef KT_FLOW_YAML_H
#define KT_FLOW_YAML_H

#include <stddef.h>
#include <jansson.h>

#include "base/limits.h" /* KT_YAML_MAX_DEPTH, KT_YAML_MAX_NODES */
#include "base/status.h"

typedef struct kt_diag {
    char *file;
    int line, col; /* 1-based, 0 = unknown */
    char *path;    /* "tasks[2].retry.maxAttempt" or "" */
    char *message;
} kt_diag;

typedef struct kt_diags {
    kt_diag *items;
    size_t count, cap;
} kt_diags;

void kt_diags_init(kt_diags *d);
void kt_diags_clear(kt_diags *d); /* frees items; the list stays usable */
void kt_diags_add(kt_diags *d, const char *file, int line, int col, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));
/* "file:line:col path: message" lines joined by '\n' (malloc'ed). Unknown parts are left out:
 * no line -> "file: ", empty path -> "file:line:col: message". */
char *kt_diags_format(const kt_diags *d);


typedef struct kt_yaml_doc kt_yaml_doc; /* one YAML document as json_t + source positions */

/* Parses every document of src ('---' separated). On syntax error returns KT_EINVAL with diags filled.
 * Applies merge keys <<, resolves anchors/aliases with an expansion cap, rejects duplicate keys, types
 * plain scalars as Kestra/Jackson YAML does (ints, floats, true/false, null/~; quoted scalars stay
 * strings). An empty stream gives *ndocs == 0. Free each doc with kt_yaml_doc_free and the array with free. */
kt_status kt_yaml_load(const char *src, size_t len, const char *file, kt_yaml_doc ***docs_out, size_t *ndocs,
                       kt_diags *diags);
/* Convenience: frees an array returned by kt_yaml_load and its documents. */
void kt_yaml_docs_free(kt_yaml_doc **docs, size_t ndocs);

json_t *kt_yaml_doc_root(const kt_yaml_doc *d); /* borrowed */
/* Position of the node at path ("" = root, "tasks[0].id"): the value's first character. 0 if found. */
int kt_yaml_doc_pos(const kt_yaml_doc *d, const char *path, int *line, int *col);
/* Position of the key that introduced the node at path (the map entry's key); falls back to the value's
 * position for sequence items and the root. 0 if found. */
int kt_yaml_doc_key_pos(const kt_yaml_doc *d, const char *path, int *line, int *col);
/* Best position to report an error about path: the node itself (its key when at_key), else its closest
 * ancestor present in the document (a missing property lands on the map that lacks it). d may be NULL
 * (then 0:0). Always succeeds. */
void kt_yaml_doc_locate(const kt_yaml_doc *d, const char *path, int at_key, int *line, int *col);
void kt_yaml_doc_free(kt_yaml_doc *d);

/* Parses one scalar's text the way a plain YAML scalar is typed (used for form values and tests).
 * Returns a new reference. */
json_t *kt_yaml_plain_scalar(const char *s, size_t len);

#endif
