/* Kestra's date filters and now() (reference 3.1): input conversion, Java DateTimeFormatter patterns and
 * named formats (English names only), ISO parsing, dateAdd with Java's calendar rules, timestamps. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "expr/filters.h"
#include "time/isodate.h"
#include "time/tz.h"

typedef struct dtv {
    int64_t s;       /* epoch seconds */
    int32_t ns;      /* nanos of second */
    kt_tz_zone zone; /* the value's own zone (matters for dateAdd) */
} dtv;

static const char *const k_months[] = {"January", "February", "March",     "April",   "May",      "June",
                                       "July",    "August",   "September", "October", "November", "December"};
static const char *const k_days[] = {"Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"};

/* 1 = Monday ... 7 = Sunday */
static int iso_dow(int64_t days) { return (kt_isodate_weekday(days) + 6) % 7 + 1; }

/* ---- formatting ---- */

typedef struct fctx {
    kt_isodate_local l;
    int64_t days, s;
    int32_t ns, off;
    const kt_tz_zone *zone;
} fctx;

static void pad(kt_buf *b, int64_t v, int width)
{
    if (v < 0) {
        kt_buf_putc(b, '-');
        v = -v;
    }
    kt_buf_printf(b, "%0*lld", width, (long long)v);
}

static void fmt_offset(kt_buf *b, int32_t off, int colon, int with_min, int zero_z)
{
    if (off == 0 && zero_z) {
        kt_buf_putc(b, 'Z');
        return;
    }
    int a = off < 0 ? -off : off;
    kt_buf_printf(b, "%c%02d", off < 0 ? '-' : '+', a / 3600);
    if (with_min == 1 && a / 60 % 60 == 0 && a % 60 == 0) return; /* X: minutes only when non-zero */
    kt_buf_printf(b, colon ? ":%02d" : "%02d", a / 60 % 60);
    if (a % 60) kt_buf_printf(b, colon ? ":%02d" : "%02d", a % 60);
}

static void fmt_fraction_iso(kt_buf *b, int32_t ns)
{
    if (!ns) return;
    char t[16];
    snprintf(t, sizeof t, "%09d", ns);
    int n = 9;
    while (n > 0 && t[n - 1] == '0') n--;
    kt_buf_putc(b, '.');
    kt_buf_put(b, t, (size_t)n);
}

/* week fields, en_US (weeks start on Sunday, week 1 contains January 1st) */
static int64_t sunday_start(int64_t days) { return days - iso_dow(days) % 7; }

static void us_week(const fctx *f, int *week, int64_t *wyear)
{
    int64_t next = sunday_start(kt_isodate_days_from_civil(f->l.year + 1, 1, 1));
    if (f->days >= next) {
        *week = 1;
        *wyear = f->l.year + 1;
        return;
    }
    *week = (int)((f->days - sunday_start(kt_isodate_days_from_civil(f->l.year, 1, 1))) / 7 + 1);
    *wyear = f->l.year;
}

/* ISO-8601 weeks: Monday first, week 1 holds the year's first Thursday */
static void iso_week(int64_t days, int *week, int64_t *wyear)
{
    int64_t thursday = days - iso_dow(days) + 4, y;
    int m, d;
    kt_isodate_civil_from_days(thursday, &y, &m, &d);
    *wyear = y;
    *week = (int)((thursday - kt_isodate_days_from_civil(y, 1, 1)) / 7 + 1);
}

