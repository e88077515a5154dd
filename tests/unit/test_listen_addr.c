/* core/listen_addr and core/subscription_name: the rules the configuration
 * and the status server share. */
#include "ssemon/core/listen_addr.h"
#include "ssemon/core/subscription_name.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

static void test_listen_forms(void **state)
{
    (void)state;
    struct listen_addr a;
    assert_true(listen_addr_parse("127.0.0.1:9464", &a));
    assert_int_equal(a.la_kind, LISTEN_ADDR_INET);
    assert_string_equal(a.la_host, "127.0.0.1");
    assert_int_equal(a.la_port, 9464);
    assert_string_equal(a.la_text, "127.0.0.1:9464");
    assert_true(listen_addr_parse("[::1]:0", &a));
    assert_int_equal(a.la_kind, LISTEN_ADDR_INET6);
    assert_string_equal(a.la_host, "::1");
    assert_int_equal(a.la_port, 0);
    assert_true(listen_addr_parse("0.0.0.0:65535", &a));
    assert_int_equal(a.la_port, 65535);
    assert_true(listen_addr_parse("/run/ssemon/status.sock", &a));
    assert_int_equal(a.la_kind, LISTEN_ADDR_UNIX);
    assert_string_equal(a.la_path, "/run/ssemon/status.sock");
    assert_string_equal(a.la_host, "");
}

static void test_listen_refused(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "",
        "127.0.0.1",
        "127.0.0.1:",
        "127.0.0.1:65536",
        "127.0.0.1:123456",
        "127.0.0.1:-1",
        "127.0.0.1: 80",
        "localhost:80",
        "::1:80",
        "[::1]",
        "[::1]80",
        "[nothost]:80",
        "1.2.3:80",
        "relative/path",
        "[127.0.0.1]:80",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct listen_addr a;
        memset(&a, 0x55, sizeof(a));
        assert_false(listen_addr_parse(bad[i], &a));
        assert_int_equal(a.la_text[0], '\0'); /* cleared */
    }
    char path[LISTEN_ADDR_PATH_MAX + 2];
    memset(path, 'a', sizeof(path) - 1);
    path[0] = '/';
    path[sizeof(path) - 1] = '\0';
    struct listen_addr a;
    assert_false(listen_addr_parse(path, &a)); /* one byte too long */
    path[sizeof(path) - 2] = '\0';
    assert_true(listen_addr_parse(path, &a));
}

static void test_listen_equal(void **state)
{
    (void)state;
    struct listen_addr a, b;
    assert_true(listen_addr_parse("127.0.0.1:1", &a));
    assert_true(listen_addr_parse("127.0.0.1:1", &b));
    assert_true(listen_addr_equal(&a, &b));
    assert_true(listen_addr_parse("127.0.0.1:01", &b));
    assert_false(listen_addr_equal(&a, &b)); /* as written */
}

/* Loopback or not, for the exposure warning: what only this machine can
 * reach is loopback; the wildcards are the most exposed of all. */
static void test_listen_loopback(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        bool loopback;
    } cases[] = {
        {"127.0.0.1:9464", true},
        {"127.255.0.9:1", true},
        {"[::1]:9464", true},
        {"[0:0:0:0:0:0:0:1]:9464", true},
        {"[::ffff:127.0.0.1]:9464", true},
        {"/run/ssemon/status.sock", true},
        {"0.0.0.0:9464", false},
        {"[::]:9464", false},
        {"10.0.0.5:9464", false},
        {"128.0.0.1:9464", false},
        {"[::2]:9464", false},
        {"[::ffff:10.0.0.1]:9464", false},
        {"[fe80::1]:9464", false},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct listen_addr a;
        assert_true(listen_addr_parse(cases[i].text, &a));
        if (listen_addr_is_loopback(&a) != cases[i].loopback)
            fail_msg("%s: expected %s", cases[i].text, cases[i].loopback ? "loopback" : "exposed");
    }
}

static void test_subscription_name(void **state)
{
    (void)state;
    assert_true(subscription_name_chars_ok("gateway-main_1.v2", 17));
    assert_false(subscription_name_chars_ok("", 0));
    assert_false(subscription_name_chars_ok("a b", 3));
    assert_false(subscription_name_chars_ok("a/b", 3));
    assert_false(subscription_name_chars_ok("caf\xC3\xA9", 5));
    assert_false(subscription_name_chars_ok("a\0b", 3));
    assert_true(subscription_name_chars_ok("ab/", 2)); /* only len bytes count */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_listen_forms),      cmocka_unit_test(test_listen_refused),
        cmocka_unit_test(test_listen_equal),      cmocka_unit_test(test_listen_loopback),
        cmocka_unit_test(test_subscription_name),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
