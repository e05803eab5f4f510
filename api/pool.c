/* SPDX-License-Identifier: MIT */
#include <pthread.h>
#include <time.h>

#include "util/common.h"

#define LOG_MODULE "api"
#include "util/log.h"

#include "api/api.h"

/* A fixed-size pool of Store connections. Idle ones sit on a stack; `total` counts every
 * connection that exists or is being opened, so at most `size` ever exist. Opening and pinging
 * happen outside the lock. */
struct ApiPool {
        pthread_mutex_t lock;
        pthread_cond_t cond; /* CLOCK_MONOTONIC */
        char *conninfo;
        Store **idle;
        int n_idle;
        int total;
        int size;
};

int api_pool_new(const char *conninfo, int size, ApiPool **ret, Error *reterr) {
        _cleanup_free_ ApiPool *p = NULL;
        pthread_condattr_t attr;
        int r;

        assert_return(conninfo, -EINVAL);
        assert_return(ret, -EINVAL);

        if (size <= 0)
                size = 4;
        p = b_calloc(1, sizeof(*p));
        if (!p)
                return err_set(reterr, -ENOMEM, NULL, "out of memory");
        p->conninfo = b_strdup(conninfo);
        p->idle = b_calloc((size_t) size, sizeof(Store *));
        if (!p->conninfo || !p->idle) {
                b_free(p->conninfo);
                b_free(p->idle);
                return err_set(reterr, -ENOMEM, NULL, "out of memory");
        }
        p->size = size;

        r = pthread_condattr_init(&attr);
        if (r == 0) {
                r = pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
                if (r == 0)
                        r = pthread_cond_init(&p->cond, &attr);
                pthread_condattr_destroy(&attr);
        }
        if (r != 0) {
                b_free(p->conninfo);
                b_free(p->idle);
                return err_set(reterr, -r, NULL, "store pool: cannot initialise condition");
        }
        pthread_mutex_init(&p->lock, NULL);

        *ret = TAKE_PTR(p);
        return 0;
}

ApiPool *api_pool_free(ApiPool *p) {
        if (!p)
                return NULL;
        if (p->total != p->n_idle)
                log_error("store pool freed with %d connection(s) checked out",
                          p->total - p->n_idle);
        for (int i = 0; i < p->n_idle; i++)
                store_free(p->idle[i]);
        pthread_cond_destroy(&p->cond);
        pthread_mutex_destroy(&p->lock);
        b_free(p->idle);
        b_free(p->conninfo);
        return mfree(p);
}

static void deadline_add(struct timespec *ts, usec_t timeout) {
        clock_gettime(CLOCK_MONOTONIC, ts);
        ts->tv_sec += (time_t) (timeout / USEC_PER_SEC);
        ts->tv_nsec += (long) (timeout % USEC_PER_SEC) * 1000;
        if (ts->tv_nsec >= 1000000000L) {
                ts->tv_sec++;
                ts->tv_nsec -= 1000000000L;
        }
}

/* Takes an idle connection (*ret set) or a slot to open one (*ret NULL). */
static int pool_reserve(ApiPool *p, usec_t timeout, Store **ret) {
        struct timespec deadline;

        deadline_add(&deadline, timeout);
        pthread_mutex_lock(&p->lock);
        while (p->n_idle == 0 && p->total >= p->size) {
                int r = pthread_cond_timedwait(&p->cond, &p->lock, &deadline);
                if (r == ETIMEDOUT && p->n_idle == 0 && p->total >= p->size) {
                        pthread_mutex_unlock(&p->lock);
                        return -ETIMEDOUT;
                }
        }
        if (p->n_idle > 0)
                *ret = p->idle[--p->n_idle];
        else {
                p->total++;
                *ret = NULL;
        }
        pthread_mutex_unlock(&p->lock);
        return 0;
}

static void pool_unreserve(ApiPool *p) {
        pthread_mutex_lock(&p->lock);
        p->total--;
        pthread_cond_signal(&p->cond);
        pthread_mutex_unlock(&p->lock);
}

/* Messages say which peer failed; the store's own usually do already. */
static int store_context(Error *e, int r) {
        if (e && !strneq(e->msg, "state store", STRLEN("state store")))
                return err_prefix(e, "state store");
        return r;
}

int api_pool_get(ApiPool *p, usec_t timeout, Store **ret, Error *reterr) {
        Store *s = NULL;
        int r;

        assert_return(p, -EINVAL);
        assert_return(ret, -EINVAL);

        r = pool_reserve(p, timeout, &s);
        if (r < 0)
                return err_set(reterr, r, NULL, "state store: all %d connections are busy",
                               p->size);

        if (!s) {
                r = store_open(p->conninfo, &s, reterr);
                if (r < 0) {
                        pool_unreserve(p);
                        return store_context(reterr, r);
                }
        } else {
                /* Reconnects once if the server went away since the last use. */
                r = store_ping(s, reterr);
                if (r < 0) {
                        api_pool_put(p, s); /* kept: the next ping reconnects again */
                        return store_context(reterr, r);
                }
        }
        *ret = s;
        return 0;
}

void api_pool_put(ApiPool *p, Store *s) {
        if (!p || !s)
                return;
        pthread_mutex_lock(&p->lock);
        assert(p->n_idle < p->size);
        p->idle[p->n_idle++] = s;
        pthread_cond_signal(&p->cond);
        pthread_mutex_unlock(&p->lock);
}

void pool_lease_release(PoolLease *l) {
        if (!l)
                return;
        api_pool_put(l->pool, l->store);
        l->store = NULL;
}
