// node parts3.mjs KERNEL.wasm [EPOCHS]: each part of fwd/bwd timed on the state
// of a real chunk (samples 96..111) after EPOCHS epochs of training.
import { readFileSync } from "node:fs";
import { performance } from "node:perf_hooks";
import { makeTrainer } from "./wasm_trainer.mjs";
const file = process.argv[2] ?? "k3.wasm";
const c = JSON.parse(readFileSync(new URL("./case.json", import.meta.url), "utf8"));
const trained = (await makeTrainer(file))(c.xs, c.ys, { lr: 1, epochs: +(process.argv[3] ?? 500), params: c.params }).params;
const { instance } = await WebAssembly.instantiate(readFileSync(new URL("./" + file, import.meta.url)), {});
const k = instance.exports;
new Float64Array(k.memory.buffer, k.p_params(), 337).set(trained);
const xs = new Float64Array(k.memory.buffer, k.p_xs(), 400);
for (let s = 0; s < 200; s++) { xs[2*s] = c.xs[s][0]; xs[2*s+1] = c.xs[s][1]; }
const z3 = new Float64Array(k.memory.buffer, k.p_z3c(), 16), d3 = new Float64Array(k.memory.buffer, k.p_d3c(), 16);
const N = 5000, R = 9;
const names = ["fwd", "bwd", ...Object.keys(k).filter((n) => n.startsWith("t_"))];
const t = Object.fromEntries(names.map((n) => [n, []]));
for (let r = 0; r < R; r++) {
  for (const name of names) {
    // a real chunk's state before each part
    k.fwd(96, 16);
    for (let i = 0; i < 16; i++) { const a = 1 / (1 + Math.exp(-z3[i])); d3[i] = 2 * a * (1 - a) * (a - c.ys[96 + i][0]); }
    k.bwd(16);
    const f = name === "fwd" ? () => k.fwd(96, 16) : name === "bwd" ? () => k.bwd(16) : k[name];
    const t0 = performance.now();
    for (let i = 0; i < N; i++) f();
    t[name].push((performance.now() - t0) * 1e6 / N);
  }
}
const med = (a) => [...a].sort((p, q) => p - q)[a.length >> 1];
for (const name of names) console.log(`${name.padEnd(10)} ${med(t[name]).toFixed(0).padStart(5)} ns per 16-sample chunk, x12.5 = ${(12.5 * med(t[name]) / 1000).toFixed(1)} us/epoch`);
