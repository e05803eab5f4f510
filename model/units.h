/* SPDX-License-Identifier: MIT */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "util/macro.h"
#include "util/time-util.h"

/* Durations as specs write them: one or more <integer><unit> with units h, m, s, ms
 * ("10s", "500ms", "1m30s"). -EINVAL when malformed, -ERANGE above 24 h. */
int duration_parse(const char *s, usec_t *ret) _warn_unused_result_;
/* The canonical spelling of a duration parsed above: "1h2m3s400ms", "0s" for zero. */
const char *duration_format(usec_t t, char *buf, size_t n);

/* Byte sizes: a plain integer, or a decimal number with a unit: Ki Mi Gi Ti (powers of 1024)
 * or k K M G T (powers of 1000). Fractions round down to whole bytes. -EINVAL when malformed
 * (including Docker's "512m", which Kubernetes reads as milli), -ERANGE above 1 PiB. */
int memory_parse(const char *s, int64_t *ret) _warn_unused_result_;
