/* Expression engine: syntax, operators, printing and errors (reference sections 1, 2, 8). Table-driven:
 * each case renders `tmpl` against `vars` and expects either `out` exactly or an error containing `err`. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "expr/expr.h"
#include "tests/unit/expr/test_expr_cases.h"

static const char *k_vars =
    "{\"inputs\":{\"name\":\"World\",\"n\":3,\"f\":1.5,\"list\":[1,2,3],\"empty\":\"\",\"nul\":null,"
    "\"map\":{\"b\":1,\"a\":2},\"flag\":true,\"s\":\"a,b,,c\"},"
    "\"outputs\":{\"t1\":{\"value\":\"v1\",\"vars\":{\"k\":\"x\"}},\"my-task\":{\"value\":42}},"
    "\"flow\":{\"id\":\"hello\",\"namespace\":\"company.team\"},\"execution\":{\"id\":\"exec1\"},"
    "\"block\":{\"test\":{\"child\":\"awesome\"}},\"inner\":\"test\",\"null\":null,"
    "\"first\":\"1\",\"second\":\"{{first}}\",\"third\":\"{{second}}\",\"fourth\":\"{{render(third, recursive=false)}}\","
    "\"rmap\":{\"third\":\"{{third}}\"},\"loopy\":\"{{loopy2}}\",\"loopy2\":\"{{loopy}}\"}";

static const expr_case k_cases[] = {
    /* text and delimiters */
    {"plain text", NULL, "plain text", NULL},
    {"", NULL, "", NULL},
    {"a { b } c", NULL, "a { b } c", NULL},
    {"Hello {{ inputs.name }} from {{ flow.id }}", NULL, "Hello World from hello", NULL},
    {"{{inputs.name}}", NULL, "World", NULL},
    {"{# comment #}x", NULL, "x", NULL},
    {"a {#- c #} b", NULL, "a b", NULL},
    {"a {# c -#} b", NULL, "a b", NULL},
    {"a {#c-#} b", NULL, "a  b", NULL},
    {"{% verbatim %}{{ x }}{% endverbatim %}", NULL, "{{ x }}", NULL},
    {"See {% raw %}{{ var }}{% endraw %}", NULL, "See {{ var }}", NULL},
    {"{%raw%}{{ a }}{%endraw%} and {%-  raw%}{{ b }}{%endraw -%}", NULL, "{{ a }} and {{ b }}", NULL},
    {"{{ '{% raw %}zz{% endraw %}' }}", NULL, "zz", NULL},
    {"{% raw %}\n{{ x }}{% endraw %}", NULL, NULL, "Unexpected tag name \"raw\""},
    {"x {{- ' y ' -}} z", NULL, "x y z", NULL},
    {"x   {{- 1 }}", NULL, "x1", NULL},
    {"{{ 1 -}}   \n y", NULL, "1y", NULL},
    {"{{-1}}", NULL, "-1", NULL},
    {"{% if true %}\nA\n{% endif %}", NULL, "\nA\n", NULL},
    {"a\n{%- if true -%}\n b \n{%- endif -%}\n c", NULL, "abc", NULL},
    {"{{ {'a': 1} }}", NULL, "{\"a\":1}", NULL},
    /* literals and printing */
    {"{{ 42 }}", NULL, "42", NULL},
    {"{{ 42L }}", NULL, "42", NULL},
    {"{{ 3.14 }}", NULL, "3.14", NULL},
    {"{{ 1.0 }}", NULL, "1.0", NULL},
    {"{{ 1.10 }}", NULL, "1.1", NULL},
    {"{{ 2.0 * 3 }}", NULL, "6.0", NULL},
    {"{{ 0.1 + 0.2 }}", NULL, "0.30000000000000004", NULL},
    {"{{ 1.1 * 3 }}", NULL, "3.3000000000000003", NULL},
    {"{{ 10000000.0 }}", NULL, "1.0E7", NULL},
    {"{{ 1234567.0 }}", NULL, "1234567.0", NULL},
    {"{{ 0.0001 }}", NULL, "1.0E-4", NULL},
    {"{{ 0.001 }}", NULL, "0.001", NULL},
    {"{{ 123456789.123 }}", NULL, "1.23456789123E8", NULL},
    {"{{ 1.0 / 0 }}", NULL, "Infinity", NULL},
    {"{{ -1.0 / 0 }}", NULL, "-Infinity", NULL},
    {"{{ 0.0 / 0 }}", NULL, "NaN", NULL},
    {"{{ 'a\"b' }}", NULL, "a\"b", NULL},
    {"{{ 'it\\'s' }}", NULL, "it's", NULL},
    {"{{ \"say \\\"hi\\\"\" }}", NULL, "say \"hi\"", NULL},
    {"{{ 'a\\nb' }}", NULL, "a\\nb", NULL},
    {"{{ true }}{{ false }}{{ TRUE }}", NULL, "truefalsetrue", NULL},
    {"[{{ null }}][{{ none }}][{{ NULL }}]", NULL, "[][][]", NULL},
    {"{{ [1, 'a', true, null, 1.5] }}", NULL, "[1,\"a\",true,null,1.5]", NULL},
    {"{{ [] }}{{ {} }}", NULL, "[]{}", NULL},
    {"{{ {'b': 1, 'a': 2} }}", NULL, "{\"a\":2,\"b\":1}", NULL},
    {"{{ {'p':1,'a':2,'z':3} }}", NULL, "{\"p\":1,\"a\":2,\"z\":3}", NULL},
    {"{{ {'p':1,'a':2,'z':3} | merge({}) }}", NULL, "{\"a\":2,\"p\":1,\"z\":3}", NULL},
    {"{{ {'name':1,'id':2,'value':3,'type':4} }}", NULL, "{\"name\":1,\"id\":2,\"type\":4,\"value\":3}", NULL},
    {"{{ {'a': null, 'b': 1} }}", NULL, "{\"b\":1}", NULL},
    {"{{ {'a': null} }}", NULL, "{}", NULL},
    {"{{ [1, null] }}", NULL, "[1,null]", NULL},
    {"{{ {2: 'x'} }}", NULL, "{\"2\":\"x\"}", NULL},
    {"{{ ['a\"\\\\b\\n'] }}", NULL, "[\"a\\\"\\\\\\\\b\\\\n\"]", NULL},
    {"{{ inputs.map }}", NULL, "{\"b\":1,\"a\":2}", NULL},
    {"{{ inputs.list }} // {{ inputs.map }}", NULL, "[1,2,3] // {\"b\":1,\"a\":2}", NULL},
    {"{{ \"a#{1+1}b\" }}", NULL, "a2b", NULL},
    {"{{ \"C# rocks\" }}", NULL, "C# rocks", NULL},
    {"{{ \"hi #{inputs.name}!\" }}", NULL, "hi World!", NULL},
    {"{{ \"#{ ({'a':1})['a'] }\" }}", NULL, "1", NULL},
    {"{{ \"#{ {'a':1}['a'] }\" }}", NULL, NULL, "Unexpected token of value \"[\""},
    {"{{ 1..5 }}", NULL, "[1,2,3,4,5]", NULL},
    {"{{ 5..1 }}", NULL, "[]", NULL},
    {"{{ 1..1 }}", NULL, "[1]", NULL},
    {"{{ 'a'..'c' }}", NULL, "[\"a\",\"b\",\"c\"]", NULL},
    {"{{ 9223372036854775807 + 1 }}", NULL, "-9223372036854775808", NULL},
    /* variables and attributes */
    {"{{ outputs.t1.value }}", NULL, "v1", NULL},
    {"{{ outputs.t1['value'] }}", NULL, "v1", NULL},
    {"{{ outputs['my-task'].value }}", NULL, "42", NULL},
    {"{{ outputs.t1.vars.k }}", NULL, "x", NULL},
    {"{{ inputs.list[0] }}{{ inputs.list[2] }}", NULL, "13", NULL},
    {"{{ inputs.list['1'] }}", NULL, "2", NULL},
    {"{{ inputs.list.1 }}", NULL, "2", NULL},
    {"{{ block[inner].child }}", NULL, "awesome", NULL},
    {"{{ block['test'] }}", NULL, "{\"child\":\"awesome\"}", NULL},
    {"{{ execution.id }}/{{ flow.namespace }}", NULL, "exec1/company.team", NULL},
    {"[{{ inputs.nul }}]", NULL, "[]", NULL},
    {"{{ missing }}", NULL, NULL, "Unable to find `missing` used in the expression `{{ missing }}` at line 1"},
    {"a\n{{ inputs.nope }}", NULL, NULL, "Unable to find `nope` used in the expression `a\n{{ inputs.nope }}` at line 2"},
    {"{{ inputs.list[3] }}", NULL, NULL, "Unable to find `3` used"},
    {"{{ inputs.list[-1] }}", NULL, NULL, "Unable to find `-1` used"},
    {"{{ inputs.nul.x }}", NULL, NULL, "Unable to find `x` used"},
    {"{{ null.x }}", NULL, NULL, "Unable to find `x` used"},
    {"{{ inputs.map[0] }}", NULL, NULL, "type class java.lang.String not supported for key 0"},
    {"{{ inputs.map.size }}", NULL, NULL, "Unable to find `size`"},
    {"{{ inputs.map.size() }}", NULL, "2", NULL},
    {"{{ inputs.list.size }}{{ inputs.list.size() }}{{ inputs.list.empty }}", NULL, "33false", NULL},
    {"{{ inputs.list.first }}-{{ inputs.list.last }}", NULL, "1-3", NULL},
    {"{{ inputs.list.contains(2) }}", NULL, "true", NULL},
    {"{{ inputs.name.length }}{{ inputs.name.length() }}", NULL, "55", NULL},
    {"{{ inputs.name.toUpperCase() }}", NULL, "WORLD", NULL},
    {"{{ inputs.name.startsWith('Wo') }}{{ inputs.name.contains('x') }}", NULL, "truefalse", NULL},
    {"{{ 'a,b'.split(',') }}", NULL, "[\"a\",\"b\"]", NULL},
    {"{{ ' x '.trim() }}|{{ 'abc'.replace('b', 'X') }}|{{ 'abc'.indexOf('c') }}", NULL, "x|aXc|2", NULL},
    {"{{ inputs.empty.empty }}", NULL, "true", NULL},
    {"{{ inputs.map.keySet() }}{{ inputs.map.values() }}", NULL, "[\"b\",\"a\"][1,2]", NULL},
    {"{{ inputs.map.containsKey('a') }}{{ inputs.map.get('a') }}", NULL, "true2", NULL},
    {"{{ 'abc'.substring(1) }}", NULL, NULL, "Unable to find `substring`"},
    {"{{ inputs.name.x(named=1) }}", NULL, NULL, "Can not use named arguments when calling a bean method"},
    /* arithmetic */
    {"{{ 7 / 2 }}", NULL, "3", NULL},
    {"{{ 7 / 2.0 }}", NULL, "3.5", NULL},
    {"{{ -7 / 2 }}", NULL, "-3", NULL},
    {"{{ 7 % 3 }}{{ -7 % 3 }}", NULL, "1-1", NULL},
    {"{{ 1 + 2 * 3 }}", NULL, "7", NULL},
    {"{{ (1 + 2) * 3 }}", NULL, "9", NULL},
    {"{{ 10 - 2 - 3 }}", NULL, "5", NULL},
    {"{{ inputs.n * inputs.f }}", NULL, "4.5", NULL},
    {"{{ -inputs.n }}{{ +inputs.n }}", NULL, "-33", NULL},
    {"{{ -inputs.f }}", NULL, "-1.5", NULL},
    {"{{ 'a' + 1 }}", NULL, "a1", NULL},
    {"{{ 1 + 'a' }}", NULL, "1a", NULL},
    {"{{ 'x' + 1.0 }}", NULL, "x1.0", NULL},
    {"{{ 'x' + null }}", NULL, "xnull", NULL},
    {"{{ 'x' + [1, 2] }}", NULL, "x[1, 2]", NULL},
    {"{{ [1] + 2 }}", NULL, "[1,2]", NULL},
    {"{{ [1] + [2, 3] }}", NULL, "[1,2,3]", NULL},
    {"{{ [1, 2, 1] - 1 }}", NULL, "[2,1]", NULL},
    {"{{ [1, 2, 1] - [1] }}", NULL, "[2]", NULL},
    {"{{ 1 / 0 }}", NULL, NULL, "PebbleException: Could not perform division ({{ 1 / 0 }}:1)"},
    {"{{ missing + 1 }}", NULL, NULL, "io.pebbletemplates.pebble.error.PebbleException: Could not perform addition ({{ missing + 1 }}:1)"},
    {"{{ (missing + 1) ?? 0 }}", NULL, NULL, "Could not perform addition"},
    {"{{ true + 1 }}", NULL, NULL, "Could not perform addition"},
    /* an empty interpolation followed by a member access once reached the evaluator as a null node (fuzz) */
    {"{{\"#{}\".e}}", NULL, NULL, "ParserException: Unexpected token \"EOF\""},
    {"{{ 2 - true }}", NULL, NULL, "Could not perform subtraction"},
    {"{{ 2 * 'a' }}", NULL, NULL, "Could not perform multiplication"},
    {"{{ 2 % 'a' }}", NULL, NULL, "Could not perform greater modulus"},
    /* comparison */
    {"{{ 1 == 1.0 }}{{ 1 != 2 }}{{ 'a' == 'a' }}{{ '1' == 1 }}", NULL, "truetruetruefalse", NULL},
    {"{{ 1 equals 1 }}", NULL, "true", NULL},
    {"{{ null == null }}{{ inputs.nul == null }}", NULL, "truetrue", NULL},
    {"{{ [1, 2] == [1, 2] }}{{ {'a': 1} == {'a': 1} }}", NULL, "truetrue", NULL},
    {"{{ 1 < 2 }}{{ 2 > 1 }}{{ 2 <= 2 }}{{ 1 >= 2 }}", NULL, "truetruetruefalse", NULL},
    {"{{ null < 1 }}{{ 1 > null }}", NULL, "falsefalse", NULL},
    {"{{ 'a' < 'b' }}", NULL, NULL, "Could not perform greater modulus"},
    {"{{ 'a' > 'b' }}", NULL, NULL, "Could not perform greater than comparison"},
    {"{{ 'a' >= 'b' }}", NULL, NULL, "Could not perform greater than or equals comparison"},
    {"{{ 'a' <= 'b' }}", NULL, NULL, "Could not perform less than or equals comparison"},
    {"{{ missing == 1 }}", NULL, NULL, "Could not perform equals comparison"},
    {"{{ missing != 1 }}", NULL, NULL, "Could not perform not equals comparison"},
    /* logic */
    {"{{ true and false }}{{ true or false }}{{ not true }}", NULL, "falsetruefalse", NULL},
    {"{{ 1 and 'x' }}{{ 0 or '' }}", NULL, "truefalse", NULL},
    {"{{ not 0 }}{{ not 'false' }}", NULL, "truefalse", NULL},
    {"{{ false and missing }}{{ true or missing }}", NULL, "falsetrue", NULL},
    {"{{ null and true }}", NULL, NULL, "null value used in and operator and strict variables is set to true"},
    {"{{ false or null }}", NULL, NULL, "null value used in or operator and strict variables is set to true"},
    {"{{ not null }}", NULL, NULL, "null value given to not() and strict variables is set to true"},
    {"{{ not [1] }}", NULL, NULL, "Unsupported value type ArrayList. Expected Boolean, String, Number in \"if\" statement"},
    {"{{ not 1 == 2 }}", NULL, "false", NULL},
    {"{{ not (1 == 2) }}", NULL, "true", NULL},
    {"{{ 'origin' }}{{ inputs.list | length }}", NULL, "origin3", NULL},
    /* ternary */
    {"{{ true ? 'y' : 'n' }}{{ false ? 'y' : 'n' }}", NULL, "yn", NULL},
    {"{{ null ? 'y' : 'n' }}{{ 0 ? 'y' : 'n' }}{{ 'x' ? 'y' : 'n' }}", NULL, "nny", NULL},
    {"{{ false ? 1 : true ? 2 : 3 }}", NULL, "2", NULL},
    {"{{ inputs.list[3] is defined ? bla : null }}", NULL, "", NULL},
    /* concatenation */
    {"{{ 'apple' ~ 'pear' ~ 'banana' }}", NULL, "applepearbanana", NULL},
    {"{{ 'a' ~ null ~ 1 }}", NULL, "a1", NULL},
    {"{{ 1.0 ~ '' }}", NULL, "1.0", NULL},
    {"{{ 'l=' ~ [1, 2] ~ {'a': 1} }}", NULL, "l=[1, 2]{a=1}", NULL},
    {"{{ 'a' ~ 'b' | upper }}", NULL, "AB", NULL},
    {"{{ 1 + -5 | abs }}", NULL, "6", NULL},
    {"{{ -5 | abs }}", NULL, "5", NULL},
    {"{{ 1..3 | length }}", NULL, "3", NULL},
    /* contains */
    {"{{ [1, 2] contains 1 }}{{ [1, 2] contains 3 }}{{ [1, 2, 3] contains [1, 3] }}", NULL, "truefalsetrue", NULL},
    {"{{ inputs.map contains 'a' }}{{ inputs.map contains 'z' }}", NULL, "truefalse", NULL},
    {"{{ 'hello' contains 'ell' }}{{ null contains 1 }}", NULL, "truefalse", NULL},
    {"{{ 1 contains 1 }}", NULL, NULL, "Contains operator can only be used on Collections, Maps and arrays. Actual type was: java.lang.Long"},
    {"{{ 1 in [1] }}", NULL, NULL, "Unexpected token of value \"in\" and type NAME, expected token of type PRINT_END"},
    /* coalescing */
    {"{{ null ?? 'IS NULL' }}", NULL, "IS NULL", NULL},
    {"{{ undefined ?? 'IS UNDEFINED' }}", NULL, "IS UNDEFINED", NULL},
    {"[{{ null ??? 'IS NULL' }}]", NULL, "[]", NULL},
    {"{{ undefined ??? 'IS UNDEFINED' }}", NULL, "IS UNDEFINED", NULL},
    {"{{ block ?? 'UNDEFINED' }}", NULL, "{\"test\":{\"child\":\"awesome\"}}", NULL},
    {"{{ missing ?? missing2 }}", NULL, NULL, "Unable to find `missing2`"},
    {"{{ block[missing].child ?? block[inner].child }}", NULL, "awesome", NULL},
    {"{{ a ?? b ?? 'c' }}", NULL, "c", NULL},
    {"{{ 'a' ~ x ?? 'b' }}", NULL, "ab", NULL},
    {"{{ x ?? 'd' | upper }}", NULL, "D", NULL},
    {"{{ inputs.list[9] ?? 'oob' }}", NULL, "oob", NULL},
    {"{{ inputs.nul.x ?? 'n' }}", NULL, "n", NULL},
    {"{{ inputs.map[0] ?? 'n' }}", NULL, NULL, "type class java.lang.String not supported"},
    /* tests */
    {"{{ inputs.name is defined }}{{ missing is defined }}{{ missing is not defined }}", NULL, "truefalsetrue", NULL},
    {"{{ inputs.nul is defined }}{{ null is defined }}", NULL, "falsefalse", NULL},
    {"{{ inner.bla is not defined ? block.test.child : null }}", NULL, "awesome", NULL},
    {"{{ block[missing].child is defined ? null : block[inner].child }}", NULL, "awesome", NULL},
    {"{{ missing is defined ? missing : missing2 }}", NULL, NULL, "Unable to find `missing2`"},
    {"{{ inputs.nul is null }}{{ 1 is null }}{{ 1 is not null }}", NULL, "truefalsetrue", NULL},
    {"{{ missing is null }}", NULL, NULL, "Unable to find `missing`"},
    {"{{ '' is empty }}{{ '  ' is empty }}{{ [] is empty }}{{ {} is empty }}{{ 0 is empty }}{{ null is empty }}", NULL,
     "truetruetruetruefalsetrue", NULL},
    {"{{ 2 is even }}{{ 3 is odd }}{{ 3 is even }}", NULL, "truetruefalse", NULL},
    {"{{ null is even }}", NULL, NULL, "Can not pass null value to \"even\" test."},
    {"{{ [1] is iterable }}{{ {} is iterable }}{{ 'a' is iterable }}", NULL, "truefalsefalse", NULL},
    {"{{ {} is map }}{{ [] is map }}", NULL, "truefalse", NULL},
    {"{{ '1' is json }}{{ '{\"a\":1}' is json }}{{ '' is json }}{{ 'x' is json }}{{ '[1' is json }}", NULL,
     "truetruetruefalsefalse", NULL},
    {"{{ '{\"a\":1} x' is json }}", NULL, "true", NULL},
    {"{{ 1 is foo }}", NULL, NULL, "Test [foo] does not exist."},
    /* if / for / set */
    {"{% if inputs.flag %}yes{% endif %}", NULL, "yes", NULL},
    {"{% if false %}a{% elseif 1 %}b{% else %}c{% endif %}", NULL, "b", NULL},
    {"{% if 0 %}a{% elseif '' %}b{% else %}c{% endif %}", NULL, "c", NULL},
    {"{% if 'false' %}t{% endif %}", NULL, "t", NULL},
    {"{% if missing %}a{% endif %}", NULL, NULL, "Wrong operand(s) type in conditional expression"},
    {"{% if null %}a{% endif %}", NULL, NULL, "Wrong operand(s) type in conditional expression"},
    {"{% if [1] %}a{% endif %}", NULL, NULL, "Wrong operand(s) type in conditional expression"},
    {"{% if missing is defined %}a{% else %}b{% endif %}", NULL, "b", NULL},
    {"{% if true %}a", NULL, NULL, "Unexpected end of template. Pebble was looking for the following tags \"else\", \"elseif\", or \"endif\""},
    {"{% if true %}a{% else %}b", NULL, NULL, "Unexpected end of template. Pebble was looking for the \"endif\" tag"},
    {"{% for x in [1,2] %}a", NULL, NULL, "Pebble was looking for the \"endfor\" tag"},
    {"{% for x in inputs.list %}{{ x }}{% endfor %}", NULL, "123", NULL},
    {"{% for x in inputs.list %}{{ loop.index }}{{ loop.revindex }}{{ loop.first }}{{ loop.last }}{{ loop.length }};{% endfor %}",
     NULL, "02truefalse3;11falsefalse3;20falsetrue3;", NULL},
    {"{% for x in [] %}a{% else %}empty{% endfor %}", NULL, "empty", NULL},
    {"{% for x in null %}a{% else %}empty{% endfor %}", NULL, "", NULL},
    {"{% for e in inputs.map %}{{ e.key }}={{ e.value }},{% endfor %}", NULL, "b=1,a=2,", NULL},
    {"{% for x in 'abc' %}a{% endfor %}", NULL, NULL, "Not an iterable object. Value = [abc]"},
    {"{% for x in 1..3 %}{% for y in 1..2 %}{{ x }}{{ y }} {% endfor %}{% endfor %}", NULL, "11 12 21 22 31 32 ", NULL},
    {"{% for i in range(0, 10, 3) %}{{ i }}{% endfor %}", NULL, "0369", NULL},
    {"{% set x = 5 %}{{ x }}", NULL, "5", NULL},
    {"{% set x = 'a' %}{% for i in [1,2] %}{% set x = x ~ i %}{% endfor %}{{ x }}", NULL, "a12", NULL},
    {"{% for i in [1,2] %}{% set y = i %}{% endfor %}{{ y }}", NULL, NULL, "Unable to find `y`"},
    {"{% set inputs = 'shadow' %}{{ inputs }}", NULL, "shadow", NULL},
    {"{% set null = 1 %}", NULL, NULL, "Can not assign a value to null"},
    {"{% set list = [3, 1, 2] %}{{ list | sort }}", NULL, "[1,2,3]", NULL},
    {"{% filter upper %}hello {{ [1,2,3] }}{% endfilter %}", NULL, "HELLO [1, 2, 3]", NULL},
    {"{% filter lower | replace({'l': 'L'}) %}HELLO{% endfilter %}", NULL, "heLLo", NULL},
    {"{% macro m(x) %}[{{ x }}]{% endmacro %}{{ m([1,2]) }}", NULL, "[[1, 2]]", NULL},
    {"{% macro m(x) %}[{{ x }}]{% endmacro %}{{ m({'a':1}) }}", NULL, "[{a=1}]", NULL},
    {"{{ greet('Bob') }}{% macro greet(who, p='Hi') %}{{ p }} {{ who }}{% endmacro %}", NULL, "Hi Bob", NULL},
    {"{% macro m(x) %}{{ inputs }}{% endmacro %}{{ m(1) }}", NULL, NULL, "Unable to find `inputs`"},
    {"{% macro m(a) %}{% endmacro %}{% macro m(b) %}{% endmacro %}", NULL, NULL, "More than one macro can not share the same name: m"},
    {"{% block post %} content {% endblock %}{{ block('post') }}", NULL, " content  content ", NULL},
    {"{% include 'x' %}", NULL, NULL, "Unexpected tag name \"include\""},
    {"{% %}", NULL, NULL, "A block must start with a tag name."},
    /* syntax errors */
    {"{{ 1e3 }}", NULL, NULL, "Unexpected token of value \"e3\" and type NAME, expected token of type PRINT_END"},
    {"{{ 1 +  }}", NULL, NULL, "Unexpected token \"PRINT_END\" of value \"null\""},
    {"{{ (1 }}", NULL, NULL, "Unclosed \")\""},
    {"{{ (1", NULL, NULL, "Unclosed \"(\""},
    {"{{ [1, 2) }}", NULL, NULL, "Unclosed \"]\""},
    {"{{ 1 ) }}", NULL, NULL, "Unexpected \")\""},
    {"{{ 1 @ 2 }}", NULL, NULL, "Unexpected character [@]"},
    {"{# never closed", NULL, NULL, "Unclosed comment."},
    {"{% verbatim %}x", NULL, NULL, "Unclosed verbatim tag."},
    {"{{ [1,2][0] }}", NULL, NULL, "Unexpected token of value \"[\""},
    {"{{ ([1,2])[0] }}", NULL, "1", NULL},
    {"{{ f(a=1, 2) }}", NULL, NULL, "Positional arguments must be declared before any named arguments."},
    {"{{ 1 | nosuch }}", NULL, NULL, "Filter [nosuch] does not exist."},
    {"{{ nosuch() }}", NULL, NULL, "Function or Macro [nosuch] does not exist."},
    {"{{ 1 }}{{ x", NULL, NULL, "ParserException"},
    {"{{ outputs.my-task }}", NULL, NULL, "Could not perform subtraction"},
    {"{{ 'abc' | abbreviate(1, 2) }}", NULL, NULL, "The argument at position 2 is not allowed. Only 1 argument(s) are allowed."},
    {"{{ 'abc' | abbreviate(len=2) }}", NULL, NULL, "The following named argument does not exist: len"},
    /* more printing and whitespace */
    {"{{ 1e3 is defined }}", NULL, NULL, "Unexpected token of value \"e3\""},
    {"{{ 1000000000000000000000.0 }}|{{ 123456.789 }}|{{ 0.00001 }}|{{ -2.5 }}", NULL, "1.0E21|123456.789|1.0E-5|-2.5", NULL},
    {"{{ 100.0 }}|{{ 9999999.0 }}|{{ 1.0 / 3 }}", NULL, "100.0|9999999.0|0.3333333333333333", NULL},
    {"{{ 2 * 3.0 }}|{{ 10 / 4 }}|{{ 10 / 4.0 }}|{{ 10 % 4 }}|{{ 5.5 % 2 }}", NULL, "6.0|2|2.5|2|1.5", NULL},
    {"  {%- if true %}x{% endif -%}  \n", NULL, "x", NULL},
    {"a {%- set x = 1 -%} b", NULL, "ab", NULL},
    {"{% for i in [1,2,3] -%}\n  {{ i }}\n{%- endfor %}", NULL, "123", NULL},
    {"{% for i in [1,2] %}{% for j in ['a'] %}{{ loop.index }}{{ loop.length }}{% endfor %}{{ loop.length }}{% endfor %}", NULL, "012012", NULL},
    {"{% for i in [1,2] %}{% if loop.first %}[{% endif %}{{ i }}{% if not loop.last %},{% else %}]{% endif %}{% endfor %}", NULL, "[1,2]", NULL},
    {"{% if true %}{% set y = 2 %}{% endif %}{{ y }}", NULL, "2", NULL},
    {"{% macro m(a, b='x' ~ 'y') %}{{ a }}{{ b }}{% endmacro %}{{ m(1) }}|{{ m(1, 2) }}|{{ m(b=3, a=4) }}", NULL, "1xy|12|43", NULL},
    {"{% macro m(a) %}{{ a }}{% endmacro %}{{ m(1, 2) }}", NULL, NULL, "The argument at position 2 is not allowed. Only 1 argument(s) are allowed."},
    {"{% macro m(a) %}{{ a }}{% endmacro %}{{ m(z=1) }}", NULL, NULL, "The following named argument does not exist: z"},
    {"{% macro upper(a) %}mac{% endmacro %}{{ upper('x') }}", NULL, "mac", NULL},
    {"{% macro range(a) %}mac{% endmacro %}{{ range(1, 2) }}", NULL, "[1,2]", NULL},
    {"x\ny\n{{ inputs.list[7] }}", NULL, NULL, "at line 3"},
    {"{% if true %}\n{% if missing %}{% endif %}{% endif %}", NULL, NULL, "(" "{% if true %}\n{% if missing %}{% endif %}{% endif %}:2)"},
    {"{{ 'é' ~ \"ü\" }}{{ '日本' | length }}", NULL, "éü2", NULL},
    {"{{ {'k': [1, {'n': null}]} }}", NULL, "{\"k\":[1,{}]}", NULL},
    {"{{ inputs.map | keys | join(',') }}", NULL, "b,a", NULL},
    {"{{ inputs.s | split(',') }}", NULL, "[\"a\",\"b\",\"\",\"c\"]", NULL},
    {"{{ 'x' ~ inputs.f ~ inputs.n ~ inputs.flag }}", NULL, "x1.53true", NULL},
    {"{{ [1, 2] ~ '' }}{{ inputs.map ~ '' }}", NULL, "[1, 2]{b=1, a=2}", NULL},
    {"{{ 'a' + 'b' }}{{ 1 + 1.5 }}", NULL, "ab2.5", NULL},
    {"{{ inputs.n + inputs.list[0] }}", NULL, "4", NULL},
    {"{{ inputs.nul ?? inputs.name }}", NULL, "World", NULL},
    {"{{ inputs.empty ?? 'x' }}|{{ inputs.empty | default('x') }}", NULL, "|x", NULL},
    {"{{ (inputs.n > 2) and (inputs.name == 'World') }}", NULL, "true", NULL},
    {"{{ inputs.n > 2 and inputs.name == 'World' ? 'yes' : 'no' }}", NULL, "yes", NULL},
    {"{{ inputs.list | length > 2 }}", NULL, "true", NULL},
    {"{{ outputs.t1 contains 'value' }}", NULL, "true", NULL},
    {"{{ outputs['t1']['vars']['k'] }}", NULL, "x", NULL},
    {"{{ outputs.t1.vars.k.missing }}", NULL, NULL, "Unable to find `missing`"},
    {"{{ outputs.t1.vars.k[0] }}", NULL, NULL, "Unable to find `0`"},
    {"{{ true.x }}", NULL, NULL, "Unable to find `x`"},
    {"{% macro m() %}{{ m() }}{% endmacro %}{{ m() }}", NULL, NULL, "Too many nested macro calls"},
    /* recursion and render() */
    {"{{ third }}", NULL, "{{second}}", NULL},
    {"{{ render(third, recursive=false) }}", NULL, "{{first}}", NULL},
    {"{{ render(third) }}", NULL, "1", NULL},
    {"{{ render(fourth) }}", NULL, "1", NULL},
    {"{{ render(rmap) }}", NULL, "{\"third\":\"1\"}", NULL},
    {"{{ render(rmap, recursive=false) }}", NULL, "{\"third\":\"{{second}}\"}", NULL},
    {"{{ render([third]) }}", NULL, "[\"1\"]", NULL},
    {"{{ render(42) }}{{ render(true) }}[{{ render(null) }}]", NULL, "42true[]", NULL},
    {"{{ renderOnce(third) }}", NULL, "{{first}}", NULL},
    {"{% set t = '{{ inputs.name }}' %}{{ render(t) }}", NULL, "World", NULL},
    {"{{ render(loopy) }}", NULL, NULL, "Too many rendering attempts"},
    {"{{ render('{{ nope }}') }}", NULL, NULL, "(?:?)"},
    {NULL, NULL, NULL, NULL},
};

