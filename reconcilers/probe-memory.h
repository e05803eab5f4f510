/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>

#include "model/observed.h"
#include "util/macro.h"
#include "util/time-util.h"

/* What berth's probes saw of each container across reconcile passes: the streaks behind
 * healthy_threshold / unhealthy_threshold. Failures count only after a container's first success
 * (before it, the container is starting: not ready, but not replaced). Kept in memory by the
 * controller (a restart begins the counts again, as Docker does); entries unseen for
 * PROBE_MEMORY_TTL are dropped. Thread-safe. */
typedef struct ProbeMemory ProbeMemory;

#define PROBE_MEMORY_TTL (10 * 60 * USEC_PER_SEC)
#define PROBE_MEMORY_MAX 8192

int probe_memory_new(ProbeMemory **ret) _warn_unused_result_;
ProbeMemory *probe_memory_free(ProbeMemory *m);

/* Whether container `id` needs a probe now: always until its first success and while failing
 * (so readiness and recovery are seen at once), then once per `interval`. ret_last gets the
 * remembered status either way. m may be NULL (no memory: always due). */
bool probe_memory_due(ProbeMemory *m, const char *id, usec_t now, usec_t interval,
                      ProbeStatus *ret_last);
/* Records a probe result and returns the updated streaks. */
void probe_memory_record(ProbeMemory *m, const char *id, usec_t now, usec_t interval,
                         ProbeResult result, ProbeStatus *ret);
