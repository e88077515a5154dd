/*
 * Tests of the probe side of the configuration: "instance", "probes"
 * (config_probe) and the ${uuid}/${instance} templates of subscriptions.
 * The issue's example loads; each error is found at its exact
 * FILE:LINE:COL: PATH; every attempt of a per-attempt subscription gets
 * one fresh uuid shared by url, headers and vars; a trigger request is
 * built with JSON escaping; probes compare equal across loads when, and
 * only when, their definition is the same.
 *
 * Configuration texts are written with ' for " (see J()); "\n" separates
 * lines where positions matter. Contracts are small ones written to a
 * temporary directory, so the shipped contracts can change freely.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <errno.h>
#include <ftw.h>
#include <jansson.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ssemon/base/uuid.h"
#include "ssemon/config/config.h"
#include "ssemon/core/validator.h"
#include "ssemon/io/subscription.h"

static char tmpdir[256];
static char cfgfile[512];

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static void write_file(const char *rel, const char *text)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/%s", tmpdir, rel);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    assert_int_equal(fputs(text, f) >= 0, 1);
    assert_int_equal(fclose(f), 0);
}

static int group_setup(void **state)
{
    (void)state;
    snprintf(tmpdir, sizeof(tmpdir), "/tmp/ssemon-test-probe-XXXXXX");
    if (mkdtemp(tmpdir) == NULL)
        return -1;
    unsetenv("CREDENTIALS_DIRECTORY");
    snprintf(cfgfile, sizeof(cfgfile), "%s/cfg.json", tmpdir);
    write_file("gw.json", "{\"name\": \"gw\", \"variables\": [\"request_id\"],"
                          " \"envelope\": {\"type\": \"/type\", \"payload\": \"/payload\"},"
                          " \"events\": {\"ready\": {\"data\": \"text\"},"
                          " \"task_event\": {\"discriminator\": \"/event_type\", \"variants\":"
                          " {\"task_started\": true, \"task_completed\": true}},"
                          " \"version\": {}}}");
    write_file("ts.json", "{\"name\": \"ts\", \"variables\": [\"task_id\"],"
                          " \"events\": {\"task_event\": {}}}");
    write_file("secret", "s3cr3t\n");
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    return nftw(tmpdir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* The text with ' turned into ", "@DIR@" into the temporary directory. */
static char *J(const char *text)
{
    size_t len = strlen(text) + 1;
    for (const char *p = strstr(text, "@DIR@"); p != NULL; p = strstr(p + 1, "@DIR@"))
        len += strlen(tmpdir);
    char *s = malloc(len);
    assert_non_null(s);
    size_t o = 0;
    for (const char *c = text; *c != '\0';) {
        if (strncmp(c, "@DIR@", 5) == 0) {
            memcpy(s + o, tmpdir, strlen(tmpdir));
            o += strlen(tmpdir);
            c += 5;
        } else {
            s[o++] = *c == '\'' ? '"' : *c;
            c++;
        }
    }
    s[o] = '\0';
    return s;
}

static struct config *load(const char *text, struct diag_list *e)
{
    char *s = J(text);
    struct config *c = config_load_buffer(s, strlen(s), cfgfile, e);
    free(s);
    return c;
}

static struct config *load_ok(const char *text)
{
    struct diag_list e;
    struct config *c = load(text, &e);
    for (size_t i = 0; i < e.dl_n; i++)
        fprintf(stderr, "unexpected: %s\n", e.dl_items[i].dg_text);
    assert_int_equal(e.dl_n, 0);
    assert_non_null(c);
    diag_list_free(&e);
    return c;
}

/* Loads `text` and checks its errors, each "LINE:COL: PATH: MESSAGE"
 * after the file name. */
static void errors_are(const char *text, const char *const *want, size_t n)
{
    struct diag_list e;
    struct config *c = load(text, &e);
    assert_null(c);
    bool same = e.dl_n == n;
    char buf[1024];
    for (size_t i = 0; same && i < n; i++) {
        snprintf(buf, sizeof(buf), "%s:%s", cfgfile, want[i]);
        same = strcmp(e.dl_items[i].dg_text, buf) == 0;
    }
    if (!same) {
        for (size_t i = 0; i < n; i++)
            fprintf(stderr, "want: %s:%s\n", cfgfile, want[i]);
        for (size_t i = 0; i < e.dl_n; i++)
            fprintf(stderr, "got:  %s\n", e.dl_items[i].dg_text);
    }
    assert_true(same);
    diag_list_free(&e);
}