static void test_cases(void **state)
{
    (void)state;
    int failures = run_expr_cases(k_cases, k_vars);
    assert_int_equal(failures, 0);
}

static void test_compile_once_render_many(void **state)
{
    (void)state;
    kt_tmpl *t;
    kt_expr_error err;
    assert_int_equal(kt_tmpl_compile("Hello {{ inputs.name }} from {{ flow.id }}", 42, &t, &err), KT_OK);
    json_t *ctx = json_pack("{s:{s:s},s:{s:s}}", "inputs", "name", "A", "flow", "id", "f");
    for (int i = 0; i < 1000; i++) {
        char *out;
        size_t len;
        assert_int_equal(kt_tmpl_render(t, ctx, NULL, &out, &len, &err), KT_OK);
        assert_string_equal(out, "Hello A from f");
        assert_int_equal(len, 14);
        free(out);
    }
    json_decref(ctx);
    kt_tmpl_free(t);
}

static void test_error_position(void **state)
{
    (void)state;
    kt_tmpl *t;
    kt_expr_error err;
    assert_int_equal(kt_tmpl_compile("line1\n  {{ 1 @ }}", 17, &t, &err), KT_EINVAL);
    assert_int_equal(err.line, 2);
    assert_int_equal(err.col, 8);
    assert_string_equal(err.message, "io.pebbletemplates.pebble.error.ParserException: Unexpected character [@] (line1\n  {{ 1 @ }}:2)");
}

