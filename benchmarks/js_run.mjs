// Time a generated ES module's train() inside Node, after a warm-up run, so
// that neither process start nor JIT compilation is counted.
// node js_run.mjs MODULE.mjs CASE.json -> {"seconds", "params", "history"}
import { readFileSync } from "node:fs";
import { pathToFileURL } from "node:url";
import { performance } from "node:perf_hooks";

const [modulePath, casePath] = process.argv.slice(2);
const m = await import(pathToFileURL(modulePath));
const c = JSON.parse(readFileSync(casePath, "utf8"));
m.train(c.xs, c.ys, { ...c.options, params: c.params, epochs: c.warmup });
const started = performance.now();
const { params, history } = m.train(c.xs, c.ys, { ...c.options, params: c.params });
const seconds = (performance.now() - started) / 1000;
process.stdout.write(JSON.stringify({ seconds, params, finalLoss: history.at(-1) }));
