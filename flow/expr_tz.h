/* Private: time zones (system zoneinfo, cached) and civil-calendar arithmetic for the date filters. */
#ifndef KT_FLOW_EXPR_TZ_H
#define KT_FLOW_EXPR_TZ_H

#include <stddef.h>
#include <stdint.h>

typedef struct kx_zone {
    char id[64];     /* Java's ZoneId.toString(): "Z", "+02:00", "UTC", "Europe/Paris" */
    int fixed;       /* a constant offset */
    int region;      /* a ZoneRegion: ISO_ZONED_DATE_TIME prints [id] */
    int32_t offset;  /* for fixed zones */
    const void *tz;  /* zoneinfo rules for regions */
} kx_zone;

typedef struct kx_local {
    int64_t year;
    int month, day, hour, minute, second;
} kx_local;

int kx_zone_of(const char *id, kx_zone *z); /* -1: unknown id */
void kx_zone_default(kx_zone *z);
int32_t kx_zone_offset_at(const kx_zone *z, int64_t epoch_s);
const char *kx_zone_abbr_at(const kx_zone *z, int64_t epoch_s);
int64_t kx_zone_local_to_epoch(const kx_zone *z, int64_t local_s, const int32_t *prefer);
void kx_fmt_offset_id(int32_t off, char *buf, size_t cap);

int64_t kx_days_from_civil(int64_t y, int m, int d);
void kx_civil_from_days(int64_t days, int64_t *y, int *m, int *d);
int kx_is_leap(int64_t y);
int kx_month_days(int64_t y, int m);
void kx_local_from_epoch(int64_t local_s, kx_local *l);
int64_t kx_epoch_from_local(const kx_local *l);

#endif
