/* Unit tests of the recording format: every record kind round-trips, chunk
 * bytes pick "data" or "base64" by UTF-8 validity and survive exactly, and
 * damaged lines are refused with a reason. */
#include "ssemon/base/utf8.h"
#include "ssemon/core/recording.h"
#include "ssemon/json/json_writer.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

struct rt_fixture {
    struct json_writer f_w;
    struct recording_decoder f_dec;
    struct recording_record f_out;
    char f_err[256];
};

#define RT_FIELD(n, v)                                                                             \
    {                                                                                              \
        n, sizeof(n) - 1, v, sizeof(v) - 1                                                         \
    }

static int rt_setup(void **state)
{
    static struct rt_fixture f;
    json_writer_init(&f.f_w);
    recording_decoder_init(&f.f_dec);
    *state = &f;
    return 0;
}

static int rt_teardown(void **state)
{
    struct rt_fixture *f = *state;
    json_writer_free(&f->f_w);
    recording_decoder_free(&f->f_dec);
    return 0;
}

/* Encodes `r` alone, checks it is one line, decodes it into f_out. */
static void rt_roundtrip(struct rt_fixture *f, const struct recording_record *r)
{
    json_writer_reset(&f->f_w);
    recording_encode(&f->f_w, r);
    assert_false(json_writer_failed(&f->f_w));
    size_t len;
    const char *text = json_writer_text(&f->f_w, &len);
    assert_true(len > 1);
    assert_int_equal(text[len - 1], '\n');
    assert_null(memchr(text, '\n', len - 1));
    int rc = recording_decode(&f->f_dec, text, len, &f->f_out, f->f_err, sizeof(f->f_err));
    if (rc != 0)
        fail_msg("decode failed: %s on %s", f->f_err, text);
    assert_int_equal(f->f_out.rr_kind, r->rr_kind);
}

static const char *rt_line(struct rt_fixture *f)
{
    size_t len;
    return json_writer_text(&f->f_w, &len);
}

static int rt_decode(struct rt_fixture *f, const char *line)
{
    return recording_decode(&f->f_dec, line, strlen(line), &f->f_out, f->f_err, sizeof(f->f_err));
}

static void test_header_roundtrip(void **state)
{
    struct rt_fixture *f = *state;
    struct recording_record r = {
        .rr_kind = RECORDING_HEADER,
        .rr_url = "http://***@127.0.0.1:8080/s/x?a=b",
        .rr_started = "2026-11-27T07:50:01.123Z",
    };
    rt_roundtrip(f, &r);
    assert_string_equal(rt_line(f), "{\"format\":\"ssemon-recording\",\"version\":1,"
                                    "\"url\":\"http://***@127.0.0.1:8080/s/x?a=b\","
                                    "\"started\":\"2026-11-27T07:50:01.123Z\"}\n");
    assert_int_equal(f->f_out.rr_version, RECORDING_VERSION);
    assert_string_equal(f->f_out.rr_url, r.rr_url);
    assert_string_equal(f->f_out.rr_started, r.rr_started);
}

static void test_connecting_roundtrip(void **state)
{
    struct rt_fixture *f = *state;
    struct recording_record r = {
        .rr_kind = RECORDING_CONNECTING,
        .rr_t_ms = 1234,
        .rr_attempt = 3,
        .rr_last_event_id = "42",
    };
    rt_roundtrip(f, &r);
    assert_string_equal(
        rt_line(f), "{\"t\":1234,\"rec\":\"connecting\",\"attempt\":3,\"last_event_id\":\"42\"}\n");
    assert_int_equal(f->f_out.rr_t_ms, 1234);
    assert_int_equal(f->f_out.rr_attempt, 3);
    assert_string_equal(f->f_out.rr_last_event_id, "42");

    r.rr_last_event_id = NULL; /* absent is written as "" */
    rt_roundtrip(f, &r);
    assert_string_equal(f->f_out.rr_last_event_id, "");
}

