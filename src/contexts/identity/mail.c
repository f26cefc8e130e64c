/* mail.c — the SMTP sender thread (see mail.h). */
#include "mail.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "db.h"
#include "internal.h"
#include "log.h"
#include "repo.h"

#ifdef BZ_HAVE_CURL
#include <curl/curl.h>

static pthread_t sender;
static atomic_bool stopping;
static bool running;
static const config_t *mcfg;

typedef struct upload {
    const char *p;
    size_t left;
} upload_t;

static size_t read_cb(char *dst, size_t size, size_t nmemb, void *arg)
{
    upload_t *u = arg;
    size_t n = size * nmemb < u->left ? size * nmemb : u->left;
    memcpy(dst, u->p, n);
    u->p += n;
    u->left -= n;
    return n;
}

/* message: the RFC 5322 text of m with CRLF line endings (caller frees). */
static char *message(const mail_row_t *m)
{
    char date[64];
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S +0000", &tm);
    size_t cap = strlen(m->body) * 2 + strlen(m->subject) + strlen(m->to) + 512;
    char *out = malloc(cap);
    int k =
        snprintf(out, cap,
                 "Date: %s\r\nFrom: %s\r\nTo: %s\r\nSubject: %s\r\nMessage-ID: <%s@bizosaas>\r\n"
                 "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n",
                 date, mcfg->mail_from, m->to, m->subject, m->id);
    size_t o = (size_t)k;
    for (const char *p = m->body; *p; p++) {
        if (*p == '\n' && (p == m->body || p[-1] != '\r')) out[o++] = '\r';
        out[o++] = *p;
    }
    out[o] = '\0';
    return out;
}

static bool deliver(const mail_row_t *m)
{
    CURL *c = curl_easy_init();
    if (!c) return false;
    char *msg = message(m);
    upload_t u = {msg, strlen(msg)};
    struct curl_slist *rcpt = curl_slist_append(NULL, m->to);
    curl_easy_setopt(c, CURLOPT_URL, mcfg->smtp_url);
    curl_easy_setopt(c, CURLOPT_MAIL_FROM, mcfg->mail_from);
    curl_easy_setopt(c, CURLOPT_MAIL_RCPT, rcpt);
    curl_easy_setopt(c, CURLOPT_READFUNCTION, read_cb);
    curl_easy_setopt(c, CURLOPT_READDATA, &u);
    curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(c, CURLOPT_USE_SSL, (long)CURLUSESSL_TRY);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, 5000L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 10000L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    CURLcode rc = curl_easy_perform(c);
    if (rc != CURLE_OK)
        log_kv(LOG_WARN, "mail delivery failed", "mail_id", m->id, "error", curl_easy_strerror(rc),
               NULL);
    curl_slist_free_all(rcpt);
    curl_easy_cleanup(c);
    free(msg);
    return rc == CURLE_OK;
}

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static void *sender_main(void *arg)
{
    (void)arg;
    db_t *db = NULL;
    int backoff_ms = 0; /* grows while deliveries fail: an SMTP outage is not hammered */
    while (!atomic_load(&stopping)) {
        if (!db) {
            char err[256];
            db_options_t o = {.connect_timeout_ms = 2000};
            if (db_open(mcfg->database_url, &o, &db, err, sizeof err) < 0) {
                db = NULL;
                sleep_ms(1000);
                continue;
            }
        }
        mail_row_t rows[MAIL_BATCH];
        int n = 0;
        int rc = db_begin_platform(db, false);
        if (rc == 0) rc = repo_mail_pending(db, rows, MAIL_BATCH, &n);
        if (rc == 0)
            db_commit(db);
        else
            db_rollback(db);
        bool failed = false;
        for (int i = 0; i < n && !atomic_load(&stopping) && !failed; i++) {
            bool ok = deliver(&rows[i]);
            failed = !ok;
            if (db_begin_platform(db, true) == 0) {
                if (repo_mail_mark(db, &rows[i], ok, idn__now(), MAIL_MAX_ATTEMPTS) == 0)
                    db_commit(db);
                else
                    db_rollback(db);
            }
        }
        repo_mail_free(rows, n);
        backoff_ms = failed ? (backoff_ms ? backoff_ms * 2 : MAIL_POLL_MS * 2) : 0;
        if (backoff_ms > MAIL_BACKOFF_MAX_MS) backoff_ms = MAIL_BACKOFF_MAX_MS;
        /* sleep in short slices so shutdown is prompt */
        int pause = failed ? backoff_ms : n == 0 ? MAIL_POLL_MS : 0;
        for (int waited = 0; waited < pause && !atomic_load(&stopping); waited += 100)
            sleep_ms(100);
    }
    db_close(db);
    return NULL;
}

static void stop_sender(void)
{
    if (!running) return;
    atomic_store(&stopping, true);
    pthread_join(sender, NULL);
    running = false;
    curl_global_cleanup();
}

int mail_sender_start(const config_t *cfg)
{
    if (!cfg->smtp_url || !*cfg->smtp_url || running) return 0;
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != 0) {
        log_error("identity: cannot initialise libcurl for SMTP");
        return -1;
    }
    mcfg = cfg;
    if (pthread_create(&sender, NULL, sender_main, NULL) != 0) {
        log_error("identity: cannot start the mail sender");
        return -1;
    }
    running = true;
    atexit(stop_sender);
    log_info("mail: delivering queued mail over SMTP");
    return 0;
}

#else

int mail_sender_start(const config_t *cfg)
{
    if (!cfg->smtp_url || !*cfg->smtp_url) return 0;
    log_error("BIZOSAAS_SMTP_URL is set but this build has no SMTP support (built without "
              "libcurl); mail would never leave the queue");
    return -1;
}

#endif
