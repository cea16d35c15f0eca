/* placeholder while the module is written */
typedef int kt_placeholder_unit;