/* One DateTimeFormatter pattern letter c repeated n times, as the en_US locale prints it. */
static int fmt_letter(kt_buf *b, const fctx *f, char c, int n, char *err, size_t errcap)
{
    int dow = iso_dow(f->days);
    int64_t sod = (int64_t)f->l.hour * 3600 + f->l.minute * 60 + f->l.second; /* second of day */
    switch (c) {
    case 'G': kt_buf_puts(b, n == 4 ? "Anno Domini" : n == 5 ? "A" : f->l.year > 0 ? "AD" : "BC"); break;
    case 'u':
    case 'y':
        if (n == 2) pad(b, (f->l.year % 100 + 100) % 100, 2);
        else pad(b, c == 'y' && f->l.year <= 0 ? 1 - f->l.year : f->l.year, n < 4 ? 1 : n);
        break;
    case 'Y': {
        int w;
        int64_t wy;
        us_week(f, &w, &wy);
        if (n == 2) pad(b, wy % 100, 2);
        else pad(b, wy, n < 4 ? 1 : n);
        break;
    }
    case 'M':
    case 'L':
        if (n <= 2) pad(b, f->l.month, n);
        else if (n == 3) kt_buf_put(b, k_months[f->l.month - 1], 3);
        else if (n == 4) kt_buf_puts(b, k_months[f->l.month - 1]);
        else kt_buf_putc(b, k_months[f->l.month - 1][0]);
        break;
    case 'd': pad(b, f->l.day, n); break;
    case 'D': pad(b, f->days - kt_isodate_days_from_civil(f->l.year, 1, 1) + 1, n); break;
    case 'Q':
    case 'q': {
        int q = (f->l.month - 1) / 3 + 1;
        static const char *const qn[] = {"1st quarter", "2nd quarter", "3rd quarter", "4th quarter"};
        if (n <= 2) pad(b, q, n);
        else if (n == 3) kt_buf_printf(b, "Q%d", q);
        else kt_buf_puts(b, qn[q - 1]);
        break;
    }
    case 'w': {
        int w;
        int64_t wy;
        us_week(f, &w, &wy);
        pad(b, w, n);
        break;
    }
    case 'W': {
        int64_t first = kt_isodate_days_from_civil(f->l.year, f->l.month, 1);
        pad(b, (f->days - sunday_start(first)) / 7 + 1, n);
        break;
    }
    case 'E':
        if (n <= 3) kt_buf_put(b, k_days[dow - 1], 3);
        else if (n == 4) kt_buf_puts(b, k_days[dow - 1]);
        else kt_buf_putc(b, k_days[dow - 1][0]);
        break;
    case 'e':
    case 'c':
        if (n <= 2) pad(b, dow % 7 + 1, n);
        else if (n == 3) kt_buf_put(b, k_days[dow - 1], 3);
        else kt_buf_puts(b, k_days[dow - 1]);
        break;
    case 'a': kt_buf_puts(b, f->l.hour < 12 ? "AM" : "PM"); break;
    case 'h': pad(b, f->l.hour % 12 ? f->l.hour % 12 : 12, n); break;
    case 'K': pad(b, f->l.hour % 12, n); break;
    case 'k': pad(b, f->l.hour ? f->l.hour : 24, n); break;
    case 'H': pad(b, f->l.hour, n); break;
    case 'm': pad(b, f->l.minute, n); break;
    case 's': pad(b, f->l.second, n); break;
    case 'S': {
        char t[16];
        snprintf(t, sizeof t, "%09d", f->ns);
        for (int i = 0; i < n; i++) kt_buf_putc(b, i < 9 ? t[i] : '0');
        break;
    }
    case 'n': pad(b, f->ns, n); break;
    case 'N': pad(b, sod * 1000000000LL + f->ns, n); break;
    case 'A': pad(b, sod * 1000 + f->ns / 1000000, n); break;
    case 'V':
        if (n != 2) {
            snprintf(err, errcap, "Pattern letter count must be 2: V");
            return -1;
        }
        kt_buf_puts(b, f->zone->id);
        break;
    case 'z':
        if (n == 4 && (!strcmp(f->zone->id, "UTC") || !strcmp(f->zone->id, "Etc/UTC")))
            kt_buf_puts(b, "Coordinated Universal Time");
        else kt_buf_puts(b, kt_tz_abbr_at(f->zone, f->s));
        break;
    case 'O':
        kt_buf_puts(b, "GMT");
        if (f->off) {
            int a = f->off < 0 ? -f->off : f->off;
            if (n == 4) fmt_offset(b, f->off, 1, 0, 0);
            else if (a % 3600) kt_buf_printf(b, "%c%d:%02d", f->off < 0 ? '-' : '+', a / 3600, a / 60 % 60);
            else kt_buf_printf(b, "%c%d", f->off < 0 ? '-' : '+', a / 3600);
        }
        break;
    case 'X':
    case 'x':
        fmt_offset(b, f->off, n == 3 || n == 5, n == 1 ? 1 : 0, c == 'X');
        break;
    case 'Z':
        if (n <= 3) fmt_offset(b, f->off, 0, 0, 0);
        else if (n == 4) {
            kt_buf_puts(b, "GMT");
            if (f->off) fmt_offset(b, f->off, 1, 0, 0);
        } else fmt_offset(b, f->off, 1, 0, 1);
        break;
    default:
        snprintf(err, errcap, "Unknown pattern letter: %c", c);
        return -1;
    }
    return 0;
}

