// The playground's data: two-input data sets drawn from a seed, the split into
// training and held-out samples, and CSV files the user picks in the page.
// Every label and column name stays a string, shown with textContent only.

const GENERATORS = Object.freeze(["xor", "circle", "moons", "spiral", "gaussians"]);

// Uniform on [0, 1) and standard normal numbers from the module's splitmix64.
class Draws {
  constructor(seed) {
    this.rng = new M.SplitMix64(seed);
  }

  uniform() {
    return (this.rng.uniform() + 1) / 2;
  }

  normal() {
    // Box-Muller; 1 - u keeps the logarithm's argument above 0.
    const u = 1 - this.uniform();
    const v = this.uniform();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }
}

/** `count` points of a two-class set on about [-1, 1]^2: {xs, labels} (labels 0 or 1). */
function generate(name, count, noise, seed) {
  const draw = new Draws(seed);
  const xs = [];
  const labels = [];
  const add = (x0, x1, label) => {
    xs.push([x0 + noise * draw.normal(), x1 + noise * draw.normal()]);
    labels.push(label);
  };
  for (let s = 0; s < count; s++) {
    const half = s % 2;
    if (name === "xor") {
      // Away from the axes, as in the truth table's four corners.
      const x0 = (0.1 + 0.9 * draw.uniform()) * (draw.uniform() < 0.5 ? -1 : 1);
      const x1 = (0.1 + 0.9 * draw.uniform()) * (draw.uniform() < 0.5 ? -1 : 1);
      add(x0, x1, x0 * x1 < 0 ? 1 : 0);
    } else if (name === "circle") {
      const radius = half ? 0.5 * draw.uniform() : 0.7 + 0.3 * draw.uniform();
      const angle = 2 * Math.PI * draw.uniform();
      add(radius * Math.cos(angle), radius * Math.sin(angle), half);
    } else if (name === "moons") {
      const t = Math.PI * draw.uniform();
      if (half) add(0.5 - Math.cos(t) * 0.7 - 0.15, 0.35 - Math.sin(t) * 0.7 + 0.2, 1);
      else add(Math.cos(t) * 0.7 - 0.35, Math.sin(t) * 0.7 - 0.35, 0);
    } else if (name === "spiral") {
      const r = draw.uniform();
      const angle = 1.75 * 2 * Math.PI * r + (half ? Math.PI : 0);
      add(r * Math.sin(angle), r * Math.cos(angle), half);
    } else if (name === "gaussians") {
      const centre = half ? 0.45 : -0.45;
      add(centre + 0.25 * draw.normal(), centre + 0.25 * draw.normal(), half);
    } else {
      throw new RangeError(`no data set named ${name}`);
    }
  }
  return { xs, labels };
}

/** Targets for `outputs` outputs: the label itself for one, one-hot for more. */
function targetsOf(labels, outputs) {
  return labels.map((label) => {
    if (outputs === 1) return [label];
    const row = new Array(outputs).fill(0);
    row[label] = 1;
    return row;
  });
}

/** A seeded `fraction` of the samples held out: {train: [indices], test: [indices]}. */
function splitIndices(count, fraction, seed) {
  const order = Array.from({ length: count }, (_, s) => s);
  const nTest = Math.round(count * fraction);
  if (nTest <= 0 || nTest >= count) return { train: order, test: [] };
  M._shuffle(order, new M.SplitMix64(seed + 1));
  const test = order.slice(0, nTest).sort((a, b) => a - b);
  const train = order.slice(nTest).sort((a, b) => a - b);
  return { train, test };
}

function _csvRows(text) {
  // Quoted fields may hold commas, quotes ("") and newlines.
  const rows = [];
  let row = [];
  let field = "";
  let quoted = false;
  for (let c = 0; c < text.length; c++) {
    const ch = text[c];
    if (quoted) {
      if (ch === '"' && text[c + 1] === '"') {
        field += '"';
        c++;
      } else if (ch === '"') quoted = false;
      else field += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ",") {
      row.push(field);
      field = "";
    } else if (ch === "\n" || ch === "\r") {
      if (ch === "\r" && text[c + 1] === "\n") c++;
      row.push(field);
      if (row.some((f) => f.trim() !== "")) rows.push(row);
      row = [];
      field = "";
    } else field += ch;
  }
  row.push(field);
  if (row.some((f) => f.trim() !== "")) rows.push(row);
  return rows;
}

function _isNumber(text) {
  return text.trim() !== "" && Number.isFinite(Number(text));
}

/**
 * A CSV file's samples for a network of `inputs` inputs and `outputs` outputs:
 * the first `inputs` columns are the inputs, the rest the targets (numbers, or
 * one column of class labels: one-hot over the sorted labels, or 0/1 for two
 * labels and one output). The first row is a header when one of its fields is
 * not a number. Returns {xs, ys, inputNames, targetNames, classes}; throws
 * RangeError with a message for the page.
 */
function parseCsv(text, inputs, outputs) {
  const rows = _csvRows(text);
  if (rows.length === 0) throw new RangeError("the file has no rows");
  let names = null;
  if (!rows[0].every(_isNumber)) names = rows.shift().map((f) => f.trim());
  if (rows.length === 0) throw new RangeError("the file has a header but no samples");
  const width = rows[0].length;
  if (width <= inputs) {
    throw new RangeError(`the network has ${inputs} inputs, so it needs more than ${inputs} columns; the file has ${width}`);
  }
  rows.forEach((row, r) => {
    if (row.length !== width) throw new RangeError(`row ${r + 1} has ${row.length} fields, not ${width}`);
  });
  const targetColumns = width - inputs;
  const xs = rows.map((row, r) =>
    row.slice(0, inputs).map((f, c) => {
      if (!_isNumber(f)) throw new RangeError(`row ${r + 1}, column ${c + 1}: ${JSON.stringify(f)} is not a number`);
      return Number(f);
    }),
  );
  const inputNames = names ? names.slice(0, inputs) : xs[0].map((_, c) => `x${c}`);
  let targetNames = names ? names.slice(inputs) : [];
  let classes = null;
  let ys;
  const labels = rows.map((row) => row.slice(inputs).join(","));
  if (targetColumns === outputs && rows.every((row) => row.slice(inputs).every(_isNumber))) {
    ys = rows.map((row) => row.slice(inputs).map(Number));
  } else if (targetColumns === 1) {
    classes = [...new Set(labels)].sort((a, b) =>
      _isNumber(a) && _isNumber(b) ? Number(a) - Number(b) : a < b ? -1 : a > b ? 1 : 0,
    );
    const wanted = outputs === 1 ? 2 : outputs;
    if (classes.length !== wanted) {
      throw new RangeError(`the targets have ${classes.length} different labels, but the network's ${outputs} output(s) take ${wanted}`);
    }
    ys = targetsOf(
      labels.map((label) => classes.indexOf(label)),
      outputs,
    );
  } else {
    throw new RangeError(`the network has ${outputs} output(s), but the file has ${targetColumns} target columns`);
  }
  if (!names) targetNames = Array.from({ length: targetColumns }, (_, c) => `y${c}`);
  return { xs, ys, inputNames, targetNames, classes };
}
