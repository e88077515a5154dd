/* cli: the argument helpers the commands share, tested once here for every
 * command that uses them. */
#include "ssemon/cmd/cli.h"
#include "ssemon/io/subscription.h"

#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

static void test_seconds_accepted(void **state)
{
    (void)state;
    uint64_t ms = 0;
    assert_true(cli_seconds("1", false, &ms));
    assert_int_equal(ms, 1000);
    assert_true(cli_seconds("2.5", false, &ms));
    assert_int_equal(ms, 2500);
    assert_true(cli_seconds("1e-3", false, &ms));
    assert_int_equal(ms, 1);
    /* Rounded up: a tiny positive value never becomes 0 ("off"). */
    assert_true(cli_seconds("0.0001", false, &ms));
    assert_int_equal(ms, 1);
    assert_true(cli_seconds("0.0015", false, &ms));
    assert_int_equal(ms, 2);
    assert_true(cli_seconds("31536000", false, &ms));
    assert_int_equal(ms, UINT64_C(31536000000));
}

static void test_seconds_refused(void **state)
{
    (void)state;
    static const char *const bad[] = {"",    "x",   "1x",  " 1x", "-1",        "-0.5",
                                      "inf", "nan", "1e9", "1,5", "31536000.5"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        uint64_t ms = 77;
        if (cli_seconds(bad[i], true, &ms))
            fail_msg("'%s' accepted", bad[i]);
        assert_int_equal(ms, 77); /* untouched on failure */
    }
}

static void test_seconds_zero(void **state)
{
    (void)state;
    uint64_t ms = 77;
    assert_false(cli_seconds("0", false, &ms));
    assert_false(cli_seconds("-0", false, &ms));
    assert_false(cli_seconds("0.0", false, &ms));
    assert_int_equal(ms, 77);
    assert_true(cli_seconds("0", true, &ms));
    assert_int_equal(ms, 0);
    ms = 77;
    assert_true(cli_seconds("-0", true, &ms));
    assert_int_equal(ms, 0);
}

static void test_count(void **state)
{
    (void)state;
    long n = -7;
    assert_true(cli_count("0", 0, 50, &n));
    assert_int_equal(n, 0);
    assert_true(cli_count("50", 0, 50, &n));
    assert_int_equal(n, 50);
    assert_true(cli_count("007", 1, LONG_MAX, &n));
    assert_int_equal(n, 7);
    n = -7;
    assert_false(cli_count("51", 0, 50, &n));
    assert_false(cli_count("0", 1, LONG_MAX, &n));
    assert_false(cli_count("-1", -5, 5, &n)); /* no sign, even where the range allows it */
    assert_false(cli_count("+1", 0, 5, &n));
    assert_false(cli_count(" 1", 0, 5, &n));
    assert_false(cli_count("1 ", 0, 5, &n));
    assert_false(cli_count("", 0, 5, &n));
    assert_false(cli_count("1.0", 0, 5, &n));
    assert_false(cli_count("99999999999999999999999", 0, LONG_MAX, &n));
    assert_int_equal(n, -7);
}

static void test_header_arg(void **state)
{
    (void)state;
    const char *why = NULL;
    assert_int_equal(cli_header_arg("X-Trace: abc", &why), CLI_HEADER_OK);
    assert_int_equal(cli_header_arg("X-Empty:", &why), CLI_HEADER_OK);
    assert_null(why);
    assert_int_equal(cli_header_arg("last-event-id: 7", &why), CLI_HEADER_LAST_EVENT_ID);
    assert_int_equal(cli_header_arg("Last-Event-ID:", &why), CLI_HEADER_LAST_EVENT_ID);
    assert_null(why);
    assert_int_equal(cli_header_arg("Last-Event-IDs: 7", &why), CLI_HEADER_OK);
    assert_int_equal(cli_header_arg("no colon", &why), CLI_HEADER_INVALID);
    assert_non_null(why);
    why = NULL;
    assert_int_equal(cli_header_arg("X-A: b\r\nX-B: c", &why), CLI_HEADER_INVALID);
    assert_non_null(why);
    why = NULL;
    assert_int_equal(cli_header_arg(": v", &why), CLI_HEADER_INVALID);
    assert_non_null(why);
}

