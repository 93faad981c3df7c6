/* config_settings.h: every setting of every Rectify program, one line each:
 * SETTING(name, type, default, min, max, choices, help). Included by config.h
 * to make the keys (SET_name: a misspelt key does not compile) and by
 * config.c to make the table that --help and validation read. */

SETTING(db, CFG_STRING, "", 0, 0, NULL,
        "libpq connection string; empty uses the PG* environment variables")
SETTING(allow_plain, CFG_BOOL, "false", 0, 0, NULL,
        "loopback development only: no CURVE, every peer unauthenticated, and only loopback "
        "(tcp://127.*, ipc://) endpoints may be bound. Off: every socket is CURVE")
SETTING(keys_dir, CFG_STRING, "var/keys", 0, 0, NULL,
        "the services' certificates (rectifyctl key service): NAME.key_secret of this service, "
        "NAME.key of the others; a client of intake needs only intake.key")
SETTING(key_file, CFG_STRING, "", 0, 0, NULL,
        "the tools' own secret certificate (rectifyctl key new): rectifyctl post and "
        "rectify-bench with a system key, rectify-tail with an on-call key")
SETTING(rate_per_s, CFG_INT, "2000", 1, 1000000, NULL,
        "events a second one system key may post (a token bucket per key); more are answered "
        "RETRY_LATER rate_limited with when to send again")
SETTING(rate_burst, CFG_INT, "4000", 1, 10000000, NULL,
        "events one key may post at once above its rate (the bucket's size)")
SETTING(log_level, CFG_STRING, "info", 0, 0, "debug|info|warn|error",
        "lowest level written to stderr and the log stream")
SETTING(intake_bind, CFG_STRING, "tcp://127.0.0.1:7101", 0, 0, NULL,
        "where intake listens for district and bureau systems (and rectifyctl post)")
SETTING(workflow_bind, CFG_STRING, "tcp://127.0.0.1:7102", 0, 0, NULL,
        "where workflow listens for intake's event batches")
SETTING(notify_bind, CFG_STRING, "tcp://127.0.0.1:7103", 0, 0, NULL,
        "where notification listens for workflow's notice batches")
SETTING(intake_log_pub, CFG_STRING, "tcp://127.0.0.1:7111", 0, 0, NULL,
        "intake's live log stream (ZeroMQ PUB); empty disables it")
SETTING(workflow_log_pub, CFG_STRING, "tcp://127.0.0.1:7112", 0, 0, NULL,
        "workflow's live log stream (ZeroMQ PUB); empty disables it")
SETTING(notify_log_pub, CFG_STRING, "tcp://127.0.0.1:7113", 0, 0, NULL,
        "notification's live log stream (ZeroMQ PUB); empty disables it")
SETTING(open311_log_pub, CFG_STRING, "tcp://127.0.0.1:7114", 0, 0, NULL,
        "the Open311 door's live log stream (ZeroMQ PUB); empty disables it")
SETTING(open311_bind, CFG_STRING, "127.0.0.1:7180", 0, 0, NULL,
        "where the Open311 door (rectify-open311) listens for HTTP, IPv4 HOST:PORT; put TLS "
        "in front of it before it leaves the host (its api_key is a secret key)")
SETTING(caller_salt, CFG_STRING, "", 0, 0, NULL,
        "the Open311 door's secret (16 characters or more) for callers' digests: a caller is "
        "kept as HMAC-SHA256(caller_salt, phone, email, device or account), never in clear")
SETTING(max_message_bytes, CFG_INT, "1048576", 256, 16777216, NULL,
        "largest Envelope intake accepts; larger ones are REJECTED (too_large)")
SETTING(batch_max, CFG_INT, "512", 1, 10000, NULL, "most events committed in one transaction")
SETTING(send_window, CFG_INT, "8192", 1, 1000000, NULL,
        "most unacknowledged outbox rows in flight to the next service")
