/*
 * Tests of json_position and config: every class of configuration error
 * with its exact FILE:LINE:COL: PATH, several errors at once, the layering
 * of defaults, credentials from a temporary CREDENTIALS_DIRECTORY, secret
 * redaction, equality across loads (what a reload keeps), the options
 * handed to the engine and validator (and what the daemon builds a
 * monitor's from: name, redacted URL, contract, healthy window), the
 * diagnostics machinery (diag) itself, and allocation failures
 * (injected by wrapping the allocator at link time).
 *
 * Configuration texts are written with ' for " (see J()) so they stay
 * readable; "\n" separates lines where positions matter.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <ftw.h>
#include <sys/stat.h>
#include <unistd.h>

#include "alloc_fail.h"
#include "ssemon/config/config.h"
#include "ssemon/config/config_doc.h"
#include "ssemon/config/config_probe.h"
#include "ssemon/core/validator.h"
#include "ssemon/io/subscription.h"
#include "ssemon/json/json_position.h"

/* ---- fixtures ---- */

static char tmpdir[256];

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static int group_setup(void **state)
{
    (void)state;
    snprintf(tmpdir, sizeof(tmpdir), "/tmp/ssemon-test-config-XXXXXX");
    if (mkdtemp(tmpdir) == NULL)
        return -1;
    unsetenv("CREDENTIALS_DIRECTORY");
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    return nftw(tmpdir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* A path under the test's temporary directory. */
static const char *tmp_path(char *buf, size_t size, const char *rel)
{
    snprintf(buf, size, "%s/%s", tmpdir, rel);
    return buf;
}

static void write_file(const char *rel, const char *text)
{
    char path[512];
    FILE *f = fopen(tmp_path(path, sizeof(path), rel), "w");
    assert_non_null(f);
    assert_int_equal(fputs(text, f) >= 0, 1);
    assert_int_equal(fclose(f), 0);
}

/* The text with every ' turned into ": JSON written readably in C. */
/* The shipped contracts, named explicitly: a packaged build does not
 * search the source tree, and the build host has no /etc/ssemon. */
#define SHIPPED_CONTRACTS SSEMON_SOURCE_DIR "/etc/ssemon/contracts"

/* The text with every ' turned into ": JSON written readably in C. A text
 * naming contracts without a contracts_dir gets the shipped contracts' one
 * as its last member, which moves no position before it. */
static char *J(const char *text)
{
    size_t len = strlen(text);
    const char *end = strrchr(text, '}');
    bool inject = strstr(text, "'contract'") != NULL && strstr(text, "contracts_dir") == NULL &&
                  end != NULL && end[1] == '\0';
    char *s = malloc(len + sizeof(SHIPPED_CONTRACTS) + 32);
    assert_non_null(s);
    if (inject)
        sprintf(s, "%.*s, 'contracts_dir': '%s'}", (int)(end - text), text, SHIPPED_CONTRACTS);
    else
        memcpy(s, text, len + 1);
    for (char *c = s; *c != '\0'; c++)
        if (*c == '\'')
            *c = '"';
    return s;
}

static struct config *load(const char *text, struct diag_list *e)
{
    char *s = J(text);
    struct config *c = config_load_buffer(s, strlen(s), "cfg.json", e);
    free(s);
    return c;
}

/* Loads a configuration written to the temporary directory (so relative
 * paths are relative to it). */
static struct config *load_file(const char *rel, const char *text, struct diag_list *e)
{
    char path[512];
    char *s = J(text);
    write_file(rel, s);
    free(s);
    return config_load(tmp_path(path, sizeof(path), rel), e);
}

static struct config *load_ok(const char *text)
{
    struct diag_list e;
    struct config *c = load(text, &e);
    for (size_t i = 0; i < e.dl_n; i++)
        fprintf(stderr, "unexpected: %s\n", e.dl_items[i].dg_text);
    assert_int_equal(e.dl_n, 0);
    assert_false(e.dl_oom);
    assert_non_null(c);
    diag_list_free(&e);
    return c;
}

static void check_errors(const struct diag_list *e, const char *const *want, size_t n)
{
    bool same = e->dl_n == n;
    for (size_t i = 0; same && i < n; i++)
        same = strcmp(e->dl_items[i].dg_text, want[i]) == 0;
    if (!same) {
        for (size_t i = 0; i < n; i++)
            fprintf(stderr, "want: %s\n", want[i]);
        for (size_t i = 0; i < e->dl_n; i++)
            fprintf(stderr, "got:  %s\n", e->dl_items[i].dg_text);
    }
    assert_true(same);
    assert_false(e->dl_oom);
}

/* On a mismatch, shows what each error's position points at in `text`. */
static void show_positions(const char *text, const struct diag_list *e)
{
    for (size_t i = 0; i < e->dl_n; i++) {
        const struct diag *ce = &e->dl_items[i];
        const char *p = text;
        for (size_t l = 1; l < ce->dg_line && p != NULL; l++) {
            p = strchr(p, '\n');
            p = p != NULL ? p + 1 : NULL;
        }
        for (size_t c = 1; p != NULL && c < ce->dg_column && *p != '\0'; p++)
            if (((unsigned char)p[1] & 0xC0) != 0x80)
                c++;
        if (p != NULL && ce->dg_line > 0)
            fprintf(stderr, "at %zu:%zu: %.16s\n", ce->dg_line, ce->dg_column, p);
    }
}

static void expect_errors(const char *text, const char *const *want, size_t n)
{
    struct diag_list e;
    struct config *c = load(text, &e);
    assert_null(c);
    bool same = e.dl_n == n;
    for (size_t i = 0; same && i < n; i++)
        same = strcmp(e.dl_items[i].dg_text, want[i]) == 0;
    if (!same) {
        char *s = J(text);
        show_positions(s, &e);
        free(s);
    }
    check_errors(&e, want, n);
    diag_list_free(&e);
}

#define EXPECT_ERRORS(text, ...)                                                                   \
    do {                                                                                           \
        static const char *const want_[] = {__VA_ARGS__};                                          \
        expect_errors(text, want_, sizeof(want_) / sizeof(want_[0]));                              \
    } while (0)

/* ---- json_position ---- */

static void test_position_offsets(void **state)
{
    (void)state;
    struct json_position p;
    const char *text = "{\"é\u00e9\": [1,\n\t\"x\"]}";

    json_position_at_offset(text, strlen(text), 0, &p);
    assert_int_equal(p.jp_line, 1);
    assert_int_equal(p.jp_column, 1);
    /* Columns count characters: "é" and "\u00e9" written raw are 2 bytes each. */
    const char *one = strchr(text, '1');
    json_position_at_offset(text, strlen(text), (size_t)(one - text), &p);
    assert_int_equal(p.jp_line, 1);
    assert_int_equal(p.jp_column, 9);
    const char *x = strchr(text, 'x');
    json_position_at_offset(text, strlen(text), (size_t)(x - text), &p);
    assert_int_equal(p.jp_line, 2);
    assert_int_equal(p.jp_column, 3);
    json_position_at_offset(text, strlen(text), 10000, &p);
    assert_int_equal(p.jp_offset, strlen(text));
}

static void test_position_pointers(void **state)
{
    (void)state;
    struct json_position p;
    const char *text = "{\n"
                       "  \"a\": {\"b/c\": [10, {\"d~e\": true}]},\n"
                       "  \"dup\": 1, \"dup\": 2,\n"
                       "  \"\": 3\n"
                       "}";
    size_t len = strlen(text);

    assert_int_equal(json_position_find(text, len, "", 0, &p), JSON_POSITION_FOUND);
    assert_int_equal(p.jp_line, 1);
    assert_int_equal(p.jp_column, 1);
    assert_int_equal(json_position_find(text, len, "/a/b~1c/1/d~0e", 0, &p), JSON_POSITION_FOUND);
    assert_int_equal(p.jp_line, 2);
    assert_int_equal(p.jp_column, 29);
    assert_int_equal(p.jp_matched, strlen("/a/b~1c/1/d~0e"));
    assert_int_equal(json_position_find(text, len, "/a/b~1c/1/d~0e", JSON_POSITION_KEY, &p),
                     JSON_POSITION_FOUND);
    assert_int_equal(p.jp_column, 22);
    /* An array item has no key: KEY gives the value. */
    assert_int_equal(json_position_find(text, len, "/a/b~1c/0", JSON_POSITION_KEY, &p),
                     JSON_POSITION_FOUND);
    assert_int_equal(p.jp_column, 17);
    /* The last of duplicate keys, as lookups see it. */
    assert_int_equal(json_position_find(text, len, "/dup", JSON_POSITION_KEY, &p),
                     JSON_POSITION_FOUND);
    assert_int_equal(p.jp_line, 3);
    assert_int_equal(p.jp_column, 13);
    assert_int_equal(json_position_find(text, len, "/", 0, &p), JSON_POSITION_FOUND);
    assert_int_equal(p.jp_line, 4);
    assert_int_equal(p.jp_column, 7);

    /* Absent: nothing, or the deepest ancestor with NEAREST. */
    assert_int_equal(json_position_find(text, len, "/a/zz/y", 0, &p), JSON_POSITION_NONE);
    assert_int_equal(json_position_find(text, len, "/a/zz/y", JSON_POSITION_NEAREST, &p),
                     JSON_POSITION_ANCESTOR);
    assert_int_equal(p.jp_line, 2);
    assert_int_equal(p.jp_column, 8);
    assert_int_equal(p.jp_matched, 2);
    assert_int_equal(
        json_position_find(text, len, "/a/zz/y", JSON_POSITION_NEAREST | JSON_POSITION_KEY, &p),
        JSON_POSITION_ANCESTOR);
    assert_int_equal(p.jp_column, 3);

    /* Malformed: leading zeros, out of range, bad escapes, no leading '/'. */
    assert_int_equal(json_position_find(text, len, "/a/b~1c/01", 0, &p), JSON_POSITION_NONE);
    assert_int_equal(json_position_find(text, len, "/a/b~1c/2", 0, &p), JSON_POSITION_NONE);
    assert_int_equal(json_position_find(text, len, "/a/b~2c", 0, &p), JSON_POSITION_NONE);
    assert_int_equal(json_position_find(text, len, "a", 0, &p), JSON_POSITION_NONE);
    assert_int_equal(json_position_find(text, len, "/dup/x", 0, &p), JSON_POSITION_NONE);
    /* Not JSON. */
    assert_int_equal(json_position_find("{", 1, "", 0, &p), JSON_POSITION_NONE);
}

/* ---- valid configurations ---- */

static void test_builtin_defaults(void **state)
{
    (void)state;
    struct config_settings d;
    config_settings_defaults(&d);
    assert_int_equal(d.cs_backoff_min_ms, 500);
    assert_int_equal(d.cs_backoff_max_ms, 30000);
    assert_int_equal(d.cs_connect_timeout_ms, 10000);
    assert_int_equal(d.cs_idle_timeout_ms, 0);
    assert_int_equal(d.cs_healthy_reset_ms, 30000);
    assert_int_equal(d.cs_healthy_window_ms, 300000);
    assert_int_equal(d.cs_heartbeat_interval_ms, 0);
    assert_true(d.cs_heartbeat_tolerance == 0);
    assert_true(d.cs_strict);
    assert_false(d.cs_insecure);
    assert_true(d.cs_enabled);
    assert_null(d.cs_ca_file);
    assert_int_equal(d.cs_journal_burst, 10);
    assert_int_equal(d.cs_journal_interval_ms, 60000);
    assert_int_equal(d.cs_max_line, SSE_PARSER_DEFAULT_MAX_LINE);
    assert_int_equal(d.cs_max_event, SSE_PARSER_DEFAULT_MAX_EVENT);
    assert_int_equal(d.cs_evidence_events, 64);
    assert_int_equal(d.cs_evidence_bytes, 256 * 1024);

    /* A file with nothing but an empty list takes them all. */
    struct config *c = load_ok("{'subscriptions': []}");
    assert_memory_equal(config_defaults(c), &d, sizeof(d));
    assert_int_equal(config_subscription_count(c), 0);
    assert_null(config_contracts_dir(c));
    assert_string_equal(config_path(c), "cfg.json");
    const struct listen_addr *l = config_status_listen(c);
    assert_int_equal(l->la_kind, LISTEN_ADDR_INET);
    assert_string_equal(l->la_text, "127.0.0.1:9464");
    assert_string_equal(l->la_host, "127.0.0.1");
    assert_int_equal(l->la_port, 9464);
    config_unref(c);
}

static void test_layering(void **state)
{
    (void)state;
    struct config *c = load_ok("{'defaults': {'backoff_min_ms': 100, 'backoff_max_ms': 2000,"
                               " 'connect_timeout_s': 2.5, 'idle_timeout_s': 60,"
                               " 'healthy_reset_s': 5, 'healthy_window_s': 120, 'strict': false,"
                               " 'heartbeat_tolerance': 3, 'insecure': true,"
                               " 'journal_rate': {'burst': 3}, 'max_line': 4096,"
                               " 'max_event': 8192, 'evidence_events': 7,"
                               " 'headers': {'X-Env': 'staging', 'X-Team': 'web'}},"
                               " 'subscriptions': ["
                               "  {'name': 'plain', 'url': 'http://127.0.0.1:1/a',"
                               "   'contract': 'task-stream'},"
                               "  {'name': 'own', 'url': 'http://127.0.0.1:1/b',"
                               "   'contract': 'task-stream', 'backoff_max_ms': 9000,"
                               "   'strict': true, 'heartbeat_interval_s': 0.25,"
                               "   'enabled': false, 'evidence_bytes': 1000,"
                               "   'headers': {'x-env': 'prod', 'X-Only': ''}}]}");
    const struct config_settings *d = config_defaults(c);
    assert_int_equal(d->cs_backoff_min_ms, 100);
    assert_int_equal(d->cs_connect_timeout_ms, 2500);
    assert_int_equal(d->cs_journal_burst, 3);
    assert_int_equal(d->cs_journal_interval_ms, 60000);

    const struct config_subscription *plain = config_subscription_find(c, "plain");
    const struct config_subscription *own = config_subscription_find(c, "own");
    assert_ptr_equal(plain, config_subscription_at(c, 0));
    assert_ptr_equal(own, config_subscription_at(c, 1));
    assert_null(config_subscription_find(c, "other"));
    assert_null(config_subscription_at(c, 2));

    const struct config_settings *p = config_subscription_settings(plain);
    assert_memory_equal(p, d, sizeof(*p));
    assert_true(config_subscription_enabled(plain));

    const struct config_settings *o = config_subscription_settings(own);
    assert_int_equal(o->cs_backoff_min_ms, 100);
    assert_int_equal(o->cs_backoff_max_ms, 9000);
    assert_int_equal(o->cs_connect_timeout_ms, 2500);
    assert_int_equal(o->cs_idle_timeout_ms, 60000);
    assert_int_equal(o->cs_healthy_reset_ms, 5000);
    assert_int_equal(o->cs_healthy_window_ms, 120000);
    assert_int_equal(o->cs_heartbeat_interval_ms, 250);
    assert_true(o->cs_heartbeat_tolerance == 3.0);
    assert_true(o->cs_strict);
    assert_true(o->cs_insecure);
    assert_int_equal(o->cs_journal_burst, 3);
    assert_int_equal(o->cs_journal_interval_ms, 60000);
    assert_int_equal(o->cs_max_line, 4096);
    assert_int_equal(o->cs_max_event, 8192);
    assert_int_equal(o->cs_evidence_events, 7);
    assert_int_equal(o->cs_evidence_bytes, 1000);
    assert_int_equal(p->cs_evidence_bytes, 256 * 1024);
    assert_false(config_subscription_enabled(own));

    /* Headers merge by name, ignoring case; sorted by name. */
    char line[128];
    assert_int_equal(config_subscription_header_count(plain), 2);
    config_subscription_header_log(plain, 0, line, sizeof(line));
    assert_string_equal(line, "X-Env: staging");
    config_subscription_header_log(plain, 1, line, sizeof(line));
    assert_string_equal(line, "X-Team: web");
    assert_int_equal(config_subscription_header_count(own), 3);
    assert_string_equal(config_subscription_header_name(own, 0), "x-env");
    assert_string_equal(config_subscription_header_name(own, 1), "X-Only");
    assert_string_equal(config_subscription_header_name(own, 2), "X-Team");
    config_subscription_header_log(own, 0, line, sizeof(line));
    assert_string_equal(line, "x-env: prod");
    config_subscription_header_log(own, 1, line, sizeof(line));
    assert_string_equal(line, "X-Only: ");
    assert_null(config_subscription_header_name(own, 3));
    config_unref(c);
}

static void test_listen_forms(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        enum listen_addr_kind kind;
        const char *host;
        unsigned port;
        const char *path;
    } ok[] = {
        {"127.0.0.1:9464", LISTEN_ADDR_INET, "127.0.0.1", 9464, ""},
        {"0.0.0.0:0", LISTEN_ADDR_INET, "0.0.0.0", 0, ""},
        {"[::1]:65535", LISTEN_ADDR_INET6, "::1", 65535, ""},
        {"/run/ssemon/status.sock", LISTEN_ADDR_UNIX, "", 0, "/run/ssemon/status.sock"},
    };
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        char text[256];
        snprintf(text, sizeof(text), "{'status': {'listen': '%s'}, 'subscriptions': []}",
                 ok[i].text);
        struct config *c = load_ok(text);
        const struct listen_addr *l = config_status_listen(c);
        assert_int_equal(l->la_kind, ok[i].kind);
        assert_string_equal(l->la_text, ok[i].text);
        assert_string_equal(l->la_host, ok[i].host);
        assert_int_equal(l->la_port, ok[i].port);
        assert_string_equal(l->la_path, ok[i].path);
        config_unref(c);
    }

    static const char *const bad[] = {
        "localhost:9464", "127.0.0.1", "127.0.0.1:65536", "127.0.0.1:-1",
        "[::1]",          "::1:80",    "[::1]80",         "run/x.sock",
        "127.0.0.1:80x",  "1.2.3:80",  "[127.0.0.1]:80",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char text[256], want[512];
        snprintf(text, sizeof(text), "{'status': {'listen': '%s'}, 'subscriptions': []}", bad[i]);
        snprintf(want, sizeof(want),
                 "cfg.json:1:23: /status/listen: invalid listen address \"%s\": use IPV4:PORT, "
                 "[IPV6]:PORT (numeric, port 0 to 65535) or an absolute unix socket path (at most "
                 "107 bytes)",
                 bad[i]);
        const char *const w[] = {want};
        expect_errors(text, w, 1);
    }
    /* sun_path holds 107 bytes and the NUL. */
    char text[512], path[120];
    memset(path, 'x', sizeof(path) - 1);
    path[0] = '/';
    path[108] = '\0';
    snprintf(text, sizeof(text), "{'status': {'listen': '%s'}, 'subscriptions': []}", path);
    struct diag_list e;
    assert_null(load(text, &e));
    assert_int_equal(e.dl_n, 1);
    diag_list_free(&e);
    path[107] = '\0';
    snprintf(text, sizeof(text), "{'status': {'listen': '%s'}, 'subscriptions': []}", path);
    config_unref(load_ok(text));
}

