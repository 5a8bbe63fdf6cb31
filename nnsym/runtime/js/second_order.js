// Levenberg-Marquardt and L-BFGS, the optimizers of train() that need no
// learning rate, included verbatim (up to the end marker below) in each
// generated ES module after runtime.js. A port, operation for operation, of
// the Python module's (nnsym/runtime/second_order.py, whose docstring gives
// the algorithms and their sources): every sum is taken from zero in the same
// order and every expression grouped the same way, so that the same
// objective, gradient and Jacobian give the same parameters. Python's min()
// and max() are _pyMin and _pyMax, which treat NaN as Python does.

// lm builds an N x N matrix and factors it every iteration: above this many
// parameters it is refused, and lbfgs is the optimizer to use.
export const LM_MAX_PARAMS = 1000;
// trainlm's floor for mu after a run of successful steps.
const _LM_MU_MIN = 1e-20;

// Python's min(a, b) and max(a, b): the first unless the second compares
// below (above) it.
function _pyMin(a, b) {
  return b < a ? b : a;
}

function _pyMax(a, b) {
  return b > a ? b : a;
}

// Python's max(abs(v) for v in values).
function _maxAbs(values) {
  let top = Math.abs(values[0]);
  for (let i = 1; i < values.length; i++) top = _pyMax(top, Math.abs(values[i]));
  return top;
}

function _inner(u, v) {
  let total = 0;
  for (let i = 0; i < u.length; i++) total += u[i] * v[i];
  return total;
}

// Solve (matrix + shift I) x = rhs by Cholesky; matrix is symmetric, given by
// its lower triangle (row i holds entries 0..i). null if the shifted matrix is
// not positive definite (or holds NaN): the caller raises mu.
function _choleskySolve(matrix, rhs, shift) {
  const n = matrix.length;
  const lower = [];
  for (let i = 0; i < n; i++) {
    const row = matrix[i];
    const own = new Float64Array(i + 1);
    for (let j = 0; j < i; j++) {
      const other = lower[j];
      let sum = 0;
      for (let k = 0; k < j; k++) sum += own[k] * other[k];
      own[j] = (row[j] - sum) / other[j];
    }
    let squares = 0;
    for (let k = 0; k < i; k++) squares += own[k] * own[k];
    const pivot = row[i] + shift - squares;
    if (!(pivot > 0.0) || !Number.isFinite(pivot)) return null;
    own[i] = Math.sqrt(pivot);
    lower.push(own);
  }
  // L y = rhs, then L^T x = y.
  const y = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const own = lower[i];
    let sum = 0;
    for (let k = 0; k < i; k++) sum += own[k] * y[k];
    y[i] = (rhs[i] - sum) / own[i];
  }
  const x = new Array(n).fill(0);
  for (let i = n - 1; i >= 0; i--) {
    let total = y[i];
    for (let k = i + 1; k < n; k++) total -= lower[k][i] * x[k];
    x[i] = total / lower[i][i];
  }
  return x.every(Number.isFinite) ? x : null;
}

// matrix += coefficient * vector vector^T, on the lower triangle only.
function _addOuter(matrix, coefficient, vector) {
  for (let i = 0; i < vector.length; i++) {
    const scaled = coefficient * vector[i];
    if (scaled) {
      const row = matrix[i];
      for (let j = 0; j <= i; j++) row[j] = row[j] + scaled * vector[j];
    }
  }
}

