/* Private to time/holiday*.c: the rule table's shape. */
#ifndef KT_TIME_HOLIDAY_INT_H
#define KT_TIME_HOLIDAY_INT_H

#include <stddef.h>
#include <stdint.h>

/* ISO weekdays, as java.time's DayOfWeek counts them. */
enum { MON = 1, TUE, WED, THU, FRI, SAT, SUN };

typedef enum hol_kind {
    HOL_FIXED = 1, /* month/day, then the first substitute rule whose weekday matches moves it */
    HOL_NTH,       /* the which-th (HOL_LAST: last) weekday wd of month */
    HOL_EASTER,    /* Easter Sunday + offset days, substitutes as HOL_FIXED */
    HOL_REL_FIXED, /* the first weekday wd strictly before (dir -1) or after (+1) month/day */
    HOL_REL_NTH,   /* the which-th weekday wd2 of month, plus one day, then on to weekday wd in direction dir
                      (Jollyday's RelativeToWeekdayInMonth: "the Tuesday after the first Monday of November") */
} hol_kind;

#define HOL_LAST 5
enum { HOL_EVERY = 0, HOL_EVEN, HOL_ODD };

/* A weekend substitute (Jollyday's MovingCondition): a date falling on weekday `sub` moves to the next (+1) or
 * previous (-1) weekday `wd`, the same day when it is already one. sub 0: none. */
typedef struct hol_move {
    uint8_t sub;
    int8_t dir;
    uint8_t wd;
} hol_move;

typedef struct hol_rule {
    const char *sub; /* "" national, else the subdivision path in lower case ("by", "ges/67", "ny/nyc") */
    uint8_t kind;    /* hol_kind */
    uint8_t month, day;
    uint8_t which; /* 1-4, HOL_LAST */
    uint8_t wd, wd2;
    int8_t dir;
    int16_t offset; /* HOL_EASTER */
    uint8_t cycle;  /* HOL_EVERY, HOL_EVEN, HOL_ODD years */
    int16_t from, to; /* valid years, inclusive; 0: unbounded */
    hol_move mv[3];
} hol_rule;

typedef struct hol_country {
    const char *code; /* lower case, as Jollyday names its calendars */
    const hol_rule *rules;
    size_t n;
} hol_country;

extern const hol_country kt_hol_countries[];
extern const size_t kt_hol_ncountries;

#endif
