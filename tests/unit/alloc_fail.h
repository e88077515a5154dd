/*
 * alloc_fail: allocation-failure injection for unit tests. A test linked
 * with the wraps in tests/unit/CMakeLists.txt (alloc_fail_link) sets
 * alloc_countdown to N and the (N+1)-th allocation after it fails (one
 * only); alloc_failed counts the failures made. -1 (the default): none
 * fails. Wrapped: malloc, calloc, realloc, reallocarray, strdup, strndup,
 * realpath (when it allocates) and asprintf.
 */
#ifndef SSEMON_TEST_ALLOC_FAIL_H
#define SSEMON_TEST_ALLOC_FAIL_H

extern long alloc_countdown;
extern unsigned long alloc_failed;

#endif
