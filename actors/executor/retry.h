/* Kestra's retry policies (KESTRA-model.md §5): when the next attempt of a failed task run is due. Pure. */
#ifndef KT_RETRY_H
#define KT_RETRY_H

#include <jansson.h>
#include <stdint.h>

/* The date of the next attempt of run under policy (RETRY_FAILED_TASK), in *at_us: 1 when a retry is due, 0 when the
 * policy is spent (maxAttempt reached, maxDuration passed), -1 when the policy cannot be read (message in err).
 * rand01 supplies the random policy's draw in [0, 1) so the function stays deterministic under test. */
int kt_retry_next(const json_t *policy, const json_t *run, double rand01, int64_t *at_us, char *err, size_t errcap);
/* The same for `behavior: CREATE_NEW_EXECUTION` (TaskRun.nextRetryDate(retry, execution)): the attempts are the
 * execution's (metadata.attemptNumber), counted from its first one (metadata.originalCreatedDate, origin_us); the
 * delay runs from last_us (the failed attempt's end). */
int kt_retry_next_execution(const json_t *policy, long attempt_number, int64_t last_us, int64_t origin_us,
                            double rand01, int64_t *at_us, char *err, size_t errcap);
/* `behavior: CREATE_NEW_EXECUTION`: a new execution per attempt (a replay of the failed one). */
int kt_retry_creates_execution(const json_t *policy);
/* warningOnRetry (§5.4): a SUCCESS after more than one earlier attempt becomes WARNING. */
int kt_retry_warns(const json_t *policy, size_t attempts_before);

#endif