static void test_hostile_nesting(void **state)
{
    (void)state;
    size_t n = 100000;
    char *src = malloc(n + 16);
    kt_tmpl *t;
    kt_expr_error err;
    strcpy(src, "{{ ");
    memset(src + 3, '-', n);
    strcpy(src + 3 + n, "1 }}");
    assert_int_equal(kt_tmpl_compile(src, strlen(src), &t, &err), KT_EINVAL);
    assert_non_null(strstr(err.message, "nested too deeply"));
    src[0] = 0;
    for (int i = 0; i < 5000; i++) strcat(src, "{% if true %}");
    assert_int_equal(kt_tmpl_compile(src, strlen(src), &t, &err), KT_EINVAL);
    assert_non_null(strstr(err.message, "nested too deeply"));
    strcpy(src, "{{ a");
    for (int i = 0; i < 20000; i++) strcat(src, ".b");
    strcat(src, " }}");
    assert_int_equal(kt_tmpl_compile(src, strlen(src), &t, &err), KT_EINVAL);
    assert_non_null(strstr(err.message, "nested too deeply"));
    strcpy(src, "{{ 1");
    for (int i = 0; i < 20000; i++) strcat(src, " + 1");
    strcat(src, " }}");
    assert_int_equal(kt_tmpl_compile(src, strlen(src), &t, &err), KT_EINVAL);
    strcpy(src, "{{ 1");
    for (int i = 0; i < 250; i++) strcat(src, " + 1");
    strcat(src, " }}");
    char *out;
    assert_int_equal(kt_expr_render_string(src, NULL, NULL, &out, &err), KT_OK);
    assert_string_equal(out, "251");
    free(out);
    strcpy(src, "{{ [1] | jq('");
    for (int i = 0; i < 5000; i++) strcat(src, "(");
    strcat(src, "') }}");
    assert_int_equal(kt_expr_render_string(src, NULL, NULL, &out, &err), KT_EINVAL);
    free(src);
}

