/* SPDX-License-Identifier: MIT */
#define LOG_MODULE "controller"
#include <openssl/rand.h>
#include <pthread.h>
#include <stdatomic.h>
#include <time.h>

#include "util/common.h"
#include "util/log.h"

#include "controller/controller.h"
#include "controller/queue.h"
#include "reconcilers/probe-memory.h"
#include "reconcilers/reconciler.h"
#include "store/secret-box.h"
#include "store/store.h"
#include "util/metrics.h"

#define LEASE_POLL    (1 * USEC_PER_SEC)
#define TRIGGER_RETRY (1 * USEC_PER_SEC)
#define MAX_WORKERS   32

struct Controller {
        ControllerConfig cfg;
        WorkQueue *queue;
        atomic_bool stopping;
        volatile bool stop_flag; /* the same, for the Docker events stream's progress check */
        atomic_bool leading;
        atomic_llong epoch;
        pthread_t lease_thread, notify_thread, events_thread, relist_thread;
        pthread_t workers[MAX_WORKERS];
        int n_workers;
        /* Wakes the lease and relist loops early (stop, or a relist asked for). */
        pthread_mutex_t lock;
        pthread_cond_t wake;
        bool relist_now;
        char installation[37];        /* the store's id, read once at start */
        pthread_mutex_t network_lock; /* see ReconcileCtx.network_lock */
        ProbeMemory *probes;
        SecretBox *secrets;
};

/* Sleeps on the controller's condvar: returns early on stop or wake. */
static void ctl_wait(Controller *c, usec_t usec) {
        usec_t due = now_monotonic() + usec;
        struct timespec ts = {.tv_sec = (time_t) (due / USEC_PER_SEC),
                              .tv_nsec = (long) (due % USEC_PER_SEC) * 1000};

        pthread_mutex_lock(&c->lock);
        if (!atomic_load(&c->stopping) && !c->relist_now)
                pthread_cond_timedwait(&c->wake, &c->lock, &ts);
        pthread_mutex_unlock(&c->lock);
}

static void ctl_request_relist(Controller *c) {
        pthread_mutex_lock(&c->lock);
        c->relist_now = true;
        pthread_cond_broadcast(&c->wake);
        pthread_mutex_unlock(&c->lock);
}

static int open_store(Controller *c, Store **ret) {
        Error err = ERROR_INIT;
        int r = store_open(c->cfg.conninfo, ret, &err);

        if (r < 0)
                log_warn("state store: %s", err.msg);
        return r;
}

/* ---- lease: one dedicated session holds the advisory lock while this controller leads ---- */

/* Operations a stopped controller left IN_PROGRESS end FAILED: nobody else will end them. */
static void close_interrupted(Store *s) {
        Error err = ERROR_INIT;
        int n = 0;

        if (store_operations_interrupted(s, &n, &err) < 0)
                log_warn("cannot close interrupted operations: %s", err.msg);
        else if (n > 0)
                log_info("%d operation%s interrupted by a stop marked FAILED", n,
                         n == 1 ? "" : "s");
}

static void *lease_main(void *userdata) {
        Controller *c = userdata;
        _cleanup_(store_freep) Store *s = NULL;

        while (!atomic_load(&c->stopping)) {
                Error err = ERROR_INIT;
                int64_t epoch = 0;
                int r;

                if (!s && open_store(c, &s) < 0) {
                        ctl_wait(c, LEASE_POLL);
                        continue;
                }
                r = store_lease_acquire(s, c->cfg.holder, &epoch, &err);
                if (r < 0 || (r >= 0 && store_ping(s, &err) < 0)) {
                        /* The session is gone, and with it the lock: stop acting at once. */
                        if (atomic_exchange(&c->leading, false))
                                log_warn("lost the controller lease: %s", err.msg);
                        metrics_leader_set(0);
                        s = store_free(s);
                } else if (r > 0 && !atomic_load(&c->leading)) {
                        atomic_store(&c->epoch, epoch);
                        atomic_store(&c->leading, true);
                        metrics_leader_set(1);
                        log_info("leading the controller (epoch %" PRId64 ")", epoch);
                        close_interrupted(s);
                        ctl_request_relist(c);
                } else if (r == 0 && atomic_exchange(&c->leading, false)) {
                        metrics_leader_set(0);
                        log_warn("another controller holds the lease now");
                }
                ctl_wait(c, LEASE_POLL);
        }
        return NULL;
}

