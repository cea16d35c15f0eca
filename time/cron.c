/* Cron expressions (see cron.h for the semantics and their source).
 *
 * Design: a parsed expression is one bit set per field. Matching is split in two layers:
 *  - wall layer: the next/previous matching civil wall time (local seconds), a pure calendar walk that jumps
 *    field by field, so sparse schedules cost a handful of steps per month;
 *  - instant layer: walks UTC instants. From instant T (offset o) it asks the wall layer for the next matching
 *    wall time W and jumps to T + (W - wall(T)), unless the zone's offset changes on the way, in which case it
 *    stops at the change and starts again from there. Wall times inside a gap are thus never reached (skipped)
 *    and wall times repeated by an overlap are reached twice; the overlap rule of cron.h then drops the second
 *    instant of non-interval schedules.
 * Zone offsets come from flow/tz.h (cached TZif reader shared with the date filters), which exposes the
 * offset at an instant but not the transition list; transitions are found by probing one day apart then
 * bisecting, which assumes no zone changes offset twice within a day (true of every tzdb zone). */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "time/cron.h"
#include "time/isodate.h"
#include "time/tz.h"

#define HORIZON_YEARS 8
#define HORIZON_S ((int64_t)HORIZON_YEARS * 366 * 86400)
/* 0001-01-01T00:00:00Z and 9999-12-31T23:59:59Z: keeps every computation far from int64 overflow */
#define MIN_S (-62135596800LL)
#define MAX_S 253402300799LL

struct kt_cron {
    uint64_t sec, min; /* bits 0-59 */
    uint32_t hour;     /* bits 0-23 */
    uint32_t dom;      /* bits 1-31 */
    uint32_t mon;      /* bits 1-12 */
    uint32_t dow;      /* bits 0-6, 0 = Sunday (7 folded into 0) */
    int dom_any, dow_any; /* the field is exactly "*": the other day field alone decides */
};

/* ---------------------------------------------------------------- parsing */

typedef struct field_spec {
    const char *name;
    int lo, hi;
    const char *const *names; /* 3-letter names, or NULL */
    int name_base;            /* value of names[0] */
} field_spec;

static const char *const month_names[] = {"JAN", "FEB", "MAR", "APR", "MAY", "JUN",
                                          "JUL", "AUG", "SEP", "OCT", "NOV", "DEC", NULL};
static const char *const day_names[] = {"SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT", NULL};

static const field_spec SPECS[6] = {
    {"second", 0, 59, NULL, 0},       {"minute", 0, 59, NULL, 0},         {"hour", 0, 23, NULL, 0},
    {"day-of-month", 1, 31, NULL, 0}, {"month", 1, 12, month_names, 1}, {"day-of-week", 0, 7, day_names, 0},
};

/* One number or name at *p. Returns 0 and advances, or -1 with err set. Names must stand alone ("MONDAY" is
 * refused, as cron-utils refuses unknown characters). */
static int parse_atom(const char **p, const char *end, const field_spec *fs, int allow_names, int *v, char *err,
                      size_t cap)
{
    const char *s = *p;
    if (s < end && isdigit((unsigned char)*s)) {
        long n = 0;
        while (s < end && isdigit((unsigned char)*s)) {
            if (n < 100000) /* saturate: anything this big is out of range anyway */
                n = n * 10 + (*s - '0');
            s++;
        }
        *v = (int)n;
        *p = s;
        return 0;
    }
    size_t len = 0;
    while (s + len < end && isalpha((unsigned char)s[len]))
        len++;
    if (len == 3 && allow_names && fs->names) {
        for (int i = 0; fs->names[i]; i++)
            if (strncasecmp(s, fs->names[i], 3) == 0) {
                *v = i + fs->name_base;
                *p = s + 3;
                return 0;
            }
    }
    if (s < end && strchr("?LW#", toupper((unsigned char)*s)) && len <= 1)
        kt_errf(err, cap, "%s: '%c' is not supported", fs->name, *s);
    else if (len)
        kt_errf(err, cap, "%s: '%.*s' is not a valid %s", fs->name, (int)(len > 20 ? 20 : len), s,
                fs->names ? "value or name" : "number");
    else if (s < end)
        kt_errf(err, cap, "%s: unexpected '%c'", fs->name, *s);
    else
        kt_errf(err, cap, "%s: a value is missing", fs->name);
    return -1;
}

