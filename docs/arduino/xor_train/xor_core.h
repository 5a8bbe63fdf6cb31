/* The sketch's C core: XOR learned by the generated float32 trainer (mlp_2_2_1.h),
 * a chunk of epochs at a time, in about 60 bytes of RAM besides the stack. */
#ifndef XOR_CORE_H
#define XOR_CORE_H

#ifdef __cplusplus
extern "C" {
#endif

/* Fresh parameters from splitmix64(seed) and a new run: 2000 epochs of sgd at lr 1. */
int xor_core_begin(unsigned long seed);
/* Up to `epochs` more epochs; 1 while the run has epochs left, else 0. */
int xor_core_train(long epochs);
/* Epochs run so far, and the last one's loss (the sum over the four samples). */
long xor_core_epochs(void);
float xor_core_loss(void);
/* The network's output for inputs (a, b), between 0 and 1. */
float xor_core_predict(float a, float b);

#ifdef __cplusplus
}
#endif

#endif /* XOR_CORE_H */