static void test_binary_text(void **state)
{
    (void)state;
    kt_tmpl *t;
    kt_expr_error err;
    const char src[] = "a\0b{{ 1 }}\0c";
    assert_int_equal(kt_tmpl_compile(src, sizeof src - 1, &t, &err), KT_OK);
    char *out;
    size_t len;
    assert_int_equal(kt_tmpl_render(t, NULL, NULL, &out, &len, &err), KT_OK);
    assert_int_equal(len, 6);
    assert_memory_equal(out, "a\0b1\0c", 6);
    free(out);
    kt_tmpl_free(t);
}

#include <pthread.h>

static kt_tmpl *g_shared;
static void *render_worker(void *arg)
{
    json_t *ctx = json_pack("{s:{s:i}}", "inputs", "n", (int)(intptr_t)arg);
    char want[32];
    snprintf(want, sizeof want, "%d-%d", (int)(intptr_t)arg, (int)(intptr_t)arg * 2);
    intptr_t bad = 0;
    for (int i = 0; i < 2000; i++) {
        char *out;
        kt_expr_error err;
        if (kt_tmpl_render(g_shared, ctx, NULL, &out, NULL, &err) || strcmp(out, want)) bad++;
        else free(out);
    }
    json_decref(ctx);
    return (void *)bad;
}

