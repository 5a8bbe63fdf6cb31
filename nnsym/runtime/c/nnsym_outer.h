/* The gradient sums of a layer from a chunk of samples; included verbatim after
 * nnsym_runtime.h (same macros) by the loop-form trainers.
 *
 * Row j of the layer's parameters is n_in weights and a bias, n_in + 1 numbers
 * from grad + j * (n_in + 1). For each sample c < count, inputs[c * n_in + i]
 * is its input i to the layer (a row per sample) and deltas[j * stride + c]
 * its delta of neuron j (a column per sample); add_outer adds delta_j * input_i
 * to weight (j, i) and delta_j to bias j, sample by sample in order of c: the
 * same additions, in the same order, as adding each sample's gradient in turn.
 *
 * Blocked for the registers: a block of four rows by NNSYM_OUTER_COLUMNS
 * weights is loaded once, takes the whole chunk's samples in order of c, and
 * is stored once, rather than each weight being loaded and stored once per
 * sample. The block's loops have constant lengths, so compilers keep it in
 * vector registers (gcc -O3: eight 8-wide registers for double; 5% to 10%
 * faster than two rows at 784-128-10). Blocks go
 * column block by column block, so that the inputs of one (count samples of
 * NNSYM_OUTER_COLUMNS numbers) stay in the level-1 cache for every row. The
 * columns left over and the biases go one weight at a time. */
#include <stddef.h>

#define NNSYM_OUTER_COLUMNS 16

static void NNSYM_RT(add_outer)(NNSYM_REAL *restrict grad,
    const NNSYM_REAL *restrict inputs, size_t n_in, const NNSYM_REAL *restrict deltas,
    size_t n_out, size_t stride, size_t count)
{
    const size_t width = n_in + 1;
    const size_t blocked = n_in - n_in % NNSYM_OUTER_COLUMNS;
    const size_t rows = n_out - n_out % 4;
    size_t i, j, c, k;
    for (i = 0; i < blocked; i += NNSYM_OUTER_COLUMNS) {
        for (j = 0; j < rows; j += 4) {
            NNSYM_REAL *const row0 = grad + j * width + i;
            NNSYM_REAL *const row1 = row0 + width;
            NNSYM_REAL *const row2 = row1 + width;
            NNSYM_REAL *const row3 = row2 + width;
            const NNSYM_REAL *const delta0 = deltas + j * stride;
            const NNSYM_REAL *const delta1 = delta0 + stride;
            const NNSYM_REAL *const delta2 = delta1 + stride;
            const NNSYM_REAL *const delta3 = delta2 + stride;
            NNSYM_REAL sums0[NNSYM_OUTER_COLUMNS], sums1[NNSYM_OUTER_COLUMNS];
            NNSYM_REAL sums2[NNSYM_OUTER_COLUMNS], sums3[NNSYM_OUTER_COLUMNS];
            for (k = 0; k < NNSYM_OUTER_COLUMNS; k++) {
                sums0[k] = row0[k];
                sums1[k] = row1[k];
                sums2[k] = row2[k];
                sums3[k] = row3[k];
            }
            for (c = 0; c < count; c++) {
                const NNSYM_REAL *const input = inputs + c * n_in + i;
                for (k = 0; k < NNSYM_OUTER_COLUMNS; k++) {
                    sums0[k] += delta0[c] * input[k];
                    sums1[k] += delta1[c] * input[k];
                    sums2[k] += delta2[c] * input[k];
                    sums3[k] += delta3[c] * input[k];
                }
            }
            for (k = 0; k < NNSYM_OUTER_COLUMNS; k++) {
                row0[k] = sums0[k];
                row1[k] = sums1[k];
                row2[k] = sums2[k];
                row3[k] = sums3[k];
            }
        }
        /* The rows left over, from a bound computed once: with j carried on
         * from the loop above, gcc -O3 warned of undefined behaviour here. */
        for (j = rows; j < n_out; j++) {
            NNSYM_REAL *const row0 = grad + j * width + i;
            const NNSYM_REAL *const delta0 = deltas + j * stride;
            NNSYM_REAL sums0[NNSYM_OUTER_COLUMNS];
            for (k = 0; k < NNSYM_OUTER_COLUMNS; k++) {
                sums0[k] = row0[k];
            }
            for (c = 0; c < count; c++) {
                const NNSYM_REAL *const input = inputs + c * n_in + i;
                for (k = 0; k < NNSYM_OUTER_COLUMNS; k++) {
                    sums0[k] += delta0[c] * input[k];
                }
            }
            for (k = 0; k < NNSYM_OUTER_COLUMNS; k++) {
                row0[k] = sums0[k];
            }
        }
    }
    for (j = 0; j < n_out; j++) {
        NNSYM_REAL *const row = grad + j * width;
        const NNSYM_REAL *const delta = deltas + j * stride;
        NNSYM_REAL sum;
        for (k = blocked; k < n_in; k++) {
            sum = row[k];
            for (c = 0; c < count; c++) {
                sum += delta[c] * inputs[c * n_in + k];
            }
            row[k] = sum;
        }
        sum = row[n_in];
        for (c = 0; c < count; c++) {
            sum += delta[c];
        }
        row[n_in] = sum;
    }
}
