/* Configuration: defaults, the documented conf/kite.yml, bad files reported at their line, environment overrides. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf/conf.h"
#include "store/store.h"

static char *write_tmp(const char *text)
{
    static char path[64];
    snprintf(path, sizeof path, "/tmp/kite-conf-XXXXXX");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    return path;
}

static void test_documented_defaults_match(void **s)
{
    /* conf/kite.yml documents the defaults: loading it must change nothing */
    kt_conf d, c;
    char err[512] = "";
    kt_conf_defaults(&d);
    kt_conf_defaults(&c);
    char path[1024];
    const char *src = __FILE__;
    const char *cut = strstr(src, "tests/unit/conf/");
    assert_non_null(cut);
    snprintf(path, sizeof path, "%.*sconf/kite.yml", (int)(cut - src), src);
    assert_int_equal(kt_conf_load(&c, path, err, sizeof err), KT_OK);
    assert_memory_equal(&d, &c, sizeof d);
}

static void test_file_values(void **s)
{
    kt_conf c;
    char err[512] = "";
    kt_conf_defaults(&c);
    char *p = write_tmp("server:\n  port: 9090\n  host: 127.0.0.1\nstore:\n  sync-full: true\n"
                        "cluster:\n  listen: tcp://0.0.0.0:7600\n  liveness-timeout: 1500\nworker:\n  slots: 3\n");
    assert_int_equal(kt_conf_load(&c, p, err, sizeof err), KT_OK);
    unlink(p);
    assert_int_equal(c.port, 9090);
    assert_string_equal(c.host, "127.0.0.1");
    assert_int_equal(c.sync_full, 1);
    assert_string_equal(c.listen, "tcp://0.0.0.0:7600");
    assert_int_equal(c.liveness_ms, 1500);
    assert_int_equal(c.slots, 3);
    assert_string_equal(c.data_dir, "./kite-data"); /* untouched keys keep their default */
}

