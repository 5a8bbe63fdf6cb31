/* The gradient sums of a layer from a chunk of samples; included verbatim after
 * nnsym_runtime.h (same macros) by the loop-form trainers.
 *
 * Row j of the layer's parameters is n_in weights and a bias, n_in + 1 numbers
 * from grad + j * (n_in + 1). For each sample c < count, inputs[c * n_in + i]
 * is its input i to the layer (a row per sample) and deltas[j * stride + c]
 * its delta of neuron j (a column per sample); add_outer adds delta_j * input_i
 * to weight (j, i) and delta_j to bias j, sample by sample in order of c: the
 * same additions, in the same order, as adding each sample's gradient in turn.
 * For each sample, one pass along the row: a loop compilers turn into vector
 * instructions (restrict: the row and the inputs never overlap), on a row
 * that stays in the level-1 cache through the chunk. */
#include <stddef.h>

static void NNSYM_RT(add_outer)(NNSYM_REAL *grad, const NNSYM_REAL *inputs, size_t n_in,
    const NNSYM_REAL *deltas, size_t n_out, size_t stride, size_t count)
{
    size_t j, c, i;
    for (j = 0; j < n_out; j++) {
        NNSYM_REAL *restrict row = grad + j * (n_in + 1);
        for (c = 0; c < count; c++) {
            const NNSYM_REAL delta = deltas[j * stride + c];
            const NNSYM_REAL *restrict input = inputs + c * n_in;
            for (i = 0; i < n_in; i++) {
                row[i] += delta * input[i];
            }
            row[n_in] += delta;
        }
    }
}