/* ---- every error class, with its position ---- */

static void test_error_syntax(void **state)
{
    (void)state;
    EXPECT_ERRORS("{'subscriptions': [],\n  'x': }", "cfg.json:2:8: invalid JSON: invalid value");
    EXPECT_ERRORS("", "cfg.json:1:1: invalid JSON: empty input");
    EXPECT_ERRORS("[]", "cfg.json:1:1: the configuration must be a JSON object, got an array");
    EXPECT_ERRORS("\n  {}", "cfg.json:2:3: /subscriptions: missing (a list of subscriptions, "
                            "which may be empty)");
}

/* A UTF-8 byte order mark before the document is skipped, in a buffer and
 * in a file: line 1 column 1 is the character after it. */
static void test_byte_order_mark(void **state)
{
    (void)state;
    config_unref(load_ok("\xEF\xBB\xBF{'subscriptions': []}"));
    EXPECT_ERRORS("\xEF\xBB\xBF[]",
                  "cfg.json:1:1: the configuration must be a JSON object, got an array");
    EXPECT_ERRORS("\xEF\xBB\xBF{'subscriptions': [], 'statuss': {}}",
                  "cfg.json:1:23: /statuss: unknown key \"statuss\" (did you mean \"status\"?)");
    EXPECT_ERRORS("\xEF\xBB\xBF{'subscriptions': [],\n  'x': }",
                  "cfg.json:2:8: invalid JSON: invalid value");
    /* only at the start: anywhere else it is a character like any other */
    EXPECT_ERRORS(" \xEF\xBB\xBF{}", "cfg.json:1:2: invalid JSON: invalid value");

    struct diag_list e;
    char path[512];
    struct config *c = load_file("bom.json", "\xEF\xBB\xBF{'subscriptions': [], 'x': 1}", &e);
    assert_null(c);
    assert_int_equal(e.dl_n, 1);
    char want[600];
    snprintf(want, sizeof(want), "%s:1:23: /x: unknown key \"x\"",
             tmp_path(path, sizeof(path), "bom.json"));
    assert_string_equal(e.dl_items[0].dg_text, want);
    diag_list_free(&e);
}

