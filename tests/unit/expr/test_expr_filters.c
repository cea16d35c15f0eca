/* Expression engine: filters, functions and tests catalogue (reference sections 3, 4, 6, 7). */
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
    "{\"list\":[1,2,3,4,5,6,7,8,9],\"words\":[\"b\",\"a\",\"c\"],\"m\":{\"b\":1,\"a\":\"x\",\"n\":null},"
    "\"s\":\"Hello World\",\"int\":1,\"n\":-3,\"f\":1.232654,\"t\":true,\"nul\":null,\"test\":1,"
    "\"my_vars\":{\"test\":[1,2,3]},\"vars\":{\"second\":{\"string\":\"string\",\"int\":1,\"float\":1.123,"
    "\"list\":[\"string\",1,1.123],\"obj\":{\"key\":\"value\"},\"null\":null},\"arr\":[1,2,3]},"
    "\"zoned\":\"2013-09-08T16:19:12.123456+01:00\",\"instant\":\"2013-09-08T15:19:12Z\",\"local\":\"2013-09-08T16:19:12.123456\","
    "\"taskrun\":{\"value\":\"v2\"},\"parents\":[{\"taskrun\":{\"value\":\"p1\"}}],"
    "\"eachout\":{\"p1\":{\"v1\":{\"value\":\"one\"},\"v2\":{\"value\":\"two\"}}}}";