static int fmt_pattern(kt_buf *b, const fctx *f, const char *p, char *err, size_t errcap)
{
    while (*p) {
        char c = *p;
        if (c == '\'') { /* 'quoted text', two quotes for one */
            p++;
            if (*p == '\'') {
                kt_buf_putc(b, '\'');
                p++;
                continue;
            }
            while (*p && !(*p == '\'' && p[1] != '\'')) {
                if (*p == '\'') p++;
                kt_buf_putc(b, *p++);
            }
            if (*p) p++;
            continue;
        }
        if (c == '[' || c == ']') { /* optional sections: always printed */
            p++;
            continue;
        }
        if (!isalpha((unsigned char)c)) {
            kt_buf_putc(b, c);
            p++;
            continue;
        }
        int n = 0;
        while (p[n] == c) n++;
        p += n;
        if (fmt_letter(b, f, c, n, err, errcap)) return -1;
    }
    return 0;
}

static void iso_date(kt_buf *b, const fctx *f)
{
    if (f->l.year > 9999) kt_buf_putc(b, '+');
    pad(b, f->l.year, 4);
    kt_buf_printf(b, "-%02d-%02d", f->l.month, f->l.day);
}

static void iso_time(kt_buf *b, const fctx *f)
{
    kt_buf_printf(b, "%02d:%02d:%02d", f->l.hour, f->l.minute, f->l.second);
    fmt_fraction_iso(b, f->ns);
}

static void iso_off(kt_buf *b, const fctx *f) { fmt_offset(b, f->off, 1, 0, 1); }

/* Named formats (Kestra's AbstractDate.parseFormat); returns 1 when handled. */
static int fmt_named(kt_buf *b, const fctx *f, const char *name)
{
    if (!strcmp(name, "iso_local_date")) iso_date(b, f);
    else if (!strcmp(name, "iso_local_time")) iso_time(b, f);
    else if (!strcmp(name, "iso_local_date_time")) { iso_date(b, f); kt_buf_putc(b, 'T'); iso_time(b, f); }
    else if (!strcmp(name, "iso_offset_date_time")) { iso_date(b, f); kt_buf_putc(b, 'T'); iso_time(b, f); iso_off(b, f); }
    else if (!strcmp(name, "iso_offset_date") || !strcmp(name, "iso_date")) { iso_date(b, f); iso_off(b, f); }
    else if (!strcmp(name, "iso_offset_time") || !strcmp(name, "iso_time")) { iso_time(b, f); iso_off(b, f); }
    else if (!strcmp(name, "iso_date_time") || !strcmp(name, "iso_zoned_date_time")) {
        iso_date(b, f);
        kt_buf_putc(b, 'T');
        iso_time(b, f);
        iso_off(b, f);
        if (f->zone->region) kt_buf_printf(b, "[%s]", f->zone->id);
    } else if (!strcmp(name, "iso_instant")) {
        fctx u = *f;
        kt_isodate_local_from_seconds(f->s, &u.l);
        iso_date(b, &u);
        kt_buf_putc(b, 'T');
        iso_time(b, &u);
        kt_buf_putc(b, 'Z');
    } else if (!strcmp(name, "iso_ordinal_date")) {
        pad(b, f->l.year, 4);
        kt_buf_printf(b, "-%03lld", (long long)(f->days - kt_isodate_days_from_civil(f->l.year, 1, 1) + 1));
        iso_off(b, f);
    } else if (!strcmp(name, "iso_week_date")) {
        int w;
        int64_t wy;
        iso_week(f->days, &w, &wy);
        pad(b, wy, 4);
        kt_buf_printf(b, "-W%02d-%d", w, iso_dow(f->days));
        iso_off(b, f);
    } else if (!strcmp(name, "rfc_1123_date_time")) {
        kt_buf_printf(b, "%.3s, %d %.3s ", k_days[iso_dow(f->days) - 1], f->l.day, k_months[f->l.month - 1]);
        pad(b, f->l.year, 4);
        kt_buf_printf(b, " %02d:%02d:%02d ", f->l.hour, f->l.minute, f->l.second);
        if (f->off) fmt_offset(b, f->off, 0, 0, 0);
        else kt_buf_puts(b, "GMT");
    } else return 0;
    return 1;
}