static void test_error_unknown_keys(void **state)
{
    (void)state;
    EXPECT_ERRORS("{'subscriptions': [],\n"
                  " 'statuss': {},\n"
                  " 'strict': true,\n"
                  " 'status': {'port': 1},\n"
                  " 'defaults': {'url': 'http://x/', 'enabled': true, 'stirct': true,\n"
                  "   'journal_rate': {'burst': 1, 'rate': 2},\n"
                  "   'headers': {'A': {'credential': 'x', 'path': 'y'}}},\n"
                  " 'zzzzzz': 1, 'journal_rate': {}, 'heartbeat_interval_s': 1}",
                  "cfg.json:2:2: /statuss: unknown key \"statuss\" (did you mean \"status\"?)",
                  "cfg.json:3:2: /strict: \"strict\" belongs in \"defaults\" or in a subscription",
                  "cfg.json:4:13: /status/port: unknown key \"port\"",
                  "cfg.json:5:15: /defaults/url: \"url\" is set per subscription, not in "
                  "\"defaults\"",
                  "cfg.json:5:35: /defaults/enabled: \"enabled\" is set per subscription, not in "
                  "\"defaults\"",
                  "cfg.json:5:52: /defaults/stirct: unknown key \"stirct\" (did you mean "
                  "\"strict\"?)",
                  "cfg.json:6:33: /defaults/journal_rate/rate: unknown key \"rate\"",
                  "cfg.json:7:36: /defaults/headers/A/credential: cannot read credential \"x\": "
                  "CREDENTIALS_DIRECTORY is not set (systemd sets it for LoadCredential=)",
                  "cfg.json:7:41: /defaults/headers/A/path: unknown key \"path\"",
                  "cfg.json:8:2: /zzzzzz: unknown key \"zzzzzz\"",
                  "cfg.json:8:15: /journal_rate: \"journal_rate\" belongs in \"defaults\"",
                  "cfg.json:8:35: /heartbeat_interval_s: \"heartbeat_interval_s\" belongs in a "
                  "subscription");
}

static void test_error_defaults_only(void **state)
{
    (void)state;
    /* Flood control is one budget per process: not per subscription. */
    EXPECT_ERRORS("{'subscriptions': [{'name': 'a', 'url': 'http://h/', 'contract': "
                  "'task-stream',\n 'journal_rate': {'burst': 1}}]}",
                  "cfg.json:2:2: /subscriptions/0/journal_rate: \"journal_rate\" is set in "
                  "\"defaults\" only");
}

static void test_error_sorted_by_position(void **state)
{
    (void)state;
    /* The subscription comes first in the file: its error is listed first
     * although "defaults" is judged before the subscriptions. */
    EXPECT_ERRORS("{'subscriptions': [{'name': 'a b', 'url': 'http://h/', 'contract': "
                  "'task-stream'}],\n 'defaults': {'strict': 1}}",
                  "cfg.json:1:29: /subscriptions/0/name: invalid name \"a b\": use letters, "
                  "digits, '_', '.' and '-'",
                  "cfg.json:2:25: /defaults/strict: expected true or false, got a number");
}

static void test_error_types_and_ranges(void **state)
{
    (void)state;
    EXPECT_ERRORS(
        "{'subscriptions': {},\n"
        " 'status': [],\n"
        " 'contracts_dir': 5,\n"
        " 'defaults': {\n"
        "  'backoff_min_ms': 0,\n"
        "  'backoff_max_ms': 1.5,\n"
        "  'connect_timeout_s': '10',\n"
        "  'idle_timeout_s': 0.0001,\n"
        "  'healthy_reset_s': 86401,\n"
        "  'healthy_window_s': -1,\n"
        "  'heartbeat_tolerance': 0.5,\n"
        "  'strict': 'yes',\n"
        "  'insecure': null,\n"
        "  'ca_file': 7,\n"
        "  'headers': [],\n"
        "  'journal_rate': {'burst': 1e3, 'interval_s': 0},\n"
        "  'max_line': 0,\n"
        "  'max_event': 1073741825,\n"
        "  'evidence_events': 4097,\n"
        "  'evidence_bytes': 0}}",
        "cfg.json:1:19: /subscriptions: expected an array of subscriptions, got an object",
        "cfg.json:2:12: /status: expected an object, got an array",
        "cfg.json:3:19: /contracts_dir: expected a string, got a number",
        "cfg.json:5:21: /defaults/backoff_min_ms: must be between 1 and 3600000, got 0",
        "cfg.json:6:21: /defaults/backoff_max_ms: expected an integer, got 1.5",
        "cfg.json:7:24: /defaults/connect_timeout_s: expected a number, got a string",
        "cfg.json:8:21: /defaults/idle_timeout_s: must be 0 or at least 0.001 seconds, "
        "got 0.0001",
        "cfg.json:9:22: /defaults/healthy_reset_s: must be between 0.001 and 86400 "
        "seconds, got 86401",
        "cfg.json:10:23: /defaults/healthy_window_s: must be between 0.001 and 604800 "
        "seconds, got -1",
        "cfg.json:11:26: /defaults/heartbeat_tolerance: must be between 1 and 1000, got "
        "0.5",
        "cfg.json:12:13: /defaults/strict: expected true or false, got a string",
        "cfg.json:13:15: /defaults/insecure: expected true or false, got null",
        "cfg.json:14:14: /defaults/ca_file: expected a string, got a number",
        "cfg.json:15:14: /defaults/headers: expected an object, got an array",
        "cfg.json:16:29: /defaults/journal_rate/burst: expected an integer, got 1e3",
        "cfg.json:16:48: /defaults/journal_rate/interval_s: must be between 0.001 and "
        "86400 seconds, got 0",
        "cfg.json:17:15: /defaults/max_line: must be between 1 and 1073741824, got 0",
        "cfg.json:18:16: /defaults/max_event: must be between 1 and 1073741824, got "
        "1073741825",
        "cfg.json:19:22: /defaults/evidence_events: must be between 1 and 4096, got 4097",
        "cfg.json:20:21: /defaults/evidence_bytes: must be between 1 and 16777216, got 0");
}

static void test_evidence_keys(void **state)
{
    (void)state;
    bool set = true;
    struct config *c = load_ok("{'subscriptions': []}");
    assert_null(config_evidence_dir(c, &set));
    assert_false(set);
    assert_int_equal(config_evidence_max_bytes(c), CONFIG_EVIDENCE_MAX_BYTES);
    assert_int_equal(config_evidence_max_files(c), CONFIG_EVIDENCE_MAX_FILES);
    config_unref(c);
    c = load_ok("{'evidence_dir': null, 'evidence_max_bytes': 4096, 'evidence_max_files': 2,"
                " 'subscriptions': []}");
    assert_null(config_evidence_dir(c, &set));
    assert_true(set);
    assert_int_equal(config_evidence_max_bytes(c), 4096);
    assert_int_equal(config_evidence_max_files(c), 2);
    config_unref(c);
    c = load_ok("{'evidence_dir': '/var/tmp/ev', 'subscriptions': []}");
    assert_string_equal(config_evidence_dir(c, &set), "/var/tmp/ev");
    assert_true(set);
    config_unref(c);
    EXPECT_ERRORS("{'evidence_dir': 5,\n"
                  " 'evidence_max_bytes': 1,\n"
                  " 'evidence_max_files': 'x', 'subscriptions': []}",
                  "cfg.json:1:18: /evidence_dir: expected a string, got a number",
                  "cfg.json:2:24: /evidence_max_bytes: must be between 4096 and 1099511627776, "
                  "got 1",
                  "cfg.json:3:24: /evidence_max_files: expected an integer, got a string");
}

static void test_error_duplicates(void **state)
{
    (void)state;
    EXPECT_ERRORS("{'subscriptions': [\n"
                  "  {'name': 'a', 'url': 'http://h/', 'contract': 'task-stream'},\n"
                  "  {'name': 'b', 'url': 'http://h/', 'contract': 'task-stream'},\n"
                  "  {'name': 'a', 'url': 'http://h/', 'contract': 'task-stream'},\n"
                  "  {'name': 'a', 'url': 'http://h/', 'contract': 'task-stream',\n"
                  "   'url': 'http://i/'}],\n"
                  " 'defaults': {'strict': true, 'strict': false, 'strict': true,\n"
                  "   'headers': {'X-A': '1', 'x-a': '2'}}}",
                  "cfg.json:4:12: /subscriptions/2/name: duplicate subscription name \"a\" (first "
                  "used at line 2)",
                  "cfg.json:5:12: /subscriptions/3/name: duplicate subscription name \"a\" (first "
                  "used at line 2)",
                  "cfg.json:6:4: /subscriptions/3/url: duplicate key \"url\" (previous at line 5, "
                  "column 17)",
                  "cfg.json:7:31: /defaults/strict: duplicate key \"strict\" (previous at line 7, "
                  "column 15)",
                  "cfg.json:7:48: /defaults/strict: duplicate key \"strict\" (previous at line 7, "
                  "column 31)",
                  "cfg.json:8:28: /defaults/headers/x-a: header \"x-a\" repeats the one at line "
                  "8, column 16 (names ignore case)");
}

