#include "ssemon/core/violation.h"

#include <string.h>

/* The stream classes come first (per-subscription counters are sized by
 * their count), the probe classes after them. */
_Static_assert(VIOLATION_PROBE_FAILED == VIOLATION_STREAM_CLASS_COUNT,
               "the probe classes follow the stream classes");
_Static_assert(VIOLATION_PROBE_ORDER + 1 == VIOLATION_CLASS_COUNT,
               "VIOLATION_CLASS_COUNT counts every class");

struct violation_info {
    const char *vi_name;
    const char *vi_message_id;
};

static const struct violation_info violation_infos[VIOLATION_CLASS_COUNT] = {
    [VIOLATION_CONNECT_FAILED] = {"connect_failed", "5ecb10efdb2e4209991c92bbb0906638"},
    [VIOLATION_HTTP_STATUS] = {"http_status", "86f9aca3c66d4f9a80942ebb3515f5a0"},
    [VIOLATION_CONTENT_TYPE] = {"content_type", "0b7e4923dfef4cae8ce20a890940e83a"},
    [VIOLATION_HEADER] = {"header", "92b705763c7f4ffbabcf6f4a3b1e00df"},
    [VIOLATION_STREAM_ENDED] = {"stream_ended", "75e271b573874892a6baa90dbf891abb"},
    [VIOLATION_SSE_SYNTAX] = {"sse_syntax", "1518dabfae514304aa84ec244b2fc84f"},
    [VIOLATION_LINE_TOO_LONG] = {"line_too_long", "59381eaea05c4ae1b4c063869813f6fb"},
    [VIOLATION_DATA_NOT_JSON] = {"data_not_json", "549fd9515c6842adbd4d2fe0fbe79345"},
    [VIOLATION_UNKNOWN_EVENT] = {"unknown_event", "a7902dd5836c4cad920136bee5ef9671"},
    [VIOLATION_ORDER] = {"order", "924eae3c9791497ca78eecdca01df6ad"},
    [VIOLATION_SCHEMA] = {"schema", "d8804b57f2a6482ba19d3985c0ffb67a"},
    [VIOLATION_CORRELATION_ID] = {"correlation_id", "e8ca2b62393e41869864163b6e97883f"},
    [VIOLATION_HEARTBEAT_MISSED] = {"heartbeat_missed", "424961aa18434604af98733c77589844"},
    [VIOLATION_FIRST_EVENT_LATE] = {"first_event_late", "ee3c2a91ff964ccbb86419df52b62cdf"},
    [VIOLATION_LIFECYCLE_TIMEOUT] = {"lifecycle_timeout", "c111ce8df7f74384ac5f34485b109600"},
    [VIOLATION_PROBE_FAILED] = {"probe_failed", "cf3e87669ae245098acd515b837d5814"},
    [VIOLATION_PROBE_TIMEOUT] = {"probe_timeout", "94ebaf767ff3423ba2f9766c80424b9c"},
    [VIOLATION_PROBE_ORDER] = {"probe_order", "7b509d223870499dbcc4e2ce0369cf72"},
};

const char *violation_class_name(enum violation_class c)
{
    if ((unsigned)c >= VIOLATION_CLASS_COUNT)
        return NULL;
    return violation_infos[c].vi_name;
}

int violation_class_from_name(const char *name)
{
    for (int i = 0; i < VIOLATION_CLASS_COUNT; i++)
        if (strcmp(violation_infos[i].vi_name, name) == 0)
            return i;
    return -1;
}

const char *violation_severity_name(enum violation_severity s)
{
    switch (s) {
    case VIOLATION_WARNING:
        return "warning";
    case VIOLATION_INFO:
        return "info";
    case VIOLATION_ERROR:
    default:
        return "error";
    }
}

int violation_severity_priority(enum violation_severity s)
{
    switch (s) {
    case VIOLATION_WARNING:
        return 4;
    case VIOLATION_INFO:
        return 6;
    case VIOLATION_ERROR:
    default:
        return 3;
    }
}

int violation_priority(enum violation_class c, enum violation_severity s)
{
    (void)c;
    return violation_severity_priority(s);
}

const char *violation_message_id(enum violation_class c)
{
    if ((unsigned)c >= VIOLATION_CLASS_COUNT)
        return NULL;
    return violation_infos[c].vi_message_id;
}

bool violation_class_is_probe(enum violation_class c)
{
    return (unsigned)c >= VIOLATION_STREAM_CLASS_COUNT && (unsigned)c < VIOLATION_CLASS_COUNT;
}
