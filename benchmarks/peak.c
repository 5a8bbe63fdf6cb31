/* This machine's floating-point limit for the C trainers' kind of code: a
 * multiply and a separate add (the trainers are built with
 * -ffp-contract=off, so no multiply-add is fused), on LANES independent
 * chains, which gcc vectorizes to the widest vectors -march=native allows;
 * LANES is large enough to keep every multiplier and adder busy through their
 * latency. Each repetition is LANES multiplies and LANES adds: 2 * LANES
 * floating-point operations. The result is returned so that nothing is
 * optimized away. */
#include <stddef.h>

#define LANES 128

double peak_double(long repetitions)
{
    double acc[LANES];
    const double scale = 0.999999, shift = 1e-6;
    double total = 0;
    long r;
    size_t k;
    for (k = 0; k < LANES; k++) {
        acc[k] = (double)k;
    }
    for (r = 0; r < repetitions; r++) {
        for (k = 0; k < LANES; k++) {
            acc[k] = acc[k] * scale + shift;
        }
    }
    for (k = 0; k < LANES; k++) {
        total += acc[k];
    }
    return total;
}

double peak_float(long repetitions)
{
    float acc[LANES];
    const float scale = 0.999999f, shift = 1e-6f;
    double total = 0;
    long r;
    size_t k;
    for (k = 0; k < LANES; k++) {
        acc[k] = (float)k;
    }
    for (r = 0; r < repetitions; r++) {
        for (k = 0; k < LANES; k++) {
            acc[k] = acc[k] * scale + shift;
        }
    }
    for (k = 0; k < LANES; k++) {
        total += acc[k];
    }
    return total;
}