static void test_open_roundtrip(void **state)
{
    struct rt_fixture *f = *state;
    const struct recording_field hdrs[] = {
        RT_FIELD("Content-Type", "text/event-stream; charset=utf-8"),
        RT_FIELD("Cache-Control", "no-cache"),
        RT_FIELD("X-Quote", "a \"b\" \\ c"),
        RT_FIELD("Set-Cookie", "a=1"),
        RT_FIELD("Set-Cookie", "b=2"),
    };
    struct recording_record r = {
        .rr_kind = RECORDING_OPEN,
        .rr_t_ms = 7,
        .rr_status = 200,
        .rr_content_type = "text/event-stream; charset=utf-8",
        .rr_headers = hdrs,
        .rr_n_headers = 5,
        .rr_ms_to_headers = 6,
    };
    rt_roundtrip(f, &r);
    assert_int_equal(f->f_out.rr_status, 200);
    assert_int_equal(f->f_out.rr_ms_to_headers, 6);
    assert_string_equal(f->f_out.rr_content_type, r.rr_content_type);
    assert_int_equal(f->f_out.rr_n_headers, 5);
    for (size_t i = 0; i < 5; i++) {
        assert_string_equal(f->f_out.rr_headers[i].rf_name, hdrs[i].rf_name);
        assert_string_equal(f->f_out.rr_headers[i].rf_value, hdrs[i].rf_value);
        assert_int_equal(f->f_out.rr_headers[i].rf_name_len, hdrs[i].rf_name_len);
        assert_int_equal(f->f_out.rr_headers[i].rf_value_len, hdrs[i].rf_value_len);
    }

    r.rr_n_headers = 0;
    rt_roundtrip(f, &r);
    assert_int_equal(f->f_out.rr_n_headers, 0);
}

static void test_open_header_not_utf8(void **state)
{
    struct rt_fixture *f = *state;
    const struct recording_field hdrs[] = {RT_FIELD("X-Latin1", "caf\xe9!")};
    struct recording_record r = {
        .rr_kind = RECORDING_OPEN,
        .rr_status = 200,
        .rr_content_type = "text/event-stream",
        .rr_headers = hdrs,
        .rr_n_headers = 1,
    };
    rt_roundtrip(f, &r);
    assert_string_equal(f->f_out.rr_headers[0].rf_value, "caf\xEF\xBF\xBD!");
    assert_int_equal(f->f_out.rr_headers[0].rf_value_len, 7);
}

static void test_chunk_text(void **state)
{
    struct rt_fixture *f = *state;
    static const char data[] = "event: x\ndata: {\"a\": \"\xc3\xa9\"}\r\n\n";
    struct recording_record r = {
        .rr_kind = RECORDING_CHUNK,
        .rr_t_ms = 99,
        .rr_data = data,
        .rr_len = sizeof(data) - 1,
    };
    rt_roundtrip(f, &r);
    assert_non_null(strstr(rt_line(f), "\"data\":\"event: x\\ndata: "));
    assert_null(strstr(rt_line(f), "base64"));
    assert_int_equal(f->f_out.rr_len, sizeof(data) - 1);
    assert_memory_equal(f->f_out.rr_data, data, sizeof(data) - 1);
    assert_int_equal(f->f_out.rr_t_ms, 99);
}

static void test_chunk_nul_stays_text(void **state)
{
    struct rt_fixture *f = *state;
    static const char data[] = {'d', 'a', 't', 'a', ':', 0, '\n'};
    struct recording_record r = {.rr_kind = RECORDING_CHUNK, .rr_data = data, .rr_len = 7};
    rt_roundtrip(f, &r);
    assert_non_null(strstr(rt_line(f), "\\u0000"));
    assert_int_equal(f->f_out.rr_len, 7);
    assert_memory_equal(f->f_out.rr_data, data, 7);
}

static void test_chunk_binary(void **state)
{
    struct rt_fixture *f = *state;
    /* A UTF-8 sequence split across chunks, a lone continuation byte, an
     * overlong form, a surrogate: each makes the chunk base64. */
    static const char *const cases[] = {"ab\xc3", "\x80", "\xc0\xaf", "\xed\xa0\x80",
                                        "\xf4\x90\x80\x80"};
    for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
        struct recording_record r = {
            .rr_kind = RECORDING_CHUNK,
            .rr_data = cases[c],
            .rr_len = strlen(cases[c]),
        };
        rt_roundtrip(f, &r);
        assert_non_null(strstr(rt_line(f), "\"base64\":"));
        assert_int_equal(f->f_out.rr_len, r.rr_len);
        assert_memory_equal(f->f_out.rr_data, cases[c], r.rr_len);
    }
}

static void test_chunk_every_length(void **state)
{
    struct rt_fixture *f = *state;
    unsigned char buf[600];
    for (size_t i = 0; i < sizeof(buf); i++)
        buf[i] = (unsigned char)(i * 7 + 0x80);
    for (size_t len = 0; len <= sizeof(buf); len += len < 8 ? 1 : 97) {
        struct recording_record r = {.rr_kind = RECORDING_CHUNK, .rr_data = buf, .rr_len = len};
        rt_roundtrip(f, &r);
        assert_int_equal(f->f_out.rr_len, len);
        if (len > 0)
            assert_memory_equal(f->f_out.rr_data, buf, len);
    }
}

