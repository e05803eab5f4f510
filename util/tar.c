/* SPDX-License-Identifier: MIT */
#include "util/common.h"
#include "util/tar.h"

#define TAR_BLOCK 512

typedef struct TarHeader {
        char name[100];
        char mode[8];
        char uid[8];
        char gid[8];
        char size[12];
        char mtime[12];
        char chksum[8];
        char typeflag;
        char linkname[100];
        char magic[6];
        char version[2];
        char uname[32];
        char gname[32];
        char devmajor[8];
        char devminor[8];
        char prefix[155];
        char pad[12];
} TarHeader;

_Static_assert(sizeof(TarHeader) == TAR_BLOCK, "ustar header is one block");

/* Octal, zero-padded, NUL-terminated in exactly n bytes. */
static int octal(char *dst, size_t n, unsigned long long v) {
        char tmp[32];
        int k = snprintf(tmp, sizeof(tmp), "%0*llo", (int) n - 1, v);

        if (k < 0 || (size_t) k != n - 1)
                return -E2BIG;
        memcpy(dst, tmp, n);
        return 0;
}

/* ustar splits a long path at a '/' into prefix (155) + name (100). */
static int split_path(TarHeader *h, const char *path) {
        size_t len = strlen(path);
        const char *cut;

        if (len == 0 || path[0] == '/')
                return -EINVAL;
        if (len < sizeof(h->name)) {
                memcpy(h->name, path, len);
                return 0;
        }
        for (cut = path + len - 1; cut > path; cut--) {
                size_t pre = (size_t) (cut - path), rest = len - pre - 1;
                if (*cut == '/' && pre <= sizeof(h->prefix) && rest < sizeof(h->name) && rest > 0) {
                        memcpy(h->prefix, path, pre);
                        memcpy(h->name, cut + 1, rest);
                        return 0;
                }
        }
        return -ENAMETOOLONG;
}

int tar_add_file(Buf *out, const char *path, const void *data, size_t n, unsigned mode) {
        static const char zeros[TAR_BLOCK];
        TarHeader h;
        unsigned sum = 0;
        int r;

        memset(&h, 0, sizeof(h));
        r = split_path(&h, path);
        if (r < 0)
                return r;
        if (octal(h.mode, sizeof(h.mode), mode & 07777) < 0 || octal(h.uid, sizeof(h.uid), 0) < 0 ||
            octal(h.gid, sizeof(h.gid), 0) < 0 || octal(h.size, sizeof(h.size), n) < 0 ||
            octal(h.mtime, sizeof(h.mtime), 0) < 0)
                return -E2BIG;
        h.typeflag = '0';
        memcpy(h.magic, "ustar", 6);
        memcpy(h.version, "00", 2);
        memset(h.chksum, ' ', sizeof(h.chksum));
        for (size_t i = 0; i < sizeof(h); i++)
                sum += ((const unsigned char *) &h)[i];
        snprintf(h.chksum, sizeof(h.chksum), "%06o", sum & 0777777);
        h.chksum[7] = ' ';

        r = buf_append(out, &h, sizeof(h));
        if (r >= 0 && n > 0)
                r = buf_append(out, data, n);
        if (r >= 0 && n % TAR_BLOCK)
                r = buf_append(out, zeros, TAR_BLOCK - n % TAR_BLOCK);
        return r;
}

int tar_finish(Buf *out) {
        static const char zeros[2 * TAR_BLOCK];

        return buf_append(out, zeros, sizeof(zeros));
}
