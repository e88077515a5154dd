/*
 * journal_ids: the fixed journald MESSAGE_IDs of ssemon's entries that are
 * not violations (violations have one id per class: violation_message_id).
 * systemd/ssemon.catalog explains each one for `journalctl -x`. Never change
 * an id: users filter on them (`journalctl MESSAGE_ID=...`).
 */
#ifndef SSEMON_JOURNAL_IDS_H
#define SSEMON_JOURNAL_IDS_H

/* The daemon started and is ready */
#define JOURNAL_ID_STARTED "7721837a7c1e4167bd67ad1952d72995"
/* The daemon is stopping */
#define JOURNAL_ID_STOPPING "9226b9f559014aa8a4ee4513a4232b33"
/* The configuration was reloaded */
#define JOURNAL_ID_RELOADED "19fcb9e6347e4de8a0c6d27a6fbe03bf"
/* A new configuration was refused; the running one stays */
#define JOURNAL_ID_RELOAD_REFUSED "4a92ba2afa454226bc78f0038c2e8ed6"
/* A subscription's first stream opened */
#define JOURNAL_ID_CONNECTED "0ec47ded1b134415834464742392fa1d"
/* A streaming subscription lost its stream */
#define JOURNAL_ID_LOST "a9dab5f8ab204e56bcc1a7bd041ced9b"
/* A subscription's stream opened again after failures */
#define JOURNAL_ID_RECOVERED "0802a3edba0c46e18e19f1d6936251b7"
/* Entries were suppressed by flood control */
#define JOURNAL_ID_SUPPRESSED "d7d416f3d87f4c23ab417eddea21db6b"
/* A probe's violation entries were suppressed by flood control */
#define JOURNAL_ID_PROBE_SUPPRESSED "51e50615b2dd466a962713c867eb6bf9"
/* "Stream lost" or "recovered" entries were suppressed by flood control */
#define JOURNAL_ID_LIFECYCLE_SUPPRESSED "e49ffa42300c4fb1b41cda14829700f6"
/* journald does not take the daemon's records: they go to stderr (this
 * entry itself is written there) */
#define JOURNAL_ID_JOURNAL_UNREACHABLE "41d05775d33846b7a36ddccd0499d4da"
/* journald takes the daemon's records again after being unreachable */
#define JOURNAL_ID_JOURNAL_RESTORED "5a592e54d9f74e21a77ac885e1717138"
/* the status endpoint listens beyond loopback without TLS or authentication
 * (at start and after a reload that changes it) */
#define JOURNAL_ID_STATUS_EXPOSED "09f2896494e84188a5786d95c42d222f"

#endif