/* ---- workers: one reconcile per key at a time, each worker with its own connections ---- */

static void *worker_main(void *userdata) {
        Controller *c = userdata;
        _cleanup_(store_freep) Store *s = NULL;
        _cleanup_(docker_client_freep) DockerClient *d = NULL;
        char key[QUEUE_KEY_MAX];

        while (queue_get(c->queue, key)) {
                ReconcileResult res = {0};
                Error err = ERROR_INIT;
                usec_t start = now_monotonic();
                int r = 0;

                if (!atomic_load(&c->leading)) {
                        /* The relist re-adds every key when this controller takes the lease. */
                        queue_done(c->queue, key);
                        continue;
                }
                if (!s && open_store(c, &s) < 0)
                        r = -ECONNREFUSED;
                if (r >= 0 && !d)
                        r = docker_client_new(c->cfg.engine, &d, &err);
                if (r >= 0) {
                        ReconcileCtx ctx = {.store = s,
                                            .docker = d,
                                            .engine = c->cfg.engine,
                                            .epoch = atomic_load(&c->epoch),
                                            .installation = c->installation,
                                            .network_lock = &c->network_lock,
                                            .probes = c->probes,
                                            .secrets = c->secrets,
                                            .stop = &c->stop_flag,
                                            .now = now_realtime()};
                        r = reconcile_resource(&ctx, key, &res, &err);
                }
                if (r == -ESTALE) {
                        /* Fenced: a newer leader exists. */
                        atomic_store(&c->leading, false);
                        metrics_leader_set(0);
                        log_warn("status write fenced: another controller leads now");
                }
                if (r < 0 && (r == -ECONNRESET || r == -ECONNREFUSED) && s &&
                    store_ping(s, NULL) < 0)
                        s = store_free(s);

                metrics_reconcile_observe(res.kind,
                                          r < 0               ? RECONCILE_ERROR
                                          : res.requeue_after ? RECONCILE_REQUEUE
                                                              : RECONCILE_OK,
                                          now_monotonic() - start);
                queue_done(c->queue, key);
                if (r < 0 && !res.terminal) {
                        log_debug("reconcile %s: %s (retrying)", key, err.msg);
                        queue_add_rate_limited(c->queue, key);
                } else if (r < 0) {
                        log_warn("reconcile %s: %s (waiting for a spec change)", key, err.msg);
                } else {
                        queue_forget(c->queue, key);
                        if (res.requeue_after && !res.removed)
                                queue_add_after(c->queue, key, res.requeue_after);
                }
        }
        return NULL;
}

/* ---- triggers: each only says "resource X may have changed" ---- */

static void *notify_main(void *userdata) {
        Controller *c = userdata;
        _cleanup_(store_freep) Store *s = NULL;

        while (!atomic_load(&c->stopping)) {
                _cleanup_free_ char *channel = NULL, *payload = NULL;
                Error err = ERROR_INIT;
                int r;

                if (!s) {
                        if (open_store(c, &s) < 0 ||
                            store_listen(s, STORE_CHANNEL_SPEC, &err) < 0) {
                                s = store_free(s);
                                ctl_wait(c, TRIGGER_RETRY);
                                continue;
                        }
                        /* Whatever changed while we were not listening. */
                        ctl_request_relist(c);
                }
                r = store_notify_wait(s, 500 * USEC_PER_MSEC, &channel, &payload, &err);
                if (r < 0) {
                        log_warn("spec notifications: %s", err.msg);
                        s = store_free(s);
                        continue;
                }
                if (r > 0 && payload)
                        queue_add(c->queue, payload);
        }
        return NULL;
}

