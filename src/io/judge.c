/*
 * A validator and its clock. Every call into the validator is followed by
 * judge_after (by judge_rearm alone after a close): the final state is
 * noted, and (live) the timer follows the validator's next deadline, so
 * time rules fire on time whether or not bytes arrive.
 *
 * The timer runs ahead of sockets, so a deadline is judged before bytes
 * that arrived after it. But when it fires much later than due, the loop
 * was held (a reload compiling contracts, a stopped process) and no byte
 * could be read meanwhile: the validator is told that time was not
 * observed (validator_pause) instead of being asked to judge it, and the
 * judgement is left to a second timer at the sockets' priority, which
 * libevent runs after the sockets that were ready by then, so the bytes
 * that waited are read first.
 */
#include "ssemon/io/judge.h"
#include "ssemon/base/clock.h"
#include "ssemon/io/deadline.h"

#include <errno.h>
#include <event2/event.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Deadlines fired by one judge_advance: each rule fires at most once per
 * re-arming, so a handful suffices; the cap only bounds a bug. */
#define JUDGE_MAX_TICKS 64
/* Room for a close's message: 200 bytes of content type, or a transport
 * error (a recording's may be long; the validator bounds it again). */
#define JUDGE_MSG_MAX 640
/* A timer firing this much later than due means the loop was held. A
 * healthy loop, even a busy one, is late by a few milliseconds. */
#define JUDGE_STALL_MS 100

struct judge {
    struct validator *j_val;
    struct judge_callbacks j_cb;
    void *j_ctx;
    bool j_live; /* j_timer is initialised */
    struct deadline j_timer;
    uint64_t j_armed_at; /* when j_timer fires; VALIDATOR_NO_DEADLINE: not armed */
    /* After a stall: judges once the sockets have been read (armed: j_timer
     * is left alone until it has run). */
    struct deadline j_after_stall;
    bool j_stall_look;
    uint64_t (*j_clock)(void);
    struct sse_parser *j_parser; /* judge_feed's, made on first use */
    uint64_t j_feed_ms;          /* the time of the bytes being fed */
    bool j_open;                 /* the current connection reached its stream */
    bool j_final_seen;           /* ... and a final state */
    uint64_t j_final_ms;         /* ... first at this time */
};

static void judge_on_violation(void *ctx, const struct violation *v)
{
    struct judge *j = ctx;
    if (j->j_cb.jc_on_violation != NULL)
        j->j_cb.jc_on_violation(j->j_ctx, v);
}

/* Most events push the validator's deadline later (a heartbeat restarts
 * the window): the armed timer is then left alone and fires early, and the
 * tick re-arms it for the real deadline. So the timer is touched about once
 * per window, not once per event. */
static void judge_rearm(struct judge *j)
{
    if (!j->j_live || j->j_stall_look)
        return;
    uint64_t next = validator_next_deadline(j->j_val);
    if (next == VALIDATOR_NO_DEADLINE) {
        if (j->j_armed_at != VALIDATOR_NO_DEADLINE) {
            deadline_cancel(&j->j_timer);
            j->j_armed_at = VALIDATOR_NO_DEADLINE;
        }
        return;
    }
    if (j->j_armed_at != VALIDATOR_NO_DEADLINE && j->j_armed_at <= next)
        return;
    uint64_t now = j->j_clock();
    if (deadline_arm(&j->j_timer, next > now ? next - now : 0) == 0)
        j->j_armed_at = next > now ? next : now;
    else if (j->j_cb.jc_on_timer_error != NULL)
        j->j_cb.jc_on_timer_error(j->j_ctx);
}

static void judge_after(struct judge *j, uint64_t now_ms)
{
    if (j->j_open && !j->j_final_seen && validator_in_final_state(j->j_val)) {
        j->j_final_seen = true;
        j->j_final_ms = now_ms;
    }
    judge_rearm(j);
}

static void judge_on_timer(void *ctx)
{
    struct judge *j = ctx;
    uint64_t now = j->j_clock();
    uint64_t due = j->j_armed_at;
    j->j_armed_at = VALIDATOR_NO_DEADLINE;
    if (now > due && now - due > JUDGE_STALL_MS) {
        /* The loop last looked before `due`: from then on, nothing was
         * observed. */
        validator_pause(j->j_val, due - 1, now);
        if (deadline_arm(&j->j_after_stall, 0) == 0) {
            j->j_stall_look = true;
            return;
        }
        /* No second timer: judge now, as without a stall. */
    }
    validator_tick(j->j_val, now);
    judge_after(j, now);
}

/* The loop has read what was ready after the stall: judge now. */
static void judge_on_after_stall(void *ctx)
{
    struct judge *j = ctx;
    uint64_t now = j->j_clock();
    j->j_stall_look = false;
    validator_tick(j->j_val, now);
    judge_after(j, now);
}

