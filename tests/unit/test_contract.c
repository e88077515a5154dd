/*
 * Unit tests for contract (compile) and contract_load (files, extends,
 * error positions), and a load of every shipped contract.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ssemon/config/config.h"
#include "ssemon/config/contract_load.h"
#include "ssemon/core/contract.h"
#include "ssemon/json/ecma_regex.h"
#include "ssemon/json/json_schema_compile.h"
#include "ssemon/json/json_tape.h"

#include "alloc_fail.h"

#define SHIPPED_DIR SSEMON_SOURCE_DIR "/etc/ssemon/contracts"

/* ---- helpers ---- */

static struct contract *compile_text(const char *text, struct contract_error *err)
{
    json_error_t jerr;
    json_t *doc = json_loads(text, JSON_REJECT_DUPLICATES, &jerr);

    if (doc == NULL)
        fail_msg("test JSON does not parse: %s (line %d)", jerr.text, jerr.line);
    struct contract *c = contract_compile(doc, err);
    json_decref(doc);
    return c;
}

static struct contract *compile_ok(const char *text)
{
    struct contract_error err;
    struct contract *c = compile_text(text, &err);

    if (c == NULL)
        fail_msg("unexpected compile error: %s: %s", err.ce_path, err.ce_message);
    return c;
}

/* Asserts a compile error at exactly `path` whose message contains `msg`. */
static void compile_err(const char *text, const char *path, const char *msg)
{
    struct contract_error err;
    struct contract *c = compile_text(text, &err);

    if (c != NULL) {
        contract_free(c);
        fail_msg("compiled, expected an error at %s", path);
    }
    if (strcmp(err.ce_path, path) != 0 || strstr(err.ce_message, msg) == NULL)
        fail_msg("got \"%s: %s\", expected \"%s: ...%s...\"", err.ce_path, err.ce_message, path,
                 msg);
}

/* A temporary directory of contract files, removed by the teardown. */
struct tmpdir {
    char td_path[64];
};

static int tmpdir_setup(void **state)
{
    struct tmpdir *td = calloc(1, sizeof(*td));

    if (td == NULL)
        return -1;
    snprintf(td->td_path, sizeof(td->td_path), "/tmp/ssemon-test-contract.XXXXXX");
    if (mkdtemp(td->td_path) == NULL) {
        free(td);
        return -1;
    }
    *state = td;
    return 0;
}

/* Removes the files one level down (and one sub-directory level): the
 * tests create no deeper trees. */
static void tmpdir_clean(const char *dir, int depth)
{
    DIR *d = opendir(dir);
    struct dirent *de;

    if (d == NULL)
        return;
    for (int i = 0; i < 1000 && (de = readdir(d)) != NULL; i++) {
        char p[PATH_MAX];
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        snprintf(p, sizeof(p), "%s/%s", dir, de->d_name);
        struct stat st;
        if (lstat(p, &st) == 0 && S_ISDIR(st.st_mode) && depth > 0)
            tmpdir_clean(p, depth - 1);
        else
            unlink(p);
    }
    closedir(d);
    rmdir(dir);
}

static int tmpdir_teardown(void **state)
{
    struct tmpdir *td = *state;

    tmpdir_clean(td->td_path, 1);
    free(td);
    return 0;
}

static void write_file(const struct tmpdir *td, const char *name, const char *text)
{
    char p[PATH_MAX];

    snprintf(p, sizeof(p), "%s/%s", td->td_path, name);
    FILE *f = fopen(p, "w");
    assert_non_null(f);
    assert_int_equal(fputs(text, f) >= 0, 1);
    assert_int_equal(fclose(f), 0);
}

static void path_in(const struct tmpdir *td, const char *name, char *out, size_t n)
{
    snprintf(out, n, "%s/%s", td->td_path, name);
}

/* ---- compile: a complete contract ---- */

static const char *const full_contract =
    "{\"name\": \"full\", \"description\": \"d\", \"$comment\": \"c\","
    " \"variables\": [\"task_id\", \"request_id\"],"
    " \"response\": {\"status\": 201, \"headers\": {"
    "   \"Cache-Control\": \"no-cache\","
    "   \"X-A\": {\"pattern\": \"^n[o]$\"},"
    "   \"X-Debug\": {\"absent\": true},"
    "   \"X-Any\": {\"present\": true}}},"
    " \"envelope\": {\"type\": \"/type\", \"payload\": \"/payload\"},"
    " \"events\": {"
    "   \"open\": {\"data\": \"json\", \"schema\": {\"type\": \"object\"}},"
    "   \"hb\": {\"heartbeat\": true, \"correlation_id\": false},"
    "   \"ready\": {\"data\": \"text\"},"
    "   \"task\": {\"schema\": {\"$ref\": \"#/definitions/obj\"},"
    "     \"discriminator\": \"/t\","
    "     \"variants\": {\"a\": {\"properties\": {\"x\": {\"type\": \"null\"}}}, \"b\": true},"
    "     \"equals\": {\"/task_id\": \"task_id\"}}},"
    " \"correlation_id\": {\"presence\": \"required\", \"consistent\": true,"
    "   \"equals\": \"request_id\"},"
    " \"order\": {\"initial\": \"s0\", \"states\": {"
    "   \"s0\": {\"on\": {\"open\": \"s1\"}},"
    "   \"s1\": {\"on\": {\"hb\": \"s1\", \"task:a\": \"s1\", \"task:b\": \"end\"}},"
    "   \"end\": {\"final\": true}}},"
    " \"heartbeat\": {\"interval_s\": 2.5, \"tolerance\": 3, \"comments\": true,"
    "   \"reset_on_any_event\": false},"
    " \"timing\": {\"first_event_ms\": 1000, \"lifecycle_timeout_s\": 60},"
    " \"definitions\": {\"obj\": {\"type\": \"object\"}}}";

static void test_compile_full(void **state)
{
    (void)state;
    struct contract *c = compile_ok(full_contract);

    assert_string_equal(c->c_name, "full");
    assert_string_equal(c->c_description, "d");
    assert_int_equal(c->c_n_variables, 2);
    assert_true(contract_has_variable(c, "request_id"));
    assert_false(contract_has_variable(c, "nope"));
    assert_int_equal(c->c_status, 201);

    assert_int_equal(c->c_n_headers, 4);
    assert_string_equal(c->c_headers[0].ch_name, "Cache-Control");
    assert_string_equal(c->c_headers[0].ch_equals, "no-cache");
    assert_null(c->c_headers[0].ch_pattern);
    assert_string_equal(c->c_headers[1].ch_pattern, "^n[o]$");
    assert_int_equal(ecma_regex_search(c->c_headers[1].ch_re, "no", 2), ECMA_REGEX_MATCH);
    assert_int_equal(ecma_regex_search(c->c_headers[1].ch_re, "No", 2), ECMA_REGEX_NO_MATCH);
    assert_null(c->c_headers[0].ch_re);
    assert_true(c->c_headers[2].ch_absent);
    assert_null(c->c_headers[3].ch_equals);
    assert_null(c->c_headers[3].ch_pattern);
    assert_false(c->c_headers[3].ch_absent);

    assert_string_equal(c->c_env_type, "/type");
    assert_string_equal(c->c_env_payload, "/payload");

    assert_int_equal(c->c_n_events, 4);
    size_t task = contract_event_index(c, "task", 4);
    assert_int_equal(task, 3);
    assert_int_equal(contract_event_index(c, "tas", 3), (size_t)-1);
    assert_int_equal(contract_event_index(c, "task\0", 5), (size_t)-1);
    const struct contract_event *e = &c->c_events[task];
    assert_non_null(e->ce_schema);
    assert_string_equal(e->ce_discriminator, "/t");
    assert_int_equal(e->ce_n_variants, 2);
    assert_string_equal(e->ce_variants[0].cv_value, "a");
    assert_non_null(e->ce_variants[0].cv_schema);
    assert_int_equal(e->ce_n_equals, 1);
    assert_string_equal(e->ce_equals[0].ceq_pointer, "/task_id");
    assert_string_equal(e->ce_equals[0].ceq_var, "task_id");
    assert_true(e->ce_correlation);
    assert_int_equal(c->c_events[0].ce_data, CONTRACT_DATA_JSON);
    assert_true(c->c_events[1].ce_heartbeat);
    assert_false(c->c_events[1].ce_correlation);
    assert_null(c->c_events[1].ce_schema);
    assert_int_equal(c->c_events[2].ce_data, CONTRACT_DATA_TEXT);

    assert_int_equal(c->c_cid.cc_presence, CONTRACT_CID_REQUIRED);
    assert_string_equal(c->c_cid.cc_pointer, "/correlation_id");
    assert_true(c->c_cid.cc_consistent);
    assert_string_equal(c->c_cid.cc_equals_var, "request_id");

    assert_int_equal(c->c_n_states, 3);
    assert_int_equal(c->c_initial, 0);
    assert_int_equal(contract_state_index(c, "end"), 2);
    assert_int_equal(contract_state_index(c, "x"), CONTRACT_NO_STATE);
    const struct contract_state *s1 = &c->c_states[1];
    assert_int_equal(s1->cs_n_on, 3);
    assert_int_equal(s1->cs_on[0].ct_event, 1);
    assert_null(s1->cs_on[0].ct_variant);
    assert_int_equal(s1->cs_on[0].ct_target, 1);
    assert_int_equal(s1->cs_on[2].ct_event, task);
    assert_string_equal(s1->cs_on[2].ct_variant, "b");
    assert_int_equal(s1->cs_on[2].ct_target, 2);
    assert_true(c->c_states[2].cs_final);

    assert_int_equal(c->c_hb_interval_ms, 2500);
    assert_true(c->c_hb_tolerance == 3.0);
    assert_true(c->c_hb_comments);
    assert_false(c->c_hb_reset_on_any);
    assert_int_equal(c->c_first_event_ms, 1000);
    assert_int_equal(c->c_lifecycle_ms, 60000);
    contract_free(c);
}

static void test_compile_defaults(void **state)
{
    (void)state;
    struct contract *c = compile_ok("{\"events\": {\"a\": {}}}");

    assert_string_equal(c->c_name, "unnamed");
    assert_null(c->c_description);
    assert_int_equal(c->c_status, 200);
    assert_int_equal(c->c_n_headers, 0);
    assert_null(c->c_env_type);
    assert_int_equal(c->c_events[0].ce_data, CONTRACT_DATA_JSON);
    assert_true(c->c_events[0].ce_correlation);
    assert_false(c->c_events[0].ce_heartbeat);
    assert_int_equal(c->c_cid.cc_presence, CONTRACT_CID_IGNORE);
    assert_int_equal(c->c_n_states, 0);
    assert_int_equal(c->c_hb_interval_ms, 0);
    assert_true(c->c_hb_tolerance == 2.0);
    assert_false(c->c_hb_comments);
    assert_true(c->c_hb_reset_on_any);
    assert_int_equal(c->c_first_event_ms, 0);
    assert_int_equal(c->c_lifecycle_ms, 0);
    contract_free(c);

    /* A correlation_id object alone means "optional", default pointer. */
    c = compile_ok("{\"events\": {\"a\": {}}, \"correlation_id\": {}}");
    assert_int_equal(c->c_cid.cc_presence, CONTRACT_CID_OPTIONAL);
    assert_string_equal(c->c_cid.cc_pointer, "/correlation_id");
    assert_false(c->c_cid.cc_consistent);
    contract_free(c);

    /* Transition keys: a kind whose name holds ':' matches whole. */
    c = compile_ok("{\"events\": {\"a:b\": {}}, \"order\": {\"initial\": \"s\","
                   " \"states\": {\"s\": {\"on\": {\"a:b\": \"s\"}}}}}");
    assert_null(c->c_states[0].cs_on[0].ct_variant);
    contract_free(c);
}

/* ---- compile: every kind of mistake, with its exact path ---- */