static int check_range(const field_spec *fs, int v, char *err, size_t cap)
{
    if (v >= fs->lo && v <= fs->hi)
        return 0;
    kt_errf(err, cap, "%s: %d is out of range %d-%d", fs->name, v, fs->lo, fs->hi);
    return -1;
}

/* One comma-separated item: `*`, `v`, `a-b`, each optionally `/step`; `v/step` means v..max. */
static int parse_item(const char *s, const char *end, const field_spec *fs, uint64_t *mask, char *err, size_t cap)
{
    int a = fs->lo, b = fs->hi, step = 1, single = 0;
    if (s == end) {
        kt_errf(err, cap, "%s: empty list element", fs->name);
        return -1;
    }
    if (*s == '*') {
        s++;
    } else {
        if (parse_atom(&s, end, fs, 1, &a, err, cap) || check_range(fs, a, err, cap))
            return -1;
        b = a;
        single = 1;
        if (s < end && *s == '-') {
            s++;
            if (parse_atom(&s, end, fs, 1, &b, err, cap) || check_range(fs, b, err, cap))
                return -1;
            if (a > b) {
                kt_errf(err, cap, "%s: invalid range %d-%d", fs->name, a, b);
                return -1;
            }
            single = 0;
        }
    }
    if (s < end && *s == '/') {
        s++;
        if (s == end || !isdigit((unsigned char)*s)) {
            kt_errf(err, cap, "%s: step must be a number", fs->name);
            return -1;
        }
        if (parse_atom(&s, end, fs, 0, &step, err, cap))
            return -1;
        /* cron-utils' isPeriodInRange: 0 < step <= min(span, max) */
        int span = fs->hi - fs->lo + 1, max = span < fs->hi ? span : fs->hi;
        if (step < 1 || step > max) {
            kt_errf(err, cap, "%s: step %d is out of range 1-%d", fs->name, step, max);
            return -1;
        }
        if (single)
            b = fs->hi;
    }
    if (s != end) {
        int special = strchr("?LW#", toupper((unsigned char)*s)) != NULL;
        kt_errf(err, cap, special ? "%s: '%c' is not supported" : "%s: unexpected '%c'", fs->name, *s);
        return -1;
    }
    for (int v = a; v <= b; v += step)
        *mask |= (uint64_t)1 << v;
    return 0;
}

static int parse_field(const char *f, size_t n, const field_spec *fs, uint64_t *mask, int *any, char *err,
                       size_t cap)
{
    *mask = 0;
    *any = n == 1 && f[0] == '*';
    const char *end = f + n;
    for (const char *s = f;;) {
        const char *comma = memchr(s, ',', (size_t)(end - s));
        const char *e = comma ? comma : end;
        if (parse_item(s, e, fs, mask, err, cap))
            return -1;
        if (!comma)
            return 0;
        s = comma + 1;
    }
}

static const struct {
    const char *nick, *expr;
} NICKNAMES[] = {
    {"@yearly", "0 0 1 1 *"}, {"@annually", "0 0 1 1 *"}, {"@monthly", "0 0 1 * *"}, {"@weekly", "0 0 * * 0"},
    {"@daily", "0 0 * * *"},  {"@midnight", "0 0 * * *"}, {"@hourly", "0 * * * *"},
};

