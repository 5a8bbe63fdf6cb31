/* The gradient sums of a layer from a chunk of samples; included verbatim after
 * nnsym_runtime.h (same macros) by the loop-form trainers.
 *
 * Row j of the layer's parameters is n_in weights and a bias, n_in + 1 numbers
 * from grad + j * (n_in + 1). For each sample c < count, inputs[c * n_in + i]
 * is its input i to the layer and deltas[c * n_out + j] its delta of neuron j;
 * this adds delta_j * input_i to weight (j, i) and delta_j to bias j, sample by
 * sample in order of c: the same additions, in the same order, as adding each
 * sample's gradient in turn. Four weights of a row at a time, each sum held in
 * a register through the chunk, not loaded and stored once per sample. */
#include <stddef.h>

static void NNSYM_RT(add_outer)(NNSYM_REAL *grad, const NNSYM_REAL *inputs, size_t n_in,
    const NNSYM_REAL *deltas, size_t n_out, size_t count)
{
    const size_t whole = n_in - n_in % 4;
    size_t j, i, c;
    for (j = 0; j < n_out; j++) {
        NNSYM_REAL *row = grad + j * (n_in + 1);
        NNSYM_REAL g0, g1, g2, g3;
        for (i = 0; i < whole; i += 4) {
            g0 = row[i];
            g1 = row[i + 1];
            g2 = row[i + 2];
            g3 = row[i + 3];
            for (c = 0; c < count; c++) {
                const NNSYM_REAL delta = deltas[c * n_out + j];
                const NNSYM_REAL *input = inputs + c * n_in + i;
                g0 += delta * input[0];
                g1 += delta * input[1];
                g2 += delta * input[2];
                g3 += delta * input[3];
            }
            row[i] = g0;
            row[i + 1] = g1;
            row[i + 2] = g2;
            row[i + 3] = g3;
        }
        for (; i < n_in; i++) {
            g0 = row[i];
            for (c = 0; c < count; c++) {
                g0 += deltas[c * n_out + j] * inputs[c * n_in + i];
            }
            row[i] = g0;
        }
        g0 = row[n_in];
        for (c = 0; c < count; c++) {
            g0 += deltas[c * n_out + j];
        }
        row[n_in] = g0;
    }
}