/* Pattern for the simple names, or the localized styles (en, Java 21 uses U+202F before AM/PM). */
static const char *named_pattern(const char *name)
{
    if (!strcmp(name, "iso")) return "yyyy-MM-dd'T'HH:mm:ss.SSSSSSXXX";
    if (!strcmp(name, "iso_sec")) return "yyyy-MM-dd'T'HH:mm:ssXXX";
    if (!strcmp(name, "sql")) return "yyyy-MM-dd HH:mm:ss.SSSSSS";
    if (!strcmp(name, "sql_seq")) return "yyyy-MM-dd HH:mm:ss";
    if (!strcmp(name, "full")) return "EEEE, MMMM d, y 'at' h:mm:ss\xE2\x80\xAF" "a zzzz";
    if (!strcmp(name, "long")) return "MMMM d, y 'at' h:mm:ss\xE2\x80\xAF" "a z";
    if (!strcmp(name, "medium")) return "MMM d, y, h:mm:ss\xE2\x80\xAF" "a";
    if (!strcmp(name, "short")) return "M/d/yy, h:mm\xE2\x80\xAF" "a";
    return name;
}

static json_t *format_dt(kx_env *env, const kx_node *n, const dtv *d, const kt_tz_zone *zout, const char *format)
{
    fctx f = {.s = d->s, .ns = d->ns, .zone = zout};
    f.off = kt_tz_local_at(zout, d->s, &f.l);
    f.days = kt_isodate_days_from_civil(f.l.year, f.l.month, f.l.day);
    kt_buf b = {0};
    char err[128] = "";
    if (!fmt_named(&b, &f, format) && fmt_pattern(&b, &f, named_pattern(format), err, sizeof err)) {
        free(b.p);
        return kx_fail(env, n, KX_E_JAVA, "%s", err);
    }
    char *s = kt_buf_take(&b);
    json_t *r = kx_str(s ? s : "");
    free(s);
    return r;
}

/* ---- parsing ---- */

typedef struct pres {
    int64_t year;
    int month, day, hour, minute, second, ns, pm;
    int has_date, has_time, has_off, has_zone, has_ampm;
    int32_t off;
    kt_tz_zone zone;
} pres;

static int digits(const char **p, int min, int max, int64_t *out)
{
    int64_t v = 0;
    int k = 0;
    while (k < max && isdigit((unsigned char)(*p)[k])) v = v * 10 + ((*p)[k++] - '0');
    if (k < min) return -1;
    *p += k;
    *out = v;
    return 0;
}

static int parse_offset_text(const char **p, int32_t *off)
{
    const char *s = *p;
    if (*s == 'Z' || *s == 'z') {
        *off = 0;
        *p = s + 1;
        return 0;
    }
    if (*s != '+' && *s != '-') return -1;
    int sign = *s == '-' ? -1 : 1;
    s++;
    int64_t h, m = 0, sec = 0;
    if (digits(&s, 2, 2, &h)) return -1;
    if (*s == ':') {
        s++;
        if (digits(&s, 2, 2, &m)) return -1;
        if (*s == ':' && isdigit((unsigned char)s[1])) {
            s++;
            if (digits(&s, 2, 2, &sec)) return -1;
        }
    } else if (isdigit((unsigned char)*s)) {
        if (digits(&s, 2, 2, &m)) return -1;
    }
    *off = (int32_t)(sign * (h * 3600 + m * 60 + sec));
    *p = s;
    return 0;
}

/* ISO_ZONED_DATE_TIME / ISO_LOCAL_DATE_TIME / ISO_LOCAL_DATE, and the other ISO shapes. Returns the index
 * where parsing stopped (== strlen on success). */