static void test_error_subscription_fields(void **state)
{
    (void)state;
    char long_name[CONFIG_NAME_MAX + 2];
    memset(long_name, 'n', sizeof(long_name) - 1);
    long_name[sizeof(long_name) - 1] = '\0';
    char text[1024], want[512];
    snprintf(text, sizeof(text),
             "{'subscriptions': [\n"
             "  {'name': '', 'url': '', 'contract': ''},\n"
             "  {'name': 'ok.name_1-x', 'url': 'ftp://h/x', 'contract': 'task-strem'},\n"
             "  {'name': 'é', 'url': 'http://u:pw@h st/', 'contract': 'zzzzzzzzzzzzzz'},\n"
             "  {'name': 3, 'url': 'https://u:p@/x', 'contract': 'common-backend',"
             " 'vars': {'task_id': 'x'}},\n"
             "  {'url': 'http://h/', 'heartbeat_interval_s': 0},\n"
             "  {'name': '%s', 'url': 'http://h/', 'contract': 'task-stream'},\n"
             "  7]}",
             long_name);
    snprintf(want, sizeof(want),
             "cfg.json:7:12: /subscriptions/5/name: name \"%s\" is longer than 127 bytes",
             long_name);
    struct diag_list e;
    assert_null(load(text, &e));
    static const char *const fixed[] = {
        "cfg.json:2:12: /subscriptions/0/name: must not be empty",
        "cfg.json:2:23: /subscriptions/0/url: must not be empty",
        "cfg.json:2:39: /subscriptions/0/contract: must not be empty",
        "cfg.json:3:34: /subscriptions/1/url: unsupported URL scheme \"ftp\" in \"ftp://h/x\": use "
        "http or https",
        "cfg.json:3:59: /subscriptions/1/contract: unknown contract \"task-strem\" (did you mean "
        "\"task-stream\"?)",
        "cfg.json:4:12: /subscriptions/2/name: invalid name \"é\": use letters, digits, '_', '.' "
        "and '-'",
        "cfg.json:4:24: /subscriptions/2/url: invalid URL \"http://***@h st/\": Bad hostname",
        "cfg.json:5:12: /subscriptions/3/name: expected a string, got a number",
        "cfg.json:5:22: /subscriptions/3/url: invalid URL \"https://***@/x\": No host part in the "
        "URL",
        "cfg.json:6:3: /subscriptions/4/name: missing (a subscription needs \"name\", \"url\" and "
        "\"contract\")",
        "cfg.json:6:3: /subscriptions/4/contract: missing (a subscription needs \"name\", \"url\" "
        "and \"contract\")",
        "cfg.json:6:48: /subscriptions/4/heartbeat_interval_s: must be between 0.001 and 86400 "
        "seconds, got 0",
        NULL, /* the long name */
        "cfg.json:8:3: /subscriptions/6: expected an object, got a number",
    };
    size_t nfixed = sizeof(fixed) / sizeof(fixed[0]);
    /* Two errors whose text depends on the installation come on top: the
     * far-off contract name (the list of known contracts) and the abstract
     * one (the path of its file). */
    assert_int_equal(e.dl_n, nfixed + 2);
    size_t j = 0;
    for (size_t i = 0; i < e.dl_n; i++) {
        const char *got = e.dl_items[i].dg_text;
        static const char far[] = "cfg.json:4:57: /subscriptions/2/contract: unknown contract "
                                  "\"zzzzzzzzzzzzzz\" (known: ";
        static const char abstract[] =
            "cfg.json:5:52: /subscriptions/3/contract: cannot load contract \"common-backend\": ";
        if (strncmp(got, far, sizeof(far) - 1) == 0) {
            assert_non_null(strstr(got, "task-stream"));
            continue;
        }
        if (strncmp(got, abstract, sizeof(abstract) - 1) == 0) {
            assert_non_null(strstr(got, "abstract"));
            continue;
        }
        assert_true(j < nfixed);
        assert_string_equal(got, fixed[j] != NULL ? fixed[j] : want);
        j++;
    }
    assert_int_equal(j, nfixed);
    diag_list_free(&e);
}

/* "description": free text, one line, at most CONFIG_DESCRIPTION_MAX
 * bytes; absent or "" is none; not part of the equality (a reload keeps
 * the stream). */
static void test_description(void **state)
{
    (void)state;
    char text[4096];
    char at_max[CONFIG_DESCRIPTION_MAX + 1];
    memset(at_max, 'd', CONFIG_DESCRIPTION_MAX);
    at_max[CONFIG_DESCRIPTION_MAX] = '\0';
    snprintf(
        text, sizeof(text),
        "{'subscriptions': [\n"
        "  {'name': 'a', 'url': 'http://h/', 'contract': 'task-stream',"
        " 'description': 'Orders \xe2\x80\x94 EU \\\\ \\\"prod\\\"'},\n"
        "  {'name': 'b', 'url': 'http://h/', 'contract': 'task-stream', 'description': ''},\n"
        "  {'name': 'c', 'url': 'http://h/', 'contract': 'task-stream'},\n"
        "  {'name': 'd', 'url': 'http://h/', 'contract': 'task-stream', 'description': '%s'},\n"
        "  {'name': 'e', 'url': 'http://h/', 'contract': 'task-stream', 'enabled': false,"
        " 'description': 'paused for the migration'}]}",
        at_max);
    struct config *c = load_ok(text);
    assert_string_equal(config_subscription_description(config_subscription_at(c, 0)),
                        "Orders \xe2\x80\x94 EU \\ \"prod\"");
    assert_null(config_subscription_description(config_subscription_at(c, 1)));
    assert_null(config_subscription_description(config_subscription_at(c, 2)));
    assert_string_equal(config_subscription_description(config_subscription_at(c, 3)), at_max);
    assert_string_equal(config_subscription_description(config_subscription_at(c, 4)),
                        "paused for the migration");
    struct config *c2 = load_ok("{'subscriptions': [{'name': 'a', 'url': 'http://h/',"
                                " 'contract': 'task-stream', 'description': 'new text'}]}");
    assert_true(
        config_subscription_equal(config_subscription_at(c, 0), config_subscription_at(c2, 0)));
    config_unref(c2);
    config_unref(c);

    char over[CONFIG_DESCRIPTION_MAX + 2];
    memset(over, 'd', CONFIG_DESCRIPTION_MAX + 1);
    over[CONFIG_DESCRIPTION_MAX + 1] = '\0';
    snprintf(text, sizeof(text),
             "{'subscriptions': [\n"
             "  {'name': 'a', 'url': 'http://h/', 'contract': 'task-stream', 'description': 7},\n"
             "  {'name': 'b', 'url': 'http://h/', 'contract': 'task-stream', 'description': "
             "'two\\nlines'},\n"
             "  {'name': 'c', 'url': 'http://h/', 'contract': 'task-stream', 'description': "
             "'nul\\u0000'},\n"
             "  {'name': 'd', 'url': 'http://h/', 'contract': 'task-stream', 'description': "
             "'%s'}]}",
             over);
    struct diag_list e;
    assert_null(load(text, &e));
    static const char *const want[] = {
        "cfg.json:2:79: /subscriptions/0/description: expected a string, got a number",
        "cfg.json:3:79: /subscriptions/1/description: must be one line of text (no control "
        "characters)",
        "cfg.json:4:79: /subscriptions/2/description: must not contain U+0000",
        "cfg.json:5:79: /subscriptions/3/description: is 1025 bytes long; at most 1024 bytes",
    };
    check_errors(&e, want, 4);
    diag_list_free(&e);
}

static void test_error_vars(void **state)
{
    (void)state;
    EXPECT_ERRORS(
        "{'subscriptions': [\n"
        "  {'name': 'a', 'url': 'http://h/', 'contract': 'task-stream',\n"
        "   'vars': {'task_id': 'x', 'request_id': 'y', 'n': 1}},\n"
        "  {'name': 'b', 'url': 'http://h/', 'contract': 'version-stream', 'vars': []}]}",
        "cfg.json:3:29: /subscriptions/0/vars/request_id: variable \"request_id\" is not "
        "declared by contract \"task-stream\" (it declares: task_id)",
        "cfg.json:3:48: /subscriptions/0/vars/n: variable \"n\" is not declared by contract "
        "\"task-stream\" (it declares: task_id)",
        "cfg.json:3:53: /subscriptions/0/vars/n: expected a string, got a number",
        "cfg.json:4:75: /subscriptions/1/vars: expected an object, got an array");

    write_file("novars.json",
               "{\"name\": \"novars\", \"events\": {\"tick\": {\"data\": \"text\"}}}");
    char dir[512], text[1024];
    snprintf(text, sizeof(text),
             "{'contracts_dir': '%s', 'subscriptions': [\n"
             "  {'name': 'a', 'url': 'http://h/', 'contract': 'novars', 'vars': {'x': ''}}]}",
             tmp_path(dir, sizeof(dir), ""));
    const char *const w[] = {"cfg.json:2:68: /subscriptions/0/vars/x: contract \"novars\" "
                             "declares no variables, not \"x\""};
    expect_errors(text, w, 1);
}

static void test_error_headers(void **state)
{
    (void)state;
    EXPECT_ERRORS(
        "{'subscriptions': [{'name': 'a', 'url': 'http://h/', 'contract': 'task-stream',\n"
        "  'headers': {'Bad Name': 'x', '': 'y', 'X-Ctl': 'a\\u0001b',\n"
        "   'X-Nl': 'a\\nb', 'last-event-id': '5', 'X-Num': 5, 'X-Nul': 'a\\u0000',\n"
        "   'X-Obj': {}, 'X-Both': {'credential': 'a', 'file': 'b'}}}]}",
        "cfg.json:2:15: /subscriptions/0/headers/Bad Name: invalid header name \"Bad "
        "Name\": letters, digits and !#$%&'*+-.^_`|~ only",
        "cfg.json:2:32: /subscriptions/0/headers/: invalid header name \"\": letters, "
        "digits and !#$%&'*+-.^_`|~ only",
        "cfg.json:2:50: /subscriptions/0/headers/X-Ctl: header value has a control "
        "character or line break",
        "cfg.json:3:12: /subscriptions/0/headers/X-Nl: header value has a control "
        "character or line break",
        "cfg.json:3:20: /subscriptions/0/headers/last-event-id: \"last-event-id\" "
        "cannot be set: ssemon sends the last event ID it received",
        "cfg.json:3:51: /subscriptions/0/headers/X-Num: expected a string, "
        "{\"credential\": NAME} or {\"file\": PATH}, got a number",
        "cfg.json:3:63: /subscriptions/0/headers/X-Nul: must not contain U+0000",
        "cfg.json:4:13: /subscriptions/0/headers/X-Obj: give exactly one of "
        "\"credential\" or \"file\"",
        "cfg.json:4:27: /subscriptions/0/headers/X-Both: give exactly one of "
        "\"credential\" or \"file\"");
}

static void test_error_paths(void **state)
{
    (void)state;
    char text[1024];
    write_file("afile", "x");
    write_file("plain.json", "{\"name\": \"plain\", \"events\": {\"tick\": {\"data\": \"text\"}}}");
    struct diag_list e;
    snprintf(text, sizeof(text),
             "{'contracts_dir': 'afile', 'subscriptions': [\n"
             " {'name': 'a', 'url': 'http://h/', 'contract': 'sub/none.json',\n"
             "  'ca_file': 'no-ca.pem'},\n"
             " {'name': 'b', 'url': 'http://h/', 'contract': 'plain.json',\n"
             "  'ca_file': '.'}]}");
    assert_null(load_file("paths.json", text, &e));
    char want[4][1024];
    const char *const w[] = {want[0], want[1], want[2], want[3]};
    snprintf(want[0], sizeof(want[0]),
             "%s/paths.json:1:19: /contracts_dir: \"%s/afile\" is not a directory", tmpdir, tmpdir);
    snprintf(want[1], sizeof(want[1]),
             "%s/paths.json:2:48: /subscriptions/0/contract: cannot load contract "
             "\"sub/none.json\": %s/sub/none.json: cannot open: No such file or directory",
             tmpdir, tmpdir);
    snprintf(want[2], sizeof(want[2]),
             "%s/paths.json:3:14: /subscriptions/0/ca_file: cannot read CA file "
             "\"%s/no-ca.pem\": No such file or directory",
             tmpdir, tmpdir);
    snprintf(want[3], sizeof(want[3]),
             "%s/paths.json:5:14: /subscriptions/1/ca_file: CA file \"%s/.\" is not a regular file",
             tmpdir, tmpdir);
    check_errors(&e, w, 4);
    diag_list_free(&e);

    /* A missing directory; a file that is not there. */
    snprintf(text, sizeof(text), "{'contracts_dir': '/nonexistent/dir', 'subscriptions': []}");
    EXPECT_ERRORS(text, "cfg.json:1:19: /contracts_dir: cannot use \"/nonexistent/dir\": No such "
                        "file or directory");
    assert_null(config_load("/nonexistent/ssemon.json", &e));
    const char *const w2[] = {"/nonexistent/ssemon.json: cannot open: No such file or directory"};
    check_errors(&e, w2, 1);
    diag_list_free(&e);
    assert_null(config_load(tmpdir, &e));
    char w3[600];
    snprintf(w3, sizeof(w3), "%s: is a directory", tmpdir);
    const char *const w3p[] = {w3};
    check_errors(&e, w3p, 1);
    diag_list_free(&e);
}