/* Docker sends kill and die before its list shows the container exited: a pass triggered by
 * the event alone can still see it running. Look once more shortly after. */
#define DIE_RECHECK (200 * USEC_PER_MSEC)

static int on_docker_event(const char *action, const char *container_id, const char *resource,
                           int64_t time_nano, void *userdata) {
        Controller *c = userdata;

        (void) container_id;
        (void) time_nano;
        if (resource && !isempty(resource)) {
                queue_add(c->queue, resource);
                if (action && (streq(action, "die") || streq(action, "kill") ||
                               streq(action, "stop") || streq(action, "oom")))
                        queue_add_after(c->queue, resource, DIE_RECHECK);
        }
        return atomic_load(&c->stopping) ? 1 : 0;
}

static void *events_main(void *userdata) {
        Controller *c = userdata;
        _cleanup_(docker_client_freep) DockerClient *d = NULL;
        int64_t since = 0;

        while (!atomic_load(&c->stopping)) {
                Error err = ERROR_INIT;
                int64_t start = (int64_t) now_realtime() * 1000;
                int r;

                if (!d && docker_client_new(c->cfg.engine, &d, &err) < 0) {
                        log_warn("docker events: %s", err.msg);
                        ctl_wait(c, TRIGGER_RETRY);
                        continue;
                }
                r = docker_events_follow(d, since, on_docker_event, c, &c->stop_flag, &err);
                if (atomic_load(&c->stopping))
                        break;
                log_warn("docker events stream ended (%s); reconnecting",
                         r < 0 ? err.msg : "closed");
                /* Resume from where the stream broke, and relist in case Docker restarted. */
                since = start;
                d = docker_client_free(d);
                ctl_request_relist(c);
                ctl_wait(c, TRIGGER_RETRY);
        }
        return NULL;
}

static usec_t jittered(usec_t base) {
        uint32_t rnd = 0;

        (void) RAND_bytes((unsigned char *) &rnd, sizeof(rnd));
        /* ±10% so several controllers (or restarts) do not relist in lockstep. */
        return base - base / 10 + (usec_t) (rnd % 1000) * (base / 5) / 1000;
}

/* What Docker showed of one resource at the previous relist: an order-independent sum of the
 * hashes of its containers' id, state and health (0: no container). */
typedef struct Fingerprint {
        char uuid[37];
        uint64_t last, now;
} Fingerprint;

typedef struct RelistMemory {
        Fingerprint *v;
        size_t n, cap;
        bool primed; /* one full pass done since this controller took the lease */
} RelistMemory;

static uint64_t fnv1a(const char *s) {
        uint64_t h = 0xcbf29ce484222325ULL;

        for (; *s; s++)
                h = (h ^ (unsigned char) *s) * 0x100000001b3ULL;
        return h;
}

static Fingerprint *fingerprint_get(RelistMemory *m, const char *uuid) {
        for (size_t i = 0; i < m->n; i++)
                if (streq(m->v[i].uuid, uuid))
                        return &m->v[i];
        if (m->n == m->cap) {
                size_t nc = m->cap ? m->cap * 2 : 64;
                Fingerprint *nv = b_realloc(m->v, nc * sizeof(Fingerprint));
                if (!nv)
                        return NULL;
                m->v = nv;
                m->cap = nc;
        }
        m->v[m->n] = (Fingerprint){0};
        snprintf(m->v[m->n].uuid, sizeof(m->v[m->n].uuid), "%s", uuid);
        return &m->v[m->n++];
}

static void relist_memory_release(RelistMemory *m) {
        m->v = mfree(m->v);
        m->n = m->cap = 0;
        m->primed = false;
}