// (J^T H J, J^T r) summed over samples 0..count-1, sample(s) giving
// [outputs, targets, rows]: rows are the Jacobian of the outputs (sse, mse) or
// of the output layer's pre-activations (bce, ce) in the parameters, one row
// per output. Both times `scale` (1 / N for the mean over N samples).
function _normalEquations(loss, nParams, count, sample, scale) {
  const matrix = Array.from({ length: nParams }, (_, i) => new Float64Array(i + 1));
  const gradient = new Float64Array(nParams);
  for (let s = 0; s < count; s++) {
    const [outputs, targets, rows] = sample(s);
    const residuals = new Array(outputs.length);
    if (loss === "ce") {
      let weight = 0;
      for (const t of targets) weight += t;
      for (let k = 0; k < outputs.length; k++) residuals[k] = weight * outputs[k] - targets[k];
      const mixed = new Float64Array(nParams);
      for (let k = 0; k < outputs.length; k++) {
        const p = outputs[k];
        const row = rows[k];
        _addOuter(matrix, weight * p, row);
        for (let i = 0; i < nParams; i++) mixed[i] = mixed[i] + p * row[i];
      }
      _addOuter(matrix, -weight, mixed);
    } else {
      for (let k = 0; k < outputs.length; k++) {
        const p = outputs[k];
        residuals[k] = p - targets[k];
        _addOuter(matrix, loss === "bce" ? p * (1.0 - p) : 1.0, rows[k]);
      }
    }
    for (let k = 0; k < outputs.length; k++) {
      const r = residuals[k];
      if (r) {
        const row = rows[k];
        for (let i = 0; i < nParams; i++) gradient[i] = gradient[i] + r * row[i];
      }
    }
  }
  if (scale !== 1.0) {
    for (const row of matrix) {
      for (let j = 0; j < row.length; j++) row[j] = row[j] * scale;
    }
    for (let i = 0; i < nParams; i++) gradient[i] = gradient[i] * scale;
  }
  return [matrix, gradient];
}

// trainlm's loop. objective(params) is the training objective (Infinity on
// overflow); linearize(params) is _normalEquations at params; damping is
// [mu, muDec, muInc, muMax]. One epoch is one accepted step; history[i] is the
// objective before it. Stops early when no mu up to muMax lowers the objective
// (a minimum, or a system that stays singular).
function _levenbergMarquardt(params, objective, linearize, epochs, damping, targetLoss, callback, diverged) {
  let [mu, muDec, muInc, muMax] = damping;
  let current = objective(params);
  const history = [];
  let lastFinite = null;
  for (let epoch = 0; epoch < epochs; epoch++) {
    if (!Number.isFinite(current)) diverged(epoch, current, lastFinite, params);
    const [matrix, gradient] = linearize(params);
    const rhs = Array.from(gradient, (g) => -g);
    let accepted = false;
    let trial = null;
    let value = null;
    while (mu <= muMax) {
      const step = _choleskySolve(matrix, rhs, mu);
      if (step !== null) {
        trial = params.map((p, i) => p + step[i]);
        value = objective(trial);
        if (value < current) {
          mu = _pyMax(mu * muDec, _LM_MU_MIN);
          accepted = true;
          break;
        }
      }
      mu *= muInc;
    }
    history.push(current);
    lastFinite = current;
    if (!accepted) break;
    params = trial;
    current = value;
    if (targetLoss !== null && history[epoch] <= targetLoss) break;
    if (callback !== null && callback(epoch, history[epoch])) break;
  }
  return [params, history];
}

// PyTorch's port of torch/optim's polyinterp.lua: the minimum of the cubic
// through two points with their values and derivatives, within bounds.
function _cubicInterpolate(x1, f1, g1, x2, f2, g2, bounds = null) {
  let xminBound;
  let xmaxBound;
  if (bounds !== null) {
    [xminBound, xmaxBound] = bounds;
  } else {
    [xminBound, xmaxBound] = x1 <= x2 ? [x1, x2] : [x2, x1];
  }
  const d1 = g1 + g2 - (3 * (f1 - f2)) / (x1 - x2);
  const d2Square = d1 * d1 - g1 * g2;
  if (d2Square >= 0) {
    const d2 = Math.sqrt(d2Square);
    let minPos;
    if (x1 <= x2) {
      minPos = x2 - (x2 - x1) * ((g2 + d2 - d1) / (g2 - g1 + 2 * d2));
    } else {
      minPos = x1 - (x1 - x2) * ((g1 + d2 - d1) / (g1 - g2 + 2 * d2));
    }
    return _pyMin(_pyMax(minPos, xminBound), xmaxBound);
  }
  return (xminBound + xmaxBound) / 2.0;
}

