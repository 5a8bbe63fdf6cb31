#!/bin/sh
# Rebuild the prototype's kernels and the C loop-form driver (run from proto/).
set -e
W="clang --target=wasm32 -msimd128 -O3 -fno-builtin -nostdlib -Wl,--no-entry -Wl,--export-all"
$W -o kernel.wasm kernel.c                                   # v1: straightforward f64x2, branch-free tanh
$W -DTANH_BRANCH=1 -DBIASVEC=0 -o k3.wasm kernel3.c 2>/dev/null          # v3: tanh branch per pair, constants from memory
$W -DSORTED=1 -DILV=3 -DBIASVEC=0 -o k4.wasm kernel3.c 2>/dev/null        # v4: pairs sorted large/small/mixed, shuffled transposes
$W -DSORTED=1 -DILV=3 -DBIASVEC=0 -DWHOLE_EPOCH -o k5.wasm kernel3.c 2>/dev/null  # v5: + whole epoch in wasm (V8's exp ported)
gcc -std=c99 -O3 -march=native -ffp-contract=off -D_POSIX_C_SOURCE=199309L -o cbench cbench.c -lm 2>/dev/null
$W -DSORTED=1 -DILV=3 -DWHOLE_EPOCH -DCH=8 -o k6_ch8.wasm kernel3.c 2>/dev/null  # v6: + biases of row pairs as vectors, chunk of 8 (best)
