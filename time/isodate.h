/* ISO-8601 dates, times and instants as java.time reads and prints them (LocalDate, LocalTime, Instant), with
 * the failure positions and range messages Kestra's input errors quote ("could not be parsed at index 5",
 * "Invalid value for MonthOfYear ..."), and the civil-calendar arithmetic under them, which flow/tz.c,
 * flow/cron.c and the date filters share. Days count from 1970-01-01; times and instants are in microseconds.
 * Prefix kt_isodate_. */
#ifndef KT_TIME_ISODATE_H
#define KT_TIME_ISODATE_H

#include <stddef.h>
#include <stdint.h>

/* ---- proleptic Gregorian calendar, as java.time's IsoChronology ---- */

/* Days since 1970-01-01 of year y, month m (1-12), day d (1-31; d past the month's end counts on). */
int64_t kt_isodate_days_from_civil(int64_t y, int m, int d);
/* The inverse: the date of a day number, floor semantics for negative days. */
void kt_isodate_civil_from_days(int64_t days, int64_t *y, int *m, int *d);
int kt_isodate_is_leap(int64_t y);
int kt_isodate_month_days(int64_t y, int m); /* 28-31; m in 1-12 */
/* Day of the week of a day number, 0 = Sunday to 6 = Saturday (as cron and POSIX TZ rules count). */
int kt_isodate_weekday(int64_t days);

/* A wall-clock date-time without zone (java's LocalDateTime to the second). */
typedef struct kt_isodate_local {
    int64_t year;
    int month, day, hour, minute, second;
} kt_isodate_local;

/* Seconds since 1970-01-01T00:00 of the same wall clock (no zone: "local seconds") and back. */
void kt_isodate_local_from_seconds(int64_t s, kt_isodate_local *l);
int64_t kt_isodate_seconds_from_local(const kt_isodate_local *l);

/* ---- ISO-8601 text ---- */

/* kt_isodate_parse_date's result for a well-formed date out of range (*why says which field). */
#define KT_ISODATE_ERANGE (-100)

/* YYYY-MM-DD at the start of s (anything may follow). Returns the chars consumed (10), -(index+1) of the first
 * bad character, or KT_ISODATE_ERANGE with *why set to java.time's malloc'ed message (bad month, day, Feb 29). */
int kt_isodate_parse_date(const char *s, int64_t *days, char **why);
/* HH:MM[:SS[.fraction]] at the start of s (fraction: up to 9 digits, kept to microseconds). Returns the chars
 * consumed, or -(index+1) of the failure (a field out of range reports index 0). */
int kt_isodate_parse_time(const char *s, int64_t *us);
/* The whole of s as an instant, date 'T' time then 'Z' or an offset (+HH[:MM]); *us is UTC. Returns 0, the
 * index where parsing failed plus one (> 0, so a failure at index 0 is not mistaken for success), or -1 with
 * *why set as kt_isodate_parse_date does. */
int kt_isodate_parse_instant(const char *s, int64_t *us, char **why);

/* LocalDate.toString: YYYY-MM-DD. */
void kt_isodate_format_date(int64_t days, char *buf, size_t cap);
/* LocalTime.toString: HH:MM, then :SS when seconds or fraction, then the fraction in groups of 3 digits. */
void kt_isodate_format_time(int64_t us, char *buf, size_t cap);
/* Instant.toString: UTC, seconds always, fraction in groups of 3, then Z. */
void kt_isodate_format_instant(int64_t us, char *buf, size_t cap);

#endif