// PyTorch's _strong_wolfe (a port of lswolfe.lua): bracket a step length
// satisfying the strong Wolfe conditions, then zoom in by cubic interpolation.
// Arrays are never modified in place here, so no copies. Returns
// [loss, gradient, step, evaluations].
function _strongWolfe(objFunc, x, t, d, f, g, gtd, maxLs, c1 = 1e-4, c2 = 0.9, toleranceChange = 1e-9) {
  const dNorm = _maxAbs(d);
  let [fNew, gNew] = objFunc(x, t, d);
  let lsFuncEvals = 1;
  let gtdNew = _inner(gNew, d);
  let tPrev = 0;
  let fPrev = f;
  let gPrev = g;
  let gtdPrev = gtd;
  let done = false;
  let lsIter = 0;
  let bracket;
  let bracketF;
  let bracketG;
  let bracketGtd;
  while (lsIter < maxLs) {
    if (fNew > f + c1 * t * gtd || (lsIter > 1 && fNew >= fPrev)) {
      bracket = [tPrev, t];
      bracketF = [fPrev, fNew];
      bracketG = [gPrev, gNew];
      bracketGtd = [gtdPrev, gtdNew];
      break;
    }
    if (Math.abs(gtdNew) <= -c2 * gtd) {
      bracket = [t];
      bracketF = [fNew];
      bracketG = [gNew];
      done = true;
      break;
    }
    if (gtdNew >= 0) {
      bracket = [tPrev, t];
      bracketF = [fPrev, fNew];
      bracketG = [gPrev, gNew];
      bracketGtd = [gtdPrev, gtdNew];
      break;
    }
    const minStep = t + 0.01 * (t - tPrev);
    const maxStep = t * 10;
    const tmp = t;
    t = _cubicInterpolate(tPrev, fPrev, gtdPrev, t, fNew, gtdNew, [minStep, maxStep]);
    tPrev = tmp;
    fPrev = fNew;
    gPrev = gNew;
    gtdPrev = gtdNew;
    [fNew, gNew] = objFunc(x, t, d);
    lsFuncEvals += 1;
    gtdNew = _inner(gNew, d);
    lsIter += 1;
  }
  if (lsIter === maxLs) {
    bracket = [0, t];
    bracketF = [f, fNew];
    bracketG = [g, gNew];
  }
  // Zoom: refine the bracket until a point satisfies the conditions.
  let insufProgress = false;
  let [lowPos, highPos] = bracketF[0] <= bracketF[bracketF.length - 1] ? [0, 1] : [1, 0];
  while (!done && lsIter < maxLs) {
    if (Math.abs(bracket[1] - bracket[0]) * dNorm < toleranceChange) break;
    t = _cubicInterpolate(bracket[0], bracketF[0], bracketGtd[0], bracket[1], bracketF[1], bracketGtd[1]);
    // Too close to an end of the bracket (twice, or on it): move to 0.1 of its
    // length from the nearer end.
    const top = _pyMax(bracket[0], bracket[1]);
    const bottom = _pyMin(bracket[0], bracket[1]);
    const eps = 0.1 * (top - bottom);
    if (_pyMin(top - t, t - bottom) < eps) {
      if (insufProgress || t >= top || t <= bottom) {
        if (Math.abs(t - top) < Math.abs(t - bottom)) {
          t = top - eps;
        } else {
          t = bottom + eps;
        }
        insufProgress = false;
      } else {
        insufProgress = true;
      }
    } else {
      insufProgress = false;
    }
    [fNew, gNew] = objFunc(x, t, d);
    lsFuncEvals += 1;
    gtdNew = _inner(gNew, d);
    lsIter += 1;
    if (fNew > f + c1 * t * gtd || fNew >= bracketF[lowPos]) {
      // Armijo condition not met, or not below the lowest point.
      bracket[highPos] = t;
      bracketF[highPos] = fNew;
      bracketG[highPos] = gNew;
      bracketGtd[highPos] = gtdNew;
      [lowPos, highPos] = bracketF[0] <= bracketF[1] ? [0, 1] : [1, 0];
    } else {
      if (Math.abs(gtdNew) <= -c2 * gtd) {
        done = true;
      } else if (gtdNew * (bracket[highPos] - bracket[lowPos]) >= 0) {
        // The old high end becomes the new low end.
        bracket[highPos] = bracket[lowPos];
        bracketF[highPos] = bracketF[lowPos];
        bracketG[highPos] = bracketG[lowPos];
        bracketGtd[highPos] = bracketGtd[lowPos];
      }
      bracket[lowPos] = t;
      bracketF[lowPos] = fNew;
      bracketG[lowPos] = gNew;
      bracketGtd[lowPos] = gtdNew;
    }
  }
  return [bracketF[lowPos], bracketG[lowPos], bracket[lowPos], lsFuncEvals];
}

