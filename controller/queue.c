/* SPDX-License-Identifier: MIT */
#include <pthread.h>
#include <time.h>

#include "util/common.h"

#include "controller/queue.h"
#include "util/metrics.h"

typedef struct Key {
        char s[QUEUE_KEY_MAX];
} Key;

typedef struct Delayed {
        Key key;
        usec_t due; /* monotonic */
} Delayed;

typedef struct Backoff {
        Key key;
        unsigned failures;
} Backoff;

/* Small dynamic arrays: berth reconciles hundreds of resources, not millions; linear scans over
 * a few hundred keys cost less than a hash table's bookkeeping here. */
#define VEC(T)                                                                                     \
        struct {                                                                                   \
                T *v;                                                                              \
                size_t n, cap;                                                                     \
        }

struct WorkQueue {
        pthread_mutex_t lock;
        pthread_cond_t cond;
        VEC(Key) fifo;
        VEC(Key) dirty;
        VEC(Key) processing;
        VEC(Delayed) delayed;
        VEC(Backoff) backoff;
        bool shutdown;
};

#define VEC_PUSH(vec, item)                                                                        \
        ({                                                                                         \
                int _r = 0;                                                                        \
                if ((vec).n == (vec).cap) {                                                        \
                        size_t _nc = (vec).cap ? (vec).cap * 2 : 16;                               \
                        void *_p = b_realloc((vec).v, _nc * sizeof(*(vec).v));                     \
                        if (_p) {                                                                  \
                                (vec).v = _p;                                                      \
                                (vec).cap = _nc;                                                   \
                        } else                                                                     \
                                _r = -ENOMEM;                                                      \
                }                                                                                  \
                if (_r == 0)                                                                       \
                        (vec).v[(vec).n++] = (item);                                               \
                _r;                                                                                \
        })

static ssize_t key_find(const Key *v, size_t n, const char *key) {
        for (size_t i = 0; i < n; i++)
                if (streq(v[i].s, key))
                        return (ssize_t) i;
        return -1;
}

static void key_remove_at(Key *v, size_t *n, size_t i) {
        memmove(&v[i], &v[i + 1], (*n - i - 1) * sizeof(Key));
        (*n)--;
}

static Key key_make(const char *s) {
        Key k;
        snprintf(k.s, sizeof(k.s), "%s", s);
        return k;
}

int queue_new(WorkQueue **ret) {
        WorkQueue *q = b_calloc(1, sizeof(WorkQueue));
        pthread_condattr_t ca;

        if (!q)
                return -ENOMEM;
        pthread_mutex_init(&q->lock, NULL);
        pthread_condattr_init(&ca);
        pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
        pthread_cond_init(&q->cond, &ca);
        pthread_condattr_destroy(&ca);
        *ret = q;
        return 0;
}

WorkQueue *queue_free(WorkQueue *q) {
        if (!q)
                return NULL;
        pthread_mutex_destroy(&q->lock);
        pthread_cond_destroy(&q->cond);
        b_free(q->fifo.v);
        b_free(q->dirty.v);
        b_free(q->processing.v);
        b_free(q->delayed.v);
        b_free(q->backoff.v);
        return mfree(q);
}

static void publish_depth(WorkQueue *q) {
        metrics_queue_depth_set((long) q->fifo.n);
}

/* Caller holds the lock. Allocation failure drops the add: the periodic relist re-adds every
 * resource, so a lost trigger only delays a reconcile. */
static void add_locked(WorkQueue *q, const char *key) {
        if (q->shutdown || key_find(q->dirty.v, q->dirty.n, key) >= 0)
                return;
        if (VEC_PUSH(q->dirty, key_make(key)) < 0)
                return;
        if (key_find(q->processing.v, q->processing.n, key) >= 0)
                return;
        if (VEC_PUSH(q->fifo, key_make(key)) < 0) {
                q->dirty.n--;
                return;
        }
        publish_depth(q);
        pthread_cond_signal(&q->cond);
}

void queue_add(WorkQueue *q, const char *key) {
        pthread_mutex_lock(&q->lock);
        add_locked(q, key);
        pthread_mutex_unlock(&q->lock);
}

void queue_add_after(WorkQueue *q, const char *key, usec_t delay) {
        usec_t due = now_monotonic() + delay;
        bool found = false;

        if (delay == 0) {
                queue_add(q, key);
                return;
        }

        pthread_mutex_lock(&q->lock);
        for (size_t i = 0; i < q->delayed.n && !found; i++)
                if (streq(q->delayed.v[i].key.s, key)) {
                        if (due < q->delayed.v[i].due)
                                q->delayed.v[i].due = due;
                        found = true;
                }
        if (!found)
                (void) VEC_PUSH(q->delayed, ((Delayed){.key = key_make(key), .due = due}));
        pthread_cond_broadcast(&q->cond);
        pthread_mutex_unlock(&q->lock);
}

