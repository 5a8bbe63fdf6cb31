/* log(sum_k exp(v_k)) of n values, for softmax and cross-entropy; included
 * verbatim after nnsym_runtime.h (same macros) by trainers that need it. */
#include <math.h>
#include <stddef.h>

/* Of v[0], v[stride], ..., v[(n - 1) * stride]: one sample's outputs in a
 * chunk of samples stored neuron by neuron. Shifted by the largest value, so
 * that no exp() overflows and the largest term is exactly 1: the sum is at
 * least 1 and its log never -inf. */
static NNSYM_REAL NNSYM_RT(logsumexp_every)(size_t n, const NNSYM_REAL *v,
                                            size_t stride)
{
    size_t k;
    NNSYM_REAL top = v[0], total = 0;
    for (k = 1; k < n; k++) {
        if (v[k * stride] > top) {
            top = v[k * stride];
        }
    }
    for (k = 0; k < n; k++) {
        total += NNSYM_MATH(exp)(v[k * stride] - top);
    }
    return top + NNSYM_MATH(log)(total);
}

static NNSYM_REAL NNSYM_RT(logsumexp)(size_t n, const NNSYM_REAL *v)
{
    return NNSYM_RT(logsumexp_every)(n, v, 1);
}