// torch.optim.LBFGS(lr, max_iter, tolerance_grad, tolerance_change,
// history_size, line_search_fn="strong_wolfe").step(closure) from a fresh
// state; evaluate(params) is [objective, gradient]; options is [lr,
// toleranceGrad, toleranceChange, historySize]. history[i] is the objective at
// the start of iteration i.
function _lbfgs(params, evaluate, maxIter, options, targetLoss, callback, diverged) {
  const [lr, toleranceGrad, toleranceChange, historySize] = options;
  const maxEval = Math.floor((maxIter * 5) / 4);
  const history = [];
  let [loss, flatGrad] = evaluate(params);
  if (!Number.isFinite(loss)) diverged(0, loss, null, params);
  let currentEvals = 1;
  if (_maxAbs(flatGrad) <= toleranceGrad) return [params, history];
  let d = null;
  let t = null;
  let prevFlatGrad = null;
  let prevLoss = null;
  const oldDirs = [];
  const oldStps = [];
  const ro = [];
  let hDiag = 1;
  let nIter = 0;
  while (nIter < maxIter) {
    nIter += 1;
    history.push(loss);
    if (targetLoss !== null && loss <= targetLoss) break;
    if (callback !== null && callback(nIter - 1, loss)) break;
    if (nIter === 1) {
      d = flatGrad.map((v) => -v);
    } else {
      const y = flatGrad.map((a, i) => a - prevFlatGrad[i]);
      const s = d.map((v) => v * t);
      const ys = _inner(y, s);
      if (ys > 1e-10) {
        if (oldDirs.length === historySize) {
          oldDirs.shift();
          oldStps.shift();
          ro.shift();
        }
        oldDirs.push(y);
        oldStps.push(s);
        ro.push(1.0 / ys);
        hDiag = ys / _inner(y, y);
      }
      const numOld = oldDirs.length;
      const al = new Array(numOld);
      let q = flatGrad.map((v) => -v);
      for (let i = numOld - 1; i >= 0; i--) {
        al[i] = _inner(oldStps[i], q) * ro[i];
        const dirs = oldDirs[i];
        q = q.map((a, k) => a - al[i] * dirs[k]);
      }
      let r = q.map((v) => v * hDiag);
      for (let i = 0; i < numOld; i++) {
        const beI = _inner(oldDirs[i], r) * ro[i];
        const steps = oldStps[i];
        r = r.map((a, k) => a + (al[i] - beI) * steps[k]);
      }
      d = r;
    }
    prevFlatGrad = flatGrad;
    prevLoss = loss;
    if (nIter === 1) {
      let total = 0;
      for (const v of flatGrad) total += Math.abs(v);
      t = _pyMin(1.0, 1.0 / total) * lr;
    } else {
      t = lr;
    }
    const gtd = _inner(flatGrad, d);
    if (gtd > -toleranceChange) break;
    const objFunc = (x, step, direction) => evaluate(x.map((p, i) => p + step * direction[i]));
    let lsFuncEvals;
    [loss, flatGrad, t, lsFuncEvals] = _strongWolfe(objFunc, params, t, d, loss, flatGrad, gtd, maxEval - currentEvals);
    const direction = d;
    const length = t;
    params = params.map((p, i) => p + length * direction[i]);
    if (!Number.isFinite(loss)) diverged(nIter, loss, prevLoss, params);
    const optCond = _maxAbs(flatGrad) <= toleranceGrad;
    currentEvals += lsFuncEvals;
    if (nIter === maxIter) break;
    if (currentEvals >= maxEval) break;
    if (optCond) break;
    if (_maxAbs(direction.map((v) => v * length)) <= toleranceChange) break;
    if (Math.abs(loss - prevLoss) < toleranceChange) break;
  }
  return [params, history];
}

