/* Time zones (see flow/tz.h): zoneinfo TZif files parsed once into a process-wide cache, so no TZ environment
 * switching is needed and lookups stay thread-safe; the calendar arithmetic of the footer rules is
 * flow/isodate.h's. */
#include "time/tz.h"

#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "time/isodate.h"

/* ---- POSIX TZ strings (the TZif footer; RFC 8536 section 3.3) ---- */

/* A rule date: 'J' Jn (1-365, Feb 29 never counted), 'N' n (0-365), 'M' Mm.w.d (week 5 = last); time is the
 * wall time of the change in the offset in force before it, in seconds (-167 h to 167 h). */
typedef struct tzrule {
    char kind;
    int n, m, w, d;
    int32_t time;
} tzrule;

typedef struct tzposix {
    int32_t std_off, dst_off; /* seconds east of UTC (the string writes them west) */
    char std_abbr[8], dst_abbr[8];
    int has_dst;
    tzrule start, end; /* when has_dst */
} tzposix;

/* std or dst name: 3+ letters, or <...> (which allows digits and signs: "<-03>"). */
static const char *posix_name(const char *p, char *out, size_t cap)
{
    const char *b, *e;
    if (*p == '<') {
        b = ++p;
        while (*p && *p != '>')
            p++;
        if (*p != '>')
            return NULL;
        e = p++;
    } else {
        for (b = p; isalpha((unsigned char)*p);)
            p++;
        e = p;
    }
    if (e - b < 3)
        return NULL;
    snprintf(out, cap, "%.*s", (int)(e - b), b);
    return p;
}

static const char *posix_num(const char *p, int lo, int hi, int *v)
{
    if (!isdigit((unsigned char)*p))
        return NULL;
    int n = 0;
    while (isdigit((unsigned char)*p)) {
        n = n * 10 + (*p++ - '0');
        if (n > hi)
            return NULL;
    }
    if (n < lo)
        return NULL;
    *v = n;
    return p;
}

/* [+-]hh[:mm[:ss]], as an offset or a rule time. */
static const char *posix_secs(const char *p, int32_t *out)
{
    int sign = *p == '-' ? -1 : 1, h, m = 0, s = 0;
    if (*p == '+' || *p == '-')
        p++;
    if (!(p = posix_num(p, 0, 167, &h)))
        return NULL;
    if (*p == ':' && !(p = posix_num(p + 1, 0, 59, &m)))
        return NULL;
    if (*p == ':' && !(p = posix_num(p + 1, 0, 59, &s)))
        return NULL;
    *out = sign * (h * 3600 + m * 60 + s);
    return p;
}

static const char *posix_rule(const char *p, tzrule *r)
{
    memset(r, 0, sizeof *r);
    r->time = 7200; /* 02:00 unless given */
    if (*p == 'M') {
        r->kind = 'M';
        if (!(p = posix_num(p + 1, 1, 12, &r->m)) || *p != '.' || !(p = posix_num(p + 1, 1, 5, &r->w)) ||
            *p != '.' || !(p = posix_num(p + 1, 0, 6, &r->d)))
            return NULL;
    } else if (*p == 'J') {
        r->kind = 'J';
        if (!(p = posix_num(p + 1, 1, 365, &r->n)))
            return NULL;
    } else {
        r->kind = 'N';
        if (!(p = posix_num(p, 0, 365, &r->n)))
            return NULL;
    }
    if (*p == '/' && !(p = posix_secs(p + 1, &r->time)))
        return NULL;
    return p;
}

/* 0 when s is a whole, valid TZ string. One without DST rules ("CET-1DST" without ",start,end") is refused:
 * its dates are implementation-defined, and zic never writes one. */
static int posix_parse(const char *s, tzposix *t)
{
    memset(t, 0, sizeof *t);
    int32_t off;
    const char *p = posix_name(s, t->std_abbr, sizeof t->std_abbr);
    if (!p || !(p = posix_secs(p, &off)))
        return -1;
    t->std_off = -off;
    if (!*p)
        return 0;
    if (!(p = posix_name(p, t->dst_abbr, sizeof t->dst_abbr)))
        return -1;
    t->dst_off = t->std_off + 3600;
    if (*p && *p != ',') {
        if (!(p = posix_secs(p, &off)))
            return -1;
        t->dst_off = -off;
    }
    if (*p != ',' || !(p = posix_rule(p + 1, &t->start)) || *p != ',' || !(p = posix_rule(p + 1, &t->end)) || *p)
        return -1;
    t->has_dst = 1;
    return 0;
}

