/* A string-keyed hash map (open addressing, linear probing, tombstones). Keys are copied; values are the
 * caller's. Used for the executor's executions, jobs and flow cache. */
#ifndef KT_BASE_MAP_H
#define KT_BASE_MAP_H

#include <stddef.h>

#include "base/status.h"

typedef struct kt_map kt_map;

kt_map *kt_map_new(void);
void kt_map_free(kt_map *m);
void *kt_map_get(const kt_map *m, const char *key);
/* Inserts or replaces; *old (optional) receives the replaced value. Always KT_OK: out of memory aborts
 * (base/alloc.h), so a caller never loses an entry. kt_map_new never returns NULL either. */
kt_status kt_map_put(kt_map *m, const char *key, void *value, void **old);
/* Removes and returns the value, or NULL. */
void *kt_map_del(kt_map *m, const char *key);
size_t kt_map_size(const kt_map *m);
/* Iteration: start with *pos = 0; returns 0 at the end. Deleting the current entry while iterating is allowed. */
int kt_map_next(const kt_map *m, size_t *pos, const char **key, void **value);

#endif
