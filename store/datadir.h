/* The data directory belongs to one process at a time. Two servers on the same --data would both resume the same
 * unfinished executions and run their tasks twice, so the second one must refuse to start. The lock is an
 * flock(2) on DIR/kite.lock: the kernel drops it when the holder exits, however it exits, so a SIGKILLed server
 * never blocks its own restart (a pid file alone would). Prefix kt_datadir. */
#ifndef KT_STORE_DATADIR_H
#define KT_STORE_DATADIR_H

#include <stddef.h>

#include "base/status.h"

typedef struct kt_datadir_lock kt_datadir_lock;

/* Creates dir if needed and takes its lock, writing our pid into the lock file. KT_ECONFLICT when another process
 * holds it (err names the holder's pid), KT_EIO on any other failure. */
kt_status kt_datadir_lock_take(const char *dir, kt_datadir_lock **out, char *err, size_t errcap);
/* Releases the lock (NULL is fine). */
void kt_datadir_lock_release(kt_datadir_lock *lock);

#endif