/* Whether a resource's stored status says there is nothing left to do. */
static int brief_cmp(const void *key, const void *item) {
        return strcmp(key, ((const ResourceBrief *) item)->uuid);
}

/* rows come ordered by uuid from the store. */
static const ResourceBrief *bsearch_brief(const ResourceBrief *rows, size_t n, const char *uuid) {
        return n ? bsearch(uuid, rows, n, sizeof(ResourceBrief), brief_cmp) : NULL;
}

static bool settled(const ResourceBrief *b) {
        return !b->deleting && b->generation == b->observed_generation &&
               (b->phase == PHASE_RUNNING || b->phase == PHASE_PAUSED);
}

/* One relist pass: one store query and one Docker list, whatever the number of resources. A
 * resource is queued when its status is not settled, when what Docker shows of it changed
 * since the last pass (an event berth missed), or on the first pass after taking the lease.
 * Containers whose resource has no row are orphans: queued so reconcile removes them. A settled
 * resource costs nothing, so the steady cost is constant. */
static void relist_once(Controller *c, Store *s, DockerClient *d, RelistMemory *m) {
        _cleanup_free_ ResourceBrief *rows = NULL;
        _cleanup_strv_free_ char **filters = NULL;
        ObservedContainer *cs = NULL;
        Error err = ERROR_INIT;
        size_t n_rows = 0, n = 0, queued = 0;

        if (strv_pushf(&filters, "%s=%s", LABEL_INSTALLATION, c->installation) < 0)
                return;
        if (store_resource_list_brief(s, &rows, &n_rows, &err) < 0 ||
            docker_container_list(d, filters, true, &cs, &n, &err) < 0) {
                log_warn("relist: %s", err.msg);
                return;
        }
        for (size_t i = 0; i < m->n; i++)
                m->v[i].now = 0;
        for (size_t i = 0; i < n; i++) {
                Fingerprint *f = cs[i].resource ? fingerprint_get(m, cs[i].resource) : NULL;
                char item[256];

                if (!f) {
                        m->primed = false; /* out of memory: look at everything next time */
                        continue;
                }
                snprintf(item, sizeof(item), "%s|%s|%s", strna(cs[i].id), strna(cs[i].state),
                         strna(cs[i].health));
                f->now += fnv1a(item);
        }
        for (size_t i = 0; i < n_rows; i++) {
                Fingerprint *f = fingerprint_get(m, rows[i].uuid);

                if (!m->primed || !f || !settled(&rows[i]) || f->now != f->last) {
                        queue_add(c->queue, rows[i].uuid);
                        queued++;
                }
        }
        for (size_t i = 0; i < n; i++)
                if (cs[i].resource && !bsearch_brief(rows, n_rows, cs[i].resource)) {
                        queue_add(c->queue, cs[i].resource);
                        queued++;
                }
        /* Forget resources gone from both the store and Docker. */
        for (size_t i = 0; i < m->n;) {
                m->v[i].last = m->v[i].now;
                if (m->v[i].now == 0 && !bsearch_brief(rows, n_rows, m->v[i].uuid))
                        m->v[i] = m->v[--m->n];
                else
                        i++;
        }
        observed_containers_free(cs, n);
        m->primed = true;
        log_debug("relist: %zu resources, %zu queued", n_rows, queued);
}

static void *relist_main(void *userdata) {
        Controller *c = userdata;
        _cleanup_(store_freep) Store *s = NULL;
        _cleanup_(docker_client_freep) DockerClient *d = NULL;
        _cleanup_(relist_memory_release) RelistMemory m = {};

        while (!atomic_load(&c->stopping)) {
                pthread_mutex_lock(&c->lock);
                c->relist_now = false;
                pthread_mutex_unlock(&c->lock);

                if (!atomic_load(&c->leading))
                        /* Whoever led meanwhile may have changed anything: start afresh. */
                        relist_memory_release(&m);
                else {
                        Error err = ERROR_INIT;
                        if (!s)
                                (void) open_store(c, &s);
                        if (!d && docker_client_new(c->cfg.engine, &d, &err) < 0)
                                log_warn("relist: %s", err.msg);
                        if (s && d)
                                relist_once(c, s, d, &m);
                        if (s && store_ping(s, NULL) < 0)
                                s = store_free(s);
                }
                ctl_wait(c, jittered(c->cfg.relist_interval));
        }
        return NULL;
}

