/* Time zones as java.time's ZoneId reads them, for the date filters and the cron evaluator: lookup by id, the
 * UTC offset and abbreviation at an instant, and wall time to instant with java's gap/overlap policy.
 *
 * Ids (ZoneId.of): "Z" and "+h", "+hh", "+hh:mm", "+hhmm", "+hh:mm:ss", "+hhmmss" (or '-') are fixed offsets;
 * "UTC", "GMT", "UT", optionally followed by such an offset, are fixed regions; anything else is an IANA region
 * read from the system zoneinfo (/usr/share/zoneinfo, TZif v1-v4), never through TZ/tzset, so any number of
 * threads can use any zones at once.
 *
 * Region rules come from the file's transition table and, after its last transition, from its footer: the
 * POSIX TZ string of TZif v2+ (std/dst names and offsets, Jn / n / Mm.w.d start and end rules), so DST stays
 * right past the table's end (2037 in the "fat" files Debian ships; every year after the last rule change in
 * "slim" ones). A v1 file has no footer: its last offset then holds forever.
 *
 * Cache: a region is read on first use and kept for the life of the process, in a table of 64 zones shared by
 * all threads under a mutex (kt_tz_zone keeps a pointer into it, valid for ever). Once 64 different regions are
 * loaded, kt_tz_zone_of refuses any other region (returns -1, as for an unknown id) so memory stays bounded;
 * loaded regions keep working.
 * Prefix kt_tz_. */
#ifndef KT_TIME_TZ_H
#define KT_TIME_TZ_H

#include <stddef.h>
#include <stdint.h>

#include "time/isodate.h"

typedef struct kt_tz_zone {
    char id[64];    /* Java's ZoneId.toString(): "Z", "+02:00", "UTC", "Europe/Paris" */
    int fixed;      /* a constant offset */
    int region;     /* a ZoneRegion: ISO_ZONED_DATE_TIME prints [id] */
    int32_t offset; /* for fixed zones, seconds east of UTC */
    const void *tz; /* cached rules of a zoneinfo region, NULL for fixed zones */
} kt_tz_zone;

/* Fills *z for id (see above). 0, or -1 for an unknown or malformed id. */
int kt_tz_zone_of(const char *id, kt_tz_zone *z);
/* The JVM default zone of Kestra's image: UTC, named "Etc/UTC". */
void kt_tz_zone_default(kt_tz_zone *z);

/* Seconds east of UTC at the instant epoch_s (seconds since 1970-01-01T00:00Z). */
int32_t kt_tz_offset_at(const kt_tz_zone *z, int64_t epoch_s);
/* The wall clock at epoch_s in z (ZonedDateTime.ofInstant); returns the offset it applied. */
int32_t kt_tz_local_at(const kt_tz_zone *z, int64_t epoch_s, kt_isodate_local *l);
/* The zone's abbreviation at epoch_s ("CET", "CEST", "-03"); the id for fixed zones (without "Etc/"). */
const char *kt_tz_abbr_at(const kt_tz_zone *z, int64_t epoch_s);
/* The instant of wall time local_s (kt_isodate_seconds_from_local's seconds) in z, as java's
 * ZonedDateTime.ofLocal: in an overlap the earlier offset, or *prefer when it is one of the two; in a gap the
 * wall time moves forward by the gap's length. prefer may be NULL. */
int64_t kt_tz_local_to_epoch(const kt_tz_zone *z, int64_t local_s, const int32_t *prefer);

/* ZoneOffset.toString: "Z", "+02:00", "-03:30:15". */
void kt_tz_offset_id(int32_t off, char *buf, size_t cap);

#endif
