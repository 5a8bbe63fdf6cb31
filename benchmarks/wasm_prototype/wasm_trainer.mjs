// The moons 2-16-16-1 loop-form epoch (full batch, sgd, mse mean) with its hot
// loops in a kernel .wasm (SIMD128 f64x2); the sigmoid output and the loss in
// JS, as the generated trainer writes them. makeTrainer(file) -> train(xs, ys, options).
import { readFileSync } from "node:fs";

export async function makeTrainer(file = "kernel2_b1.wasm") {
  const bytes = readFileSync(new URL("./" + file, import.meta.url));
  const { instance } = await WebAssembly.instantiate(bytes, {});
  const k = instance.exports;
  const mem = k.memory.buffer;
  const params = new Float64Array(mem, k.p_params(), 337);
  const grad = new Float64Array(mem, k.p_grad(), 337);
  const xsBuf = new Float64Array(mem, k.p_xs(), 4096 * 2);
  const CH = 16;
  const z3c = new Float64Array(mem, k.p_z3c(), CH);
  const d3c = new Float64Array(mem, k.p_d3c(), CH);
  const { fwd, bwd, sgd } = k;
  if (k.epoch) {
    // The whole epoch in wasm (kernel5): one call an epoch.
    const ysBuf = new Float64Array(mem, k.p_ys(), 4096);
    const epoch = k.epoch;
    return function trainWhole(xs, ys, { lr, epochs, params: start }) {
      const n = xs.length;
      for (let s = 0; s < n; s++) {
        xsBuf[2 * s] = xs[s][0];
        xsBuf[2 * s + 1] = xs[s][1];
        ysBuf[s] = ys[s][0];
      }
      params.set(start);
      const history = [];
      for (let e = 0; e < epochs; e++) {
        const batchLoss = epoch(n, lr);
        if (!Number.isFinite(batchLoss)) throw new Error("diverged");
        history.push(batchLoss / n);
      }
      return { params: Array.from(params), history };
    };
  }
  return function train(xs, ys, { lr, epochs, params: start }) {
    const n = xs.length;
    const y = new Float64Array(n);
    for (let s = 0; s < n; s++) {
      xsBuf[2 * s] = xs[s][0];
      xsBuf[2 * s + 1] = xs[s][1];
      y[s] = ys[s][0];
    }
    params.set(start);
    const history = [];
    for (let epoch = 0; epoch < epochs; epoch++) {
      grad.fill(0);
      let batchLoss = 0;
      for (let s = 0; s < n; s += CH) {
        const count = Math.min(CH, n - s);
        fwd(s, count);
        for (let c = 0; c < count; c++) {
          const zj = z3c[c];
          const aj = zj >= -709.0 ? 1.0 / (1.0 + Math.exp(-zj)) : Math.exp(zj);
          const yj = y[s + c];
          let total = 0;
          total += (aj - yj) * (aj - yj);
          batchLoss += total;
          d3c[c] = 2.0 * aj * (1.0 - aj) * (aj - yj);
        }
        for (let c = count; c < CH; c++) d3c[c] = 0;
        bwd(count);
      }
      if (!Number.isFinite(batchLoss)) throw new Error("diverged");
      sgd(lr, n);
      history.push(batchLoss / n);
    }
    return { params: Array.from(params), history };
  };
}