static void test_threads(void **state)
{
    (void)state;
    kt_expr_error err;
    const char *src = "{% set x = inputs.n %}{{ x }}-{{ [x * 2] | first | date('yyyy', timeZone='Europe/Paris') | length > 0 ? x * 2 : 0 }}";
    assert_int_equal(kt_tmpl_compile(src, strlen(src), &g_shared, &err), KT_OK);
    pthread_t th[4];
    for (intptr_t i = 0; i < 4; i++) pthread_create(&th[i], NULL, render_worker, (void *)(i + 1));
    for (int i = 0; i < 4; i++) {
        void *r;
        pthread_join(th[i], &r);
        assert_int_equal((intptr_t)r, 0);
    }
    kt_tmpl_free(g_shared);
}

static void test_is_template(void **state)
{
    (void)state;
    assert_true(kt_expr_is_template("a {{ b }}"));
    assert_true(kt_expr_is_template("{% if %}"));
    assert_false(kt_expr_is_template("a { b } {#"));
    assert_false(kt_expr_is_template(""));
    assert_false(kt_expr_is_template(NULL));
}

static void test_render_json(void **state)
{
    (void)state;
    json_t *ctx = json_pack("{s:s,s:s}", "test", "top", "test2", "awesome");
    json_t *in = json_loads("{\"string\":\"{{test}}\",\"list\":[\"{{test}}\",\"{{test2}}\"],\"int\":1,"
                            "\"{{test2}}\":{\"n\":null,\"b\":true}}", 0, NULL);
    json_t *out;
    kt_expr_error err;
    assert_int_equal(kt_expr_render_json(in, ctx, NULL, &out, &err), KT_OK);
    char *s = json_dumps(out, JSON_COMPACT | JSON_PRESERVE_ORDER);
    assert_string_equal(s, "{\"string\":\"top\",\"list\":[\"top\",\"awesome\"],\"int\":1,\"awesome\":{\"n\":null,\"b\":true}}");
    free(s);
    json_decref(out);
    json_t *bad = json_string("{{ nope }}");
    assert_int_equal(kt_expr_render_json(bad, ctx, NULL, &out, &err), KT_EINVAL);
    assert_string_equal(err.message, "Unable to find `nope` used in the expression `{{ nope }}` at line 1");
    json_decref(bad);
    /* strings without '{' are not parsed at all */
    bad = json_string("100% {% nope");
    assert_int_equal(kt_expr_render_json(bad, ctx, NULL, &out, &err), KT_EINVAL);
    json_decref(bad);
    bad = json_string("no braces %}");
    assert_int_equal(kt_expr_render_json(bad, ctx, NULL, &out, &err), KT_OK);
    assert_string_equal(json_string_value(out), "no braces %}");
    json_decref(out);
    json_decref(bad);
    json_decref(in);
    json_decref(ctx);
}