void queue_add_rate_limited(WorkQueue *q, const char *key) {
        usec_t delay = QUEUE_BACKOFF_BASE;
        unsigned failures = 0;

        pthread_mutex_lock(&q->lock);
        for (size_t i = 0; i < q->backoff.n; i++)
                if (streq(q->backoff.v[i].key.s, key)) {
                        failures = ++q->backoff.v[i].failures;
                        break;
                }
        if (failures == 0)
                (void) VEC_PUSH(q->backoff, ((Backoff){.key = key_make(key), .failures = 1}));
        pthread_mutex_unlock(&q->lock);

        for (unsigned i = 1; i < failures && delay < QUEUE_BACKOFF_CAP; i++)
                delay *= 2;
        queue_add_after(q, key, MIN(delay, QUEUE_BACKOFF_CAP));
}

void queue_forget(WorkQueue *q, const char *key) {
        pthread_mutex_lock(&q->lock);
        for (size_t i = 0; i < q->backoff.n; i++)
                if (streq(q->backoff.v[i].key.s, key)) {
                        q->backoff.v[i] = q->backoff.v[--q->backoff.n];
                        break;
                }
        pthread_mutex_unlock(&q->lock);
}

/* Moves due delayed keys to the fifo; returns the earliest remaining due time or 0. */
static usec_t promote_due_locked(WorkQueue *q) {
        usec_t now = now_monotonic(), next = 0;

        for (size_t i = 0; i < q->delayed.n;) {
                Delayed *d = &q->delayed.v[i];
                if (d->due <= now) {
                        Key k = d->key;
                        q->delayed.v[i] = q->delayed.v[--q->delayed.n];
                        add_locked(q, k.s);
                        continue;
                }
                if (next == 0 || d->due < next)
                        next = d->due;
                i++;
        }
        return next;
}

bool queue_get(WorkQueue *q, char ret[QUEUE_KEY_MAX]) {
        pthread_mutex_lock(&q->lock);
        for (;;) {
                usec_t next = promote_due_locked(q);

                if (q->shutdown) {
                        pthread_mutex_unlock(&q->lock);
                        return false;
                }
                if (q->fifo.n > 0)
                        break;
                if (next) {
                        struct timespec ts = {.tv_sec = (time_t) (next / USEC_PER_SEC),
                                              .tv_nsec = (long) (next % USEC_PER_SEC) * 1000};
                        pthread_cond_timedwait(&q->cond, &q->lock, &ts);
                } else
                        pthread_cond_wait(&q->cond, &q->lock);
        }
        Key k = q->fifo.v[0];
        memmove(&q->fifo.v[0], &q->fifo.v[1], (q->fifo.n - 1) * sizeof(Key));
        q->fifo.n--;
        ssize_t d = key_find(q->dirty.v, q->dirty.n, k.s);
        if (d >= 0)
                key_remove_at(q->dirty.v, &q->dirty.n, (size_t) d);
        (void) VEC_PUSH(q->processing, k);
        publish_depth(q);
        pthread_mutex_unlock(&q->lock);
        memcpy(ret, k.s, QUEUE_KEY_MAX);
        return true;
}

void queue_done(WorkQueue *q, const char *key) {
        ssize_t i;

        pthread_mutex_lock(&q->lock);
        i = key_find(q->processing.v, q->processing.n, key);
        if (i >= 0)
                key_remove_at(q->processing.v, &q->processing.n, (size_t) i);
        /* Added again while in flight: hand it out once more. */
        if (key_find(q->dirty.v, q->dirty.n, key) >= 0 && key_find(q->fifo.v, q->fifo.n, key) < 0 &&
            VEC_PUSH(q->fifo, key_make(key)) == 0) {
                publish_depth(q);
                pthread_cond_signal(&q->cond);
        }
        pthread_mutex_unlock(&q->lock);
}

void queue_shutdown(WorkQueue *q) {
        pthread_mutex_lock(&q->lock);
        q->shutdown = true;
        pthread_cond_broadcast(&q->cond);
        pthread_mutex_unlock(&q->lock);
}

long queue_depth(WorkQueue *q) {
        long n;

        pthread_mutex_lock(&q->lock);
        n = (long) q->fifo.n;
        pthread_mutex_unlock(&q->lock);
        return n;
}
