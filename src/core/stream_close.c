#include "ssemon/core/stream_close.h"

#include <string.h>

const char *stream_close_reason_name(enum stream_close_reason r)
{
    switch (r) {
    case STREAM_CLOSE_EOF:
        return "eof";
    case STREAM_CLOSE_TRANSPORT:
        return "transport";
    case STREAM_CLOSE_HTTP_STATUS:
        return "http_status";
    case STREAM_CLOSE_CONTENT_TYPE:
        return "content_type";
    case STREAM_CLOSE_IDLE_TIMEOUT:
        return "idle_timeout";
    case STREAM_CLOSE_STOPPED:
        return "stopped";
    }
    return "unknown";
}

bool stream_close_reason_parse(const char *name, enum stream_close_reason *out)
{
    for (int r = 0; r < STREAM_CLOSE_REASON_COUNT; r++) {
        if (strcmp(name, stream_close_reason_name((enum stream_close_reason)r)) == 0) {
            *out = (enum stream_close_reason)r;
            return true;
        }
    }
    return false;
}
