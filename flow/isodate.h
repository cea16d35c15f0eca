/* ISO-8601 dates, times and instants as java.time reads and prints them (LocalDate, LocalTime, Instant), with
 * the failure positions and range messages Kestra's input errors quote ("could not be parsed at index 5",
 * "Invalid value for MonthOfYear ..."). Days count from 1970-01-01; times and instants are in microseconds.
 * Prefix kt_isodate_. */
#ifndef KT_FLOW_ISODATE_H
#define KT_FLOW_ISODATE_H

#include <stddef.h>
#include <stdint.h>

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