static void test_compile_unknown_keys(void **state)
{
    (void)state;
    compile_err("{\"events\": {\"a\": {}}, \"evnts\": {}}", "/evnts", "unknown key \"evnts\"");
    compile_err("{\"events\": {\"a\": {\"shema\": {}}}}", "/events/a/shema", "unknown key");
    compile_err("{\"events\": {\"a\": {}}, \"response\": {\"header\": {}}}", "/response/header",
                "unknown key");
    compile_err("{\"events\": {\"a\": {}}, \"response\": {\"headers\": {\"X\": "
                "{\"equal\": \"1\"}}}}",
                "/response/headers/X/equal", "unknown key");
    compile_err("{\"events\": {\"a\": {}}, \"envelope\": {\"type\": \"/t\", \"body\": \"/b\"}}",
                "/envelope/body", "unknown key");
    compile_err("{\"events\": {\"a\": {}}, \"correlation_id\": {\"required\": true}}",
                "/correlation_id/required", "unknown key");
    compile_err("{\"events\": {\"a\": {}}, \"order\": {\"initial\": \"s\", \"states\": "
                "{\"s\": {\"final\": true, \"onn\": {}}}}}",
                "/order/states/s/onn", "unknown key");
    compile_err("{\"events\": {\"a\": {}}, \"order\": {\"initial\": \"s\", \"start\": \"s\", "
                "\"states\": {\"s\": {}}}}",
                "/order/start", "unknown key");
    compile_err("{\"events\": {\"a\": {}}, \"heartbeat\": {\"interval\": 5}}",
                "/heartbeat/interval", "unknown key");
    compile_err("{\"events\": {\"a\": {}}, \"timing\": {\"first_event_s\": 1}}",
                "/timing/first_event_s", "unknown key");
    /* Keys with '/' and '~' are escaped in paths (RFC 6901). */
    compile_err("{\"events\": {\"a\": {}}, \"a/b~c\": 1}", "/a~1b~0c", "unknown key");
}

static void test_compile_wrong_types(void **state)
{
    (void)state;
    compile_err("[]", "", "a contract is a JSON object");
    compile_err("{}", "", "missing required key \"events\"");
    compile_err("{\"events\": []}", "/events", "expected an object, got an array");
    compile_err("{\"events\": {}}", "/events", "at least one event kind");
    compile_err("{\"events\": {\"a\": 1}}", "/events/a", "expected an object, got a number");
    compile_err("{\"name\": 5, \"events\": {\"a\": {}}}", "/name", "expected a string");
    compile_err("{\"events\": {\"a\": {\"heartbeat\": \"yes\"}}}", "/events/a/heartbeat",
                "expected true or false, got a string");
    compile_err("{\"events\": {\"a\": {\"data\": \"xml\"}}}", "/events/a/data",
                "not a data encoding");
    compile_err("{\"events\": {\"a\": {}}, \"variables\": \"task_id\"}", "/variables",
                "expected an array");
    compile_err("{\"events\": {\"a\": {}}, \"variables\": [\"a\", 1]}", "/variables/1",
                "expected a string");
    compile_err("{\"events\": {\"a\": {}}, \"variables\": [\"a\", \"a\"]}", "/variables/1",
                "declared twice");
    compile_err("{\"events\": {\"a\": {}}, \"response\": {\"status\": \"200\"}}",
                "/response/status", "expected an integer");
    compile_err("{\"events\": {\"a\": {}}, \"response\": {\"status\": 700}}", "/response/status",
                "not an HTTP status");
    compile_err("{\"events\": {\"a\": {}}, \"response\": {\"headers\": {\"X\": 1}}}",
                "/response/headers/X", "expected a string");
    compile_err("{\"events\": {\"a\": {}}, \"response\": {\"headers\": {\"X Y\": \"1\"}}}",
                "/response/headers/X Y", "not a valid HTTP header name");
    compile_err("{\"events\": {\"a\": {}}, \"response\": {\"headers\": {\"X\": \"1\", "
                "\"x\": \"2\"}}}",
                "/response/headers/x", "two rules");
    compile_err("{\"events\": {\"a\": {}}, \"response\": {\"headers\": {\"X\": {}}}}",
                "/response/headers/X", "exactly one of");
    compile_err("{\"events\": {\"a\": {}}, \"response\": {\"headers\": {\"X\": "
                "{\"absent\": false}}}}",
                "/response/headers/X/absent", "can only be true");
    compile_err("{\"events\": {\"a\": {}}, \"correlation_id\": {\"presence\": \"always\"}}",
                "/correlation_id/presence", "not a presence");
    compile_err("{\"events\": {\"a\": {}}, \"correlation_id\": {\"consistent\": 1}}",
                "/correlation_id/consistent", "expected true or false");
    compile_err("{\"events\": {\"a\": {}}, \"heartbeat\": {}}", "/heartbeat",
                "missing required key \"interval_s\"");
    compile_err("{\"events\": {\"a\": {}}, \"heartbeat\": {\"interval_s\": \"5\"}}",
                "/heartbeat/interval_s", "expected a number");
    compile_err("{\"events\": {\"a\": {}}, \"heartbeat\": {\"interval_s\": -1}}",
                "/heartbeat/interval_s", "out of range");
    compile_err("{\"events\": {\"a\": {}}, \"heartbeat\": {\"interval_s\": 5, "
                "\"tolerance\": 0.5}}",
                "/heartbeat/tolerance", "out of range");
    compile_err("{\"events\": {\"a\": {}}, \"heartbeat\": {\"interval_s\": 0.0001}}",
                "/heartbeat/interval_s", "at least 0.001 s");
    compile_err("{\"events\": {\"a\": {}}, \"timing\": {\"first_event_ms\": 1.5}}",
                "/timing/first_event_ms", "expected an integer");
    compile_err("{\"events\": {\"a\": {}}, \"timing\": {\"lifecycle_timeout_s\": true}}",
                "/timing/lifecycle_timeout_s", "expected a number");
    compile_err("{\"events\": {\"a\": {}}, \"order\": []}", "/order", "expected an object");
    compile_err("{\"events\": {\"a\": {}}, \"order\": {\"initial\": \"s\", \"states\": "
                "{\"s\": {\"on\": {\"a\": 3}}}}}",
                "/order/states/s/on/a", "expected a state name");
    compile_err("{\"abstract\": \"yes\", \"events\": {\"a\": {}}}", "/abstract",
                "expected true or false");
}

static void test_compile_references(void **state)
{
    (void)state;
    const char *order_head = "{\"events\": {\"a\": {}, \"t\": {\"discriminator\": \"/k\", "
                             "\"variants\": {\"x\": true}}}, \"order\": ";
    char buf[512];

    snprintf(buf, sizeof(buf), "%s{\"states\": {\"s\": {}}}}", order_head);
    compile_err(buf, "/order", "missing required key \"initial\"");
    snprintf(buf, sizeof(buf), "%s{\"initial\": \"t\", \"states\": {\"s\": {}}}}", order_head);
    compile_err(buf, "/order/initial", "state \"t\" is not declared");
    snprintf(buf, sizeof(buf), "%s{\"initial\": \"s\"}}", order_head);
    compile_err(buf, "/order", "missing required key \"states\"");
    snprintf(buf, sizeof(buf), "%s{\"initial\": \"s\", \"states\": {}}}", order_head);
    compile_err(buf, "/order/states", "at least one state");
    snprintf(buf, sizeof(buf), "%s{\"initial\": \"s\", \"states\": {\"s\": {\"final\": true}}}}",
             order_head);
    compile_err(buf, "/order/initial", "cannot be final");
    snprintf(buf, sizeof(buf),
             "%s{\"initial\": \"s\", \"states\": {\"s\": {\"on\": "
             "{\"a\": \"nowhere\"}}}}}",
             order_head);
    compile_err(buf, "/order/states/s/on/a", "state \"nowhere\" is not declared");
    snprintf(buf, sizeof(buf),
             "%s{\"initial\": \"s\", \"states\": {\"s\": {\"on\": "
             "{\"b\": \"s\"}}}}}",
             order_head);
    compile_err(buf, "/order/states/s/on/b", "event kind \"b\" is not declared");
    snprintf(buf, sizeof(buf),
             "%s{\"initial\": \"s\", \"states\": {\"s\": {\"on\": "
             "{\"b:x\": \"s\"}}}}}",
             order_head);
    compile_err(buf, "/order/states/s/on/b:x", "event kind \"b\" is not declared");
    snprintf(buf, sizeof(buf),
             "%s{\"initial\": \"s\", \"states\": {\"s\": {\"on\": "
             "{\"t:y\": \"s\"}}}}}",
             order_head);
    compile_err(buf, "/order/states/s/on/t:y", "\"y\" is not a declared variant");
    snprintf(buf, sizeof(buf),
             "%s{\"initial\": \"s\", \"states\": {\"s\": {\"on\": "
             "{\"a:x\": \"s\"}}}}}",
             order_head);
    compile_err(buf, "/order/states/s/on/a:x", "has no variants");
    snprintf(buf, sizeof(buf),
             "%s{\"initial\": \"s\", \"states\": {\"s\": {\"on\": "
             "{\"t:x\": \"s\", \"t\": \"s\"}}}}}",
             order_head);
    compile_err(buf, "/order/states/s/on/t", "both with and without a variant");
    snprintf(buf, sizeof(buf),
             "%s{\"initial\": \"s\", \"states\": {\"s\": {\"on\": "
             "{\"a\": \"f\"}}, \"f\": {\"final\": true, \"on\": "
             "{\"a\": \"s\"}}}}}",
             order_head);
    compile_err(buf, "/order/states/f/on", "a final state has no transitions");
}

/* "within_ms" of a state: a positive integer of at most a day, not in a
 * final state; errors point at the key. */
static void test_compile_state_deadline(void **state)
{
    (void)state;
    const char *head = "{\"events\": {\"a\": {}}, \"order\": {\"initial\": \"s\", "
                       "\"states\": {\"s\": {\"within_ms\": ";
    char buf[512];
    struct contract_error err;
    struct contract *c;

    snprintf(buf, sizeof(buf),
             "%s2000, \"on\": {\"a\": \"t\"}}, \"t\": {\"within_ms\": 86400000, "
             "\"on\": {\"a\": \"f\"}}, \"u\": {}, \"f\": {\"final\": true}}}}",
             head);
    c = compile_text(buf, &err);
    if (c == NULL)
        fail_msg("%s: %s", err.ce_path, err.ce_message);
    assert_int_equal(c->c_states[contract_state_index(c, "s")].cs_within_ms, 2000);
    assert_int_equal(c->c_states[contract_state_index(c, "t")].cs_within_ms, 86400000);
    assert_int_equal(c->c_states[contract_state_index(c, "u")].cs_within_ms, 0);
    assert_int_equal(c->c_states[contract_state_index(c, "f")].cs_within_ms, 0);
    contract_free(c);

    snprintf(buf, sizeof(buf), "%s0}}}}", head);
    compile_err(buf, "/order/states/s/within_ms", "0 is out of range [1, 86400000]");
    snprintf(buf, sizeof(buf), "%s-5}}}}", head);
    compile_err(buf, "/order/states/s/within_ms", "out of range");
    snprintf(buf, sizeof(buf), "%s86400001}}}}", head);
    compile_err(buf, "/order/states/s/within_ms", "86400001 is out of range");
    snprintf(buf, sizeof(buf), "%s1.5}}}}", head);
    compile_err(buf, "/order/states/s/within_ms", "expected an integer (milliseconds), got a");
    snprintf(buf, sizeof(buf), "%s\"2000\"}}}}", head);
    compile_err(buf, "/order/states/s/within_ms", "expected an integer (milliseconds)");
    snprintf(buf, sizeof(buf), "%snull}}}}", head);
    compile_err(buf, "/order/states/s/within_ms", "expected an integer (milliseconds)");
    snprintf(buf, sizeof(buf),
             "%s100, \"on\": {\"a\": \"f\"}}, \"f\": {\"final\": true, "
             "\"within_ms\": 100}}}}",
             head);
    compile_err(buf, "/order/states/f/within_ms", "a final state has no deadline");
    /* the same, "within_ms" written before "final" */
    snprintf(buf, sizeof(buf),
             "%s100, \"on\": {\"a\": \"f\"}}, \"f\": {\"within_ms\": 100, "
             "\"final\": true}}}}",
             head);
    compile_err(buf, "/order/states/f/within_ms", "a final state has no deadline");

    compile_err("{\"events\": {\"a\": {\"equals\": {\"/task_id\": \"task_id\"}}}}",
                "/events/a/equals/~1task_id", "variable \"task_id\" is not declared");
    compile_err("{\"variables\": [\"v\"], \"events\": {\"a\": {\"equals\": "
                "{\"task_id\": \"v\"}}}}",
                "/events/a/equals/task_id", "not a JSON pointer");
    compile_err("{\"events\": {\"a\": {}}, \"correlation_id\": {\"equals\": \"request_id\"}}",
                "/correlation_id/equals", "variable \"request_id\" is not declared");
    compile_err("{\"variables\": [\"r\"], \"events\": {\"a\": {}}, \"correlation_id\": "
                "{\"presence\": \"absent\", \"equals\": \"r\"}}",
                "/correlation_id", "contradicts");
    compile_err("{\"events\": {\"a\": {}}, \"correlation_id\": {\"pointer\": \"\"}}",
                "/correlation_id/pointer", "not the whole payload");
}