/* Day number of rule r's date in year y. */
static int64_t rule_day(const tzrule *r, int64_t y)
{
    int64_t jan1 = kt_isodate_days_from_civil(y, 1, 1);
    if (r->kind == 'J')
        return jan1 + r->n - 1 + (kt_isodate_is_leap(y) && r->n >= 60);
    if (r->kind == 'N')
        return jan1 + r->n;
    int64_t first = kt_isodate_days_from_civil(y, r->m, 1);
    int64_t day = first + (r->d - kt_isodate_weekday(first) + 7) % 7 + (int64_t)(r->w - 1) * 7;
    while (day >= first + kt_isodate_month_days(y, r->m)) /* week 5: the last such weekday */
        day -= 7;
    return day;
}

/* 400 Gregorian years, a whole number of weeks: every rule date repeats with this period. */
#define CYCLE_S (146097LL * 86400)

static int posix_in_dst(const tzposix *p, int64_t t)
{
    t %= CYCLE_S; /* keeps the year arithmetic below far from overflow whatever t is */
    if (t < 0)
        t += CYCLE_S;
    int64_t y, ls = t + p->std_off, days = ls / 86400 - (ls % 86400 < 0);
    int m, d;
    kt_isodate_civil_from_days(days, &y, &m, &d);
    /* the start is written in standard time, the end in daylight time */
    int64_t start = rule_day(&p->start, y) * 86400 + p->start.time - p->std_off;
    int64_t end = rule_day(&p->end, y) * 86400 + p->end.time - p->dst_off;
    if (start <= end)
        return t >= start && t < end;
    return t < end || t >= start; /* southern hemisphere: DST spans the new year */
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
    int has_footer;
    tzposix footer;
} tzdata;

static pthread_mutex_t g_tz_lock = PTHREAD_MUTEX_INITIALIZER;
static tzdata *g_tz[64];
static int g_ntz;

static uint32_t be32(const uint8_t *p) { return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3]; }

static void tz_free(tzdata *z)
{
    free(z->trans);
    free(z->idx);
    free(z->offs);
    free(z->isdst);
    free(z->abbr);
    free(z);
}

/* The footer after the v2+ data that ends at p: "\n" TZ string "\n". An empty or unreadable one is ignored
 * (the last transition's type then holds, as for v1 files). */
static void tz_footer(tzdata *z, const uint8_t *p, const uint8_t *end)
{
    if (p >= end || *p != '\n')
        return;
    const uint8_t *nl = memchr(p + 1, '\n', (size_t)(end - p - 1));
    char s[128];
    if (!nl || nl - p - 1 >= (ptrdiff_t)sizeof s || memchr(p + 1, 0, (size_t)(nl - p - 1)))
        return;
    memcpy(s, p + 1, (size_t)(nl - p - 1));
    s[nl - p - 1] = 0;
    z->has_footer = *s && !posix_parse(s, &z->footer);
}

