// node bench.mjs ROUNDS EPOCHS KERNEL.wasm...: the generated JS loop trainer,
// the wasm prototype(s) and the C loop form (./cbench: gcc -O3 -march=native
// -ffp-contract=off), interleaved rounds in one Node process (C as a child
// process timing its own train() after a warm-up), us/epoch medians; parity.
import { readFileSync } from "node:fs";
import { execFileSync } from "node:child_process";
import { performance } from "node:perf_hooks";
import * as gen from "./moons_loops.mjs";
import { makeTrainer } from "./wasm_trainer.mjs";

const here = new URL(".", import.meta.url).pathname;
const rounds = +(process.argv[2] ?? 9);
const epochs = +(process.argv[3] ?? 1000);
const kernels = process.argv.slice(4).length ? process.argv.slice(4) : ["kernel2_b1.wasm"];
const c = JSON.parse(readFileSync(here + "case.json", "utf8"));
const opts = { lr: 1.0, epochs, reduction: "mean", params: c.params };
const warm = { ...opts, epochs: Math.max(epochs / 10, 1) };
const trainers = { js: gen.train };
for (const k of kernels) trainers[k] = await makeTrainer(k);
for (const f of Object.values(trainers)) f(c.xs, c.ys, warm);
const median = (a) => { const b = [...a].sort((p, q) => p - q); return b[b.length >> 1]; };
const runs = {};
for (const [name, f] of Object.entries(trainers)) {
  runs[name] = () => {
    const t0 = performance.now(), c0 = process.cpuUsage();
    f(c.xs, c.ys, opts);
    const c1 = process.cpuUsage(c0);
    return [(performance.now() - t0) * 1e3 / epochs, (c1.user + c1.system) / epochs];
  };
}
runs.c = () => execFileSync(here + "cbench", [String(epochs), "1"], { encoding: "utf8" }).split("\n")[0].split(" ").map(Number);
const names = Object.keys(runs);
const t = Object.fromEntries(names.map((n) => [n, []]));
const cpu = Object.fromEntries(names.map((n) => [n, []]));
for (let r = 0; r < rounds; r++) {
  for (let i = 0; i < names.length; i++) {
    const name = names[(i + r) % names.length];
    const [wall, used] = runs[name]();
    t[name].push(wall);
    cpu[name].push(used);
  }
}
const ratio = (m, a, b) => median(m[a].map((v, i) => v / m[b][i]));
for (const [label, m] of [["wall", t], ["CPU", cpu]]) {
  console.log(`-- ${label} time, ${rounds} interleaved rounds of ${epochs} epochs (ratio: median of per-round ratios to C)`);
  for (const name of names) {
    const extra = name === "c" ? "" : `  /C ${ratio(m, name, "c").toFixed(2)}x`;
    console.log(`${name.padEnd(16)} median ${median(m[name]).toFixed(1).padStart(6)} us/epoch${extra}   rounds ${m[name].map((v) => v.toFixed(1)).join(" ")}`);
  }
}
// Parity after `epochs` epochs, against the generated JS trainer.
const a = gen.train(c.xs, c.ys, opts);
const diff = (p, q) => { let m = 0, n = 0; for (let i = 0; i < p.length; i++) { m = Math.max(m, Math.abs(p[i] - q[i])); if (!Object.is(p[i], q[i])) n++; } return `max |diff| ${m}, ${n} of ${p.length} params differ`; };
for (const k of kernels) {
  const b = trainers[k](c.xs, c.ys, opts);
  const same = a.history.every((v, i) => Object.is(v, b.history[i]));
  console.log(`parity ${k} vs JS after ${epochs} epochs: ${diff(b.params, a.params)}; loss history bit-identical: ${same}`);
}
const cout = execFileSync(here + "cbench", [String(epochs), "0"], { encoding: "utf8" }).trim().split("\n");
console.log(`(C loop form vs JS, same run: ${diff(cout.slice(1).map(Number), a.params)})`);
