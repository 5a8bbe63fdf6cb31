/* The Jacobian of the outputs from that of the output layer's pre-activations;
 * included verbatim after nnsym_runtime.h (same macros) by every trainer.
 *
 * rows holds n_outputs rows of n_params numbers, dz_k/dparams, and becomes
 * da_k/dparams: times the output activation's slope da_k/dz_k, or for a softmax
 * (slopes NULL) a_k (dz_k/dp - sum_j a_j dz_j/dp), each sum in order of j, as
 * _output_rows in nnsym/runtime/second_order.py. No allocation. Left out where
 * the including file defines NNSYM_NO_JACOBIAN (its Jacobian would not fit). */
#include <stddef.h>

#ifndef NNSYM_NO_JACOBIAN

static void NNSYM_RT(output_rows)(const NNSYM_REAL *outputs, NNSYM_REAL *rows,
    const NNSYM_REAL *slopes, size_t n_outputs, size_t n_params)
{
    size_t k, p;
    NNSYM_REAL mixed;
    if (slopes != NULL) {
        for (k = 0; k < n_outputs; k++) {
            for (p = 0; p < n_params; p++) {
                rows[k * n_params + p] = slopes[k] * rows[k * n_params + p];
            }
        }
        return;
    }
    for (p = 0; p < n_params; p++) {
        mixed = 0;
        for (k = 0; k < n_outputs; k++) {
            mixed = mixed + outputs[k] * rows[k * n_params + p];
        }
        for (k = 0; k < n_outputs; k++) {
            rows[k * n_params + p] = outputs[k] * (rows[k * n_params + p] - mixed);
        }
    }
}
#endif
