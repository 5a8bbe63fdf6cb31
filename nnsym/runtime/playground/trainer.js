// The playground's trainer: the generated module's train(), a sample at a time.
//
// The page trains in small pieces (some epochs a frame, or one sample per
// click) and lets the learning rate, the optimizer and the batch size change in
// between, so it keeps the state that train() keeps in its locals: the
// optimizer's moments and step count, the splitmix64 stream and the sample
// order of the shuffle. Everything else is the module's own: lossAndGrad() for
// each sample, the runtime's _shuffle, _sgdStep, _momentumStep and _adamStep for
// each batch, in train()'s order of operations, so that the same options give
// train()'s numbers (tests/test_playground_node.py compares them).
//
// Included in the page inside a function of (M, G): M is the generated module's
// exports plus the runtime functions named above, and M.kernel, when the module
// has it, the per-sample function train() itself runs (_lossAndGradAt, reading
// the parameters from the module's paramsBuffer, writing the gradient to its
// gradBuffer): what lossAndGrad() calls after checking and copying its
// arguments, which would cost as much again as the arithmetic.

class Stepper {
  constructor(xs, ys, kernel = M.kernel ?? null) {
    this.kernel = kernel;
    this.options = {
      lr: 1,
      optimizer: "sgd",
      batchSize: null,
      reduction: "sum",
      momentum: 0.9,
      betas: [0.9, 0.999],
      eps: 1e-8,
    };
    this.setData(xs, ys);
    this.reset(0);
  }

  /** New training samples; the run starts again with the same seed. */
  setData(xs, ys) {
    if (xs.length !== ys.length) throw new RangeError("inputs and targets differ in number");
    if (xs.length === 0) throw new RangeError("the data set is empty");
    this.xs = xs;
    this.ys = ys;
    // The samples packed as train() packs them, for the kernel.
    this.x = new Float64Array(xs.length * M.N_INPUTS);
    this.y = new Float64Array(xs.length * M.N_OUTPUTS);
    xs.forEach((row, s) => {
      if (row.length !== M.N_INPUTS || ys[s].length !== M.N_OUTPUTS) {
        throw new RangeError(`sample ${s} has ${row.length} inputs and ${ys[s].length} targets`);
      }
      this.x.set(row, s * M.N_INPUTS);
      this.y.set(ys[s], s * M.N_OUTPUTS);
    });
    if (this.seed !== undefined) this.reset(this.seed);
  }

  /** Start again: initParams(seed), fresh optimizer state, epoch 0. */
  reset(seed) {
    if (!Number.isSafeInteger(seed) || seed < 0) throw new RangeError("the seed is a whole number >= 0");
    this.seed = seed;
    this.params = Float64Array.from(M.initParams(seed));
    this.rng = new M.SplitMix64(seed);
    this.order = Array.from({ length: this.xs.length }, (_, s) => s);
    this.state1 = new Float64Array(M.N_PARAMS);
    this.state2 = new Float64Array(M.N_PARAMS);
    this.sums = new Float64Array(M.N_PARAMS);
    this.adamStep = 0;
    this.epoch = 0;
    this.history = [];
    this.diverged = null;
    this._startEpoch = true;
    this.cursor = 0;
  }

  /** Change lr, optimizer, batchSize, reduction (...); batches change at the next epoch. */
  setOptions(options) {
    const next = { ...this.options, ...options };
    // lbfgs and lm take whole-batch steps with line searches and damping: the
    // page's sample-by-sample stepping has the three gradient-descent ones.
    if (!M.OPTIMIZERS.includes(next.optimizer) || M.FULL_BATCH_OPTIMIZERS.includes(next.optimizer)) {
      throw new RangeError(`the playground trains with sgd, momentum or adam, not ${next.optimizer}`);
    }
    if (!M.REDUCTIONS.includes(next.reduction)) throw new RangeError(`unknown reduction ${next.reduction}`);
    if (!(Number.isFinite(next.lr) && next.lr > 0)) throw new RangeError("lr must be a positive finite number");
    if (next.batchSize !== null && !(Number.isInteger(next.batchSize) && next.batchSize >= 1)) {
      throw new RangeError("batchSize must be a whole number >= 1, or null for the full batch");
    }
    this.options = next;
  }

