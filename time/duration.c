/* java.time.Duration parsing and printing on microseconds. Written from the grammar Java documents:
 * [-+]P[nD][T[nH][nM][n[.f]S]] with a sign allowed on each number. */
#include "time/duration.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define US_PER_S 1000000LL

/* Reads [-+]digits; returns 0 and advances *p, -1 when no digits. */
static int read_num(const char **p, int64_t *out, int *neg)
{
    const char *s = *p;
    *neg = 0;
    if (*s == '-' || *s == '+')
        *neg = *s++ == '-';
    if (!isdigit((unsigned char)*s))
        return -1;
    int64_t v = 0;
    while (isdigit((unsigned char)*s)) {
        if (v > (INT64_MAX - 9) / 10)
            return -1;
        v = v * 10 + (*s++ - '0');
    }
    *out = v;
    *p = s;
    return 0;
}

static int add_scaled(int64_t *acc, int64_t v, int neg, int64_t scale)
{
    if (v > INT64_MAX / scale)
        return -1;
    int64_t x = v * scale;
    if (neg)
        x = -x;
    if ((x > 0 && *acc > INT64_MAX - x) || (x < 0 && *acc < INT64_MIN - x))
        return -1;
    *acc += x;
    return 0;
}

int kt_duration_parse(const char *s, int64_t *us)
{
    if (!s)
        return -1;
    int neg_all = 0;
    if (*s == '-' || *s == '+')
        neg_all = *s++ == '-';
    if (*s != 'P' && *s != 'p')
        return -1;
    s++;
    int64_t acc = 0;
    int sections = 0, in_time = 0;
    /* unit order guards against "PT1S1M" and repeats */
    int last = 0; /* 1 D, 2 H, 3 M, 4 S */
    while (*s) {
        if (*s == 'T' || *s == 't') {
            if (in_time)
                return -1;
            in_time = 1;
            s++;
            if (!*s)
                return -1; /* "PT" has no section */
            continue;
        }
        int64_t v;
        int neg;
        if (read_num(&s, &v, &neg))
            return -1;
        int64_t frac_us = 0;
        int has_frac = 0;
        if (*s == '.' || *s == ',') {
            s++;
            int digits = 0;
            int64_t scale = 100000;
            while (isdigit((unsigned char)*s)) {
                if (++digits > 9)
                    return -1;
                frac_us += (*s - '0') * scale;
                scale /= 10;
                s++;
            }
            has_frac = 1;
        }
        char u = (char)toupper((unsigned char)*s);
        int unit = u == 'D' ? 1 : u == 'H' ? 2 : u == 'M' ? 3 : u == 'S' ? 4 : 0;
        if (!unit || (unit == 1) == in_time || unit <= last || (has_frac && unit != 4))
            return -1;
        last = unit;
        s++;
        static const int64_t scale[] = {0, 86400 * US_PER_S, 3600 * US_PER_S, 60 * US_PER_S, US_PER_S};
        if (add_scaled(&acc, v, neg, scale[unit]) || add_scaled(&acc, frac_us, neg, 1))
            return -1;
        sections++;
    }
    if (!sections)
        return -1;
    *us = neg_all ? -acc : acc;
    return 0;
}

int kt_duration_from_json(const json_t *v, int64_t *us)
{
    double secs;
    if (json_is_integer(v)) {
        json_int_t i = json_integer_value(v);
        if (i > INT64_MAX / US_PER_S || i < INT64_MIN / US_PER_S)
            return -1;
        *us = (int64_t)i * US_PER_S;
        return 0;
    }
    if (json_is_real(v)) {
        secs = json_real_value(v);
    } else if (json_is_string(v)) {
        const char *s = json_string_value(v);
        if (kt_duration_parse(s, us) == 0)
            return 0;
        char *end;
        if (!*s)
            return -1;
        secs = strtod(s, &end);
        if (*end)
            return -1;
    } else {
        return -1;
    }
    if (!(secs < 9.2e12 && secs > -9.2e12))
        return -1;
    *us = (int64_t)(secs * 1e6 + (secs < 0 ? -0.5 : 0.5));
    return 0;
}

size_t kt_duration_format(int64_t us, char *buf, size_t cap)
{
    if (us == 0)
        return (size_t)snprintf(buf, cap, "PT0S");
    /* Java keeps floor seconds + positive nanos; reproduce its printing of negatives exactly. */
    int64_t secs = us / US_PER_S, frac = us % US_PER_S;
    if (frac < 0) {
        frac += US_PER_S;
        secs -= 1;
    }
    int64_t hours = secs / 3600, minutes = (secs % 3600) / 60, s = secs % 60;
    size_t n = (size_t)snprintf(buf, cap, "PT");
    if (hours)
        n += (size_t)snprintf(buf + n, n < cap ? cap - n : 0, "%lldH", (long long)hours);
    if (minutes)
        n += (size_t)snprintf(buf + n, n < cap ? cap - n : 0, "%lldM", (long long)minutes);
    if (s == 0 && frac == 0 && n > 2)
        return n;
    if (s < 0 && frac > 0) {
        if (s == -1)
            n += (size_t)snprintf(buf + n, n < cap ? cap - n : 0, "-0");
        else
            n += (size_t)snprintf(buf + n, n < cap ? cap - n : 0, "%lld", (long long)(s + 1));
    } else {
        n += (size_t)snprintf(buf + n, n < cap ? cap - n : 0, "%lld", (long long)s);
    }
    if (frac > 0) {
        int64_t f = s < 0 ? US_PER_S - frac : frac;
        char digits[8];
        snprintf(digits, sizeof(digits), "%06lld", (long long)f);
        size_t k = strlen(digits);
        while (k > 0 && digits[k - 1] == '0')
            digits[--k] = 0;
        n += (size_t)snprintf(buf + n, n < cap ? cap - n : 0, ".%s", digits);
    }
    n += (size_t)snprintf(buf + n, n < cap ? cap - n : 0, "S");
    return n;
}