static void test_compile_pointers_and_patterns(void **state)
{
    (void)state;
    compile_err("{\"events\": {\"a\": {\"discriminator\": \"event_type\", \"variants\": "
                "{\"x\": true}}}}",
                "/events/a/discriminator", "not a JSON pointer");
    compile_err("{\"events\": {\"a\": {}}, \"envelope\": {\"type\": \"/a~2b\"}}", "/envelope/type",
                "not a JSON pointer");
    compile_err("{\"events\": {\"a\": {}}, \"envelope\": {\"type\": \"/a~\"}}", "/envelope/type",
                "not a JSON pointer");
    compile_err("{\"events\": {\"a\": {}}, \"envelope\": {\"payload\": \"/p\"}}", "/envelope",
                "missing required key \"type\"");
    compile_err("{\"events\": {\"a\": {}}, \"correlation_id\": {\"pointer\": \"cid\"}}",
                "/correlation_id/pointer", "not a JSON pointer");
    /* Header patterns are ECMA-262, as schema patterns: positioned errors in its syntax, what
     * PCRE2 or POSIX would take but ECMA-262 has not, and the cost limits. */
    compile_err("{\"events\": {\"a\": {}}, \"response\": {\"headers\": {\"X\": "
                "{\"pattern\": \"a(\"}}}}",
                "/response/headers/X/pattern", "invalid pattern: missing ) for the ( at offset 1");
    compile_err("{\"events\": {\"a\": {}}, \"response\": {\"headers\": {\"X\": "
                "{\"pattern\": \"^[[:alpha:]]$\"}}}}",
                "/response/headers/X/pattern", "invalid pattern: lone ] (write \\]) at offset 11");
    compile_err("{\"events\": {\"a\": {}}, \"response\": {\"headers\": {\"X\": "
                "{\"pattern\": \"(?i)no\"}}}}",
                "/response/headers/X/pattern", "invalid pattern: \"(?i\" is not ECMA-262");
    compile_err("{\"events\": {\"a\": {}}, \"response\": {\"headers\": {\"X\": "
                "{\"pattern\": \"^a{1,70000}$\"}}}}",
                "/response/headers/X/pattern",
                "pattern refused: repetition count above 65535 at offset 2");
    compile_err("{\"events\": {\"a\": {}}, \"response\": {\"headers\": {\"X\": "
                "{\"pattern\": \"((a|b|c|d)(e|f)?){2000}\"}}}}",
                "/response/headers/X/pattern",
                "pattern refused: regular expression is too large at offset");
    {
        /* ECMA meaning: \d is an ASCII digit, $ the very end */
        struct contract *h =
            compile_ok("{\"events\": {\"a\": {}}, \"response\": {\"headers\": {\"X\": "
                       "{\"pattern\": \"^\\\\d+(?:\\\\.\\\\d+)?$\"}}}}");
        assert_string_equal(h->c_headers[0].ch_pattern, "^\\d+(?:\\.\\d+)?$");
        assert_int_equal(ecma_regex_search(h->c_headers[0].ch_re, "1.5", 3), ECMA_REGEX_MATCH);
        assert_int_equal(ecma_regex_search(h->c_headers[0].ch_re, "1\n", 2), ECMA_REGEX_NO_MATCH);
        assert_int_equal(ecma_regex_search(h->c_headers[0].ch_re, "\xd9\xa0", 2),
                         ECMA_REGEX_NO_MATCH);
        contract_free(h);
    }

    struct contract *c = compile_ok("{\"events\": {\"a\": {\"discriminator\": \"\", "
                                    "\"variants\": {\"x\": true}}}, "
                                    "\"envelope\": {\"type\": \"/a~0b~1c/0\"}}");
    assert_string_equal(c->c_env_type, "/a~0b~1c/0");
    assert_null(c->c_env_payload);
    contract_free(c);
}

static void test_compile_event_rules(void **state)
{
    (void)state;
    compile_err("{\"events\": {\"a\": {\"data\": \"text\", \"schema\": {}}}}", "/events/a/schema",
                "needs \"data\": \"json\"");
    compile_err("{\"events\": {\"a\": {\"data\": \"text\", \"discriminator\": \"/k\", "
                "\"variants\": {\"x\": true}}}}",
                "/events/a/discriminator", "needs \"data\": \"json\"");
    compile_err("{\"events\": {\"a\": {\"discriminator\": \"/k\"}}}", "/events/a",
                "\"discriminator\" needs \"variants\"");
    compile_err("{\"events\": {\"a\": {\"variants\": {\"x\": true}}}}", "/events/a/variants",
                "\"variants\" needs \"discriminator\"");
    compile_err("{\"events\": {\"a\": {\"discriminator\": \"/k\", \"variants\": {}}}}",
                "/events/a/variants", "at least one variant");
    compile_err("{\"events\": {\"\": {}}}", "/events/", "non-empty");
    compile_err("{\"events\": {\"a\": {}}, \"heartbeat\": {\"interval_s\": 5, "
                "\"reset_on_any_event\": false}}",
                "/heartbeat", "nothing resets the heartbeat window");
    compile_err("{\"events\": {\"a\": {}}, \"timing\": {\"lifecycle_timeout_s\": 10}}",
                "/timing/lifecycle_timeout_s", "needs an \"order\" with a final state");
    compile_err("{\"extends\": \"x\", \"events\": {\"a\": {}}}", "/extends",
                "resolved by contract_load");
    compile_err("{\"abstract\": true, \"events\": {\"a\": {}}}", "/abstract",
                "only meant to be extended");

    /* An interval of 0 turns the liveness rule off. */
    struct contract *c = compile_ok("{\"events\": {\"a\": {}}, \"heartbeat\": "
                                    "{\"interval_s\": 0, \"reset_on_any_event\": false}}");
    assert_int_equal(c->c_hb_interval_ms, 0);
    contract_free(c);
}

static void test_compile_schemas(void **state)
{
    (void)state;
    /* json_schema reports the offending value by its path in the document:
     * in the event's schema, in a variant, or in a definition. */
    compile_err("{\"events\": {\"a\": {\"schema\": {\"properties\": {\"x\": "
                "{\"multipleOx\": 2}}}}}}",
                "/events/a/schema/properties/x", "multipleOx");
    compile_err("{\"events\": {\"a\": {\"discriminator\": \"/k\", \"variants\": "
                "{\"x\": {\"minimum\": \"0\"}}}}}",
                "/events/a/variants/x/minimum", "must be a number");
    compile_err("{\"events\": {\"a\": {\"schema\": {\"$ref\": \"#/definitions/nope\"}}}}",
                "/events/a/schema/$ref", "unresolved $ref");
    /* A definition nothing refers to is still checked. */
    compile_err("{\"events\": {\"a\": {}}, \"definitions\": {\"d\": {\"oneOff\": []}}}",
                "/definitions/d", "oneOff");
    compile_err("{\"events\": {\"a\": {}}, \"$defs\": {\"d\": {\"type\": \"int\"}}}",
                "/$defs/d/type", "unknown type");
    compile_err("{\"events\": {\"a\": {}}, \"definitions\": []}", "/definitions",
                "expected an object");

    struct contract *c =
        compile_ok("{\"events\": {\"a\": {\"schema\": {\"$ref\": \"#/$defs/d\"}}}, "
                   "\"$defs\": {\"d\": {\"type\": \"object\", \"required\": [\"x\"]}}}");
    assert_non_null(c->c_events[0].ce_schema);
    contract_free(c);
}

/* ---- contract_load ---- */

static void test_load_search_path(void **state)
{
    struct tmpdir *td = *state;
    struct contract_load_error err;
    char file[PATH_MAX], want[PATH_MAX];

    write_file(td, "mine.json", "{\"events\": {\"a\": {}}}");
    /* Shadows the shipped task-stream: the contracts dir comes first. */
    write_file(td, "task-stream.json", "{\"description\": \"local\", \"events\": {\"a\": {}}}");

    struct contract *c = contract_load("mine", td->td_path, &err);
    assert_non_null(c);
    assert_string_equal(c->c_name, "mine"); /* the file's stem */
    contract_free(c);

    c = contract_load("task-stream", td->td_path, &err);
    assert_non_null(c);
    assert_string_equal(c->c_description, "local");
    contract_free(c);

#if SSEMON_SEARCH_SOURCE_TREE
    /* Not in the dir: found in the source tree (a package build searches
     * only the installed directory). */
    c = contract_load("version-stream", td->td_path, &err);
    assert_non_null(c);
    assert_string_equal(c->c_name, "version-stream");
    contract_free(c);
#endif

    /* A path: anything with a '/' or ending in .json. */
    path_in(td, "mine.json", file, sizeof(file));
    c = contract_load(file, NULL, &err);
    assert_non_null(c);
    contract_free(c);

    assert_int_equal(contract_load_resolve("mine", td->td_path, 0, file, sizeof(file)), 0);
    path_in(td, "mine.json", want, sizeof(want));
    assert_string_equal(file, want);
    assert_int_equal(contract_load_resolve("version-stream", td->td_path, CONTRACT_LOAD_DIR_ONLY,
                                           file, sizeof(file)),
                     -1);
    assert_int_equal(contract_load_resolve("nope", td->td_path, 0, file, sizeof(file)), -1);

    c = contract_load("nope", td->td_path, &err);
    assert_null(c);
    assert_string_equal(err.cle_file, "nope");
    assert_int_equal(err.cle_line, 0);
    assert_non_null(strstr(err.cle_text, "nope: contract not found (searched: "));
    assert_non_null(strstr(err.cle_text, td->td_path));
    assert_non_null(strstr(err.cle_text, CONTRACT_LOAD_SYSTEM_DIR));

    path_in(td, "missing.json", file, sizeof(file));
    c = contract_load(file, NULL, &err);
    assert_null(c);
    assert_string_equal(err.cle_file, file);
    assert_non_null(strstr(err.cle_text, "cannot open"));

    /* A directory is not a contract file. */
    c = contract_load(td->td_path, NULL, &err);
    assert_null(c);
    assert_non_null(strstr(err.cle_text, "not a regular file"));
}

static void test_load_merge(void **state)
{
    struct tmpdir *td = *state;
    struct contract_load_error err;

    write_file(td, "base.json",
               "{\"name\": \"base\", \"abstract\": true, \"description\": \"from base\",\n"
               " \"variables\": [\"a\", \"b\"],\n"
               " \"response\": {\"status\": 200, \"headers\": {\"H1\": \"1\", \"H2\": \"2\"}},\n"
               " \"events\": {\"x\": {\"schema\": {\"type\": \"object\", \"required\": "
               "[\"p\"]}},\n"
               "            \"y\": {}, \"z\": {}},\n"
               " \"timing\": {\"first_event_ms\": 1000}}\n");
    write_file(td, "child.json",
               "{\"extends\": \"base\",\n"
               " \"variables\": [\"c\"],\n"
               " \"response\": {\"headers\": {\"H2\": null, \"H3\": \"3\"}},\n"
               " \"events\": {\"x\": {\"schema\": {\"required\": [\"q\"]}}, \"y\": null,\n"
               "            \"w\": {\"schema\": {\"const\": null}}}}\n");

    json_t *doc = contract_load_document("child", td->td_path, &err);
    assert_non_null(doc);
    /* name is not inherited: the file's stem; abstract is not either. */
    assert_string_equal(json_string_value(json_object_get(doc, "name")), "child");
    assert_null(json_object_get(doc, "abstract"));
    assert_null(json_object_get(doc, "extends"));
    assert_string_equal(json_string_value(json_object_get(doc, "description")), "from base");
    /* Arrays replace. */
    json_t *vars = json_object_get(doc, "variables");
    assert_int_equal(json_array_size(vars), 1);
    assert_string_equal(json_string_value(json_array_get(vars, 0)), "c");
    /* Objects merge; null deletes an inherited key. */
    json_t *headers = json_object_get(json_object_get(doc, "response"), "headers");
    assert_int_equal(json_object_size(headers), 2);
    assert_string_equal(json_string_value(json_object_get(headers, "H1")), "1");
    assert_null(json_object_get(headers, "H2"));
    assert_string_equal(json_string_value(json_object_get(headers, "H3")), "3");
    assert_int_equal(
        json_integer_value(json_object_get(json_object_get(doc, "response"), "status")), 200);
    json_t *events = json_object_get(doc, "events");
    assert_null(json_object_get(events, "y"));
    json_t *xs = json_object_get(json_object_get(events, "x"), "schema");
    assert_string_equal(json_string_value(json_object_get(xs, "type")), "object");
    json_t *req = json_object_get(xs, "required");
    assert_int_equal(json_array_size(req), 1);
    assert_string_equal(json_string_value(json_array_get(req, 0)), "q");
    /* A null with nothing to delete keeps its JSON meaning. */
    json_t *ws = json_object_get(json_object_get(events, "w"), "schema");
    assert_true(json_is_null(json_object_get(ws, "const")));
    /* Key order: the parent's keys first, then the child's new ones. */
    static const char *const order[] = {"x", "z", "w"};
    void *it = json_object_iter(events);
    for (size_t i = 0; i < 3; i++) {
        assert_non_null(it);
        assert_string_equal(json_object_iter_key(it), order[i]);
        it = json_object_iter_next(events, it);
    }
    assert_null(it);
    assert_int_equal(
        json_integer_value(json_object_get(json_object_get(doc, "timing"), "first_event_ms")),
        1000);
    json_decref(doc);

    struct contract *c = contract_load("child", td->td_path, &err);
    assert_non_null(c);
    assert_int_equal(c->c_n_events, 3);
    assert_int_equal(c->c_first_event_ms, 1000);
    contract_free(c);

    /* The abstract base itself is refused, at its "abstract" key. */
    c = contract_load("base", td->td_path, &err);
    assert_null(c);
    assert_int_equal(err.cle_line, 1);
    assert_string_equal(err.cle_path, "/abstract");
    assert_non_null(strstr(err.cle_message, "only meant to be extended"));
}