/* Frees what controller_start() prepared before any thread started. */
static Controller *controller_free_unstarted(Controller *c) {
        if (!c)
                return NULL;
        c->queue = queue_free(c->queue);
        c->probes = probe_memory_free(c->probes);
        c->secrets = secret_box_free(c->secrets);
        return mfree(c);
}
DEFINE_TRIVIAL_CLEANUP_FUNC(Controller *, controller_free_unstarted);

int controller_start(const ControllerConfig *cfg, Controller **ret, Error *reterr) {
        _cleanup_(controller_free_unstartedp) Controller *c = NULL;
        int r;

        assert_return(cfg && cfg->conninfo && cfg->engine && ret, -EINVAL);
        c = b_calloc(1, sizeof(Controller));
        if (!c)
                return -ENOMEM;
        c->cfg = *cfg;
        if (c->cfg.workers <= 0)
                c->cfg.workers = 4;
        c->cfg.workers = MIN(c->cfg.workers, MAX_WORKERS);
        if (c->cfg.relist_interval == 0)
                c->cfg.relist_interval = 30 * USEC_PER_SEC;
        {
                _cleanup_(store_freep) Store *s = NULL;
                r = store_open(cfg->conninfo, &s, reterr);
                if (r >= 0)
                        r = store_installation_id(s, c->installation, reterr);
                if (r < 0)
                        return r;
        }
        r = secret_box_open(cfg->master_key_file, &c->secrets, reterr);
        if (r < 0)
                return r;
        r = queue_new(&c->queue);
        if (r >= 0)
                r = probe_memory_new(&c->probes);
        if (r < 0)
                return err_set(reterr, r, NULL, "cannot allocate the work queue");

        pthread_mutex_init(&c->lock, NULL);
        pthread_mutex_init(&c->network_lock, NULL);
        {
                pthread_condattr_t ca;
                pthread_condattr_init(&ca);
                pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
                pthread_cond_init(&c->wake, &ca);
                pthread_condattr_destroy(&ca);
        }
        pthread_create(&c->lease_thread, NULL, lease_main, c);
        pthread_create(&c->notify_thread, NULL, notify_main, c);
        pthread_create(&c->events_thread, NULL, events_main, c);
        pthread_create(&c->relist_thread, NULL, relist_main, c);
        for (c->n_workers = 0; c->n_workers < c->cfg.workers; c->n_workers++)
                pthread_create(&c->workers[c->n_workers], NULL, worker_main, c);
        *ret = TAKE_PTR(c);
        return 0;
}

Controller *controller_stop(Controller *c) {
        if (!c)
                return NULL;
        atomic_store(&c->stopping, true);
        c->stop_flag = true;
        pthread_mutex_lock(&c->lock);
        pthread_cond_broadcast(&c->wake);
        pthread_mutex_unlock(&c->lock);
        queue_shutdown(c->queue);
        for (int i = 0; i < c->n_workers; i++)
                pthread_join(c->workers[i], NULL);
        pthread_join(c->relist_thread, NULL);
        pthread_join(c->notify_thread, NULL);
        pthread_join(c->events_thread, NULL);
        pthread_join(c->lease_thread, NULL);
        c->queue = queue_free(c->queue);
        c->probes = probe_memory_free(c->probes);
        c->secrets = secret_box_free(c->secrets);
        pthread_mutex_destroy(&c->lock);
        pthread_mutex_destroy(&c->network_lock);
        pthread_cond_destroy(&c->wake);
        return mfree(c);
}