static void test_error_backoff_order(void **state)
{
    (void)state;
    EXPECT_ERRORS("{'defaults': {'backoff_min_ms': 5000, 'backoff_max_ms': 1000},\n"
                  " 'subscriptions': [\n"
                  "  {'name': 'a', 'url': 'http://h/', 'contract': 'task-stream'},\n"
                  "  {'name': 'b', 'url': 'http://h/', 'contract': 'task-stream',"
                  " 'backoff_min_ms': 100},\n"
                  "  {'name': 'c', 'url': 'http://h/', 'contract': 'task-stream',"
                  " 'backoff_min_ms': 2000}]}",
                  "cfg.json:1:57: /defaults/backoff_max_ms: backoff_max_ms (1000) is below "
                  "backoff_min_ms (5000)",
                  "cfg.json:5:82: /subscriptions/2/backoff_min_ms: backoff_max_ms (1000) is "
                  "below backoff_min_ms (2000)");
}

static void test_error_control_chars_escaped(void **state)
{
    (void)state;
    EXPECT_ERRORS("{'subscriptions': [], 'a\\nb\\u0007': 1}",
                  "cfg.json:1:23: /a\\nb\\u0007: unknown key \"a\\nb\\u0007\"");
}

static void test_many_errors_at_once(void **state)
{
    (void)state;
    /* Each subscription has one error: every one is reported. */
    EXPECT_ERRORS("{'subscriptions': [\n"
                  "  {'name': 'a', 'url': 'http://h/', 'contract': 'task-stream', 'x': 1},\n"
                  "  {'name': 'b', 'url': 'gopher://h/', 'contract': 'task-stream'},\n"
                  "  {'name': 'c', 'url': 'http://h/', 'contract': 'task-stream', 'strict': 0},\n"
                  "  {'name': 'd', 'url': 'http://h/', 'contract': 'task-stream',"
                  " 'vars': {'z': 'q'}},\n"
                  "  {'name': 'e', 'url': 'http://h/', 'contract': 'task-stream',"
                  " 'headers': {'A:B': 'c'}}]}",
                  "cfg.json:2:64: /subscriptions/0/x: unknown key \"x\"",
                  "cfg.json:3:24: /subscriptions/1/url: unsupported URL scheme \"gopher\" in "
                  "\"gopher://h/\": use http or https",
                  "cfg.json:4:74: /subscriptions/2/strict: expected true or false, got a number",
                  "cfg.json:5:73: /subscriptions/3/vars/z: variable \"z\" is not declared by "
                  "contract \"task-stream\" (it declares: task_id)",
                  "cfg.json:6:76: /subscriptions/4/headers/A:B: invalid header name \"A:B\": "
                  "letters, digits and !#$%&'*+-.^_`|~ only");
}

static void test_error_cap(void **state)
{
    (void)state;
    size_t n = CONFIG_MAX_ERRORS + 5;
    size_t cap = 64 + n * 16;
    char *text = malloc(cap);
    assert_non_null(text);
    size_t o = (size_t)snprintf(text, cap, "{\"subscriptions\": []");
    for (size_t i = 0; i < n; i++)
        o += (size_t)snprintf(text + o, cap - o, ", \"k%zu\": 1", i);
    snprintf(text + o, cap - o, "}");
    struct diag_list e;
    assert_null(config_load_buffer(text, strlen(text), "cfg.json", &e));
    assert_int_equal(e.dl_n, CONFIG_MAX_ERRORS + 1);
    assert_string_equal(e.dl_items[0].dg_text, "cfg.json:1:23: /k0: unknown key \"k0\"");
    assert_string_equal(e.dl_items[CONFIG_MAX_ERRORS].dg_text, "cfg.json: 5 more errors not shown");
    diag_list_free(&e);
    free(text);
}

static void test_error_too_large(void **state)
{
    (void)state;
    size_t len = CONFIG_MAX_BYTES + 1;
    char *text = malloc(len);
    assert_non_null(text);
    memset(text, ' ', len);
    struct diag_list e;
    assert_null(config_load_buffer(text, len, "big.json", &e));
    const char *const w[] = {"big.json: larger than 16777216 bytes"};
    check_errors(&e, w, 1);
    diag_list_free(&e);
    free(text);
}

static void test_error_fields(void **state)
{
    (void)state;
    struct diag_list e;
    assert_null(load("{'subscriptions': [],\n 'x': 1}", &e));
    assert_int_equal(e.dl_n, 1);
    const struct diag *ce = &e.dl_items[0];
    assert_string_equal(ce->dg_file, "cfg.json");
    assert_int_equal(ce->dg_line, 2);
    assert_int_equal(ce->dg_column, 2);
    assert_string_equal(ce->dg_path, "/x");
    assert_string_equal(ce->dg_message, "unknown key \"x\"");
    diag_list_free(&e);
    diag_list_free(&e); /* idempotent */
}

/* ---- secrets ---- */

static void test_credentials(void **state)
{
    (void)state;
    char dir[512], text[2048];
    mkdir(tmp_path(dir, sizeof(dir), "creds"), 0700);
    write_file("creds/api-token", "Bearer s3cr3t-token\n");
    write_file("creds/crlf", "crlf-secret\r\n");
    write_file("creds/empty", "\n");
    write_file("creds/multi", "line-one-secret\nline-two\n");
    write_file("creds/cr-only", "cr-secret\r");
    write_file("plain-secret.txt", "from-a-file");
    setenv("CREDENTIALS_DIRECTORY", tmp_path(dir, sizeof(dir), "creds"), 1);

    struct diag_list e;
    struct config *c =
        load_file("creds.json",
                  "{'defaults': {'headers': {'Authorization': {'credential': 'api-token'},"
                  " 'X-Env': 'staging', 'Cookie': 'session=inline-cookie'}},\n"
                  " 'subscriptions': [{'name': 'a', 'url': 'https://user:pa55@h.example/s',"
                  " 'contract': 'task-stream', 'headers': {'X-Key': {'file': 'plain-secret.txt'},"
                  " 'X-Crlf': {'credential': 'crlf'}}}]}",
                  &e);
    assert_int_equal(e.dl_n, 0);
    assert_non_null(c);
    const struct config_subscription *s = config_subscription_at(c, 0);

    /* What the engine sends: every value, in clear. */
    struct sub_options so;
    config_subscription_sub_options(s, &so);
    assert_int_equal(so.so_nheaders, 5);
    assert_string_equal(so.so_headers[0], "Authorization: Bearer s3cr3t-token");
    assert_string_equal(so.so_headers[1], "Cookie: session=inline-cookie");
    assert_string_equal(so.so_headers[2], "X-Crlf: crlf-secret");
    assert_string_equal(so.so_headers[3], "X-Env: staging");
    assert_string_equal(so.so_headers[4], "X-Key: from-a-file");
    assert_string_equal(so.so_url, "https://user:pa55@h.example/s");

    /* What logs and displays get. */
    static const char *const logged[] = {"Authorization: <redacted>", "Cookie: <redacted>",
                                         "X-Crlf: <redacted>", "X-Env: staging",
                                         "X-Key: <redacted>"};
    for (size_t i = 0; i < 5; i++) {
        char line[64];
        int n = config_subscription_header_log(s, i, line, sizeof(line));
        assert_string_equal(line, logged[i]);
        assert_int_equal(n, (int)strlen(logged[i]));
        assert_int_equal(config_subscription_header_secret(s, i), i != 3);
    }
    char small[8];
    assert_int_equal(config_subscription_header_log(s, 0, small, sizeof(small)),
                     (int)strlen(logged[0]));
    assert_string_equal(small, "Authori");
    assert_int_equal(config_subscription_header_log(s, 9, small, sizeof(small)), 0);
    assert_string_equal(small, "");
    assert_string_equal(config_subscription_url_redacted(s), "https://***@h.example/s");
    config_unref(c);

    /* Unreadable, empty, multi-line credentials; an unset directory. The
     * messages never quote the secret. */
    snprintf(text, sizeof(text),
             "{'subscriptions': [{'name': 'a', 'url': 'http://h/', 'contract': 'task-stream',\n"
             " 'headers': {'A': {'credential': 'missing'}, 'B': {'credential': 'empty'},\n"
             "  'C': {'credential': 'multi'}, 'D': {'credential': '../api-token'},\n"
             "  'E': {'file': '%s/creds'}, 'F': {'credential': ''},"
             " 'G': {'credential': 'cr-only'}}}]}",
             tmpdir);
    assert_null(load(text, &e));
    char want[7][1024];
    const char *const w[] = {want[0], want[1], want[2], want[3], want[4], want[5], want[6]};
    snprintf(want[0], sizeof(want[0]),
             "cfg.json:2:34: /subscriptions/0/headers/A/credential: cannot read credential "
             "\"missing\" (%s/creds/missing): No such file or directory",
             tmpdir);
    snprintf(want[1], sizeof(want[1]),
             "cfg.json:2:66: /subscriptions/0/headers/B/credential: the value read from "
             "\"%s/creds/empty\" is empty",
             tmpdir);
    snprintf(want[2], sizeof(want[2]),
             "cfg.json:3:23: /subscriptions/0/headers/C/credential: the value read from "
             "\"%s/creds/multi\" has a control character or line break (a header value is one "
             "line)",
             tmpdir);
    snprintf(want[3], sizeof(want[3]),
             "cfg.json:3:53: /subscriptions/0/headers/D/credential: invalid credential name "
             "\"../api-token\": a file name without '/'");
    snprintf(want[4], sizeof(want[4]),
             "cfg.json:4:17: /subscriptions/0/headers/E/file: cannot read \"%s/creds\": not a "
             "regular file",
             tmpdir);
    snprintf(want[5], sizeof(want[5]),
             "cfg.json:4:78: /subscriptions/0/headers/F/credential: must not be empty");
    /* Only a whole line end is removed: a lone CR stays, and is refused. */
    snprintf(want[6], sizeof(want[6]),
             "cfg.json:4:103: /subscriptions/0/headers/G/credential: the value read from "
             "\"%s/creds/cr-only\" has a control character or line break (a header value is "
             "one line)",
             tmpdir);
    check_errors(&e, w, 7);
    for (size_t i = 0; i < e.dl_n; i++)
        assert_null(strstr(e.dl_items[i].dg_text, "line-one-secret"));
    diag_list_free(&e);

    unsetenv("CREDENTIALS_DIRECTORY");
    EXPECT_ERRORS("{'subscriptions': [{'name': 'a', 'url': 'http://h/', 'contract': 'task-stream',"
                  " 'headers': {'A': {'credential': 'api-token'}}}]}",
                  "cfg.json:1:113: /subscriptions/0/headers/A/credential: cannot read credential "
                  "\"api-token\": CREDENTIALS_DIRECTORY is not set (systemd sets it for "
                  "LoadCredential=)");
}

