// The playground's trainer and formulas under Node, against the generated module.
// Usage: node playground_core.mjs MODULE.mjs CORE.js; prints one JSON object.
import { readFileSync } from "node:fs";
import { pathToFileURL } from "node:url";

const [modulePath, corePath] = process.argv.slice(2);
const ref = await import(pathToFileURL(modulePath).href);
const core = new Function(readFileSync(corePath, "utf8"))();
const { Stepper, quantities, formulaGradient, formulaNumbers, generate, targetsOf, G } = core;

const maxDiff = (a, b) => {
  if (a.length !== b.length) return Infinity;
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]) / Math.max(1, Math.abs(b[i])));
  return worst;
};

const drawn = generate("moons", 30, 0.1, 3);
const xs = drawn.xs.map((x) => [...x, ...Array(ref.N_INPUTS - 2).fill(0.5)].slice(0, ref.N_INPUTS));
const ys = targetsOf(drawn.labels, ref.N_OUTPUTS);
const result = { training: [], formulas: 0, loss: 0, forward: 0, numbers: 0 };

// train() in one call against the page's trainer in pieces, options changing only between runs.
const cases = [
  { optimizer: "sgd", reduction: "sum", lr: 0.05, batchSize: null },
  { optimizer: "momentum", reduction: "mean", lr: 0.2, batchSize: 7 },
  { optimizer: "adam", reduction: "sum", lr: 0.01, batchSize: 4 },
];
for (const options of cases) {
  const expected = ref.train(xs, ys, { ...options, epochs: 15, seed: 3 });
  // With the module's kernel, and through lossAndGrad() without it.
  for (const kernel of [core.M.kernel, null]) {
    const stepper = new Stepper(xs, ys, kernel);
    stepper.setOptions(options);
    stepper.reset(3);
    stepper.runEpochs(4);
    for (let s = 0; s < 5; s++) stepper.stepSample();
    stepper.runEpochs(10);
    result.training.push({
      options,
      kernel: Boolean(kernel),
      epochs: stepper.epoch,
      params: maxDiff(Array.from(stepper.params), expected.params),
      history: maxDiff(stepper.history, expected.history),
    });
  }
}

// The module's full-batch optimizers are refused by name: the page steps a
// sample at a time.
result.refused = ["lbfgs", "lm"].map((optimizer) => {
  try {
    new Stepper(xs, ys).setOptions({ optimizer });
    return null;
  } catch (error) {
    return error.message;
  }
});

// The formulas' own numbers against the trainer's lossAndGrad and forward.
const out = new Float64Array(ref.ARCH.slice(1).reduce((a, b) => a + b, 0));
for (let trial = 0; trial < 5; trial++) {
  const params = ref.initParams(trial + 10).map((p) => p * (1 + trial));
  const [loss, grad] = ref.lossAndGrad(params, xs[trial], ys[trial]);
  const v = quantities(params, xs[trial], ys[trial]);
  result.formulas = Math.max(result.formulas, maxDiff(formulaGradient(v), grad));
  result.loss = Math.max(result.loss, maxDiff([v.L], [loss]));
  if (G.activationsAt) {
    G.activationsAt(params, xs[trial], out);
    const outputs = Array.from(out.slice(out.length - ref.N_OUTPUTS));
    result.forward = Math.max(result.forward, maxDiff(outputs, ref.forward(params, xs[trial])));
  }
  // Each formula's value from its numbers row equals the quantity itself.
  for (const formula of G.FORMULAS) {
    const values = formula.indices.map(([, , size]) => size - 1);
    const numbers = formulaNumbers(formula, v, values);
    if (!Number.isFinite(numbers.value)) result.numbers = Infinity;
    for (const value of Object.values(numbers.placeholders)) if (!Number.isFinite(value)) result.numbers = Infinity;
  }
}
result.mode = G.MODE;
result.nFormulas = G.FORMULAS.length;
console.log(JSON.stringify(result));