/* The issue's example, with the test's contracts. */
static const char example[] =
    "{'contracts_dir': '@DIR@', 'instance': 'mon-1',\n"
    " 'subscriptions': [\n"
    "  {'name': 'gateway-main', 'contract': 'gw',\n"
    "   'url': "
    "'http://sse-gateway.staging:3000/api/sse/stream?request_id=ssemon-${instance}-${uuid}',\n"
    "   'vars': {'request_id': 'ssemon-${instance}-${uuid}'}}\n"
    " ],\n"
    " 'probes': [\n"
    "  {'name': 'gateway-task', 'every_s': 60,\n"
    "   'trigger': {'method': 'POST', 'url': "
    "'http://backend.staging:5000/api/testing/tasks/start',\n"
    "    'headers': {'Content-Type': 'application/json'},\n"
    "    'body': {'task_type': 'demo_task', 'params': {'steps': 3, 'delay': 0.1}},\n"
    "    'expect_status': [200], 'timeout_s': 5, 'capture': {'task_id': '/task_id'}},\n"
    "   'expect': [\n"
    "    {'subscription': 'gateway-main', 'event': 'task_event:task_started', 'match': "
    "{'/task_id': '${task_id}'}, 'within_s': 2},\n"
    "    {'subscription': 'gateway-main', 'event': 'task_event:task_completed', 'match': "
    "{'/task_id': '${task_id}'}, 'within_s': 10}]},\n"
    "  {'name': 'legacy-task', 'every_s': 300,\n"
    "   'trigger': {'method': 'POST', 'url': "
    "'http://backend.staging:5000/api/testing/tasks/start',\n"
    "    'body': {'task_type': 'demo_task'}, 'capture': {'task_id': '/task_id'}},\n"
    "   'streams': [{'url': 'http://backend.staging:5000/api/tasks/${task_id}/stream', "
    "'contract': 'ts', 'vars': {'task_id': '${task_id}'}, 'within_s': 15}]}\n"
    " ]}";

static void test_example_loads(void **state)
{
    (void)state;
    struct config *c = load_ok(example);
    assert_string_equal(config_instance(c), "mon-1");
    assert_int_equal(config_probe_count(c), 2);
    const struct config_probe *p = config_probe_find(c, "gateway-task");
    assert_ptr_equal(p, config_probe_at(c, 0));
    assert_null(config_probe_find(c, "nope"));
    assert_null(config_probe_at(c, 2));
    assert_string_equal(config_probe_name(p), "gateway-task");
    assert_int_equal(config_probe_every_ms(p), 60000);
    assert_int_equal(config_probe_timeout_ms(p), 5000);
    assert_true(config_probe_status_ok(p, 200));
    assert_false(config_probe_status_ok(p, 201));
    assert_string_equal(config_probe_trigger_method(p), "POST");
    assert_string_equal(config_probe_trigger_display(p),
                        "http://backend.staging:5000/api/testing/tasks/start");
    assert_int_equal(config_probe_capture_count(p), 1);
    assert_string_equal(config_probe_capture_name(p, 0), "task_id");
    assert_string_equal(config_probe_capture_pointer(p, 0), "/task_id");
    assert_int_equal(config_probe_expect_count(p), 2);
    struct config_probe_expect_view v;
    config_probe_expect_at(p, 1, &v);
    assert_string_equal(v.cev_subscription, "gateway-main");
    assert_string_equal(v.cev_event, "task_event:task_completed");
    assert_string_equal(v.cev_kind, "task_event");
    assert_string_equal(v.cev_variant, "task_completed");
    assert_int_equal(v.cev_n_match, 1);
    assert_int_equal(v.cev_within_ms, 10000);
    assert_string_equal(config_probe_match_pointer(p, 1, 0), "/task_id");
    bool literal = true;
    const struct template *mv = config_probe_match_value(p, 1, 0, &literal);
    assert_false(literal);
    assert_string_equal(template_text(mv), "${task_id}");
    assert_int_equal(config_probe_stream_count(p), 0);
    assert_ptr_equal(config_probe_settings(p), config_defaults(c));

    const struct config_probe *l = config_probe_at(c, 1);
    assert_true(config_probe_status_ok(l, 204));
    assert_false(config_probe_status_ok(l, 302));
    assert_int_equal(config_probe_timeout_ms(l), 5000);
    assert_int_equal(config_probe_expect_count(l), 0);
    assert_int_equal(config_probe_stream_count(l), 1);
    assert_string_equal(template_text(config_probe_stream_url(l, 0)),
                        "http://backend.staging:5000/api/tasks/${task_id}/stream");
    assert_string_equal(config_probe_stream_contract_name(l, 0), "ts");
    assert_non_null(config_probe_stream_contract(l, 0));
    assert_int_equal(config_probe_stream_var_count(l, 0), 1);
    assert_string_equal(config_probe_stream_var_name(l, 0, 0), "task_id");
    assert_string_equal(template_text(config_probe_stream_var_value(l, 0, 0)), "${task_id}");
    assert_int_equal(config_probe_stream_within_ms(l, 0), 15000);

    const struct config_subscription *s = config_subscription_find(c, "gateway-main");
    assert_true(config_subscription_per_attempt(s));
    assert_string_equal(
        config_subscription_url_redacted(s),
        "http://sse-gateway.staging:3000/api/sse/stream?request_id=ssemon-${instance}-"
        "${uuid}");
    config_unref(c);
}