static void test_load_extends_paths(void **state)
{
    struct tmpdir *td = *state;
    struct contract_load_error err;
    char dir[PATH_MAX], file[PATH_MAX];

    path_in(td, "sub", dir, sizeof(dir));
    assert_int_equal(mkdir(dir, 0700), 0);
    write_file(td, "sub/p.json", "{\"events\": {\"fromp\": {}}}");
    write_file(td, "sub/c.json", "{\"extends\": \"p.json\", \"events\": {\"fromc\": {}}}");
    write_file(td, "top.json", "{\"extends\": \"sub/c.json\"}");

    /* Relative paths are relative to the extending file. */
    path_in(td, "top.json", file, sizeof(file));
    struct contract *c = contract_load(file, NULL, &err);
    if (c == NULL)
        fail_msg("%s", err.cle_text);
    assert_int_equal(c->c_n_events, 2);
    assert_string_equal(c->c_events[0].ce_name, "fromp");
    assert_string_equal(c->c_name, "top");
    contract_free(c);

#if SSEMON_SEARCH_SOURCE_TREE
    /* Extending a shipped contract by NAME through the search path. */
    write_file(td, "strict-task.json",
               "{\"extends\": \"task-stream\", \"timing\": {\"first_event_ms\": 200}}");
    c = contract_load("strict-task", td->td_path, &err);
    if (c == NULL)
        fail_msg("%s", err.cle_text);
    assert_int_equal(c->c_first_event_ms, 200);
    assert_int_equal(c->c_hb_interval_ms, 5000);
    assert_string_equal(c->c_name, "strict-task");
    contract_free(c);
#endif

    /* DIR_ONLY (fuzzing): names from the given dir only, no paths. */
    const char *by_path = "{\"extends\": \"sub/p.json\"}";
    c = contract_load_buffer(by_path, strlen(by_path), file, td->td_path, CONTRACT_LOAD_DIR_ONLY,
                             &err);
    assert_null(c);
    assert_string_equal(err.cle_path, "/extends");
    assert_non_null(strstr(err.cle_message, "only a NAME"));
    const char *by_name = "{\"extends\": \"task-stream\"}";
    c = contract_load_buffer(by_name, strlen(by_name), "buf", td->td_path, CONTRACT_LOAD_DIR_ONLY,
                             &err);
    assert_null(c);
    assert_non_null(strstr(err.cle_message, "contract \"task-stream\" not found"));
    c = contract_load_buffer(by_name, strlen(by_name), NULL, SHIPPED_DIR, CONTRACT_LOAD_DIR_ONLY,
                             &err);
    if (c == NULL)
        fail_msg("%s", err.cle_text);
    assert_string_equal(c->c_name, "<buffer>");
    contract_free(c);
}

static void test_load_extends_errors(void **state)
{
    struct tmpdir *td = *state;
    struct contract_load_error err;
    char file[PATH_MAX];

    /* A cycle, reported where it closes. */
    write_file(td, "a.json", "{\"extends\": \"b\", \"events\": {\"a\": {}}}");
    write_file(td, "b.json", "{\n  \"extends\": \"a\"\n}");
    struct contract *c = contract_load("a", td->td_path, &err);
    assert_null(c);
    path_in(td, "b.json", file, sizeof(file));
    assert_string_equal(err.cle_file, file);
    assert_int_equal(err.cle_line, 2);
    assert_int_equal(err.cle_column, 3);
    assert_string_equal(err.cle_path, "/extends");
    assert_non_null(strstr(err.cle_message, "cycle"));

    /* Extending itself. */
    write_file(td, "self.json", "{\"extends\": \"self\"}");
    c = contract_load("self", td->td_path, &err);
    assert_null(c);
    assert_non_null(strstr(err.cle_message, "cycle"));

    /* Depth: d0 extends d1 ... d9; 8 hops are fine, 9 are not. */
    for (int i = 0; i <= 9; i++) {
        char name[32], text[128];
        snprintf(name, sizeof(name), "d%d.json", i);
        if (i < 9)
            snprintf(text, sizeof(text), "{\"extends\": \"d%d\"}", i + 1);
        else
            snprintf(text, sizeof(text), "{\"events\": {\"deep\": {}}}");
        write_file(td, name, text);
    }
    c = contract_load("d1", td->td_path, &err);
    if (c == NULL)
        fail_msg("%s", err.cle_text);
    contract_free(c);
    c = contract_load("d0", td->td_path, &err);
    assert_null(c);
    path_in(td, "d8.json", file, sizeof(file));
    assert_string_equal(err.cle_file, file);
    assert_non_null(strstr(err.cle_message, "chain longer than 9 files"));

    /* extends of the wrong type, or naming nothing. */
    write_file(td, "badext.json", "{\"extends\": 1}");
    c = contract_load("badext", td->td_path, &err);
    assert_null(c);
    assert_string_equal(err.cle_path, "/extends");
    assert_int_equal(err.cle_line, 1);
    assert_int_equal(err.cle_column, 2);
    write_file(td, "noext.json", "{\"events\": {\"a\": {}},\n \"extends\": \"nothing-here\"}");
    c = contract_load("noext", td->td_path, &err);
    assert_null(c);
    assert_int_equal(err.cle_line, 2);
    assert_int_equal(err.cle_column, 2);
    assert_non_null(strstr(err.cle_message, "contract \"nothing-here\" not found"));
    write_file(td, "extdir.json", "{\"extends\": \"sub2/\"}");
    char dir[PATH_MAX];
    path_in(td, "sub2", dir, sizeof(dir));
    assert_int_equal(mkdir(dir, 0700), 0);
    c = contract_load("extdir", td->td_path, &err);
    assert_null(c);
    assert_non_null(strstr(err.cle_message, "cannot extend"));
    assert_non_null(strstr(err.cle_message, "not a regular file"));
}

static void test_load_error_positions(void **state)
{
    struct tmpdir *td = *state;
    struct contract_load_error err;
    char file[PATH_MAX], want[PATH_MAX + 200];

    /* Syntax: jansson's line and column. */
    write_file(td, "syntax.json", "{\n  \"events\": {\"a\": {},}\n}\n");
    path_in(td, "syntax.json", file, sizeof(file));
    struct contract *c = contract_load("syntax", td->td_path, &err);
    assert_null(c);
    assert_string_equal(err.cle_file, file);
    assert_int_equal(err.cle_line, 2);
    assert_int_equal(err.cle_column, 22);
    assert_string_equal(err.cle_path, "");
    assert_non_null(strstr(err.cle_text, ":2:22: invalid JSON: "));

    write_file(td, "dup.json", "{\"events\": {\"a\": {}},\n \"events\": {}}");
    c = contract_load("dup", td->td_path, &err);
    assert_null(c);
    assert_int_equal(err.cle_line, 2);
    assert_non_null(strstr(err.cle_message, "duplicate"));

    write_file(td, "array.json", "[1]");
    c = contract_load("array", td->td_path, &err);
    assert_null(c);
    assert_non_null(strstr(err.cle_message, "a contract is a JSON object"));

    /* Semantics: the key of the offending member, columns in characters. */
    write_file(td, "sem.json",
               "{\n"
               "  \"description\": \"d\xc3\xa9j\xc3\xa0\", \"events\": {\n"
               "    \"a\": {\n"
               "      \"schema\": {}, \"hearbeat\": true\n"
               "    }\n"
               "  }\n"
               "}\n");
    path_in(td, "sem.json", file, sizeof(file));
    c = contract_load("sem", td->td_path, &err);
    assert_null(c);
    assert_string_equal(err.cle_file, file);
    assert_string_equal(err.cle_path, "/events/a/hearbeat");
    assert_int_equal(err.cle_line, 4);
    assert_int_equal(err.cle_column, 21);
    snprintf(want, sizeof(want), "%s:4:21: /events/a/hearbeat: unknown key \"hearbeat\"", file);
    assert_memory_equal(err.cle_text, want, strlen(want));

    write_file(td, "sem2.json",
               "{\"description\": \"\xc3\xa9\", \"events\": {\"a\": {}}, "
               "\"order\": {\"initial\": \"s\", \"states\": {\"s\": {\"on\": "
               "{\"a\": \"t\"}}}}}");
    c = contract_load("sem2", td->td_path, &err);
    assert_null(c);
    assert_string_equal(err.cle_path, "/order/states/s/on/a");
    assert_int_equal(err.cle_line, 1);
    assert_int_equal(err.cle_column, 93);

    /* A state's deadline: at its key. */
    write_file(td, "within.json",
               "{\"events\": {\"a\": {}},\n"
               " \"order\": {\"initial\": \"s\", \"states\": {\n"
               "   \"s\": {\"on\": {\"a\": \"s\"}, \"within_ms\": 0}}}}\n");
    path_in(td, "within.json", file, sizeof(file));
    c = contract_load("within", td->td_path, &err);
    assert_null(c);
    assert_string_equal(err.cle_path, "/order/states/s/within_ms");
    assert_int_equal(err.cle_line, 3);
    assert_int_equal(err.cle_column, 28);
    snprintf(want, sizeof(want), "%s:3:28: /order/states/s/within_ms: 0 is out of range", file);
    assert_memory_equal(err.cle_text, want, strlen(want));

    /* An array item: the item itself. */
    write_file(td, "sem3.json", "{\"events\": {\"a\": {}},\n \"variables\": [\"x\",\n  7]}");
    c = contract_load("sem3", td->td_path, &err);
    assert_null(c);
    assert_string_equal(err.cle_path, "/variables/1");
    assert_int_equal(err.cle_line, 3);
    assert_int_equal(err.cle_column, 3);

    /* Something missing: the object that lacks it. */
    write_file(td, "sem4.json",
               "{\"events\": {\"a\": {}},\n \"order\": {\"states\": {\"s\": {}}}}");
    c = contract_load("sem4", td->td_path, &err);
    assert_null(c);
    assert_string_equal(err.cle_path, "/order");
    assert_int_equal(err.cle_line, 2);
    assert_int_equal(err.cle_column, 2);

    /* An inherited mistake is shown where it is written. */
    write_file(td, "pbad.json",
               "{\"events\": {\"a\": {}},\n"
               " \"order\": {\"initial\": \"s\", \"states\": {\"s\": {\"on\": {\"a\": \"s\"}}}}}");
    write_file(td, "cbad.json", "{\"extends\": \"pbad\", \"events\": {\"a\": null, \"b\": {}}}");
    c = contract_load("cbad", td->td_path, &err);
    assert_null(c);
    path_in(td, "pbad.json", file, sizeof(file));
    assert_string_equal(err.cle_file, file);
    assert_string_equal(err.cle_path, "/order/states/s/on/a");
    assert_int_equal(err.cle_line, 2);
    assert_int_equal(err.cle_column, 52);
    assert_non_null(strstr(err.cle_message, "(inherited by "));
    assert_non_null(strstr(err.cle_message, "cbad.json)"));

    /* The child's own value wins the location when both have the path. */
    write_file(td, "cbad2.json", "{\"extends\": \"pbad\",\n \"order\": {\"initial\": \"zz\"}}");
    c = contract_load("cbad2", td->td_path, &err);
    assert_null(c);
    path_in(td, "cbad2.json", file, sizeof(file));
    assert_string_equal(err.cle_file, file);
    assert_int_equal(err.cle_line, 2);
    assert_int_equal(err.cle_column, 12);
    assert_null(strstr(err.cle_message, "inherited"));

    /* A schema error inside a definition. */
    write_file(td, "schemabad.json",
               "{\"events\": {\"a\": {\"schema\": {\"$ref\": \"#/definitions/d\"}}},\n"
               " \"definitions\": {\"d\": {\"type\": \"object\",\n"
               "   \"properties\": {\"v\": {\"multipleOx\": 2}}}}}");
    c = contract_load("schemabad", td->td_path, &err);
    assert_null(c);
    assert_string_equal(err.cle_path, "/definitions/d/properties/v");
    assert_int_equal(err.cle_line, 3);
    assert_int_equal(err.cle_column, 19);
    assert_non_null(strstr(err.cle_message, "multipleOx"));

    /* A response header pattern refused by the pattern policy. */
    write_file(td, "hdrbad.json",
               "{\"events\": {\"a\": {}},\n"
               " \"response\": {\"headers\": {\n"
               "   \"X-Accel-Buffering\": {\"pattern\": \"((a|b|c|d)(e|f)?){2000}\"}}}}");
    path_in(td, "hdrbad.json", file, sizeof(file));
    c = contract_load("hdrbad", td->td_path, &err);
    assert_null(c);
    snprintf(want, sizeof(want),
             "%s:3:26: /response/headers/X-Accel-Buffering/pattern: pattern refused: regular "
             "expression is too large at offset 17",
             file);
    assert_string_equal(err.cle_text, want);
}