kt_status kt_cron_parse(const char *expr, int with_seconds, kt_cron **out, char *err, size_t errcap)
{
    kt_cron *c = NULL;
    if (out)
        *out = NULL;
    if (!out) {
        kt_errf(err, errcap, "no output");
        return KT_EINVAL;
    }
    if (err && errcap)
        err[0] = 0;
    const char *p = expr ? expr : "";
    while (isspace((unsigned char)*p))
        p++;
    if (!*p) {
        kt_errf(err, errcap, "empty cron expression");
        return KT_EINVAL;
    }
    /* cron-utils compares the raw string to the nicknames: exact and case-sensitive */
    if (expr[0] == '@') {
        for (size_t i = 0; i < sizeof NICKNAMES / sizeof *NICKNAMES; i++)
            if (!strcmp(expr, NICKNAMES[i].nick))
                return kt_cron_parse(NICKNAMES[i].expr, 0, out, err, errcap);
        if (!strcmp(expr, "@reboot"))
            kt_errf(err, errcap, "nickname @reboot is not supported");
        else
            kt_errf(err, errcap, "unknown nickname '%.40s' (expected @yearly, @annually, @monthly, @weekly, "
                                 "@daily, @midnight or @hourly)", expr);
        return KT_EINVAL;
    }
    const char *f[8];
    size_t len[8];
    int nf = 0;
    while (*p) {
        if (nf < 8) {
            f[nf] = p;
            while (*p && !isspace((unsigned char)*p))
                p++;
            len[nf] = (size_t)(p - f[nf]);
        } else {
            while (*p && !isspace((unsigned char)*p))
                p++;
        }
        nf++;
        while (isspace((unsigned char)*p))
            p++;
    }
    int want = with_seconds ? 6 : 5;
    if (nf != want) {
        kt_errf(err, errcap, "expected %d fields (%s), got %d", want,
                with_seconds ? "second minute hour day-of-month month day-of-week"
                             : "minute hour day-of-month month day-of-week",
                nf);
        return KT_EINVAL;
    }
    c = calloc(1, sizeof *c);
    if (!c) {
        kt_errf(err, errcap, "out of memory");
        return KT_ENOMEM;
    }
    uint64_t m[6] = {1, 0, 0, 0, 0, 0}; /* without seconds, second 0 only */
    int any[6] = {0};
    for (int i = 0; i < nf; i++) {
        int k = i + (with_seconds ? 0 : 1);
        if (parse_field(f[i], len[i], &SPECS[k], &m[k], &any[k], err, errcap))
            goto fail;
    }
    c->sec = m[0];
    c->min = m[1];
    c->hour = (uint32_t)m[2];
    c->dom = (uint32_t)m[3];
    c->mon = (uint32_t)m[4];
    c->dow = (uint32_t)((m[5] | m[5] >> 7) & 0x7f); /* 7 is Sunday too */
    c->dom_any = any[3];
    c->dow_any = any[5];
    *out = c;
    return KT_OK;
fail:
    free(c);
    return KT_EINVAL;
}

kt_status kt_cron_validate(const char *expr, int with_seconds, char *err, size_t errcap)
{
    kt_cron *c = NULL;
    kt_status st = kt_cron_parse(expr, with_seconds, &c, err, errcap);
    kt_cron_free(c);
    return st;
}

void kt_cron_free(kt_cron *c) { free(c); }

/* ---------------------------------------------------------------- wall layer */

typedef struct wall {
    int64_t y;
    int mo, d, h, mi, s;
} wall;

static int has(uint64_t mask, int v) { return (int)(mask >> v & 1); }

/* Smallest set bit in [from, hi], largest in [lo, from]; -1 when none. */
static int next_set(uint64_t mask, int from, int hi)
{
    for (int v = from; v <= hi; v++)
        if (has(mask, v))
            return v;
    return -1;
}

static int prev_set(uint64_t mask, int from, int lo)
{
    for (int v = from; v >= lo; v--)
        if (has(mask, v))
            return v;
    return -1;
}

static int weekday(int64_t y, int mo, int d) { return kt_isodate_weekday(kt_isodate_days_from_civil(y, mo, d)); }

/* cron-utils (no '?' support, no matchDayOfWeekAndDayOfMonth): a field that is exactly `*` defers to the
 * other one; two restricted fields match as a union. */
static int day_ok(const kt_cron *c, int64_t y, int mo, int d)
{
    int dm = has(c->dom, d), dw = has(c->dow, weekday(y, mo, d));
    if (c->dom_any)
        return dw;
    if (c->dow_any)
        return dm;
    return dm || dw;
}

static void day_fwd(wall *w)
{
    w->h = w->mi = w->s = 0;
    if (++w->d > kt_isodate_month_days(w->y, w->mo)) {
        w->d = 1;
        if (++w->mo > 12) {
            w->mo = 1;
            w->y++;
        }
    }
}

static void day_back(wall *w)
{
    w->h = 23;
    w->mi = w->s = 59;
    if (--w->d < 1) {
        if (--w->mo < 1) {
            w->mo = 12;
            w->y--;
        }
        w->d = kt_isodate_month_days(w->y, w->mo);
    }
}

static void to_wall(int64_t local_s, wall *w)
{
    kt_isodate_local l;
    kt_isodate_local_from_seconds(local_s, &l);
    *w = (wall){l.year, l.month, l.day, l.hour, l.minute, l.second};
}

static int64_t from_wall(const wall *w)
{
    return kt_isodate_seconds_from_local(&(kt_isodate_local){w->y, w->mo, w->d, w->h, w->mi, w->s});
}

