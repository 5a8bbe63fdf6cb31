// The fixed JavaScript of every generated trainer, included verbatim (up to the
// end marker below) in each generated ES module. No dependencies; Node 18+ and
// browsers.

// splitmix64 (Steele, Lea and Flood 2014): the one generator of initParams and
// of the mini-batch shuffle in C and JavaScript, so that both draw the same
// numbers for the same seed. BigInt keeps it exact modulo 2**64.
class SplitMix64 {
  constructor(seed) {
    this.state = BigInt.asUintN(64, BigInt(seed));
  }

  next() {
    this.state = BigInt.asUintN(64, this.state + 0x9e3779b97f4a7c15n);
    let z = this.state;
    z = BigInt.asUintN(64, (z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n);
    z = BigInt.asUintN(64, (z ^ (z >> 27n)) * 0x94d049bb133111ebn);
    return z ^ (z >> 31n);
  }

  // Uniform on [-1, 1): the top 53 bits over 2**53, times 2, minus 1 (exact).
  uniform() {
    return 2 * (Number(this.next() >> 11n) / 9007199254740992) - 1;
  }
}

// Fisher-Yates from the last position down; j = next() mod (i + 1).
function _shuffle(order, rng) {
  for (let i = order.length; i > 1; i--) {
    const j = Number(rng.next() % BigInt(i));
    const kept = order[i - 1];
    order[i - 1] = order[j];
    order[j] = kept;
  }
}

// log(sum_k exp(v_k)), shifted by the largest value so that no exp() overflows.
function _logsumexp(...values) {
  const top = Math.max(...values);
  let total = 0;
  for (const v of values) total += Math.exp(v - top);
  return top + Math.log(total);
}

// The optimizers as PyTorch defines them, in the Python module's order of
// operations, so that the same gradients give the same parameters.
function _sgdStep(params, grads, lr) {
  for (let i = 0; i < params.length; i++) params[i] = params[i] - lr * grads[i];
}

function _momentumStep(params, grads, velocity, lr, momentum) {
  for (let i = 0; i < params.length; i++) {
    velocity[i] = momentum * velocity[i] + grads[i];
    params[i] -= lr * velocity[i];
  }
}

function _adamStep(params, grads, m, v, t, lr, beta1, beta2, eps) {
  const correction1 = 1.0 - Math.pow(beta1, t);
  const correction2 = 1.0 - Math.pow(beta2, t);
  for (let i = 0; i < params.length; i++) {
    m[i] = beta1 * m[i] + (1.0 - beta1) * grads[i];
    v[i] = beta2 * v[i] + (1.0 - beta2) * grads[i] * grads[i];
    params[i] -= (lr * (m[i] / correction1)) / (Math.sqrt(v[i] / correction2) + eps);
  }
}

/** Training produced a loss that is NaN or infinite. */
export class DivergenceError extends Error {
  constructor(message, epoch, lastFiniteLoss, params) {
    super(message);
    this.name = "DivergenceError";
    this.epoch = epoch;
    this.lastFiniteLoss = lastFiniteLoss;
    this.params = params;
  }
}
// -- end of the included part: below, exports for the runtime's own tests --
export { SplitMix64, _shuffle, _logsumexp, _sgdStep, _momentumStep, _adamStep };