static size_t parse_iso(const char *s, pres *r)
{
    const char *p = s;
    int64_t v;
    memset(r, 0, sizeof *r);
    int sign = 1;
    if (*p == '+' || *p == '-') sign = *p++ == '-' ? -1 : 1;
    if (digits(&p, 4, 9, &v)) return (size_t)(p - s);
    r->year = sign * v;
    if (*p++ != '-') return (size_t)(p - s - 1);
    if (digits(&p, 2, 2, &v)) return (size_t)(p - s);
    r->month = (int)v;
    if (*p++ != '-') return (size_t)(p - s - 1);
    if (digits(&p, 2, 2, &v)) return (size_t)(p - s);
    r->day = (int)v;
    r->has_date = 1;
    if (*p == 'T' || *p == 't') {
        const char *t = p + 1;
        if (digits(&t, 2, 2, &v) || *t != ':') return (size_t)(t - s);
        r->hour = (int)v;
        t++;
        if (digits(&t, 2, 2, &v)) return (size_t)(t - s);
        r->minute = (int)v;
        if (*t == ':') {
            t++;
            if (digits(&t, 2, 2, &v)) return (size_t)(t - s);
            r->second = (int)v;
            if (*t == '.' || *t == ',') {
                t++;
                const char *f = t;
                if (digits(&t, 1, 9, &v)) return (size_t)(t - s);
                for (int k = (int)(t - f); k < 9; k++) v *= 10;
                r->ns = (int)v;
            }
        }
        r->has_time = 1;
        p = t;
        if (*p == 'Z' || *p == 'z' || *p == '+' || *p == '-') {
            if (parse_offset_text(&p, &r->off)) return (size_t)(p - s);
            r->has_off = 1;
        }
        if (*p == '[') {
            const char *e = strchr(p, ']');
            if (!e || e - p - 1 >= 63) return (size_t)(p - s);
            char id[64];
            snprintf(id, sizeof id, "%.*s", (int)(e - p - 1), p + 1);
            if (kt_tz_zone_of(id, &r->zone)) return (size_t)(p - s);
            r->has_zone = 1;
            p = e + 1;
        }
    }
    return (size_t)(p - s);
}

static int month_name(const char **p, int full)
{
    for (int i = 0; i < 12; i++) {
        size_t l = full ? strlen(k_months[i]) : 3;
        if (!strncasecmp(*p, k_months[i], l)) {
            *p += l;
            return i + 1;
        }
    }
    return 0;
}

/* Parses s with a DateTimeFormatter pattern; returns the failing index or strlen(s). */
static size_t parse_pattern(const char *s, const char *pat, pres *r)
{
    const char *p = s;
    memset(r, 0, sizeof *r);
    r->month = r->day = 1;
    while (*pat) {
        char c = *pat;
        if (c == '\'') {
            pat++;
            while (*pat && *pat != '\'') {
                if (*p != *pat) return (size_t)(p - s);
                p++;
                pat++;
            }
            if (*pat) pat++;
            continue;
        }
        if (c == '[' || c == ']') {
            pat++;
            continue;
        }
        if (!isalpha((unsigned char)c)) {
            if (*p != c) return (size_t)(p - s);
            p++;
            pat++;
            continue;
        }
        int n = 0;
        while (pat[n] == c) n++;
        pat += n;
        int64_t v;
        switch (c) {
        case 'y':
        case 'u':
        case 'Y':
            if (n == 2) {
                if (digits(&p, 2, 2, &v)) return (size_t)(p - s);
                r->year = 2000 + v;
            } else {
                if (digits(&p, 1, 9, &v)) return (size_t)(p - s);
                r->year = v;
            }
            r->has_date = 1;
            break;
        case 'M':
        case 'L':
            if (n >= 3) {
                int m = month_name(&p, n == 4);
                if (!m) return (size_t)(p - s);
                r->month = m;
            } else if (digits(&p, n, 2, &v)) {
                return (size_t)(p - s);
            } else {
                r->month = (int)v;
            }
            break;
        case 'd':
            if (digits(&p, n, 2, &v)) return (size_t)(p - s);
            r->day = (int)v;
            break;
        case 'E':
        case 'e':
        case 'c':
            while (isalpha((unsigned char)*p)) p++;
            break;
        case 'H':
        case 'k':
        case 'h':
        case 'K':
            if (digits(&p, n, 2, &v)) return (size_t)(p - s);
            r->hour = (int)(c == 'k' && v == 24 ? 0 : v);
            r->has_time = 1;
            break;
        case 'm':
            if (digits(&p, n, 2, &v)) return (size_t)(p - s);
            r->minute = (int)v;
            break;
        case 's':
            if (digits(&p, n, 2, &v)) return (size_t)(p - s);
            r->second = (int)v;
            break;
        case 'S': {
            const char *f = p;
            if (digits(&p, n, n, &v)) return (size_t)(p - s);
            for (int k = (int)(p - f); k < 9; k++) v *= 10;
            r->ns = (int)v;
            break;
        }
        case 'a':
            if (!strncasecmp(p, "AM", 2) || !strncasecmp(p, "PM", 2)) {
                r->pm = toupper((unsigned char)*p) == 'P';
                r->has_ampm = 1;
                p += 2;
            } else {
                return (size_t)(p - s);
            }
            break;
        case 'X':
        case 'x':
        case 'Z':
            if (!strncmp(p, "GMT", 3)) p += 3;
            if ((*p == '+' || *p == '-' || *p == 'Z') && !parse_offset_text(&p, &r->off)) r->has_off = 1;
            else if (!r->has_off && c == 'Z' && p[-1] == 'T') r->has_off = 1;
            else return (size_t)(p - s);
            break;
        case 'z':
        case 'V':
        case 'O': {
            const char *e = p;
            while (*e && (isalnum((unsigned char)*e) || strchr("/_+-:", *e))) e++;
            char id[64];
            snprintf(id, sizeof id, "%.*s", (int)(e - p < 63 ? e - p : 63), p);
            if (kt_tz_zone_of(id, &r->zone)) return (size_t)(p - s);
            r->has_zone = 1;
            p = e;
            break;
        }
        default: return (size_t)(p - s);
        }
    }
    if (r->has_ampm && r->hour <= 12) r->hour = r->hour % 12 + (r->pm ? 12 : 0);
    return (size_t)(p - s);
}

