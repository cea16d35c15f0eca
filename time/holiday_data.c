/* The holiday calendars of France, Germany, the United Kingdom and the United States: the rules of Jollyday 0.32.0
 * (de.focus-shift:jollyday-core, Apache-2.0: jollyday-core/src/main/resources/holidays/Holidays_{fr,de,gb,us}.xml),
 * the version Kestra 0.20 resolves PublicHoliday with, transcribed into Kite's table (time/holiday_int.h) rule by
 * rule, in the files' order, each with Jollyday's property key. Nested sub-configurations are paths ("ges/67").
 * Only data here; time/holiday.c evaluates it. */
#include "time/holiday_int.h"

static const hol_rule hol_fr[] = {
    {.sub = "", .kind = HOL_FIXED, .month = 1, .day = 1}, /* NEW_YEAR */
    {.sub = "", .kind = HOL_FIXED, .month = 5, .day = 1}, /* LABOUR_DAY */
    {.sub = "", .kind = HOL_FIXED, .month = 5, .day = 8}, /* VICTORY_DAY */
    {.sub = "", .kind = HOL_FIXED, .month = 7, .day = 14}, /* NATIONAL_DAY */
    {.sub = "", .kind = HOL_FIXED, .month = 8, .day = 15}, /* ASSUMPTION_MARY */
    {.sub = "", .kind = HOL_FIXED, .month = 11, .day = 1}, /* ALL_SAINTS */
    {.sub = "", .kind = HOL_FIXED, .month = 11, .day = 11}, /* ARMISTICE */
    {.sub = "", .kind = HOL_FIXED, .month = 12, .day = 25}, /* CHRISTMAS */
    {.sub = "", .kind = HOL_EASTER, .offset = 1}, /* christian.EASTER_MONDAY */
    {.sub = "", .kind = HOL_EASTER, .offset = 39}, /* christian.ASCENSION_DAY */
    {.sub = "", .kind = HOL_EASTER, .offset = 50, .to = 2003}, /* christian.WHIT_MONDAY */
    {.sub = "", .kind = HOL_EASTER, .offset = 50, .from = 2008}, /* christian.WHIT_MONDAY */
    /* ges: Grand Est */
    /* ges/57: Moselle */
    {.sub = "ges/57", .kind = HOL_FIXED, .month = 12, .day = 26}, /* SECOND_CHRISTMAS_DAY */
    /* ges/67: Bas-Rhin */
    {.sub = "ges/67", .kind = HOL_FIXED, .month = 12, .day = 26}, /* SECOND_CHRISTMAS_DAY */
    {.sub = "ges/67", .kind = HOL_EASTER, .offset = -2}, /* christian.GOOD_FRIDAY */
    /* ges/68: Haut-Rhin */
    {.sub = "ges/68", .kind = HOL_FIXED, .month = 12, .day = 26}, /* SECOND_CHRISTMAS_DAY */
    {.sub = "ges/68", .kind = HOL_EASTER, .offset = -2}, /* christian.GOOD_FRIDAY */
    /* 971: Guadeloupe */
    {.sub = "971", .kind = HOL_FIXED, .month = 5, .day = 27}, /* ABOLITION_OF_SLAVERY */
    /* 972: Martinique */
    {.sub = "972", .kind = HOL_FIXED, .month = 5, .day = 22}, /* ABOLITION_OF_SLAVERY */
    /* 973: Guyane */
    {.sub = "973", .kind = HOL_FIXED, .month = 6, .day = 10}, /* ABOLITION_OF_SLAVERY */
    /* 974: La Reunion */
    {.sub = "974", .kind = HOL_FIXED, .month = 12, .day = 20}, /* ABOLITION_OF_SLAVERY */
};

