/* The fixed C of every generated trainer, included verbatim after its macros.
 *
 * The including file defines NNSYM_RT(name) (its NAME_ prefix: two trainers can
 * live in one program), NNSYM_REAL (double or float) and NNSYM_MATH(f) (f, or
 * f##f for the float versions: expf, sqrtf). A file that compiles the runtime on
 * its own, as the tests do, includes nnsym_defaults.h first: the double version
 * prefixed nnsym_.
 * Only <math.h> and <stddef.h>; no allocation: every buffer is the caller's.
 */
#include <math.h>
#include <stddef.h>

/* avr-libc has no log1p, which softplus and the ce loss use: Goldberg's form,
 * as accurate near 0, where log(1 + x) alone would lose every digit. Undefined
 * again at the end of the implementation. */
#if defined(__AVR__) && !defined(log1pf)
#define NNSYM_AVR_LOG1P
static inline double NNSYM_RT(avr_log1p)(double x)
{
    double u = 1.0 + x;
    return u == 1.0 ? x : log(u) * (x / (u - 1.0));
}
#define log1p(x) NNSYM_RT(avr_log1p)(x)
#define log1pf(x) ((float)NNSYM_RT(avr_log1p)(x))
#endif

/* avr-libc has no expm1, which elu and the loop form's ce delta (1 - a) use:
 * Kahan's form, as accurate near 0. Undefined again at the end of the
 * implementation. */
#if defined(__AVR__) && !defined(expm1f)
#define NNSYM_AVR_EXPM1
static inline double NNSYM_RT(avr_expm1)(double x)
{
    double u = exp(x);
    if (u == 1.0) {
        return x;
    }
    if (u - 1.0 == -1.0) {
        return -1.0;
    }
    return (u - 1.0) * (x / log(u));
}
#define expm1(x) NNSYM_RT(avr_expm1)(x)
#define expm1f(x) ((float)NNSYM_RT(avr_expm1)(x))
#endif

/* splitmix64 (Steele, Lea and Flood 2014): the one generator of init_params and
 * of the mini-batch shuffle in C and JavaScript, so that both draw the same
 * numbers for the same seed. unsigned long long has at least 64
 * bits; the mask keeps the arithmetic modulo 2**64 where it has more. */
#define NNSYM_MASK64 0xFFFFFFFFFFFFFFFFULL

typedef struct {
    unsigned long long state;
} NNSYM_RT(rng);

static void NNSYM_RT(rng_seed)(NNSYM_RT(rng) *rng, unsigned long seed)
{
    rng->state = (unsigned long long)seed & NNSYM_MASK64;
}

static unsigned long long NNSYM_RT(rng_next)(NNSYM_RT(rng) *rng)
{
    unsigned long long z;
    rng->state = (rng->state + 0x9E3779B97F4A7C15ULL) & NNSYM_MASK64;
    z = rng->state;
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL) & NNSYM_MASK64;
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EBULL) & NNSYM_MASK64;
    return z ^ (z >> 31);
}

/* Uniform on [-1, 1): the top 53 bits as a double in [0, 1), times 2, minus 1;
 * every step is exact in double, so every target gets the same number. */
static double NNSYM_RT(rng_uniform)(NNSYM_RT(rng) *rng)
{
    double unit = (double)(NNSYM_RT(rng_next)(rng) >> 11) / 9007199254740992.0;
    return 2.0 * unit - 1.0;
}

/* Fisher-Yates from the last position down; j = next() mod (i + 1). */
static void NNSYM_RT(shuffle)(size_t *order, size_t n, NNSYM_RT(rng) *rng)
{
    size_t i, j, kept;
    for (i = n; i > 1; i--) {
        j = (size_t)(NNSYM_RT(rng_next)(rng) % (unsigned long long)i);
        kept = order[i - 1];
        order[i - 1] = order[j];
        order[j] = kept;
    }
}

/* The optimizers as PyTorch defines them (SGD, SGD with momentum without
 * dampening, Adam), in the order of operations of the Python module, so that
 * the same gradients give the same parameters to the last bit. */
static void NNSYM_RT(sgd_step)(NNSYM_REAL *params, const NNSYM_REAL *grads, size_t n,
                               NNSYM_REAL lr)
{
    size_t i;
    for (i = 0; i < n; i++) {
        params[i] = params[i] - lr * grads[i];
    }
}

/* sgd_step after dividing the sums by count (count 1 for a sum, which divides
 * exactly), in one pass over the parameters: the same operations as the two
 * passes one after the other, so the same bits, reading the sums and the
 * parameters once (784-128-10 in the loop form: 3% less time an epoch). */