/* What users see: `ssemon check` prints the load error with its position
 * and exits 2 (SSEMON_BIN: the built executable, set by CMake). */
static void test_check_refused_pattern(void **state)
{
    struct tmpdir *td = *state;
    char file[PATH_MAX], cmd[3 * PATH_MAX], want[PATH_MAX + 200], out[1024];

    write_file(td, "hdr.json",
               "{\"events\": {\"a\": {}},\n"
               " \"response\": {\"headers\": {\n"
               "   \"X\": {\"pattern\": \"^\\\\Ano$\"}}}}\n");
    path_in(td, "hdr.json", file, sizeof(file));
    snprintf(cmd, sizeof(cmd), "'%s' check --contract '%s' '%s' 2>&1", SSEMON_BIN, file, file);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    size_t n = fread(out, 1, sizeof(out) - 1, p);
    out[n] = '\0';
    int status = pclose(p);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 2);
    snprintf(want, sizeof(want),
             "ssemon check: %s:3:10: /response/headers/X/pattern: invalid pattern: \\A is not an "
             "ECMA-262 escape (Unicode mode) at offset 1\n",
             file);
    assert_string_equal(out, want);
}

static void test_load_buffer(void **state)
{
    (void)state;
    struct contract_load_error err;
    const char *ok = "{\"events\": {\"a\": {}}}xx";

    /* Only `len` bytes count. */
    struct contract *c = contract_load_buffer(ok, strlen(ok) - 2, "mem.json", NULL, 0, &err);
    if (c == NULL)
        fail_msg("%s", err.cle_text);
    assert_string_equal(c->c_name, "mem");
    contract_free(c);

    c = contract_load_buffer(ok, strlen(ok), "mem.json", NULL, 0, &err);
    assert_null(c);
    assert_string_equal(err.cle_file, "mem.json");
    assert_int_equal(err.cle_line, 1);
    assert_non_null(strstr(err.cle_text, "mem.json:1:"));

    c = contract_load_buffer("", 0, NULL, NULL, 0, &err);
    assert_null(c);
    assert_string_equal(err.cle_file, "<buffer>");

    const char nul[] = "{\"events\": {\"a\": {}}}\0";
    c = contract_load_buffer(nul, sizeof(nul) - 1, "nul.json", NULL, 0, &err);
    assert_null(c);
}

/* A UTF-8 byte order mark before a contract is skipped (a loaded file, an
 * extended one, a listed one, a buffer), and positions count from the
 * character after it. */
static void test_load_byte_order_mark(void **state)
{
    struct tmpdir *td = *state;
    struct contract_load_error err, plain;
    char file[PATH_MAX], want[PATH_MAX + 200];

    write_file(td, "bomparent.json", "\xEF\xBB\xBF{\"abstract\": true, \"events\": {\"a\": {}}}");
    write_file(td, "bom.json",
               "\xEF\xBB\xBF{\"description\": \"with a BOM\", \"extends\": \"bomparent\"}");
    struct contract *c = contract_load("bom", td->td_path, &err);
    if (c == NULL)
        fail_msg("%s", err.cle_text);
    assert_string_equal(c->c_name, "bom");
    assert_int_equal(c->c_n_events, 1);
    contract_free(c);

    struct contract_load_entry *e;
    size_t n;
    assert_int_equal(contract_load_list(td->td_path, &e, &n), 0);
    bool listed = false;
    for (size_t i = 0; i < n; i++)
        listed = listed || (strcmp(e[i].cen_name, "bom") == 0 && e[i].cen_description != NULL &&
                            strcmp(e[i].cen_description, "with a BOM") == 0);
    contract_load_list_free(e, n);
    assert_true(listed);

    /* a contract error: line 1 column 1 is the "{" after the mark */
    write_file(td, "bombad.json", "\xEF\xBB\xBF{\"events\": {\"a\": {\"dat\": 1}}}");
    assert_null(contract_load("bombad", td->td_path, &err));
    path_in(td, "bombad.json", file, sizeof(file));
    snprintf(want, sizeof(want), "%s:1:19: /events/a/dat: unknown key \"dat\"", file);
    assert_non_null(strstr(err.cle_text, want));

    /* a syntax error: the same position as without the mark */
    write_file(td, "bomjson.json", "\xEF\xBB\xBF{\"events\":\n  {\"a\": }}");
    write_file(td, "plainjson.json", "{\"events\":\n  {\"a\": }}");
    assert_null(contract_load("bomjson", td->td_path, &err));
    assert_null(contract_load("plainjson", td->td_path, &plain));
    assert_int_equal(err.cle_line, 2);
    assert_int_equal(err.cle_line, plain.cle_line);
    assert_int_equal(err.cle_column, plain.cle_column);
    assert_string_equal(err.cle_message, plain.cle_message);

    const char buf[] = "\xEF\xBB\xBF{\"events\": {\"a\": {}}}";
    c = contract_load_buffer(buf, sizeof(buf) - 1, "mem.json", NULL, 0, &err);
    if (c == NULL)
        fail_msg("%s", err.cle_text);
    contract_free(c);
}

/* A growing text for generated contracts. */
struct gen {
    char *g_buf;
    size_t g_len;
    size_t g_cap;
};

__attribute__((format(printf, 2, 3))) static void gen_add(struct gen *g, const char *fmt, ...)
{
    va_list ap;
    for (;;) {
        va_start(ap, fmt);
        int n = vsnprintf(g->g_buf + g->g_len, g->g_cap - g->g_len, fmt, ap);
        va_end(ap);
        assert_true(n >= 0);
        if ((size_t)n < g->g_cap - g->g_len) {
            g->g_len += (size_t)n;
            return;
        }
        g->g_cap = (g->g_cap + (size_t)n + 1) * 2;
        g->g_buf = realloc(g->g_buf, g->g_cap);
        assert_non_null(g->g_buf);
    }
}

static struct contract *gen_load(struct gen *g, struct contract_load_error *err)
{
    struct contract *c = contract_load_buffer(g->g_buf, g->g_len, "big.json", NULL, 0, err);
    free(g->g_buf);
    memset(g, 0, sizeof(*g));
    return c;
}

/* What a contract may cost is bounded, each bound refused with its
 * position; 4000 definitions that each refer to the next one, and the
 * largest enum allowed, load. */
static void test_load_limits(void **state)
{
    (void)state;
    struct contract_load_error err;
    struct gen g = {0};

    gen_add(&g, "{\"events\": {\"a\": {\"schema\": {\"$ref\": \"#/definitions/d0\"}}},\n"
                " \"definitions\": {");
    for (int i = 0; i < 4000; i++) {
        gen_add(&g, "%s\"d%d\": {\"type\": \"object\", \"properties\": {\"next\": ", i ? ", " : "",
                i);
        if (i < 3999)
            gen_add(&g, "{\"$ref\": \"#/definitions/d%d\"}}}", i + 1);
        else
            gen_add(&g, "{\"type\": \"integer\"}}}");
    }
    gen_add(&g, "}}");
    struct contract *c = gen_load(&g, &err);
    if (c == NULL)
        fail_msg("%s", err.cle_text);
    assert_non_null(c->c_events[0].ce_schema);
    contract_free(c);

    /* one definition too many, at "definitions" */
    gen_add(&g, "{\"events\": {\"a\": {}},\n \"definitions\": {");
    for (int i = 0; i <= JSON_SCHEMA_MAX_DEFINITIONS; i++)
        gen_add(&g, "%s\"d%d\": true", i ? ", " : "", i);
    gen_add(&g, "}}");
    assert_null(gen_load(&g, &err));
    assert_string_equal(
        err.cle_text,
        "big.json:2:2: /definitions: 10001 definitions, more than the limit of 10000");

    /* the largest enum loads; one entry more is refused, at "enum" */
    for (int extra = 0; extra < 2; extra++) {
        gen_add(&g, "{\"events\": {\"a\": {\"schema\": {\"$ref\": \"#/definitions/big\"}}},\n"
                    " \"definitions\": {\"big\": {\"enum\": [");
        for (int i = 0; i < JSON_SCHEMA_MAX_ENUM + extra; i++)
            gen_add(&g, "%s\"value-%d\"", i ? ", " : "", i);
        gen_add(&g, "]}}}");
        c = gen_load(&g, &err);
        if (extra == 0) {
            if (c == NULL)
                fail_msg("%s", err.cle_text);
            contract_free(c);
        } else {
            assert_null(c);
            assert_string_equal(err.cle_text, "big.json:2:26: /definitions/big/enum: \"enum\" has "
                                              "10001 entries, more than the limit of 10000");
        }
    }

    /* too deep: reported at the schema that holds the nesting */
    gen_add(&g, "{\"events\": {\"a\": {\"schema\": ");
    for (int i = 0; i < JSON_SCHEMA_MAX_DEPTH; i++)
        gen_add(&g, "{\"items\": ");
    gen_add(&g, "{}");
    for (int i = 0; i < JSON_SCHEMA_MAX_DEPTH; i++)
        gen_add(&g, "}");
    gen_add(&g, "}}}");
    assert_null(gen_load(&g, &err));
    assert_string_equal(err.cle_text, "big.json:1:19: /events/a/schema: subschemas nested more "
                                      "than 64 deep (the limit)");

    /* distinct patterns: the same one shared by every property costs one */
    for (int distinct = 0; distinct < 2; distinct++) {
        gen_add(&g, "{\"events\": {\"a\": {\"schema\": {\"properties\": {");
        for (int i = 0; i <= JSON_SCHEMA_MAX_PATTERNS; i++)
            gen_add(&g, "%s\"p%d\": {\"pattern\": \"^x%d\"}", i ? ", " : "", i, distinct ? i : 0);
        gen_add(&g, "}}}}}");
        c = gen_load(&g, &err);
        if (!distinct) {
            if (c == NULL)
                fail_msg("%s", err.cle_text);
            contract_free(c);
        } else {
            assert_null(c);
            assert_non_null(strstr(err.cle_text, "/events/a/schema/properties/p100/pattern: more "
                                                 "than 100 different patterns in all (the limit)"));
        }
    }
}

/* ---- shipped contracts ---- */

static struct contract *load_shipped(const char *name)
{
    struct contract_load_error err;
    struct contract *c = contract_load(name, SHIPPED_DIR, &err);

    if (c == NULL)
        fail_msg("%s", err.cle_text);
    return c;
}

static const struct contract_header *find_header(const struct contract *c, const char *name)
{
    for (size_t i = 0; i < c->c_n_headers; i++)
        if (strcmp(c->c_headers[i].ch_name, name) == 0)
            return &c->c_headers[i];
    return NULL;
}

/* The target of the transition on `key` ("kind" or "kind:variant") from
 * state `from`, or NULL when there is none. */
