/* SPDX-License-Identifier: MIT */
#pragma once

#include <stddef.h>

#include "util/buf.h"
#include "util/macro.h"

/* A minimal ustar writer for Docker's archive upload (config files, secrets as files): regular
 * files only, owner 0:0, fixed mtime (so the same files give the same bytes). Paths are
 * relative ("etc/app.conf"); a name longer than ustar's 100+155 split is refused. */
int tar_add_file(Buf *out, const char *path, const void *data, size_t n,
                 unsigned mode) _warn_unused_result_;
/* Appends the two zero blocks that end an archive. */
int tar_finish(Buf *out) _warn_unused_result_;
