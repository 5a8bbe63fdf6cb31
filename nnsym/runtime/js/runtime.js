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

// The loop form's softmax (nnsym/pipeline/loops.py): log(sum_k exp(v_k)) is
// top + this, top the largest value; log1p of the sum of exp(v - top) over every
// value but the first largest, whose term, 1, is never added, so that a tiny
// sum keeps its digits.
function _log1pRest(values, top) {
  let total = 0;
  let skipped = false;
  for (const v of values) {
    if (!skipped && v === top) skipped = true;
    else total += Math.exp(v - top);
  }
  return Math.log1p(total);
}

// Powers of two, 2**0 to 2**64, exact: the scale step of _tanh's exp.
const _POWERS_OF_TWO = new Float64Array(65);
for (let n = 0; n <= 64; n++) _POWERS_OF_TWO[n] = 2 ** n;

// _tanhLayer's coefficients, in a Float64Array rather than as literals: V8
// builds a literal double with two instructions at each use (into a general
// register, then across), where an element of a constant array at a constant
// index is a memory operand of the multiply or add itself. The same arithmetic,
// so the same bits (moons 2-16-16-1 loop trainer: 8 to 12% less time an epoch).
const _TANH = Float64Array.of(
  0.625, // 0: where the rational function hands over to exp
  22.0, // 1: the cap on |x|
  1.4426950408889634, // 2: 1 / ln2
  6755399441055744.0, // 3: 1.5 * 2**52
  6.93145751953125e-1, // 4: ln2, high part
  1.42860682030941723212e-6, // 5: ln2, low part
  1.26177193074810590878e-4, // 6-8: exp's p
  3.02994407707441961300e-2,
  9.99999999999999999910e-1,
  3.00198505138664455042e-6, // 9-12: exp's q
  2.52448340349684104192e-3,
  2.27265548208155028766e-1,
  2.0,
  1.0, // 13
  -9.64399179425052238628e-1, // 14-16: the rational function's numerator
  -9.92877231001918586564e1,
  -1.61468768441708447952e3,
  1.12811678491632931402e2, // 17-19: its denominator, leading coefficient 1
  2.23548839060100448583e3,
  4.84406305325125486048e3,
);

// tanh for the hidden layers, Cephes's algorithm as in the C runtime's NAME_tanh
// (nnsym/runtime/c/nnsym_tanh.h): a rational function of x*x below |x| = 0.625,
// where 1 - 2/(exp(2|x|) + 1) would cancel, and that formula above, with |x|
// capped at 22, where tanh already rounds to +-1. Its exp is also Cephes's,
// written out here: exp(r) = (q + p) / (q - p) for r = w - n*ln2 in
// [-ln2/2, ln2/2] (a Pade approximant), times 2**n from the table above.
// Why not Math.tanh or Math.exp: V8's Math.tanh goes through expm1, and both are
// calls out of the compiled loop into the engine's C++; written out, the moons
// 2-16-16-1 loop trainer runs in 123 us an epoch instead of 148 with Math.exp
// and 170 with Math.tanh. Within 2 units in the last place (tests/test_target_js.py
// checks it against mpmath at 50 digits); tanh(-0) = -0, NaN for NaN.
//
// A whole layer at a time, a[j] = tanh(z[j]) for j < count, because of how V8
// inlines: it inlines at most about 900 bytes of bytecode into one function, so
// a loop trainer with four tanh loops got the scalar function inlined into two
// and called it, with its argument and result boxed, in the others. A call per
// layer with arrays boxes nothing (moons 2-16-16-1 loop trainer: 89 to 73 us an
// epoch).
function _tanhLayer(z, a, count) {
  const c = _TANH;
  for (let j = 0; j < count; j++) {
    const x = z[j];
    const m = Math.abs(x);
    let t;
    if (m >= c[0]) {
      const capped = m < c[1] ? m : c[1];
      const w = capped + capped;
      // round(w / ln2), in 2..64, as a double: adding and subtracting 1.5 * 2**52
      // rounds to the nearest integer, so that r needs no conversion to an
      // integer and back (the index below converts it off that path; moons
      // 2-16-16-1 loop trainer: 3 to 4% less time an epoch).
      const rounded = c[2] * w + c[3] - c[3];
      const n = rounded | 0;
      // ln2 in two parts, the first exact in 15 bits, so that n * 6.93145751953125e-1 is exact.
      const r = w - rounded * c[4] - rounded * c[5];
      const rr = r * r;
      const p = r * ((c[6] * rr + c[7]) * rr + c[8]);
      const q = ((c[9] * rr + c[10]) * rr + c[11]) * rr + c[12];
      // 1 - 2 / (exp(w) + 1), with exp(w) = 2**n * (q + p) / (q - p): one division.
      const b = q - p;
      const e = c[13] - (b + b) / ((q + p) * _POWERS_OF_TWO[n] + b);
      t = x < 0 ? -e : e;
    } else if (m > 0) {
      const s = x * x;
      const r = ((c[14] * s + c[15]) * s + c[16]) / (((s + c[17]) * s + c[18]) * s + c[19]);
      t = x + x * s * r;
    } else {
      t = x; // +-0 itself, or NaN
    }
    a[j] = t;
  }
}

// tanh of one number (the unrolled form's neurons), through _tanhLayer: one
// copy of the algorithm.
const _tanhScratch = new Float64Array(1);
function _tanh(x) {
  _tanhScratch[0] = x;
  _tanhLayer(_tanhScratch, _tanhScratch, 1);
  return _tanhScratch[0];
}

// The optimizers as PyTorch defines them, in the Python module's order of
// operations, so that the same gradients give the same parameters.
function _sgdStep(params, grads, lr) {
  for (let i = 0; i < params.length; i++) params[i] = params[i] - lr * grads[i];
}

function _momentumStep(params, grads, velocity, lr, momentum, nesterov = false) {
  for (let i = 0; i < params.length; i++) {
    velocity[i] = momentum * velocity[i] + grads[i];
    params[i] -= lr * (nesterov ? grads[i] + momentum * velocity[i] : velocity[i]);
  }
}

// torch.nn.utils.clip_grad_norm_: scaled by maxNorm / (norm + 1e-6) if that is
// below 1, the 2-norm taken over all the parameters at once.
function _clipGradNorm(grads, maxNorm) {
  let squares = 0;
  for (let i = 0; i < grads.length; i++) squares += grads[i] * grads[i];
  const coefficient = maxNorm / (Math.sqrt(squares) + 1e-6);
  if (coefficient < 1.0) for (let i = 0; i < grads.length; i++) grads[i] = grads[i] * coefficient;
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
export { SplitMix64, _shuffle, _logsumexp, _log1pRest, _tanh, _tanhLayer, _sgdStep, _momentumStep, _clipGradNorm, _adamStep };