static const char *next_state(const struct contract *c, const char *from, const char *kind,
                              const char *variant)
{
    size_t s = contract_state_index(c, from);

    assert_int_not_equal(s, CONTRACT_NO_STATE);
    for (size_t i = 0; i < c->c_states[s].cs_n_on; i++) {
        const struct contract_transition *t = &c->c_states[s].cs_on[i];
        if (strcmp(c->c_events[t->ct_event].ce_name, kind) != 0)
            continue;
        if (t->ct_variant == NULL || (variant && strcmp(t->ct_variant, variant) == 0))
            return c->c_states[t->ct_target].cs_name;
    }
    return NULL;
}

static void test_shipped_task_stream(void **state)
{
    (void)state;
    struct contract *c = load_shipped("task-stream");

    assert_string_equal(c->c_name, "task-stream");
    assert_int_equal(c->c_status, 200);
    assert_int_equal(c->c_n_headers, 1);
    assert_string_equal(find_header(c, "Cache-Control")->ch_equals, "no-cache");
    assert_null(c->c_env_type);
    assert_true(contract_has_variable(c, "task_id"));
    size_t hb = contract_event_index(c, "heartbeat", 9);
    assert_int_not_equal(hb, (size_t)-1);
    assert_true(c->c_events[hb].ce_heartbeat);
    assert_int_equal(c->c_hb_interval_ms, 5000);
    assert_true(c->c_hb_tolerance == 2.0);
    assert_false(c->c_hb_comments);
    assert_true(c->c_hb_reset_on_any);
    assert_int_equal(c->c_first_event_ms, 1000);
    assert_int_equal(c->c_cid.cc_presence, CONTRACT_CID_OPTIONAL);
    assert_true(c->c_cid.cc_consistent);
    assert_string_equal(c->c_states[c->c_initial].cs_name, "connecting");
    assert_string_equal(next_state(c, "connecting", "connection_open", NULL), "waiting");
    assert_string_equal(next_state(c, "waiting", "task_event", "task_started"), "running");
    assert_null(next_state(c, "waiting", "task_event", "progress_update"));
    assert_string_equal(next_state(c, "waiting", "error", NULL), "not_found");
    assert_string_equal(next_state(c, "failed", "connection_close", "task_completed"), "closed");
    /* The gateway-era reason is declared (and judged for order) but its
     * schema rejects it. */
    assert_string_equal(next_state(c, "failed", "connection_close", "task_failed"), "closed");
    assert_null(next_state(c, "completed", "connection_close", "task_failed"));
    assert_string_equal(next_state(c, "not_found", "connection_close", "task_not_found"), "closed");
    assert_true(c->c_states[contract_state_index(c, "closed")].cs_final);
    size_t close = contract_event_index(c, "connection_close", 16);
    assert_int_equal(c->c_events[close].ce_n_variants, 3);
    contract_free(c);
}

static void test_shipped_task_stream_gateway(void **state)
{
    (void)state;
    struct contract *c = load_shipped("task-stream-gateway");

    assert_string_equal(c->c_name, "task-stream-gateway");
    assert_int_equal(c->c_n_headers, 2);
    assert_string_equal(find_header(c, "X-Accel-Buffering")->ch_equals, "no");
    assert_int_equal(contract_event_index(c, "heartbeat", 9), (size_t)-1);
    assert_int_equal(c->c_hb_interval_ms, 15000);
    assert_true(c->c_hb_comments);
    assert_false(c->c_hb_reset_on_any);
    assert_int_equal(c->c_first_event_ms, 1000);
    /* connection_open optional. */
    assert_string_equal(next_state(c, "connecting", "connection_open", NULL), "waiting");
    assert_string_equal(next_state(c, "connecting", "task_event", "task_started"), "running");
    assert_string_equal(next_state(c, "failed", "connection_close", "task_failed"), "closed");
    assert_null(next_state(c, "failed", "connection_close", "task_completed"));
    assert_string_equal(next_state(c, "completed", "connection_close", "task_completed"), "closed");
    size_t err = contract_event_index(c, "error", 5);
    assert_int_equal(c->c_events[err].ce_n_equals, 1);
    size_t close = contract_event_index(c, "connection_close", 16);
    assert_int_equal(c->c_events[close].ce_n_variants, 3);
    contract_free(c);
}

static void test_shipped_version_streams(void **state)
{
    (void)state;
    struct contract *c = load_shipped("version-stream");

    assert_true(contract_has_variable(c, "request_id"));
    assert_int_equal(c->c_cid.cc_presence, CONTRACT_CID_REQUIRED);
    assert_true(c->c_cid.cc_consistent);
    assert_string_equal(c->c_cid.cc_equals_var, "request_id");
    assert_int_equal(c->c_hb_interval_ms, 5000);
    assert_false(c->c_hb_comments);
    assert_string_equal(next_state(c, "live", "heartbeat", NULL), "live");
    assert_string_equal(next_state(c, "live", "connection_close", "idle_timeout"), "closed");
    assert_null(next_state(c, "live", "connection_close", "version_fetch_error"));
    assert_string_equal(next_state(c, "fetch_failed", "connection_close", "version_fetch_error"),
                        "closed");
    contract_free(c);

    c = load_shipped("version-stream-gateway");
    assert_string_equal(c->c_name, "version-stream-gateway");
    assert_int_equal(contract_event_index(c, "heartbeat", 9), (size_t)-1);
    assert_string_equal(find_header(c, "X-Accel-Buffering")->ch_equals, "no");
    assert_int_equal(c->c_cid.cc_presence, CONTRACT_CID_REQUIRED);
    assert_int_equal(c->c_hb_interval_ms, 15000);
    assert_true(c->c_hb_comments);
    assert_false(c->c_hb_reset_on_any);
    assert_string_equal(next_state(c, "connecting", "version", NULL), "live");
    assert_null(next_state(c, "live", "heartbeat", NULL));
    contract_free(c);
}

static void test_shipped_gateway_envelope(void **state)
{
    (void)state;
    struct contract *c = load_shipped("gateway-envelope");

    assert_string_equal(c->c_env_type, "/type");
    assert_string_equal(c->c_env_payload, "/payload");
    assert_int_equal(c->c_n_headers, 2);
    size_t ready = contract_event_index(c, "ready", 5);
    assert_int_equal(c->c_events[ready].ce_data, CONTRACT_DATA_TEXT);
    assert_int_not_equal(contract_event_index(c, "rejected", 8), (size_t)-1);
    assert_int_not_equal(contract_event_index(c, "task_event", 10), (size_t)-1);
    assert_int_not_equal(contract_event_index(c, "version", 7), (size_t)-1);
    for (size_t i = 0; i < c->c_n_states; i++)
        assert_false(c->c_states[i].cs_final);
    assert_string_equal(next_state(c, "connecting", "ready", NULL), "live");
    assert_string_equal(next_state(c, "live", "ready", NULL), "live");
    /* ready must come within 2 s of the open, else an order violation */
    assert_int_equal(c->c_states[c->c_initial].cs_within_ms, 2000);
    assert_string_equal(c->c_states[c->c_initial].cs_name, "connecting");
    assert_int_equal(c->c_states[contract_state_index(c, "live")].cs_within_ms, 0);
    assert_true(c->c_hb_comments);
    assert_int_equal(c->c_hb_interval_ms, 15000);
    assert_int_equal(c->c_lifecycle_ms, 0);
    contract_free(c);
}

static void test_shipped_list(void **state)
{
    (void)state;
    static const char *const names[] = {"gateway-envelope", "task-stream", "task-stream-gateway",
                                        "version-stream", "version-stream-gateway"};
    struct contract_load_entry *e;
    size_t n;

    assert_int_equal(contract_load_list(SHIPPED_DIR, &e, &n), 0);
    /* Installed files may add names; the shipped ones are all there, the
     * abstract building block is not. */
    for (size_t k = 0; k < sizeof(names) / sizeof(names[0]); k++) {
        bool found = false;
        for (size_t i = 0; i < n && !found; i++)
            found = strcmp(e[i].cen_name, names[k]) == 0 && e[i].cen_description != NULL;
        if (!found)
            fail_msg("%s not listed", names[k]);
    }
    for (size_t i = 0; i < n; i++) {
        assert_string_not_equal(e[i].cen_name, "common-backend");
        if (i > 0)
            assert_true(strcmp(e[i - 1].cen_name, e[i].cen_name) < 0);
    }
    contract_load_list_free(e, n);

    /* Loading the building block by name is refused. */
    struct contract_load_error err;
    assert_null(contract_load("common-backend", SHIPPED_DIR, &err));
    assert_string_equal(err.cle_path, "/abstract");
}

/* ---- options: schemas that refer to other documents ---- */

/* A loader that serves one document at one URI and records what it was
 * asked for. */
struct mem_docs {
    const char *md_uri; /* without fragment */
    json_t *md_doc;
    int md_calls;
    char md_last[256];
};

static const json_t *mem_docs_load(void *ctx, const char *uri, char *why, size_t cap)
{
    struct mem_docs *m = ctx;
    size_t n = strcspn(uri, "#");

    m->md_calls++;
    snprintf(m->md_last, sizeof(m->md_last), "%s", uri);
    if (strlen(m->md_uri) == n && strncmp(uri, m->md_uri, n) == 0)
        return m->md_doc;
    snprintf(why, cap, "%s: not served here", uri);
    return NULL;
}

/* Validates `instance` against the schema of the contract's first event. */
static bool first_event_accepts(const struct contract *c, const char *instance)
{
    struct json_tape t;
    struct json_schema_error serr;

    json_tape_init(&t);
    assert_int_equal(json_tape_parse(&t, instance, strlen(instance), NULL), JSON_TAPE_OK);
    bool ok = json_schema_validate(c->c_events[0].ce_schema, &t, json_tape_root(&t), &serr);
    json_tape_free(&t);
    return ok;
}

static void test_compile_opts(void **state)
{
    (void)state;
    const char *text = "{\"events\": {\"e\": {\"schema\": {\"$ref\": \"doc.json#/$defs/v\"}}}}";
    json_t *doc = json_loads(text, 0, NULL);
    struct mem_docs m = {.md_uri = "file:///contracts/doc.json"};
    struct json_schema_options so;
    struct contract_options co = {.co_schema = &so};
    struct contract_error err;

    assert_non_null(doc);
    m.md_doc = json_loads("{\"$defs\": {\"v\": {\"type\": \"integer\", \"maximum\": 3}}}", 0, NULL);
    assert_non_null(m.md_doc);
    memset(&so, 0, sizeof(so));
    so.so_base_uri = "file:///contracts/c.json";
    so.so_load = mem_docs_load;
    so.so_load_ctx = &m;

    /* Without options there is no loader: the reference is an error in
     * the contract document. */
    assert_null(contract_compile(doc, &err));
    assert_string_equal(err.ce_uri, "");
    assert_non_null(strstr(err.ce_path, "/events/e/schema"));
    assert_null(contract_compile_opts(doc, NULL, &err));
    assert_string_equal(err.ce_uri, "");

    /* With them, the reference resolves against the base URI and the
     * loader's document validates. */
    struct contract *c = contract_compile_opts(doc, &co, &err);
    if (c == NULL)
        fail_msg("%s: %s", err.ce_path, err.ce_message);
    assert_true(m.md_calls >= 1);
    assert_int_equal(strncmp(m.md_last, m.md_uri, strlen(m.md_uri)), 0);
    assert_true(first_event_accepts(c, "3"));
    assert_false(first_event_accepts(c, "4"));
    assert_false(first_event_accepts(c, "2.5"));
    contract_free(c);

    /* A mistake inside the document is reported there: its URI and the
     * pointer into it. */
    json_decref(m.md_doc);
    m.md_doc = json_loads("{\"$defs\": {\"v\": {\"maximum\": \"3\"}}}", 0, NULL);
    assert_non_null(m.md_doc);
    assert_null(contract_compile_opts(doc, &co, &err));
    assert_string_equal(err.ce_uri, m.md_uri);
    assert_string_equal(err.ce_path, "/$defs/v/maximum");

    /* What the loader refuses is an error at the reference. */
    so.so_base_uri = "file:///elsewhere/c.json";
    assert_null(contract_compile_opts(doc, &co, &err));
    assert_string_equal(err.ce_uri, "");
    assert_non_null(strstr(err.ce_path, "/events/e/schema"));
    assert_non_null(strstr(err.ce_message, "not served here"));
    json_decref(m.md_doc);
    json_decref(doc);
}

/* Loads a contract file that must load. */
static struct contract *load_ok(const struct tmpdir *td, const char *name)
{
    struct contract_load_error err;
    char file[PATH_MAX];

