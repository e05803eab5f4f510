/* SPDX-License-Identifier: MIT */
#include <stdatomic.h>

#include "util/common.h"
#include "util/metrics.h"

static const double bucket_le[] = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
#define N_BUCKETS ELEMENTSOF(bucket_le)

static atomic_ulong reconciles[METRICS_MAX_KINDS][_RECONCILE_OUTCOME_MAX];
static atomic_ulong duration_buckets[METRICS_MAX_KINDS][N_BUCKETS];
static atomic_ulong duration_count[METRICS_MAX_KINDS];
static atomic_ulong duration_sum_usec[METRICS_MAX_KINDS];
static atomic_long queue_depth;
static atomic_int leader;

static const char *const outcome_names[_RECONCILE_OUTCOME_MAX] = {"ok", "requeue", "error"};

void metrics_reconcile_observe(int kind, ReconcileOutcome outcome, usec_t duration) {
        double secs = (double) duration / (double) USEC_PER_SEC;

        if (kind < 0 || kind >= METRICS_MAX_KINDS || outcome >= _RECONCILE_OUTCOME_MAX)
                return;
        atomic_fetch_add(&reconciles[kind][outcome], 1);
        for (size_t i = 0; i < N_BUCKETS; i++)
                if (secs <= bucket_le[i])
                        atomic_fetch_add(&duration_buckets[kind][i], 1);
        atomic_fetch_add(&duration_count[kind], 1);
        atomic_fetch_add(&duration_sum_usec[kind], duration);
}

void metrics_queue_depth_set(long depth) {
        atomic_store(&queue_depth, depth);
}

void metrics_leader_set(int is_leader) {
        atomic_store(&leader, is_leader);
}

int metrics_render(Buf *out, const char *const *kind_names, int n_kinds) {
        int r;

        r = buf_puts(out, "# HELP berth_reconciles_total Reconcile passes by kind and result.\n"
                          "# TYPE berth_reconciles_total counter\n");
        for (int k = 0; r >= 0 && k < n_kinds && k < METRICS_MAX_KINDS; k++)
                for (int o = 0; r >= 0 && o < _RECONCILE_OUTCOME_MAX; o++)
                        r = buf_printf(
                                out, "berth_reconciles_total{kind=\"%s\",result=\"%s\"} %lu\n",
                                kind_names[k], outcome_names[o], atomic_load(&reconciles[k][o]));
        if (r >= 0)
                r = buf_puts(out,
                             "# HELP berth_reconcile_duration_seconds Time of one reconcile pass.\n"
                             "# TYPE berth_reconcile_duration_seconds histogram\n");
        for (int k = 0; r >= 0 && k < n_kinds && k < METRICS_MAX_KINDS; k++) {
                for (size_t i = 0; r >= 0 && i < N_BUCKETS; i++)
                        r = buf_printf(out,
                                       "berth_reconcile_duration_seconds_bucket{kind=\"%s\",le=\"%"
                                       "g\"} %lu\n",
                                       kind_names[k], bucket_le[i],
                                       atomic_load(&duration_buckets[k][i]));
                if (r >= 0)
                        r = buf_printf(out,
                                       "berth_reconcile_duration_seconds_bucket{kind=\"%s\",le=\"+"
                                       "Inf\"} %lu\n"
                                       "berth_reconcile_duration_seconds_sum{kind=\"%s\"} %.6f\n"
                                       "berth_reconcile_duration_seconds_count{kind=\"%s\"} %lu\n",
                                       kind_names[k], atomic_load(&duration_count[k]),
                                       kind_names[k],
                                       (double) atomic_load(&duration_sum_usec[k]) / 1e6,
                                       kind_names[k], atomic_load(&duration_count[k]));
        }
        if (r >= 0)
                r = buf_printf(
                        out,
                        "# HELP berth_queue_depth Resources waiting for a reconcile.\n"
                        "# TYPE berth_queue_depth gauge\nberth_queue_depth %ld\n"
                        "# HELP berth_leader 1 when this berthd's controller holds the lease.\n"
                        "# TYPE berth_leader gauge\nberth_leader %d\n",
                        atomic_load(&queue_depth), atomic_load(&leader));
        return r;
}