struct judge *judge_new(const struct judge_options *o, const struct judge_callbacks *cb, void *ctx)
{
    struct judge *j = calloc(1, sizeof(*j));
    if (j == NULL)
        return NULL;
    if (cb != NULL)
        j->j_cb = *cb;
    j->j_ctx = ctx;
    j->j_clock = o->jo_clock != NULL ? o->jo_clock : clock_mono_ms;
    j->j_armed_at = VALIDATOR_NO_DEADLINE;
    if (o->jo_base != NULL) {
        j->j_live = true;
        /* Both initialised before either can fail: judge_free releases both. */
        int rt = deadline_init(&j->j_timer, o->jo_base, judge_on_timer, j);
        int ra = deadline_init(&j->j_after_stall, o->jo_base, judge_on_after_stall, j);
        if (rt != 0 || ra != 0)
            goto fail;
        if (event_base_get_npriorities(o->jo_base) > 1)
            deadline_prioritize(&j->j_timer);
    }
    j->j_val = validator_new(o->jo_contract, &o->jo_val, judge_on_violation, j);
    if (j->j_val == NULL)
        goto fail;
    return j;
fail:
    judge_free(j);
    errno = ENOMEM;
    return NULL;
}

void judge_free(struct judge *j)
{
    if (j == NULL)
        return;
    if (j->j_live) {
        deadline_release(&j->j_timer);
        deadline_release(&j->j_after_stall);
    }
    validator_free(j->j_val);
    sse_parser_free(j->j_parser);
    free(j);
}

/* ---- a stream opens ---- */

static void judge_open_with(struct judge *j, uint64_t now_ms, long status,
                            const struct validator_header *vh, size_t n)
{
    j->j_open = true;
    j->j_final_seen = false;
    validator_open(j->j_val, now_ms, status > INT_MAX ? INT_MAX : (int)status, vh, n);
    judge_after(j, now_ms);
}

/* The transport's (pointer, length) pairs as C strings: the array and its
 * strings in one allocation, so one free() releases them. */
static struct validator_header *judge_headers_from_sub(const struct sub_header *h, size_t n)
{
    size_t head = n * sizeof(struct validator_header);
    size_t bytes = 0;
    for (size_t i = 0; i < n; i++)
        bytes += h[i].sh_name_len + h[i].sh_value_len + 2;
    char *block = malloc(head + bytes);
    if (block == NULL)
        return NULL;
    struct validator_header *vh = (struct validator_header *)(void *)block;
    char *p = block + head;
    for (size_t i = 0; i < n; i++) {
        vh[i].vh_name = p;
        memcpy(p, h[i].sh_name, h[i].sh_name_len);
        p += h[i].sh_name_len;
        *p++ = '\0';
        vh[i].vh_value = p;
        memcpy(p, h[i].sh_value, h[i].sh_value_len);
        p += h[i].sh_value_len;
        *p++ = '\0';
    }
    return vh;
}

int judge_open(struct judge *j, uint64_t now_ms, long status, const struct sub_header *h, size_t n)
{
    struct validator_header *vh = NULL;
    if (n > 0 && (vh = judge_headers_from_sub(h, n)) == NULL)
        return -1;
    judge_open_with(j, now_ms, status, vh, n);
    free(vh);
    return 0;
}

int judge_open_recorded(struct judge *j, uint64_t now_ms, long status,
                        const struct recording_field *f, size_t n)
{
    /* Decoded fields are C strings already: only the array is new. */
    struct validator_header *vh = NULL;
    if (n > 0 && (vh = calloc(n, sizeof(*vh))) == NULL)
        return -1;
    for (size_t i = 0; i < n; i++) {
        vh[i].vh_name = f[i].rf_name;
        vh[i].vh_value = f[i].rf_value;
    }
    judge_open_with(j, now_ms, status, vh, n);
    free(vh);
    return 0;
}

void judge_begin(struct judge *j, uint64_t now_ms)
{
    j->j_open = true;
    j->j_final_seen = false;
    validator_begin(j->j_val, now_ms);
    judge_after(j, now_ms);
}

/* ---- the stream's content and time ---- */

static void judge_parsed_event(void *ctx, const struct sse_event *ev)
{
    struct judge *j = ctx;
    judge_event(j, j->j_feed_ms, ev);
}

static void judge_parsed_comment(void *ctx, const char *text, size_t len)
{
    struct judge *j = ctx;
    judge_comment(j, j->j_feed_ms, text, len);
}

static void judge_parsed_anomaly(void *ctx, enum sse_anomaly kind, const char *line, size_t len)
{
    struct judge *j = ctx;
    judge_anomaly(j, j->j_feed_ms, kind, line, len);
}

int judge_feed(struct judge *j, uint64_t now_ms, const void *buf, size_t len)
{
    static const struct sse_parser_callbacks cbs = {
        .on_event = judge_parsed_event,
        .on_comment = judge_parsed_comment,
        .on_anomaly = judge_parsed_anomaly,
    };
    if (j->j_parser == NULL && (j->j_parser = sse_parser_new(NULL, &cbs, j)) == NULL)
        return -1;
    j->j_feed_ms = now_ms;
    return sse_parser_feed(j->j_parser, buf, len);
}