static void test_base64_exact(void **state)
{
    struct rt_fixture *f = *state;
    struct recording_record r = {.rr_kind = RECORDING_CHUNK, .rr_data = "\xff\x00", .rr_len = 2};
    rt_roundtrip(f, &r);
    assert_string_equal(rt_line(f), "{\"t\":0,\"rec\":\"chunk\",\"base64\":\"/wA=\"}\n");
}

static void test_closed_roundtrip(void **state)
{
    struct rt_fixture *f = *state;
    for (int reason = STREAM_CLOSE_EOF; reason <= STREAM_CLOSE_STOPPED; reason++) {
        struct recording_record r = {
            .rr_kind = RECORDING_CLOSED,
            .rr_t_ms = 5000,
            .rr_reason = (enum stream_close_reason)reason,
            .rr_error = reason == STREAM_CLOSE_TRANSPORT ? "Connection reset by peer" : "",
            .rr_status = 404,
            .rr_content_type = "text/plain",
            .rr_before_headers = reason == STREAM_CLOSE_TRANSPORT,
        };
        rt_roundtrip(f, &r);
        assert_int_equal(f->f_out.rr_reason, reason);
        assert_string_equal(f->f_out.rr_error, r.rr_error);
        assert_int_equal(f->f_out.rr_status, 404);
        assert_string_equal(f->f_out.rr_content_type, "text/plain");
        assert_int_equal(f->f_out.rr_before_headers, r.rr_before_headers);
    }
}

/* A close's optional location and body: a text body as "body", other
 * bytes as "body_base64", both absent when empty; a close without them
 * (what version 1 wrote first) still decodes. */
static void test_closed_body_and_location(void **state)
{
    struct rt_fixture *f = *state;
    struct recording_record r = {.rr_kind = RECORDING_CLOSED,
                                 .rr_reason = STREAM_CLOSE_HTTP_STATUS,
                                 .rr_status = 302,
                                 .rr_location = "http://elsewhere.example/x",
                                 .rr_body = "moved <b>",
                                 .rr_body_len = 9};
    rt_roundtrip(f, &r);
    assert_string_equal(rt_line(f), "{\"t\":0,\"rec\":\"closed\",\"reason\":\"http_status\","
                                    "\"error\":\"\",\"status\":302,\"content_type\":\"\","
                                    "\"before_headers\":false,"
                                    "\"location\":\"http://elsewhere.example/x\","
                                    "\"body\":\"moved <b>\"}\n");
    assert_string_equal(f->f_out.rr_location, "http://elsewhere.example/x");
    assert_int_equal(f->f_out.rr_body_len, 9);
    assert_memory_equal(f->f_out.rr_body, "moved <b>", 9);

    r = (struct recording_record){.rr_kind = RECORDING_CLOSED,
                                  .rr_reason = STREAM_CLOSE_CONTENT_TYPE,
                                  .rr_status = 200,
                                  .rr_body = "\xff\x00",
                                  .rr_body_len = 2};
    rt_roundtrip(f, &r);
    assert_non_null(strstr(rt_line(f), "\"body_base64\":\"/wA=\"}"));
    assert_null(strstr(rt_line(f), "location"));
    assert_string_equal(f->f_out.rr_location, "");
    assert_int_equal(f->f_out.rr_body_len, 2);
    assert_memory_equal(f->f_out.rr_body, "\xff\x00", 2);

    r = (struct recording_record){.rr_kind = RECORDING_CLOSED, .rr_reason = STREAM_CLOSE_EOF};
    rt_roundtrip(f, &r);
    assert_null(strstr(rt_line(f), "body"));
    assert_int_equal(f->f_out.rr_body_len, 0);
    assert_null(f->f_out.rr_body);
}

/* A refused response's headers on its close: written only when there
 * are some, decoded as none when absent (older recordings). */
