// Generated ES modules against the Python module's numbers, which the Python
// test (tests/test_target_js.py) writes to $NNSYM_JS_CASES with the modules.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { pathToFileURL } from "node:url";

const cases = JSON.parse(readFileSync(process.env.NNSYM_JS_CASES, "utf8"));

function close(a, b, tolerance, what) {
  const scale = Math.max(1, Math.abs(a), Math.abs(b));
  assert.ok(Math.abs(a - b) <= tolerance * scale, `${what}: ${a} != ${b}`);
}

for (const item of cases) {
  test(item.name, async () => {
    const m = await import(pathToFileURL(item.module));
    assert.equal(m.N_PARAMS, item.n_params);
    assert.deepEqual(m.initParams(item.seed), item.init_params);
    for (const p of item.points) {
      const [loss, grad] = m.lossAndGrad(p.params, p.x, p.y);
      assert.ok(Number.isFinite(loss) && grad.every(Number.isFinite));
      close(loss, p.loss, p.tolerance, "loss");
      grad.forEach((g, i) => close(g, p.grad[i], p.tolerance, `grad[${i}]`));
      m.forward(p.params, p.x).forEach((o, i) => close(o, p.out[i], p.tolerance, "output"));
    }
    for (const t of item.trajectories) {
      const { params, history } = m.train(t.xs, t.ys, { ...t.options, params: t.start });
      assert.equal(history.length, t.history.length);
      history.forEach((h, i) => close(h, t.history[i], 1e-10, `history[${i}]`));
      params.forEach((v, i) => close(v, t.params[i], 1e-10, `params[${i}]`));
      // A callback that trains and differentiates the same module in between
      // epochs: the module's buffers are shared, the outer run must not notice.
      const nested = m.train(t.xs, t.ys, {
        ...t.options,
        params: t.start,
        callback: () => {
          m.train(t.xs, t.ys, { ...t.options, epochs: 2, seed: 7 });
          m.lossAndGrad(m.initParams(3), t.xs[0], t.ys[0]);
          return false;
        },
      });
      assert.deepEqual(nested.history, history);
      assert.deepEqual(nested.params, params);
    }
    if (item.diverges) {
      const { xs, ys, options, start, epoch } = item.diverges;
      assert.throws(
        () => m.train(xs, ys, { ...options, params: start }),
        (error) => error instanceof m.DivergenceError && error.epoch === epoch,
      );
    }
  });
}