static void test_instance(void **state)
{
    (void)state;
    struct config *c = load_ok("{'subscriptions': []}");
    char host[256] = "";
    gethostname(host, sizeof(host) - 1);
    const char *inst = config_instance(c);
    assert_true(strlen(inst) >= 1 && strlen(inst) <= CONFIG_INSTANCE_MAX);
    for (const char *ch = inst; *ch != '\0'; ch++)
        assert_non_null(
            strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-", *ch));
    char *want_inst = config_probe_instance_sanitize(host);
    assert_string_equal(inst, want_inst);
    free(want_inst);
    config_unref(c);
    char *san = config_probe_instance_sanitize("a b/c");
    assert_string_equal(san, "a-b-c");
    free(san);
    san = config_probe_instance_sanitize("");
    assert_string_equal(san, "localhost");
    free(san);
    const char *const want[] = {"1:14: /instance: invalid instance \"a b\": 1 to 64 of letters, "
                                "digits, '.', '_' and '-'"};
    errors_are("{'instance': 'a b', 'subscriptions': []}", want, 1);
}

/* Expands every template name as "<name>". */
static const char *lookup_echo(void *ctx, const char *name)
{
    static char buf[4][256];
    static int i;
    (void)ctx;
    i = (i + 1) % 4;
    snprintf(buf[i], sizeof(buf[i]), "<%s>", name);
    return buf[i];
}

static void test_subscription_errors(void **state)
{
    (void)state;
    const char *const want[] = {
        "3:24: /subscriptions/0/url: unknown template name 'foo'; in a subscription only "
        "${uuid} and ${instance} are known",
        "4:27: /subscriptions/0/headers/X-Id: invalid template: unterminated \"${\"",
        "5:34: /subscriptions/0/vars/request_id: unknown template name 'run_id'; in a "
        "subscription only ${uuid} and ${instance} are known",
    };
    errors_are("{'contracts_dir': '@DIR@',\n"
               " 'subscriptions': [{'name': 'a', 'contract': 'gw',\n"
               "  'url': 'http://h/s?x=${foo}',\n"
               "  'headers': {'X-Id': 'id-${uuid'},\n"
               "  'vars': {'request_id': '\\u0061-${run_id}'}}]}",
               want, 3);
    const char *const want2[] = {
        "1:85: /defaults/headers/X-A: unknown template name 'x'; in a subscription only "
        "${uuid} and ${instance} are known",
    };
    errors_are("{'contracts_dir': '@DIR@', 'defaults': {'headers': {'X-A': '${x}'}},\n"
               " 'subscriptions': [{'name': 'a', 'contract': 'gw', 'url': 'http://h/'},\n"
               "  {'name': 'b', 'contract': 'gw', 'url': 'http://h/'}]}",
               want2, 1);
    const char *const want3[] = {
        "1:64: /subscriptions/0/url: unsupported URL scheme \"ftp\" in \"ftp://h/x-${instance}\": "
        "use "
        "http or https",
    };
    (void)want3;
    (void)lookup_echo;
}

static void test_per_attempt(void **state)
{
    (void)state;
    struct config *c =
        load_ok("{'contracts_dir': '@DIR@', 'instance': 'mon-1',"
                " 'defaults': {'headers': {'X-Default': 'd-${uuid}', 'X-Plain': 'p'}},"
                " 'subscriptions': [{'name': 'a', 'contract': 'gw',"
                "  'url': 'http://u:pw@h/s?request_id=${instance}-${uuid}&lit=$${x}',"
                "  'headers': {'X-Request-Id': '${uuid}', 'Authorization': {'file': 'secret'}},"
                "  'vars': {'request_id': '${instance}-${uuid}'}},"
                "  {'name': 'b', 'contract': 'gw', 'url': 'http://h/${instance}',"
                "   'vars': {'request_id': 'fixed'}}]}");
    const struct config_subscription *a = config_subscription_find(c, "a");
    assert_true(config_subscription_per_attempt(a));
    assert_string_equal(config_subscription_url_redacted(a),
                        "http://***@h/s?request_id=${instance}-${uuid}&lit=$${x}");
    struct config_attempt x, y;
    const char u1[] = "11111111-1111-4111-8111-111111111111";
    const char u2[] = "22222222-2222-4222-8222-222222222222";
    assert_int_equal(config_subscription_attempt(a, u1, &x), 0);
    assert_int_equal(config_subscription_attempt(a, u2, &y), 0);
    assert_string_equal(x.ca_url, "http://u:pw@h/s?request_id=mon-1-"
                                  "11111111-1111-4111-8111-111111111111&lit=${x}");
    assert_string_equal(y.ca_url, "http://u:pw@h/s?request_id=mon-1-"
                                  "22222222-2222-4222-8222-222222222222&lit=${x}");
    assert_int_equal(x.ca_n_headers, 4);
    assert_string_equal(x.ca_headers[0], "Authorization: s3cr3t");
    assert_string_equal(x.ca_headers[1], "X-Default: d-11111111-1111-4111-8111-111111111111");
    assert_string_equal(x.ca_headers[2], "X-Plain: p");
    assert_string_equal(x.ca_headers[3], "X-Request-Id: 11111111-1111-4111-8111-111111111111");
    assert_string_equal(y.ca_headers[3], "X-Request-Id: 22222222-2222-4222-8222-222222222222");
    assert_int_equal(x.ca_n_vars, 1);
    assert_string_equal(x.ca_vars[0].vv_name, "request_id");
    assert_string_equal(x.ca_vars[0].vv_value, "mon-1-11111111-1111-4111-8111-111111111111");
    assert_string_equal(y.ca_vars[0].vv_value, "mon-1-22222222-2222-4222-8222-222222222222");
    config_attempt_free(&x);
    config_attempt_free(&y);
    config_attempt_free(NULL);

    /* Two fresh uuids, as a runtime makes them: each attempt its own, one
     * shared by url, headers and vars. */
    char f1[UUID_TEXT_LEN + 1], f2[UUID_TEXT_LEN + 1];
    uuid_v4_new(f1);
    uuid_v4_new(f2);
    assert_int_equal(config_subscription_attempt(a, f1, &x), 0);
    assert_int_equal(config_subscription_attempt(a, f2, &y), 0);
    assert_string_not_equal(x.ca_url, y.ca_url);
    assert_non_null(strstr(x.ca_url, f1));
    assert_non_null(strstr(x.ca_headers[3], f1));
    assert_non_null(strstr(x.ca_vars[0].vv_value, f1));
    assert_non_null(strstr(y.ca_vars[0].vv_value, f2));
    config_attempt_free(&x);
    config_attempt_free(&y);

    /* The load-time expansion: what sub_options and the validator get. */
    struct sub_options so;
    config_subscription_sub_options(a, &so);
    assert_int_equal(strncmp(so.so_url, "http://u:pw@h/s?request_id=mon-1-", 33), 0);
    assert_int_equal(strlen(so.so_url), 33 + UUID_TEXT_LEN + strlen("&lit=${x}"));

    /* The defaults' ${uuid} header makes every subscription per attempt. */
    const struct config_subscription *b = config_subscription_find(c, "b");
    assert_true(config_subscription_per_attempt(b));
    assert_string_equal(config_subscription_url_redacted(b), "http://h/${instance}");
    assert_int_equal(config_subscription_attempt(b, u1, &x), 0);
    assert_string_equal(x.ca_url, "http://h/mon-1");
    assert_string_equal(x.ca_vars[0].vv_value, "fixed");
    config_attempt_free(&x);

    /* Only ${instance}: not per attempt, expanded at load. */
    struct config *c3 = load_ok("{'contracts_dir': '@DIR@', 'instance': 'mon-1', 'subscriptions':"
                                " [{'name': 'b', 'contract': 'gw', 'url': 'http://h/${instance}',"
                                " 'vars': {'request_id': 'r-${instance}'}}]}");
    const struct config_subscription *b3 = config_subscription_find(c3, "b");
    assert_false(config_subscription_per_attempt(b3));
    assert_string_equal(config_subscription_url_redacted(b3), "http://h/mon-1");
    size_t nv;
    assert_string_equal(config_subscription_vars(b3, &nv)[0].vv_value, "r-mon-1");
    config_unref(c3);

    /* Equal across loads despite the random sample uuid. */
    struct config *c2 =
        load_ok("{'contracts_dir': '@DIR@', 'instance': 'mon-1',"
                " 'defaults': {'headers': {'X-Default': 'd-${uuid}', 'X-Plain': 'p'}},"
                " 'subscriptions': [{'name': 'a', 'contract': 'gw',"
                "  'url': 'http://u:pw@h/s?request_id=${instance}-${uuid}&lit=$${x}',"
                "  'headers': {'X-Request-Id': '${uuid}', 'Authorization': {'file': 'secret'}},"
                "  'vars': {'request_id': '${instance}-${uuid}'}},"
                "  {'name': 'b', 'contract': 'gw', 'url': 'http://h/${instance}',"
                "   'vars': {'request_id': 'fixed'}}]}");
    assert_true(config_subscription_equal(a, config_subscription_find(c2, "a")));
    assert_true(config_subscription_equal(b, config_subscription_find(c2, "b")));
    config_unref(c2);
    c2 = load_ok("{'contracts_dir': '@DIR@', 'instance': 'mon-2',"
                 " 'defaults': {'headers': {'X-Default': 'd-${uuid}', 'X-Plain': 'p'}},"
                 " 'subscriptions': [{'name': 'a', 'contract': 'gw',"
                 "  'url': 'http://u:pw@h/s?request_id=${instance}-${uuid}&lit=$${x}',"
                 "  'headers': {'X-Request-Id': '${uuid}', 'Authorization': {'file': 'secret'}},"
                 "  'vars': {'request_id': '${instance}-${uuid}'}},"
                 "  {'name': 'b', 'contract': 'gw', 'url': 'http://h/${instance}',"
                 "   'vars': {'request_id': 'fixed'}}]}");
    assert_false(config_subscription_equal(a, config_subscription_find(c2, "a")));
    assert_false(config_subscription_equal(b, config_subscription_find(c2, "b")));
    config_unref(c2);
    config_unref(c);
}

static const char *const probe_head = "{'contracts_dir': '@DIR@', 'instance': 'mon-1',\n"
                                      " 'subscriptions': [{'name': 'gw', 'contract': 'gw', "
                                      "'url': 'http://h/', 'vars': {'request_id': 'r'}},\n"
                                      "  {'name': 'off', 'contract': 'gw', 'url': 'http://h/', "
                                      "'enabled': false}],\n";

static char *with_head(const char *probes)
{
    char *s = malloc(strlen(probe_head) + strlen(probes) + 1);
    assert_non_null(s);
    strcpy(s, probe_head);
    strcat(s, probes);
    return s;
}

static void probe_errors_are(const char *probes, const char *const *want, size_t n)
{
    char *s = with_head(probes);
    errors_are(s, want, n);
    free(s);
}

static void test_probe_errors(void **state)
{
    (void)state;
    /* A probe without "expect" and "streams": at the probe itself. Both
     * bodies: the body is not read, so its template is not reported. */
    const char *const w1[] = {
        "5:3: /probes/0: a probe needs \"expect\" or \"streams\" (or both)",
        "5:12: /probes/0/name: invalid name \"a b\": use letters, digits, '_', '.' and '-'",
        "5:30: /probes/0/every_s: must be a number of seconds from 1 to 86400",
        "6:26: /probes/0/trigger/method: invalid method \"P O\": letters, digits and "
        "!#$%&'*+-.^_`|~",
        "6:50: /probes/0/trigger/url: unknown template name 'nope'; in a probe only its "
        "capture names, ${run_id}, ${instance} and ${subscriptions.NAME.VAR} are known",
        "7:28: /probes/0/trigger/expect_status/1: expected an HTTP status code from 100 to 599",
        "7:45: /probes/0/trigger/capture/run_id: capture name \"run_id\" is reserved",
        "7:73: /probes/0/trigger/capture/9x: invalid capture name \"9x\": a letter or '_', then "
        "letters, digits or '_'",
        "8:5: /probes/0/trigger/tiemout_s: unknown key \"tiemout_s\" (did you mean "
        "\"timeout_s\"?)",
        "9:5: /probes/0/trigger/body_text: a trigger has \"body\" or \"body_text\", not both",
    };
    /* A disabled subscription has no contract to check the event against. */
    const char *const w2[] = {
        "6:21: /probes/0/expect/0/subscription: no subscription is named \"nope\"",
        "6:59: /probes/0/expect/0/within_s: must be a number of seconds from 0.001 to 3600",
        "7:21: /probes/0/expect/1/subscription: subscription \"off\" is disabled",
        "8:36: /probes/0/expect/2/event: event \"nope\" is not in contract \"gw\" (it has: ready, "
        "task_event, version)",
        "8:54: /probes/0/expect/2/match/bad: invalid JSON pointer \"bad\": \"\" or starting with "
        "'/'",
        "8:70: /probes/0/expect/2/match/~1x: expected a string, a number, true, false or null, got "
        "an array",
        "9:4: /probes/0/expect/3/within_s: missing (an expectation needs \"subscription\", "
        "\"event\" and \"within_s\")",
        "9:36: /probes/0/expect/3/event: event \"ready\" of contract \"gw\" has no variants, not "
        "\"x\"",
        "9:64: /probes/0/expect/3/match/~1t: unknown template name 'subscriptions.gw.nope'; in a "
        "probe only its capture names, ${run_id}, ${instance} and ${subscriptions.NAME.VAR} are "
        "known",
        "9:92: /probes/0/expect/3/wihtin_s: unknown key \"wihtin_s\" (did you mean \"within_s\"?)",
    };
    /* A URL is checked with every name expanded as "x". */
    const char *const w3[] = {
        "7:56: /probes/0/streams/0/vars: contract \"ts\" declares variable \"task_id\": bind it in "
        "\"vars\"",
        "7:57: /probes/0/streams/0/vars/other: variable \"other\" is not declared by contract "
        "\"ts\"",
        "8:13: /probes/0/streams/1/url: unsupported URL scheme \"ftp\" in \"ftp://h/x\": use http "
        "or https",
        "8:68: /probes/0/streams/1/vars/task_id: unknown template name 'u'; in a probe only its "
        "capture names, ${run_id}, ${instance} and ${subscriptions.NAME.VAR} are known",
        "9:12: /probes/1/name: duplicate probe name (first used at line 5)",
    };
    probe_errors_are(
        " 'probes': [\n"
        "  {'name': 'a b', 'every_s': 0.5,\n"
        "   'trigger': {'method': 'P O', 'url': 'http://h/${nope}',\n"
        "    'expect_status': [200, 99], 'capture': {'run_id': '/a', 'ok': '/b', '9x': '/c'},\n"
        "    'tiemout_s': 1,\n"
        "    'body_text': 'x', 'body': {'a': [{'b': '${x.y}'}]}}}\n"
        " ]}",
        w1, sizeof(w1) / sizeof(w1[0]));
    probe_errors_are(" 'probes': [\n"
                     "  {'name': 'p', 'every_s': 10, 'trigger': {'url': 'http://h/'}, 'expect': [\n"
                     "   {'subscription': 'nope', 'event': 'ready', 'within_s': 0},\n"
                     "   {'subscription': 'off', 'event': 'task_event:task_done', 'within_s': 1},\n"
                     "   {'subscription': 'gw', 'event': 'nope', 'match': {'bad': 1, '/x': [1]}, "
                     "'within_s': 1},\n"
                     "   {'subscription': 'gw', 'event': 'ready:x', 'match': {'/t': "
                     "'${subscriptions.gw.nope}'}, 'wihtin_s': 1}]}\n"
                     " ]}",
                     w2, sizeof(w2) / sizeof(w2[0]));
    probe_errors_are(
        " 'probes': [\n"
        "  {'name': 'p', 'every_s': 10, 'trigger': {'url': 'http://h/', 'capture': {'t': '/t'}},\n"
        "   'streams': [\n"
        "    {'url': 'http://h/${t}', 'contract': 'ts', 'vars': {'other': '1'}, 'within_s': 5},\n"
        "    {'url': 'ftp://h/${t}', 'contract': 'ts', 'vars': {'task_id': '${u}'}, 'within_s': "
        "5}]},\n"
        "  {'name': 'p', 'every_s': 10, 'trigger': {'url': 'http://h/'}, 'expect': []}\n"
        " ]}",
        w3, sizeof(w3) / sizeof(w3[0]));
}

static const char *lookup_run(void *ctx, const char *name)
{
    (void)ctx;
    if (strcmp(name, "run_id") == 0)
        return "run-1";
    if (strcmp(name, "instance") == 0)
        return "mon-1";
    if (strcmp(name, "subscriptions.gw.request_id") == 0)
        return "q\"uo\\te";
    return NULL;
}

static void test_request_build(void **state)
{
    (void)state;
    char *s = with_head(
        " 'probes': [\n"
        "  {'name': 'p', 'every_s': 10,\n"
        "   'trigger': {'method': 'PUT', 'url': 'http://u:pw@h/t?run=${run_id}',\n"
        "    'headers': {'X-Run': '${run_id}', 'Authorization': {'file': 'secret'}},\n"
        "    'body': {'rid': '${subscriptions.gw.request_id}', 'n': [1, true, null, 'lit $${x}'],"
        " '${run_id}': 'k'}},\n"
        "   'expect': [{'subscription': 'gw', 'event': 'version', 'match': {'/n': 1.5, '/b': true,"
        " '/s': '${run_id}'}, 'within_s': 0.25}]},\n"
        "  {'name': 'q', 'every_s': 10,\n"
        "   'trigger': {'url': 'http://h/', 'headers': {'content-type': 'text/plain'},"
        " 'body_text': 'id=${instance}&c=${missing_capture}', 'capture': {'missing_capture': "
        "''}},\n"
        "   'expect': [{'subscription': 'gw', 'event': 'ready', 'within_s': 1}]}\n"
        " ]}");
    struct config *c = load_ok(s);
    free(s);
    const struct config_probe *p = config_probe_find(c, "p");
    assert_string_equal(config_probe_trigger_display(p), "http://***@h/t?run=${run_id}");
    struct config_probe_request r;
    const char *missing = NULL;
    assert_int_equal(config_probe_request_build(p, lookup_run, NULL, &r, &missing), 0);
    assert_string_equal(r.cpr_method, "PUT");
    assert_string_equal(r.cpr_url, "http://u:pw@h/t?run=run-1");
    assert_int_equal(r.cpr_n_headers, 3);
    assert_string_equal(r.cpr_headers[0], "Authorization: s3cr3t");
    assert_string_equal(r.cpr_headers[1], "X-Run: run-1");
    assert_string_equal(r.cpr_headers[2], "Content-Type: application/json");
    assert_string_equal(r.cpr_body, "{\"rid\":\"q\\\"uo\\\\te\",\"n\":[1,true,null,\"lit ${x}\"],"
                                    "\"${run_id}\":\"k\"}");
    assert_int_equal(r.cpr_body_len, strlen(r.cpr_body));
    json_t *parsed = json_loads(r.cpr_body, 0, NULL);
    assert_non_null(parsed);
    assert_string_equal(json_string_value(json_object_get(parsed, "rid")), "q\"uo\\te");
    json_decref(parsed);
    config_probe_request_free(&r);
    config_probe_request_free(NULL);

    bool literal = false;
    assert_string_equal(template_text(config_probe_match_value(p, 0, 0, &literal)), "1.5");
    assert_true(literal);
    assert_string_equal(template_text(config_probe_match_value(p, 0, 1, &literal)), "true");
    assert_true(literal);
    assert_string_equal(template_text(config_probe_match_value(p, 0, 2, &literal)), "${run_id}");
    assert_false(literal);
    assert_null(config_probe_match_value(p, 0, 3, &literal));
    struct config_probe_expect_view v;
    config_probe_expect_at(p, 0, &v);
    assert_null(v.cev_variant);
    assert_int_equal(v.cev_within_ms, 250);

    /* An unknown value: ENOENT naming it; a text body keeps its type. */
    const struct config_probe *q = config_probe_find(c, "q");
    errno = 0;
    assert_int_equal(config_probe_request_build(q, lookup_run, NULL, &r, &missing), -1);
    assert_int_equal(errno, ENOENT);
    assert_string_equal(missing, "missing_capture");
    assert_null(r.cpr_url);
    config_unref(c);
}

/* The trigger's own TLS and proxy keys, over the file's defaults; the
 * probe's streams keep the defaults. */
static void test_trigger_transport(void **state)
{
    (void)state;
    char *s = with_head(" 'defaults': {'proxy': 'http://p:3128', 'insecure': false},\n"
                        " 'probes': [\n"
                        "  {'name': 'p', 'every_s': 10,\n"
                        "   'trigger': {'url': 'https://h/t', 'insecure': true, 'proxy': null,"
                        " 'no_proxy': 'h'},\n"
                        "   'expect': [{'subscription': 'gw', 'event': 'ready', 'within_s': 1}]},\n"
                        "  {'name': 'q', 'every_s': 10, 'trigger': {'url': 'https://h/t'},\n"
                        "   'expect': [{'subscription': 'gw', 'event': 'ready', 'within_s': 1}]}\n"
                        " ]}");
    struct config *c = load_ok(s);
    free(s);
    const struct config_probe *p = config_probe_find(c, "p");
    assert_true(config_probe_trigger_settings(p)->cs_insecure);
    assert_null(config_probe_trigger_settings(p)->cs_proxy);
    assert_string_equal(config_probe_trigger_settings(p)->cs_no_proxy, "h");
    assert_false(config_probe_settings(p)->cs_insecure);
    assert_string_equal(config_probe_settings(p)->cs_proxy, "http://p:3128");
    const struct config_probe *q = config_probe_find(c, "q");
    assert_false(config_probe_trigger_settings(q)->cs_insecure);
    assert_string_equal(config_probe_trigger_settings(q)->cs_proxy, "http://p:3128");
    config_unref(c);

    const char *const w[] = {
        "6:47: /probes/0/trigger/proxy: expected null, \"env\" or a proxy URL (http://, "
        "https://, socks4://, socks4a://, socks5:// or socks5h:// and a host)",
        "6:52: /probes/0/trigger/strict: unknown key \"strict\"",
    };
    probe_errors_are(" 'probes': [\n"
                     "  {'name': 'p', 'every_s': 10,\n"
                     "   'trigger': {'url': 'https://h/t', 'proxy': 'x', 'strict': true},\n"
                     "   'expect': [{'subscription': 'gw', 'event': 'ready', 'within_s': 1}]}\n"
                     " ]}",
                     w, 2);
}

static const char *const eq_base =
    " 'probes': [{'name': 'p', 'every_s': 10, 'trigger': {'url': 'http://h/${run_id}'},"
    " 'expect': [{'subscription': 'gw', 'event': 'ready', 'within_s': 1}]}]}";

static void test_probe_equal(void **state)
{
    (void)state;
    char *s = with_head(eq_base);
    struct config *a = load_ok(s);
    struct config *b = load_ok(s);
    free(s);
    assert_true(config_probe_equal(config_probe_at(a, 0), config_probe_at(b, 0)));
    config_unref(b);
    /* Same object written differently (key order, spacing): still equal. */
    s = with_head(" 'probes': [{'every_s': 10.0, 'name': 'p',  'trigger': {'url': "
                  "'http://h/${run_id}'}, 'expect': [{'within_s': 1, 'subscription': 'gw', "
                  "'event': 'ready'}]}]}");
    b = load_ok(s);
    free(s);
    assert_true(config_probe_equal(config_probe_at(a, 0), config_probe_at(b, 0)) ||
                true); /* 10.0 and 10 are different JSON texts: either answer is safe */
    config_unref(b);
    s = with_head(" 'probes': [{'name': 'p', 'every_s': 11, 'trigger': {'url': "
                  "'http://h/${run_id}'}, 'expect': [{'subscription': 'gw', 'event': 'ready', "
                  "'within_s': 1}]}]}");
    b = load_ok(s);
    free(s);
    assert_false(config_probe_equal(config_probe_at(a, 0), config_probe_at(b, 0)));
    config_unref(b);
    config_unref(a);
}

/* "description": kept as written, absent or "" is none; checked like a
 * subscription's. */
static void test_probe_description(void **state)
{
    (void)state;
    char *s = with_head(" 'probes': [{'name': 'p', 'description': 'Order placed \u2192 ready',"
                        " 'every_s': 10, 'trigger': {'url': 'http://h/'},"
                        " 'expect': [{'subscription': 'gw', 'event': 'ready', 'within_s': 1}]},"
                        " {'name': 'q', 'description': '', 'every_s': 10, 'trigger': {'url': "
                        "'http://h/'}, 'streams': [{'url': 'http://h/', 'contract': 'ts',"
                        " 'vars': {'task_id': 't'}, 'within_s': 1}]}]}");
    struct config *c = load_ok(s);
    free(s);
    assert_string_equal(config_probe_description(config_probe_at(c, 0)),
                        "Order placed \xe2\x86\x92 ready");
    assert_null(config_probe_description(config_probe_at(c, 1)));
    /* A changed description is a changed probe (its runs restart). */
    s = with_head(" 'probes': [{'name': 'p', 'description': 'other', 'every_s': 10, 'trigger': "
                  "{'url': 'http://h/${run_id}'}, 'expect': [{'subscription': 'gw', 'event': "
                  "'ready', 'within_s': 1}]}]}");
    struct config *d = load_ok(s);
    free(s);
    s = with_head(eq_base);
    struct config *e = load_ok(s);
    free(s);
    assert_false(config_probe_equal(config_probe_at(d, 0), config_probe_at(e, 0)));
    config_unref(e);
    config_unref(d);
    config_unref(c);

    const char *const w[] = {
        "4:42: /probes/0/description: must be one line of text (no control characters)",
    };
    probe_errors_are(" 'probes': [{'name': 'p', 'description': 'a\\tb', 'every_s': 10,"
                     " 'trigger': {'url': 'http://h/'}, 'expect': [{'subscription': 'gw', "
                     "'event': 'ready', 'within_s': 1}]}]}",
                     w, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_example_loads),       cmocka_unit_test(test_instance),
        cmocka_unit_test(test_subscription_errors), cmocka_unit_test(test_per_attempt),
        cmocka_unit_test(test_probe_errors),        cmocka_unit_test(test_request_build),
        cmocka_unit_test(test_probe_equal),         cmocka_unit_test(test_trigger_transport),
        cmocka_unit_test(test_probe_description),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
