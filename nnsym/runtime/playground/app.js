// The page: its state, the settings in the URL's hash, the data, the animation
// loop and what each frame draws, the formulas' numbers (controls.js: the rest).

const config = JSON.parse(document.getElementById("nnsym-config").textContent);
const given = JSON.parse(document.getElementById("nnsym-data").textContent);
const $ = (id) => document.getElementById(id);
const TWO_INPUTS = M.N_INPUTS === 2 && G.activationsAt !== null;
const GRID = 50;
// While playing, the formulas' numbers are refreshed every this many frames,
// and the diagram's links every LINKS_EVERY: in a browser without a GPU,
// repainting a few hundred crossing lines each frame takes longer than the
// rest of the frame (2-16-16-1 in headless Chromium: 13 frames a second with
// them, 44 without).
const FORMULA_EVERY = 6;
const LINKS_EVERY = 4;

const defaults = {
  data: config.start,
  count: 200,
  noise: 0.05,
  split: config.split ?? (config.start === "given" ? 0 : 0.2),
  seed: 0,
  lr: 1,
  optimizer: "sgd",
  batch: 0,
  reduction: "sum",
  speed: 10,
  epochs: 0,
};
const settings = { ...defaults, ...readHash() };
let uploaded = null;
let dataVersion = 0;
let data = null;
let stepper = null;
let playing = false;
let testHistory = [];
let phase = -1;
let chosen = { layer: 1, neuron: 0, input: 0, param: null };
let sampleIndex = 0;
let frameCount = 0;
let error = "";
const stats = { frames: 0, epochs: 0, start: 0, busy: 0 };

