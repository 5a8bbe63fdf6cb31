/* A softmax layer's log-sum-exp as top + lp, in both forms (see
 * nnsym/pipeline/loops.py and model.evaluated_softmax); included verbatim after
 * nnsym_runtime.h (same macros) by trainers that need it. Each output is then
 * exp(-gap - lp), gap = top - z: exp(z - lse) would round lse to the size of z
 * first. Of v[0], v[stride], ..., v[(n - 1) * stride]: one sample's outputs in
 * a chunk of samples stored neuron by neuron (stride 1 in the unrolled form). */
#include <math.h>
#include <stddef.h>

/* The largest value. */
static NNSYM_REAL NNSYM_RT(softmax_top)(size_t n, const NNSYM_REAL *v,
                                        size_t stride)
{
    size_t k;
    NNSYM_REAL top = v[0];
    for (k = 1; k < n; k++) {
        if (v[k * stride] > top) {
            top = v[k * stride];
        }
    }
    return top;
}

/* log1p of the sum of exp(v_k - top) over every value but the first that
 * equals top: its term, 1, is never added, so that a tiny sum keeps its
 * digits (log(1 + 2e-35) is 0), and no exp() overflows. Summed as in
 * nnsym_logsumexp.h's logsumexp_every (Neumaier's compensated summation: the
 * correctly rounded sum of the Python module's math.fsum but in cases within
 * about n * 2**-106 of a halfway point), so that the parameters of lm follow
 * the Python module's on wider softmax layers too. */
static NNSYM_REAL NNSYM_RT(softmax_lp)(size_t n, const NNSYM_REAL *v,
                                       size_t stride, NNSYM_REAL top)
{
    size_t k;
    int skipped = 0;
    NNSYM_REAL total = 0, lost = 0, term, next;
    for (k = 0; k < n; k++) {
        if (!skipped && v[k * stride] == top) {
            skipped = 1;
        } else {
            term = NNSYM_MATH(exp)(v[k * stride] - top);
            next = total + term;
            lost += total >= term ? (total - next) + term : (term - next) + total;
            total = next;
        }
    }
    return NNSYM_MATH(log1p)(total + lost);
}
