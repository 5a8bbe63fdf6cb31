/* tanh for the trainers' hidden layers; included verbatim after nnsym_runtime.h
 * (same macros) by trainers whose network uses tanh.
 *
 * A hidden layer calls tanh once per neuron and sample, and the C library's
 * tanh() costs about as much as all of a small layer's other arithmetic. This
 * is the algorithm of the Cephes library (S. L. Moshier), which Go's math.Tanh
 * also uses: below |x| = 0.625 a rational function of x*x fitted to tanh, above
 * it 1 - 2/(exp(2|x|) + 1), one exp() and no cancellation because the result
 * is at least 0.55; |x| is capped at 22 in double, 10 in float, where tanh
 * already rounds to +-1, so that the result is exactly +-1 there and exp()
 * never overflows. Within 2 units in the last place of tanh, in double and in
 * float (tests/test_target_c.py checks it against mpmath at 50 digits); odd,
 * so tanh(-0) = -0; NaN for NaN. */
#include <math.h>

static NNSYM_REAL NNSYM_RT(tanh)(NNSYM_REAL x)
{
    const int single = sizeof(NNSYM_REAL) < sizeof(double);
    const NNSYM_REAL z = NNSYM_MATH(fabs)(x);
    NNSYM_REAL s, r;
    if (z >= (NNSYM_REAL)0.625) {
        /* Capped where tanh already rounds to 1 (a min, not a branch): the
         * result is then exactly 1, and exp() never overflows. */
        const NNSYM_REAL limit = single ? (NNSYM_REAL)10.0 : (NNSYM_REAL)22.0;
        s = NNSYM_MATH(exp)((NNSYM_REAL)2.0 * (z < limit ? z : limit));
        r = (NNSYM_REAL)1.0 - (NNSYM_REAL)2.0 / (s + (NNSYM_REAL)1.0);
        return x < 0 ? -r : r;
    }
    if (!(z > 0)) {
        return x; /* +-0 itself (x + x*s*r would give +0 for -0), or NaN */
    }
    s = x * x;
    if (single) {
        /* Cephes tanhf: a polynomial is enough for float's 24 bits. */
        r = (NNSYM_REAL)-5.70498872745E-3;
        r = r * s + (NNSYM_REAL)2.06390887954E-2;
        r = r * s + (NNSYM_REAL)-5.37397155531E-2;
        r = r * s + (NNSYM_REAL)1.33314422036E-1;
        r = r * s + (NNSYM_REAL)-3.33332819422E-1;
        return x + x * s * r;
    }
    r = ((NNSYM_REAL)-9.64399179425052238628E-1 * s +
         (NNSYM_REAL)-9.92877231001918586564E1) * s +
        (NNSYM_REAL)-1.61468768441708447952E3;
    r /= ((s + (NNSYM_REAL)1.12811678491632931402E2) * s +
          (NNSYM_REAL)2.23548839060100448583E3) * s +
         (NNSYM_REAL)4.84406305325125486048E3;
    return x + x * s * r;
}