static tzdata *tz_parse(const char *name, const uint8_t *b, size_t n)
{
    if (n < 44 || memcmp(b, "TZif", 4))
        return NULL;
    int v2 = b[4] >= '2';
    const uint8_t *h = b;
    size_t tsz = 4;
    if (v2) { /* skip the 32-bit block to the 64-bit one */
        uint32_t isut = be32(h + 20), isstd = be32(h + 24), leap = be32(h + 28), tc = be32(h + 32), ty = be32(h + 36),
                 ch = be32(h + 40);
        size_t skip = 44 + (size_t)tc * 5 + (size_t)ty * 6 + ch + (size_t)leap * 8 + isstd + isut;
        if (skip + 44 > n)
            return NULL;
        h = b + skip;
        if (memcmp(h, "TZif", 4))
            return NULL;
        tsz = 8;
    }
    uint32_t isut = be32(h + 20), isstd = be32(h + 24), leap = be32(h + 28), tc = be32(h + 32), ty = be32(h + 36),
             ch = be32(h + 40);
    const uint8_t *p = h + 44;
    if ((size_t)(p - b) + tc * (tsz + 1) + ty * 6 + ch > n || ty == 0 || ty > 256)
        return NULL;
    tzdata *z = calloc(1, sizeof *z);
    if (!z)
        return NULL;
    snprintf(z->name, sizeof z->name, "%s", name);
    z->trans = calloc(tc + 1, sizeof *z->trans);
    z->idx = calloc(tc + 1, 1);
    z->offs = calloc(ty, sizeof *z->offs);
    z->isdst = calloc(ty, 1);
    z->abbr = calloc(ty, sizeof *z->abbr);
    if (!z->trans || !z->idx || !z->offs || !z->isdst || !z->abbr) {
        tz_free(z);
        return NULL;
    }
    for (uint32_t i = 0; i < tc; i++, p += tsz) {
        if (tsz == 8)
            z->trans[i] = (int64_t)((uint64_t)be32(p) << 32 | be32(p + 4));
        else
            z->trans[i] = (int32_t)be32(p);
    }
    for (uint32_t i = 0; i < tc; i++)
        z->idx[i] = *p++ < ty ? p[-1] : 0;
    const uint8_t *types = p, *chars = p + ty * 6;
    for (uint32_t i = 0; i < ty; i++) {
        z->offs[i] = (int32_t)be32(types + 6 * i);
        z->isdst[i] = types[6 * i + 4];
        uint8_t ai = types[6 * i + 5];
        if (ai < ch)
            snprintf(z->abbr[i], sizeof z->abbr[i], "%.7s", (const char *)chars + ai);
    }
    z->ntrans = tc;
    z->ntypes = ty;
    size_t data_end = (size_t)(chars - b) + ch + (size_t)leap * 12 + isstd + isut; /* v2+ leap records: 8 + 4 */
    if (v2 && data_end < n)
        tz_footer(z, b + data_end, b + n);
    return z;
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
    if (!f)
        goto done;
    uint8_t *buf = malloc(1 << 17);
    size_t n = buf ? fread(buf, 1, 1 << 17, f) : 0;
    fclose(f);
    if (buf)
        z = tz_parse(name, buf, n);
    free(buf);
    if (z && g_ntz < (int)(sizeof g_tz / sizeof *g_tz)) {
        g_tz[g_ntz++] = z;
    } else if (z) { /* cache full: refuse the zone rather than keep one copy per call */
        tz_free(z);
        z = NULL;
    }
done:
    pthread_mutex_unlock(&g_tz_lock);
    return z;
}

static int tz_type_at(const tzdata *z, int64_t t)
{
    if (!z->ntrans || t < z->trans[0]) {
        for (uint32_t i = 0; i < z->ntypes; i++)
            if (!z->isdst[i])
                return (int)i;
        return 0;
    }
    uint32_t lo = 0, hi = z->ntrans; /* last transition <= t */
    while (hi - lo > 1) {
        uint32_t mid = (lo + hi) / 2;
        if (z->trans[mid] <= t)
            lo = mid;
        else
            hi = mid;
    }
    return z->idx[lo];
}

/* Offset and abbreviation at t: the footer's rule past the last transition, else the transition table. */
static int32_t tz_at(const tzdata *z, int64_t t, const char **abbr)
{
    if (z->has_footer && (!z->ntrans || t > z->trans[z->ntrans - 1])) {
        int dst = z->footer.has_dst && posix_in_dst(&z->footer, t);
        if (abbr)
            *abbr = dst ? z->footer.dst_abbr : z->footer.std_abbr;
        return dst ? z->footer.dst_off : z->footer.std_off;
    }
    int i = tz_type_at(z, t);
    if (abbr)
        *abbr = z->abbr[i];
    return z->offs[i];
}

/* ---- zone ids ---- */

void kt_tz_offset_id(int32_t off, char *buf, size_t cap)
{
    if (off == 0) {
        snprintf(buf, cap, "Z");
        return;
    }
    int a = off < 0 ? -off : off;
    if (a % 60)
        snprintf(buf, cap, "%c%02d:%02d:%02d", off < 0 ? '-' : '+', a / 3600, a / 60 % 60, a % 60);
    else
        snprintf(buf, cap, "%c%02d:%02d", off < 0 ? '-' : '+', a / 3600, a / 60 % 60);
}