static void test_closed_headers(void **state)
{
    struct rt_fixture *f = *state;
    const struct recording_field h[] = {RT_FIELD("Retry-After", "120"),
                                        RT_FIELD("Set-Cookie", "***")};
    struct recording_record r = {.rr_kind = RECORDING_CLOSED,
                                 .rr_reason = STREAM_CLOSE_HTTP_STATUS,
                                 .rr_status = 503,
                                 .rr_headers = h,
                                 .rr_n_headers = 2};
    rt_roundtrip(f, &r);
    assert_string_equal(rt_line(f),
                        "{\"t\":0,\"rec\":\"closed\",\"reason\":\"http_status\","
                        "\"error\":\"\",\"status\":503,\"content_type\":\"\","
                        "\"before_headers\":false,"
                        "\"headers\":[[\"Retry-After\",\"120\"],[\"Set-Cookie\",\"***\"]]}\n");
    assert_int_equal(f->f_out.rr_n_headers, 2);
    assert_string_equal(f->f_out.rr_headers[0].rf_name, "Retry-After");
    assert_string_equal(f->f_out.rr_headers[0].rf_value, "120");
    assert_string_equal(f->f_out.rr_headers[1].rf_value, "***");

    r.rr_n_headers = 0;
    rt_roundtrip(f, &r);
    assert_null(strstr(rt_line(f), "headers\":["));
    assert_int_equal(f->f_out.rr_n_headers, 0);

    assert_int_equal(rt_decode(f, "{\"t\":1,\"rec\":\"closed\",\"reason\":\"eof\",\"error\":\"\","
                                  "\"status\":0,\"content_type\":\"\",\"before_headers\":false,"
                                  "\"headers\":{}}"),
                     -1);
    assert_non_null(strstr(f->f_err, "\"headers\" must be an array"));
}

static void test_lines_follow_each_other(void **state)
{
    struct rt_fixture *f = *state;
    json_writer_reset(&f->f_w);
    struct recording_record a = {.rr_kind = RECORDING_CONNECTING, .rr_attempt = 1};
    struct recording_record b = {
        .rr_kind = RECORDING_CHUNK, .rr_t_ms = 1, .rr_data = "x", .rr_len = 1};
    recording_encode(&f->f_w, &a);
    recording_encode(&f->f_w, &b);
    assert_string_equal(rt_line(f), "{\"t\":0,\"rec\":\"connecting\",\"attempt\":1,"
                                    "\"last_event_id\":\"\"}\n"
                                    "{\"t\":1,\"rec\":\"chunk\",\"data\":\"x\"}\n");
}

static void test_decode_accepts_crlf_and_unknown_members(void **state)
{
    struct rt_fixture *f = *state;
    assert_int_equal(rt_decode(f, "{\"t\":3,\"rec\":\"chunk\",\"data\":\"a\",\"note\":[1]}\r\n"),
                     0);
    assert_int_equal(f->f_out.rr_kind, RECORDING_CHUNK);
    assert_int_equal(f->f_out.rr_len, 1);
}