function readHash() {
  const found = {};
  const text = location.hash.replace(/^#/, "");
  for (const part of text.split("&")) {
    const [key, raw] = part.split("=");
    if (!key || raw === undefined || !(key in defaults)) continue;
    const value = decodeURIComponent(raw);
    found[key] = typeof defaults[key] === "number" ? Number(value) : value;
    if (typeof defaults[key] === "number" && !Number.isFinite(found[key])) delete found[key];
  }
  return found;
}

function writeHash() {
  settings.epochs = stepper ? stepper.epoch : 0;
  const text = Object.keys(defaults)
    .map((key) => `${key}=${encodeURIComponent(String(settings[key]))}`)
    .join("&");
  try {
    history.replaceState(null, "", `#${text}`);
  } catch (ignored) {
    // A sandboxed frame (a notebook's) may refuse; the page works without it.
  }
}

// -- data ------------------------------------------------------------------

function chooseData() {
  let set;
  if (settings.data === "given" && given) set = given;
  else if (settings.data === "csv" && uploaded) set = uploaded;
  else {
    if (!config.generators.includes(settings.data) || M.N_INPUTS !== 2) settings.data = given ? "given" : "xor";
    const drawn = generate(settings.data, Math.max(4, Math.min(2000, Math.round(settings.count))), settings.noise, settings.seed);
    set = {
      name: settings.data,
      xs: drawn.xs,
      ys: targetsOf(drawn.labels, M.N_OUTPUTS),
      inputNames: ["x0", "x1"],
      targetNames: M.N_OUTPUTS === 1 ? ["y0"] : Array.from({ length: M.N_OUTPUTS }, (_, k) => `y${k}`),
      classes: M.N_OUTPUTS === 1 ? null : Array.from({ length: M.N_OUTPUTS }, (_, k) => String(k)),
    };
  }
  const split = splitIndices(set.xs.length, settings.split, settings.seed);
  const targets = set.ys.flat();
  let low = Math.min(...targets);
  let high = Math.max(...targets);
  if (!(high > low)) [low, high] = [0, 1];
  dataVersion++;
  data = {
    ...set,
    version: dataVersion,
    trainXs: split.train.map((s) => set.xs[s]),
    trainYs: split.train.map((s) => set.ys[s]),
    testXs: split.test.map((s) => set.xs[s]),
    testYs: split.test.map((s) => set.ys[s]),
    low,
    high,
    extent: TWO_INPUTS ? extentOf(set.xs) : null,
  };
  const parts = [`${set.name}: ${data.trainXs.length} samples to train on, ${data.testXs.length} held out`];
  parts.push(`inputs ${set.inputNames.join(", ")}`);
  parts.push(`targets ${set.targetNames.join(", ")}`);
  if (set.classes) parts.push(`classes ${set.classes.join(", ")}`);
  $("data-info").textContent = parts.join("; ");
}

function resetRun() {
  playing = false;
  phase = -1;
  error = "";
  testHistory = [];
  chooseData();
  if (stepper === null) stepper = new Stepper(data.trainXs, data.trainYs);
  else stepper.setData(data.trainXs, data.trainYs);
  stepper.reset(settings.seed);
  applyOptions();
  sampleIndex = Math.min(sampleIndex, data.trainXs.length - 1);
  recordTest();
}

function applyOptions() {
  stepper.setOptions({
    lr: settings.lr,
    optimizer: settings.optimizer,
    batchSize: settings.batch > 0 ? settings.batch : null,
    reduction: settings.reduction,
  });
}

/** A loss as the mean over its samples, whatever the reduction: the curves compare. */
function perSample(loss, count) {
  return stepper.options.reduction === "mean" ? loss : loss / count;
}

function recordTest() {
  if (data.testXs.length) {
    testHistory.push([stepper.epoch, perSample(stepper.lossOn(data.testXs, data.testYs), data.testXs.length)]);
  }
  if (testHistory.length > 2000) testHistory = testHistory.filter((_, index) => index % 2 === 0);
}

// -- training --------------------------------------------------------------

/** `epochs` epochs, the held-out loss recorded along the way (about 200 times). */
function trainRecording(epochs) {
  const chunk = Math.max(1, Math.ceil(epochs / 200));
  for (let done = 0; done < epochs; done += chunk) {
    stepper.runEpochs(Math.min(chunk, epochs - done));
    recordTest();
  }
  phase = -1;
}

/** `epochs` epochs (a frame's), the held-out loss recorded once; errors shown. */
function train(epochs, recording = false) {
  try {
    if (recording) trainRecording(epochs);
    else {
      stepper.runEpochs(epochs);
      phase = -1;
      recordTest();
    }
  } catch (failure) {
    playing = false;
    error = failure.message;
    recordTest();
  }
}

// The pending animation frame: one at most, however often play is pressed.
let frameRequest = null;

function frame() {
  frameRequest = null;
  if (!playing) return;
  const began = performance.now();
  train(settings.speed);
  stats.epochs += settings.speed;
  // A sixth of the formulas each frame, in turn: the same refresh rate as all
  // of them every sixth frame, without a long frame every sixth.
  render(true, frameCount % LINKS_EVERY === 0, frameCount % FORMULA_EVERY);
  stats.busy += performance.now() - began;
  stats.frames++;
  frameCount++;
  if (playing) frameRequest = requestAnimationFrame(frame);
  else render(true);
}

function play(on) {
  playing = on && !stepper.diverged;
  $("play").textContent = playing ? "Pause" : "Play";
  if (playing) {
    stats.frames = 0;
    stats.epochs = 0;
    stats.busy = 0;
    stats.start = performance.now();
    if (frameRequest === null) frameRequest = requestAnimationFrame(frame);
  } else {
    if (frameRequest !== null) cancelAnimationFrame(frameRequest);
    frameRequest = null;
    writeHash();
    render(true);
  }
}

/** One quantity further: the formulas in order for the next sample, then its step. */
function stepQuantity() {
  play(false);
  if (stepper.diverged) return;
  if (phase === -1) {
    const sample = stepper.nextSample();
    sampleIndex = sample;
    $("sample").value = String(sample);
    phase = 0;
  } else if (phase < G.FORMULAS.length - 1) {
    phase++;
  } else {
    try {
      stepper.stepSample();
    } catch (failure) {
      error = failure.message;
    }
    if (stepper.cursor === 0 || stepper._startEpoch) recordTest();
    phase = -1;
  }
  const formula = G.FORMULAS[phase];
  if (formula) highlightFormula(formula);
  render(true);
  const row = phase >= 0 ? $(`eq-${phase}`) : null;
  if (row && row.scrollIntoView) row.scrollIntoView({ block: "nearest" });
}

function highlightFormula(formula) {
  if (G.MODE !== "scalar") {
    if (formula.layer > 0) chosen = { ...chosen, layer: formula.layer, param: null };
    return;
  }
  const name = formula.target.startsWith("g_") ? formula.target.slice(2) : null;
  if (name !== null) {
    pickParam(M.PARAM_NAMES.indexOf(name));
    return;
  }
  const match = /^[a-z]+(\d+)_(\d+)$/.exec(formula.target);
  if (match) chosen = { layer: Number(match[1]), neuron: Number(match[2]), input: 0, param: null };
}

function pickParam(p) {
  let rest = p;
  for (let n = 1; n < M.ARCH.length; n++) {
    const size = M.ARCH[n] * (M.ARCH[n - 1] + 1);
    if (rest < size) {
      const j = Math.floor(rest / (M.ARCH[n - 1] + 1));
      const i = rest % (M.ARCH[n - 1] + 1);
      chosen = { layer: n, neuron: j, input: Math.min(i, M.ARCH[n - 1] - 1), param: p };
      return;
    }
    rest -= size;
  }
}

// -- showing ---------------------------------------------------------------

let boundary = null;
let network = null;
let fitCanvas = null;
let confusion = null;
const rows = G.FORMULAS.map((formula, n) => {
  const row = $(`eq-${n}`);
  const keys = {};
  for (const node of row.querySelectorAll(".q")) keys[node.dataset.q] = [node, needsParentheses(node)];
  return { row, keys, result: row.querySelector(".result"), at: row.querySelector(".at") };
});

function setupViews() {
  const output = $("output-view");
  output.replaceChildren();
  $("network").replaceChildren();
  boundary = null;
  fitCanvas = null;
  confusion = null;
  if (TWO_INPUTS) {
    boundary = new BoundaryView(output, GRID);
    boundary.box.addEventListener("click", (event) => pickPoint(event));
  } else if (data.classes && data.classes.length === M.N_OUTPUTS) {
    output.appendChild(element("p", "note", "Training samples by class: rows are the true class, columns the network's."));
    confusion = element("table", "confusion");
    output.appendChild(confusion);
  } else {
    output.appendChild(element("p", "note", "Each training sample's outputs against its targets; on the diagonal when they agree."));
    fitCanvas = element("canvas", "fit");
    fitCanvas.width = 360;
    fitCanvas.height = 300;
    output.appendChild(fitCanvas);
  }
  // Class outputs are named by their classes (one-hot: output k is class k).
  const byClass = data.classes && data.classes.length === M.N_OUTPUTS;
  const names = { inputs: data.inputNames, outputs: byClass ? data.classes : data.targetNames };
  network = new NetworkView($("network"), names, onPick, TWO_INPUTS && M.ARCH.length > 2);
}

function pickPoint(event) {
  const rect = boundary.box.getBoundingClientRect();
  const [lo0, hi0, lo1, hi1] = data.extent;
  const x0 = lo0 + ((event.clientX - rect.left) / rect.width) * (hi0 - lo0);
  const x1 = hi1 - ((event.clientY - rect.top) / rect.height) * (hi1 - lo1);
  let best = 0;
  let distance = Infinity;
  data.trainXs.forEach((x, s) => {
    const d = (x[0] - x0) ** 2 + (x[1] - x1) ** 2;
    if (d < distance) [best, distance] = [s, d];
  });
  if (phase === -1) {
    sampleIndex = best;
    $("sample").value = String(best);
    render(true);
  }
}

function onPick(what, click) {
  let text;
  if (what.param !== undefined) {
    const p = what.param;
    const gradient = stepper.gradientOn(data.trainXs, data.trainYs)[p];
    text = `${M.PARAM_NAMES[p]} = ${formatNumber(stepper.params[p])}; ∂L/∂${M.PARAM_NAMES[p]} = ${formatNumber(gradient)} over the training set`;
    if (click) pickParam(p);
  } else {
    const layer = what.layer;
    const j = what.neuron;
    if (layer === 0) {
      const x = data.trainXs[sampleIndex];
      text = `input ${data.inputNames[j] ?? j} = ${formatNumber(x[j])} (sample ${sampleIndex})`;
    } else {
      const v = quantities(stepper.params, data.trainXs[sampleIndex], data.trainYs[sampleIndex]);
      const z = G.MODE === "scalar" ? v[`z${layer}_${j}`] : v[`z${layer}`][j];
      const a = G.MODE === "scalar" ? v[`a${layer}_${j}`] : v[`a${layer}`][j];
      const delta = G.MODE === "scalar" ? v[`delta${layer}_${j}`] : v[`delta${layer}`][j];
      text = `neuron ${j} of layer ${layer} (${M.ACTIVATIONS[layer - 1]}), sample ${sampleIndex}: z = ${formatNumber(z)}, a = ${formatNumber(a ?? z)}, δ = ∂L/∂z = ${formatNumber(delta)}`;
    }
    if (click) chosen = { layer, neuron: j, input: 0, param: null };
  }
  $("tip").textContent = text;
  if (click) render(true);
}

function render(withFormulas, withLinks = true, part = null) {
  const params = stepper.params;
  if (boundary) {
    boundary.compute(params, data.extent);
    boundary.paint(data.extent, data, data.low, data.high, phase >= 0 || !playing ? sampleIndex : null);
  }
  network.update(params, boundary, chosen, withLinks);
  const n = data.trainXs.length;
  const training = stepper.history.map((loss) => perSample(loss, n));
  drawLoss($("loss-chart"), training, testHistory);
  const last = training.length ? training[training.length - 1] : undefined;
  const held = testHistory.length ? testHistory[testHistory.length - 1][1] : null;
  let status = `epoch ${stepper.epoch}`;
  if (last !== undefined) status += ` · loss per sample: training ${formatNumber(last)}`;
  if (held !== null) status += `, held out ${formatNumber(held)}`;
  if (!stepper._startEpoch) status += ` · ${stepper.cursor} of ${stepper.xs.length} samples of this epoch done`;
  if (phase >= 0) status += ` · stepping through sample ${sampleIndex}`;
  $("status").textContent = error ? `${status} · ${error}` : status;
  $("status").classList.toggle("failed", Boolean(error));
  if (withFormulas) {
    renderFormulas(part);
    if ((fitCanvas || confusion) && (part === null || part === 0)) {
      const outputs = data.trainXs.map((x) => M.forward(params, x));
      if (fitCanvas) drawFit(fitCanvas, outputs, data.trainYs);
      else confusionTable(confusion, data.classes, outputs, data.trainYs);
    }
  }
}

function indexValues(formula) {
  return formula.indices.map(([, role, size]) => {
    const mine = chosen.layer === formula.layer;
    const value = mine ? (role === "neuron" ? chosen.neuron : chosen.input) : 0;
    return Math.min(value, size - 1);
  });
}

/** The formulas' numbers: all of them, or (`part` of FORMULA_EVERY) every sixth. */
function renderFormulas(part = null) {
  const x = data.trainXs[sampleIndex];
  const y = data.trainYs[sampleIndex];
  if (part === null || part === 0) $("sample-values").textContent = `of ${data.trainXs.length}: ${data.inputNames.map((name, i) => `${name} = ${formatNumber(x[i])}`).join(", ")}; target ${y.map(formatNumber).join(", ")}`;
  const v = quantities(stepper.params, x, y);
  G.FORMULAS.forEach((formula, n) => {
    if (part !== null && n % FORMULA_EVERY !== part) return;
    const row = rows[n];
    const hidden = phase >= 0 && n > phase;
    row.row.classList.toggle("current", n === phase);
    row.row.classList.toggle("pending", hidden);
    const values = indexValues(formula);
    row.at.textContent = formula.indices.length
      ? `${formula.indices.map(([name], position) => `${name} = ${values[position]}`).join(", ")}: `
      : "";
    if (hidden) {
      row.result.textContent = "…";
      for (const [node] of Object.values(row.keys)) node.textContent = "…";
      return;
    }
    const numbers = formulaNumbers(formula, v, values);
    row.result.textContent = formatNumber(numbers.value);
    for (const [key, [node, parentheses]] of Object.entries(row.keys)) {
      const value = numbers.placeholders[key];
      const text = formatNumber(value);
      node.textContent = value < 0 && parentheses ? `(${text})` : text;
    }
  });
}

/** A negative number needs parentheses unless it follows "(" or "=". */
function needsParentheses(node) {
  let at = node;
  while (at && !at.previousElementSibling && at.parentElement && at.parentElement.tagName.toLowerCase() === "mrow") {
    at = at.parentElement;
  }
  const before = at ? at.previousElementSibling : null;
  if (!before) return false;
  const text = before.textContent.trim();
  return !(before.tagName.toLowerCase() === "mo" && (text === "(" || text === "="));
}
