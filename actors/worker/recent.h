/* The results a worker sent lately, kept to be sent again (actors/executor/attempts.c): an executor that takes a
 * partition over asks the workers about the attempts its previous owner dispatched, and a result that went to that
 * owner just before it died is lost with it. The attempt then ended on the worker and runs nowhere; without its
 * result sent again, the new owner would run it a second time. Bounded by count and by bytes: the oldest go first
 * (an attempt whose result is gone that way is declared lost and runs again, as before). Private to the worker.
 * Prefix kt_recent. */
#ifndef KT_WORKER_RECENT_H
#define KT_WORKER_RECENT_H

#include <stddef.h>
#include <stdint.h>

#include "runtime/msg.h"

#define KT_RECENT_MAX 1024                     /* results kept */
#define KT_RECENT_MAX_BYTES (8u * 1024 * 1024) /* their encoded bodies, together */

typedef struct kt_recent kt_recent;

kt_recent *kt_recent_new(void);
void kt_recent_free(kt_recent *r);
/* Keeps a copy of the result (a WorkingDirectory child's report is not kept: its job's own result follows). */
void kt_recent_put(kt_recent *r, const kt_msg_worker_result *result);
/* The encoded body of the result of (taskrun id, attempt) of execution id, or NULL; *len its size. Valid until the
 * next put. */
const char *kt_recent_get(const kt_recent *r, const char *execution_id, const char *taskrun_id, uint32_t attempt,
                          size_t *len);

#endif