static void NNSYM_RT(mean_sgd_step)(NNSYM_REAL *params, const NNSYM_REAL *sums, size_t n,
                                    NNSYM_REAL lr, NNSYM_REAL count)
{
    size_t i;
    for (i = 0; i < n; i++) {
        params[i] = params[i] - lr * (sums[i] / count);
    }
}

/* nesterov: the step is g + momentum * velocity (PyTorch's definition). */
static void NNSYM_RT(momentum_step)(NNSYM_REAL *params, const NNSYM_REAL *grads,
                                    NNSYM_REAL *velocity, size_t n, NNSYM_REAL lr,
                                    NNSYM_REAL momentum, int nesterov)
{
    size_t i;
    for (i = 0; i < n; i++) {
        velocity[i] = momentum * velocity[i] + grads[i];
        params[i] -= lr * (nesterov ? grads[i] + momentum * velocity[i] : velocity[i]);
    }
}

static void NNSYM_RT(adam_step)(NNSYM_REAL *params, const NNSYM_REAL *grads,
                                NNSYM_REAL *m, NNSYM_REAL *v, size_t n, long t,
                                NNSYM_REAL lr, NNSYM_REAL beta1, NNSYM_REAL beta2,
                                NNSYM_REAL eps)
{
    size_t i;
    NNSYM_REAL correction1 = (NNSYM_REAL)1.0 - NNSYM_MATH(pow)(beta1, (NNSYM_REAL)t);
    NNSYM_REAL correction2 = (NNSYM_REAL)1.0 - NNSYM_MATH(pow)(beta2, (NNSYM_REAL)t);
    for (i = 0; i < n; i++) {
        m[i] = beta1 * m[i] + ((NNSYM_REAL)1.0 - beta1) * grads[i];
        v[i] = beta2 * v[i] + ((NNSYM_REAL)1.0 - beta2) * grads[i] * grads[i];
        params[i] -= lr * (m[i] / correction1) /
                     (NNSYM_MATH(sqrt)(v[i] / correction2) + eps);
    }
}

/* Weight decay, as the Python module's _penalty and _decayed: the objective's L2
 * term is weight_decay / 2 times the sum of the squared weights, the biases not
 * decayed (scikit-learn's alpha). The parameters are rows of widths[l] weights
 * and a bias, widths[l + 1] rows for layer l + 1, layer by layer. */
static NNSYM_REAL NNSYM_RT(penalty)(const NNSYM_REAL *params, const size_t *widths,
                                    size_t n_layers, NNSYM_REAL weight_decay)
{
    size_t layer, row, i, at = 0;
    NNSYM_REAL total = 0;
    for (layer = 0; layer < n_layers; layer++) {
        for (row = 0; row < widths[layer + 1]; row++) {
            for (i = 0; i < widths[layer]; i++, at++) {
                total += params[at] * params[at];
            }
            at++; /* the row's bias */
        }
    }
    return (NNSYM_REAL)0.5 * weight_decay * total;
}

/* coefficient * w added to each weight's gradient (weight_decay: the L2
 * term's gradient), and, if diagonal is not NULL, coefficient to the weights'
 * entries on the diagonal of a packed lower triangle (row i from i (i + 1) / 2:
 * lm's system). */
static void NNSYM_RT(add_decay)(NNSYM_REAL *grads, const NNSYM_REAL *params,
                                const size_t *widths, size_t n_layers,
                                NNSYM_REAL coefficient, NNSYM_REAL *diagonal)
{
    size_t layer, row, i, at = 0;
    for (layer = 0; layer < n_layers; layer++) {
        for (row = 0; row < widths[layer + 1]; row++) {
            for (i = 0; i < widths[layer]; i++, at++) {
                if (diagonal != NULL) {
                    diagonal[at * (at + 1) / 2 + at] += coefficient;
                }
                grads[at] = grads[at] + coefficient * params[at];
            }
            at++;
        }
    }
}

/* torch.nn.utils.clip_grad_norm_, as the Python module's _clipped: the gradient
 * scaled by max_norm / (norm + 1e-6) where that is below 1, the norm taken over
 * all the parameters at once. */
static void NNSYM_RT(clip_grad_norm)(NNSYM_REAL *grads, size_t n, NNSYM_REAL max_norm)
{
    size_t i;
    NNSYM_REAL total = 0, coefficient;
    for (i = 0; i < n; i++) {
        total += grads[i] * grads[i];
    }
    coefficient = max_norm / (NNSYM_MATH(sqrt)(total) + (NNSYM_REAL)1e-6);
    if (coefficient < 1) {
        for (i = 0; i < n; i++) {
            grads[i] = grads[i] * coefficient;
        }
    }
}