static void test_url_secret_never_in_errors(void **state)
{
    (void)state;
    struct diag_list e;
    assert_null(load("{'subscriptions': [{'name': 'a', 'url': 'ftp://me:hunter2@h/',"
                     " 'contract': 'task-stream'}, {'name': 'b', 'url': 'http://me:hunter2@/',"
                     " 'contract': 'task-stream'}]}",
                     &e));
    assert_int_equal(e.dl_n, 2);
    for (size_t i = 0; i < e.dl_n; i++) {
        assert_null(strstr(e.dl_items[i].dg_text, "hunter2"));
        assert_non_null(strstr(e.dl_items[i].dg_text, "***@"));
    }
    diag_list_free(&e);
}

/* ---- TLS and proxy settings ---- */

static void test_transport_keys(void **state)
{
    (void)state;
    char text[2048], dir[512], cert[512], key[512], cred[600];
    mkdir(tmp_path(dir, sizeof(dir), "tcreds"), 0700);
    write_file("client.pem", "not checked here\n");
    write_file("client.key", "not checked here\n");
    write_file("tcreds/client-key", "not checked here\n");
    setenv("CREDENTIALS_DIRECTORY", dir, 1);
    snprintf(text, sizeof(text),
             "{'defaults': {'client_cert': 'client.pem', 'client_key': 'client.key',"
             "  'proxy': 'http://proxy.example:3128', 'no_proxy': 'localhost,.internal'},"
             " 'subscriptions': ["
             " {'name': 'a', 'url': 'https://h/a', 'contract': 'task-stream'},"
             " {'name': 'b', 'url': 'https://h/b', 'contract': 'task-stream',"
             "  'client_key': {'credential': 'client-key'}, 'proxy': 'env'},"
             " {'name': 'c', 'url': 'https://h/c', 'contract': 'task-stream',"
             "  'client_cert': null, 'client_key': null, 'proxy': null, 'no_proxy': null},"
             " {'name': 'd', 'url': 'https://h/d', 'contract': 'task-stream',"
             "  'client_key': {'file': 'client.key'}, 'proxy': 'socks5h://127.0.0.1:1080'}]}");
    struct diag_list e;
    struct config *c = load_file("transport.json", text, &e);
    for (size_t i = 0; i < e.dl_n; i++)
        fprintf(stderr, "unexpected: %s\n", e.dl_items[i].dg_text);
    assert_non_null(c);
    diag_list_free(&e);
    tmp_path(cert, sizeof(cert), "client.pem");
    tmp_path(key, sizeof(key), "client.key");
    snprintf(cred, sizeof(cred), "%s/client-key", dir);

    struct sub_options so;
    config_subscription_sub_options(config_subscription_find(c, "a"), &so);
    assert_string_equal(so.so_client_cert, cert);
    assert_string_equal(so.so_client_key, key);
    assert_string_equal(so.so_proxy, "http://proxy.example:3128");
    assert_string_equal(so.so_no_proxy, "localhost,.internal");
    assert_false(so.so_insecure);

    config_subscription_sub_options(config_subscription_find(c, "b"), &so);
    assert_string_equal(so.so_client_cert, cert);
    assert_string_equal(so.so_client_key, cred);
    assert_string_equal(so.so_proxy, SUB_PROXY_ENV);

    /* null: none, whatever the defaults say. */
    config_subscription_sub_options(config_subscription_find(c, "c"), &so);
    assert_null(so.so_client_cert);
    assert_null(so.so_client_key);
    assert_null(so.so_proxy);
    assert_null(so.so_no_proxy);

    config_subscription_sub_options(config_subscription_find(c, "d"), &so);
    assert_string_equal(so.so_client_key, key);
    assert_string_equal(so.so_proxy, "socks5h://127.0.0.1:1080");

    /* A changed proxy or key is a changed subscription (restarted on reload). */
    assert_false(config_subscription_equal(config_subscription_find(c, "a"),
                                           config_subscription_find(c, "b")));
    config_unref(c);

    /* Without a proxy anywhere: none (the environment is not consulted). */
    c = load_ok("{'subscriptions': [{'name': 'a', 'url': 'https://h/', 'contract': "
                "'task-stream'}]}");
    config_subscription_sub_options(config_subscription_find(c, "a"), &so);
    assert_null(so.so_proxy);
    assert_null(so.so_client_cert);
    config_unref(c);
    unsetenv("CREDENTIALS_DIRECTORY");
}

/* `pattern` with every '@' replaced by the temporary directory. */
static void with_tmpdir(char *out, size_t size, const char *pattern)
{
    size_t n = 0;
    for (const char *p = pattern; *p != '\0' && n + 1 < size; p++) {
        if (*p != '@') {
            out[n++] = *p;
            continue;
        }
        for (const char *t = tmpdir; *t != '\0' && n + 1 < size; t++)
            out[n++] = *t;
    }
    out[n] = '\0';
}

static void test_transport_errors(void **state)
{
    (void)state;
    char text[2048];
    write_file("cert.pem", "x");
    snprintf(text, sizeof(text),
             "{'defaults': {'client_key': 'cert.pem'},\n"
             " 'subscriptions': [\n"
             " {'name': 'a', 'url': 'https://h/', 'contract': 'task-stream',\n"
             "  'client_cert': 'no-cert.pem', 'proxy': 'ftp://x', 'no_proxy': 'a b\\u0001'},\n"
             " {'name': 'b', 'url': 'https://h/', 'contract': 'task-stream',\n"
             "  'client_cert': 'cert.pem', 'client_key': {'credential': 'k'}, 'proxy': 7},\n"
             " {'name': 'c', 'url': 'https://h/', 'contract': 'task-stream',\n"
             "  'client_cert': null, 'client_key': 5, 'no_proxy': ''}]}");
    struct diag_list e;
    assert_null(load_file("tr.json", text, &e));
    char want[10][1024];
    const char *const w[] = {want[0], want[1], want[2], want[3], want[4],
                             want[5], want[6], want[7], want[8], want[9]};
    const char *const fmt[] = {
        "@/tr.json:1:29: /defaults/client_key: client_key is set without client_cert (the "
        "certificate it belongs to)",
        "@/tr.json:4:18: /subscriptions/0/client_cert: cannot read client certificate "
        "\"@/no-cert.pem\": No such file or directory",
        /* The file's key is inherited, the certificate failed to load. */
        "@/tr.json:4:18: /subscriptions/0/client_cert: client_key is set without client_cert "
        "(the certificate it belongs to)",
        "@/tr.json:4:42: /subscriptions/0/proxy: expected null, \"env\" or a proxy URL (http://, "
        "https://, socks4://, socks4a://, socks5:// or socks5h:// and a host)",
        "@/tr.json:4:65: /subscriptions/0/no_proxy: character 4 is not printable ASCII",
        "@/tr.json:6:59: /subscriptions/1/client_key/credential: cannot read credential \"k\": "
        "CREDENTIALS_DIRECTORY is not set (systemd sets it for LoadCredential=)",
        "@/tr.json:6:74: /subscriptions/1/proxy: expected a string, got a number",
        "@/tr.json:8:38: /subscriptions/2/client_key: expected a file name, {\"credential\": "
        "NAME} or {\"file\": PATH}, got a number",
        "@/tr.json:8:38: /subscriptions/2/client_key: client_key is set without client_cert (the "
        "certificate it belongs to)",
        "@/tr.json:8:53: /subscriptions/2/no_proxy: must not be empty",
    };
    for (size_t i = 0; i < 10; i++)
        with_tmpdir(want[i], sizeof(want[i]), fmt[i]);
    check_errors(&e, w, 10);
    diag_list_free(&e);
}

/* ---- options for the modules that run a subscription ---- */

static void test_options(void **state)
{
    (void)state;
    char text[1024];
    write_file("ca.pem", "not checked here\n");
    snprintf(text, sizeof(text),
             "{'defaults': {'ca_file': '%s/ca.pem', 'insecure': true, 'idle_timeout_s': 30},"
             " 'subscriptions': ["
             " {'name': 'v', 'url': 'http://127.0.0.1:1/v?request_id=r1',"
             "  'contract': 'version-stream', 'vars': {'request_id': 'r1'},"
             "  'heartbeat_interval_s': 30, 'heartbeat_tolerance': 1.5, 'strict': false,"
             "  'max_line': 100, 'max_event': 200, 'healthy_window_s': 60,"
             "  'backoff_min_ms': 10, 'backoff_max_ms': 20, 'healthy_reset_s': 3},"
             " {'name': 'w', 'url': 'http://127.0.0.1:1/w', 'contract': 'task-stream',"
             "  'ca_file': null}]}",
             tmpdir);
    struct config *c = load_ok(text);
    const struct config_subscription *v = config_subscription_find(c, "v");
    char ca[512];
    tmp_path(ca, sizeof(ca), "ca.pem");

    struct sub_options so;
    config_subscription_sub_options(v, &so);
    assert_string_equal(so.so_url, "http://127.0.0.1:1/v?request_id=r1");
    assert_int_equal(so.so_nheaders, 0);
    assert_int_equal(so.so_connect_timeout_ms, 10000);
    assert_int_equal(so.so_idle_timeout_ms, 30000);
    assert_int_equal(so.so_backoff_min_ms, 10);
    assert_int_equal(so.so_backoff_max_ms, 20);
    assert_int_equal(so.so_healthy_ms, 3000);
    assert_true(so.so_reconnect);
    assert_int_equal(so.so_max_redirects, SUB_DEFAULT_MAX_REDIRECTS);
    assert_string_equal(so.so_ca_file, ca);
    assert_true(so.so_insecure);
    assert_int_equal(so.so_limits.max_line, 100);
    assert_int_equal(so.so_limits.max_event, 200);
    assert_null(so.so_last_event_id);

    struct validator_options vo;
    config_subscription_validator_options(v, &vo);
    assert_int_equal(vo.vo_n_vars, 1);
    assert_string_equal(vo.vo_vars[0].vv_name, "request_id");
    assert_string_equal(vo.vo_vars[0].vv_value, "r1");
    assert_int_equal(vo.vo_hb_interval_ms, 30000);
    assert_true(vo.vo_hb_tolerance == 1.5);
    assert_true(vo.vo_lenient);
    assert_true(vo.vo_timing);

    /* What `ssemon run` builds the monitor's options from. */
    assert_string_equal(config_subscription_name(v), "v");
    assert_string_equal(config_subscription_url_redacted(v), "http://127.0.0.1:1/v?request_id=r1");
    assert_string_equal(config_subscription_contract(v)->c_name, "version-stream");
    assert_int_equal(config_subscription_settings(v)->cs_healthy_window_ms, 60000);
    assert_string_equal(config_subscription_contract_name(v), "version-stream");

    /* null: back to the system store. */
    const struct config_subscription *w = config_subscription_find(c, "w");
    config_subscription_sub_options(w, &so);
    assert_null(so.so_ca_file);
    assert_true(so.so_insecure);
    config_subscription_validator_options(w, &vo);
    assert_int_equal(vo.vo_n_vars, 0);
    assert_int_equal(vo.vo_hb_interval_ms, 0);
    assert_true(vo.vo_hb_tolerance == 0);
    assert_false(vo.vo_lenient);
    size_t n = 99;
    config_subscription_vars(w, &n);
    assert_int_equal(n, 0);
    config_unref(c);
}

