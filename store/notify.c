/* SPDX-License-Identifier: MIT */
#include <limits.h>
#include <poll.h>

#include <libpq-fe.h>

#include "util/common.h"

#define LOG_MODULE "store"
#include "util/log.h"
#include "store/store-internal.h"
#include "store/store.h"

/* Channels are identifiers we choose ("berth_spec"): lowercase, digits and '_' need no quoting. */
static bool channel_is_valid(const char *c) {
        size_t n = c ? strlen(c) : 0;

        if (n == 0 || n > 63)
                return false;
        for (size_t i = 0; i < n; i++)
                if (!((c[i] >= 'a' && c[i] <= 'z') || (c[i] >= '0' && c[i] <= '9') || c[i] == '_'))
                        return false;
        return !(c[0] >= '0' && c[0] <= '9');
}

int store_listen(Store *s, const char *channel, Error *reterr) {
        char sql[80];
        int r;

        assert_return(s, -EINVAL);
        assert_return(channel_is_valid(channel), -EINVAL);

        snprintf(sql, sizeof(sql), "LISTEN %s", channel);
        r = store_query(s, sql, 0, NULL, STORE_Q_RETRY, NULL, reterr);
        if (r < 0)
                return r;
        s->listening = true;
        log_debug("listening on %s", channel);
        return 0;
}

/* The session is gone and with it every LISTEN: reconnect now (best effort) and tell the caller,
 * who listens again and relists, since notifications sent meanwhile are lost. */
static int notify_lost(Store *s, Error *reterr) {
        if (store_reconnect(s, NULL) < 0)
                log_debug("reconnect failed; the next call tries again");
        s->listen_lost = false;
        return err_set(reterr, -ECONNRESET, NULL,
                       "state store connection lost: LISTEN again and relist");
}

static int notify_take(PGnotify *n, char **ret_channel, char **ret_payload, Error *reterr) {
        _cleanup_free_ char *channel = NULL, *payload = NULL;

        if (ret_channel) {
                channel = b_strdup(n->relname);
                if (!channel)
                        return err_set(reterr, -ENOMEM, NULL, "out of memory");
        }
        if (ret_payload) {
                payload = b_strdup(strempty(n->extra));
                if (!payload)
                        return err_set(reterr, -ENOMEM, NULL, "out of memory");
        }
        if (ret_channel)
                *ret_channel = TAKE_PTR(channel);
        if (ret_payload)
                *ret_payload = TAKE_PTR(payload);
        return 1;
}

int store_notify_wait(Store *s, usec_t timeout, char **ret_channel, char **ret_payload,
                      Error *reterr) {
        usec_t deadline;

        assert_return(s, -EINVAL);

        if (s->listen_lost) {
                s->listen_lost = false;
                return err_set(reterr, -ECONNRESET, NULL,
                               "state store reconnected: LISTEN again and relist");
        }

        deadline = timeout == USEC_INFINITY ? USEC_INFINITY : now_monotonic() + timeout;
        for (;;) {
                struct pollfd pfd;
                PGnotify *n;
                usec_t now;
                int ms, r;

                if (PQstatus(s->conn) != CONNECTION_OK || !PQconsumeInput(s->conn))
                        return notify_lost(s, reterr);
                n = PQnotifies(s->conn);
                if (n) {
                        r = notify_take(n, ret_channel, ret_payload, reterr);
                        PQfreemem(n);
                        return r;
                }

                if (deadline == USEC_INFINITY)
                        ms = -1;
                else {
                        now = now_monotonic();
                        if (now >= deadline)
                                return 0;
                        ms = (int) MIN((deadline - now + USEC_PER_MSEC - 1) / USEC_PER_MSEC,
                                       (usec_t) INT_MAX);
                }
                pfd = (struct pollfd){.fd = PQsocket(s->conn), .events = POLLIN};
                if (pfd.fd < 0)
                        return notify_lost(s, reterr);
                r = poll(&pfd, 1, ms);
                if (r < 0 && errno != EINTR)
                        return err_set(reterr, -errno, NULL, "poll: %m");
        }
}
