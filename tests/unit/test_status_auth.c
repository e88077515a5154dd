/* Unit tests of io/status_auth: the bcrypt hash form, checks against the
 * system's crypt_r (cost 4 hashes, fixed here), unknown users, the cache of
 * successful checks and its expiry (time injected). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "ssemon/io/status_auth.h"

/* "right" at cost 4, made with python3's crypt. */
static const char hash_right[] = "$2b$04$10asea3dZkBW2Ho5yBnR8O.euI1tOQVEPxdx.HKuAxGSe58eL3UIu";

static void test_hash_valid(void **state)
{
    (void)state;
    assert_true(status_auth_hash_valid(hash_right));
    assert_true(
        status_auth_hash_valid("$2y$04$10asea3dZkBW2Ho5yBnR8O.euI1tOQVEPxdx.HKuAxGSe58eL3UIu"));
    assert_true(
        status_auth_hash_valid("$2a$31$10asea3dZkBW2Ho5yBnR8O.euI1tOQVEPxdx.HKuAxGSe58eL3UIu"));
    assert_false(status_auth_hash_valid(NULL));
    assert_false(status_auth_hash_valid(""));
    /* cost out of range, wrong prefix, wrong length, a character outside bcrypt's alphabet */
    assert_false(
        status_auth_hash_valid("$2b$03$10asea3dZkBW2Ho5yBnR8O.euI1tOQVEPxdx.HKuAxGSe58eL3UIu"));
    assert_false(
        status_auth_hash_valid("$2b$32$10asea3dZkBW2Ho5yBnR8O.euI1tOQVEPxdx.HKuAxGSe58eL3UIu"));
    assert_false(
        status_auth_hash_valid("$2x$04$10asea3dZkBW2Ho5yBnR8O.euI1tOQVEPxdx.HKuAxGSe58eL3UIu"));
    assert_false(
        status_auth_hash_valid("$6$04$10asea3dZkBW2Ho5yBnR8O.euI1tOQVEPxdx.HKuAxGSe58eL3UIu"));
    assert_false(
        status_auth_hash_valid("$2b$04$10asea3dZkBW2Ho5yBnR8O.euI1tOQVEPxdx.HKuAxGSe58eL3UI"));
    assert_false(
        status_auth_hash_valid("$2b$04$10asea3dZkBW2Ho5yBnR8O.euI1tOQVEPxdx.HKuAxGSe58eL3UIuu"));
    assert_false(
        status_auth_hash_valid("$2b$04$10asea3dZkBW2Ho5yBnR8O+euI1tOQVEPxdx.HKuAxGSe58eL3UIu"));
}

static void test_check(void **state)
{
    (void)state;
    const struct status_auth_user users[] = {{"alice", hash_right}};
    char err[128];
    struct status_auth *a = status_auth_new(users, 1, false, err, sizeof(err));
    assert_non_null(a);
    assert_true(status_auth_check(a, "alice", "right", 1000));
    assert_false(status_auth_check(a, "alice", "wrong", 1000));
    assert_false(status_auth_check(a, "alice", "", 1000));
    assert_false(status_auth_check(a, "bob", "right", 1000));
    assert_false(status_auth_check(a, "alic", "right", 1000));
    assert_false(status_auth_check(a, "alice2", "right", 1000));
    /* Remembered, then past its time checked again: the same answers. */
    assert_true(status_auth_check(a, "alice", "right", 1000 + STATUS_AUTH_CACHE_MS - 1));
    assert_true(status_auth_check(a, "alice", "right", 1000 + STATUS_AUTH_CACHE_MS + 1));
    /* A remembered success is for that user and password only. */
    assert_false(status_auth_check(a, "alice", "righ", 2000));
    assert_false(status_auth_check(a, "alicer", "ight", 2000));
    status_auth_free(a);
}

static void test_new_refuses(void **state)
{
    (void)state;
    char err[128];
    const struct status_auth_user bad[] = {{"alice", "$2b$04$short"}};
    assert_null(status_auth_new(bad, 1, false, err, sizeof(err)));
    assert_non_null(strstr(err, "bcrypt"));
    assert_null(strstr(err, "short")); /* the hash is not quoted */
    assert_null(status_auth_new(bad, 0, false, err, sizeof(err)));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hash_valid),
        cmocka_unit_test(test_check),
        cmocka_unit_test(test_new_refuses),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