static void test_contracts_shared_and_refcounted(void **state)
{
    (void)state;
    char text[1024], file[512];
    snprintf(
        text, sizeof(text),
        "{'subscriptions': ["
        " {'name': 'a', 'url': 'http://h/a', 'contract': 'task-stream'},"
        " {'name': 'b', 'url': 'http://h/b', 'contract': "
        "'%s/etc/ssemon/contracts/task-stream.json'},"
        " {'name': 'c', 'url': 'http://h/c', 'contract': 'version-stream', 'enabled': false}]}",
        SSEMON_SOURCE_DIR);
    (void)file;
    struct config *c = load_ok(text);
    const struct contract *ca = config_subscription_contract(config_subscription_at(c, 0));
    const struct contract *cb = config_subscription_contract(config_subscription_at(c, 1));
    const struct contract *cc = config_subscription_contract(config_subscription_at(c, 2));
    assert_ptr_equal(ca, cb);
    assert_ptr_not_equal(ca, cc);
    assert_false(config_subscription_enabled(config_subscription_at(c, 2)));

    /* A reference keeps contracts alive after the loader's reference goes. */
    struct config *held = config_ref(c);
    assert_ptr_equal(held, c);
    config_unref(c);
    assert_string_equal(ca->c_name, "task-stream");
    assert_string_equal(config_subscription_name(config_subscription_at(held, 2)), "c");
    config_unref(held);
    config_unref(NULL);
}

/* ---- equality across loads (reload) ---- */

static bool equal_named(const struct config *a, const struct config *b, const char *name)
{
    return config_subscription_equal(config_subscription_find(a, name),
                                     config_subscription_find(b, name));
}

/* The configuration the equality test varies. */
static void eq_text(char *buf, size_t size, const char *window, const char *url)
{
    snprintf(buf, size,
             "{'contracts_dir': '%s/eqc', 'defaults': {'healthy_window_s': %s},"
             " 'subscriptions': ["
             " {'name': 'same', 'url': 'http://h/s', 'contract': 'mine', 'vars': {'x': '1'},"
             "  'headers': {'A': '1', 'B': {'credential': 'tok'}}},"
             " {'name': 'other', 'url': '%s', 'contract': 'other'}]}",
             tmpdir, window, url);
}

static void test_equality(void **state)
{
    (void)state;
    char dir[512], text[2048];
    mkdir(tmp_path(dir, sizeof(dir), "eqc"), 0700);
    mkdir(tmp_path(dir, sizeof(dir), "eqcreds"), 0700);
    write_file("eqc/base.json", "{\"name\": \"base\", \"abstract\": true, \"variables\": [\"x\"],"
                                " \"events\": {\"tick\": {\"data\": \"text\"}}}");
    write_file("eqc/mine.json", "{\"name\": \"mine\", \"extends\": \"base\"}");
    write_file("eqc/other.json", "{\"name\": \"other\", \"events\": {\"tick\": {}}}");
    write_file("eqcreds/tok", "one\n");
    setenv("CREDENTIALS_DIRECTORY", tmp_path(dir, sizeof(dir), "eqcreds"), 1);
    eq_text(text, sizeof(text), "300", "http://h/o");
    struct config *a = load_ok(text);
    struct config *b = load_ok(text);
    assert_true(equal_named(a, b, "same"));
    assert_true(equal_named(a, b, "other"));
    assert_false(config_subscription_equal(config_subscription_find(a, "same"),
                                           config_subscription_find(a, "other")));
    assert_true(listen_addr_equal(config_status_listen(a), config_status_listen(b)));
    config_unref(b);

    /* Members in another order: still equal. */
    snprintf(text, sizeof(text),
             "{'subscriptions': ["
             " {'url': 'http://h/o', 'contract': 'other', 'name': 'other'},"
             " {'headers': {'B': {'credential': 'tok'}, 'A': '1'}, 'vars': {'x': '1'},"
             "  'contract': 'mine', 'url': 'http://h/s', 'name': 'same'}],"
             " 'defaults': {'healthy_window_s': 300}, 'contracts_dir': '%s/eqc'}",
             tmpdir);
    b = load_ok(text);
    assert_true(equal_named(a, b, "same"));
    assert_true(equal_named(a, b, "other"));
    config_unref(b);

    /* Another subscription's URL changes: only that one differs. */
    eq_text(text, sizeof(text), "300", "http://h/o2");
    b = load_ok(text);
    assert_true(equal_named(a, b, "same"));
    assert_false(equal_named(a, b, "other"));
    config_unref(b);

    /* A default that reaches both. */
    eq_text(text, sizeof(text), "301", "http://h/o");
    b = load_ok(text);
    assert_false(equal_named(a, b, "same"));
    assert_false(equal_named(a, b, "other"));
    config_unref(b);

    /* The journal rate is the process's, not the subscriptions'. */
    snprintf(text, sizeof(text),
             "{'contracts_dir': '%s/eqc', 'defaults': {'healthy_window_s': 300,"
             " 'journal_rate': {'burst': 1, 'interval_s': 1}},"
             " 'subscriptions': ["
             " {'name': 'same', 'url': 'http://h/s', 'contract': 'mine', 'vars': {'x': '1'},"
             "  'headers': {'A': '1', 'B': {'credential': 'tok'}}},"
             " {'name': 'other', 'url': 'http://h/o', 'contract': 'other'}]}",
             tmpdir);
    b = load_ok(text);
    assert_true(equal_named(a, b, "same"));
    assert_true(equal_named(a, b, "other"));
    assert_int_equal(config_defaults(b)->cs_journal_burst, 1);
    config_unref(b);

    /* A rotated credential. */
    write_file("eqcreds/tok", "two\n");
    eq_text(text, sizeof(text), "300", "http://h/o");
    b = load_ok(text);
    assert_false(equal_named(a, b, "same"));
    assert_true(equal_named(a, b, "other"));
    config_unref(b);
    write_file("eqcreds/tok", "one\n");

    /* An edit to the file the contract extends. */
    write_file("eqc/base.json", "{\"name\": \"base\", \"abstract\": true, \"variables\": [\"x\"],"
                                " \"events\": {\"tick\": {\"data\": \"json\"}}}");
    b = load_ok(text);
    assert_false(equal_named(a, b, "same"));
    assert_true(equal_named(a, b, "other"));
    config_unref(b);
    write_file("eqc/base.json", "{\"name\": \"base\", \"abstract\": true, \"variables\": [\"x\"],"
                                " \"events\": {\"tick\": {\"data\": \"text\"}}}");
    b = load_ok(text);
    assert_true(equal_named(a, b, "same"));
    config_unref(b);

    /* Variables, headers, enabled, the listen address. */
    static const char *const changes[][2] = {
        {"'vars': {'x': '1'}", "'vars': {'x': '2'}"},
        {"'vars': {'x': '1'}", "'vars': {}"},
        {"'A': '1'", "'A': '1 '"},
        {"'A': '1'", "'a': '1'"},
        {"'A': '1',", ""},
        {"'contract': 'mine',", "'contract': 'mine', 'enabled': false,"},
        {"'contract': 'mine',", "'contract': 'mine', 'strict': false,"},
        {"'contract': 'mine',", "'contract': 'mine', 'heartbeat_interval_s': 9,"},
        {"'contract': 'mine',", "'contract': 'mine', 'max_line': 77,"},
        {"'contract': 'mine',", "'contract': './eqc/mine.json',"},
    };
    for (size_t i = 0; i < sizeof(changes) / sizeof(changes[0]); i++) {
        char base[2048], changed[2048];
        eq_text(base, sizeof(base), "300", "http://h/o");
        const char *at = strstr(base, changes[i][0]);
        assert_non_null(at);
        snprintf(changed, sizeof(changed), "%.*s%s%s", (int)(at - base), base, changes[i][1],
                 at + strlen(changes[i][0]));
        struct diag_list e;
        char path[512];
        char *s = J(changed);
        b = config_load_buffer(s, strlen(s), tmp_path(path, sizeof(path), "x.json"), &e);
        free(s);
        assert_int_equal(e.dl_n, 0);
        assert_non_null(b);
        assert_false(equal_named(a, b, "same"));
        assert_true(equal_named(a, b, "other"));
        config_unref(b);
    }
    snprintf(text, sizeof(text), "{'status': {'listen': '[::1]:9464'}, 'subscriptions': []}");
    b = load_ok(text);
    assert_false(listen_addr_equal(config_status_listen(a), config_status_listen(b)));
    config_unref(b);
    config_unref(a);
    unsetenv("CREDENTIALS_DIRECTORY");
}

