/* SPDX-License-Identifier: MIT */
#pragma once

/* The one include every berth .c starts with (after any system or library headers it needs):
 * libc, our macros, allocation, errors and buffers, then banned.h last. */
#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/macro.h"
#include "util/alloc.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/strv.h"
#include "util/time-util.h"

#include "util/banned.h"
