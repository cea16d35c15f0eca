/* kt_env_files over a kt_storage: the synchronous, bounded reads of store/storage.h. */
#include "store/storage_env.h"

static int env_read(void *ud, const char *uri, char **out, size_t *len, char *err, size_t errcap)
{
    return kt_storage_read_small(ud, uri, KT_STORAGE_ENV_READ_MAX, out, len, NULL, err, errcap);
}

static int env_size(void *ud, const char *uri, int64_t *size, char *err, size_t errcap)
{
    return kt_storage_read_small(ud, uri, 0, NULL, NULL, size, err, errcap);
}

static int env_read_meta(void *ud, const char *uri, char **out, size_t *len, json_t **meta, int64_t *modified_ms,
                         char *err, size_t errcap)
{
    return kt_storage_read_small_meta(ud, uri, KT_STORAGE_ENV_READ_MAX, out, len, meta, modified_ms, err, errcap);
}

/* Nothing waits for the deletion: a failure (or a value written again meanwhile) only leaves an entry that the next
 * read finds expired, or the new value, in place. */
static void env_dropped(kt_status st, const char *err, void *data)
{
    (void)st, (void)err, (void)data;
}

static void env_drop(void *ud, const char *uri, const json_t *meta, int64_t modified_ms)
{
    char err[256];
    kt_storage_delete_if(ud, uri, meta, modified_ms, env_dropped, NULL, err, sizeof err);
}

void kt_storage_env_files(kt_storage *s, kt_env_files *f)
{
    f->read = env_read;
    f->size = env_size;
    f->read_meta = env_read_meta;
    f->drop = env_drop;
    f->ud = s;
}