/* "Tue, 08 Feb 2022 19:38:26 GMT" */
static size_t parse_rfc1123(const char *s, pres *r)
{
    const char *p = s;
    memset(r, 0, sizeof *r);
    if (isalpha((unsigned char)*p)) {
        while (isalpha((unsigned char)*p)) p++;
        if (*p++ != ',') return (size_t)(p - s - 1);
        while (*p == ' ') p++;
    }
    int64_t v;
    if (digits(&p, 1, 2, &v)) return (size_t)(p - s);
    r->day = (int)v;
    if (*p++ != ' ') return (size_t)(p - s - 1);
    if (!(r->month = month_name(&p, 0))) return (size_t)(p - s);
    if (*p++ != ' ') return (size_t)(p - s - 1);
    if (digits(&p, 4, 4, &v)) return (size_t)(p - s);
    r->year = v;
    if (*p++ != ' ') return (size_t)(p - s - 1);
    if (digits(&p, 2, 2, &v) || *p++ != ':') return (size_t)(p - s);
    r->hour = (int)v;
    if (digits(&p, 2, 2, &v)) return (size_t)(p - s);
    r->minute = (int)v;
    if (*p == ':') {
        p++;
        if (digits(&p, 2, 2, &v)) return (size_t)(p - s);
        r->second = (int)v;
    }
    if (*p++ != ' ') return (size_t)(p - s - 1);
    if (!strcmp(p, "GMT") || !strcmp(p, "UT") || !strcmp(p, "Z")) {
        p += strlen(p);
        r->off = 0;
    } else {
        if (*p != '+' && *p != '-') return (size_t)(p - s);
        int sign = *p++ == '-' ? -1 : 1;
        if (digits(&p, 4, 4, &v)) return (size_t)(p - s);
        r->off = (int32_t)(sign * (v / 100 * 3600 + v % 100 * 60));
    }
    r->has_date = r->has_time = r->has_off = 1;
    return (size_t)(p - s);
}

static int valid_fields(const pres *r)
{
    return r->month >= 1 && r->month <= 12 && r->day >= 1 && r->day <= kt_isodate_month_days(r->year, r->month) &&
           r->hour >= 0 && r->hour < 24 && r->minute >= 0 && r->minute < 60 && r->second >= 0 && r->second < 60;
}

