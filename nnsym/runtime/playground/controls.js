// The page's controls, saving the weights, the scripting API window.nnsym, and
// the start: the last of the page's files, so that everything it calls is defined.

// -- saving ----------------------------------------------------------------

function weightsDocument() {
  const document_ = JSON.parse(JSON.stringify(config.weights));
  document_.params = {};
  M.PARAM_NAMES.forEach((name, p) => {
    document_.params[name] = stepper.params[p];
  });
  document_.classes = data.classes && data.classes.length === M.N_OUTPUTS ? data.classes : null;
  document_.training = {
    by: "nnsym playground",
    data: data.name,
    epochs: stepper.epoch,
    seed: settings.seed,
    lr: settings.lr,
    optimizer: settings.optimizer,
    batch_size: settings.batch > 0 ? settings.batch : null,
    reduction: settings.reduction,
  };
  return document_;
}

function saveWeights() {
  if (!stepper.params.every(Number.isFinite)) {
    error = "the parameters are not all finite; reset before saving";
    render(false);
    return;
  }
  const text = `${JSON.stringify(weightsDocument(), null, 2)}\n`;
  const url = URL.createObjectURL(new Blob([text], { type: "application/json" }));
  const link = document.createElement("a");
  link.href = url;
  link.download = `${config.weights.spec.name}.json`;
  document.body.appendChild(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

// -- controls --------------------------------------------------------------

function fillControls() {
  const select = $("dataset");
  select.replaceChildren();
  const add = (value, text) => {
    const option = element("option", "", text);
    option.value = value;
    select.appendChild(option);
  };
  if (given) add("given", `${given.name} (given)`);
  if (uploaded) add("csv", `${uploaded.name} (your file)`);
  if (M.N_INPUTS === 2) for (const name of config.generators) add(name, name);
  select.value = settings.data;
  $("count").value = String(settings.count);
  $("noise").value = String(settings.noise);
  $("split").value = String(settings.split);
  $("seed").value = String(settings.seed);
  $("lr").value = String(settings.lr);
  $("optimizer").value = settings.optimizer;
  $("batch").value = String(settings.batch);
  $("reduction").value = settings.reduction;
  $("speed").value = String(settings.speed);
  $("noise-value").textContent = String(settings.noise);
  $("split-value").textContent = `${Math.round(settings.split * 100)}%`;
  const generated = config.generators.includes(settings.data);
  $("count").disabled = !generated;
  $("noise").disabled = !generated;
}

function number(id, minimum) {
  const value = Number($(id).value);
  return Number.isFinite(value) && value >= minimum ? value : null;
}

function onDataChange() {
  settings.data = $("dataset").value;
  settings.count = number("count", 4) ?? settings.count;
  settings.noise = number("noise", 0) ?? settings.noise;
  settings.split = number("split", 0) ?? settings.split;
  fillControls();
  resetRun();
  setupViews();
  writeHash();
  render(true);
}

function onOptionChange() {
  const lr = number("lr", 0);
  const batch = number("batch", 0);
  if (lr === null || lr === 0 || batch === null || !Number.isInteger(batch)) {
    error = "the learning rate is a number above 0, the batch size a whole number (0: the full batch)";
    render(false);
    return;
  }
  settings.lr = lr;
  settings.batch = batch;
  settings.optimizer = $("optimizer").value;
  settings.reduction = $("reduction").value;
  settings.speed = Number($("speed").value);
  error = "";
  applyOptions();
  writeHash();
  render(false);
}

function readCsv(file) {
  const reader = new FileReader();
  reader.onload = () => {
    try {
      uploaded = { name: file.name, ...parseCsv(String(reader.result), M.N_INPUTS, M.N_OUTPUTS) };
      $("data-error").textContent = "";
      settings.data = "csv";
      fillControls();
      resetRun();
      setupViews();
      render(true);
    } catch (failure) {
      $("data-error").textContent = `${file.name}: ${failure.message}`;
    }
  };
  reader.readAsText(file);
}

function wire() {
  $("play").addEventListener("click", () => play(!playing));
  $("epoch").addEventListener("click", () => {
    play(false);
    train(1);
    writeHash();
    render(true);
  });
  $("step").addEventListener("click", stepQuantity);
  $("reset").addEventListener("click", () => {
    settings.seed = number("seed", 0) ?? 0;
    resetRun();
    writeHash();
    fillControls();
    render(true);
  });
  for (const id of ["lr", "optimizer", "batch", "reduction", "speed"]) $(id).addEventListener("change", onOptionChange);
  for (const id of ["dataset", "count", "noise", "split"]) $(id).addEventListener("change", onDataChange);
  $("noise").addEventListener("input", () => ($("noise-value").textContent = $("noise").value));
  $("split").addEventListener("input", () => ($("split-value").textContent = `${Math.round(Number($("split").value) * 100)}%`));
  $("csv").addEventListener("change", () => {
    const file = $("csv").files[0];
    if (file) readCsv(file);
  });
  $("sample").addEventListener("change", () => {
    const value = number("sample", 0);
    if (value !== null && phase === -1) sampleIndex = Math.min(Math.floor(value), data.trainXs.length - 1);
    $("sample").value = String(sampleIndex);
    render(true);
  });
  $("save").addEventListener("click", saveWeights);
  document.addEventListener("keydown", (event) => {
    const typing = ["INPUT", "SELECT", "TEXTAREA"].includes(document.activeElement?.tagName);
    if (event.key === " " && !typing) {
      event.preventDefault();
      play(!playing);
    }
  });
}

// -- scripting API ---------------------------------------------------------

window.nnsym = Object.freeze({
  /** Start again from initParams(seed) (data and options kept). */
  reset(seed = 0) {
    play(false);
    settings.seed = seed;
    stepper.reset(seed);
    applyOptions();
    testHistory = [];
    phase = -1;
    error = "";
    recordTest();
    fillControls();
    render(true);
  },
  /** Change lr, optimizer, batchSize (null: full batch), reduction. */
  setOptions(options) {
    stepper.setOptions(options);
    const o = stepper.options;
    Object.assign(settings, { lr: o.lr, optimizer: o.optimizer, batch: o.batchSize ?? 0, reduction: o.reduction });
    fillControls();
  },
  /** Train `epochs` epochs now, synchronously; returns the epoch count. */
  step(epochs = 1) {
    play(false);
    trainRecording(epochs);
    render(true);
    return stepper.epoch;
  },
  params: () => Array.from(stepper.params),
  epoch: () => stepper.epoch,
  loss: () => stepper.history[stepper.history.length - 1] ?? null,
  play: () => play(true),
  pause: () => play(false),
  weights: () => weightsDocument(),
  /** Frames and epochs since play() began, and the milliseconds spent in them. */
  stats: () => ({ ...stats, seconds: (performance.now() - stats.start) / 1000 }),
  setSpeed(epochsPerFrame) {
    settings.speed = epochsPerFrame;
  },
});

$("spec-line").textContent = config.title;
$("command").textContent = config.command;
fillControls();
resetRun();
setupViews();
wire();
if (settings.epochs > 0) train(Math.min(Math.floor(settings.epochs), 1000000), true);
render(true);