static void typed_case(const char *tmpl, const char *expect_json, const char *expect_err)
{
    kt_tmpl *t;
    kt_expr_error err;
    json_t *ctx = json_pack("{s:s}", "s", "str");
    assert_int_equal(kt_tmpl_compile(tmpl, strlen(tmpl), &t, &err), KT_OK);
    json_t *v = NULL;
    kt_status st = kt_tmpl_render_typed(t, ctx, NULL, &v, &err);
    if (expect_err) {
        assert_int_equal(st, KT_EINVAL);
        assert_string_equal(err.message, expect_err);
    } else {
        assert_int_equal(st, KT_OK);
        char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
        assert_string_equal(s, expect_json);
        free(s);
        json_decref(v);
    }
    kt_tmpl_free(t);
    json_decref(ctx);
}

static void test_render_typed(void **state)
{
    (void)state;
    typed_case("{{ 1 }}", "1", NULL);
    typed_case("{{ 1.5 }}", "1.5", NULL);
    typed_case("{{ [1,2,3] }}", "[1,2,3]", NULL);
    typed_case("{{ true }}", "true", NULL);
    typed_case("{{ null }}", "null", NULL);
    typed_case("{{ s }}abc", "\"strabc\"", NULL);
    typed_case("abc{{ 1 }}", NULL, "Tried to add java.lang.Long to java.lang.String");
    typed_case("{{ 1 }} ", NULL, "Tried to add java.lang.Character to java.lang.Long");
    typed_case("{{ 1 }}{{ 2 }}", NULL, "Tried to add java.lang.Long to java.lang.Long");
    typed_case("{% if true %}{{ 2 > 1 }}{% endif %}", "true", NULL);
}