void judge_event(struct judge *j, uint64_t now_ms, const struct sse_event *ev)
{
    validator_event(j->j_val, now_ms, ev);
    judge_after(j, now_ms);
}

void judge_comment(struct judge *j, uint64_t now_ms, const char *text, size_t len)
{
    validator_comment(j->j_val, now_ms, text, len);
    judge_after(j, now_ms);
}

void judge_anomaly(struct judge *j, uint64_t now_ms, enum sse_anomaly kind, const char *line,
                   size_t len)
{
    validator_anomaly(j->j_val, now_ms, kind, line, len);
    judge_after(j, now_ms);
}

void judge_tick(struct judge *j, uint64_t now_ms)
{
    validator_tick(j->j_val, now_ms);
    judge_after(j, now_ms);
}

void judge_advance(struct judge *j, uint64_t until_ms)
{
    uint64_t last = 0;
    for (int i = 0; i < JUDGE_MAX_TICKS; i++) {
        uint64_t d = validator_next_deadline(j->j_val);
        if (d == VALIDATOR_NO_DEADLINE || d > until_ms || (i > 0 && d <= last))
            return;
        last = d;
        judge_tick(j, d);
    }
}

void judge_disarm(struct judge *j)
{
    if (!j->j_live)
        return;
    deadline_cancel(&j->j_timer);
    deadline_cancel(&j->j_after_stall);
    j->j_armed_at = VALIDATOR_NO_DEADLINE;
    j->j_stall_look = false;
}

int judge_set_vars(struct judge *j, const struct validator_var *vars, size_t n)
{
    return validator_set_vars(j->j_val, vars, n);
}

/* ---- a connection ends ---- */

void judge_connect_failed(struct judge *j, uint64_t now_ms, const char *message)
{
    validator_connect_failed(j->j_val, now_ms, VIOLATION_CONNECT_FAILED, message);
    j->j_open = false;
    j->j_final_seen = false;
    judge_rearm(j);
}

const char *judge_close_detail(const struct sub_closed_info *info)
{
    return info->scl_error != NULL && info->scl_error[0] != '\0'
               ? info->scl_error
               : stream_close_reason_name(info->scl_reason);
}

/* A connection that failed before its stream: its class, and the wording
 * the daemon's journal and a check's output share. */
static enum violation_class judge_close_class(const struct sub_closed_info *info, char *msg,
                                              size_t msg_size)
{
    const char *err = info->scl_error != NULL ? info->scl_error : "";
    switch (info->scl_reason) {
    case STREAM_CLOSE_HTTP_STATUS:
        if (err[0] != '\0')
            snprintf(msg, msg_size, "HTTP status %ld: %s", info->scl_status, err);
        else
            snprintf(msg, msg_size, "HTTP status %ld, expected 200", info->scl_status);
        return VIOLATION_HTTP_STATUS;
    case STREAM_CLOSE_CONTENT_TYPE:
        snprintf(msg, msg_size, "content type \"%.200s\", expected text/event-stream",
                 info->scl_content_type != NULL ? info->scl_content_type : "");
        return VIOLATION_CONTENT_TYPE;
    default:
        snprintf(msg, msg_size, "connection failed: %s", judge_close_detail(info));
        return VIOLATION_CONNECT_FAILED;
    }
}

enum judge_end judge_close(struct judge *j, uint64_t now_ms, const struct sub_closed_info *info,
                           const char *stop_message)
{
    bool stopped = info->scl_reason == STREAM_CLOSE_STOPPED;
    enum judge_end end = JUDGE_END_STOPPED;
    if (j->j_open) {
        if (j->j_parser != NULL)
            sse_parser_end(j->j_parser);
        if (!stopped) {
            bool eof = info->scl_reason == STREAM_CLOSE_EOF;
            end = eof && validator_in_final_state(j->j_val) ? JUDGE_END_FINAL : JUDGE_END_LOST;
            validator_end(j->j_val, now_ms, eof ? NULL : judge_close_detail(info));
        }
    } else if (!stopped) {
        /* Reported alone: the validator never adds stream_ended to it. */
        char msg[JUDGE_MSG_MAX];
        enum violation_class cls = judge_close_class(info, msg, sizeof(msg));
        validator_connect_failed(j->j_val, now_ms, cls, msg);
        end = JUDGE_END_UNOPENED;
    } else if (stop_message != NULL) {
        validator_connect_failed(j->j_val, now_ms, VIOLATION_CONNECT_FAILED, stop_message);
    }
    j->j_open = false;
    j->j_final_seen = false;
    judge_rearm(j);
    return end;
}

/* ---- facts ---- */

bool judge_is_open(const struct judge *j)
{
    return j->j_open;
}

bool judge_final_reached(const struct judge *j, uint64_t *at_ms)
{
    if (j->j_final_seen && at_ms != NULL)
        *at_ms = j->j_final_ms;
    return j->j_final_seen;
}

const struct validator *judge_validator(const struct judge *j)
{
    return j->j_val;
}
