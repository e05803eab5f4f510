/* SPDX-License-Identifier: MIT */
#include <string.h>

#include "util/common.h"

#include "drivers/docker/stream.h"

void docker_frame_decoder_init(DockerFrameDecoder *d, bool allow_raw, DockerFrameFn fn,
                               void *userdata) {
        assert(d);
        *d = (DockerFrameDecoder){
                .fn = fn,
                .userdata = userdata,
                .allow_raw = allow_raw,
        };
}

static bool header_byte_valid(size_t i, uint8_t b) {
        if (i == 0)
                return b <= DOCKER_STREAM_STDERR;
        if (i <= 3)
                return b == 0;
        return true;
}

static int deliver(DockerFrameDecoder *d, DockerStream s, const uint8_t *p, size_t n) {
        if (n == 0 || !d->fn)
                return 0;
        return d->fn(s, (const char *) p, n, d->userdata);
}

int docker_frame_decoder_feed(DockerFrameDecoder *d, const void *data, size_t n) {
        const uint8_t *p = data;
        int r;

        assert(d);
        assert(data || n == 0);

        if (n > 0 && !d->started) {
                d->started = true;
                /* A TTY stream has no headers: its first byte is text, not 0, 1 or 2. */
                if (d->allow_raw && !header_byte_valid(0, p[0]))
                        d->raw = true;
        }
        if (d->raw)
                return deliver(d, DOCKER_STREAM_STDOUT, p, n);

        while (n > 0) {
                if (d->remaining > 0) {
                        size_t k = MIN(n, (size_t) d->remaining);

                        r = deliver(d, d->stream, p, k);
                        if (r < 0)
                                return r;
                        d->remaining -= (uint32_t) k;
                        p += k;
                        n -= k;
                        continue;
                }

                /* Gather the header, validating each byte as it arrives. */
                if (!header_byte_valid(d->header_len, *p))
                        return -EBADMSG;
                d->header[d->header_len++] = *p++;
                n--;
                if (d->header_len < DOCKER_FRAME_HEADER_SIZE)
                        continue;

                d->stream = (DockerStream) d->header[0];
                d->remaining = (uint32_t) d->header[4] << 24 | (uint32_t) d->header[5] << 16 |
                               (uint32_t) d->header[6] << 8 | (uint32_t) d->header[7];
                d->header_len = 0;
                d->frames++;
        }
        return 0;
}

int docker_frame_decoder_finish(const DockerFrameDecoder *d) {
        assert(d);
        if (d->raw)
                return 0;
        if (d->header_len > 0 || d->remaining > 0)
                return -EBADMSG;
        return 0;
}

int buf_append_keep_tail(Buf *b, const void *data, size_t n) {
        const char *p = data;
        bool at_boundary;
        size_t drop;
        char *nl;

        assert(b);
        assert(data || n == 0);

        if (n == 0 || b->max == 0)
                return 0;
        if (b->len + n <= b->max)
                return buf_append(b, p, n);

        if (n >= b->max) {
                /* The new piece alone fills the buffer: keep its end. */
                drop = n - b->max;
                at_boundary =
                        drop > 0 ? p[drop - 1] == '\n' : b->len == 0 || b->buf[b->len - 1] == '\n';
                p += drop;
                n = b->max;
                buf_reset(b);
        } else {
                drop = b->len + n - b->max;
                at_boundary = b->buf[drop - 1] == '\n';
                memmove(b->buf, b->buf + drop, b->len - drop);
                b->len -= drop;
                b->buf[b->len] = 0;
        }

        if (buf_append(b, p, n) < 0)
                return -ENOMEM; /* cannot be -E2BIG: len + n <= max here */

        /* Start at a line boundary: drop the rest of the cut line, if a newline follows it. */
        if (at_boundary)
                return 0;
        nl = memchr(b->buf, '\n', b->len);
        if (nl && (size_t) (nl - b->buf) + 1 < b->len) {
                drop = (size_t) (nl - b->buf) + 1;
                memmove(b->buf, b->buf + drop, b->len - drop);
                b->len -= drop;
                b->buf[b->len] = 0;
        }
        return 0;
}