static void test_decode_errors(void **state)
{
    struct rt_fixture *f = *state;
    static const struct {
        const char *line;
        const char *why;
    } cases[] = {
        {"", "not JSON"},
        {"event: x", "not JSON"},
        {"[1]", "a record must be a JSON object"},
        {"{\"format\":\"other\",\"version\":1,\"url\":\"\",\"started\":\"\"}", "\"format\""},
        {"{\"format\":\"ssemon-recording\",\"version\":2,\"url\":\"\",\"started\":\"\"}",
         "unsupported recording version 2"},
        {"{\"format\":\"ssemon-recording\",\"version\":1,\"started\":\"\"}", "\"url\" is missing"},
        {"{\"rec\":\"chunk\",\"data\":\"\"}", "\"t\" is missing"},
        {"{\"t\":-1,\"rec\":\"chunk\",\"data\":\"\"}", "\"t\" must be a non-negative integer"},
        {"{\"t\":1.5,\"rec\":\"chunk\",\"data\":\"\"}", "\"t\" must be a non-negative integer"},
        {"{\"t\":1,\"rec\":\"frame\"}", "unknown record kind \"frame\""},
        {"{\"t\":1,\"rec\":\"chunk\"}", "exactly one of"},
        {"{\"t\":1,\"rec\":\"chunk\",\"data\":\"\",\"base64\":\"\"}", "exactly one of"},
        {"{\"t\":1,\"rec\":\"chunk\",\"data\":5}", "\"data\" must be a string"},
        {"{\"t\":1,\"rec\":\"chunk\",\"base64\":\"abc\"}", "multiple of 4"},
        {"{\"t\":1,\"rec\":\"chunk\",\"base64\":\"ab!d\"}", "invalid character"},
        {"{\"t\":1,\"rec\":\"chunk\",\"base64\":\"a=bc\"}", "invalid character"},
        {"{\"t\":1,\"rec\":\"chunk\",\"base64\":\"ab==cdef\"}", "invalid character"},
        {"{\"t\":1,\"rec\":\"chunk\",\"base64\":\"/x==\"}", "non-canonical"},
        {"{\"t\":1,\"rec\":\"connecting\",\"last_event_id\":\"\"}", "\"attempt\" is missing"},
        {"{\"t\":1,\"rec\":\"connecting\",\"attempt\":1,\"last_event_id\":\"a\\u0000b\"}",
         "must not contain U+0000"},
        {"{\"t\":1,\"rec\":\"open\",\"status\":200,\"content_type\":\"\",\"ms_to_headers\":0}",
         "\"headers\" must be an array"},
        {"{\"t\":1,\"rec\":\"open\",\"status\":1000,\"content_type\":\"\",\"ms_to_headers\":0,"
         "\"headers\":[]}",
         "at most 999"},
        {"{\"t\":1,\"rec\":\"open\",\"status\":200,\"content_type\":\"\",\"ms_to_headers\":0,"
         "\"headers\":[[\"a\"]]}",
         "\"headers\"[0] must be a [name, value] pair"},
        {"{\"t\":1,\"rec\":\"closed\",\"reason\":\"gone\",\"error\":\"\",\"status\":0,"
         "\"content_type\":\"\",\"before_headers\":false}",
         "unknown close reason \"gone\""},
        {"{\"t\":1,\"rec\":\"closed\",\"reason\":\"eof\",\"error\":\"\",\"status\":0,"
         "\"content_type\":\"\"}",
         "\"before_headers\" must be true or false"},
        {"{\"t\":1,\"rec\":\"closed\",\"reason\":\"eof\",\"error\":\"\",\"status\":0,"
         "\"content_type\":\"\",\"before_headers\":false,\"body\":\"a\",\"body_base64\":\"YQ==\"}",
         "at most one of \"body\", \"body_base64\""},
        {"{\"t\":1,\"rec\":\"closed\",\"reason\":\"eof\",\"error\":\"\",\"status\":0,"
         "\"content_type\":\"\",\"before_headers\":false,\"body_base64\":\"YQ=\"}",
         "multiple of 4"},
        {"{\"t\":1,\"rec\":\"closed\",\"reason\":\"eof\",\"error\":\"\",\"status\":0,"
         "\"content_type\":\"\",\"before_headers\":false,\"body\":1}",
         "\"body\" must be a string"},
        {"{\"t\":1,\"rec\":\"closed\",\"reason\":\"eof\",\"error\":\"\",\"status\":0,"
         "\"content_type\":\"\",\"before_headers\":false,\"location\":null}",
         "\"location\" must be a string"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        if (rt_decode(f, cases[i].line) != -1)
            fail_msg("accepted: %s", cases[i].line);
        if (strstr(f->f_err, cases[i].why) == NULL)
            fail_msg("for %s: got \"%s\", want \"%s\"", cases[i].line, f->f_err, cases[i].why);
    }
}

static void test_utf8_valid(void **state)
{
    (void)state;
    assert_true(utf8_valid("", 0));
    assert_true(utf8_valid("\xf0\x9f\x98\x80 \xef\xbf\xbf \xe0\xa0\x80", 12));
    assert_true(utf8_valid("\xf4\x8f\xbf\xbf", 4));
    assert_false(utf8_valid("\xf8\x88\x80\x80\x80", 5));
    assert_false(utf8_valid("\xe0\x9f\xbf", 3));
    assert_false(utf8_valid("\xc1\xbf", 2));
    assert_false(utf8_valid("\xe2\x82", 2));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_header_roundtrip),
        cmocka_unit_test(test_connecting_roundtrip),
        cmocka_unit_test(test_open_roundtrip),
        cmocka_unit_test(test_open_header_not_utf8),
        cmocka_unit_test(test_chunk_text),
        cmocka_unit_test(test_chunk_nul_stays_text),
        cmocka_unit_test(test_chunk_binary),
        cmocka_unit_test(test_chunk_every_length),
        cmocka_unit_test(test_base64_exact),
        cmocka_unit_test(test_closed_roundtrip),
        cmocka_unit_test(test_closed_body_and_location),
        cmocka_unit_test(test_closed_headers),
        cmocka_unit_test(test_lines_follow_each_other),
        cmocka_unit_test(test_decode_accepts_crlf_and_unknown_members),
        cmocka_unit_test(test_decode_errors),
        cmocka_unit_test(test_utf8_valid),
    };
    return cmocka_run_group_tests(tests, rt_setup, rt_teardown);
}
