/* Portability shims for _scan.c, force-included by setup.py where the compiler needs them
 * (MSVC: cl /FI), so that _scan.c itself can stay written for GCC and Clang.
 *
 * __builtin_add_overflow / __builtin_mul_overflow: GCC and Clang builtins that MSVC lacks.
 * _scan.c uses them on int64_t only; these functions do the same (store the wrapped result,
 * return 1 on overflow). PERFGATE_EMULATE_OVERFLOW_BUILTINS turns them on under GCC/Clang too,
 * which is how tests/packaging/test_scan_compat.py checks them against the real builtins.
 */
#ifndef PERFGATE_SCAN_COMPAT_H
#define PERFGATE_SCAN_COMPAT_H

/* Included before everything: features.h must see what _scan.c (and pyconfig.h) ask for. */
#if defined(__linux__) && !defined(_GNU_SOURCE)
#define _GNU_SOURCE 1
#endif

#if (defined(_MSC_VER) && !defined(__clang__)) || defined(PERFGATE_EMULATE_OVERFLOW_BUILTINS)
#include <stdint.h>

static __inline int perfgate_add_overflow_i64(int64_t a, int64_t b, int64_t *r) {
    *r = (int64_t)((uint64_t)a + (uint64_t)b);
    return (b > 0 && a > INT64_MAX - b) || (b < 0 && a < INT64_MIN - b);
}

static __inline int perfgate_mul_overflow_i64(int64_t a, int64_t b, int64_t *r) {
    *r = (int64_t)((uint64_t)a * (uint64_t)b);
    if (a == 0 || b == 0) return 0;
    if (a > 0) return b > 0 ? a > INT64_MAX / b : b < INT64_MIN / a;
    return b > 0 ? a < INT64_MIN / b : a < INT64_MAX / b;
}

#undef __builtin_add_overflow
#undef __builtin_mul_overflow
#define __builtin_add_overflow(a, b, r) perfgate_add_overflow_i64((a), (b), (r))
#define __builtin_mul_overflow(a, b, r) perfgate_mul_overflow_i64((a), (b), (r))
#endif

#endif /* PERFGATE_SCAN_COMPAT_H */
