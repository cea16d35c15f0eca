#include "actors/executor/retry.h"
#include "time/duration.h"
#include "base/clock.h"

#include <stdio.h>
#include <string.h>

static int kt_retry_duration(const json_t *policy, const char *key, int64_t *us)
{
    const json_t *v = json_object_get(policy, key);
    return v ? kt_duration_from_json(v, us) : 1;
}

static int64_t kt_retry_date(const json_t *state, int last)
{
    const json_t *h = json_object_get(state, "histories");
    size_t n = json_array_size(h);
    int64_t us = 0;
    if (n)
        kt_time_parse(json_string_value(json_object_get(json_array_get(h, last ? n - 1 : 0), "date")), &us);
    return us;
}

/* AbstractRetry.nextRetryDate after n attempts, the last one ended at base, the first started at first. */
static int kt_retry_core(const json_t *policy, size_t n, int64_t base, int64_t first, double rand01, int64_t *at_us,
                         char *err, size_t errcap)
{
    /* maxAttempts is the name since Kestra 0.24 (2.x has only it), maxAttempt the old one: the same limit; a policy
     * with both is refused at save (flow/dialect.h) */
    json_t *max = json_object_get(policy, "maxAttempts");
    if (!max)
        max = json_object_get(policy, "maxAttempt");
    if (json_is_integer(max) && (json_int_t)n >= json_integer_value(max))
        return 0;
    const char *type = json_string_value(json_object_get(policy, "type"));
    int64_t interval = 0, max_interval = 0, min_interval = 0, next;
    if (type && !strcmp(type, "constant")) {
        if (kt_retry_duration(policy, "interval", &interval))
            goto bad;
        next = base + interval;
    } else if (type && !strcmp(type, "exponential")) {
        if (kt_retry_duration(policy, "interval", &interval) || kt_retry_duration(policy, "maxInterval", &max_interval))
            goto bad;
        json_t *f = json_object_get(policy, "delayFactor");
        int64_t factor = f ? (int64_t)json_number_value(f) : 2; /* only the integer part counts, as in Kestra */
        /* Kestra's formula: linear in the attempt count, and the first retry has no delay (§5.3) */
        next = base + interval * (factor * (int64_t)(n - 1));
        if (next > base + max_interval)
            next = base + max_interval;
    } else if (type && !strcmp(type, "random")) {
        if (kt_retry_duration(policy, "minInterval", &min_interval) ||
            kt_retry_duration(policy, "maxInterval", &max_interval) || max_interval < min_interval)
            goto bad;
        int64_t span_ms = (max_interval - min_interval) / 1000;
        next = base + min_interval + (int64_t)(rand01 * (double)span_ms) * 1000;
    } else {
        goto bad;
    }
    int64_t max_duration;
    if (!kt_retry_duration(policy, "maxDuration", &max_duration)) {
        /* Kestra retries only when next is not after first + maxDuration; its delays are polled every second, so a
         * retry due exactly at the limit starts after it. Kite's timers are exact and dates are kept to the
         * millisecond: a retry landing on the limit is treated as past it, which is what Kestra users observe. */
        if (next >= first + max_duration)
            return 0;
    }
    *at_us = next;
    return 1;
bad:
    snprintf(err, errcap, "invalid retry policy (type '%s')", type ? type : "?");
    return -1;
}

int kt_retry_next(const json_t *policy, const json_t *run, double rand01, int64_t *at_us, char *err, size_t errcap)
{
    const json_t *attempts = json_object_get(run, "attempts");
    size_t n = json_array_size(attempts);
    if (n == 0)
        return 0;
    int64_t base = kt_retry_date(json_object_get(json_array_get(attempts, n - 1), "state"), 1);
    int64_t first = kt_retry_date(json_object_get(json_array_get(attempts, 0), "state"), 0);
    return kt_retry_core(policy, n, base, first, rand01, at_us, err, errcap);
}

int kt_retry_next_execution(const json_t *policy, long attempt_number, int64_t last_us, int64_t origin_us,
                            double rand01, int64_t *at_us, char *err, size_t errcap)
{
    return kt_retry_core(policy, attempt_number < 1 ? 1 : (size_t)attempt_number, last_us, origin_us, rand01, at_us,
                         err, errcap);
}

int kt_retry_creates_execution(const json_t *policy)
{
    const char *b = json_string_value(json_object_get(policy, "behavior"));
    return b && !strcmp(b, "CREATE_NEW_EXECUTION");
}

int kt_retry_warns(const json_t *policy, size_t attempts_before)
{
    return json_is_true(json_object_get(policy, "warningOnRetry")) && attempts_before > 1;
}