static const expr_case k_cases[] = {
    /* default */
    {"{{ missing | default('d') }}", NULL, "d", NULL},
    {"{{ missing.x | default('d') }}", NULL, "d", NULL},
    {"{{ '  ' | default('d') }}{{ '' | default('d') }}{{ nul | default('d') }}", NULL, "ddd", NULL},
    {"{{ [] | default('d') }}{{ {} | default('d') }}", NULL, "dd", NULL},
    {"{{ 0 | default('d') }}{{ false | default('d') }}{{ 'x' | default('d') }}", NULL, "0falsex", NULL},
    {"{{ list[20] | default('oob') }}", NULL, "oob", NULL},
    {"[{{ missing | default }}]", NULL, "[]", NULL},
    {"{{ missing | upper }}", NULL, NULL, "Unable to find `missing`"},
    /* case */
    {"{{ s | upper }}|{{ s | lower }}", NULL, "HELLO WORLD|hello world", NULL},
    {"{{ 'ß' | upper }}{{ 1 | upper }}", NULL, "SS1", NULL},
    {"{{ 'éàü' | upper }}{{ 'ÉÀÜ' | lower }}", NULL, "ÉÀÜéàü", NULL},
    {"{{ 'hello world' | capitalize }}|{{ '  hi' | capitalize }}", NULL, "Hello world|  Hi", NULL},
    {"{{ 'abc def' | title }}|{{ 'aBC dEF' | title }}", NULL, "Abc Def|ABC DEF", NULL},
    {"[{{ '  x  ' | trim }}]", NULL, "[x]", NULL},
    {"{{ 1 | trim }}", NULL, NULL, "cannot be cast to class java.lang.String"},
    /* abbreviate */
    {"{{ 'hello' | abbreviate(5) }}|{{ 'hello' | abbreviate(4) }}|{{ 'hello' | abbreviate(3) }}|{{ 'hello' | abbreviate(0) }}|{{ 'hello' | abbreviate(10) }}",
     NULL, "he...|h...|hel||hello", NULL},
    {"{{ 'hello' | abbreviate(-1) }}", NULL, NULL, "Invalid argument to abbreviate filter; must be greater than zero"},
    /* replace */
    {"{{ 'john doe is john doe' | replace({'john': 'jane'}) }}", NULL, "jane doe is jane doe", NULL},
    {"{{ 'aa1bb2cc3dd4ee5' | replace({'(\\d)': '-$1-'}, regexp=true) }}", NULL, "aa-1-bb-2-cc-3-dd-4-ee-5-", NULL},
    {"{{ 12 | replace({'1':'2'}) }}", NULL, "22", NULL},
    {"{{ ['a1', 2] | replace({'1':'x', '2': 'y'}) }}", NULL, "[\"ax\",\"y\"]", NULL},
    {"{{ 'abc' | replace('a') }}", NULL, NULL, "cannot be cast to class java.util.Map"},
    {"{{ 'abc' | replace() }}", NULL, NULL, "The argument 'replace_pairs' is required."},
    {"{{ 'a.b.c' | replace({'.': '-'}) }}", NULL, "a-b-c", NULL},
    {"{{ 'a.b.c' | replace({'\\.': '-'}, regexp=true) }}", NULL, "a-b-c", NULL},
    /* split / join */
    {"{{ 'a,b,c' | split(',') }}", NULL, "[\"a\",\"b\",\"c\"]", NULL},
    {"{{ 'a.b' | split('.') }}", NULL, "[]", NULL},
    {"{{ 'a.b' | split('\\.') }}", NULL, "[\"a\",\"b\"]", NULL},
    {"{{ 'a,b,,' | split(',') }}", NULL, "[\"a\",\"b\"]", NULL},
    {"{{ 'a,b,c' | split(',', 2) }}", NULL, "[\"a\",\"b,c\"]", NULL},
    {"{{ 'a,b,,' | split(',', -1) }}", NULL, "[\"a\",\"b\",\"\",\"\"]", NULL},
    {"{{ '' | split(',') }}", NULL, "[\"\"]", NULL},
    {"{{ 'abc' | split('') }}", NULL, "[\"a\",\"b\",\"c\"]", NULL},
    {"{{ 'abc' | split }}", NULL, NULL, "missing delimiter parameter in split filter"},
    {"{{ [1,2,3] | join }}|{{ [1,2,3] | join(', ') }}|{{ [1, null, 1.0] | join('-') }}", NULL, "123|1, 2, 3|1-null-1.0", NULL},
    {"{{ {'a':1} | join }}", NULL, NULL, "The 'join' filter expects that the input is either a collection or an array."},
    /* length, first, last, keys, values */
    {"{{ 'héllo' | length }}{{ list | length }}{{ m | length }}{{ nul | length }}{{ 5 | length }}", NULL, "59300", NULL},
    {"{{ '😀' | length }}", NULL, "2", NULL},
    {"{{ list | first }}{{ list | last }}{{ 'abc' | first }}{{ 'abc' | last }}", NULL, "19ac", NULL},
    {"[{{ [] | first }}]", NULL, "[]", NULL},
    {"{{ m | keys }}{{ words | keys }}", NULL, "[\"b\",\"a\",\"n\"][0,1,2]", NULL},
    {"{{ vars.second.list | keys }}", NULL, "[0,1,2]", NULL},
    {"{{ 'x' | keys }}", NULL, NULL, "'keys' filter can only be applied to List, Map, Array. Actual type was: java.lang.String"},
    {"{{ m | values }}", NULL, "[1,\"x\",null]", NULL},
    {"{{ list | values }}", NULL, NULL, "'values' filter can only be applied to Map. Actual type was: java.util.ArrayList"},
    /* numbers */
    {"{{ n | abs }}{{ -1.5 | abs }}", NULL, "31.5", NULL},
    {"{{ nul | abs }}", NULL, NULL, "Can not pass null value to \"abs\" filter."},
    {"{{ 'x' | abs }}", NULL, NULL, "The 'abs' filter does require as input a number."},
    {"{{ '12' | number + 1 }}|{{ '12.5' | number }}|{{ '0x1F' | number }}|{{ '010' | number('INT') }}", NULL, "13|12.5|31|8", NULL},
    {"{{ '9223372036854775807' | number }}|{{ '12L' | number }}|{{ '2.5' | number('DOUBLE') }}", NULL, "9223372036854775807|12|2.5", NULL},
    {"{{ 'abc' | number }}", NULL, NULL, "abc is not a valid number."},
    {"{{ 12 | number }}", NULL, NULL, "'number' filter can only be applied to String. Actual type was: java.lang.Long"},
    {"{{ f | numberFormat('#.##') }}", NULL, "1.23", NULL},
    {"{{ 1234567.891 | numberFormat('#,##0.00') }}", NULL, "1,234,567.89", NULL},
    {"{{ 0.12345 | numberFormat('#.##%') }}", NULL, "12.35%", NULL},
    {"{{ 1 | numberFormat('0.00') }}", NULL, "1.00", NULL},
    {"{{ 0.5 | numberFormat('0') }}{{ 1.5 | numberFormat('0') }}{{ 2.5 | numberFormat('0') }}", NULL, "022", NULL},
    {"{{ 1234567.891 | numberFormat }}|{{ 1234.5 | numberFormat }}|{{ -1234 | numberFormat }}", NULL, "1,234,567.891|1,234.5|-1,234", NULL},
    {"{{ 0.5 | numberFormat('#.##') }}|{{ 42 | numberFormat('000') }}|{{ 3 | numberFormat('$#,##0.00') }}", NULL, ".5|042|$3.00", NULL},
    {"{{ 'x' | numberFormat }}", NULL, NULL, "The input for the 'NumberFormat' filter has to be a number."},
    {"{{ max(1, 5, 3) }}{{ min(2, 1.5) }}[{{ max() }}]", NULL, "51.5[]", NULL},
    {"{{ range(5, 1, -2) }}{{ range(1, 3) }}", NULL, "[5,3,1][1,2,3]", NULL},
    {"{{ range(1, 3, 0) }}", NULL, NULL, "The increment of the range function must be different than 0"},
    {"{{ range(true, 3) }}", NULL, NULL, "Arguments of range function must be of type Number or String with a length of 1"},
    {"{{ 1 | className }}{{ 'a' | className }}{{ 1.5 | className }}{{ [] | className }}{{ {} | className }}{{ t | className }}",
     NULL, "java.lang.Longjava.lang.Stringjava.lang.Doublejava.util.ArrayListjava.util.LinkedHashMapjava.lang.Boolean", NULL},
    {"{{ int | className }}", NULL, "java.lang.Integer", NULL},
    /* substring*, startsWith, endsWith */
    {"{{ 'a.b.c' | substringBefore('.') }}|{{ 'a.b.c' | substringAfter(separator='.') }}|{{ 'a.b.c' | substringBeforeLast('.') }}|{{ 'a.b.c' | substringAfterLast('.') }}",
     NULL, "a|b.c|a.b|c", NULL},
    {"{{ 'abc' | substringBefore('x') }}|{{ 'abc' | substringAfter('x') }}|{{ 'abc' | substringBeforeLast('x') }}|{{ 'abc' | substringAfterLast('x') }}",
     NULL, "abc||abc|", NULL},
    {"[{{ 'abc' | substringBefore('') }}|{{ 'abc' | substringAfter('') }}|{{ 'abc' | substringBeforeLast('') }}|{{ 'abc' | substringAfterLast('') }}]",
     NULL, "[|abc|abc|]", NULL},
    {"{{ 'abc' | substringBefore }}", NULL, NULL, "The 'substringBefore' filter expects an argument 'separator'."},
    {"{{ 'Hello World' | startsWith('Hello') }}{{ s | endsWith('World') }}{{ 12 | startsWith(1) }}{{ s | startsWith('x') }}", NULL,
     "truetruetruefalse", NULL},
    /* indent / nindent */
    {"[{{ '' | indent(2) }}]", NULL, "[]", NULL},
    {"{{ \"\n\n\" | indent(2) }}", NULL, "\n  \n  ", NULL},
    {"{{ 'string' | indent(2) }}{{ 1 | indent(2) }}", NULL, "string1", NULL},
    {"{{ \"first line\r\nsecond line\" | indent(2) }}", NULL, "first line\r\n  second line", NULL},
    {"{{ \"first line\nsecond line\" | indent(2, \"\t\") }}", NULL, "first line\n\t\tsecond line", NULL},
    {"{{ 'string' | nindent(2) }}{{ 1 | nindent(2) }}", NULL, "\n  string\n  1", NULL},
    {"{{ \"\n\n\" | nindent(2) }}", NULL, "\n  \n  \n  ", NULL},
    {"{{ \"first line\rsecond line\" | nindent(2) }}", NULL, "\r  first line\r  second line", NULL},
    {"[{{ null | indent(2) }}]", NULL, "[]", NULL},
    {"{{ 'x' | indent }}", NULL, NULL, "The 'indent' filter expects an integer as argument 'amount'."},
    {"{{ 'x' | nindent(-1) }}", NULL, NULL, "The 'nindent' filter expects a positive integer >=0 as argument 'amount'."},
    /* escapeChar, slugify */
    {"{{ \"L'eau c'est la vie\" | escapeChar('single') }}", NULL, "L\\'eau c\\'est la vie", NULL},
    {"{{ '\"Hello\"' | escapeChar('double') }}", NULL, "\\\"Hello\\\"", NULL},
    {"{{ \"L'eau c'est la vie\" | escapeChar('shell') }}", NULL, "L'\\''eau c'\\''est la vie", NULL},
    {"[{{ '' | escapeChar('single') }}]", NULL, "[]", NULL},
    {"{{ 'x' | escapeChar('foo') }}", NULL, NULL, "The 'escapeChar' filter expects the value of 'type' to be either 'single', 'double', or 'shell'."},
    {"{{ 'x' | escapeChar }}", NULL, NULL, "The 'escapeChar' filter expects an argument 'type'."},
    {"{{ \"Test\t\t\ntest*\" | slugify }}|{{ ' Hello  World! ' | slugify }}|{{ 'Crème brûlée' | slugify }}|{{ '日本' | slugify }}|{{ 'a_b--c' | slugify }}",
     NULL, "test-test|hello-world|creme-brulee||a-b-c", NULL},
    /* encodings and hashes */
    {"{{ 'hi' | base64encode }}{{ 1 | base64encode }}{{ 'aGk=' | base64decode }}", NULL, "aGk=MQ==hi", NULL},
    {"{{ '!!' | base64decode }}", NULL, NULL, "Please provide a correctly Base64 encoded string containing an UTF-8 string"},
    {"{{ 1 | base64decode }}", NULL, NULL, "This filter applies to String"},
    {"{{ 'hello' | md5 }}", NULL, "5d41402abc4b2a76b9719d911017c592", NULL},
    {"{{ 'hello' | sha1 }}", NULL, "aaf4c61ddcc5e8a2dabede0f3b482cd9aea9434d", NULL},
    {"{{ 'abc' | sha256 }}", NULL, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", NULL},
    {"{{ '' | sha256 }}", NULL, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", NULL},
    {"{{ 'abc' | sha512 }}", NULL,
     "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f", NULL},
    {"{{ 1 | md5 }}", NULL, NULL, "Need a string to hash"},
    {"{{ 'a b&c' | urlencode }}|{{ 'é' | urlencode }}|{{ 'Kestra rulez !' | urlencode | urldecode }}", NULL, "a+b%26c|%C3%A9|Kestra rulez !", NULL},
    {"{{ '%zz' | urldecode }}", NULL, NULL, "URLDecoder: Illegal hex characters"},
    /* ordering, slicing, merge, chunk, flatten */
    {"{{ words | sort }}{{ words | rsort }}{{ words | reverse }}{{ [3, 1.5] | className }}", NULL,
     "[\"a\",\"b\",\"c\"][\"c\",\"b\",\"a\"][\"c\",\"a\",\"b\"]java.util.ArrayList", NULL},
    {"{{ [true, false] | sort }}{{ [2.5, 1.5] | sort }}", NULL, "[false,true][1.5,2.5]", NULL},
    {"{{ [1, 'a'] | sort }}", NULL, NULL, "cannot be cast"},
    {"{{ 'x' | sort }}", NULL, NULL, "Unsupported input type for sort filter"},
    {"{{ 'abcdef' | slice(1,3) }}|{{ list | slice(2, 4) }}|{{ 'abc' | slice(1) }}", NULL, "bc|[3,4]|bc", NULL},
    {"{{ 'abc' | slice(1, 9) }}", NULL, NULL, "toIndex must be smaller than input size: 3"},
    {"{{ 'abc' | slice(2, 1) }}", NULL, NULL, "toIndex must be greater than fromIndex"},
    {"{{ 'abc' | slice('a') }}", NULL, NULL, "Argument fromIndex must be a number. Actual type: java.lang.String"},
    {"{{ 1 | slice(1) }}", NULL, NULL, "Slice filter can only be applied to String, List and array inputs. Actual type was: java.lang.Long"},
    {"{{ [1, 2] | merge([3]) }}{{ {'a': 1} | merge({'b': 2, 'a': 3}) }}", NULL, "[1,2,3]{\"a\":3,\"b\":2}", NULL},
    {"{{ [1] | merge({'k': 2}) }}", NULL, "[1,{\"k\":2}]", NULL},
    {"{{ nul | merge([1]) }}{{ [1] | merge(nul) }}", NULL, "[1][1]", NULL},
    {"{{ nul | merge(nul) }}", NULL, NULL, "The two arguments to be merged are null"},
    {"{{ 'x' | merge([1]) }}", NULL, NULL, "The object being filtered is not a Map/List/Array"},
    {"{{ [1] | merge('x') }}", NULL, NULL, "Currently, only Maps and Lists can be merged with a List. Arg2: java.lang.String"},
    {"{{ list | chunk(2) }}", NULL, "[[1,2],[3,4],[5,6],[7,8],[9]]", NULL},
    {"{{ test | chunk(2) }}", NULL, NULL, "'chunk' filter can only be applied to List. Actual type was: java.lang.Long"},
    {"{{ list | chunk }}", NULL, NULL, "'chunk' filter expects an argument 'size'."},
    {"{{ [[1,2],[3],4] | flatten }}{{ [['a'], 'b'] | flatten | first }}", NULL, "[1,2,3,4]a", NULL},
    {"{{ 'x' | flatten }}", NULL, NULL, "The 'flatten' filter can only be applied to lists."},
    /* JSON / YAML / Ion */
    {"{{ 'string' | toJson }}|{{ 1 | toJson }}|{{ vars.second.list | toJson }}|{{ true | toJson }}|{{ null | toJson }}", NULL,
     "\"string\"|1|[\"string\",1,1.123]|true|null", NULL},
    {"{{ {\"empty_object\":{}} | toJson }}", NULL, "{\"empty_object\":{}}", NULL},
    {"{{ vars.second.string | json }}", NULL, "\"string\"", NULL},
    {"{{ 'a\"\\\\\n\t\x01é/' | toJson }}", NULL, "\"a\\\"\\\\\\\\\\n\\t\\u0001é/\"", NULL},
    {"{{ {not: json} | toJson }}", NULL, NULL, "Exception"},
    {"{{ fromJson('{\"test1\": 1, \"test2\": 2, \"test3\": 3}').test1 }}", NULL, "1", NULL},
    {"{{ fromJson('{\"test1\": [{\"test1\": 666}, 2, 3], \"test2\": 2, \"test3\": 3}').test1[0].test1 }}", NULL, "666", NULL},
    {"{{ fromJson('[1, 2, 3]')[0] }}{{ fromJson('{\"empty_object\":{}}') }}[{{ fromJson(null) }}]", NULL, "1{\"empty_object\":{}}[]", NULL},
    {"{{ json('{\"test1\": 1}').test1 }}{{ fromJson('1 2') }}", NULL, "11", NULL},
    {"{{ fromJson() }}", NULL, NULL, "The 'fromJson' function expects an argument 'json'."},
    {"{{ fromJson(1) }}", NULL, NULL, "The 'fromJson' function expects an argument 'json' with type string."},
    {"{{ fromJson('{not: json}') }}", NULL, NULL, "Invalid json:"},
    {"{{ 'string' | yaml }}", NULL, "string\n", NULL},
    {"{{ 1 | yaml }}{{ true | yaml }}{{ null | yaml }}", NULL, "1\ntrue\nnull", NULL},
    {"{{ vars.second.list | yaml }}", NULL, " - string\n - 1\n - 1.123\n", NULL},
    {"{{ {'a': {'b': [1, {'c': 'd'}]}, 'e': ''} | yaml }}", NULL, "a:\n  b:\n   - 1\n   - c: d\ne: \"\"\n", NULL},
    {"{{ ['true', '1', 'null', 'a: b', '-x', 'ok'] | yaml }}", NULL, " - \"true\"\n - \"1\"\n - \"null\"\n - \"a: b\"\n - \"-x\"\n - ok\n", NULL},
    {"{{ {'empty': [], 'm': {}} | yaml }}", NULL, "m: {}\nempty: []\n", NULL},
    {"{{ \"a\nb\" | yaml }}", NULL, "|-\n  a\n  b\n", NULL},
    {"{{ yaml('string: string\nint: 123\nbool: true\nfloat: 1.23\ndate: \"1991-08-20\"\nobject:\n  child:\n    key: value\narray: [string]').object.child.key }}",
     NULL, "value", NULL},
    {"{{ yaml('int: 123\nfloat: 1.23\nb: true\nn: ~\ns: \"x\"\nl:\n  - a\n  - 1') }}", NULL,
     "{\"int\":123,\"float\":1.23,\"b\":true,\"s\":\"x\",\"l\":[\"a\",1]}", NULL},
    {"{{ yaml(1) }}", NULL, NULL, "The 'yaml' function expects an argument 'yaml' with type string."},
    {"{{ yaml('a: [') }}", NULL, NULL, "Invalid yaml:"},
    {"{{ {\"empty_object\":{}} | toIon }}|{{ null | toIon }}|{{ ['s', 1, 1.5, true] | toIon }}|{{ {'a b': 1} | toIon }}", NULL,
     "{empty_object:{}}|null|[\"s\",1,1.5e0,true]|{'a b':1}", NULL},
    {"{{ fromIon('{date:2024-04-21T23:00:00.000Z, title:\"Main_Page\",views:109787}').title }}", NULL, "Main_Page", NULL},
    {"{{ fromIon('{date:2024-04-21T23:00:00.000Z, views:109787, n:null, f:1.5e0, d:2.50, l:[a, \\'b c\\', 0x10], b:true}') }}", NULL,
     "{\"date\":\"2024-04-21T23:00:00.000Z\",\"views\":109787,\"f\":1.5,\"d\":2.5,\"l\":[\"a\",\"b c\",16],\"b\":true}", NULL},
    {"{{ fromIon('ZonedDateTime::\"2013-09-08T16:19:00+02:00\"') }}|{{ fromIon(\"'''a''' '''b'''\") }}", NULL, "2013-09-08T16:19:00+02:00|ab", NULL},
    {"[{{ fromIon(null) }}]", NULL, "[]", NULL},
    {"{{ fromIon() }}", NULL, NULL, "The 'fromIon' function expects an argument 'ion'."},
    {"{{ fromIon('{not: ion') }}", NULL, NULL, "Invalid ion:"},
    /* jq */
    /* numbers past a double's range (jansson cannot hold infinity): no crash, Java's words */
    {"{{ '1e999' | number('DOUBLE') }}|{{ '-1e999' | number }}", NULL, "Infinity|-Infinity", NULL},
    {"{{ [1] | jq('-1e999') }}", NULL, NULL, "Unable to parse jq value '[1]'"},
    {"{{ [1] | jq('1e999 - 1') }}", NULL, NULL, "Unable to parse jq value '[1]'"},
    {"{{ [1, 2, 3] | jq('.[0]') | first }}", NULL, "1", NULL},
    {"{{ my_vars | jq('.test[0]') }}", NULL, "[1]", NULL},
    {"{{ vars | jq('.arr[]') }}", NULL, "[1,2,3]", NULL},
    {"{{ vars | jq('.second.string') }}{{ vars | jq('.second.string') | first }}", NULL, "[\"string\"]string", NULL},
    {"{% set object = vars | jq('.second.obj') %}{{ object[0].key }}", NULL, "value", NULL},
    {"[{{ vars | jq('.second.null') | first | className }}]", NULL, "[]", NULL},
    {"{{ '{\"a\":{\"b\":[1,2]}}' | jq('.a.b | length') }}", NULL, "[2]", NULL},
    {"{{ vars | jq('.second.list | map(type)') }}", NULL, "[[\"string\",\"number\",\"number\"]]", NULL},
    {"{{ [1,2,3,4] | jq('map(select(. > 2))') }}", NULL, "[[3,4]]", NULL},
    {"{{ [1,2,3,4] | jq('.[] | select(. % 2 == 0) | . * 10') }}", NULL, "[20,40]", NULL},
    {"{{ {'a': 1, 'b': 2} | jq('keys') }}{{ {'a': 1} | jq('.a, .a + 1') }}", NULL, "[[\"a\",\"b\"]][1,2]", NULL},
    {"{{ [{'n': 'x', 'v': 1}, {'n': 'y', 'v': 2}] | jq('.[] | {name: .n, val: (.v * 2)}') }}", NULL,
     "[{\"name\":\"x\",\"val\":2},{\"name\":\"y\",\"val\":4}]", NULL},
    {"{{ [1, [2]] | jq('.[1][0], .[5], .x?') }}", NULL, "[2,null]", NULL},
    {"{{ {'a': 'x'} | jq('.a | ascii_upcase, (\"p-\" + .), tostring, length') }}", NULL, "[\"X\",\"p-x\",\"x\",1]", NULL},
    {"{{ [3,1,2] | jq('sort, add, min, max, (. | reverse), first, last, .[1:], to_entries[0]') }}", NULL,
     "[[1,2,3],6,1,3,[2,1,3],3,2,[1,2],{\"key\":0,\"value\":3}]", NULL},
    {"{{ {'a': 1} | jq('has(\"a\"), (.a // 5), (.b // 5), (if .a == 1 then \"one\" else \"other\" end), [.[]]') }}", NULL,
     "[true,1,5,\"one\",[1]]", NULL},
    {"{{ [1] | jq('.[') }}", NULL, NULL, "Unable to parse jq value '[1]' with type 'java.util.ArrayList'"},
    {"{{ [1] | jq }}", NULL, NULL, "The 'jq' filter expects an argument 'expression'."},
    /* dates */
    {"{{ instant | date(format=\"iso_sec\", timeZone=\"Europe/Paris\") }}", NULL, "2013-09-08T17:19:12+02:00", NULL},
    {"{{ zoned | date(format=\"iso\", timeZone=\"Europe/Paris\") }}", NULL, "2013-09-08T17:19:12.123456+02:00", NULL},
    {"{{ local | date(format=\"yyyy-MM-dd HH:mm:ss.SSSSSSXXX\", timeZone=\"Europe/Paris\") }}", NULL, "2013-09-08 16:19:12.123456+02:00", NULL},
    {"{{ local | date(format=\"yyyy-MM-dd HH:mm:ss.SSSSSSXXX\", timeZone=\"UTC\") }}", NULL, "2013-09-08 16:19:12.123456Z", NULL},
    {"{{ \"July 24, 2001\" | date(\"yyyy-MM-dd\", existingFormat=\"MMMM dd, yyyy\") }}", NULL, "2001-07-24", NULL},
    {"{{ \"2013-09-08T17:19:12+02:00\" | date(timeZone=\"Europe/Paris\") }}", NULL, "2013-09-08T17:19:12.000000+02:00", NULL},
    {"{{ \"2013-09-08T17:19:12\" | date(timeZone=\"Europe/Paris\") }}", NULL, "2013-09-08T17:19:12.000000+02:00", NULL},
    {"{{ \"2013-09-08\" | date(timeZone=\"Europe/Paris\") }}", NULL, "2013-09-08T00:00:00.000000+02:00", NULL},
    {"{{ 'Tue, 08 Feb 2022 19:38:26 GMT' | date(existingFormat='rfc_1123_date_time', timeZone=\"Europe/Paris\") }}", NULL,
     "2022-02-08T20:38:26.000000+01:00", NULL},
    {"{{ 1378649940 | date }}", NULL, "2013-09-08T14:19:00.000000Z", NULL},
    {"{{ instant | date }}|{{ instant | date('yyyy') }}", NULL, "2013-09-08T15:19:12.000000Z|2013", NULL},
    {"{{ zoned | date('iso_date_time', timeZone='Europe/Paris') }}|{{ zoned | date('iso_instant') }}|{{ instant | date('iso_date_time') }}",
     NULL, "2013-09-08T17:19:12.123456+02:00[Europe/Paris]|2013-09-08T15:19:12.123456Z|2013-09-08T15:19:12Z[Etc/UTC]", NULL},
    {"{{ zoned | date('iso_date', timeZone='Europe/Paris') }}|{{ zoned | date('iso_time', timeZone='Europe/Paris') }}|{{ zoned | date('iso_local_date') }}",
     NULL, "2013-09-08+02:00|17:19:12.123456+02:00|2013-09-08", NULL},
    {"{{ zoned | date('iso_local_date_time') }}|{{ zoned | date('iso_local_time') }}|{{ zoned | date('iso_ordinal_date') }}|{{ zoned | date('iso_week_date') }}",
     NULL, "2013-09-08T15:19:12.123456|15:19:12.123456|2013-251Z|2013-W36-7Z", NULL},
    {"{{ zoned | date('rfc_1123_date_time', timeZone='Europe/Paris') }}|{{ zoned | date('rfc_1123_date_time') }}", NULL,
     "Sun, 8 Sep 2013 17:19:12 +0200|Sun, 8 Sep 2013 15:19:12 GMT", NULL},
    {"{{ zoned | date('sql') }}|{{ zoned | date('sql_seq') }}", NULL, "2013-09-08 15:19:12.123456|2013-09-08 15:19:12", NULL},
    {"{{ instant | date('medium') }}|{{ instant | date('short') }}", NULL, "Sep 8, 2013, 3:19:12\u202fPM|9/8/13, 3:19\u202fPM", NULL},
    {"{{ zoned | date('EEEE d MMMM yyyy, EEE MMM, a h K k, D Q QQQ, z', timeZone='Europe/Paris') }}", NULL,
     "Sunday 8 September 2013, Sun Sep, PM 5 5 17, 251 3 Q3, CEST", NULL},
    {"{{ zoned | date('X XX XXX x Z ZZZZZ O OOOO VV', timeZone='Asia/Kolkata') }}", NULL,
     "+0530 +0530 +05:30 +0530 +0530 +05:30 GMT+5:30 GMT+05:30 Asia/Kolkata", NULL},
    {"{{ zoned | date('X x O', timeZone='UTC') }}|{{ zoned | date('HH:mm', timeZone='+03:00') }}|{{ zoned | date('HH:mm', timeZone='GMT-2') }}",
     NULL, "Z +00 GMT|18:19|13:19", NULL},
    {"{{ zoned | date(\"'at' HH'h' ''\") }}", NULL, "at 15h '", NULL},
    {"{{ zoned | date(timeZone='Mars/Base') }}", NULL, NULL, "Unknown time-zone ID: Mars/Base"},
    {"{{ 'garbage' | date }}", NULL, NULL, "Text 'garbage' could not be parsed at index 0"},
    {"{{ 1.5 | date }}", NULL, NULL, "cannot be cast to class java.lang.String"},
    {"{{ zoned | date('bbb') }}", NULL, NULL, "Unknown pattern letter: b"},
    {"{{ zoned | dateAdd(-1, 'DAYS', timeZone='Europe/Paris') }}", NULL, "2013-09-07T17:19:12.123456+02:00", NULL},
    {"{{ '2024-01-31' | dateAdd(1, 'MONTHS', 'iso_local_date') }}|{{ '2023-01-31' | dateAdd(1, 'MONTHS', 'iso_local_date') }}", NULL,
     "2024-02-29|2023-02-28", NULL},
    {"{{ '2024-03-30T12:00:00' | dateAdd(1, 'DAYS', timeZone='Europe/Paris') }}", NULL, "2024-03-31T12:00:00.000000+02:00", NULL},
    {"{{ '2024-03-30T12:00:00' | dateAdd(24, 'HOURS', timeZone='Europe/Paris') }}", NULL, "2024-03-31T13:00:00.000000+02:00", NULL},
    {"{{ instant | dateAdd(90, 'MINUTES', 'iso_sec') }}|{{ instant | dateAdd(1500, 'MILLIS', 'iso') }}|{{ instant | dateAdd(2, 'WEEKS', 'iso_local_date') }}",
     NULL, "2013-09-08T16:49:12Z|2013-09-08T15:19:13.500000Z|2013-09-22", NULL},
    {"{{ instant | dateAdd(1, 'YEARS', 'yyyy') }}{{ instant | dateAdd(-1, 'DECADES', 'yyyy') }}", NULL, "20142003", NULL},
    {"{{ instant | dateAdd(1, 'days') }}", NULL, NULL, "No enum constant java.time.temporal.ChronoUnit.days"},
    {"{{ zoned | timestamp(timeZone=\"Europe/Paris\") }}", NULL, "1378653552", NULL},
    {"{{ zoned | timestampMicro(timeZone=\"Europe/Paris\") }}", NULL, "1378653552000123456", NULL},
    {"{{ zoned | timestampNano(timeZone=\"Europe/Paris\") }}", NULL, "1378653552123456000", NULL},
    {"{{ (zoned | timestamp) > (zoned | dateAdd(-1, 'DAYS') | timestamp) }}", NULL, "true", NULL},
    {"{{ '2013-09-08T17:19:12' | timestamp }}|{{ '2013-09-08' | timestamp(timeZone='Europe/Paris') }}", NULL, "1378660752|1378591200", NULL},
    {"{{ now() | length }}{{ now(format='iso_local_date') | length }}", NULL, "2710", NULL},
    {"{{ now(timeZone='Europe/Lisbon') is empty }}", NULL, "false", NULL},
    /* misc functions */
    {"{{ uuid() | length }}{{ uuid() | substringAfter('-') | substringAfter('-') | first }}", NULL, "364", NULL},
    {"{{ uuid() == uuid() }}{{ id() | length > 18 }}", NULL, "falsetrue", NULL},
    {"{{ randomInt(int, int) }}", NULL, "1", NULL},
    {"{{ randomInt('1', 10) }}", NULL, NULL, "The 'GenerateRandomNumber' function expects an argument lowerwith type Integer."},
    {"{{ randomInt(int) }}", NULL, NULL, "The 'GenerateRandomNumber' function expects an argument upper"},
    {"{{ printContext().s }}{{ printContext() | length > 3 }}", NULL, "Hello Worldtrue", NULL},
    {"{% set x = 1 %}{{ printContext().x }}", NULL, "1", NULL},
    {"{{ currentEachOutput(eachout).value }}", NULL, "two", NULL},
    {"{{ currentEachOutput() }}", NULL, NULL, "The 'currentEachOutput' function expects an argument 'outputs'."},
    {"{{ currentEachOutput('x') }}", NULL, NULL, "The 'currentEachOutput' function expects an argument 'outputs' with type map."},
    {NULL, NULL, NULL, NULL},
};

static void test_jq_limits(void **state)
{
    (void)state;
    char *src = malloc(200000);
    strcpy(src, "{{ {} | jq('.");
    for (int i = 0; i < 20000; i++) strcat(src, "a.");
    strcat(src, "a') }}");
    char *out;
    kt_expr_error err;
    assert_int_equal(kt_expr_render_string(src, NULL, NULL, &out, &err), KT_EINVAL);
    assert_non_null(strstr(err.message, "Unable to parse jq value"));
    free(src);
}

static void test_cases(void **state)
{
    (void)state;
    assert_int_equal(run_expr_cases(k_cases, k_vars), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cases),
        cmocka_unit_test(test_jq_limits),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