SETTING(resend_timeout_ms, CFG_INT, "2000", 50, 600000, NULL,
        "re-send what the next service has not acknowledged after this long")
SETTING(poll_interval_ms, CFG_INT, "50", 1, 10000, NULL,
        "how often an idle service looks for outbox rows written by other processes")
SETTING(quarantine_after, CFG_INT, "5", 1, 1000, NULL,
        "an event that keeps failing (not for its data, not for the connection) is quarantined "
        "after this many tries (rectifyctl dead-events, requeue); the pipeline goes on")
SETTING(lease_ms, CFG_INT, "3000", 300, 600000, NULL,
        "the active copy of a service renews its lease every third of this; a standby copy takes "
        "over once it has expired (the active one died or stopped)")
SETTING(drain_timeout_ms, CFG_INT, "3000", 0, 600000, NULL,
        "on SIGTERM, how long to wait for in-flight batches to be acknowledged")
SETTING(sim_clock, CFG_BOOL, "false", 0, 0, NULL,
        "read the current time from the table sim_clock (rectifyctl clock); tests and demos only")
SETTING(timer_interval_ms, CFG_INT, "1000", 10, 3600000, NULL,
        "how often workflow looks for clocks that are due")
SETTING(remind_days, CFG_STRING, "7,3,1", 0, 0, NULL,
        "reminders this many days before a deadline (comma-separated, each 1..365)")
SETTING(escalation_fix_now, CFG_STRING, "1,3,7", 0, 0, NULL,
        "fix-now tasks: days past the deadline for the yellow card, red card, interview")
SETTING(escalation_special_campaign, CFG_STRING, "3,7,14", 0, 0, NULL,
        "special-campaign tasks: days past the deadline for yellow card, red card, interview")
SETTING(escalation_long_term, CFG_STRING, "7,14,30", 0, 0, NULL,
        "long-term tasks: days past the deadline for yellow card, red card, interview")
SETTING(report_interval_days, CFG_INT, "30", 0, 366, NULL,
        "a long-term task owes a progress report this often (0: never); a missed one is overdue")
SETTING(look_back_after_days, CFG_INT, "90", 0, 3660, NULL,
        "a look-back falls due this many days after a write-off (0: none)")
SETTING(repeat_min_orders, CFG_INT, "5", 2, 1000, NULL,
        "a caller or a place with this many work orders enters the repeat-complaint register")
SETTING(repeat_min_days, CFG_INT, "365", 1, 3660, NULL,
        "... as do complaints of one caller or place running longer than this many days")
SETTING(hotline_yellow_percent, CFG_INT, "90", 1, 100, NULL,
        "monthly hotline table: a unit whose worst on-time or satisfaction rate is below this "
        "gets a yellow card")
SETTING(hotline_red_percent, CFG_INT, "80", 0, 100, NULL,
        "... and below this a red card")
SETTING(smtp_url, CFG_STRING, "smtp://127.0.0.1:25", 0, 0, NULL,
        "the SMTP relay mail is sent through (smtp:// or smtps://)")
SETTING(mail_from, CFG_STRING, "rectify@localhost", 0, 0, NULL, "the sender address of mail")
SETTING(delivery_timeout_ms, CFG_INT, "5000", 100, 600000, NULL,
        "a webhook or mail delivery that takes longer has failed (and is tried again)")
SETTING(delivery_max_attempts, CFG_INT, "6", 1, 100, NULL,
        "after this many failed attempts a delivery is a dead letter")
SETTING(retry_base_ms, CFG_INT, "2000", 1, 3600000, NULL,
        "first retry after about this long; each next one waits twice as long (with jitter)")
SETTING(retry_max_ms, CFG_INT, "600000", 1, 86400000, NULL, "the longest wait between attempts")
SETTING(delivery_concurrency, CFG_INT, "32", 1, 1024, NULL,
        "most webhook and mail deliveries in flight at once")