static const hol_rule hol_de[] = {
    {.sub = "", .kind = HOL_FIXED, .month = 1, .day = 1}, /* NEW_YEAR */
    {.sub = "", .kind = HOL_FIXED, .month = 5, .day = 1}, /* LABOUR_DAY */
    {.sub = "", .kind = HOL_FIXED, .month = 6, .day = 17, .from = 1954, .to = 1990}, /* UNIFICATION */
    {.sub = "", .kind = HOL_FIXED, .month = 10, .day = 3, .from = 1990}, /* UNIFICATION_GERMANY */
    {.sub = "", .kind = HOL_FIXED, .month = 10, .day = 31, .from = 2017, .to = 2017}, /* REFORMATION_DAY */
    {.sub = "", .kind = HOL_FIXED, .month = 12, .day = 25}, /* FIRST_CHRISTMAS_DAY */
    {.sub = "", .kind = HOL_FIXED, .month = 12, .day = 26}, /* SECOND_CHRISTMAS_DAY */
    /* REPENTANCE_PRAYER */
    {.sub = "", .kind = HOL_REL_FIXED, .wd = WED, .dir = -1, .month = 11, .day = 23, .from = 1934, .to = 1938},
    /* REPENTANCE_PRAYER */
    {.sub = "", .kind = HOL_REL_FIXED, .wd = WED, .dir = -1, .month = 11, .day = 23, .from = 1990, .to = 1994},
    {.sub = "", .kind = HOL_EASTER, .offset = -2}, /* christian.GOOD_FRIDAY */
    {.sub = "", .kind = HOL_EASTER, .offset = 1}, /* christian.EASTER_MONDAY */
    {.sub = "", .kind = HOL_EASTER, .offset = 39}, /* christian.ASCENSION_DAY */
    {.sub = "", .kind = HOL_EASTER, .offset = 50}, /* christian.WHIT_MONDAY */
    /* be: Berlin */
    {.sub = "be", .kind = HOL_FIXED, .month = 3, .day = 8, .from = 2019}, /* INTERNATIONAL_WOMAN */
    {.sub = "be", .kind = HOL_FIXED, .month = 5, .day = 8, .from = 2020, .to = 2020}, /* LIBERATION */
    /* REPENTANCE_PRAYER */
    {.sub = "be", .kind = HOL_REL_FIXED, .wd = WED, .dir = -1, .month = 11, .day = 23, .from = 1945, .to = 1989},
    /* bb: Brandenburg */
    {.sub = "bb", .kind = HOL_FIXED, .month = 10, .day = 31}, /* REFORMATION_DAY */
    {.sub = "bb", .kind = HOL_EASTER, .offset = 0}, /* christian.EASTER */
    {.sub = "bb", .kind = HOL_EASTER, .offset = 49}, /* christian.PENTECOST */
    /* bw: Baden-Württemberg */
    {.sub = "bw", .kind = HOL_FIXED, .month = 1, .day = 6}, /* EPIPHANY */
    {.sub = "bw", .kind = HOL_FIXED, .month = 11, .day = 1}, /* ALL_SAINTS */
    /* REPENTANCE_PRAYER */
    {.sub = "bw", .kind = HOL_REL_FIXED, .wd = WED, .dir = -1, .month = 11, .day = 23, .from = 1945, .to = 1989},
    {.sub = "bw", .kind = HOL_EASTER, .offset = 60}, /* christian.CORPUS_CHRISTI */
    /* by: Bavaria */
    {.sub = "by", .kind = HOL_FIXED, .month = 1, .day = 6}, /* EPIPHANY */
    {.sub = "by", .kind = HOL_FIXED, .month = 11, .day = 1}, /* ALL_SAINTS */
    /* REPENTANCE_PRAYER */
    {.sub = "by", .kind = HOL_REL_FIXED, .wd = WED, .dir = -1, .month = 11, .day = 23, .from = 1981, .to = 1989},
    {.sub = "by", .kind = HOL_EASTER, .offset = 60}, /* christian.CORPUS_CHRISTI */
    /* by/mu: Munich */
    {.sub = "by/mu", .kind = HOL_FIXED, .month = 8, .day = 15}, /* ASSUMPTION_DAY */
    /* by/ag: Augsburg */
    {.sub = "by/ag", .kind = HOL_FIXED, .month = 8, .day = 8}, /* PEACE */
    {.sub = "by/ag", .kind = HOL_FIXED, .month = 8, .day = 15}, /* ASSUMPTION_DAY */
    /* by/wu: Würzburg */
    {.sub = "by/wu", .kind = HOL_FIXED, .month = 8, .day = 15}, /* ASSUMPTION_DAY */
    /* by/re: Regensburg */
    {.sub = "by/re", .kind = HOL_FIXED, .month = 8, .day = 15}, /* ASSUMPTION_DAY */
    /* by/in: Ingolstadt */
    {.sub = "by/in", .kind = HOL_FIXED, .month = 8, .day = 15}, /* ASSUMPTION_DAY */
    /* he: Hessen */
    /* REPENTANCE_PRAYER */
    {.sub = "he", .kind = HOL_REL_FIXED, .wd = WED, .dir = -1, .month = 11, .day = 23, .from = 1945, .to = 1989},
    {.sub = "he", .kind = HOL_EASTER, .offset = 60}, /* christian.CORPUS_CHRISTI */
    {.sub = "he", .kind = HOL_EASTER, .offset = 49}, /* christian.PENTECOST */
    /* mv: Mecklenburg-Vorpommern */
    {.sub = "mv", .kind = HOL_FIXED, .month = 3, .day = 8, .from = 2023}, /* INTERNATIONAL_WOMAN */
    {.sub = "mv", .kind = HOL_FIXED, .month = 10, .day = 31}, /* REFORMATION_DAY */
    /* nw: North Rhine-Westphalia */
    {.sub = "nw", .kind = HOL_FIXED, .month = 11, .day = 1}, /* ALL_SAINTS */
    /* REPENTANCE_PRAYER */
    {.sub = "nw", .kind = HOL_REL_FIXED, .wd = WED, .dir = -1, .month = 11, .day = 23, .from = 1945, .to = 1989},
    {.sub = "nw", .kind = HOL_EASTER, .offset = 60}, /* christian.CORPUS_CHRISTI */
    /* rp: Rhineland-Palatinate */
    {.sub = "rp", .kind = HOL_FIXED, .month = 11, .day = 1}, /* ALL_SAINTS */
    /* REPENTANCE_PRAYER */
    {.sub = "rp", .kind = HOL_REL_FIXED, .wd = WED, .dir = -1, .month = 11, .day = 23, .from = 1945, .to = 1989},
    {.sub = "rp", .kind = HOL_EASTER, .offset = 60}, /* christian.CORPUS_CHRISTI */
    /* sl: Saarland */
    {.sub = "sl", .kind = HOL_FIXED, .month = 11, .day = 1}, /* ALL_SAINTS */
    {.sub = "sl", .kind = HOL_FIXED, .month = 8, .day = 15}, /* ASSUMPTION_DAY */
    /* REPENTANCE_PRAYER */
    {.sub = "sl", .kind = HOL_REL_FIXED, .wd = WED, .dir = -1, .month = 11, .day = 23, .from = 1945, .to = 1989},
    {.sub = "sl", .kind = HOL_EASTER, .offset = 60}, /* christian.CORPUS_CHRISTI */
    /* sn: Saxony */
    {.sub = "sn", .kind = HOL_FIXED, .month = 10, .day = 31}, /* REFORMATION_DAY */
    /* REPENTANCE_PRAYER */
    {.sub = "sn", .kind = HOL_REL_FIXED, .wd = WED, .dir = -1, .month = 11, .day = 23, .from = 1995},
    /* st: Saxony-Anhalt */
    {.sub = "st", .kind = HOL_FIXED, .month = 10, .day = 31}, /* REFORMATION_DAY */
    {.sub = "st", .kind = HOL_FIXED, .month = 1, .day = 6}, /* EPIPHANY */
    /* th: Thuringia */
    {.sub = "th", .kind = HOL_FIXED, .month = 9, .day = 20, .from = 2019}, /* CHILDRENS_DAY */
    {.sub = "th", .kind = HOL_FIXED, .month = 10, .day = 31}, /* REFORMATION_DAY */
    /* sh: Schleswig-Holstein */
    {.sub = "sh", .kind = HOL_FIXED, .month = 10, .day = 31, .from = 2018}, /* REFORMATION_DAY */
    /* REPENTANCE_PRAYER */
    {.sub = "sh", .kind = HOL_REL_FIXED, .wd = WED, .dir = -1, .month = 11, .day = 23, .from = 1945, .to = 1989},
    /* hh: Hamburg */
    {.sub = "hh", .kind = HOL_FIXED, .month = 10, .day = 31, .from = 2018}, /* REFORMATION_DAY */
    /* REPENTANCE_PRAYER */
    {.sub = "hh", .kind = HOL_REL_FIXED, .wd = WED, .dir = -1, .month = 11, .day = 23, .from = 1945, .to = 1989},
    /* hb: Bremen */
    {.sub = "hb", .kind = HOL_FIXED, .month = 10, .day = 31, .from = 2018}, /* REFORMATION_DAY */
    /* REPENTANCE_PRAYER */
    {.sub = "hb", .kind = HOL_REL_FIXED, .wd = WED, .dir = -1, .month = 11, .day = 23, .from = 1945, .to = 1989},
    /* ni: Lower-Saxony */
    {.sub = "ni", .kind = HOL_FIXED, .month = 10, .day = 31, .from = 2018}, /* REFORMATION_DAY */
    /* REPENTANCE_PRAYER */
    {.sub = "ni", .kind = HOL_REL_FIXED, .wd = WED, .dir = -1, .month = 11, .day = 23, .from = 1945, .to = 1989},
};