/* Kestra's AbstractDate.convert */
static int convert(kx_env *env, const kx_node *n, json_t *in, const kt_tz_zone *zone, const char *existing, dtv *out)
{
    memset(out, 0, sizeof *out);
    out->zone = *zone;
    if (json_is_integer(in)) {
        out->s = json_integer_value(in);
        return 0;
    }
    if (!json_is_string(in)) {
        kx_fail(env, n, KX_E_JAVA, "class %s cannot be cast to class java.lang.String", kx_java_class(in));
        return -1;
    }
    const char *s = json_string_value(in);
    size_t len = strlen(s), stop;
    pres r;
    if (!existing) stop = parse_iso(s, &r);
    else if (!strcmp(existing, "rfc_1123_date_time")) stop = parse_rfc1123(s, &r);
    else if (!strncmp(existing, "iso", 3) && strcmp(existing, "iso") && strcmp(existing, "iso_sec")) stop = parse_iso(s, &r);
    else stop = parse_pattern(s, named_pattern(existing), &r);
    if (stop != len || !r.has_date || !valid_fields(&r)) {
        if (stop == len) kx_fail(env, n, KX_E_JAVA, "Text '%s' could not be parsed: Invalid date", s);
        else if (r.has_date && !existing && stop >= 10)
            kx_fail(env, n, KX_E_JAVA, "Text '%s' could not be parsed, unparsed text found at index %zu", s, stop);
        else kx_fail(env, n, KX_E_JAVA, "Text '%s' could not be parsed at index %zu", s, stop);
        return -1;
    }
    kt_isodate_local l = {r.year, r.month, r.day, r.has_time ? r.hour : 0, r.has_time ? r.minute : 0, r.has_time ? r.second : 0};
    int64_t local = kt_isodate_seconds_from_local(&l);
    out->ns = r.has_time ? r.ns : 0;
    if (r.has_zone) {
        out->zone = r.zone;
        out->s = r.has_off ? local - r.off : kt_tz_local_to_epoch(&r.zone, local, NULL);
    } else if (r.has_off && r.has_time) {
        char id[16];
        kt_tz_offset_id(r.off, id, sizeof id);
        kt_tz_zone_of(id, &out->zone);
        out->s = local - r.off;
    } else {
        out->s = kt_tz_local_to_epoch(zone, local, NULL);
    }
    return 0;
}

/* Resolves the timeZone argument (absent/null = the JVM default zone). */
static int zone_arg(kx_env *env, const kx_node *n, json_t *v, kt_tz_zone *z)
{
    if (!v || json_is_null(v)) {
        kt_tz_zone_default(z);
        return 0;
    }
    char *id = json_is_string(v) ? strdup(json_string_value(v)) : kx_tostring_dup(v);
    int rc = kt_tz_zone_of(id ? id : "", z);
    if (rc) kx_fail(env, n, KX_E_JAVA, "Unknown time-zone ID: %s", id ? id : "");
    free(id);
    return rc;
}

static const char *str_arg(json_t *v, const char *dflt)
{
    return v && json_is_string(v) ? json_string_value(v) : dflt;
}

/* date(format, timeZone, existingFormat, locale) */
json_t *kx_f_date(kx_env *env, const kx_node *n, json_t *in, json_t **a, int na)
{
    if (json_is_null(in)) return json_null();
    kt_tz_zone z;
    dtv d;
    if (zone_arg(env, n, a[1], &z) || convert(env, n, in, &z, str_arg(a[2], NULL), &d)) return NULL;
    return format_dt(env, n, &d, &z, str_arg(a[0], "iso"));
}