static kt_status fn_echo(void *ud, const json_t *args, json_t **result, kt_expr_error *err)
{
    if (!json_array_size(args)) {
        snprintf(err->message, sizeof err->message, "The 'echo' function expects an argument 'key'.");
        return KT_EINVAL;
    }
    const json_t *ctx = kt_expr_current_context();
    json_t *ns = json_object_get(json_object_get(ctx, "flow"), "namespace");
    *result = json_sprintf("%s:%s:%s", (const char *)ud, json_string_value(json_array_get(args, 0)), json_string_value(ns));
    return KT_OK;
}

static void test_registered_functions(void **state)
{
    (void)state;
    kt_expr_register_function("echo", fn_echo, "ud");
    static const char *const names[] = {"key", "namespace", NULL};
    kt_expr_register_function_named("kvx", names, fn_echo, "kv");
    json_t *ctx = json_pack("{s:{s:s}}", "flow", "namespace", "io.kestra");
    char *out;
    kt_expr_error err;
    assert_int_equal(kt_expr_render_string("{{ echo('k') }}", ctx, NULL, &out, &err), KT_OK);
    assert_string_equal(out, "ud:k:io.kestra");
    free(out);
    assert_int_equal(kt_expr_render_string("{{ kvx(namespace='x', key='a') }}", ctx, NULL, &out, &err), KT_OK);
    assert_string_equal(out, "kv:a:io.kestra");
    free(out);
    assert_int_equal(kt_expr_render_string("{{ echo() }}", ctx, NULL, &out, &err), KT_EINVAL);
    assert_string_equal(err.message, "io.pebbletemplates.pebble.error.PebbleException: The 'echo' function expects an "
                                     "argument 'key'. ({{ echo() }}:1)");
    assert_int_equal(kt_expr_render_string("{{ echo(key='a') }}", ctx, NULL, &out, &err), KT_EINVAL);
    kt_expr_register_function("echo", NULL, NULL);
    assert_int_equal(kt_expr_render_string("{{ echo('k') }}", ctx, NULL, &out, &err), KT_EINVAL);
    assert_non_null(strstr(err.message, "Function or Macro [echo] does not exist."));
    kt_expr_register_function("kvx", NULL, NULL);
    json_decref(ctx);
}

