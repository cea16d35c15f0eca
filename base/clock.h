/* Wall-clock time in microseconds since the Unix epoch, and its ISO-8601 form as Kestra prints it.
 * (ISO-8601 durations live in flow/duration.h.) */
#ifndef KT_BASE_CLOCK_H
#define KT_BASE_CLOCK_H

#include <stddef.h>
#include <stdint.h>

int64_t kt_now_us(void);
/* Java ISO_INSTANT: 2024-12-20T10:15:30Z / .123Z / .123456Z (fraction groups only as needed). */
size_t kt_time_format(int64_t us, char *buf, size_t cap);
/* Parses an ISO-8601 date-time with optional fraction and offset (Z, +01:00); 0 on success. */
int kt_time_parse(const char *s, int64_t *us_out);

#endif