/* ZoneOffset.of: +h, +hh, +hh:mm, +hhmm, +hh:mm:ss, +hhmmss */
static int parse_offset(const char *s, int32_t *off)
{
    if (*s != '+' && *s != '-')
        return -1;
    int sign = *s == '-' ? -1 : 1, h = 0, m = 0, sec = 0;
    const char *p = s + 1;
    size_t len = strlen(p);
    for (size_t i = 0; i < len; i++)
        if (!isdigit((unsigned char)p[i]) && p[i] != ':')
            return -1;
    if (len == 1 || len == 2)
        h = atoi(p);
    else if (len == 5 && p[2] == ':')
        h = atoi(p), m = atoi(p + 3);
    else if (len == 4 && !strchr(p, ':'))
        h = (p[0] - '0') * 10 + p[1] - '0', m = atoi(p + 2);
    else if (len == 8 && p[2] == ':' && p[5] == ':')
        h = atoi(p), m = atoi(p + 3), sec = atoi(p + 6);
    else if (len == 6 && !strchr(p, ':'))
        h = (p[0] - '0') * 10 + p[1] - '0', m = (p[2] - '0') * 10 + p[3] - '0', sec = atoi(p + 4);
    else
        return -1;
    if (h > 18 || m > 59 || sec > 59)
        return -1;
    *off = sign * (h * 3600 + m * 60 + sec);
    return 0;
}

int kt_tz_zone_of(const char *id, kt_tz_zone *z)
{
    memset(z, 0, sizeof *z);
    if (!id || !*id || strlen(id) >= sizeof z->id)
        return -1;
    if (!strcmp(id, "Z") || *id == '+' || *id == '-') {
        if (!strcmp(id, "Z"))
            z->offset = 0;
        else if (parse_offset(id, &z->offset))
            return -1;
        z->fixed = 1;
        kt_tz_offset_id(z->offset, z->id, sizeof z->id);
        return 0;
    }
    static const char *const pre[] = {"UTC", "GMT", "UT", NULL};
    for (int i = 0; pre[i]; i++) {
        size_t pl = strlen(pre[i]);
        if (strncmp(id, pre[i], pl))
            continue;
        if (!id[pl]) {
            z->fixed = z->region = 1;
            snprintf(z->id, sizeof z->id, "%s", id);
            return 0;
        }
        if (id[pl] == '+' || id[pl] == '-') {
            if (parse_offset(id + pl, &z->offset))
                return -1;
            z->fixed = z->region = 1;
            char o[16];
            kt_tz_offset_id(z->offset, o, sizeof o);
            snprintf(z->id, sizeof z->id, "%s%s", pre[i], z->offset ? o : "");
            return 0;
        }
    }
    for (const char *p = id; *p; p++)
        if (!isalnum((unsigned char)*p) && !strchr("/_+-", *p))
            return -1;
    if (strstr(id, "..") || id[0] == '/')
        return -1;
    const tzdata *t = tz_load(id);
    if (!t)
        return -1;
    z->tz = t;
    z->region = 1;
    snprintf(z->id, sizeof z->id, "%s", id);
    return 0;
}

void kt_tz_zone_default(kt_tz_zone *z)
{
    /* Kestra's image runs the JVM in UTC; Debian-based images report it as Etc/UTC */
    memset(z, 0, sizeof *z);
    z->fixed = z->region = 1;
    snprintf(z->id, sizeof z->id, "Etc/UTC");
}

int32_t kt_tz_offset_at(const kt_tz_zone *z, int64_t t)
{
    if (!z->tz)
        return z->offset;
    return tz_at(z->tz, t, NULL);
}

int32_t kt_tz_local_at(const kt_tz_zone *z, int64_t t, kt_isodate_local *l)
{
    int32_t off = kt_tz_offset_at(z, t);
    kt_isodate_local_from_seconds(t + off, l);
    return off;
}

const char *kt_tz_abbr_at(const kt_tz_zone *z, int64_t t)
{
    if (!z->tz)
        return z->region ? (strncmp(z->id, "Etc/", 4) ? z->id : z->id + 4) : z->id;
    const char *abbr;
    tz_at(z->tz, t, &abbr);
    return abbr;
}

int64_t kt_tz_local_to_epoch(const kt_tz_zone *z, int64_t local_s, const int32_t *prefer)
{
    if (!z->tz)
        return local_s - z->offset;
    int32_t a = kt_tz_offset_at(z, local_s - 86400), b = kt_tz_offset_at(z, local_s + 86400);
    int64_t ta = local_s - a, tb = local_s - b;
    int va = kt_tz_offset_at(z, ta) == a, vb = kt_tz_offset_at(z, tb) == b;
    if (prefer && ((*prefer == a && va) || (*prefer == b && vb)))
        return local_s - *prefer;
    if (va)
        return ta;
    if (vb)
        return tb;
    return ta; /* gap: the offset before the transition pushes the wall time forward */
}