/* A typed render's value stays valid once its template is freed: literals are pinned in the template (parse.c), so
 * the value must carry copies (ASan reported the list's strings as freed with the template). */
static void test_typed_outlives_template(void **state)
{
    (void)state;
    static const char *const cases[][2] = {
        {"{{ ['a', 'b', 1.5] }}", "[\"a\",\"b\",1.5]"},
        {"{{ {'k': 'v', 'n': [2, 'x']} }}", "{\"n\":[2,\"x\"],\"k\":\"v\"}"}, /* Java HashMap order */
        {"{{ 'lit' }}", "\"lit\""},
        {"{{ 42 }}", "42"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        kt_tmpl *t;
        kt_expr_error err = {0};
        assert_int_equal(kt_tmpl_compile(cases[i][0], strlen(cases[i][0]), &t, &err), KT_OK);
        json_t *v = NULL;
        assert_int_equal(kt_tmpl_render_typed(t, NULL, NULL, &v, &err), KT_OK);
        kt_tmpl_free(t);
        /* scribble over freed memory the way a new allocation would */
        char *junk = malloc(4096);
        memset(junk, 'z', 4096);
        char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
        free(junk);
        assert_string_equal(s, cases[i][1]);
        free(s);
        json_decref(v);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cases),
        cmocka_unit_test(test_compile_once_render_many),
        cmocka_unit_test(test_error_position),
        cmocka_unit_test(test_is_template),
        cmocka_unit_test(test_binary_text),
        cmocka_unit_test(test_threads),
        cmocka_unit_test(test_hostile_nesting),
        cmocka_unit_test(test_render_json),
        cmocka_unit_test(test_render_typed),
        cmocka_unit_test(test_typed_outlives_template),
        cmocka_unit_test(test_registered_functions),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
