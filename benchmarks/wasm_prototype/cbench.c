/* C loop form timing: ./cbench EPOCHS ROUNDS -> one line per round: wall and CPU us/epoch;
 * then the final loss and the params after EPOCHS epochs. */
#define MLP_2_16_16_1_TANH_SIGMOID_MSE_LOOPS_IMPLEMENTATION
#include "moons_loops.h"
#include "data.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#define P(x) mlp_2_16_16_1_tanh_sigmoid_mse_loops_##x
static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + 1e-9 * t.tv_nsec; }
static double cpu(void) { struct timespec t; clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t); return t.tv_sec + 1e-9 * t.tv_nsec; }
int main(int argc, char **argv) {
    long epochs = argc > 1 ? atol(argv[1]) : 1000;
    int rounds = argc > 2 ? atoi(argv[2]) : 1;
    static double params[337], history[100000];
    static size_t order[200];
    P(options) o; P(default_options)(&o);
    o.reduction = MLP_2_16_16_1_TANH_SIGMOID_MSE_LOOPS_MEAN; o.lr = 1.0;
    long run;
    o.epochs = epochs / 10 > 0 ? epochs / 10 : 1;  /* warm-up */
    memcpy(params, DATA_PARAMS, sizeof params);
    P(train)(params, DATA_XS, DATA_YS, 200, &o, order, history, &run);
    o.epochs = epochs;
    for (int r = 0; r < rounds; r++) {
        memcpy(params, DATA_PARAMS, sizeof params);
        double t0 = now(), c0 = cpu();
        int code = P(train)(params, DATA_XS, DATA_YS, 200, &o, order, history, &run);
        double t1 = now(), c1 = cpu();
        if (code) { fprintf(stderr, "code %d\n", code); return 1; }
        printf("%.3f %.3f\n", (t1 - t0) / epochs * 1e6, (c1 - c0) / epochs * 1e6);
    }
    if (rounds == 0) {
        memcpy(params, DATA_PARAMS, sizeof params);
        P(train)(params, DATA_XS, DATA_YS, 200, &o, order, history, &run);
    }
    printf("loss %.17g\n", history[epochs - 1]);
    for (int i = 0; i < 337; i++) printf("%.17g\n", params[i]);
    return 0;
}
