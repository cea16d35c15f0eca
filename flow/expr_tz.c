/* Time zones and civil calendar for the date filters. Region zones are read from the system zoneinfo
 * (TZif files) once and cached for the process lifetime, so no TZ environment switching is needed and
 * rendering stays thread-safe. Java ZoneId rules: "Z"/"+02:00" are offsets; "UTC"/"GMT"/"UT" (optionally
 * followed by an offset) are fixed regions; anything else is a zoneinfo region. */
#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "flow/expr_tz.h"

/* ---- civil calendar (proleptic Gregorian; Howard Hinnant's algorithms) ---- */

int64_t kx_days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

void kx_civil_from_days(int64_t z, int64_t *y, int *m, int *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = yoe + era * 400 + (*m <= 2);
}

int kx_is_leap(int64_t y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

int kx_month_days(int64_t y, int m)
{
    static const int md[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && kx_is_leap(y) ? 29 : md[m - 1];
}

void kx_local_from_epoch(int64_t local_s, kx_local *l)
{
    int64_t days = local_s / 86400, rem = local_s % 86400;
    if (rem < 0) {
        rem += 86400;
        days--;
    }
    kx_civil_from_days(days, &l->year, &l->month, &l->day);
    l->hour = (int)(rem / 3600);
    l->minute = (int)(rem % 3600 / 60);
    l->second = (int)(rem % 60);
}

int64_t kx_epoch_from_local(const kx_local *l)
{
    return kx_days_from_civil(l->year, l->month, l->day) * 86400 + l->hour * 3600 + l->minute * 60 + l->second;
}

/* ---- TZif ---- */

typedef struct tzdata {
    char name[64];
    int64_t *trans;
    uint8_t *idx;
    int32_t *offs;
    uint8_t *isdst;
    char (*abbr)[8];
    uint32_t ntrans, ntypes;
} tzdata;

static pthread_mutex_t g_tz_lock = PTHREAD_MUTEX_INITIALIZER;
static tzdata *g_tz[64];
static int g_ntz;

static uint32_t be32(const uint8_t *p) { return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3]; }

static tzdata *tz_parse(const char *name, const uint8_t *b, size_t n)
{
    if (n < 44 || memcmp(b, "TZif", 4)) return NULL;
    int v2 = b[4] >= '2';
    const uint8_t *h = b;
    size_t tsz = 4;
    if (v2) { /* skip the 32-bit block to the 64-bit one */
        uint32_t isut = be32(h + 20), isstd = be32(h + 24), leap = be32(h + 28), tc = be32(h + 32), ty = be32(h + 36),
                 ch = be32(h + 40);
        size_t skip = 44 + tc * 5 + ty * 6 + ch + leap * 8 + isstd + isut;
        if (skip + 44 > n) return NULL;
        h = b + skip;
        if (memcmp(h, "TZif", 4)) return NULL;
        tsz = 8;
    }
    uint32_t leap = be32(h + 28), tc = be32(h + 32), ty = be32(h + 36), ch = be32(h + 40);
    (void)leap;
    const uint8_t *p = h + 44;
    if ((size_t)(p - b) + tc * (tsz + 1) + ty * 6 + ch > n || ty == 0 || ty > 256) return NULL;
    tzdata *z = calloc(1, sizeof *z);
    if (!z) return NULL;
    snprintf(z->name, sizeof z->name, "%s", name);
    z->trans = calloc(tc + 1, sizeof *z->trans);
    z->idx = calloc(tc + 1, 1);
    z->offs = calloc(ty, sizeof *z->offs);
    z->isdst = calloc(ty, 1);
    z->abbr = calloc(ty, sizeof *z->abbr);
    if (!z->trans || !z->idx || !z->offs || !z->isdst || !z->abbr) goto fail;
    for (uint32_t i = 0; i < tc; i++, p += tsz) {
        if (tsz == 8) z->trans[i] = (int64_t)((uint64_t)be32(p) << 32 | be32(p + 4));
        else z->trans[i] = (int32_t)be32(p);
    }
    for (uint32_t i = 0; i < tc; i++) z->idx[i] = *p++ < ty ? p[-1] : 0;
    const uint8_t *types = p, *chars = p + ty * 6;
    for (uint32_t i = 0; i < ty; i++) {
        z->offs[i] = (int32_t)be32(types + 6 * i);
        z->isdst[i] = types[6 * i + 4];
        uint8_t ai = types[6 * i + 5];
        if (ai < ch) snprintf(z->abbr[i], sizeof z->abbr[i], "%.7s", (const char *)chars + ai);
    }
    z->ntrans = tc;
    z->ntypes = ty;
    return z;
fail:
    free(z->trans);
    free(z->idx);
    free(z->offs);
    free(z->isdst);
    free(z->abbr);
    free(z);
    return NULL;
}

static const tzdata *tz_load(const char *name)
{
    pthread_mutex_lock(&g_tz_lock);
    tzdata *z = NULL;
    for (int i = 0; i < g_ntz; i++)
        if (!strcmp(g_tz[i]->name, name)) {
            z = g_tz[i];
            goto done;
        }
    char path[160];
    snprintf(path, sizeof path, "/usr/share/zoneinfo/%s", name);
    FILE *f = fopen(path, "rb");
    if (!f) goto done;
    uint8_t *buf = malloc(1 << 17);
    size_t n = buf ? fread(buf, 1, 1 << 17, f) : 0;
    fclose(f);
    if (buf) z = tz_parse(name, buf, n);
    free(buf);
    if (z && g_ntz < (int)(sizeof g_tz / sizeof *g_tz)) g_tz[g_ntz++] = z;
    else if (z) z = NULL; /* cache full: refuse rather than leak per call */
done:
    pthread_mutex_unlock(&g_tz_lock);
    return z;
}

static int tz_type_at(const tzdata *z, int64_t t)
{
    if (!z->ntrans || t < z->trans[0]) {
        for (uint32_t i = 0; i < z->ntypes; i++)
            if (!z->isdst[i]) return (int)i;
        return 0;
    }
    uint32_t lo = 0, hi = z->ntrans; /* last transition <= t */
    while (hi - lo > 1) {
        uint32_t mid = (lo + hi) / 2;
        if (z->trans[mid] <= t) lo = mid;
        else hi = mid;
    }
    return z->idx[lo];
}

/* ---- zone ids ---- */

void kx_fmt_offset_id(int32_t off, char *buf, size_t cap)
{
    if (off == 0) {
        snprintf(buf, cap, "Z");
        return;
    }
    int a = off < 0 ? -off : off;
    if (a % 60) snprintf(buf, cap, "%c%02d:%02d:%02d", off < 0 ? '-' : '+', a / 3600, a / 60 % 60, a % 60);
    else snprintf(buf, cap, "%c%02d:%02d", off < 0 ? '-' : '+', a / 3600, a / 60 % 60);
}

/* ZoneOffset.of: +h, +hh, +hh:mm, +hhmm, +hh:mm:ss, +hhmmss */
static int parse_offset(const char *s, int32_t *off)
{
    if (*s != '+' && *s != '-') return -1;
    int sign = *s == '-' ? -1 : 1, h = 0, m = 0, sec = 0;
    const char *p = s + 1;
    size_t len = strlen(p);
    for (size_t i = 0; i < len; i++)
        if (!isdigit((unsigned char)p[i]) && p[i] != ':') return -1;
    if (len == 1 || len == 2) h = atoi(p);
    else if (len == 5 && p[2] == ':') h = atoi(p), m = atoi(p + 3);
    else if (len == 4 && !strchr(p, ':')) h = (p[0] - '0') * 10 + p[1] - '0', m = atoi(p + 2);
    else if (len == 8 && p[2] == ':' && p[5] == ':') h = atoi(p), m = atoi(p + 3), sec = atoi(p + 6);
    else if (len == 6 && !strchr(p, ':')) h = (p[0] - '0') * 10 + p[1] - '0', m = (p[2] - '0') * 10 + p[3] - '0', sec = atoi(p + 4);
    else return -1;
    if (h > 18 || m > 59 || sec > 59) return -1;
    *off = sign * (h * 3600 + m * 60 + sec);
    return 0;
}

int kx_zone_of(const char *id, kx_zone *z)
{
    memset(z, 0, sizeof *z);
    if (!id || !*id || strlen(id) >= sizeof z->id) return -1;
    if (!strcmp(id, "Z") || *id == '+' || *id == '-') {
        if (!strcmp(id, "Z")) z->offset = 0;
        else if (parse_offset(id, &z->offset)) return -1;
        z->fixed = 1;
        kx_fmt_offset_id(z->offset, z->id, sizeof z->id);
        return 0;
    }
    static const char *const pre[] = {"UTC", "GMT", "UT", NULL};
    for (int i = 0; pre[i]; i++) {
        size_t pl = strlen(pre[i]);
        if (strncmp(id, pre[i], pl)) continue;
        if (!id[pl]) {
            z->fixed = z->region = 1;
            snprintf(z->id, sizeof z->id, "%s", id);
            return 0;
        }
        if (id[pl] == '+' || id[pl] == '-') {
            if (parse_offset(id + pl, &z->offset)) return -1;
            z->fixed = z->region = 1;
            char o[16];
            kx_fmt_offset_id(z->offset, o, sizeof o);
            snprintf(z->id, sizeof z->id, "%s%s", pre[i], z->offset ? o : "");
            return 0;
        }
    }
    for (const char *p = id; *p; p++)
        if (!isalnum((unsigned char)*p) && !strchr("/_+-", *p)) return -1;
    if (strstr(id, "..") || id[0] == '/') return -1;
    const tzdata *t = tz_load(id);
    if (!t) return -1;
    z->tz = t;
    z->region = 1;
    snprintf(z->id, sizeof z->id, "%s", id);
    return 0;
}

void kx_zone_default(kx_zone *z)
{
    /* Kestra's image runs the JVM in UTC; Debian-based images report it as Etc/UTC */
    memset(z, 0, sizeof *z);
    z->fixed = z->region = 1;
    snprintf(z->id, sizeof z->id, "Etc/UTC");
}

int32_t kx_zone_offset_at(const kx_zone *z, int64_t t)
{
    if (!z->tz) return z->offset;
    return ((const tzdata *)z->tz)->offs[tz_type_at(z->tz, t)];
}

const char *kx_zone_abbr_at(const kx_zone *z, int64_t t)
{
    if (!z->tz) return z->region ? (strncmp(z->id, "Etc/", 4) ? z->id : z->id + 4) : z->id;
    return ((const tzdata *)z->tz)->abbr[tz_type_at(z->tz, t)];
}

/* Java ZonedDateTime.ofLocal: in an overlap keep the earlier offset (or `prefer` when valid); in a gap
 * move forward by the gap length. */
int64_t kx_zone_local_to_epoch(const kx_zone *z, int64_t local_s, const int32_t *prefer)
{
    if (!z->tz) return local_s - z->offset;
    int32_t a = kx_zone_offset_at(z, local_s - 86400), b = kx_zone_offset_at(z, local_s + 86400);
    int64_t ta = local_s - a, tb = local_s - b;
    int va = kx_zone_offset_at(z, ta) == a, vb = kx_zone_offset_at(z, tb) == b;
    if (prefer && ((*prefer == a && va) || (*prefer == b && vb))) return local_s - *prefer;
    if (va) return ta;
    if (vb) return tb;
    return ta; /* gap: the offset before the transition pushes the wall time forward */
}