    path_in(td, name, file, sizeof(file));
    struct contract *c = contract_load(file, NULL, &err);
    if (c == NULL)
        fail_msg("%s", err.cle_text);
    return c;
}

/* Loads a contract file that must not; returns the error. */
static struct contract_load_error load_fails(const struct tmpdir *td, const char *name)
{
    struct contract_load_error err;
    char file[PATH_MAX];

    path_in(td, name, file, sizeof(file));
    struct contract *c = contract_load(file, NULL, &err);
    if (c != NULL) {
        contract_free(c);
        fail_msg("%s loaded, expected an error", name);
    }
    return err;
}

static void test_load_refs(void **state)
{
    struct tmpdir *td = *state;
    char dir[PATH_MAX], want[PATH_MAX + 64];
    struct contract_load_error err;
    const char *models =
        "{\"components\": {\"schemas\": {"
        "  \"Ev\": {\"type\": \"object\", \"required\": [\"k\"],"
        "          \"properties\": {\"k\": {\"$ref\": \"#/components/schemas/K\"}}},"
        "  \"K\": {\"title\": \"K\", \"type\": \"string\", \"enum\": [\"a\", \"b\"]}}}}";

    path_in(td, "p", dir, sizeof(dir));
    assert_int_equal(mkdir(dir, 0700), 0);
    path_in(td, "c", dir, sizeof(dir));
    assert_int_equal(mkdir(dir, 0700), 0);
    path_in(td, "docs", dir, sizeof(dir));
    assert_int_equal(mkdir(dir, 0700), 0);
    write_file(td, "docs/api.json", models);
    write_file(td, "p/api.json", models);

    /* Beside the contract, and through "../" and "./": the document's own "#/..."
     * references resolve inside it. */
    write_file(
        td, "p/beside.json",
        "{\"events\": {\"e\": {\"schema\": {\"$ref\": \"api.json#/components/schemas/Ev\"}}}}");
    struct contract *c = load_ok(td, "p/beside.json");
    assert_true(first_event_accepts(c, "{\"k\": \"a\"}"));
    assert_false(first_event_accepts(c, "{\"k\": \"c\"}"));
    contract_free(c);
    write_file(
        td, "p/parent.json",
        "{\"events\": {\"e\": {\"schema\": "
        "{\"$ref\": \"../p/./api.json#/components/schemas/Ev\"}}},"
        " \"definitions\": {\"d\": {\"items\": {\"$ref\": \"api.json#/components/schemas/K\"}}}}");
    c = load_ok(td, "p/parent.json");
    assert_false(first_event_accepts(c, "{}"));
    contract_free(c);

    /* Inherited from a parent in another directory: still beside the
     * parent (c/ has no api.json). */
    write_file(td, "c/child.json", "{\"extends\": \"../p/parent.json\"}");
    c = load_ok(td, "c/child.json");
    assert_true(first_event_accepts(c, "{\"k\": \"b\"}"));
    assert_false(first_event_accepts(c, "{\"k\": 1}"));
    contract_free(c);
    /* The child's own reference resolves beside the child. */
    write_file(
        td, "c/own.json",
        "{\"extends\": \"../p/parent.json\",\n"
        " \"events\": {\"f\": {\"schema\": {\"$ref\": \"api.json#/components/schemas/K\"}}}}");
    err = load_fails(td, "c/own.json");
    path_in(td, "c/own.json", want, sizeof(want));
    assert_string_equal(err.cle_file, want);
    assert_int_equal(err.cle_line, 2);
    assert_non_null(strstr(err.cle_path, "/events/f/schema"));
    assert_non_null(strstr(err.cle_message, "no such file"));
    /* Values that are not schemas ("const") are never rewritten. */
    write_file(td, "p/idp.json",
               "{\"events\": {\"e\": {\"schema\": {\"properties\": {"
               "  \"x\": {\"const\": {\"$ref\": \"api.json\"}}}}}}}");
    write_file(td, "c/idc.json", "{\"extends\": \"../p/idp.json\"}");
    c = load_ok(td, "c/idc.json");
    assert_true(first_event_accepts(c, "{\"x\": {\"$ref\": \"api.json\"}}"));
    contract_free(c);

    /* Never the network; never outside the contract directories. */
    write_file(
        td, "c/http.json",
        "{\"events\": {\"e\": {\"schema\": {\"$ref\": \"http://127.0.0.1:9/api.json#/x\"}}}}");
    err = load_fails(td, "c/http.json");
    assert_int_equal(err.cle_line, 1);
    assert_non_null(strstr(err.cle_message, "never the network"));
    write_file(
        td, "c/out.json",
        "{\"events\": {\"e\": {\"schema\": {\"$ref\": \"../../../../../../../../etc/passwd\"}}}}");
    err = load_fails(td, "c/out.json");
    assert_non_null(strstr(err.cle_message, "outside the contract directories"));
    write_file(td, "c/sibling.json",
               "{\"events\": {\"e\": {\"schema\": {\"$ref\": "
               "\"../docs/api.json#/components/schemas/K\"}}}}");
    err = load_fails(td, "c/sibling.json");
    assert_non_null(strstr(err.cle_message, "outside the contract directories"));
    /* A missing pointer in the document. */
    write_file(
        td, "p/nopointer.json",
        "{\"events\": {\"e\": {\"schema\": {\"$ref\": \"api.json#/components/schemas/Nope\"}}}}");
    err = load_fails(td, "p/nopointer.json");
    assert_int_equal(err.cle_line, 1);
    assert_non_null(strstr(err.cle_path, "/events/e/schema"));

    /* A mistake in the document is positioned in the document. */
    write_file(td, "c/bad.json", "{\"$defs\": {\"v\": {\n  \"minimum\": \"0\"}}}");
    write_file(td, "c/usesbad.json",
               "{\"events\": {\"e\": {\"schema\": {\"$ref\": \"bad.json#/$defs/v\"}}}}");
    err = load_fails(td, "c/usesbad.json");
    assert_non_null(strstr(err.cle_file, "c/bad.json"));
    assert_int_equal(err.cle_line, 2);
    assert_int_equal(err.cle_column, 3);
    assert_string_equal(err.cle_path, "/$defs/v/minimum");
    assert_non_null(strstr(err.cle_message, "(referred to by "));
}

static void test_load_identity(void **state)
{
    struct tmpdir *td = *state;
    struct contract_load_error err;
    char file[PATH_MAX], *id1 = NULL, *id2 = NULL;

    write_file(td, "api.json", "{\"$defs\": {\"v\": {\"maximum\": 1}}}");
    write_file(td, "c.json",
               "{\"events\": {\"e\": {\"schema\": {\"$ref\": \"api.json#/$defs/v\"}}}}");
    path_in(td, "c.json", file, sizeof(file));
    struct contract *c = contract_load_identified(file, NULL, &id1, &err);
    if (c == NULL)
        fail_msg("%s", err.cle_text);
    contract_free(c);
    assert_non_null(id1);
    assert_non_null(strstr(id1, "\"maximum\":1"));
    /* The referred document changed: so did the identity. */
    write_file(td, "api.json", "{\"$defs\": {\"v\": {\"maximum\": 2}}}");
    c = contract_load_identified(file, NULL, &id2, &err);
    assert_non_null(c);
    contract_free(c);
    assert_non_null(id2);
    assert_string_not_equal(id1, id2);
    free(id1);
    free(id2);
    /* No identity when it does not load. */
    write_file(td, "api.json", "{}");
    id1 = (char *)"unchanged";
    assert_null(contract_load_identified(file, NULL, &id1, &err));
    assert_null(id1);
}

/* Loads the configuration `name` of the temporary directory. */
static struct config *config_ok(const struct tmpdir *td, const char *name)
{
    struct diag_list errors;
    char file[PATH_MAX];

    path_in(td, name, file, sizeof(file));
    struct config *cfg = config_load(file, &errors);
    if (cfg == NULL)
        fail_msg("%s", errors.dl_n > 0 ? errors.dl_items[0].dg_text : "no configuration");
    diag_list_free(&errors);
    return cfg;
}

/* The daemon's reload keeps a subscription whose contract is unchanged; a
 * changed document its schemas refer to is a changed contract. */
static void test_reload_sees_documents(void **state)
{
    struct tmpdir *td = *state;

    write_file(td, "api.json", "{\"$defs\": {\"v\": {\"maximum\": 1}}}");
    write_file(td, "c.json",
               "{\"events\": {\"e\": {\"schema\": {\"$ref\": \"api.json#/$defs/v\"}}}}");
    write_file(td, "ssemon.json",
               "{\"status\": {\"listen\": \"127.0.0.1:0\"}, \"subscriptions\": [{\"name\": \"s\","
               " \"url\": \"http://127.0.0.1:9/x\", \"contract\": \"c.json\"}]}");
    struct config *a = config_ok(td, "ssemon.json");
    struct config *b = config_ok(td, "ssemon.json");
    assert_true(
        config_subscription_equal(config_subscription_at(a, 0), config_subscription_at(b, 0)));
    write_file(td, "api.json", "{\"$defs\": {\"v\": {\"maximum\": 2}}}");
    struct config *c = config_ok(td, "ssemon.json");
    assert_false(
        config_subscription_equal(config_subscription_at(a, 0), config_subscription_at(c, 0)));
    config_unref(a);
    config_unref(b);
    config_unref(c);
}

/* ---- every error in one run (contract_compile_all, contract_load_all) ---- */

static struct contract *compile_all_text(const char *text, struct contract_errors *errs)
{
    json_error_t jerr;
    json_t *doc = json_loads(text, JSON_REJECT_DUPLICATES, &jerr);

    if (doc == NULL)
        fail_msg("test JSON does not parse: %s (line %d)", jerr.text, jerr.line);
    struct contract *c = contract_compile_all(doc, NULL, errs);
    json_decref(doc);
    return c;
}

static void assert_error(const struct contract_errors *errs, size_t i, const char *path,
                         const char *msg)
{
    if (i >= errs->ces_n)
        fail_msg("error %zu missing (%zu errors)", i, errs->ces_n);
    const struct contract_error *e = &errs->ces_items[i];
    if (strcmp(e->ce_path, path) != 0 || strstr(e->ce_message, msg) == NULL)
        fail_msg("error %zu is \"%s: %s\", expected \"%s: ...%s...\"", i, e->ce_path, e->ce_message,
                 path, msg);
}

