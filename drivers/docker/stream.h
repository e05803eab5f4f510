/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/buf.h"
#include "util/macro.h"

/* Decoder of Docker's multiplexed stream (logs and exec output of non-TTY containers): frames of
 * an 8-byte header {stream, 0, 0, 0, length as big-endian u32} and length payload bytes.
 * Pure (no I/O, no curl): fed whatever chunks the transport delivers, it hands each payload
 * piece to fn as it arrives, without buffering whole frames. */
typedef enum DockerStream {
        DOCKER_STREAM_STDIN = 0,
        DOCKER_STREAM_STDOUT = 1,
        DOCKER_STREAM_STDERR = 2,
} DockerStream;

#define DOCKER_FRAME_HEADER_SIZE 8

/* Gets a payload piece (n > 0) of the given stream. Return < 0 to stop decoding with that
 * error. */
typedef int (*DockerFrameFn)(DockerStream stream, const char *data, size_t n, void *userdata);

typedef struct DockerFrameDecoder {
        DockerFrameFn fn;
        void *userdata;
        uint8_t header[DOCKER_FRAME_HEADER_SIZE];
        size_t header_len;  /* header bytes gathered so far */
        uint32_t remaining; /* payload bytes left in the current frame */
        DockerStream stream;
        bool allow_raw; /* a stream not starting with a valid header is raw stdout (TTY) */
        bool raw;
        bool started;
        uint64_t frames; /* complete headers seen */
} DockerFrameDecoder;

void docker_frame_decoder_init(DockerFrameDecoder *d, bool allow_raw, DockerFrameFn fn,
                               void *userdata);
/* Feeds n bytes. -EBADMSG on an invalid header (stream > 2 or non-zero padding), or fn's error.
 * After an error the decoder must not be fed again. */
int docker_frame_decoder_feed(DockerFrameDecoder *d, const void *data,
                              size_t n) _warn_unused_result_;
/* At the end of the stream: -EBADMSG if it stopped inside a header or a payload. */
int docker_frame_decoder_finish(const DockerFrameDecoder *d) _warn_unused_result_;

/* Appends n bytes to b keeping only the tail when b->max would be exceeded: the oldest bytes
 * are dropped, then the rest of a partial first line (when a later newline exists), so the
 * buffer starts at a line boundary whenever it can. Returns -ENOMEM only. */
int buf_append_keep_tail(Buf *b, const void *data, size_t n) _warn_unused_result_;
