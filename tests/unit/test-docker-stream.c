/* SPDX-License-Identifier: MIT */
/* drivers/docker/stream.c: the multiplexed log/exec frame decoder and the tail-keeping append.
 * Pure: links berth-core and stream.c only. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "util/common.h"

#include "drivers/docker/stream.h"

typedef struct Sink {
        Buf out, err, in;
        int fail_after; /* > 0: the fail_after-th call fails with -EIO */
        int calls;
} Sink;

static int sink_frame(DockerStream stream, const char *data, size_t n, void *userdata) {
        Sink *s = userdata;
        Buf *b = stream == DOCKER_STREAM_STDOUT   ? &s->out
                 : stream == DOCKER_STREAM_STDERR ? &s->err
                                                  : &s->in;

        assert_true(n > 0);
        s->calls++;
        if (s->fail_after > 0 && s->calls >= s->fail_after)
                return -EIO;
        return buf_append(b, data, n);
}

static void sink_init(Sink *s) {
        *s = (Sink){.out = BUF_INIT(1 << 20), .err = BUF_INIT(1 << 20), .in = BUF_INIT(1 << 20)};
}

static void sink_release(Sink *s) {
        buf_release(&s->out);
        buf_release(&s->err);
        buf_release(&s->in);
}

/* Appends one frame to b. */
static void frame(Buf *b, uint8_t stream, const char *payload, size_t n) {
        uint8_t h[8] = {
                stream,     0, 0, 0, (uint8_t) (n >> 24), (uint8_t) (n >> 16), (uint8_t) (n >> 8),
                (uint8_t) n};

        assert_int_equal(buf_append(b, h, sizeof(h)), 0);
        assert_int_equal(buf_append(b, payload, n), 0);
}

static void test_single_frame(void **state) {
        _cleanup_(buf_release) Buf in = BUF_INIT(1 << 20);
        DockerFrameDecoder d;
        Sink s;

        (void) state;
        sink_init(&s);
        frame(&in, 1, "hello\n", 6);
        docker_frame_decoder_init(&d, false, sink_frame, &s);
        assert_int_equal(docker_frame_decoder_feed(&d, in.buf, in.len), 0);
        assert_int_equal(docker_frame_decoder_finish(&d), 0);
        assert_string_equal(buf_str(&s.out), "hello\n");
        assert_int_equal(s.err.len, 0);
        assert_int_equal(d.frames, 1);
        sink_release(&s);
}

static void build_mixed(Buf *in) {
        frame(in, 1, "out1\n", 5);
        frame(in, 2, "err1\n", 5);
        frame(in, 1, "", 0); /* empty frames happen and carry nothing */
        frame(in, 0, "in", 2);
        frame(in, 1, "out2\n", 5);
        frame(in, 2, "err2", 4);
}

static void test_interleaved(void **state) {
        _cleanup_(buf_release) Buf in = BUF_INIT(1 << 20);
        DockerFrameDecoder d;
        Sink s;

        (void) state;
        sink_init(&s);
        build_mixed(&in);
        docker_frame_decoder_init(&d, false, sink_frame, &s);
        assert_int_equal(docker_frame_decoder_feed(&d, in.buf, in.len), 0);
        assert_int_equal(docker_frame_decoder_finish(&d), 0);
        assert_string_equal(buf_str(&s.out), "out1\nout2\n");
        assert_string_equal(buf_str(&s.err), "err1\nerr2");
        assert_string_equal(buf_str(&s.in), "in");
        assert_int_equal(d.frames, 6);
        sink_release(&s);
}

/* Every way of cutting the stream in two, and byte by byte: same result. */
static void test_any_split(void **state) {
        _cleanup_(buf_release) Buf in = BUF_INIT(1 << 20);

        (void) state;
        build_mixed(&in);
        for (size_t cut = 0; cut <= in.len; cut++) {
                DockerFrameDecoder d;
                Sink s;

                sink_init(&s);
                docker_frame_decoder_init(&d, false, sink_frame, &s);
                assert_int_equal(docker_frame_decoder_feed(&d, in.buf, cut), 0);
                assert_int_equal(docker_frame_decoder_feed(&d, in.buf + cut, in.len - cut), 0);
                assert_int_equal(docker_frame_decoder_finish(&d), 0);
                assert_string_equal(buf_str(&s.out), "out1\nout2\n");
                assert_string_equal(buf_str(&s.err), "err1\nerr2");
                sink_release(&s);
        }

        {
                DockerFrameDecoder d;
                Sink s;

                sink_init(&s);
                docker_frame_decoder_init(&d, false, sink_frame, &s);
                for (size_t i = 0; i < in.len; i++)
                        assert_int_equal(docker_frame_decoder_feed(&d, in.buf + i, 1), 0);
                assert_int_equal(docker_frame_decoder_finish(&d), 0);
                assert_string_equal(buf_str(&s.out), "out1\nout2\n");
                assert_string_equal(buf_str(&s.err), "err1\nerr2");
                sink_release(&s);
        }
}

