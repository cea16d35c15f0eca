/* Public holidays as Kestra's PublicHoliday condition sees them: Jollyday 0.32.0 (the library Kestra 0.20 ships)
 * with its calendars for France, Germany, the United Kingdom and the United States, as rule DATA (fixed dates with
 * their weekend substitutes, Easter-relative days, the nth or last weekday of a month, a weekday before or after a
 * fixed date or after an nth weekday), evaluated per year the way Jollyday's parsers do.
 *
 * Jollyday's semantics kept on purpose:
 * - a year's holidays are computed for that year, then the date is looked up among them; a fixed holiday moved by
 *   a substitute rule (GB: 25 December on a Saturday -> Monday 27) is a holiday on the moved date ONLY;
 * - a subdivision is a level of the country's hierarchy, compared without case ("by", "ENG", "ca"): its rules add
 *   to the national ones; an unknown subdivision is no error and gives the national holidays;
 * - Jollyday walks one hierarchy level per argument and Kestra passes one (`subDivision`), so nested levels such as
 *   France's Grand Est departments are unreachable from Kestra: Kite also accepts a path, "ges/67" (Bas-Rhin), which
 *   no Kestra flow can rely on anyway (there it matches no subdivision);
 * - Easter is the Gregorian computus for every year (Jollyday switches to the Julian one before 1583).
 * Prefix kt_holiday_. */
#ifndef KT_TIME_HOLIDAY_H
#define KT_TIME_HOLIDAY_H

#include <stddef.h>
#include <stdint.h>

/* The country used when a PublicHoliday names none. Kestra asks Jollyday for the JVM's default locale; Kestra's
 * docker image sets no LANG, the JVM maps the POSIX locale to en_US, so the calendar is "US". */
#define KT_HOLIDAY_DEFAULT_COUNTRY "US"

/* Whether day (days since 1970-01-01) is a public holiday in country (ISO 3166-1 alpha-2, any case, surrounding
 * blanks ignored; NULL or blank: KT_HOLIDAY_DEFAULT_COUNTRY) and subdivision (NULL: national only). 1 holiday,
 * 0 not, -1 when Kite has no calendar for that country. */
int kt_holiday_is(const char *country, const char *subdivision, int64_t day);

/* The holidays of a year (days since the epoch, ascending, duplicates merged) in out[0..cap), as kt_holiday_is
 * reads them; returns how many there are (may exceed cap), -1 for an unknown country. */
int kt_holiday_list(const char *country, const char *subdivision, int64_t year, int64_t *out, size_t cap);

/* The countries Kite has calendars for, joined with ", " ("DE, FR, GB, US"). */
const char *kt_holiday_countries(void);

/* Gregorian Easter Sunday of year, in days since the epoch (anonymous Gregorian algorithm). */
int64_t kt_holiday_easter(int64_t year);

#endif
