/* The bridge from a storage to the expression functions that read files (read(), fileSize(), isFileEmpty()): a
 * kt_env_files (base/env.h) whose hooks call kt_storage_read_small. Prefix kt_storage_env. */
#ifndef KT_STORE_STORAGE_ENV_H
#define KT_STORE_STORAGE_ENV_H

#include "base/env.h"
#include "store/storage.h"

/* Largest file read() returns whole: Pebble holds it as one string, so a bigger file is refused with its size
 * (stream it with a task instead). */
#define KT_STORAGE_ENV_READ_MAX (64u * 1024 * 1024)

/* Fills f so its hooks read through s (which must outlive every render using f). */
void kt_storage_env_files(kt_storage *s, kt_env_files *f);

#endif