static void test_compile_all_errors(void **state)
{
    (void)state;
    struct contract_errors errs;
    /* One error in each part that is checked on its own, in document order. */
    const char *text = "{'name': 'many', 'bogus': 1, 'variables': ['v', 'a=b', 'v'],"
                       " 'response': {'status': 99, 'headers': {'X-A': {'pattern': '('},"
                       "   'X-B': 5, 'X-C': 'ok'}},"
                       " 'events': {'a': {'data': 'x'}, 'b': {'schema': {'type': 5}},"
                       "   'c': {'discriminator': '/k', 'variants': {'v1': {'minimum': 'x'},"
                       "          'v2': {'type': 'string'}}, 'equals': {'bad': 'v', '/k': 'w'}},"
                       "   'd': {'data': 'text', 'hearbeat': true}},"
                       " 'order': {'initial': 's', 'states': {"
                       "   's': {'on': {'zz': 's', 'a': 'nowhere', 'd': 't'}},"
                       "   't': {'final': true, 'within_ms': 5}}},"
                       " 'heartbeat': {'interval_s': -1},"
                       " 'timing': {'first_event_ms': 'soon'}}";
    char json[2048];
    snprintf(json, sizeof(json), "%s", text);
    for (char *p = json; *p != '\0'; p++)
        if (*p == '\'')
            *p = '"';
    struct contract *c = compile_all_text(json, &errs);
    assert_null(c);
    size_t i = 0;
    assert_error(&errs, i++, "/bogus", "unknown key \"bogus\"");
    assert_error(&errs, i++, "/variables/1", "non-empty and has no '='");
    assert_error(&errs, i++, "/variables/2", "declared twice");
    assert_error(&errs, i++, "/response/status", "99 is not an HTTP status");
    assert_error(&errs, i++, "/response/headers/X-A/pattern", "invalid pattern");
    assert_error(&errs, i++, "/response/headers/X-B", "expected a string");
    assert_error(&errs, i++, "/events/a/data", "\"x\" is not a data encoding");
    assert_error(&errs, i++, "/events/b/schema/type", "\"type\" must be");
    assert_error(&errs, i++, "/events/c/variants/v1/minimum", "");
    assert_error(&errs, i++, "/events/c/equals/bad", "is not a JSON pointer");
    assert_error(&errs, i++, "/events/c/equals/~1k", "variable \"w\" is not declared");
    assert_error(&errs, i++, "/events/d/hearbeat", "unknown key \"hearbeat\"");
    assert_error(&errs, i++, "/order/states/s/on/zz", "event kind \"zz\" is not declared");
    assert_error(&errs, i++, "/order/states/s/on/a", "state \"nowhere\" is not declared");
    assert_error(&errs, i++, "/order/states/t/within_ms", "a final state has no deadline");
    assert_error(&errs, i++, "/heartbeat/interval_s", "out of range");
    assert_error(&errs, i++, "/timing/first_event_ms", "expected an integer");
    assert_int_equal(errs.ces_n, i);
    assert_int_equal(errs.ces_more, 0);
    assert_false(errs.ces_oom);

    /* contract_compile reports the first of them, as it always did. */
    struct contract_error err;
    assert_null(compile_text(json, &err));
    assert_string_equal(err.ce_path, "/bogus");
    contract_errors_free(&errs);
    contract_errors_free(&errs); /* twice is fine */

    /* A valid contract: no error, a contract. */
    c = compile_all_text("{\"events\": {\"a\": {}}}", &errs);
    assert_non_null(c);
    assert_int_equal(errs.ces_n, 0);
    contract_free(c);
    contract_errors_free(&errs);

    /* After a schema failed, the others are still checked (each alone),
     * "$ref"s included; the same error is kept once. */
    c = compile_all_text("{\"definitions\": {\"x\": {\"type\": \"string\"}},"
                         " \"events\": {\"a\": {\"schema\": {\"$ref\": \"#/definitions/nope\"}},"
                         "  \"b\": {\"schema\": {\"type\": 1}},"
                         "  \"c\": {\"schema\": {\"$ref\": \"#/definitions/gone\"}},"
                         "  \"d\": {\"schema\": {\"$ref\": \"#/definitions/nope\"}},"
                         "  \"e\": {\"schema\": {\"$ref\": \"#/definitions/x\"}}}}",
                         &errs);
    assert_null(c);
    assert_error(&errs, 0, "/events/b/schema/type", "\"type\" must be");
    assert_error(&errs, 1, "/events/a/schema/$ref", "unresolved $ref");
    assert_error(&errs, 2, "/events/c/schema/$ref", "unresolved $ref");
    assert_error(&errs, 3, "/events/d/schema/$ref", "unresolved $ref");
    assert_int_equal(errs.ces_n, 4);
    contract_errors_free(&errs);

    /* Definitions that do not compile are one error; no other schema is
     * checked, the rest of the contract is. */
    c = compile_all_text("{\"definitions\": {\"x\": {\"type\": 1}},"
                         " \"events\": {\"a\": {\"schema\": {\"type\": 2}, \"data\": \"y\"}}}",
                         &errs);
    assert_null(c);
    assert_error(&errs, 0, "/definitions/x/type", "\"type\" must be");
    assert_error(&errs, 1, "/events/a/data", "not a data encoding");
    assert_int_equal(errs.ces_n, 2);
    contract_errors_free(&errs);

    /* An abstract contract: refused, unless compiled as a building block. */
    const char *abstract = "{\"abstract\": true, \"definitions\": {\"x\": {}}}";
    c = compile_all_text(abstract, &errs);
    assert_null(c);
    assert_error(&errs, 0, "/abstract", "only meant to be extended");
    assert_int_equal(errs.ces_n, 1);
    contract_errors_free(&errs);
    json_t *doc = json_loads(abstract, 0, NULL);
    struct contract_options opts = {.co_abstract = true};
    c = contract_compile_all(doc, &opts, &errs);
    assert_non_null(c);
    contract_free(c);
    contract_errors_free(&errs);
    json_decref(doc);
}

/* At most CONTRACT_ERRORS_MAX errors are kept, the rest counted. */
static void test_compile_all_cap(void **state)
{
    (void)state;
    struct contract_errors errs;
    size_t n = CONTRACT_ERRORS_MAX + 25, cap = 64 + n * 40;
    char *text = malloc(cap);
    assert_non_null(text);
    size_t used = (size_t)snprintf(text, cap, "{\"events\": {");
    for (size_t i = 0; i < n; i++)
        used += (size_t)snprintf(text + used, cap - used, "%s\"e%03zu\": {\"data\": \"x\"}",
                                 i ? ", " : "", i);
    snprintf(text + used, cap - used, "}}");
    struct contract *c = compile_all_text(text, &errs);
    assert_null(c);
    assert_int_equal(errs.ces_n, CONTRACT_ERRORS_MAX);
    assert_int_equal(errs.ces_more, 25);
    assert_error(&errs, 0, "/events/e000/data", "not a data encoding");
    assert_error(&errs, CONTRACT_ERRORS_MAX - 1, "/events/e099/data", "not a data encoding");
    contract_errors_free(&errs);
    free(text);
}

/* Whichever allocation fails, contract_compile_all never crashes, and when
 * it returns NULL it says why (an error or ces_oom); nothing leaks
 * (valgrind, ASan builds). */
static void test_compile_all_alloc_fail(void **state)
{
    (void)state;
    const char *texts[] = {
        full_contract,
        "{\"bogus\": 1, \"variables\": [\"v\", \"v\"],"
        " \"events\": {\"a\": {\"data\": \"x\"}, \"b\": {\"schema\": {\"type\": 1}},"
        "  \"c\": {\"schema\": {\"$ref\": \"#/definitions/gone\"}}},"
        " \"order\": {\"initial\": \"s\", \"states\": {\"s\": {\"on\": {\"zz\": \"s\"}}}}}",
    };
    for (size_t t = 0; t < sizeof(texts) / sizeof(texts[0]); t++) {
        json_t *doc = json_loads(texts[t], 0, NULL);
        assert_non_null(doc);
        long n;
        for (n = 0; n < 100000; n++) {
            struct contract_errors errs;
            alloc_failed = 0;
            alloc_countdown = n;
            struct contract *c = contract_compile_all(doc, NULL, &errs);
            alloc_countdown = -1;
            /* (a failed shrinking realloc is no failure: the compile goes on) */
            if (c == NULL)
                assert_true(errs.ces_oom || errs.ces_n > 0);
            if (t == 0 && alloc_failed == 0)
                assert_non_null(c);
            bool done = alloc_failed == 0;
            contract_free(c);
            contract_errors_free(&errs);
            if (done)
                break;
        }
        assert_true(n > 0 && n < 100000);
        json_decref(doc);
    }
}

/* contract_load_all: positions exact, in document order across files. */
static void test_load_all_errors(void **state)
{
    struct tmpdir *td = *state;
    struct diag_list errors;
    char file[PATH_MAX], api[PATH_MAX], want[2 * PATH_MAX + 300];

    write_file(td, "api.json",
               "{\"components\": {\"schemas\": {\n"
               "  \"Good\": {\"type\": \"object\"},\n"
               "  \"Bad\": {\"type\": \"objekt\"}}}}\n");
    write_file(td, "three.json",
               "{\n"
               "  \"events\": {\n"
               "    \"c\": {\"schema\": {\"$ref\": \"api.json#/components/schemas/Bad\"}},\n"
               "    \"a\": {\"data\": \"x\"},\n"
               "    \"d\": {\"schema\": {\"$ref\": \"api.json#/components/schemas/Good\"}}\n"
               "  },\n"
               "  \"bogus\": 1\n"
               "}\n");
    path_in(td, "three.json", file, sizeof(file));
    path_in(td, "api.json", api, sizeof(api));
    struct contract *c = contract_load_all("three", td->td_path, CONTRACT_LOAD_DIR_ONLY, &errors);
    assert_null(c);
    assert_int_equal(errors.dl_n, 3);
    snprintf(want, sizeof(want), "%s:4:11: /events/a/data: \"x\" is not a data encoding", file);
    assert_true(strncmp(errors.dl_items[0].dg_text, want, strlen(want)) == 0);
    snprintf(want, sizeof(want), "%s:7:3: /bogus: unknown key \"bogus\"", file);
    assert_true(strncmp(errors.dl_items[1].dg_text, want, strlen(want)) == 0);
    snprintf(want, sizeof(want),
             "%s:3:11: /components/schemas/Bad/type: unknown type \"objekt\" (referred to by %s)",
             api, file);
    assert_string_equal(errors.dl_items[2].dg_text, want);
    diag_list_free(&errors);

    /* A name not found: one line. */
    c = contract_load_all("missing", td->td_path, CONTRACT_LOAD_DIR_ONLY, &errors);
    assert_null(c);
    assert_int_equal(errors.dl_n, 1);
    assert_non_null(strstr(errors.dl_items[0].dg_text, "missing: contract not found"));
    diag_list_free(&errors);

    /* Valid: an empty list. */
    write_file(td, "fine.json", "{\"events\": {\"a\": {}}}");
    c = contract_load_all("fine", td->td_path, CONTRACT_LOAD_DIR_ONLY, &errors);
    assert_non_null(c);
    assert_int_equal(errors.dl_n, 0);
    contract_free(c);
    diag_list_free(&errors);

    /* Beyond the cap: the count of the rest, on a line of its own. */
    char big[8192];
    size_t used = (size_t)snprintf(big, sizeof(big), "{\"events\": {\n");
    for (size_t i = 0; i < CONTRACT_ERRORS_MAX + 3; i++)
        used +=
            (size_t)snprintf(big + used, sizeof(big) - used, "%s\"e%03zu\": 1\n", i ? "," : "", i);
    snprintf(big + used, sizeof(big) - used, "}}\n");
    write_file(td, "big.json", big);
    path_in(td, "big.json", file, sizeof(file));
    c = contract_load_all("big", td->td_path, CONTRACT_LOAD_DIR_ONLY, &errors);
    assert_null(c);
    assert_int_equal(errors.dl_n, CONTRACT_ERRORS_MAX + 1);
    snprintf(want, sizeof(want), "%s:2:1: /events/e000: expected an object", file);
    assert_true(strncmp(errors.dl_items[0].dg_text, want, strlen(want)) == 0);
    snprintf(want, sizeof(want), "%s: 3 more errors not shown", file);
    assert_string_equal(errors.dl_items[CONTRACT_ERRORS_MAX].dg_text, want);
    diag_list_free(&errors);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_compile_full),
        cmocka_unit_test(test_compile_defaults),
        cmocka_unit_test(test_compile_unknown_keys),
        cmocka_unit_test(test_compile_wrong_types),
        cmocka_unit_test(test_compile_references),
        cmocka_unit_test(test_compile_state_deadline),
        cmocka_unit_test(test_compile_pointers_and_patterns),
        cmocka_unit_test(test_compile_event_rules),
        cmocka_unit_test(test_compile_schemas),
        cmocka_unit_test_setup_teardown(test_load_search_path, tmpdir_setup, tmpdir_teardown),
        cmocka_unit_test_setup_teardown(test_load_merge, tmpdir_setup, tmpdir_teardown),
        cmocka_unit_test_setup_teardown(test_load_extends_paths, tmpdir_setup, tmpdir_teardown),
        cmocka_unit_test_setup_teardown(test_load_extends_errors, tmpdir_setup, tmpdir_teardown),
        cmocka_unit_test_setup_teardown(test_load_error_positions, tmpdir_setup, tmpdir_teardown),
        cmocka_unit_test_setup_teardown(test_check_refused_pattern, tmpdir_setup, tmpdir_teardown),
        cmocka_unit_test(test_load_buffer),
        cmocka_unit_test_setup_teardown(test_load_byte_order_mark, tmpdir_setup, tmpdir_teardown),
        cmocka_unit_test(test_load_limits),
        cmocka_unit_test(test_shipped_task_stream),
        cmocka_unit_test(test_shipped_task_stream_gateway),
        cmocka_unit_test(test_shipped_version_streams),
        cmocka_unit_test(test_shipped_gateway_envelope),
        cmocka_unit_test(test_shipped_list),
        cmocka_unit_test(test_compile_opts),
        cmocka_unit_test_setup_teardown(test_load_refs, tmpdir_setup, tmpdir_teardown),
        cmocka_unit_test_setup_teardown(test_load_identity, tmpdir_setup, tmpdir_teardown),
        cmocka_unit_test_setup_teardown(test_reload_sees_documents, tmpdir_setup, tmpdir_teardown),
        cmocka_unit_test(test_compile_all_errors),
        cmocka_unit_test(test_compile_all_cap),
        cmocka_unit_test(test_compile_all_alloc_fail),
        cmocka_unit_test_setup_teardown(test_load_all_errors, tmpdir_setup, tmpdir_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