// The chain rule through the output activation: d a_k = slope_k d z_k, or for
// a softmax (slopes null) d a_k = a_k (d z_k - sum_j a_j d z_j).
function _outputRows(outputs, rows, slopes) {
  if (slopes !== null) return rows.map((row, k) => Array.from(row, (v) => slopes[k] * v));
  let mixed = new Array(rows[0].length).fill(0);
  rows.forEach((row, k) => {
    mixed = mixed.map((m, i) => m + outputs[k] * row[i]);
  });
  return rows.map((row, k) => Array.from(row, (v, i) => outputs[k] * (v - mixed[i])));
}

// train() for lbfgs and lm (Python's _train_full_batch), on the n samples
// packed in x and y as train() packs them. `run` holds train()'s options;
// `model` the module's LOSS, N_PARAMS, N_INPUTS, N_OUTPUTS, its paramsBuffer,
// batchAt(x, y, n, into) (the summed loss of the samples with the parameters
// in paramsBuffer, their summed gradient copied into `into`) and
// jacobianAt(params, x, xo) ([outputs, dz/dparams rows, output slopes]).
function _trainFullBatch(optimizer, params, x, y, n, run, model) {
  const { epochs, batchSize, reduction, targetLoss, callback } = run;
  if (batchSize !== null && batchSize < n) {
    throw new RangeError(`optimizer ${optimizer} runs on the full batch; leave batchSize out`);
  }
  if (optimizer === "lm" && model.nParams > LM_MAX_PARAMS) {
    throw new RangeError(
      `optimizer lm handles at most ${LM_MAX_PARAMS} parameters, this network has ${model.nParams}; ` +
        'use optimizer "lbfgs"',
    );
  }
  const { historySize = 100, toleranceGrad = 1e-7, toleranceChange = 1e-9 } = run;
  const { mu = 1e-3, muDec = 0.1, muInc = 10.0, muMax = 1e10 } = run;
  if (!(Number.isInteger(historySize) && historySize >= 1)) {
    throw new RangeError("historySize must be a whole number >= 1");
  }
  for (const [name, value] of Object.entries({ toleranceGrad, toleranceChange })) {
    if (!(Number.isFinite(value) && value >= 0)) throw new RangeError(`${name} must be a finite number >= 0`);
  }
  for (const [name, value] of Object.entries({ mu, muDec, muInc, muMax })) {
    if (!(Number.isFinite(value) && value > 0)) throw new RangeError(`${name} must be a positive finite number`);
  }
  const scale = reduction === "mean" ? 1.0 / n : 1.0;
  const sums = new Float64Array(model.nParams);
  // The objective and its gradient, both times scale; Infinity (and no
  // gradient) once the loss overflows, as in the Python module.
  const evaluate = (point) => {
    model.paramsBuffer.set(point);
    const total = model.batchAt(x, y, n, sums);
    if (!Number.isFinite(total)) return [Infinity, new Array(model.nParams).fill(Infinity)];
    return [total * scale, Array.from(sums, (g) => g * scale)];
  };
  const diverged = (epoch, value, lastFinite, lastParams) => {
    throw new DivergenceError(
      `the loss became ${value} at epoch ${epoch} (last finite loss: ${lastFinite})`,
      epoch,
      lastFinite,
      Array.from(lastParams),
    );
  };
  let result;
  if (optimizer === "lbfgs") {
    const options = [run.lr ?? 1.0, toleranceGrad, toleranceChange, historySize];
    result = _lbfgs(params, evaluate, epochs, options, targetLoss, callback, diverged);
  } else {
    const value = (point) => evaluate(point)[0];
    const squared = model.loss === "sse" || model.loss === "mse";
    const linearize = (point) =>
      _normalEquations(
        model.loss,
        model.nParams,
        n,
        (s) => {
          const [outputs, rows, slopes] = model.jacobianAt(point, x, s * model.nInputs);
          const targets = y.subarray(s * model.nOutputs, (s + 1) * model.nOutputs);
          return [outputs, targets, squared ? _outputRows(outputs, rows, slopes) : rows];
        },
        scale,
      );
    const damping = [mu, muDec, muInc, muMax];
    result = _levenbergMarquardt(params, value, linearize, epochs, damping, targetLoss, callback, diverged);
  }
  return { params: result[0], history: result[1] };
}
// -- end of the included part: below, exports for the runtime's own tests --
export { _choleskySolve, _cubicInterpolate, _levenbergMarquardt, _lbfgs, _outputRows, _normalEquations };
