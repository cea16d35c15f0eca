/* The calendar reading shared by Kestra 2.0's date functions (isWeekend, dayOfWeek, hourOfDay, dayOfMonth,
 * monthOfYear, isDayWeekInMonth, isLastWorkingDay, isPublicHoliday: expr/func_calendar.c) and by the 1.x date
 * conditions they replace (flow/condition_date.c): one parser and one set of day rules, so a `when` written with the
 * functions and the condition it migrates from answer the same for the same date.
 *
 * Dates are read as Kestra's DateUtils reads them: ZonedDateTime.parse (ISO_ZONED_DATE_TIME: date 'T' time, an
 * offset, an optional [zone]) for instants, LocalDate.parse, else the zoned form's local date, for days. The local
 * fields (day, hour) are those of the date's own offset: `trigger.date | date(timeZone='+02:00')` gives the hour at
 * +02:00, as the 2.0 rewrite of TimeBetween relies on.
 *
 * Prefix kt_cal. */
#ifndef KT_EXPR_CALENDAR_H
#define KT_EXPR_CALENDAR_H

#include <stddef.h>
#include <stdint.h>

/* +HH:MM[:SS] or Z at s: the characters read (0: no valid offset) and *off in seconds east. */
int kt_cal_parse_offset(const char *s, int32_t *off);

/* ZonedDateTime.parse: 0 with the instant (UTC µs) and the offset that applied; otherwise the index of the failure
 * plus one, err holding java.time's wording ("Text '...' could not be parsed at index N"). */
int kt_cal_parse_zoned(const char *s, int64_t *utc_us, int32_t *off, char *err, size_t errcap);

/* LocalDate.parse, else the zoned date-time's local date: 0 with *day (days since 1970-01-01), -1 with err set. */
int kt_cal_parse_local_date(const char *s, int64_t *day, char *err, size_t errcap);

/* The local day and time of day (µs) of a date text, in its own offset (a bare date: midnight). 0, or -1 with err. */
int kt_cal_parse_local(const char *s, int64_t *day, int64_t *tod_us, char *err, size_t errcap);

/* ISO day of week of a day: 1 (Monday) .. 7 (Sunday). */
int kt_cal_iso_weekday(int64_t day);
/* MONDAY..SUNDAY (exact) -> 1..7; 0 for anything else. */
int kt_cal_weekday_of(const char *name);
/* The English upper-case name of an ISO weekday 1..7. */
const char *kt_cal_weekday_name(int wd);
/* FIRST, SECOND, THIRD, FOURTH, LAST (exact) -> 1..5; 0 for anything else. */
int kt_cal_nth_of(const char *name);
/* The nth (1-4) or last (5) weekday wd of day's month (TemporalAdjusters.firstInMonth/lastInMonth + next hops, as
 * DayWeekInMonthCondition chains them). */
int64_t kt_cal_nth_in_month(int64_t day, int wd, int nth);

#endif
