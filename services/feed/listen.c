/*
 * listen.c -- sluice-feed's LISTEN thread: one connection of its own that
 * listens on sluice_feed (payload 'samples' or 'changes', sent by the
 * writers in the transaction that made the rows visible) and
 * sluice_feed_auth (a token, consumer or grant changed).
 *
 * 'samples' / 'changes' wake the long polls parked on that topic; they run
 * their page query again.  sluice_feed_auth flushes the token cache.  When
 * the connection is lost, the thread reconnects (every second until it
 * can), then flushes the token cache and wakes every topic: whatever was
 * notified meanwhile is seen by the queries the wakes cause.  A connection
 * silent for PING_MS is asked a SELECT 1, so that one a network or a
 * server restart dropped without a word is noticed and replaced too.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sl/log.h"
#include "feed.h"

#define LOG "feed"
#define PING_MS 10000

struct fd_listener {
    fd_app *a;
    pthread_t th;
    atomic_int stop;
    char *dsn;
};

static PGconn *listen_connect(fd_listener *l)
{
    sl_err err = { "" };
    PGconn *c = sl_pg_connect(l->dsn, &err);

    if (!c) {
        sl_warn(LOG, "listener: %s", err.msg);
        return NULL;
    }
    if (sl_pg_exec(c, "LISTEN sluice_feed", &err) != SL_OK ||
        sl_pg_exec(c, "LISTEN sluice_feed_auth", &err) != SL_OK) {
        sl_warn(LOG, "listener: %s", err.msg);
        PQfinish(c);
        return NULL;
    }
    return c;
}

static void wake_all(fd_app *a)
{
    fd_auth_flush(a->auth);
    sl_http_server_wake(a->srv, FD_TOPIC_SAMPLES);
    sl_http_server_wake(a->srv, FD_TOPIC_CHANGES);
}

static void *listen_main(void *arg)
{
    fd_listener *l = arg;
    PGconn *c = NULL;
    int64_t heard = 0;

    while (!l->stop) {
        struct pollfd pf;
        PGnotify *n;

        if (!c) {
            if (!(c = listen_connect(l))) {
                for (int i = 0; i < 10 && !l->stop; i++)
                    usleep(100000);
                continue;
            }
            wake_all(l->a);       /* what we may have missed */
            sl_info(LOG, "listening for notifications");
            heard = sl_mono_ms();
        }
        if (sl_mono_ms() - heard > PING_MS) {
            PGresult *r = PQexec(c, "SELECT 1");
            int ok = PQresultStatus(r) == PGRES_TUPLES_OK;
            PQclear(r);
            if (!ok) {
                sl_warn(LOG, "listener: connection lost: %s", PQerrorMessage(c));
                PQfinish(c);
                c = NULL;
                continue;
            }
            heard = sl_mono_ms();
        }
        pf.fd = PQsocket(c);
        pf.events = POLLIN;
        pf.revents = 0;
        if (poll(&pf, 1, 200) < 0 && errno != EINTR)
            break;
        if (!PQconsumeInput(c) || PQstatus(c) != CONNECTION_OK) {
            sl_warn(LOG, "listener: connection lost: %s", PQerrorMessage(c));
            PQfinish(c);
            c = NULL;
            continue;
        }
        if (pf.revents)
            heard = sl_mono_ms();
        while ((n = PQnotifies(c))) {
            if (strcmp(n->relname, "sluice_feed_auth") == 0)
                fd_auth_flush(l->a->auth);
            else if (strcmp(n->extra, "samples") == 0)
                sl_http_server_wake(l->a->srv, FD_TOPIC_SAMPLES);
            else if (strcmp(n->extra, "changes") == 0)
                sl_http_server_wake(l->a->srv, FD_TOPIC_CHANGES);
            PQfreemem(n);
        }
    }
    if (c)
        PQfinish(c);
    return NULL;
}

int fd_listener_start(fd_app *a, fd_listener **out, sl_err *err)
{
    fd_listener *l = calloc(1, sizeof *l);
    const char *dsn = sl_config_get(a->cfg, "pg.dsn");

    *out = NULL;
    if (!l || !(l->dsn = strdup(dsn ? dsn : ""))) {
        free(l);
        sl_err_set(err, "out of memory");
        return SL_ENOMEM;
    }
    l->a = a;
    if (pthread_create(&l->th, NULL, listen_main, l) != 0) {
        free(l->dsn);
        free(l);
        sl_err_set(err, "cannot start the listener thread");
        return SL_ERR;
    }
    *out = l;
    return SL_OK;
}

void fd_listener_stop(fd_listener *l)
{
    if (!l)
        return;
    l->stop = 1;
    pthread_join(l->th, NULL);
    free(l->dsn);
    free(l);
}
