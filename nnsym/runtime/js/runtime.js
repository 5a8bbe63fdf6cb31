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

// tanh for the hidden layers: Cephes's algorithm, as the C runtime's NAME_tanh
// (nnsym/runtime/c/nnsym_tanh.h). V8's Math.tanh goes through expm1 and costs
// about as much as all of a small layer's other arithmetic; this is one
// Math.exp, or a rational function of x*x below |x| = 0.625, where
// 1 - 2/(exp(2|x|) + 1) would cancel. |x| is capped at 22, where tanh already
// rounds to +-1. Within 2 units in the last place (tests/test_target_js.py
// checks it against mpmath at 50 digits); tanh(-0) = -0, NaN for NaN.
function _tanh(x) {
  const z = Math.abs(x);
  if (z >= 0.625) {
    const s = Math.exp(2.0 * (z < 22.0 ? z : 22.0));
    const r = 1.0 - 2.0 / (s + 1.0);
    return x < 0 ? -r : r;
  }
  if (!(z > 0)) return x; // +-0 itself, or NaN
  const s = x * x;
  const r =
    ((-9.64399179425052238628e-1 * s + -9.92877231001918586564e1) * s + -1.61468768441708447952e3) /
    (((s + 1.12811678491632931402e2) * s + 2.23548839060100448583e3) * s + 4.84406305325125486048e3);
  return x + x * s * r;
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
export { SplitMix64, _shuffle, _logsumexp, _tanh, _sgdStep, _momentumStep, _adamStep };