static void test_relative_paths(void **state)
{
    (void)state;
    char dir[512];
    mkdir(tmp_path(dir, sizeof(dir), "rel"), 0700);
    mkdir(tmp_path(dir, sizeof(dir), "rel/c"), 0700);
    write_file("rel/c/local.json", "{\"name\": \"local\", \"events\": {\"tick\": {\"data\": "
                                   "\"text\"}}}");
    write_file("rel/ca.pem", "x\n");
    write_file("rel/key.txt", "k\n");
    struct diag_list e;
    struct config *c = load_file(
        "rel/ssemon.json",
        "{'contracts_dir': 'c', 'defaults': {'ca_file': 'ca.pem', 'headers': {'K': {'file': "
        "'key.txt'}}}, 'subscriptions': [{'name': 'a', 'url': 'http://h/', 'contract': "
        "'local'}, {'name': 'b', 'url': 'http://h/', 'contract': 'c/local.json'}]}",
        &e);
    assert_int_equal(e.dl_n, 0);
    assert_non_null(c);
    char want[512];
    assert_string_equal(config_contracts_dir(c), tmp_path(want, sizeof(want), "rel/c"));
    const struct config_subscription *a = config_subscription_at(c, 0);
    assert_string_equal(config_subscription_settings(a)->cs_ca_file,
                        tmp_path(want, sizeof(want), "rel/ca.pem"));
    assert_ptr_equal(config_subscription_contract(a),
                     config_subscription_contract(config_subscription_at(c, 1)));
    struct sub_options so;
    config_subscription_sub_options(a, &so);
    assert_string_equal(so.so_headers[0], "K: k");
    config_unref(c);
}

static void test_shipped_example(void **state)
{
    (void)state;
    struct diag_list e;
    struct config *c = config_load(SSEMON_SOURCE_DIR "/etc/ssemon/example.json", &e);
    for (size_t i = 0; i < e.dl_n; i++)
        fprintf(stderr, "%s\n", e.dl_items[i].dg_text);
    assert_non_null(c);
    /* One gateway connection with its own request id per attempt, and the
     * probes through it: no fixed task id anywhere. */
    assert_int_equal(config_subscription_count(c), 1);
    for (size_t i = 0; i < config_subscription_count(c); i++) {
        const struct config_subscription *s = config_subscription_at(c, i);
        assert_non_null(config_subscription_contract(s));
        assert_true(config_subscription_enabled(s));
        assert_true(config_subscription_per_attempt(s));
    }
    assert_int_equal(config_probe_count(c), 3);
    diag_list_free(&e);
    config_unref(c);
}

/* The installed configuration watches nothing until it is edited. */
static void test_shipped_default(void **state)
{
    (void)state;
    struct diag_list e;
    struct config *c = config_load(SSEMON_SOURCE_DIR "/etc/ssemon/ssemon.json", &e);
    for (size_t i = 0; i < e.dl_n; i++)
        fprintf(stderr, "%s\n", e.dl_items[i].dg_text);
    assert_non_null(c);
    assert_int_equal(config_subscription_count(c), 0);
    assert_int_equal(config_probe_count(c), 0);
    diag_list_free(&e);
    config_unref(c);
}

/* ---- allocation failures ---- */

static void test_allocation_failures(void **state)
{
    (void)state;
    char dir[512];
    mkdir(tmp_path(dir, sizeof(dir), "oom"), 0700);
    write_file("oom/tok", "t\n");
    /* A small contract: its compiler's own failure paths are its tests' job. */
    write_file("oom/tiny.json", "{\"name\": \"tiny\", \"variables\": [\"task_id\"],"
                                " \"events\": {\"tick\": {\"data\": \"text\"}}}");
    setenv("CREDENTIALS_DIRECTORY", tmp_path(dir, sizeof(dir), "oom"), 1);
    char raw[1024];
    snprintf(raw, sizeof(raw),
             "{'status': {'listen': '[::1]:0'}, 'contracts_dir': '%s',"
             " 'defaults': {'headers': {'A': 'b', 'C': {'credential': 'tok'}},"
             " 'journal_rate': {'burst': 2}},"
             " 'subscriptions': [{'name': 'a', 'url': 'http://u:p@h/', 'contract':"
             " 'tiny', 'vars': {'task_id': 'x'}, 'headers': {'a': 'c'}},"
             " {'name': 'b', 'url': 'http://h/', 'contract': './oom/tiny.json', 'x': 1}]}",
             tmp_path(dir, sizeof(dir), "oom"));
    char *text = J(raw);
    char file[512];
    tmp_path(file, sizeof(file), "oom.json");
    bool succeeded = false;
    /* Bounded: the load makes far fewer allocations than this. */
    for (long k = 0; k < 20000 && !succeeded; k++) {
        struct diag_list e;
        alloc_failed = 0;
        alloc_countdown = k;
        struct config *c = config_load_buffer(text, strlen(text), file, &e);
        alloc_countdown = -1;
        /* The document has one error, so nothing loads; the one error, or
         * running out of memory, is what must be reported. */
        assert_null(c);
        if (alloc_failed == 0) {
            char want[1024];
            const char *const w[] = {want};
            snprintf(want, sizeof(want), "%s:1:%zu: /subscriptions/1/x: unknown key \"x\"", file,
                     strlen(text) - 8);
            check_errors(&e, w, 1);
            succeeded = true;
        } else {
            assert_true(e.dl_oom || e.dl_n > 0);
        }
        diag_list_free(&e);
    }
    assert_true(succeeded);

    /* The same without the error: a failure gives NULL or a complete
     * configuration. */
    char *bang = strstr(text, ", \"x\": 1");
    assert_non_null(bang);
    memmove(bang, bang + 8, strlen(bang + 8) + 1);
    succeeded = false;
    for (long k = 0; k < 20000 && !succeeded; k++) {
        struct diag_list e;
        alloc_failed = 0;
        alloc_countdown = k;
        struct config *c = config_load_buffer(text, strlen(text), file, &e);
        alloc_countdown = -1;
        if (c != NULL) {
            assert_int_equal(e.dl_n, 0);
            assert_int_equal(config_subscription_count(c), 2);
            struct sub_options so;
            config_subscription_sub_options(config_subscription_at(c, 0), &so);
            assert_int_equal(so.so_nheaders, 2);
            succeeded = alloc_failed == 0;
        } else {
            assert_true(alloc_failed > 0);
            assert_true(e.dl_oom || e.dl_n > 0);
        }
        config_unref(c);
        diag_list_free(&e);
    }
    assert_true(succeeded);
    free(text);
    unsetenv("CREDENTIALS_DIRECTORY");
}

/* "metrics": {"histograms"}: per subscription unless the file says
 * otherwise; every other value, type or key is refused where it is. */
static void test_metrics_histograms(void **state)
{
    (void)state;
    static const char *const ok[] = {
        "{'subscriptions': []}",
        "{'subscriptions': [], 'metrics': {}}",
        "{'subscriptions': [], 'metrics': {'histograms': 'subscription'}}",
        "{'subscriptions': [], 'metrics': {'histograms': 'contract'}}",
        "{'subscriptions': [], 'metrics': {'histograms': 'none'}}",
    };
    static const enum config_histograms want[] = {
        CONFIG_HISTOGRAMS_SUBSCRIPTION, CONFIG_HISTOGRAMS_SUBSCRIPTION,
        CONFIG_HISTOGRAMS_SUBSCRIPTION, CONFIG_HISTOGRAMS_CONTRACT, CONFIG_HISTOGRAMS_NONE};
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        struct config *c = load_ok(ok[i]);
        assert_int_equal(config_metrics_histograms(c), want[i]);
        config_unref(c);
    }
    EXPECT_ERRORS("{'subscriptions': [],\n 'metrics': {'histograms': 'contracts'}}",
                  "cfg.json:2:28: /metrics/histograms: unknown histograms setting \"contracts\": "
                  "one of \"subscription\", \"contract\" or \"none\"");
    EXPECT_ERRORS("{'subscriptions': [],\n 'metrics': {'histograms': 1, 'histogram': 'x'}}",
                  "cfg.json:2:28: /metrics/histograms: expected a string, got a number",
                  "cfg.json:2:31: /metrics/histogram: unknown key \"histogram\" (did you mean "
                  "\"histograms\"?)");
    EXPECT_ERRORS("{'subscriptions': [],\n 'metrics': 'none'}",
                  "cfg.json:2:13: /metrics: expected an object, got a string");
    EXPECT_ERRORS("{'subscriptions': [],\n 'metric': {}}",
                  "cfg.json:2:2: /metric: unknown key \"metric\" (did you mean \"metrics\"?)");
    /* "zeros": every class listed (the default), or only those that happened. */
    struct config *c = load_ok("{'subscriptions': []}");
    assert_true(config_metrics_zeros(c));
    config_unref(c);
    c = load_ok("{'subscriptions': [], 'metrics': {'zeros': true}}");
    assert_true(config_metrics_zeros(c));
    config_unref(c);
    c = load_ok("{'subscriptions': [], 'metrics': {'histograms': 'none', 'zeros': false}}");
    assert_false(config_metrics_zeros(c));
    assert_int_equal(config_metrics_histograms(c), CONFIG_HISTOGRAMS_NONE);
    config_unref(c);
    EXPECT_ERRORS("{'subscriptions': [],\n 'metrics': {'zeros': 'no'}}",
                  "cfg.json:2:23: /metrics/zeros: expected true or false, got a string");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_position_offsets),
        cmocka_unit_test(test_position_pointers),
        cmocka_unit_test(test_builtin_defaults),
        cmocka_unit_test(test_layering),
        cmocka_unit_test(test_listen_forms),
        cmocka_unit_test(test_error_syntax),
        cmocka_unit_test(test_byte_order_mark),
        cmocka_unit_test(test_error_unknown_keys),
        cmocka_unit_test(test_error_defaults_only),
        cmocka_unit_test(test_error_sorted_by_position),
        cmocka_unit_test(test_error_types_and_ranges),
        cmocka_unit_test(test_evidence_keys),
        cmocka_unit_test(test_error_duplicates),
        cmocka_unit_test(test_error_subscription_fields),
        cmocka_unit_test(test_description),
        cmocka_unit_test(test_error_vars),
        cmocka_unit_test(test_error_headers),
        cmocka_unit_test(test_error_paths),
        cmocka_unit_test(test_error_backoff_order),
        cmocka_unit_test(test_error_control_chars_escaped),
        cmocka_unit_test(test_many_errors_at_once),
        cmocka_unit_test(test_error_cap),
        cmocka_unit_test(test_error_too_large),
        cmocka_unit_test(test_error_fields),
        cmocka_unit_test(test_credentials),
        cmocka_unit_test(test_url_secret_never_in_errors),
        cmocka_unit_test(test_options),
        cmocka_unit_test(test_contracts_shared_and_refcounted),
        cmocka_unit_test(test_equality),
        cmocka_unit_test(test_relative_paths),
        cmocka_unit_test(test_shipped_example),
        cmocka_unit_test(test_shipped_default),
        cmocka_unit_test(test_allocation_failures),
        cmocka_unit_test(test_metrics_histograms),
        cmocka_unit_test(test_transport_keys),
        cmocka_unit_test(test_transport_errors),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