/* Smallest matching wall time >= local_s; -1 when none within the horizon. Each failed field jumps to the
 * next candidate of that field and resets the finer ones, then everything is re-checked from the month. */
static int wall_next(const kt_cron *c, int64_t local_s, int64_t *out)
{
    wall w;
    to_wall(local_s, &w);
    int64_t limit = w.y + HORIZON_YEARS;
    for (int v;;) {
        if (w.y > limit)
            return -1;
        if (!has(c->mon, w.mo)) {
            if ((v = next_set(c->mon, w.mo + 1, 12)) < 0) {
                w.y++;
                v = next_set(c->mon, 1, 12);
            }
            w = (wall){w.y, v, 1, 0, 0, 0};
        } else if (!day_ok(c, w.y, w.mo, w.d)) {
            day_fwd(&w);
        } else if (!has(c->hour, w.h)) {
            if ((v = next_set(c->hour, w.h + 1, 23)) < 0)
                day_fwd(&w);
            else
                w.h = v, w.mi = w.s = 0;
        } else if (!has(c->min, w.mi)) {
            if ((v = next_set(c->min, w.mi + 1, 59)) >= 0)
                w.mi = v, w.s = 0;
            else if (w.h < 23)
                w.h++, w.mi = w.s = 0;
            else
                day_fwd(&w);
        } else if (!has(c->sec, w.s)) {
            if ((v = next_set(c->sec, w.s + 1, 59)) >= 0)
                w.s = v;
            else if (w.mi < 59)
                w.mi++, w.s = 0;
            else if (w.h < 23)
                w.h++, w.mi = w.s = 0;
            else
                day_fwd(&w);
        } else {
            *out = from_wall(&w);
            return 0;
        }
    }
}

/* Largest matching wall time <= local_s; -1 when none within the horizon. Mirror of wall_next. */
static int wall_prev(const kt_cron *c, int64_t local_s, int64_t *out)
{
    wall w;
    to_wall(local_s, &w);
    int64_t limit = w.y - HORIZON_YEARS;
    for (int v;;) {
        if (w.y < limit)
            return -1;
        if (!has(c->mon, w.mo)) {
            if ((v = prev_set(c->mon, w.mo - 1, 1)) < 0) {
                w.y--;
                v = prev_set(c->mon, 12, 1);
            }
            w = (wall){w.y, v, kt_isodate_month_days(w.y, v), 23, 59, 59};
        } else if (!day_ok(c, w.y, w.mo, w.d)) {
            day_back(&w);
        } else if (!has(c->hour, w.h)) {
            if ((v = prev_set(c->hour, w.h - 1, 0)) < 0)
                day_back(&w);
            else
                w.h = v, w.mi = w.s = 59;
        } else if (!has(c->min, w.mi)) {
            if ((v = prev_set(c->min, w.mi - 1, 0)) >= 0)
                w.mi = v, w.s = 59;
            else if (w.h > 0)
                w.h--, w.mi = w.s = 59;
            else
                day_back(&w);
        } else if (!has(c->sec, w.s)) {
            if ((v = prev_set(c->sec, w.s - 1, 0)) >= 0)
                w.s = v;
            else if (w.mi > 0)
                w.mi--, w.s = 59;
            else if (w.h > 0)
                w.h--, w.mi = w.s = 59;
            else
                day_back(&w);
        } else {
            *out = from_wall(&w);
            return 0;
        }
    }
}

/* ---------------------------------------------------------------- instant layer */

#define PROBE_S 86400

static int32_t off_at(const kt_tz_zone *z, int64_t t) { return kt_tz_offset_at(z, t); }

/* First instant in (t, x] whose offset is not o, or INT64_MAX when the offset holds through x. */
static int64_t change_after(const kt_tz_zone *z, int64_t t, int64_t x, int32_t o)
{
    if (!z->tz)
        return INT64_MAX;
    for (int64_t lo = t; lo < x;) {
        int64_t hi = x - lo > PROBE_S ? lo + PROBE_S : x;
        if (off_at(z, hi) != o) {
            while (hi - lo > 1) { /* off(lo) == o, off(hi) != o */
                int64_t mid = lo + (hi - lo) / 2;
                if (off_at(z, mid) == o)
                    lo = mid;
                else
                    hi = mid;
            }
            return hi;
        }
        lo = hi;
    }
    return INT64_MAX;
}

