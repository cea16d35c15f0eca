/* Cron expressions for the Schedule trigger, with Kestra's cron-utils semantics (Schedule.java's definition):
 * UNIX 5 fields `minute hour day-of-month month day-of-week`, or 6 with leading seconds when withSeconds;
 * strict ranges; lists, ranges, steps; JAN-DEC / SUN-SAT names; 0 and 7 = Sunday; nicknames; when both
 * day-of-month and day-of-week are restricted (not exactly `*`), a day matches if EITHER does.
 * Not supported, as in Kestra: `?`, `L`, `W`, `#`, `@reboot`, cron-utils' `|` composites.
 *
 * Evaluation happens in an IANA zone read from the system zoneinfo (through flow/tz.h, the cached reader
 * shared with the date filters), never through TZ/tzset, so one process can evaluate many zones concurrently.
 * DST rules (cron-utils 9.2.1, the version Kestra pins):
 *  - gap (spring forward): a wall time that does not exist that day does not fire; it is NOT moved to the
 *    first valid instant. `30 2 * * *` in Europe/Paris fires 2025-03-29T02:30+01:00, then 2025-03-31T02:30+02:00.
 *  - overlap (fall back): a wall time that happens twice fires at its first instant (summer offset). Its
 *    second instant fires too only when the schedule fires again within 2 h (interval-like schedules such as
 *    `0 * * * *` or `*\/15 * * * *` keep firing on elapsed time through the repeated hour). Precisely, the second
 *    instant t is dropped when: the previous match p has a larger offset, t - p <= 1 h, and the next match is
 *    >= 2 h after t (cron-utils' `Duration.toHours() > 1`).
 *    Kite applies this rule whatever the query instant, so next/prev walk one consistent set of fire times
 *    (cron-utils applies it only when asked from the previous occurrence, which is how Kestra's scheduler asks;
 *    its lastExecution never applies it).
 * Fire times are whole seconds. Searches give up after 8 years (enough to reach Feb 29 across 2100). */
#ifndef KT_TIME_CRON_H
#define KT_TIME_CRON_H

#include <stddef.h>
#include <stdint.h>

#include "base/status.h"

typedef struct kt_cron kt_cron;

/* Parses `expr`; with_seconds selects the 6-field form (nicknames are accepted either way and fire at second 0).
 * Leading/trailing/multiple blanks are allowed; names are case-insensitive, nicknames are not (as cron-utils).
 * On error returns KT_EINVAL (or KT_ENOMEM) and, when err is non-NULL, writes why, naming the field:
 * "minute: 61 is out of range 0-59". */
kt_status kt_cron_parse(const char *expr, int with_seconds, kt_cron **out, char *err, size_t errcap);

/* Syntax check only (what flow validation needs): kt_cron_parse + kt_cron_free. */
kt_status kt_cron_validate(const char *expr, int with_seconds, char *err, size_t errcap);

void kt_cron_free(kt_cron *c);

/* The first fire time strictly after `after_us` (UTC microseconds), wall times taken in zone `tz`: an IANA
 * region ("Europe/Paris"), "UTC"/"GMT"/"Z", a fixed offset ("+05:30"), or NULL for UTC. KT_ENOTFOUND if none
 * within 8 years (`0 0 30 2 *`); KT_EINVAL for an unknown zone or an instant outside years 1-9999.
 * Kestra's `scheduleDates(d).date` (first occurrence >= d - 1 s) is kt_cron_next(c, d - 1 s, ...). */
kt_status kt_cron_next(const kt_cron *c, int64_t after_us, const char *tz, int64_t *next_us);

/* The last fire time strictly before `before_us`, same rules (backfill, late-fire and LAST recovery). */
kt_status kt_cron_prev(const kt_cron *c, int64_t before_us, const char *tz, int64_t *prev_us);

#endif
