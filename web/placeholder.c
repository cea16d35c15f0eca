typedef int kt_placeholder_unit;
