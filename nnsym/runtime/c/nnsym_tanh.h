/* tanh for the trainers' hidden layers; included verbatim after nnsym_runtime.h
 * (same macros) by trainers whose network uses tanh.
 *
 * A hidden layer calls tanh once per neuron and sample, and the C library's
 * tanh() costs about as much as all of a small layer's other arithmetic. This
 * is the algorithm of the Cephes library (S. L. Moshier), which Go's math.Tanh
 * also uses: below |x| = 0.625 x + x*s*r for s = x*x and r a rational
 * function of s fitted to tanh (a polynomial in float), above it
 * 1 - 2/(exp(2|x|) + 1), which has no cancellation because the result is at
 * least 0.55; |x| is capped at 22 in double, 10 in float, where tanh already
 * rounds to +-1, so that the result is exactly +-1 there.
 *
 * Written for vector instructions: no branch and no library call, only +, -,
 * *, / and choices between two values, so that a loop over a layer's values
 * (the loop-form trainers' NAME_chunk) compiles to vector instructions (gcc
 * -O3), and a value is the same, to the last bit, in such a loop or alone.
 * Both halves are computed for every x and one is chosen; their divisions are
 * one, of the chosen half's numerator by its denominator (a vector division
 * costs as much as a dozen multiplies). exp(t), for t = 2|x| from 1.25 to 44
 * (20 in float), is 2**n exp(u) for n = round(t / ln 2) and |u| <= ln(2) / 2:
 * n by adding and taking away 1.5 * 2**52 (2**23 in float), which rounds to
 * an integer and leaves n in the sum's last bits, from which 2**n is made
 * (IEEE 754 layout); u = t - n ln 2 in two parts (Cody and Waite); exp(u) by
 * its Taylor series to u**13 in double (the first term left out is below
 * 5e-18), by Cephes's expf polynomial in float. Not for -ffast-math, which
 * would fold the rounding away.
 *
 * Within 2 units in the last place of tanh, in double and in float
 * (tests/test_target_c.py checks it against mpmath at 50 digits; 1.3 at
 * worst measured); odd, so tanh(-0) = -0; NaN for NaN; nothing overflows. */
#include <math.h>
#include <stdint.h>

static inline NNSYM_REAL NNSYM_RT(tanh)(NNSYM_REAL x)
{
    const int single = sizeof(NNSYM_REAL) < sizeof(double);
    const int wide = sizeof(NNSYM_REAL) == 8;
    const NNSYM_REAL z = NNSYM_MATH(fabs)(x);
    const NNSYM_REAL limit = single ? (NNSYM_REAL)10.0 : (NNSYM_REAL)22.0;
    const NNSYM_REAL magic = wide ? (NNSYM_REAL)6755399441055744.0 : (NNSYM_REAL)12582912.0;
    const int is_large = z >= (NNSYM_REAL)0.625;
    /* The large half at t = 2|x|, kept within [1.25, 2 * limit] for every x. */
    const NNSYM_REAL t = (NNSYM_REAL)2.0 *
        (z < limit ? (z > (NNSYM_REAL)0.625 ? z : (NNSYM_REAL)0.625) : limit);
    /* The small half at x itself below 0.625, at 0 above. */
    const NNSYM_REAL v = is_large ? 0 : x;
    const NNSYM_REAL s = v * v;
    union {
        NNSYM_REAL value;
        uint64_t wide;
        uint32_t narrow;
    } shifted, power;
    NNSYM_REAL n, u, e, r, q;
    shifted.value = (NNSYM_REAL)1.44269504088896340736 * t + magic;
    n = shifted.value - magic;
    if (wide) {
        power.wide = (shifted.wide + 1023) << 52;
    } else {
        power.narrow = (uint32_t)((shifted.narrow + 127) << 23);
    }
    if (single) {
        u = t - n * (NNSYM_REAL)0.693359375;
        u = u - n * (NNSYM_REAL)-2.12194440e-4;
        e = (NNSYM_REAL)1.9875691500E-4;
        e = e * u + (NNSYM_REAL)1.3981999507E-3;
        e = e * u + (NNSYM_REAL)8.3334519073E-3;
        e = e * u + (NNSYM_REAL)4.1665795894E-2;
        e = e * u + (NNSYM_REAL)1.6666665459E-1;
        e = e * u + (NNSYM_REAL)5.0000001201E-1;
        e = e * (u * u) + u + (NNSYM_REAL)1.0;
        r = (NNSYM_REAL)-5.70498872745E-3;
        r = r * s + (NNSYM_REAL)2.06390887954E-2;
        r = r * s + (NNSYM_REAL)-5.37397155531E-2;
        r = r * s + (NNSYM_REAL)1.33314422036E-1;
        r = r * s + (NNSYM_REAL)-3.33332819422E-1;
        /* A polynomial: the division is the large half's alone. */
        q = (NNSYM_REAL)2.0 / (e * power.value + (NNSYM_REAL)1.0);
    } else {
        u = t - n * (NNSYM_REAL)6.93145751953125E-1;
        u = u - n * (NNSYM_REAL)1.42860682030941723212E-6;
        NNSYM_REAL p, d;
        const NNSYM_REAL uu = u * u;
        /* Cephes's exp: exp(u) = (d + p) / (d - p), p = u P(u*u), d = Q(u*u). */
        p = (NNSYM_REAL)1.26177193074810590878E-4;
        p = p * uu + (NNSYM_REAL)3.02994407707441961300E-2;
        p = (p * uu + (NNSYM_REAL)9.99999999999999999910E-1) * u;
        d = (NNSYM_REAL)3.00198505138664455042E-6;
        d = d * uu + (NNSYM_REAL)2.52448340349684104192E-3;
        d = d * uu + (NNSYM_REAL)2.27265548208155028766E-1;
        d = d * uu + (NNSYM_REAL)2.00000000000000000009E0;
        /* One division: 2 / (exp(t) + 1) = 2 (d - p) / ((d + p) 2**n + d - p),
         * or the small half's P(s) / Q(s). */
        q = (is_large ? (NNSYM_REAL)2.0 * (d - p)
                      : ((NNSYM_REAL)-9.64399179425052238628E-1 * s +
                         (NNSYM_REAL)-9.92877231001918586564E1) * s +
                            (NNSYM_REAL)-1.61468768441708447952E3) /
            (is_large ? (d + p) * power.value + (d - p)
                      : ((s + (NNSYM_REAL)1.12811678491632931402E2) * s +
                         (NNSYM_REAL)2.23548839060100448583E3) * s +
                            (NNSYM_REAL)4.84406305325125486048E3);
        r = q;
    }
    e = (NNSYM_REAL)1.0 - q;
    e = x < 0 ? -e : e;
    /* +-0 and NaN are x itself (v + v*s*r would give +0 for -0). */
    return is_large ? e : (z > 0 ? v + v * s * r : x);
}
