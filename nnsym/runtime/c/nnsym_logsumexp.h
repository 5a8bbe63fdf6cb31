/* log(sum_k exp(v_k)) of n values, for softmax and cross-entropy; included
 * verbatim after nnsym_runtime.h (same macros) by trainers that need it. */
#include <math.h>
#include <stddef.h>

/* Of v[0], v[stride], ..., v[(n - 1) * stride]: one sample's outputs in a
 * chunk of samples stored neuron by neuron. Shifted by the largest value, so
 * that no exp() overflows and the largest term is exactly 1: the sum is at
 * least 1 and its log never -inf.
 * The terms are added with Neumaier's compensated summation: `lost` gathers
 * each addition's rounding error, exactly (the larger term first; the terms
 * are at least 0), so total + lost is the correctly rounded sum, as the Python
 * module's math.fsum gives it, unless the exact sum lies within about
 * n * 2**-106 of itself from a halfway point between two numbers (for two
 * terms, never). Added in order, the sum differed from fsum's in its last bit
 * now and then, which Levenberg-Marquardt's nearly singular steps on a softmax
 * amplified tenfold a step (6 outputs: 1e-10 in the parameters after 12 steps,
 * 2e-2 after 20). Plain adds:
 * compilers reassociate them only under -ffast-math, which nothing here uses. */
static NNSYM_REAL NNSYM_RT(logsumexp_every)(size_t n, const NNSYM_REAL *v,
                                            size_t stride)
{
    size_t k;
    NNSYM_REAL top = v[0], total = 0, lost = 0, term, next;
    for (k = 1; k < n; k++) {
        if (v[k * stride] > top) {
            top = v[k * stride];
        }
    }
    for (k = 0; k < n; k++) {
        term = NNSYM_MATH(exp)(v[k * stride] - top);
        next = total + term;
        lost += total >= term ? (total - next) + term : (term - next) + total;
        total = next;
    }
    return top + NNSYM_MATH(log)(total + lost);
}

static NNSYM_REAL NNSYM_RT(logsumexp)(size_t n, const NNSYM_REAL *v)
{
    return NNSYM_RT(logsumexp_every)(n, v, 1);
}
