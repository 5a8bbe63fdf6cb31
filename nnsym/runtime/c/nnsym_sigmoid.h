/* sigmoid for the loop-form trainers' layers; included verbatim after
 * nnsym_runtime.h (same macros) by the loop-form trainers, whose first-order
 * code (NAME_loss_and_grad, NAME_chunk) calls it; their lm Jacobian
 * (NAME_jacobian_parts) keeps the table's 1/(1 + exp(-x)), see
 * docs/targets.md.
 *
 * The Python module's sigmoid, 1/(1 + exp(-x)) (exp(x) below -709), calls the
 * C library's exp(), which no compiler turns into vector instructions: over a
 * 16-wide layer it is most of the layer's time. This one is written like
 * nnsym_tanh.h, for vector instructions: no branch and no library call, only
 * +, -, *, / and choices between two values, so that a loop over a layer's
 * values (NAME_chunk) compiles to vector instructions (gcc -O3), and a value
 * is the same, to the last bit, in such a loop or alone.
 *
 * With e = exp(-|x|), s = sigmoid(-|x|) = e/(1 + e), at most 1/2, and
 * sigmoid(x) is s for x < 0, 1 - s for x >= 0: a division of numbers that do
 * not cancel, so s keeps its relative precision where it is tiny
 * (sigmoid(-700) is 9.9e-305, which 0.5 + 0.5 tanh(x/2) would round to 0), and
 * 1 - s, rounded once, is as close to the exact value near 1 as a double can
 * be but for a fraction of s's own error. e is 2**n exp(u) for
 * n = round(-|x| / ln 2) and |u| <= ln(2) / 2, as in nnsym_tanh.h: n by adding
 * and taking away 1.5 * 2**52 (2**23 in float), 2**n made from n's bits
 * (IEEE 754 layout), u = -|x| - n ln 2 in two parts (Cody and Waite), exp(u)
 * as Cephes's rational function (d + p) / (d - p) in double, 1 + Cephes's
 * expf polynomial in float (d - p = 1). With numerator and denominator kept
 * apart, s = 2**n (d + p) / ((d - p) + 2**n (d + p)) is one division. Its
 * roundings would add up to 2.4 units in the last place; each sum's rounding
 * error is recovered exactly (Fast2Sum: the larger term first) and the
 * quotient corrected for them to first order, which leaves the division's
 * rounding and the polynomials' own.
 *
 * 2**n is below the smallest normal number when s is subnormal (x < -708.4 in
 * double, -87.3 in float): there the power is made of n + 600 (n + 60 in
 * float) and the quotient multiplied by 2**-600 (2**-60), so that s is rounded
 * to a subnormal once, at the end. |x| is capped at 746 (104 in float), past
 * which sigmoid rounds to 0 or 1: exactly 0 and 1 there, and nothing
 * overflows. Not for -ffast-math, which would fold the roundings away.
 *
 * Within 2 units in the last place of sigmoid, in double and in float
 * (tests/test_c_sigmoid.py checks it against mpmath at 50 digits over
 * [-746, 40] in double, [-105, 20] in float; docs/targets.md has the worst
 * cases measured); NaN for NaN. */
#include <math.h>
#include <stdint.h>

static inline NNSYM_REAL NNSYM_RT(branchless_sigmoid)(NNSYM_REAL x)
{
    const int wide = sizeof(NNSYM_REAL) == 8;
    const NNSYM_REAL magnitude = NNSYM_MATH(fabs)(x);
    const NNSYM_REAL limit = wide ? (NNSYM_REAL)746.0 : (NNSYM_REAL)104.0;
    /* Written so that NaN stays NaN (a comparison with NaN is false). */
    const NNSYM_REAL z = magnitude > limit ? limit : magnitude;
    const NNSYM_REAL magic = wide ? (NNSYM_REAL)6755399441055744.0 : (NNSYM_REAL)12582912.0;
    union {
        NNSYM_REAL value;
        uint64_t wide;
        uint32_t narrow;
    } shifted, power, factor;
    NNSYM_REAL n, u, scale, high, low, over, over_low, inverse;
    shifted.value = (NNSYM_REAL)-1.44269504088896340736 * z + magic;
    n = shifted.value - magic;
    /* 2**n would be subnormal: 2**(n + 600) now, 2**-600 at the end. */
    const int tiny = n < (wide ? (NNSYM_REAL)-1000.0 : (NNSYM_REAL)-100.0);
    if (wide) {
        power.wide = (shifted.wide + (tiny ? 1623u : 1023u)) << 52;
        factor.wide = (uint64_t)(tiny ? 423u : 1023u) << 52;
    } else {
        power.narrow = (uint32_t)((shifted.narrow + (tiny ? 187u : 127u)) << 23);
        factor.narrow = (uint32_t)(tiny ? 67u : 127u) << 23;
    }
    /* 2**-600 (2**-60) or 1 from its bits: as a literal, 2**-600 would be 0
     * where double has 32 bits (avr-gcc). */
    scale = factor.value;
    if (wide) {
        u = -z - n * (NNSYM_REAL)6.93145751953125E-1;
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
        /* d + p and d - p rounded, and what each lost (Fast2Sum: |p| < d). */
        high = d + p;
        low = (d - high) + p;
        over = d - p;
        over_low = (d - over) - p;
        /* 1/(d - p) to within 1%, for the correction alone. */
        inverse = (NNSYM_REAL)0.25 * u + (NNSYM_REAL)0.5;
    } else {
        u = -z - n * (NNSYM_REAL)0.693359375;
        u = u - n * (NNSYM_REAL)-2.12194440e-4;
        NNSYM_REAL e = (NNSYM_REAL)1.9875691500E-4;
        e = e * u + (NNSYM_REAL)1.3981999507E-3;
        e = e * u + (NNSYM_REAL)8.3334519073E-3;
        e = e * u + (NNSYM_REAL)4.1665795894E-2;
        e = e * u + (NNSYM_REAL)1.6666665459E-1;
        e = e * u + (NNSYM_REAL)5.0000001201E-1;
        e = e * (u * u) + u;
        /* exp(u) = 1 + e, rounded, and what it lost (Fast2Sum: |e| < 1). */
        high = (NNSYM_REAL)1.0 + e;
        low = ((NNSYM_REAL)1.0 - high) + e;
        over = (NNSYM_REAL)1.0;
        over_low = 0;
        inverse = (NNSYM_REAL)1.0;
    }
    /* exp(-|x|) = (high + low) 2**n / (over + over_low), 2**n = power * scale,
     * and sigmoid(-|x|) = big / sum, less than 1/2, to be corrected. */
    const NNSYM_REAL big = high * power.value;
    const NNSYM_REAL tail = big * scale;
    const NNSYM_REAL sum = over + tail;
    const NNSYM_REAL lost = (((over - sum) + tail) + over_low) + low * power.value * scale;
    const NNSYM_REAL quotient = big / sum;
    /* The exact quotient is quotient + (low power - lost quotient) / sum, and
     * 1/sum is inverse (1 - quotient scale). */
    const NNSYM_REAL share = (NNSYM_REAL)1.0 - quotient * scale;
    const NNSYM_REAL small =
        (quotient + (low * power.value - lost * quotient) * (share * inverse)) * scale;
    /* 1 - small, rounded once, is within half a unit of 1 - sigmoid(-|x|) but
     * for small's own error, a fraction of a unit of the result's. */
    return x < 0 ? small : (NNSYM_REAL)1.0 - small;
}