static void test_urls(void **state)
{
    (void)state;
    assert_true(cli_is_url("http://x"));
    assert_true(cli_is_url("HTTPS://x"));
    assert_false(cli_is_url("http:/x"));
    assert_false(cli_is_url("ftp://x"));
    assert_false(cli_is_url("recording.rec"));
    assert_false(cli_is_url("-"));

    assert_true(cli_url_ok("http://127.0.0.1:8080/s/basic?x=1"));
    assert_true(cli_url_ok("HTTPS://example.org/"));
    assert_false(cli_url_ok("ftp://example.org/"));
    assert_false(cli_url_ok("http://exa mple.org/"));
    assert_false(cli_url_ok("not a url"));
    assert_false(cli_url_ok(""));
}

/* What cli_usage_error writes on stderr, read back through a temporary file. */
static void test_usage_error(void **state)
{
    (void)state;
    FILE *tmp = tmpfile();
    assert_non_null(tmp);
    fflush(stderr);
    int saved = dup(STDERR_FILENO);
    assert_true(saved >= 0);
    assert_true(dup2(fileno(tmp), STDERR_FILENO) >= 0);
    int rc = cli_usage_error("watch", "--duration wants positive seconds, not '%s'", "-1");
    fflush(stderr);
    assert_true(dup2(saved, STDERR_FILENO) >= 0);
    close(saved);
    assert_int_equal(rc, 2);
    char buf[256];
    rewind(tmp);
    size_t n = fread(buf, 1, sizeof(buf) - 1, tmp);
    buf[n] = '\0';
    fclose(tmp);
    assert_string_equal(buf, "ssemon watch: --duration wants positive seconds, not '-1'\n"
                             "(see 'ssemon watch --help')\n");
}

/* The transport flags: taken, refused with a usage error (stderr silenced
 * here), or not ours; applied to the subscription options. */
static void test_transport_flags(void **state)
{
    (void)state;
    fflush(stderr);
    int saved = dup(STDERR_FILENO);
    FILE *null = fopen("/dev/null", "w");
    assert_non_null(null);
    assert_true(dup2(fileno(null), STDERR_FILENO) >= 0);

    struct cli_transport t = {0};
    assert_int_equal(cli_transport_arg("check", 'x', NULL, &t), -1);
    assert_false(t.ct_given);
    assert_int_equal(cli_transport_arg("check", CLI_OPT_KEY, "/dev/null", &t), 0);
    assert_int_equal(cli_transport_finish("check", &t), 2); /* a key without a certificate */
    assert_int_equal(cli_transport_arg("check", CLI_OPT_CERT, "/nonexistent/c.pem", &t), 2);
    assert_int_equal(cli_transport_arg("check", CLI_OPT_CERT, "/dev/null", &t), 0);
    assert_int_equal(cli_transport_finish("check", &t), 0);
    assert_int_equal(cli_transport_arg("check", CLI_OPT_PROXY, "ftp://p", &t), 2);
    assert_int_equal(cli_transport_arg("check", CLI_OPT_PROXY, "socks5h://", &t), 2);
    assert_int_equal(cli_transport_arg("check", CLI_OPT_PROXY, "env", &t), 0);
    assert_int_equal(cli_transport_arg("check", CLI_OPT_PROXY, "HTTP://p:3128", &t), 0);
    assert_int_equal(cli_transport_arg("check", CLI_OPT_NO_PROXY, "a,b", &t), 0);
    assert_int_equal(cli_transport_arg("check", CLI_OPT_INSECURE, NULL, &t), 0);
    assert_int_equal(cli_transport_arg("check", CLI_OPT_CACERT, "/dev/null", &t), 0);

    fflush(stderr);
    assert_true(dup2(saved, STDERR_FILENO) >= 0);
    close(saved);
    fclose(null);

    struct sub_options o;
    sub_options_init(&o);
    cli_transport_apply(&t, &o);
    assert_string_equal(o.so_ca_file, "/dev/null");
    assert_string_equal(o.so_client_cert, "/dev/null");
    assert_string_equal(o.so_client_key, "/dev/null");
    assert_string_equal(o.so_proxy, "HTTP://p:3128");
    assert_string_equal(o.so_no_proxy, "a,b");
    assert_true(o.so_insecure);
    assert_true(t.ct_given);

    /* Nothing given: no proxy at all (the environment is not read). */
    struct cli_transport none = {0};
    sub_options_init(&o);
    cli_transport_apply(&none, &o);
    assert_null(o.so_proxy);
    assert_null(o.so_ca_file);
    assert_false(o.so_insecure);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_seconds_accepted), cmocka_unit_test(test_seconds_refused),
        cmocka_unit_test(test_seconds_zero),     cmocka_unit_test(test_count),
        cmocka_unit_test(test_header_arg),       cmocka_unit_test(test_urls),
        cmocka_unit_test(test_usage_error),      cmocka_unit_test(test_transport_flags),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
