/* SPDX-License-Identifier: MIT */
#include <pthread.h>

#include "util/common.h"

#include "reconcilers/probe-memory.h"

typedef struct Entry {
        char id[72];
        usec_t last_probe;   /* monotonic */
        usec_t last_counted; /* when a streak last moved */
        bool ever_ok;
        ProbeStatus status;
} Entry;

struct ProbeMemory {
        pthread_mutex_t lock;
        Entry *v;
        size_t n;
};

int probe_memory_new(ProbeMemory **ret) {
        ProbeMemory *m = b_calloc(1, sizeof(ProbeMemory));

        if (!m)
                return -ENOMEM;
        m->v = b_calloc(PROBE_MEMORY_MAX, sizeof(Entry));
        if (!m->v) {
                b_free(m);
                return -ENOMEM;
        }
        pthread_mutex_init(&m->lock, NULL);
        *ret = m;
        return 0;
}

ProbeMemory *probe_memory_free(ProbeMemory *m) {
        if (!m)
                return NULL;
        pthread_mutex_destroy(&m->lock);
        b_free(m->v);
        return mfree(m);
}

/* Caller holds the lock. Linear: a few hundred containers per controller. */
static Entry *find(ProbeMemory *m, const char *id) {
        for (size_t i = 0; i < m->n; i++)
                if (streq(m->v[i].id, id))
                        return &m->v[i];
        return NULL;
}

static Entry *find_or_add(ProbeMemory *m, const char *id, usec_t now) {
        Entry *e = find(m, id);

        if (e)
                return e;
        /* Drop entries of containers nobody probed for a while (removed, replaced). */
        for (size_t i = 0; i < m->n;)
                if (now - m->v[i].last_probe > PROBE_MEMORY_TTL)
                        m->v[i] = m->v[--m->n];
                else
                        i++;
        if (m->n == PROBE_MEMORY_MAX)
                return NULL;
        e = &m->v[m->n++];
        *e = (Entry){0};
        snprintf(e->id, sizeof(e->id), "%s", id);
        return e;
}

bool probe_memory_due(ProbeMemory *m, const char *id, usec_t now, usec_t interval,
                      ProbeStatus *ret_last) {
        Entry *e;
        bool due;

        *ret_last = (ProbeStatus){0};
        if (!m)
                return true;
        pthread_mutex_lock(&m->lock);
        e = find(m, id);
        due = !e || !e->ever_ok || e->status.result != PROBE_OK || now - e->last_probe >= interval;
        if (e)
                *ret_last = e->status;
        pthread_mutex_unlock(&m->lock);
        return due;
}

void probe_memory_record(ProbeMemory *m, const char *id, usec_t now, usec_t interval,
                         ProbeResult result, ProbeStatus *ret) {
        Entry *e;
        bool counts;

        if (!m) {
                *ret = (ProbeStatus){.result = result,
                                     .ok_streak = result == PROBE_OK,
                                     .fail_streak = result == PROBE_FAIL};
                return;
        }
        pthread_mutex_lock(&m->lock);
        e = find_or_add(m, id, now);
        if (!e) {
                pthread_mutex_unlock(&m->lock);
                *ret = (ProbeStatus){.result = result,
                                     .ok_streak = result == PROBE_OK,
                                     .fail_streak = result == PROBE_FAIL};
                return;
        }
        /* A change of direction counts at once; a repeat only once per interval, so a pass that
         * runs early (an event, a relist) does not shorten the thresholds. */
        counts = e->last_counted == 0 || e->status.result != result ||
                 now - e->last_counted >= interval;
        if (result == PROBE_OK) {
                e->ever_ok = true;
                e->status.fail_streak = 0;
                if (counts)
                        e->status.ok_streak =
                                e->status.result == PROBE_OK ? e->status.ok_streak + 1 : 1;
        } else {
                e->status.ok_streak = 0;
                /* Until its first success a container is still starting: failures then make it
                 * "not ready", never "replace it" (an unbounded start period). */
                if (counts && e->ever_ok)
                        e->status.fail_streak =
                                e->status.result == PROBE_FAIL ? e->status.fail_streak + 1 : 1;
        }
        if (counts)
                e->last_counted = now;
        e->status.result = result;
        e->last_probe = now;
        *ret = e->status;
        pthread_mutex_unlock(&m->lock);
}