/* Last instant in [x, t) whose offset is not o, or INT64_MIN when the offset holds back to x. */
static int64_t change_before(const kt_tz_zone *z, int64_t t, int64_t x, int32_t o)
{
    if (!z->tz)
        return INT64_MIN;
    for (int64_t hi = t; hi > x;) {
        int64_t lo = hi - x > PROBE_S ? hi - PROBE_S : x;
        if (off_at(z, lo) != o) {
            while (hi - lo > 1) { /* off(lo) != o, off(hi) == o */
                int64_t mid = lo + (hi - lo) / 2;
                if (off_at(z, mid) == o)
                    hi = mid;
                else
                    lo = mid;
            }
            return lo;
        }
        hi = lo;
    }
    return INT64_MIN;
}

/* Smallest instant >= t whose wall time matches (no overlap rule). */
static int raw_next(const kt_cron *c, const kt_tz_zone *z, int64_t t, int64_t *out)
{
    for (int64_t end = t + HORIZON_S; t <= end;) {
        int32_t o = off_at(z, t);
        int64_t wall_t = t + o, m;
        if (wall_next(c, wall_t, &m))
            return -1;
        if (m == wall_t) {
            *out = t;
            return 0;
        }
        int64_t x = t + (m - wall_t), ch = change_after(z, t, x, o);
        t = ch == INT64_MAX ? x : ch; /* at a change the walls before it were checked; resume with the new offset */
    }
    return -1;
}

/* Largest instant <= t whose wall time matches (no overlap rule). */
static int raw_prev(const kt_cron *c, const kt_tz_zone *z, int64_t t, int64_t *out)
{
    for (int64_t end = t - HORIZON_S; t >= end;) {
        int32_t o = off_at(z, t);
        int64_t wall_t = t + o, m;
        if (wall_prev(c, wall_t, &m))
            return -1;
        if (m == wall_t) {
            *out = t;
            return 0;
        }
        int64_t x = t - (wall_t - m), ch = change_before(z, t, x, o);
        t = ch == INT64_MIN ? x : ch;
    }
    return -1;
}

/* cron-utils' overlap rule (cron.h): the second instant of a repeated wall time is dropped unless the schedule
 * is interval-like around it. */
static int dropped(const kt_cron *c, const kt_tz_zone *z, int64_t t)
{
    int32_t o = off_at(z, t);
    if (!z->tz || off_at(z, t - 3600) <= o) /* no fall-back in the hour before t */
        return 0;
    int64_t p, n;
    if (raw_prev(c, z, t - 1, &p) || off_at(z, p) <= o || t - p > 3600)
        return 0;
    if (raw_next(c, z, t + 1, &n))
        return 0;
    return n - t >= 7200;
}

static kt_status zone_for(const char *tz, kt_tz_zone *z)
{
    if (!tz || !*tz) {
        memset(z, 0, sizeof *z);
        z->fixed = 1;
        return KT_OK;
    }
    return kt_tz_zone_of(tz, z) ? KT_EINVAL : KT_OK;
}

static int64_t floor_div(int64_t a, int64_t b) { return a / b - (a % b != 0 && (a < 0) != (b < 0)); }

kt_status kt_cron_next(const kt_cron *c, int64_t after_us, const char *tz, int64_t *next_us)
{
    kt_tz_zone z;
    if (!c || !next_us || zone_for(tz, &z))
        return KT_EINVAL;
    if (after_us < MIN_S * 1000000 || after_us >= MAX_S * 1000000)
        return KT_EINVAL;
    int64_t t = floor_div(after_us, 1000000) + 1; /* first whole second strictly after */
    for (int64_t f;; t = f + 1) {
        if (raw_next(c, &z, t, &f))
            return KT_ENOTFOUND;
        if (!dropped(c, &z, f)) {
            *next_us = f * 1000000;
            return KT_OK;
        }
    }
}

kt_status kt_cron_prev(const kt_cron *c, int64_t before_us, const char *tz, int64_t *prev_us)
{
    kt_tz_zone z;
    if (!c || !prev_us || zone_for(tz, &z))
        return KT_EINVAL;
    if (before_us <= MIN_S * 1000000 || before_us > MAX_S * 1000000)
        return KT_EINVAL;
    int64_t t = floor_div(before_us - 1, 1000000); /* last whole second strictly before */
    for (int64_t f;; t = f - 1) {
        if (raw_prev(c, &z, t, &f))
            return KT_ENOTFOUND;
        if (!dropped(c, &z, f)) {
            *prev_us = f * 1000000;
            return KT_OK;
        }
    }
}
