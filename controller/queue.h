/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>

#include "util/macro.h"
#include "util/time-util.h"

/* A de-duplicating work queue of resource keys (after client-go's workqueue): a key is queued
 * at most once; a key added while a worker holds it is marked dirty and handed out again after
 * queue_done(), so no resource is reconciled twice at once. Delayed adds (requeue after) and
 * per-key exponential backoff (5 ms doubling to a cap, reset by queue_forget) live here too, so
 * workers never sleep. Thread-safe. */
typedef struct WorkQueue WorkQueue;

#define QUEUE_KEY_MAX      64
#define QUEUE_BACKOFF_BASE (5 * USEC_PER_MSEC)
#define QUEUE_BACKOFF_CAP  (30 * USEC_PER_SEC)

int queue_new(WorkQueue **ret) _warn_unused_result_;
WorkQueue *queue_free(WorkQueue *q);
void queue_add(WorkQueue *q, const char *key);
/* Adds key once `delay` has passed (an earlier pending delay for the key wins). */
void queue_add_after(WorkQueue *q, const char *key, usec_t delay);
/* Re-adds key after its backoff, which doubles on each call until queue_forget(). */
void queue_add_rate_limited(WorkQueue *q, const char *key);
void queue_forget(WorkQueue *q, const char *key);
/* Blocks for the next key; copies it into ret (QUEUE_KEY_MAX). Returns false on shutdown. */
bool queue_get(WorkQueue *q, char ret[QUEUE_KEY_MAX]);
void queue_done(WorkQueue *q, const char *key);
void queue_shutdown(WorkQueue *q);
/* Keys waiting now (not counting delayed ones or those in flight). */
long queue_depth(WorkQueue *q);