  /** The sample the next stepSample() takes (after the epoch's shuffle, if any). */
  nextSample() {
    this._beginEpoch();
    return this.order[this.cursor];
  }

  _beginEpoch() {
    if (!this._startEpoch) return;
    const n = this.xs.length;
    const batch = this.options.batchSize;
    this.fullBatch = batch === null || batch >= n;
    this.size = this.fullBatch ? n : batch;
    if (!this.fullBatch) M._shuffle(this.order, this.rng);
    this._startEpoch = false;
    this.cursor = 0;
    this.batchStart = 0;
    this.batchLoss = 0;
    this.objective = 0;
    this.sums.fill(0);
  }

  /** One sample's loss and gradient added to its batch; the batch's step when it is full. */
  stepSample() {
    if (this.diverged) throw new Error(this.diverged);
    this._beginEpoch();
    const sample = this.order[this.cursor];
    let loss;
    let grad;
    if (this.kernel) {
      // The kernel's buffers are shared: load the parameters for every sample.
      this.kernel.params.set(this.params);
      loss = this.kernel.lossAndGradAt(this.x, sample * M.N_INPUTS, this.y, sample * M.N_OUTPUTS);
      grad = this.kernel.grad;
    } else {
      [loss, grad] = M.lossAndGrad(this.params, this.xs[sample], this.ys[sample]);
    }
    this.batchLoss += loss;
    const sums = this.sums;
    for (let p = 0; p < sums.length; p++) sums[p] += grad[p];
    this.cursor++;
    const n = this.xs.length;
    if (this.cursor - this.batchStart === this.size || this.cursor === n) this._endBatch();
    if (this.cursor === n) this._endEpoch();
    return sample;
  }

  _endBatch() {
    const { lr, optimizer, reduction, momentum, betas, eps } = this.options;
    if (!Number.isFinite(this.batchLoss)) {
      this.diverged =
        `the loss became ${this.batchLoss} at epoch ${this.epoch}; ` + "reset and try a smaller learning rate";
      throw new Error(this.diverged);
    }
    this.objective += this.batchLoss;
    const sums = this.sums;
    if (reduction === "mean") {
      const count = this.cursor - this.batchStart;
      for (let p = 0; p < sums.length; p++) sums[p] = sums[p] / count;
    }
    if (optimizer === "sgd") {
      M._sgdStep(this.params, sums, lr);
    } else if (optimizer === "momentum") {
      M._momentumStep(this.params, sums, this.state1, lr, momentum);
    } else {
      this.adamStep++;
      M._adamStep(this.params, sums, this.state1, this.state2, this.adamStep, lr, betas[0], betas[1], eps);
    }
    sums.fill(0);
    this.batchLoss = 0;
    this.batchStart = this.cursor;
  }

  _endEpoch() {
    let objective = this.objective;
    if (this.options.reduction === "mean") objective /= this.xs.length;
    this.history.push(objective);
    this.epoch++;
    this._startEpoch = true;
  }

  /** Train `epochs` whole epochs (first finishing one begun by stepSample()). */
  runEpochs(epochs) {
    if (!(Number.isInteger(epochs) && epochs >= 0)) throw new RangeError("epochs must be a whole number >= 0");
    const target = this.epoch + epochs + (this._startEpoch ? 0 : 1);
    while (this.epoch < target) this.stepSample();
  }

  /** The loss of every sample of (xs, ys), summed (or their mean), with the current parameters. */
  lossOn(xs, ys) {
    let total = 0;
    for (let s = 0; s < xs.length; s++) total += M.loss(this.params, xs[s], ys[s]);
    return this.options.reduction === "mean" && xs.length ? total / xs.length : total;
  }

  /** The gradient of lossOn(xs, ys) with respect to every parameter. */
  gradientOn(xs, ys) {
    const total = new Float64Array(M.N_PARAMS);
    for (let s = 0; s < xs.length; s++) {
      const grad = M.lossAndGrad(this.params, xs[s], ys[s])[1];
      for (let p = 0; p < total.length; p++) total[p] += grad[p];
    }
    if (this.options.reduction === "mean" && xs.length) {
      for (let p = 0; p < total.length; p++) total[p] /= xs.length;
    }
    return total;
  }
}