static void test_errors_with_location(void **s)
{
    static const struct {
        const char *yaml, *expect;
    } cases[] = {
        {"server:\n  prot: 80\n", ":2:3 server.prot: unknown setting"},
        {"server:\n  port: eighty\n", ":2:9 server.port: expected an integer"},
        {"server:\n  port: 70000\n", ":2:9 server.port: expected an integer in range"},
        {"store:\n  sync-full: maybe\n", ":2:14 store.sync-full: expected true or false"},
        {"server: 8080\n", ":1:9 server: expected a map"},
        {"server:\n  port: [1]\n", "server.port: expected a scalar"},
        {"server:\n  port: 1\n  port: 2\n", ":3:"},
        {"- a\n", "must be a map"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        kt_conf c;
        char err[512] = "";
        kt_conf_defaults(&c);
        char *p = write_tmp(cases[i].yaml);
        assert_int_equal(kt_conf_load(&c, p, err, sizeof err), KT_EINVAL);
        unlink(p);
        if (!strstr(err, cases[i].expect))
            fail_msg("case %zu: '%s' does not contain '%s'", i, err, cases[i].expect);
    }
    kt_conf c;
    char err[512] = "";
    assert_int_equal(kt_conf_load(&c, "/nonexistent/kite.yml", err, sizeof err), KT_EIO);
    assert_non_null(strstr(err, "/nonexistent/kite.yml"));
}

static void test_environment_overrides_file(void **s)
{
    kt_conf c;
    char err[512] = "";
    kt_conf_defaults(&c);
    char *p = write_tmp("server:\n  port: 9090\ncluster:\n  heartbeat: 500\n");
    setenv("KITE_SERVER_PORT", "9191", 1);
    setenv("KITE_CLUSTER_LIVENESS_TIMEOUT", "2500", 1);
    assert_int_equal(kt_conf_load(&c, p, err, sizeof err), KT_OK);
    assert_int_equal(c.port, 9191);
    assert_int_equal(c.liveness_ms, 2500);
    assert_int_equal(c.heartbeat_ms, 500);
    setenv("KITE_STORE_SYNC_FULL", "perhaps", 1);
    assert_int_equal(kt_conf_load(&c, p, err, sizeof err), KT_EINVAL);
    assert_non_null(strstr(err, "KITE_STORE_SYNC_FULL"));
    unsetenv("KITE_STORE_SYNC_FULL");
    unsetenv("KITE_SERVER_PORT");
    unsetenv("KITE_CLUSTER_LIVENESS_TIMEOUT");
    unlink(p);
}

/* The storage settings under Kestra's names: nested maps, camelCase spellings, the environment, errors located. */
static void test_storage_settings(void **s)
{
    kt_conf c;
    char err[512] = "";
    kt_conf_defaults(&c);
    assert_string_equal(c.storage_type, "local");
    char *p = write_tmp("storage:\n  type: s3\n  s3:\n    endpoint: http://127.0.0.1:9000\n    bucket: kite\n"
                        "    accessKey: AK\n    secret-key: SK\n    forcePathStyle: true\n    part-size: 16777216\n");
    setenv("KITE_STORAGE_S3_REGION", "eu-west-3", 1);
    assert_int_equal(kt_conf_load(&c, p, err, sizeof err), KT_OK);
    unsetenv("KITE_STORAGE_S3_REGION");
    unlink(p);
    assert_string_equal(c.storage_type, "s3");
    assert_string_equal(c.s3_endpoint, "http://127.0.0.1:9000");
    assert_string_equal(c.s3_bucket, "kite");
    assert_string_equal(c.s3_access_key, "AK");
    assert_string_equal(c.s3_secret_key, "SK");
    assert_string_equal(c.s3_region, "eu-west-3");
    assert_int_equal(c.s3_force_path_style, 1);
    assert_int_equal(c.s3_part_size, 16u << 20);
    kt_conf_defaults(&c);
    p = write_tmp("storage:\n  s3:\n    part-size: 1024\n");
    assert_int_equal(kt_conf_load(&c, p, err, sizeof err), KT_EINVAL);
    unlink(p);
    assert_non_null(strstr(err, ":3:16 storage.s3.part-size: expected an integer in range"));
    p = write_tmp("storage:\n  s3:\n    bukket: x\n");
    assert_int_equal(kt_conf_load(&c, p, err, sizeof err), KT_EINVAL);
    unlink(p);
    assert_non_null(strstr(err, ":3:5 storage.s3.bukket: unknown setting"));
}

/* The HTTP settings: sizes and durations in Micronaut's spellings, the open URLs as a YAML list or one string, the
 * password never printed in an error. */
static void test_server_settings(void **s)
{
    kt_conf c;
    char err[512] = "";
    kt_conf_defaults(&c);
    assert_int_equal(c.max_request_size, 64u << 20);
    assert_string_equal(c.basic_auth_open_urls, "/ping,/api/v1/executions/webhook/");
    char *p = write_tmp("server:\n  max-request-size: 10MB\n  read-idle-timeout: 30s\n  basic-auth:\n"
                        "    enabled: true\n    username: a@b.io\n    openUrls:\n      - /ping\n      - /api/v1/x/\n"
                        "endpoints:\n  all:\n    port: 8081\nenvironment:\n  name: prod\n");
    assert_int_equal(kt_conf_load(&c, p, err, sizeof err), KT_OK);
    unlink(p);
    assert_int_equal(c.max_request_size, 10u << 20);
    assert_int_equal(c.read_idle_timeout_ms, 30000);
    assert_int_equal(c.basic_auth_enabled, 1);
    assert_string_equal(c.basic_auth_username, "a@b.io");
    assert_string_equal(c.basic_auth_open_urls, "/ping,/api/v1/x/");
    assert_int_equal(c.management_port, 8081);
    assert_string_equal(c.environment_name, "prod");
    static const struct {
        const char *text;
        uint32_t ms;
    } durations[] = {{"250", 250}, {"500ms", 500}, {"5m", 300000}, {"1h", 3600000}, {"PT1M30S", 90000}, {"2d", 86400000 * 2u}};
    for (size_t i = 0; i < sizeof durations / sizeof *durations; i++) {
        setenv("KITE_SERVER_READ_IDLE_TIMEOUT", durations[i].text, 1);
        assert_int_equal(kt_conf_load(&c, NULL, err, sizeof err), durations[i].ms <= 86400000 ? KT_OK : KT_EINVAL);
        if (durations[i].ms <= 86400000)
            assert_int_equal(c.read_idle_timeout_ms, durations[i].ms);
    }
    unsetenv("KITE_SERVER_READ_IDLE_TIMEOUT");
    setenv("KITE_SERVER_MAX_REQUEST_SIZE", "2GB", 1);
    assert_int_equal(kt_conf_load(&c, NULL, err, sizeof err), KT_EINVAL);
    assert_non_null(strstr(err, "expected a size in range"));
    setenv("KITE_SERVER_MAX_REQUEST_SIZE", "12 parsecs", 1);
    assert_int_equal(kt_conf_load(&c, NULL, err, sizeof err), KT_EINVAL);
    unsetenv("KITE_SERVER_MAX_REQUEST_SIZE");
    p = write_tmp("server:\n  basic-auth:\n    open-urls:\n      - 3\n");
    assert_int_equal(kt_conf_load(&c, p, err, sizeof err), KT_EINVAL);
    unlink(p);
    assert_non_null(strstr(err, "server.basic-auth.open-urls: expected a list of strings"));
    char longpw[400];
    memset(longpw, 'q', sizeof longpw - 1);
    longpw[sizeof longpw - 1] = 0;
    setenv("KITE_SERVER_BASIC_AUTH_PASSWORD", longpw, 1);
    assert_int_equal(kt_conf_load(&c, NULL, err, sizeof err), KT_EINVAL);
    unsetenv("KITE_SERVER_BASIC_AUTH_PASSWORD");
    assert_null(strstr(err, "qqqq")); /* never printed */
}

/* store.url (issue 12): the file, KITE_STORE_URL over it, and a rejected URL never printed with its password. */
static void test_store_url(void **s)
{
    kt_conf c;
    char err[512] = "";
    kt_conf_defaults(&c);
    assert_string_equal(c.store_url, ""); /* SQLite in data.dir */
    char *p = write_tmp("store:\n  url: postgresql://kite@db.example:5432/kite\n  sync-full: true\n");
    assert_int_equal(kt_conf_load(&c, p, err, sizeof err), KT_OK);
    assert_string_equal(c.store_url, "postgresql://kite@db.example:5432/kite");
    assert_int_equal(c.sync_full, 1);
    setenv("KITE_STORE_URL", "postgres://other:pw@10.0.0.1/k", 1);
    assert_int_equal(kt_conf_load(&c, p, err, sizeof err), KT_OK);
    assert_string_equal(c.store_url, "postgres://other:pw@10.0.0.1/k");
    unlink(p);
    /* too long for the setting: the error names the variable and shows the URL without its password */
    char url[1200];
    int n = snprintf(url, sizeof url, "postgresql://kite:Sup3rSecret@db.example/kite?application_name=");
    memset(url + n, 'a', sizeof url - (size_t)n - 1);
    url[sizeof url - 1] = 0;
    setenv("KITE_STORE_URL", url, 1);
    assert_int_equal(kt_conf_load(&c, NULL, err, sizeof err), KT_EINVAL);
    unsetenv("KITE_STORE_URL");
    assert_non_null(strstr(err, "KITE_STORE_URL=postgresql://kite:****@db.example/kite"));
    assert_non_null(strstr(err, "value too long"));
    assert_null(strstr(err, "Sup3rSecret"));
}

/* store.log-index: "" (the backend's default) unless set, on/off from the file (YAML may read them as booleans: the
 * store takes both spellings), KITE_STORE_LOG_INDEX over it; kt_store_log_index_of refuses anything else. */
static void test_store_log_index(void **s)
{
    (void)s;
    kt_conf c;
    char err[512] = "";
    kt_conf_defaults(&c);
    assert_string_equal(c.store_log_index, "");
    kt_log_index li = KT_LOG_INDEX_ON;
    assert_int_equal(kt_store_log_index_of(c.store_log_index, &li), 0);
    assert_int_equal(li, KT_LOG_INDEX_DEFAULT);
    char *p = write_tmp("store:\n  log-index: off\n");
    assert_int_equal(kt_conf_load(&c, p, err, sizeof err), KT_OK);
    assert_int_equal(kt_store_log_index_of(c.store_log_index, &li), 0);
    assert_int_equal(li, KT_LOG_INDEX_OFF);
    setenv("KITE_STORE_LOG_INDEX", "on", 1);
    assert_int_equal(kt_conf_load(&c, p, err, sizeof err), KT_OK);
    unsetenv("KITE_STORE_LOG_INDEX");
    assert_string_equal(c.store_log_index, "on");
    assert_int_equal(kt_store_log_index_of(c.store_log_index, &li), 0);
    assert_int_equal(li, KT_LOG_INDEX_ON);
    unlink(p);
    static const char *const bad[] = {"yes", "ON ", "1", "of"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        assert_int_equal(kt_store_log_index_of(bad[i], &li), -1);
}

static void test_plugin_defaults(void **s)
{
    kt_conf c;
    char err[512] = "";
    kt_conf_defaults(&c);
    char *p = write_tmp("plugins:\n  defaults:\n    - type: io.kestra.plugin.scripts\n      values:\n"
                        "        env:\n          A: \"1\"\n    - type: io.kestra.plugin.core.log.Log\n"
                        "      forced: true\n      values:\n        level: WARN\n");
    assert_int_equal(kt_conf_load(&c, p, err, sizeof err), KT_OK);
    unlink(p);
    assert_int_equal(json_array_size(c.plugin_defaults), 2);
    json_t *d0 = json_array_get(c.plugin_defaults, 0), *d1 = json_array_get(c.plugin_defaults, 1);
    assert_string_equal(json_string_value(json_object_get(d0, "type")), "io.kestra.plugin.scripts");
    assert_string_equal(json_string_value(json_object_get(json_object_get(json_object_get(d0, "values"), "env"), "A")), "1");
    assert_true(json_is_true(json_object_get(d1, "forced")));
    /* the environment replaces the file's list; an empty list means none */
    setenv("KITE_PLUGINS_DEFAULTS", "[{type: io.kestra.plugin.core.log.Log, values: {message: env}}]", 1);
    assert_int_equal(kt_conf_load(&c, NULL, err, sizeof err), KT_OK);
    assert_int_equal(json_array_size(c.plugin_defaults), 1);
    assert_string_equal(json_string_value(json_object_get(json_object_get(json_array_get(c.plugin_defaults, 0), "values"),
                                                          "message")), "env");
    setenv("KITE_PLUGINS_DEFAULTS", "[]", 1);
    assert_int_equal(kt_conf_load(&c, NULL, err, sizeof err), KT_OK);
    assert_null(c.plugin_defaults);
    setenv("KITE_PLUGINS_DEFAULTS", "[{type: x}]", 1);
    assert_int_equal(kt_conf_load(&c, NULL, err, sizeof err), KT_EINVAL);
    assert_non_null(strstr(err, "KITE_PLUGINS_DEFAULTS[0]: No 'values' provided"));
    unsetenv("KITE_PLUGINS_DEFAULTS");
    kt_conf_clear(&c);

    static const struct {
        const char *yaml, *expect;
    } bad[] = {
        {"plugins:\n  defaults: {type: x}\n", ":2:13 plugins.defaults: expected a list"},
        {"plugins:\n  defaults:\n    - values: {a: 1}\n", ":3:7 plugins.defaults[0]: No 'type' provided"},
        {"plugins:\n  defaults:\n    - type: x\n      values:\n        a:\n",
         ":5:11 plugins.defaults[0].values.a: No value provided for key 'a'"},
        {"plugins:\n  defaults:\n    - type: x\n      values: {}\n      force: true\n", ":5:14 plugins.defaults[0].force"},
        {"plugins:\n  default: []\n", "plugins.default: unknown setting"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        kt_conf_defaults(&c);
        p = write_tmp(bad[i].yaml);
        assert_int_equal(kt_conf_load(&c, p, err, sizeof err), KT_EINVAL);
        unlink(p);
        if (!strstr(err, bad[i].expect))
            fail_msg("case %zu: '%s' does not contain '%s'", i, err, bad[i].expect);
        kt_conf_clear(&c);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_documented_defaults_match),
        cmocka_unit_test(test_file_values),
        cmocka_unit_test(test_errors_with_location),
        cmocka_unit_test(test_environment_overrides_file),
        cmocka_unit_test(test_plugin_defaults),
        cmocka_unit_test(test_storage_settings),
        cmocka_unit_test(test_server_settings),
        cmocka_unit_test(test_store_url),
        cmocka_unit_test(test_store_log_index),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
