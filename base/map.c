#include "base/map.h"
#include "base/alloc.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef struct kt_map_slot {
    char *key; /* NULL = empty; kt_map_tombstone = deleted */
    void *value;
    uint64_t hash;
} kt_map_slot;

struct kt_map {
    kt_map_slot *slots;
    size_t cap, size, used; /* used counts tombstones too */
};

static char kt_map_tombstone_mark;
#define KT_MAP_TOMBSTONE (&kt_map_tombstone_mark)

static uint64_t kt_map_hash(const char *s)
{
    uint64_t h = 1469598103934665603ULL; /* FNV-1a */
    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 1099511628211ULL;
    }
    return h;
}

kt_map *kt_map_new(void) { return kt_xcalloc(1, sizeof(kt_map)); }

void kt_map_free(kt_map *m)
{
    if (!m)
        return;
    for (size_t i = 0; i < m->cap; i++)
        if (m->slots[i].key && m->slots[i].key != KT_MAP_TOMBSTONE)
            free(m->slots[i].key);
    free(m->slots);
    free(m);
}

static kt_map_slot *kt_map_find(const kt_map *m, const char *key, uint64_t h)
{
    if (!m->cap)
        return NULL;
    for (size_t i = h & (m->cap - 1);; i = (i + 1) & (m->cap - 1)) {
        kt_map_slot *s = &m->slots[i];
        if (!s->key)
            return NULL;
        if (s->key != KT_MAP_TOMBSTONE && s->hash == h && !strcmp(s->key, key))
            return s;
    }
}

static void kt_map_grow(kt_map *m)
{
    size_t cap = m->cap ? m->cap * 2 : 16;
    if (m->size * 4 < m->cap) /* mostly tombstones: rehash at the same size */
        cap = m->cap;
    kt_map_slot *n = kt_xcalloc(cap, sizeof *n);
    for (size_t i = 0; i < m->cap; i++) {
        kt_map_slot *s = &m->slots[i];
        if (!s->key || s->key == KT_MAP_TOMBSTONE)
            continue;
        size_t j = s->hash & (cap - 1);
        while (n[j].key)
            j = (j + 1) & (cap - 1);
        n[j] = *s;
    }
    free(m->slots);
    m->slots = n;
    m->cap = cap;
    m->used = m->size;
}

void *kt_map_get(const kt_map *m, const char *key)
{
    kt_map_slot *s = kt_map_find(m, key, kt_map_hash(key));
    return s ? s->value : NULL;
}

kt_status kt_map_put(kt_map *m, const char *key, void *value, void **old)
{
    uint64_t h = kt_map_hash(key);
    kt_map_slot *s = kt_map_find(m, key, h);
    if (s) {
        if (old)
            *old = s->value;
        s->value = value;
        return KT_OK;
    }
    if (old)
        *old = NULL;
    if ((m->used + 1) * 4 >= m->cap * 3)
        kt_map_grow(m);
    char *k = kt_xstrdup(key);
    size_t i = h & (m->cap - 1);
    while (m->slots[i].key && m->slots[i].key != KT_MAP_TOMBSTONE)
        i = (i + 1) & (m->cap - 1);
    if (!m->slots[i].key)
        m->used++;
    m->slots[i] = (kt_map_slot){k, value, h};
    m->size++;
    return KT_OK;
}

void *kt_map_del(kt_map *m, const char *key)
{
    kt_map_slot *s = kt_map_find(m, key, kt_map_hash(key));
    if (!s)
        return NULL;
    void *v = s->value;
    free(s->key);
    s->key = KT_MAP_TOMBSTONE;
    s->value = NULL;
    m->size--;
    return v;
}

size_t kt_map_size(const kt_map *m) { return m->size; }

int kt_map_next(const kt_map *m, size_t *pos, const char **key, void **value)
{
    for (; *pos < m->cap; (*pos)++) {
        kt_map_slot *s = &m->slots[*pos];
        if (s->key && s->key != KT_MAP_TOMBSTONE) {
            *key = s->key;
            *value = s->value;
            (*pos)++;
            return 1;
        }
    }
    return 0;
}