static int add_units(kx_env *env, const kx_node *n, dtv *d, long long amount, const char *unit)
{
    static const struct { const char *name; int64_t secs; int64_t nanos; int months; } units[] = {
        {"NANOS", 0, 1, 0},           {"MICROS", 0, 1000, 0},        {"MILLIS", 0, 1000000, 0},
        {"SECONDS", 1, 0, 0},         {"MINUTES", 60, 0, 0},         {"HOURS", 3600, 0, 0},
        {"HALF_DAYS", 43200, 0, 0},   {"DAYS", -1, 0, 0},            {"WEEKS", -7, 0, 0},
        {"MONTHS", 0, 0, 1},          {"YEARS", 0, 0, 12},           {"DECADES", 0, 0, 120},
        {"CENTURIES", 0, 0, 1200},    {"MILLENNIA", 0, 0, 12000},    {NULL, 0, 0, 0},
    };
    for (int i = 0; units[i].name; i++) {
        if (strcmp(units[i].name, unit)) continue;
        if (units[i].nanos) {
            int64_t t = (int64_t)d->ns + (int64_t)amount * units[i].nanos;
            int64_t carry = t / 1000000000LL, rem = t % 1000000000LL;
            if (rem < 0) {
                rem += 1000000000LL;
                carry--;
            }
            d->s += carry;
            d->ns = (int32_t)rem;
            return 0;
        }
        if (units[i].secs > 0) {
            d->s += amount * units[i].secs;
            return 0;
        }
        /* date-based: on the local calendar of the value's own zone, keeping its offset when valid */
        kt_isodate_local l;
        int32_t off = kt_tz_local_at(&d->zone, d->s, &l);
        if (units[i].secs < 0) {
            int64_t days = kt_isodate_days_from_civil(l.year, l.month, l.day) + amount * -units[i].secs;
            kt_isodate_civil_from_days(days, &l.year, &l.month, &l.day);
        } else {
            int64_t m = l.year * 12 + (l.month - 1) + amount * units[i].months;
            l.year = m >= 0 ? m / 12 : (m - 11) / 12;
            l.month = (int)(m - l.year * 12) + 1;
            int md = kt_isodate_month_days(l.year, l.month);
            if (l.day > md) l.day = md;
        }
        d->s = kt_tz_local_to_epoch(&d->zone, kt_isodate_seconds_from_local(&l), &off);
        return 0;
    }
    if (!strcmp(unit, "ERAS") || !strcmp(unit, "FOREVER")) {
        kx_fail(env, n, KX_E_JAVA, "Unsupported unit: %s", !strcmp(unit, "ERAS") ? "Eras" : "Forever");
        return -1;
    }
    kx_fail(env, n, KX_E_JAVA, "No enum constant java.time.temporal.ChronoUnit.%s", unit);
    return -1;
}

/* dateAdd(amount, unit, format, timeZone, existingFormat, locale) */
json_t *kx_f_dateadd(kx_env *env, const kx_node *n, json_t *in, json_t **a, int na)
{
    if (json_is_null(in)) return json_null();
    if (!a[0] || !json_is_integer(a[0]))
        return kx_fail(env, n, KX_E_JAVA, "class %s cannot be cast to class java.lang.Long",
                       a[0] ? kx_java_class(a[0]) : "null");
    if (!a[1] || !json_is_string(a[1])) return kx_fail(env, n, KX_E_JAVA, "Name is null");
    kt_tz_zone z;
    dtv d;
    if (zone_arg(env, n, a[3], &z) || convert(env, n, in, &z, str_arg(a[4], NULL), &d)) return NULL;
    if (add_units(env, n, &d, json_integer_value(a[0]), json_string_value(a[1]))) return NULL;
    return format_dt(env, n, &d, &z, str_arg(a[2], "iso"));
}

static json_t *timestamp_kind(kx_env *env, const kx_node *n, json_t *in, json_t **a, int kind)
{
    if (json_is_null(in)) return json_null();
    kt_tz_zone z;
    dtv d;
    if (zone_arg(env, n, a[0], &z) || convert(env, n, in, &z, str_arg(a[1], NULL), &d)) return NULL;
    if (kind == 0) return json_integer(d.s);
    char buf[64];
    /* timestampMicro reproduces Kestra's bug: seconds scaled to nanos plus micros */
    long long v = (long long)d.s * 1000000000LL + (kind == 1 ? d.ns / 1000 : d.ns);
    snprintf(buf, sizeof buf, "%lld", v);
    return json_string(buf);
}

json_t *kx_f_timestamp(kx_env *env, const kx_node *n, json_t *in, json_t **a, int na) { return timestamp_kind(env, n, in, a, 0); }
json_t *kx_f_timestamp_micro(kx_env *env, const kx_node *n, json_t *in, json_t **a, int na) { return timestamp_kind(env, n, in, a, 1); }
json_t *kx_f_timestamp_nano(kx_env *env, const kx_node *n, json_t *in, json_t **a, int na) { return timestamp_kind(env, n, in, a, 2); }

json_t *kx_fn_now(kx_env *env, const kx_node *n, json_t *in, json_t **a, int na);
json_t *kx_fn_now(kx_env *env, const kx_node *n, json_t *in, json_t **a, int na)
{
    kt_env *ambient = kx_ambient(env, n, "now"); /* the render's clock reading, never the system's */
    if (!ambient) return NULL;
    int64_t us = ambient->now_us;
    kt_tz_zone z;
    if (zone_arg(env, n, a[1], &z)) return NULL;
    dtv d = {.s = us / 1000000, .ns = (int32_t)(us % 1000000) * 1000, .zone = z};
    return format_dt(env, n, &d, &z, str_arg(a[0], "iso"));
}
