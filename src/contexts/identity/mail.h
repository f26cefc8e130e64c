/* mail.h — delivery of the mail queued in mail_outbox.
 *
 * Mail is written to mail_outbox in the transaction of the change that
 * sends it (sign-up, reset, invitation), so a rolled-back request sends
 * nothing and a committed one is never lost. With BIZOSAAS_SMTP_URL set a
 * sender thread delivers pending rows through libcurl's SMTP client
 * (smtp:// with STARTTLS when offered, smtps://), at least once, retrying
 * with a growing pause up to MAIL_MAX_ATTEMPTS times before marking a row
 * failed; it uses its own
 * database connection in platform scope. Without it, mail stays queued and
 * is readable at the development mailbox when BIZOSAAS_ENV=development.
 *
 * SMTP needs a build with libcurl (compiled with BZ_HAVE_CURL and linked
 * with libcurl); a build without it refuses to start when BIZOSAAS_SMTP_URL
 * is set rather than silently never delivering mail. */
#ifndef BZ_IDENTITY_MAIL_H
#define BZ_IDENTITY_MAIL_H

#include "config.h"

#define MAIL_MAX_ATTEMPTS 8
#define MAIL_POLL_MS 500
/* After a failed delivery the sender waits 1 s, doubling per failure up to
 * this, so 8 attempts span a few minutes of SMTP outage. */
#define MAIL_BACKOFF_MAX_MS 60000
#define MAIL_BATCH 20

/* mail_sender_start: starts the sender when cfg->smtp_url is set (a no-op
 * otherwise). Returns 0, or -1 (logged) when SMTP is configured but cannot
 * run. The thread is stopped and joined at process exit. */
int mail_sender_start(const config_t *cfg);

#endif
