#include "base/clock.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int64_t kt_now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

size_t kt_time_format(int64_t us, char *buf, size_t cap)
{
    time_t secs = (time_t)(us / 1000000);
    int64_t frac = us % 1000000;
    if (frac < 0) {
        frac += 1000000;
        secs -= 1;
    }
    struct tm tm;
    gmtime_r(&secs, &tm);
    size_t n = strftime(buf, cap, "%Y-%m-%dT%H:%M:%S", &tm);
    if (frac == 0)
        n += (size_t)snprintf(buf + n, cap - n, "Z");
    else if (frac % 1000 == 0)
        n += (size_t)snprintf(buf + n, cap - n, ".%03dZ", (int)(frac / 1000));
    else
        n += (size_t)snprintf(buf + n, cap - n, ".%06dZ", (int)frac);
    return n;
}

static int kt_digits(const char **p, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if ((*p)[i] < '0' || (*p)[i] > '9')
            return -1;
        v = v * 10 + ((*p)[i] - '0');
    }
    *p += n;
    *out = v;
    return 0;
}

int kt_time_parse(const char *s, int64_t *us_out)
{
    int y, mo, d, h = 0, mi = 0, sec = 0;
    const char *p = s;
    if (kt_digits(&p, 4, &y) || *p++ != '-' || kt_digits(&p, 2, &mo) || *p++ != '-' || kt_digits(&p, 2, &d))
        return -1;
    int64_t frac = 0;
    if (*p == 'T' || *p == 't' || *p == ' ') {
        p++;
        if (kt_digits(&p, 2, &h) || *p++ != ':' || kt_digits(&p, 2, &mi))
            return -1;
        if (*p == ':') {
            p++;
            if (kt_digits(&p, 2, &sec))
                return -1;
            if (*p == '.' || *p == ',') {
                p++;
                int64_t scale = 100000;
                if (*p < '0' || *p > '9')
                    return -1;
                while (*p >= '0' && *p <= '9') {
                    frac += (*p - '0') * scale;
                    scale /= 10;
                    p++;
                }
            }
        }
    }
    int offset_s = 0;
    if (*p == 'Z' || *p == 'z') {
        p++;
    } else if (*p == '+' || *p == '-') {
        int sign = *p++ == '-' ? -1 : 1, oh, om = 0;
        if (kt_digits(&p, 2, &oh))
            return -1;
        if (*p == ':')
            p++;
        if (*p && kt_digits(&p, 2, &om))
            return -1;
        offset_s = sign * (oh * 3600 + om * 60);
    }
    if (*p || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60)
        return -1;
    struct tm tm = {.tm_year = y - 1900, .tm_mon = mo - 1, .tm_mday = d, .tm_hour = h, .tm_min = mi, .tm_sec = sec};
    time_t t = timegm(&tm);
    *us_out = ((int64_t)t - offset_s) * 1000000 + frac;
    return 0;
}