static const hol_rule hol_gb[] = {
    {.sub = "", .kind = HOL_FIXED, .month = 1, .day = 1, .mv = {{SAT, +1, MON}, {SUN, +1, MON}}}, /* NEW_YEAR */
    /* CHRISTMAS */
    {.sub = "", .kind = HOL_FIXED, .month = 12, .day = 25, .to = 2010,
     .mv = {{SAT, +1, MON}, {SUN, +1, TUE}}},
    /* CHRISTMAS */
    {.sub = "", .kind = HOL_FIXED, .month = 12, .day = 25, .from = 2011, .to = 2011,
     .mv = {{SAT, +1, MON}, {SUN, +1, MON}}},
    /* CHRISTMAS */
    {.sub = "", .kind = HOL_FIXED, .month = 12, .day = 25, .from = 2012,
     .mv = {{SAT, +1, MON}, {SUN, +1, TUE}}},
    /* BOXING_DAY */
    {.sub = "", .kind = HOL_FIXED, .month = 12, .day = 26, .to = 2010,
     .mv = {{SAT, +1, MON}, {SUN, +1, TUE}}},
    /* BOXING_DAY */
    {.sub = "", .kind = HOL_FIXED, .month = 12, .day = 26, .from = 2011, .to = 2011,
     .mv = {{SAT, +1, MON}, {SUN, +1, TUE}, {MON, +1, TUE}}},
    /* BOXING_DAY */
    {.sub = "", .kind = HOL_FIXED, .month = 12, .day = 26, .from = 2012,
     .mv = {{SAT, +1, MON}, {SUN, +1, TUE}}},
    {.sub = "", .kind = HOL_FIXED, .month = 4, .day = 29, .from = 2011, .to = 2011}, /* ROYAL_WEDDING */
    {.sub = "", .kind = HOL_FIXED, .month = 5, .day = 8, .from = 1995, .to = 1995}, /* EARLY_MAY_BANK_HOLIDAY */
    {.sub = "", .kind = HOL_FIXED, .month = 5, .day = 8, .from = 2020, .to = 2020}, /* EARLY_MAY_BANK_HOLIDAY */
    {.sub = "", .kind = HOL_FIXED, .month = 5, .day = 8, .from = 2023, .to = 2023}, /* KINGS_CORONATION */
    {.sub = "", .kind = HOL_FIXED, .month = 6, .day = 2, .from = 2022, .to = 2022}, /* SPRING_BANK_HOLIDAY */
    {.sub = "", .kind = HOL_FIXED, .month = 6, .day = 4, .from = 2012, .to = 2012}, /* SPRING_BANK_HOLIDAY */
    {.sub = "", .kind = HOL_FIXED, .month = 6, .day = 3, .from = 2022, .to = 2022}, /* QUEENS_PLATINUM_JUBILEE */
    {.sub = "", .kind = HOL_FIXED, .month = 6, .day = 5, .from = 2012, .to = 2012}, /* QUEENS_DIAMOND_JUBILEE */
    {.sub = "", .kind = HOL_FIXED, .month = 9, .day = 19, .from = 2022, .to = 2022}, /* QUEENS_STATE_FUNERAL */
    /* EARLY_MAY_BANK_HOLIDAY */
    {.sub = "", .kind = HOL_NTH, .which = 1, .wd = MON, .month = 5, .from = 1900, .to = 1994},
    /* EARLY_MAY_BANK_HOLIDAY */
    {.sub = "", .kind = HOL_NTH, .which = 1, .wd = MON, .month = 5, .from = 1996, .to = 2019},
    {.sub = "", .kind = HOL_NTH, .which = 1, .wd = MON, .month = 5, .from = 2021}, /* EARLY_MAY_BANK_HOLIDAY */
    {.sub = "", .kind = HOL_NTH, .which = HOL_LAST, .wd = MON, .month = 5, .to = 2011}, /* SPRING_BANK_HOLIDAY */
    /* SPRING_BANK_HOLIDAY */
    {.sub = "", .kind = HOL_NTH, .which = HOL_LAST, .wd = MON, .month = 5, .from = 2013, .to = 2021},
    {.sub = "", .kind = HOL_NTH, .which = HOL_LAST, .wd = MON, .month = 5, .from = 2023}, /* SPRING_BANK_HOLIDAY */
    {.sub = "", .kind = HOL_EASTER, .offset = -2}, /* christian.GOOD_FRIDAY */
    /* eng: England */
    {.sub = "eng", .kind = HOL_NTH, .which = HOL_LAST, .wd = MON, .month = 8}, /* SUMMER_BANK_HOLIDAY */
    {.sub = "eng", .kind = HOL_EASTER, .offset = 1}, /* christian.EASTER_MONDAY */
    /* wls: Wales */
    {.sub = "wls", .kind = HOL_NTH, .which = HOL_LAST, .wd = MON, .month = 8}, /* SUMMER_BANK_HOLIDAY */
    {.sub = "wls", .kind = HOL_EASTER, .offset = 1}, /* christian.EASTER_MONDAY */
    /* sct: Scotland */
    /* 2ND_JANUARY */
    {.sub = "sct", .kind = HOL_FIXED, .month = 1, .day = 2,
     .mv = {{SAT, +1, MON}, {SUN, +1, TUE}, {MON, +1, TUE}}},
    /* ST_ANDREW */
    {.sub = "sct", .kind = HOL_FIXED, .month = 11, .day = 30, .from = 2007,
     .mv = {{SAT, +1, MON}, {SUN, +1, MON}}},
    {.sub = "sct", .kind = HOL_NTH, .which = 1, .wd = MON, .month = 8}, /* SUMMER_BANK_HOLIDAY */
    /* nir: Northern Ireland */
    /* ST_PATRICK */
    {.sub = "nir", .kind = HOL_FIXED, .month = 3, .day = 17, .from = 1903,
     .mv = {{SAT, +1, MON}, {SUN, +1, MON}}},
    /* BATTLE_BOYNE */
    {.sub = "nir", .kind = HOL_FIXED, .month = 7, .day = 12,
     .mv = {{SAT, +1, MON}, {SUN, +1, MON}}},
    {.sub = "nir", .kind = HOL_NTH, .which = HOL_LAST, .wd = MON, .month = 8}, /* SUMMER_BANK_HOLIDAY */
    {.sub = "nir", .kind = HOL_EASTER, .offset = 1}, /* christian.EASTER_MONDAY */
};

