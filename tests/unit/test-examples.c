/* SPDX-License-Identifier: MIT */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <sys/stat.h>

#include <cjson/cJSON.h>
#include <cmocka.h>

#include "util/common.h"
#include "model/document.h"

/* Every examples/ YAML file (recursively) must validate: what users copy must work. The
 * directory comes from BERTH_EXAMPLES_DIR (meson sets it) or the first argument. */

static const char *examples_dir;

static char *read_file(const char *path, size_t *ret_len) {
        _cleanup_(buf_release) Buf b = BUF_INIT(API_MAX_BODY);
        char chunk[4096];
        FILE *f = fopen(path, "re");
        size_t k;

        if (!f)
                return NULL;
        while ((k = fread(chunk, 1, sizeof(chunk), f)) > 0)
                if (buf_append(&b, chunk, k) < 0) {
                        fclose(f);
                        return NULL;
                }
        fclose(f);
        *ret_len = b.len;
        return buf_take(&b);
}

static bool is_yaml(const char *name) {
        size_t n = strlen(name);

        return (n > 5 && streq(name + n - 5, ".yaml")) || (n > 4 && streq(name + n - 4, ".yml"));
}

static int check_dir(const char *dir, int depth) {
        struct dirent *de;
        DIR *d = opendir(dir);
        int seen = 0;

        if (!d)
                fail_msg("cannot open %s", dir);
        assert_true(depth < 8);
        while ((de = readdir(d))) {
                char path[2048];
                struct stat st;

                if (de->d_name[0] == '.')
                        continue;
                snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
                assert_int_equal(stat(path, &st), 0);
                if (S_ISDIR(st.st_mode)) {
                        seen += check_dir(path, depth + 1);
                } else if (is_yaml(de->d_name)) {
                        _cleanup_free_ char *body = NULL;
                        Document *docs = NULL;
                        size_t len = 0, n = 0;
                        Error e = ERROR_INIT;

                        body = read_file(path, &len);
                        if (!body)
                                fail_msg("cannot read %s", path);
                        if (documents_parse(body, len, &docs, &n, &e) < 0)
                                fail_msg("%s: %s (reason %s, field %s)", path, e.msg, e.reason,
                                         e.field);
                        assert_true(n >= 1);
                        documents_free(docs, n);
                        print_message("ok %s (%zu document%s)\n", path, n, n == 1 ? "" : "s");
                        seen++;
                }
        }
        closedir(d);
        return seen;
}

static void test_examples_validate(void **state) {
        char web[2048];
        struct stat st;
        (void) state;

        if (!examples_dir)
                fail_msg("set BERTH_EXAMPLES_DIR or pass the examples directory");
        /* The quickstart is the one every README points at. */
        snprintf(web, sizeof(web), "%s/quickstart/web.yaml", examples_dir);
        assert_int_equal(stat(web, &st), 0);
        assert_true(check_dir(examples_dir, 0) >= 3);
}

int main(int argc, char **argv) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_examples_validate),
        };

        alloc_install_cjson();
        examples_dir = argc > 1 ? argv[1] : getenv("BERTH_EXAMPLES_DIR");
        return cmocka_run_group_tests(tests, NULL, NULL);
}