static void test_large_frame(void **state) {
        _cleanup_(buf_release) Buf in = BUF_INIT(1 << 20);
        _cleanup_free_ char *payload = b_malloc(70000);
        DockerFrameDecoder d;
        Sink s;

        (void) state;
        assert_non_null(payload);
        for (size_t i = 0; i < 70000; i++)
                payload[i] = (char) ('a' + i % 26);
        frame(&in, 2, payload, 70000);
        sink_init(&s);
        docker_frame_decoder_init(&d, false, sink_frame, &s);
        for (size_t off = 0; off < in.len; off += 4096)
                assert_int_equal(
                        docker_frame_decoder_feed(&d, in.buf + off, MIN(4096, in.len - off)), 0);
        assert_int_equal(docker_frame_decoder_finish(&d), 0);
        assert_int_equal(s.err.len, 70000);
        assert_memory_equal(s.err.buf, payload, 70000);
        sink_release(&s);
}

static void test_bad_header(void **state) {
        static const uint8_t bad_stream[8] = {3, 0, 0, 0, 0, 0, 0, 1};
        static const uint8_t bad_pad[8] = {1, 0, 7, 0, 0, 0, 0, 1};
        _cleanup_(buf_release) Buf in = BUF_INIT(1 << 20);
        DockerFrameDecoder d;
        Sink s;

        (void) state;
        sink_init(&s);
        docker_frame_decoder_init(&d, false, sink_frame, &s);
        assert_int_equal(docker_frame_decoder_feed(&d, bad_stream, 8), -EBADMSG);

        docker_frame_decoder_init(&d, false, sink_frame, &s);
        assert_int_equal(docker_frame_decoder_feed(&d, bad_pad, 8), -EBADMSG);

        /* A valid frame, then garbage: the second header is refused. */
        frame(&in, 1, "ok", 2);
        assert_int_equal(buf_append(&in, "garbage!", 8), 0);
        docker_frame_decoder_init(&d, true, sink_frame, &s);
        assert_int_equal(docker_frame_decoder_feed(&d, in.buf, in.len), -EBADMSG);
        assert_string_equal(buf_str(&s.out), "ok");
        sink_release(&s);
}

static void test_truncated(void **state) {
        _cleanup_(buf_release) Buf in = BUF_INIT(1 << 20);
        DockerFrameDecoder d;
        Sink s;

        (void) state;
        frame(&in, 1, "hello", 5);
        sink_init(&s);

        /* Inside the header. */
        docker_frame_decoder_init(&d, false, sink_frame, &s);
        assert_int_equal(docker_frame_decoder_feed(&d, in.buf, 3), 0);
        assert_int_equal(docker_frame_decoder_finish(&d), -EBADMSG);

        /* Inside the payload: what arrived was delivered. */
        docker_frame_decoder_init(&d, false, sink_frame, &s);
        assert_int_equal(docker_frame_decoder_feed(&d, in.buf, 10), 0);
        assert_int_equal(docker_frame_decoder_finish(&d), -EBADMSG);
        assert_string_equal(buf_str(&s.out), "he");

        /* Nothing at all is a valid, empty stream. */
        docker_frame_decoder_init(&d, false, sink_frame, &s);
        assert_int_equal(docker_frame_decoder_finish(&d), 0);
        sink_release(&s);
}

static void test_raw(void **state) {
        DockerFrameDecoder d;
        Sink s;

        (void) state;
        sink_init(&s);
        docker_frame_decoder_init(&d, true, sink_frame, &s);
        assert_int_equal(docker_frame_decoder_feed(&d, "tty output\n", 11), 0);
        assert_int_equal(docker_frame_decoder_feed(&d, "\x01\x02", 2), 0);
        assert_int_equal(docker_frame_decoder_finish(&d), 0);
        assert_int_equal(s.out.len, 13);
        assert_memory_equal(s.out.buf, "tty output\n\x01\x02", 13);

        docker_frame_decoder_init(&d, false, sink_frame, &s);
        assert_int_equal(docker_frame_decoder_feed(&d, "tty output\n", 11), -EBADMSG);
        sink_release(&s);
}

