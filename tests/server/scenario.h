/* Scenario language of the scripted SSE test server: parser and interpreter.
 *
 * A scenario is compiled once per request into a program; a run executes it
 * for one connection, one action at a time, so the server can wait for a
 * write to drain or a timer between actions. Nothing here touches a socket
 * or the event loop; time and randomness come from the caller, which makes
 * runs reproducible in the self-test. See docs/test-server.md. */
#ifndef SSE_TESTSERVER_SCENARIO_H
#define SSE_TESTSERVER_SCENARIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "request.h"
#include "sbuf.h"

/* Deepest nesting of repeat/if blocks. */
#define SCN_MAX_DEPTH 8
/* Largest scenario file accepted. */
#define SCN_MAX_FILE (1024 * 1024)

struct scn_program;

struct scn_error {
    unsigned er_line; /* 1-based; 0 when the error is not about one line */
    int er_errno;     /* errno when the file could not be read, else 0 */
    char er_msg[256];
};

/* Compiles a scenario. On success returns 0 and *out receives a program the
 * caller frees with scn_program_free(); on failure returns -1 and fills err. */
int scn_parse(const char *src, size_t len, struct scn_program **out, struct scn_error *err);
/* scn_parse() on the contents of a file. */
int scn_load(const char *path, struct scn_program **out, struct scn_error *err);
void scn_program_free(struct scn_program *prog);

struct scn_run_params {
    const struct scn_program *rp_prog; /* borrowed; must outlive the run */
    const struct req_request *rp_req;  /* borrowed; must outlive the run */
    const char *rp_dir;                /* borrowed; base of relative sendfile paths */
    const char *rp_file;               /* borrowed; file name used in error messages */
    unsigned long rp_conn;             /* value of {conn} */
    uint64_t rp_seed;                  /* seed of {uuid} */
};

enum scn_action {
    SCN_ACT_WRITE, /* send the bytes in out, then call again once they left */
    SCN_ACT_SLEEP, /* wait *ms milliseconds (0: just yield to the loop), then call again */
    SCN_ACT_LOG,   /* print out (a text line without '\n'), then call again */
    SCN_ACT_CLOSE, /* end the response gracefully; the run is over */
    SCN_ACT_RESET, /* abort the connection with a RST; the run is over */
    SCN_ACT_HANG,  /* send nothing more, keep the connection; the run is over */
    SCN_ACT_FAIL,  /* runtime error, message "FILE:LINE: text" in out; the run is over */
};

struct scn_run;

/* Returns NULL when memory runs out. Free with scn_run_free(). */
struct scn_run *scn_run_new(const struct scn_run_params *params);
void scn_run_free(struct scn_run *run);

/* Executes statements until the next action. now is the wall-clock time used
 * by {now}. out is cleared first. Once a final action (close, reset, hang or
 * fail) was returned, further calls return SCN_ACT_CLOSE. */
enum scn_action scn_run_step(struct scn_run *run, const struct timespec *now, struct sbuf *out,
                             uint64_t *ms);

/* True once the run has produced bytes for the client or decided to send
 * no automatic head (a leading raw or hang): a failure can then no longer be
 * reported as a 500 response. */
bool scn_run_head_done(const struct scn_run *run);

/* Standard reason phrase of an HTTP status code, "" when unknown. */
const char *scn_status_reason(unsigned long code);

/* Formats v the way Python's repr(float) does ("0.3333333333333333", "1.0",
 * "1e-05"). Returns the length, or -1 if buf is too small (32 bytes is
 * always enough). */
int scn_format_float(double v, char *buf, size_t size);

/* Formats ts as Python's datetime.now(timezone.utc).isoformat() does
 * ("2025-11-19T21:00:00.123456+00:00"; no fraction when the microseconds are
 * zero). Returns the length, or -1 if buf is too small (40 is enough). */
int scn_format_isotime(const struct timespec *ts, char *buf, size_t size);

#endif