static const hol_rule hol_us[] = {
    {.sub = "", .kind = HOL_FIXED, .month = 1, .day = 1}, /* NEW_YEAR */
    {.sub = "", .kind = HOL_FIXED, .month = 5, .day = 30, .from = 1869, .to = 1967}, /* MEMORIAL_DAY */
    /* JUNETEENTH */
    {.sub = "", .kind = HOL_FIXED, .month = 6, .day = 19, .from = 2021,
     .mv = {{SAT, -1, FRI}, {SUN, +1, MON}}},
    {.sub = "", .kind = HOL_FIXED, .month = 7, .day = 4, .from = 1776}, /* INDEPENDENCE_DAY */
    {.sub = "", .kind = HOL_FIXED, .month = 11, .day = 11, .from = 1938}, /* VETERANS_DAY */
    {.sub = "", .kind = HOL_FIXED, .month = 12, .day = 25}, /* CHRISTMAS */
    /* ELECTION_DAY */
    {.sub = "", .kind = HOL_REL_NTH, .wd = TUE, .dir = +1, .which = 1, .wd2 = MON, .month = 11, .cycle = HOL_EVEN},
    {.sub = "", .kind = HOL_NTH, .which = 3, .wd = MON, .month = 1, .from = 1986}, /* MARTIN_LUTHER_KING */
    {.sub = "", .kind = HOL_NTH, .which = 3, .wd = MON, .month = 2, .from = 1971}, /* PRESIDENTS_DAY */
    {.sub = "", .kind = HOL_NTH, .which = HOL_LAST, .wd = MON, .month = 5, .from = 1968}, /* MEMORIAL_DAY */
    {.sub = "", .kind = HOL_NTH, .which = 1, .wd = MON, .month = 9, .from = 1895}, /* LABOUR_DAY */
    {.sub = "", .kind = HOL_NTH, .which = 2, .wd = MON, .month = 10, .from = 1937}, /* COLUMBUS_DAY */
    {.sub = "", .kind = HOL_NTH, .which = 4, .wd = THU, .month = 11, .from = 1863}, /* THANKSGIVING */
    /* al: Alabama */
    {.sub = "al", .kind = HOL_NTH, .which = 3, .wd = MON, .month = 1, .from = 1986}, /* MARTIN_LUTHER_KING */
    {.sub = "al", .kind = HOL_NTH, .which = 3, .wd = MON, .month = 2, .from = 1968}, /* WASHINGTONS_BIRTHDAY */
    {.sub = "al", .kind = HOL_NTH, .which = 4, .wd = MON, .month = 4}, /* CONFEDERATE */
    {.sub = "al", .kind = HOL_NTH, .which = 1, .wd = MON, .month = 6}, /* JEFFERSON_DAVIS */
    {.sub = "al", .kind = HOL_NTH, .which = 2, .wd = MON, .month = 10, .from = 1934}, /* COLUMBUS_DAY */
    /* ak: Alaska */
    {.sub = "ak", .kind = HOL_FIXED, .month = 10, .day = 18}, /* ALASKA */
    {.sub = "ak", .kind = HOL_NTH, .which = 3, .wd = MON, .month = 1, .from = 1986}, /* MARTIN_LUTHER_KING */
    {.sub = "ak", .kind = HOL_NTH, .which = 3, .wd = MON, .month = 2, .from = 1968}, /* WASHINGTONS_BIRTHDAY */
    {.sub = "ak", .kind = HOL_NTH, .which = HOL_LAST, .wd = MON, .month = 3}, /* SEWARD */
    /* az: Arizona */
    {.sub = "az", .kind = HOL_FIXED, .month = 2, .day = 22, .from = 1879, .to = 1967}, /* WASHINGTONS_BIRTHDAY */
    {.sub = "az", .kind = HOL_NTH, .which = 3, .wd = MON, .month = 1, .from = 1986}, /* MARTIN_LUTHER_KING */
    {.sub = "az", .kind = HOL_NTH, .which = 3, .wd = MON, .month = 2, .from = 1968}, /* WASHINGTONS_BIRTHDAY */
    {.sub = "az", .kind = HOL_NTH, .which = 2, .wd = MON, .month = 10, .from = 1934}, /* COLUMBUS_DAY */
    /* ar: Arkansas */
    {.sub = "ar", .kind = HOL_FIXED, .month = 12, .day = 24}, /* CHRISTMAS_EVE */
    {.sub = "ar", .kind = HOL_FIXED, .month = 2, .day = 22, .from = 1879, .to = 1967}, /* WASHINGTONS_BIRTHDAY */
    {.sub = "ar", .kind = HOL_NTH, .which = 3, .wd = MON, .month = 1, .from = 1986}, /* MARTIN_LUTHER_KING */
    {.sub = "ar", .kind = HOL_NTH, .which = 3, .wd = MON, .month = 2, .from = 1968}, /* WASHINGTONS_BIRTHDAY */
    /* ca: California */
    {.sub = "ca", .kind = HOL_FIXED, .month = 2, .day = 12}, /* LINCOLN */
    {.sub = "ca", .kind = HOL_FIXED, .month = 3, .day = 31}, /* CESAR_CHAVEZ */
    {.sub = "ca", .kind = HOL_FIXED, .month = 2, .day = 22, .from = 1879, .to = 1967}, /* WASHINGTONS_BIRTHDAY */
    {.sub = "ca", .kind = HOL_NTH, .which = 3, .wd = MON, .month = 1, .from = 1986}, /* MARTIN_LUTHER_KING */
    {.sub = "ca", .kind = HOL_NTH, .which = 3, .wd = MON, .month = 2, .from = 1968}, /* WASHINGTONS_BIRTHDAY */
    /* ca/be: Berkeley */
    {.sub = "ca/be", .kind = HOL_FIXED, .month = 3, .day = 8},
    {.sub = "ca/be", .kind = HOL_FIXED, .month = 10, .day = 21},
    /* co: Colorado */
    {.sub = "co", .kind = HOL_FIXED, .month = 2, .day = 22, .from = 1879, .to = 1967}, /* WASHINGTONS_BIRTHDAY */
    {.sub = "co", .kind = HOL_NTH, .which = 3, .wd = MON, .month = 1, .from = 1986}, /* MARTIN_LUTHER_KING */
    {.sub = "co", .kind = HOL_NTH, .which = 3, .wd = MON, .month = 2, .from = 1968}, /* WASHINGTONS_BIRTHDAY */
    {.sub = "co", .kind = HOL_NTH, .which = 2, .wd = MON, .month = 10, .from = 1906}, /* COLUMBUS_DAY */
    /* ct: Connecticut */
    {.sub = "ct", .kind = HOL_FIXED, .month = 2, .day = 12}, /* LINCOLN */
    {.sub = "ct", .kind = HOL_FIXED, .month = 2, .day = 22, .from = 1879, .to = 1967}, /* WASHINGTONS_BIRTHDAY */
    {.sub = "ct", .kind = HOL_NTH, .which = 3, .wd = MON, .month = 1, .from = 1986}, /* MARTIN_LUTHER_KING */
    {.sub = "ct", .kind = HOL_NTH, .which = 3, .wd = MON, .month = 2, .from = 1968}, /* WASHINGTONS_BIRTHDAY */
    {.sub = "ct", .kind = HOL_NTH, .which = 2, .wd = MON, .month = 10, .from = 1934}, /* COLUMBUS_DAY */
    {.sub = "ct", .kind = HOL_EASTER, .offset = -2}, /* christian.GOOD_FRIDAY */
    /* de: Delaware */
    {.sub = "de", .kind = HOL_FIXED, .month = 2, .day = 22, .from = 1879, .to = 1967}, /* WASHINGTONS_BIRTHDAY */
    {.sub = "de", .kind = HOL_NTH, .which = 3, .wd = MON, .month = 1, .from = 1986}, /* MARTIN_LUTHER_KING */
    {.sub = "de", .kind = HOL_NTH, .which = 3, .wd = MON, .month = 2, .from = 1968}, /* WASHINGTONS_BIRTHDAY */
    {.sub = "de", .kind = HOL_EASTER, .offset = -2}, /* christian.GOOD_FRIDAY */
    /* fl: Florida */
    {.sub = "fl", .kind = HOL_FIXED, .month = 2, .day = 22, .from = 1879, .to = 1967}, /* WASHINGTONS_BIRTHDAY */
    {.sub = "fl", .kind = HOL_NTH, .which = 3, .wd = MON, .month = 1, .from = 1986}, /* MARTIN_LUTHER_KING */
    {.sub = "fl", .kind = HOL_NTH, .which = 3, .wd = MON, .month = 2, .from = 1968}, /* WASHINGTONS_BIRTHDAY */
    {.sub = "fl", .kind = HOL_NTH, .which = 2, .wd = MON, .month = 10, .from = 1934}, /* COLUMBUS_DAY */
    {.sub = "fl", .kind = HOL_NTH, .which = 4, .wd = MON, .month = 4}, /* CONFEDERATE */
    /* ga: Georgia */
    {.sub = "ga", .kind = HOL_FIXED, .month = 2, .day = 22, .from = 1879, .to = 1967}, /* WASHINGTONS_BIRTHDAY */
    {.sub = "ga", .kind = HOL_NTH, .which = 3, .wd = MON, .month = 1, .from = 1986}, /* MARTIN_LUTHER_KING */
    {.sub = "ga", .kind = HOL_NTH, .which = 3, .wd = MON, .month = 2, .from = 1968}, /* WASHINGTONS_BIRTHDAY */
    {.sub = "ga", .kind = HOL_NTH, .which = 2, .wd = MON, .month = 10, .from = 1934}, /* COLUMBUS_DAY */
    {.sub = "ga", .kind = HOL_NTH, .which = 4, .wd = MON, .month = 4}, /* CONFEDERATE */
    /* hi: Hawaii */
    {.sub = "hi", .kind = HOL_FIXED, .month = 3, .day = 26}, /* KALANIANAOLE */
    {.sub = "hi", .kind = HOL_FIXED, .month = 6, .day = 11}, /* KAMEHAMEHA */
    {.sub = "hi", .kind = HOL_FIXED, .month = 2, .day = 22, .from = 1879, .to = 1967}, /* WASHINGTONS_BIRTHDAY */
    {.sub = "hi", .kind = HOL_NTH, .which = 3, .wd = MON, .month = 1, .from = 1986}, /* MARTIN_LUTHER_KING */
    {.sub = "hi", .kind = HOL_NTH, .which = 3, .wd = MON, .month = 2, .from = 1968}, /* WASHINGTONS_BIRTHDAY */
    {.sub = "hi", .kind = HOL_NTH, .which = 3, .wd = FRI, .month = 8}, /* STATEHOOD */
    {.sub = "hi", .kind = HOL_EASTER, .offset = -2}, /* christian.GOOD_FRIDAY */
    /* id: Idaho */
    {.sub = "id", .kind = HOL_FIXED, .month = 2, .day = 22, .from = 1879, .to = 1967}, /* WASHINGTONS_BIRTHDAY */
    {.sub = "id", .kind = HOL_NTH, .which = 3, .wd = MON, .month = 1, .from = 1986}, /* MARTIN_LUTHER_KING */
    {.sub = "id", .kind = HOL_NTH, .which = 3, .wd = MON, .month = 2, .from = 1968}, /* WASHINGTONS_BIRTHDAY */
    {.sub = "id", .kind = HOL_NTH, .which = 2, .wd = MON, .month = 10, .from = 1934}, /* COLUMBUS_DAY */
    /* il: Illinois */
    {.sub = "il", .kind = HOL_FIXED, .month = 2, .day = 12}, /* LINCOLN */
    {.sub = "il", .kind = HOL_FIXED, .month = 2, .day = 22, .from = 1879, .to = 1967}, /* WASHINGTONS_BIRTHDAY */
    /* ELECTION_DAY */
    {.sub = "il", .kind = HOL_REL_NTH, .wd = TUE, .dir = +1, .which = 1, .wd2 = MON, .month = 11, .cycle = HOL_EVEN},
    {.sub = "il", .kind = HOL_NTH, .which = 3, .wd = MON, .month = 1, .from = 1986}, /* MARTIN_LUTHER_KING */
    {.sub = "il", .kind = HOL_NTH, .which = 3, .wd = MON, .month = 2, .from = 1968}, /* WASHINGTONS_BIRTHDAY */
    {.sub = "il", .kind = HOL_NTH, .which = 2, .wd = MON, .month = 10, .from = 1934}, /* COLUMBUS_DAY */
    {.sub = "il", .kind = HOL_NTH, .which = 1, .wd = MON, .month = 3}, /* PULASKI */
    /* in: Indiana */
    {.sub = "in", .kind = HOL_FIXED, .month = 12, .day = 24}, /* CHRISTMAS_EVE */
    {.sub = "in", .kind = HOL_REL_NTH, .wd = TUE, .dir = +1, .which = 1, .wd2 = MON, .month = 5}, /* ELECTION_DAY */
    {.sub = "in", .kind = HOL_REL_NTH, .wd = TUE, .dir = +1, .which = 1, .wd2 = MON, .month = 11}, /* ELECTION_DAY */
    {.sub = "in", .kind = HOL_NTH, .which = 3, .wd = MON, .month = 1, .from = 1986}, /* MARTIN_LUTHER_KING */
    {.sub = "in", .kind = HOL_EASTER, .offset = -2}, /* christian.GOOD_FRIDAY */
    {.sub = "in", .kind = HOL_EASTER, .offset = 1}, /* christian.EASTER_MONDAY */
    /* ia: Iowa */
    {.sub = "ia", .kind = HOL_FIXED, .month = 12, .day = 24}, /* CHRISTMAS_EVE */
    {.sub = "ia", .kind = HOL_FIXED, .month = 12, .day = 31}, /* NEW_YEARS_EVE */
    {.sub = "ia", .kind = HOL_NTH, .which = 3, .wd = MON, .month = 1, .from = 1986}, /* MARTIN_LUTHER_KING */
    /* ks: Kansas */
    {.sub = "ks", .kind = HOL_NTH, .which = 3, .wd = MON, .month = 1, .from = 1986}, /* MARTIN_LUTHER_KING */
    /* ky: Kentucky */
    {.sub = "ky", .kind = HOL_FIXED, .month = 12, .day = 24}, /* CHRISTMAS_EVE */
    {.sub = "ky", .kind = HOL_FIXED, .month = 12, .day = 31}, /* NEW_YEARS_EVE */
    {.sub = "ky", .kind = HOL_NTH, .which = 3, .wd = MON, .month = 1, .from = 1986}, /* MARTIN_LUTHER_KING */
    {.sub = "ky", .kind = HOL_EASTER, .offset = -2}, /* christian.GOOD_FRIDAY */
    /* la: Louisiana */
    {.sub = "la", .kind = HOL_NTH, .which = 3, .wd = MON, .month = 1, .from = 1986}, /* MARTIN_LUTHER_KING */
    {.sub = "la", .kind = HOL_EASTER, .offset = -2}, /* christian.GOOD_FRIDAY */
    {.sub = "la", .kind = HOL_EASTER, .offset = -47}, /* christian.MARDI_GRAS */
    /* me: Maine */
    {.sub = "me", .kind = HOL_FIXED, .month = 2, .day = 22, .from = 1879, .to = 1967}, /* WASHINGTONS_BIRTHDAY */
    {.sub = "me", .kind = HOL_NTH, .which = 3, .wd = MON, .month = 1, .from = 1986}, /* MARTIN_LUTHER_KING */
    {.sub = "me", .kind = HOL_NTH, .which = 3, .wd = MON, .month = 2, .from = 1968}, /* WASHINGTONS_BIRTHDAY */
    {.sub = "me", .kind = HOL_NTH, .which = 2, .wd = MON, .month = 10, .from = 1934}, /* COLUMBUS_DAY */
    /* md: Maryland */
    {.sub = "md", .kind = HOL_FIXED, .month = 2, .day = 22, .from = 1879, .to = 1967}, /* WASHINGTONS_BIRTHDAY */
    /* SERVICE_REDUCTION */
    {.sub = "md", .kind = HOL_REL_NTH, .wd = FRI, .dir = -1, .which = HOL_LAST, .wd2 = MON, .month = 5},
    {.sub = "md", .kind = HOL_REL_NTH, .wd = TUE, .dir = +1, .which = 1, .wd2 = MON, .month = 11}, /* ELECTION_DAY */
    {.sub = "md", .kind = HOL_NTH, .which = 3, .wd = MON, .month = 1, .from = 1986}, /* MARTIN_LUTHER_KING */
    {.sub = "md", .kind = HOL_NTH, .which = 3, .wd = MON, .month = 2, .from = 1968}, /* WASHINGTONS_BIRTHDAY */
    {.sub = "md", .kind = HOL_NTH, .which = 2, .wd = MON, .month = 10, .from = 1934}, /* COLUMBUS_DAY */
    /* ma: Massachusetts */
    {.sub = "ma", .kind = HOL_FIXED, .month = 2, .day = 22, .from = 1879, .to = 1967}, /* WASHINGTONS_BIRTHDAY */
    {.sub = "ma", .kind = HOL_NTH, .which = 3, .wd = MON, .month = 1, .from = 1986}, /* MARTIN_LUTHER_KING */
    {.sub = "ma", .kind = HOL_NTH, .which = 3, .wd = MON, .month = 2, .from = 1968}, /* WASHINGTONS_BIRTHDAY */
    {.sub = "ma", .kind = HOL_NTH, .which = 3, .wd = MON, .month = 4}, /* PATRIOT */
    {.sub = "ma", .kind = HOL_NTH, .which = 2, .wd = MON, .month = 10, .from = 1934}, /* COLUMBUS_DAY */
    /* ma/sc: Suffolk County */
    {.sub = "ma/sc", .kind = HOL_FIXED, .month = 3, .day = 17}, /* EVACUATION */
    {.sub = "ma/sc", .kind = HOL_FIXED, .month = 6, .day = 17}, /* BUNKER_HILL */
    /* ma/ca: Cambridge */
    {.sub = "ma/ca", .kind = HOL_FIXED, .month = 3, .day = 17}, /* EVACUATION */
    /* mi: Michigan */
    {.sub = "mi", .kind = HOL_FIXED, .month = 10, .day = 30},
    {.sub = "mi", .kind = HOL_FIXED, .month = 12, .day = 24}, /* CHRISTMAS_EVE */
    {.sub = "mi", .kind = HOL_FIXED, .month = 12, .day = 31}, /* NEW_YEARS_EVE */
    {.sub = "mi", .kind = HOL_FIXED, .month = 2, .day = 22, .from = 1879, .to = 1967}, /* WASHINGTONS_BIRTHDAY */
    {.sub = "mi", .kind = HOL_NTH, .which = 3, .wd = MON, .month = 1, .from = 1986}, /* MARTIN_LUTHER_KING */
    {.sub = "mi", .kind = HOL_NTH, .which = 3, .wd = MON, .month = 2, .from = 1968}, /* WASHINGTONS_BIRTHDAY */
    {.sub = "mi", .kind = HOL_EASTER, .offset = 1}, /* christian.EASTER_MONDAY */
    /* mn: Minnesota */
    {.sub = "mn", .kind = HOL_FIXED, .month = 2, .day = 22, .from = 1879, .to = 1967}, /* WASHINGTONS_BIRTHDAY */
    {.sub = "mn", .kind = HOL_NTH, .which = 3, .wd = MON, .month = 1, .from = 1986}, /* MARTIN_LUTHER_KING */
    {.sub = "mn", .kind = HOL_NTH, .which = 3, .wd = MON, .month = 2, .from = 1968}, /* WASHINGTONS_BIRTHDAY */
    /* ms: Mississippi */
    {.sub = "ms", .kind = HOL_FIXED, .month = 2, .day = 22, .from = 1879, .to = 1967}, /* WASHINGTONS_BIRTHDAY */
    {.sub = "ms", .kind = HOL_NTH, .which = 3, .wd = MON, .month = 1, .from = 1986}, /* MARTIN_LUTHER_KING */
    {.sub = "ms", .kind = HOL_NTH, .which = 3, .wd = MON, .month = 2, .from = 1968}, /* WASHINGTONS_BIRTHDAY */
    {.sub = "ms", .kind = HOL_NTH, .which = 4, .wd = MON, .month = 4}, /* CONFEDERATE */
    /* mo: Missouri */
    {.sub = "mo", .kind = HOL_FIXED, .month = 2, .day = 12}, /* LINCOLN */
    {.sub = "mo", .kind = HOL_FIXED, .month = 5, .day = 8}, /* TRUMAN */
    {.sub = "mo", .kind = HOL_FIXED, .month = 2, .day = 22, .from = 1879, .to = 1967}, /* WASHINGTONS_BIRTHDAY */
    {.sub = "mo", .kind = HOL_NTH, .which = 3, .wd = MON, .month = 1, .from = 1986}, /* MARTIN_LUTHER_KING */
    {.sub = "mo", .kind = HOL_NTH, .which = 3, .wd = MON, .month = 2, .from = 1968}, /* WASHINGTONS_BIRTHDAY */
    {.sub = "mo", .kind = HOL_NTH, .which = 2, .wd = MON, .month = 10, .from = 1934}, /* COLUMBUS_DAY */
    /* mt: Montana */
    {.sub = "mt", .kind = HOL_FIXED, .month = 12, .day = 24}, /* CHRISTMAS_EVE */
    {.sub = "mt", .kind = HOL_FIXED, .month = 12, .day = 31}, /* NEW_YEARS_EVE */
    {.sub = "mt", .kind = HOL_FIXED, .month = 2, .day = 22, .from = 1879, .to = 1967}, /* WASHINGTONS_BIRTHDAY */
    {.sub = "mt", .kind = HOL_REL_NTH, .wd = TUE, .dir = +1, .which = 1, .wd2 = MON, .month = 11}, /* THANKSGIVING */
    {.sub = "mt", .kind = HOL_NTH, .which = 3, .wd = MON, .month = 1, .from = 1986}, /* MARTIN_LUTHER_KING */
    {.sub = "mt", .kind = HOL_NTH, .which = 3, .wd = MON, .month = 2, .from = 1968}, /* WASHINGTONS_BIRTHDAY */
    /* ne: Nebraska */
    {.sub = "ne", .kind = HOL_FIXED, .month = 2, .day = 22, .from = 1879, .to = 1967}, /* WASHINGTONS_BIRTHDAY */
    {.sub = "ne", .kind = HOL_NTH, .which = 3, .wd = MON, .month = 1, .from = 1986}, /* MARTIN_LUTHER_KING */
    {.sub = "ne", .kind = HOL_NTH, .which = 3, .wd = MON, .month = 2, .from = 1968}, /* WASHINGTONS_BIRTHDAY */
    {.sub = "ne", .kind = HOL_NTH, .which = HOL_LAST, .wd = FRI, .month = 4}, /* ARBOR */
    {.sub = "ne", .kind = HOL_NTH, .which = 2, .wd = MON, .month = 10, .from = 1934}, /* COLUMBUS_DAY */
    /* nv: Nevada */
    {.sub = "nv", .kind = HOL_FIXED, .month = 2, .day = 22, .from = 1879, .to = 1967}, /* WASHINGTONS_BIRTHDAY */
    {.sub = "nv", .kind = HOL_NTH, .which = 3, .wd = MON, .month = 1, .from = 1986}, /* MARTIN_LUTHER_KING */
    {.sub = "nv", .kind = HOL_NTH, .which = 3, .wd = MON, .month = 2, .from = 1968}, /* WASHINGTONS_BIRTHDAY */
    {.sub = "nv", .kind = HOL_NTH, .which = HOL_LAST, .wd = FRI, .month = 10}, /* NEVADA */
    /* nh: New Hampshire */
    {.sub = "nh", .kind = HOL_FIXED, .month = 2, .day = 22, .from = 1879, .to = 1967}, /* WASHINGTONS_BIRTHDAY */
    {.sub = "nh", .kind = HOL_NTH, .which = 3, .wd = MON, .month = 1, .from = 1986}, /* MARTIN_LUTHER_KING */
    {.sub = "nh", .kind = HOL_NTH, .which = 3, .wd = MON, .month = 2, .from = 1968}, /* WASHINGTONS_BIRTHDAY */
    /* nj: New Jersey */
    {.sub = "nj", .kind = HOL_FIXED, .month = 2, .day = 12}, /* LINCOLN */
    {.sub = "nj", .kind = HOL_FIXED, .month = 2, .day = 22, .from = 1879, .to = 1967}, /* WASHINGTONS_BIRTHDAY */
    {.sub = "nj", .kind = HOL_REL_NTH, .wd = TUE, .dir = +1, .which = 1, .wd2 = MON, .month = 11}, /* ELECTION_DAY */
    {.sub = "nj", .kind = HOL_NTH, .which = 3, .wd = MON, .month = 1, .from = 1986}, /* MARTIN_LUTHER_KING */
    {.sub = "nj", .kind = HOL_NTH, .which = 3, .wd = MON, .month = 2, .from = 1968}, /* WASHINGTONS_BIRTHDAY */
    {.sub = "nj", .kind = HOL_NTH, .which = 2, .wd = MON, .month = 10, .from = 1934}, /* COLUMBUS_DAY */
    {.sub = "nj", .kind = HOL_EASTER, .offset = -2}, /* christian.GOOD_FRIDAY */
    /* nm: New Mexico */
    {.sub = "nm", .kind = HOL_NTH, .which = 3, .wd = MON, .month = 1, .from = 1986}, /* MARTIN_LUTHER_KING */
    {.sub = "nm", .kind = HOL_NTH, .which = 2, .wd = MON, .month = 10, .from = 1934}, /* COLUMBUS_DAY */
    /* ny: New York */
    {.sub = "ny", .kind = HOL_FIXED, .month = 2, .day = 22, .from = 1879, .to = 1967}, /* WASHINGTONS_BIRTHDAY */
    {.sub = "ny", .kind = HOL_FIXED, .month = 2, .day = 12}, /* LINCOLN */
    {.sub = "ny", .kind = HOL_REL_NTH, .wd = TUE, .dir = +1, .which = 1, .wd2 = MON, .month = 11}, /* ELECTION_DAY */
    {.sub = "ny", .kind = HOL_NTH, .which = 3, .wd = MON, .month = 1, .from = 1986}, /* MARTIN_LUTHER_KING */
    {.sub = "ny", .kind = HOL_NTH, .which = 3, .wd = MON, .month = 2, .from = 1968}, /* WASHINGTONS_BIRTHDAY */
    {.sub = "ny", .kind = HOL_NTH, .which = 2, .wd = MON, .month = 10, .from = 1934}, /* COLUMBUS_DAY */
    {.sub = "ny", .kind = HOL_EASTER, .offset = 1}, /* christian.EASTER_MONDAY */
    /* ny/nyc: New York City */
    {.sub = "ny/nyc", .kind = HOL_NTH, .which = 1, .wd = THU, .month = 6}, /* BROOKLY_QUEENS */
    /* nc: North Carolina */
    {.sub = "nc", .kind = HOL_FIXED, .month = 12, .day = 24}, /* CHRISTMAS_EVE */
    {.sub = "nc", .kind = HOL_NTH, .which = 3, .wd = MON, .month = 1, .from = 1986}, /* MARTIN_LUTHER_KING */
    {.sub = "nc", .kind = HOL_NTH, .which = 4, .wd = MON, .month = 4}, /* CONFEDERATE */
    {.sub = "nc", .kind = HOL_EASTER, .offset = -2}, /* christian.GOOD_FRIDAY */
    /* nc/ce: Charlotte */
    {.sub = "nc/ce", .kind = HOL_FIXED, .month = 5, .day = 20}, /* INDEPENDENCE_DAY */
    /* nc/me: Mecklenburg */
    {.sub = "nc/me", .kind = HOL_FIXED, .month = 5, .day = 20}, /* INDEPENDENCE_DAY */
    /* nd: North Dakota */
    {.sub = "nd", .kind = HOL_FIXED, .month = 2, .day = 22, .from = 1879, .to = 1967}, /* WASHINGTONS_BIRTHDAY */
    {.sub = "nd", .kind = HOL_NTH, .which = 3, .wd = MON, .month = 1, .from = 1986}, /* MARTIN_LUTHER_KING */
    {.sub = "nd", .kind = HOL_NTH, .which = 3, .wd = MON, .month = 2, .from = 1968}, /* WASHINGTONS_BIRTHDAY */
    {.sub = "nd", .kind = HOL_EASTER, .offset = -2}, /* christian.GOOD_FRIDAY */
    {.sub = "nd", .kind = HOL_EASTER, .offset = 1}, /* christian.EASTER_MONDAY */
    /* oh: Ohio */
    {.sub = "oh", .kind = HOL_FIXED, .month = 2, .day = 22, .from = 1879, .to = 1967}, /* WASHINGTONS_BIRTHDAY */
    {.sub = "oh", .kind = HOL_NTH, .which = 3, .wd = MON, .month = 1, .from = 1986}, /* MARTIN_LUTHER_KING */
    {.sub = "oh", .kind = HOL_NTH, .which = 3, .wd = MON, .month = 2, .from = 1968}, /* WASHINGTONS_BIRTHDAY */
    {.sub = "oh", .kind = HOL_NTH, .which = 2, .wd = MON, .month = 10, .from = 1934}, /* COLUMBUS_DAY */
    /* ok: Oklahoma */
    {.sub = "ok", .kind = HOL_FIXED, .month = 2, .day = 22, .from = 1879, .to = 1967}, /* WASHINGTONS_BIRTHDAY */
    {.sub = "ok", .kind = HOL_NTH, .which = 3, .wd = MON, .month = 1, .from = 1986}, /* MARTIN_LUTHER_KING */
    {.sub = "ok", .kind = HOL_NTH, .which = 3, .wd = MON, .month = 2, .from = 1968}, /* WASHINGTONS_BIRTHDAY */
    /* or: Oregon */
    {.sub = "or", .kind = HOL_FIXED, .month = 2, .day = 22, .from = 1879, .to = 1967}, /* WASHINGTONS_BIRTHDAY */
    {.sub = "or", .kind = HOL_NTH, .which = 3, .wd = MON, .month = 1, .from = 1986}, /* MARTIN_LUTHER_KING */
    {.sub = "or", .kind = HOL_NTH, .which = 3, .wd = MON, .month = 2, .from = 1968}, /* WASHINGTONS_BIRTHDAY */
    /* pa: Pennsylvania */
    {.sub = "pa", .kind = HOL_FIXED, .month = 2, .day = 22, .from = 1879, .to = 1967}, /* WASHINGTONS_BIRTHDAY */
    {.sub = "pa", .kind = HOL_NTH, .which = 3, .wd = MON, .month = 1, .from = 1986}, /* MARTIN_LUTHER_KING */
    {.sub = "pa", .kind = HOL_NTH, .which = 3, .wd = MON, .month = 2, .from = 1968}, /* WASHINGTONS_BIRTHDAY */
    {.sub = "pa", .kind = HOL_NTH, .which = 2, .wd = MON, .month = 10, .from = 1934}, /* COLUMBUS_DAY */
    /* ri: Rhode Island */
    {.sub = "ri", .kind = HOL_NTH, .which = 2, .wd = MON, .month = 8}, /* VICTORY */
    {.sub = "ri", .kind = HOL_NTH, .which = 2, .wd = MON, .month = 10, .from = 1934}, /* COLUMBUS_DAY */
    /* sc: South Carolina */
    {.sub = "sc", .kind = HOL_FIXED, .month = 5, .day = 10}, /* CONFEDERATE */
    {.sub = "sc", .kind = HOL_FIXED, .month = 2, .day = 22, .from = 1879, .to = 1967}, /* WASHINGTONS_BIRTHDAY */
    {.sub = "sc", .kind = HOL_REL_NTH, .wd = TUE, .dir = +1, .which = 1, .wd2 = MON, .month = 11}, /* ELECTION_DAY */
    {.sub = "sc", .kind = HOL_NTH, .which = 3, .wd = MON, .month = 1, .from = 1986}, /* MARTIN_LUTHER_KING */
    {.sub = "sc", .kind = HOL_NTH, .which = 3, .wd = MON, .month = 2, .from = 1968}, /* WASHINGTONS_BIRTHDAY */
    /* sd: South Dakota */
    {.sub = "sd", .kind = HOL_FIXED, .month = 2, .day = 22, .from = 1879, .to = 1967}, /* WASHINGTONS_BIRTHDAY */
    {.sub = "sd", .kind = HOL_NTH, .which = 3, .wd = MON, .month = 1, .from = 1986}, /* MARTIN_LUTHER_KING */
    {.sub = "sd", .kind = HOL_NTH, .which = 3, .wd = MON, .month = 2, .from = 1968}, /* WASHINGTONS_BIRTHDAY */
    {.sub = "sd", .kind = HOL_NTH, .which = 2, .wd = MON, .month = 10, .from = 1934}, /* COLUMBUS_DAY */
    /* tn: Tennesee */
    {.sub = "tn", .kind = HOL_FIXED, .month = 12, .day = 24}, /* CHRISTMAS_EVE */
    {.sub = "tn", .kind = HOL_FIXED, .month = 2, .day = 22, .from = 1879, .to = 1967}, /* WASHINGTONS_BIRTHDAY */
    {.sub = "tn", .kind = HOL_NTH, .which = 3, .wd = MON, .month = 1, .from = 1986}, /* MARTIN_LUTHER_KING */
    {.sub = "tn", .kind = HOL_NTH, .which = 3, .wd = MON, .month = 2, .from = 1968}, /* WASHINGTONS_BIRTHDAY */
    {.sub = "tn", .kind = HOL_NTH, .which = 4, .wd = MON, .month = 4}, /* CONFEDERATE */
    {.sub = "tn", .kind = HOL_EASTER, .offset = -2}, /* christian.GOOD_FRIDAY */
    /* tx: Texas */
    {.sub = "tx", .kind = HOL_FIXED, .month = 12, .day = 24}, /* CHRISTMAS_EVE */
    {.sub = "tx", .kind = HOL_FIXED, .month = 2, .day = 22, .from = 1879, .to = 1967}, /* WASHINGTONS_BIRTHDAY */
    {.sub = "tx", .kind = HOL_NTH, .which = 3, .wd = MON, .month = 1, .from = 1986}, /* MARTIN_LUTHER_KING */
    {.sub = "tx", .kind = HOL_NTH, .which = 3, .wd = MON, .month = 2, .from = 1968}, /* WASHINGTONS_BIRTHDAY */
    {.sub = "tx", .kind = HOL_NTH, .which = 4, .wd = MON, .month = 4}, /* CONFEDERATE */
    /* ut: Utah */
    {.sub = "ut", .kind = HOL_FIXED, .month = 7, .day = 24}, /* PIONEER */
    {.sub = "ut", .kind = HOL_FIXED, .month = 2, .day = 22, .from = 1879, .to = 1967}, /* WASHINGTONS_BIRTHDAY */
    {.sub = "ut", .kind = HOL_NTH, .which = 3, .wd = MON, .month = 1, .from = 1986}, /* MARTIN_LUTHER_KING */
    {.sub = "ut", .kind = HOL_NTH, .which = 3, .wd = MON, .month = 2, .from = 1968}, /* WASHINGTONS_BIRTHDAY */
    {.sub = "ut", .kind = HOL_NTH, .which = 2, .wd = MON, .month = 10, .from = 1934}, /* COLUMBUS_DAY */
    /* vt: Vermont */
    {.sub = "vt", .kind = HOL_FIXED, .month = 2, .day = 22, .from = 1879, .to = 1967}, /* WASHINGTONS_BIRTHDAY */
    {.sub = "vt", .kind = HOL_NTH, .which = 3, .wd = MON, .month = 1, .from = 1986}, /* MARTIN_LUTHER_KING */
    {.sub = "vt", .kind = HOL_NTH, .which = 3, .wd = MON, .month = 2, .from = 1968}, /* WASHINGTONS_BIRTHDAY */
    {.sub = "vt", .kind = HOL_NTH, .which = 3, .wd = MON, .month = 8}, /* BENNINGTON */
    {.sub = "vt", .kind = HOL_NTH, .which = 2, .wd = MON, .month = 10, .from = 1934}, /* COLUMBUS_DAY */
    /* va: Virginia */
    {.sub = "va", .kind = HOL_FIXED, .month = 2, .day = 22, .from = 1879, .to = 1967}, /* WASHINGTONS_BIRTHDAY */
    {.sub = "va", .kind = HOL_REL_NTH, .wd = FRI, .dir = -1, .which = 3, .wd2 = MON, .month = 1}, /* LEE_JACKSON */
    {.sub = "va", .kind = HOL_NTH, .which = 3, .wd = MON, .month = 1, .from = 1986}, /* MARTIN_LUTHER_KING */
    {.sub = "va", .kind = HOL_NTH, .which = 3, .wd = MON, .month = 2, .from = 1968}, /* WASHINGTONS_BIRTHDAY */
    {.sub = "va", .kind = HOL_NTH, .which = 2, .wd = MON, .month = 10, .from = 1934}, /* COLUMBUS_DAY */
    /* wa: Washington */
    {.sub = "wa", .kind = HOL_FIXED, .month = 2, .day = 22, .from = 1879, .to = 1967}, /* WASHINGTONS_BIRTHDAY */
    {.sub = "wa", .kind = HOL_NTH, .which = 3, .wd = MON, .month = 1, .from = 1986}, /* MARTIN_LUTHER_KING */
    {.sub = "wa", .kind = HOL_NTH, .which = 3, .wd = MON, .month = 2, .from = 1968}, /* WASHINGTONS_BIRTHDAY */
    /* dc: District of Columbia */
    {.sub = "dc", .kind = HOL_FIXED, .month = 2, .day = 22, .from = 1879, .to = 1967}, /* WASHINGTONS_BIRTHDAY */
    {.sub = "dc", .kind = HOL_NTH, .which = 3, .wd = MON, .month = 1, .from = 1986}, /* MARTIN_LUTHER_KING */
    {.sub = "dc", .kind = HOL_NTH, .which = 3, .wd = MON, .month = 2, .from = 1968}, /* WASHINGTONS_BIRTHDAY */
    {.sub = "dc", .kind = HOL_NTH, .which = 2, .wd = MON, .month = 10, .from = 1934}, /* COLUMBUS_DAY */
    /* wv: West Virginia */
    {.sub = "wv", .kind = HOL_FIXED, .month = 6, .day = 20}, /* WEST_VIRGINIA */
    {.sub = "wv", .kind = HOL_FIXED, .month = 2, .day = 22, .from = 1879, .to = 1967}, /* WASHINGTONS_BIRTHDAY */
    {.sub = "wv", .kind = HOL_NTH, .which = 3, .wd = MON, .month = 1, .from = 1986}, /* MARTIN_LUTHER_KING */
    {.sub = "wv", .kind = HOL_NTH, .which = 3, .wd = MON, .month = 2, .from = 1968}, /* WASHINGTONS_BIRTHDAY */
    {.sub = "wv", .kind = HOL_NTH, .which = 2, .wd = MON, .month = 10, .from = 1934}, /* COLUMBUS_DAY */
    /* wi: Wisconsin */
    {.sub = "wi", .kind = HOL_FIXED, .month = 2, .day = 22, .from = 1879, .to = 1967}, /* WASHINGTONS_BIRTHDAY */
    {.sub = "wi", .kind = HOL_REL_NTH, .wd = TUE, .dir = +1, .which = 1, .wd2 = MON, .month = 11}, /* ELECTION_DAY */
    {.sub = "wi", .kind = HOL_NTH, .which = 3, .wd = MON, .month = 1, .from = 1986}, /* MARTIN_LUTHER_KING */
    {.sub = "wi", .kind = HOL_NTH, .which = 3, .wd = MON, .month = 2, .from = 1968}, /* WASHINGTONS_BIRTHDAY */
    {.sub = "wi", .kind = HOL_NTH, .which = 2, .wd = TUE, .month = 9}, /* ELECTION_DAY */
    {.sub = "wi", .kind = HOL_NTH, .which = 2, .wd = MON, .month = 10, .from = 1934}, /* COLUMBUS_DAY */
    /* wy: Wyoming */
    {.sub = "wy", .kind = HOL_FIXED, .month = 2, .day = 22, .from = 1879, .to = 1967}, /* WASHINGTONS_BIRTHDAY */
    {.sub = "wy", .kind = HOL_NTH, .which = 3, .wd = MON, .month = 1, .from = 1986}, /* MARTIN_LUTHER_KING */
    {.sub = "wy", .kind = HOL_NTH, .which = 3, .wd = MON, .month = 2, .from = 1968}, /* WASHINGTONS_BIRTHDAY */
};

#define COUNTRY(c) {#c, hol_##c, sizeof hol_##c / sizeof hol_##c[0]}
const hol_country kt_hol_countries[] = {COUNTRY(de), COUNTRY(fr), COUNTRY(gb), COUNTRY(us)};
const size_t kt_hol_ncountries = sizeof kt_hol_countries / sizeof kt_hol_countries[0];