static void test_callback_error(void **state) {
        _cleanup_(buf_release) Buf in = BUF_INIT(1 << 20);
        DockerFrameDecoder d;
        Sink s;

        (void) state;
        sink_init(&s);
        s.fail_after = 2;
        frame(&in, 1, "a", 1);
        frame(&in, 2, "b", 1);
        frame(&in, 1, "c", 1);
        docker_frame_decoder_init(&d, false, sink_frame, &s);
        assert_int_equal(docker_frame_decoder_feed(&d, in.buf, in.len), -EIO);
        assert_string_equal(buf_str(&s.out), "a");
        sink_release(&s);
}

static void test_keep_tail(void **state) {
        Buf b = BUF_INIT(12);

        (void) state;
        assert_int_equal(buf_append_keep_tail(&b, "to-stdout\n", 10), 0);
        assert_string_equal(buf_str(&b), "to-stdout\n");
        /* Over the cap: the oldest bytes go, then the rest of the cut line. */
        assert_int_equal(buf_append_keep_tail(&b, "to-stderr\n", 10), 0);
        assert_string_equal(buf_str(&b), "to-stderr\n");
        assert_true(b.len <= b.max);

        /* A cut exactly at a line boundary keeps the whole next line. */
        buf_reset(&b);
        assert_int_equal(buf_append_keep_tail(&b, "abc\ndefgh\n", 10), 0);
        assert_int_equal(buf_append_keep_tail(&b, "ij\nkl\n", 6), 0);
        assert_string_equal(buf_str(&b), "defgh\nij\nkl\n");

        /* A piece larger than the cap: its end, from a line start. */
        buf_reset(&b);
        assert_int_equal(buf_append_keep_tail(&b, "x", 1), 0);
        assert_int_equal(buf_append_keep_tail(&b, "0123456789\nabcdefgh\n", 20), 0);
        assert_string_equal(buf_str(&b), "abcdefgh\n");

        /* No newline to align on: plain last bytes. */
        buf_reset(&b);
        assert_int_equal(buf_append_keep_tail(&b, "aaaaaaaaaa", 10), 0);
        assert_int_equal(buf_append_keep_tail(&b, "bbbbbbbbbb", 10), 0);
        assert_string_equal(buf_str(&b), "aabbbbbbbbbb");

        /* A newline only at the very end: nothing after it to keep, so no trim. */
        buf_reset(&b);
        assert_int_equal(buf_append_keep_tail(&b, "aaaaaaaaaa", 10), 0);
        assert_int_equal(buf_append_keep_tail(&b, "bbbbbbbbb\n", 10), 0);
        assert_string_equal(buf_str(&b), "aabbbbbbbbb\n");
        buf_release(&b);

        /* A zero cap keeps nothing and does not fail. */
        b = BUF_INIT(0);
        assert_int_equal(buf_append_keep_tail(&b, "abc", 3), 0);
        assert_int_equal(b.len, 0);
        buf_release(&b);
}

static void test_keep_tail_many(void **state) {
        Buf b = BUF_INIT(100);
        char line[32];

        (void) state;
        for (int i = 0; i < 1000; i++) {
                int n = snprintf(line, sizeof(line), "line %d\n", i);

                assert_int_equal(buf_append_keep_tail(&b, line, (size_t) n), 0);
                assert_true(b.len <= b.max);
        }
        /* Ends with the last line and starts at a line start. */
        assert_non_null(strstr(buf_str(&b), "line 999\n"));
        assert_memory_equal(b.buf, "line ", 5);
        buf_release(&b);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_single_frame), cmocka_unit_test(test_interleaved),
                cmocka_unit_test(test_any_split),    cmocka_unit_test(test_large_frame),
                cmocka_unit_test(test_bad_header),   cmocka_unit_test(test_truncated),
                cmocka_unit_test(test_raw),          cmocka_unit_test(test_callback_error),
                cmocka_unit_test(test_keep_tail),    cmocka_unit_test(test_keep_tail_many),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
