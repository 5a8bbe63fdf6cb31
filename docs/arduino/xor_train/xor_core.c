/* The sketch's C core (see xor_core.h), compiled as C99 by the Arduino IDE next
 * to xor_train.ino; the tests build it with avr-gcc and run it under simavr. */
#define MLP_2_2_1_IMPLEMENTATION
#include "mlp_2_2_1.h"
#include "xor_core.h"

static const mlp_2_2_1_real xs[] = {0, 0, 0, 1, 1, 0, 1, 1};
static const mlp_2_2_1_real ys[] = {0, 1, 1, 0};
static mlp_2_2_1_real params[MLP_2_2_1_N_PARAMS];
/* sgd keeps no optimizer state; momentum or adam would need
 * MLP_2_2_1_N_MOMENTS(optimizer) numbers here. */
static mlp_2_2_1_real moments[1];
static mlp_2_2_1_trainer trainer;

int xor_core_begin(unsigned long seed)
{
    mlp_2_2_1_options options;
    mlp_2_2_1_default_options(&options); /* sgd, sum, lr 1, 2000 epochs */
    mlp_2_2_1_init_params(params, seed);
    return mlp_2_2_1_trainer_init(&trainer, &options, 4, NULL, moments);
}

int xor_core_train(long epochs)
{
    /* No history: the last loss is trainer.objective. */
    mlp_2_2_1_train_epochs(&trainer, params, xs, ys, epochs, NULL);
    return !trainer.finished;
}

long xor_core_epochs(void)
{
    return trainer.epochs_run;
}

float xor_core_loss(void)
{
    return trainer.objective;
}

float xor_core_predict(float a, float b)
{
    mlp_2_2_1_real x[2], out[1];
    x[0] = a;
    x[1] = b;
    mlp_2_2_1_forward(params, x, out);
    return out[0];
}
