/* ISO-8601 durations as java.time.Duration reads and prints them (PT5M, P1D, PT1.5S, -PT1S ...), in
 * microseconds: Kite's clock unit. Years, months and weeks are refused, as Java's Duration.parse does. */
#ifndef KT_TIME_DURATION_H
#define KT_TIME_DURATION_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

/* ISO-8601 duration (PT5M, P1D, PT1.5S, -PT1S ...) to microseconds; 0 on success, -1 if malformed or
 * out of range. Case-insensitive; ',' accepted as decimal separator; fractions below 1 µs are truncated. */
int kt_duration_parse(const char *s, int64_t *us);

/* Kestra's DurationDeserializer: an ISO string, or a number / numeric string read as seconds
 * (1.5 = 1500 ms). 0 on success. */
int kt_duration_from_json(const json_t *v, int64_t *us);

/* Prints like Java's Duration.toString(): PT0S, PT24H (days become hours), PT1M30S, PT0.5S, PT-1.5S.
 * Returns the length written (buf should hold KT_DURATION_BUFSZ bytes). */
#define KT_DURATION_BUFSZ 48
size_t kt_duration_format(int64_t us, char *buf, size_t cap);

#endif
