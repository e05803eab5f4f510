/* SPDX-License-Identifier: MIT */
#pragma once

#include <stddef.h>

#include "model/observed.h"
#include "util/time-util.h"

/* berth's own health probes, run from the controller host against container addresses on
 * their bridge network, so they need nothing inside the image (no shell, no curl).
 * TCP: the connect succeeds. HTTP: a GET of `path` answers 2xx or 3xx. */
typedef struct ProbeTarget {
        const char *ip; /* NULL: no address, result PROBE_FAIL */
        int port;
        const char *path; /* NULL: TCP probe */
} ProbeTarget;

/* Probes all targets concurrently; every result is known within `timeout`. */
void probe_run(const ProbeTarget *targets, size_t n, usec_t timeout, ProbeResult *ret);
