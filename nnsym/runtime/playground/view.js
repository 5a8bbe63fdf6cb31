// Drawing: the decision boundary and the hidden neurons' pictures (canvas), the
// network diagram (SVG), the loss curve, and outputs against targets. Text goes
// in with textContent only.

const SVG = "http://www.w3.org/2000/svg";
// Class colours: orange and blue as in TensorFlow Playground, then others.
const CLASS_COLOURS = [
  [245, 147, 34],
  [8, 119, 189],
  [46, 160, 67],
  [156, 85, 196],
  [214, 69, 65],
  [120, 120, 120],
];

function element(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function svgElement(tag, attributes) {
  const node = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, String(value));
  return node;
}

// Orange (0) through white (0.5) to blue (1) in 1024 steps, three bytes each:
// looked up per pixel, so that painting allocates nothing.
const SCALE_STEPS = 1024;
const SCALE = new Uint8ClampedArray(SCALE_STEPS * 3);
for (let step = 0; step < SCALE_STEPS; step++) {
  const u = step / (SCALE_STEPS - 1);
  const [low, high] = [CLASS_COLOURS[0], CLASS_COLOURS[1]];
  for (let ch = 0; ch < 3; ch++) {
    SCALE[step * 3 + ch] =
      u < 0.5 ? low[ch] + (255 - low[ch]) * u * 2 : 255 + (high[ch] - 255) * (u - 0.5) * 2;
  }
}

/** Where t (0 to 1, clamped) is in SCALE: the index of its red byte. */
function scaleAt(t) {
  const u = t > 0 ? (t < 1 ? t : 1) : 0;
  return Math.round(u * (SCALE_STEPS - 1)) * 3;
}

/** Orange (0) through white (0.5) to blue (1), as [r, g, b]. */
function diverging(t) {
  const at = scaleAt(t);
  return [SCALE[at], SCALE[at + 1], SCALE[at + 2]];
}

/** The view box of two-input data: [x0 low, x0 high, x1 low, x1 high], a little wider. */
function extentOf(xs) {
  let lo0 = Infinity;
  let hi0 = -Infinity;
  let lo1 = Infinity;
  let hi1 = -Infinity;
  for (const [a, b] of xs) {
    lo0 = Math.min(lo0, a);
    hi0 = Math.max(hi0, a);
    lo1 = Math.min(lo1, b);
    hi1 = Math.max(hi1, b);
  }
  const pad0 = Math.max((hi0 - lo0) * 0.1, 0.25);
  const pad1 = Math.max((hi1 - lo1) * 0.1, 0.25);
  return [lo0 - pad0, hi0 + pad0, lo1 - pad1, hi1 + pad1];
}

/**
 * The boundary: each pixel of a GRID x GRID picture is the network at that
 * point, through G.activationsAt; the hidden neurons' pictures come from the
 * same pass.
 */
class BoundaryView {
  constructor(container, grid) {
    this.grid = grid;
    // The picture at the grid's own size, scaled up smoothly by the browser, and
    // the points on a canvas of their own above it, redrawn only when they
    // change: painting less each frame is what keeps the frame rate up.
    this.box = element("div", "boundary-box");
    this.canvas = element("canvas", "boundary");
    this.canvas.width = grid;
    this.canvas.height = grid;
    this.canvas.setAttribute("aria-label", "decision boundary");
    this.points = element("canvas", "points");
    this.points.width = 360;
    this.points.height = 360;
    this.points.setAttribute("aria-label", "data points");
    this.box.append(this.canvas, this.points);
    container.appendChild(this.box);
    this.pixels = this.canvas.getContext("2d").createImageData(grid, grid);
    this.pointsDrawn = null;
    this.n_units = M.ARCH.slice(1).reduce((a, b) => a + b, 0);
    this.values = new Float64Array(grid * grid * this.n_units);
    this.out = new Float64Array(this.n_units);
  }

  /** Every neuron at every grid point, for `params`. */
  compute(params, extent) {
    const [lo0, hi0, lo1, hi1] = extent;
    const grid = this.grid;
    const point = new Float64Array(2);
    let offset = 0;
    for (let row = 0; row < grid; row++) {
      point[1] = hi1 - ((row + 0.5) / grid) * (hi1 - lo1);
      for (let col = 0; col < grid; col++) {
        point[0] = lo0 + ((col + 0.5) / grid) * (hi0 - lo0);
        G.activationsAt(params, point, this.out);
        this.values.set(this.out, offset);
        offset += this.n_units;
      }
    }
  }

  /** Paint the output (one output: its value on [low, high]; more: class colours). */
  paint(extent, data, low, high, selected) {
    const grid = this.grid;
    const outputs = M.N_OUTPUTS;
    const first = this.n_units - outputs;
    const pixels = this.pixels.data;
    for (let p = 0; p < grid * grid; p++) {
      const base = p * this.n_units + first;
      if (outputs === 1) {
        const at = scaleAt((this.values[base] - low) / (high - low));
        pixels[p * 4] = SCALE[at];
        pixels[p * 4 + 1] = SCALE[at + 1];
        pixels[p * 4 + 2] = SCALE[at + 2];
        pixels[p * 4 + 3] = 255;
        continue;
      }
      // More outputs: the classes' colours mixed by the outputs, a little paler.
      let total = 0;
      for (let k = 0; k < outputs; k++) total += Math.max(0, this.values[base + k]);
      for (let ch = 0; ch < 3; ch++) {
        let mixed = 0;
        for (let k = 0; k < outputs; k++) {
          const weight = total > 0 ? Math.max(0, this.values[base + k]) / total : 1 / outputs;
          mixed += weight * CLASS_COLOURS[k % CLASS_COLOURS.length][ch];
        }
        pixels[p * 4 + ch] = 255 - (255 - mixed) * 0.75;
      }
      pixels[p * 4 + 3] = 255;
    }
    this.canvas.getContext("2d").putImageData(this.pixels, 0, 0);
    const key = `${data.version}:${selected}`;
    if (this.pointsDrawn !== key) {
      this.pointsDrawn = key;
      this.drawPoints(extent, data, low, high, selected);
    }
  }

  drawPoints(extent, data, low, high, selected) {
    const outputs = M.N_OUTPUTS;
    const context = this.points.getContext("2d");
    const [lo0, hi0, lo1, hi1] = extent;
    const w = this.points.width;
    const h = this.points.height;
    context.clearRect(0, 0, w, h);
    const drawPoints = (xs, ys, test) => {
      xs.forEach((x, s) => {
        const px = ((x[0] - lo0) / (hi0 - lo0)) * w;
        const py = ((hi1 - x[1]) / (hi1 - lo1)) * h;
        const label = classOf(ys[s], low, high);
        const c = outputs === 1 ? diverging((ys[s][0] - low) / (high - low)) : CLASS_COLOURS[label % 6];
        context.beginPath();
        context.arc(px, py, test ? 3.5 : 4, 0, 2 * Math.PI);
        context.fillStyle = `rgb(${c[0]}, ${c[1]}, ${c[2]})`;
        context.fill();
        context.lineWidth = test ? 1.5 : 1;
        context.strokeStyle = test ? "#000" : "#fff";
        context.stroke();
      });
    };
    drawPoints(data.trainXs, data.trainYs, false);
    drawPoints(data.testXs, data.testYs, true);
    if (selected !== null && data.trainXs[selected]) {
      const x = data.trainXs[selected];
      context.beginPath();
      context.arc(((x[0] - lo0) / (hi0 - lo0)) * w, ((hi1 - x[1]) / (hi1 - lo1)) * h, 8, 0, 2 * Math.PI);
      context.lineWidth = 2;
      context.strokeStyle = "#222";
      context.stroke();
    }
  }

  /** One hidden neuron's picture (unit `unit` in layer order), centred at (x, y) of `canvas`. */
  paintUnit(unit, canvas, x, y) {
    const grid = this.grid;
    const step = Math.max(1, Math.floor(grid / THUMB));
    const size = Math.floor(grid / step);
    let low = Infinity;
    let high = -Infinity;
    for (let p = unit; p < this.values.length; p += this.n_units) {
      low = Math.min(low, this.values[p]);
      high = Math.max(high, this.values[p]);
    }
    const range = high - low > 1e-12 ? high - low : 1;
    const context = canvas.getContext("2d");
    if (!this.thumbImage || this.thumbImage.width !== size) this.thumbImage = context.createImageData(size, size);
    const image = this.thumbImage;
    for (let row = 0; row < size; row++) {
      for (let col = 0; col < size; col++) {
        const value = this.values[(row * step * grid + col * step) * this.n_units + unit];
        const c = scaleAt((value - low) / range);
        const at = (row * size + col) * 4;
        image.data[at] = SCALE[c];
        image.data[at + 1] = SCALE[c + 1];
        image.data[at + 2] = SCALE[c + 2];
        image.data[at + 3] = 255;
      }
    }
    const left = Math.round(x - size / 2);
    const top = Math.round(y - size / 2);
    context.putImageData(image, left, top);
    context.strokeStyle = "#555";
    context.lineWidth = 1;
    context.strokeRect(left - 0.5, top - 0.5, size + 1, size + 1);
  }
}

/** The class of a target row: its largest entry, or 0/1 around the middle of [low, high]. */
function classOf(y, low, high) {
  if (y.length === 1) return y[0] > (low + high) / 2 ? 1 : 0;
  let best = 0;
  for (let k = 1; k < y.length; k++) if (y[k] > y[best]) best = k;
  return best;
}

// A hidden neuron's picture is about this many pixels wide.
const THUMB = 24;
// At most this many neurons of a layer are drawn; the others are summed up as "+N".
const MAX_DRAWN = 16;

/** The network as SVG: a column of neurons per layer, a line per weight. */
class NetworkView {
  constructor(container, names, onPick, thumbnails) {
    this.container = container;
    this.onPick = onPick;
    const layers = M.ARCH.length;
    const drawn = M.ARCH.map((n) => Math.min(n, MAX_DRAWN));
    const tallest = Math.max(...drawn);
    this.width = Math.max(260, container.clientWidth || 340);
    this.height = Math.max(160, tallest * 30 + 40);
    this.svg = svgElement("svg", {
      viewBox: `0 0 ${this.width} ${this.height}`,
      width: this.width,
      height: this.height,
      role: "img",
      "aria-label": "network diagram",
    });
    container.appendChild(this.svg);
    this.position = (layer, j) => {
      const x = 64 + (layer * (this.width - 128)) / (layers - 1);
      const y = this.height / 2 + (j - (drawn[layer] - 1) / 2) * 30;
      return [x, y];
    };
    this.links = [];
    let p = 0;
    const linkGroup = svgElement("g", {});
    this.svg.appendChild(linkGroup);
    for (let n = 1; n < layers; n++) {
      for (let j = 0; j < M.ARCH[n]; j++) {
        for (let i = 0; i <= M.ARCH[n - 1]; i++) {
          const isBias = i === M.ARCH[n - 1];
          if (!isBias && j < drawn[n] && i < drawn[n - 1]) {
            const [x1, y1] = this.position(n - 1, i);
            const [x2, y2] = this.position(n, j);
            const line = svgElement("line", { x1, y1, x2, y2, class: "link" });
            line.dataset.param = String(p);
            linkGroup.appendChild(line);
            this.links.push([p, line]);
          }
          p++;
        }
      }
    }
    this.nodes = [];
    this.thumbs = [];
    // Every hidden neuron's picture on one canvas over the diagram.
    this.thumbCanvas = null;
    if (thumbnails) {
      this.thumbCanvas = element("canvas", "thumbs");
      this.thumbCanvas.width = this.width;
      this.thumbCanvas.height = this.height;
      container.appendChild(this.thumbCanvas);
    }
    for (let n = 0; n < layers; n++) {
      for (let j = 0; j < drawn[n]; j++) {
        const [x, y] = this.position(n, j);
        const node = svgElement("circle", { cx: x, cy: y, r: 11, class: n === 0 ? "node input" : "node" });
        node.dataset.layer = String(n);
        node.dataset.neuron = String(j);
        this.svg.appendChild(node);
        this.nodes.push(node);
        if (n > 0 && n < layers - 1 && thumbnails) this.thumbs.push([this._unit(n, j), x, y]);
      }
      const heading = svgElement("text", { x: this.position(n, 0)[0], y: 14, class: "layer-label" });
      heading.textContent = n === 0 ? "inputs" : n === layers - 1 ? "outputs" : `layer ${n}`;
      this.svg.appendChild(heading);
      if (M.ARCH[n] > drawn[n]) {
        const [x, y] = this.position(n, drawn[n] - 1);
        const more = svgElement("text", { x, y: y + 26, class: "more" });
        more.textContent = `+${M.ARCH[n] - drawn[n]}`;
        this.svg.appendChild(more);
      }
    }
    const label = (name, x, y, className) => {
      // Long names are cut short on the diagram; the whole name is its tooltip.
      const text = svgElement("text", { x, y, class: className });
      text.textContent = name.length > 9 ? `${name.slice(0, 8)}…` : name;
      const title = svgElement("title", {});
      title.textContent = name;
      text.appendChild(title);
      this.svg.appendChild(text);
    };
    for (let i = 0; i < Math.min(names.inputs.length, drawn[0]); i++) {
      const [x, y] = this.position(0, i);
      label(names.inputs[i], x - 15, y + 4, "name start");
    }
    const last = layers - 1;
    for (let k = 0; k < Math.min(names.outputs.length, drawn[last]); k++) {
      const [x, y] = this.position(last, k);
      label(names.outputs[k], x + 15, y + 4, "name");
    }
    container.addEventListener("mousemove", (event) => this._point(event, false));
    container.addEventListener("click", (event) => this._point(event, true));
  }

  _unit(layer, j) {
    let unit = 0;
    for (let n = 1; n < layer; n++) unit += M.ARCH[n];
    return unit + j;
  }

  _point(event, click) {
    const target = event.target;
    if (target.dataset && target.dataset.param !== undefined) {
      this.onPick({ param: Number(target.dataset.param) }, click);
    } else if (target.dataset && target.dataset.layer !== undefined) {
      this.onPick({ layer: Number(target.dataset.layer), neuron: Number(target.dataset.neuron) }, click);
    }
  }

  /** Colour and width of each link from its weight; the chosen things marked. */
  update(params, boundary, highlight, withLinks) {
    if (boundary && this.thumbCanvas) {
      for (const [unit, x, y] of this.thumbs) boundary.paintUnit(unit, this.thumbCanvas, x, y);
    }
    if (!withLinks) return;
    let largest = 1e-9;
    for (const [p] of this.links) largest = Math.max(largest, Math.abs(params[p]));
    for (const link of this.links) {
      const [p, line] = link;
      const w = params[p];
      // Set only what changed as drawn: restyling every line each frame costs
      // the browser more than the training does.
      const colour = w >= 0 ? "#0877bd" : "#f59322";
      const width = (0.5 + 5 * Math.sqrt(Math.abs(w) / largest)).toFixed(1);
      if (link[2] !== colour) line.setAttribute("stroke", (link[2] = colour));
      if (link[3] !== width) line.setAttribute("stroke-width", (link[3] = width));
      const chosen = highlight.param === p;
      if (link[4] !== chosen) line.classList.toggle("chosen", (link[4] = chosen));
    }
    for (const node of this.nodes) {
      const chosen = Number(node.dataset.layer) === highlight.layer && Number(node.dataset.neuron) === highlight.neuron;
      node.classList.toggle("chosen", chosen);
    }
  }
}

/** The loss per sample by epoch, training and held out; a log scale when it spans decades. */
function drawLoss(canvas, train, test) {
  const context = canvas.getContext("2d");
  const w = canvas.width;
  const h = canvas.height;
  context.clearRect(0, 0, w, h);
  context.fillStyle = "#fafafa";
  context.fillRect(0, 0, w, h);
  let low = Infinity;
  let high = -Infinity;
  const consider = (v) => {
    if (Number.isFinite(v) && v > 0) {
      low = Math.min(low, v);
      high = Math.max(high, v);
    }
  };
  for (const v of train) consider(v);
  for (const point of test) consider(point[1]);
  if (!(high >= low)) return;
  const log = high / low > 100;
  const scale = (v) => (log ? Math.log10(Math.max(v, low)) : v);
  const top = scale(high);
  const bottom = log ? scale(low) : 0;
  const span = top - bottom || 1;
  const epochs = Math.max(train.length, 1);
  const y = (v) => h - 14 - ((scale(v) - bottom) / span) * (h - 24);
  const x = (e) => 36 + (e / epochs) * (w - 44);
  context.fillStyle = "#666";
  context.font = "10px sans-serif";
  context.fillText(formatNumber(high), 2, 12);
  context.fillText(formatNumber(log ? low : 0), 2, h - 14);
  context.fillText(`epoch ${train.length}`, w - 70, h - 2);
  const line = (points, colour, dash) => {
    context.beginPath();
    context.setLineDash(dash);
    points.forEach(([e, v], index) => (index ? context.lineTo(x(e), y(v)) : context.moveTo(x(e), y(v))));
    context.strokeStyle = colour;
    context.lineWidth = 1.5;
    context.stroke();
    context.setLineDash([]);
  };
  const stride = Math.max(1, Math.floor(train.length / 400));
  const points = [];
  for (let e = 0; e < train.length; e += stride) points.push([e + 1, train[e]]);
  if (train.length) points.push([train.length, train[train.length - 1]]);
  line(points, "#333", []);
  if (test.length) line(test, "#f59322", [4, 3]);
}

/** Outputs against targets (a network that is not two-input): a scatter per output. */
function drawFit(canvas, outputs, targets) {
  const context = canvas.getContext("2d");
  const w = canvas.width;
  const h = canvas.height;
  context.clearRect(0, 0, w, h);
  context.fillStyle = "#fafafa";
  context.fillRect(0, 0, w, h);
  const values = outputs.flat().concat(targets.flat());
  const low = Math.min(...values);
  const high = Math.max(...values);
  const span = high - low || 1;
  const px = (v) => 20 + ((v - low) / span) * (w - 30);
  const py = (v) => h - 20 - ((v - low) / span) * (h - 30);
  context.strokeStyle = "#bbb";
  context.beginPath();
  context.moveTo(px(low), py(low));
  context.lineTo(px(high), py(high));
  context.stroke();
  outputs.forEach((row, s) => {
    row.forEach((value, k) => {
      const c = CLASS_COLOURS[k % CLASS_COLOURS.length];
      context.fillStyle = `rgba(${c[0]}, ${c[1]}, ${c[2]}, 0.7)`;
      context.fillRect(px(targets[s][k]) - 2, py(value) - 2, 4, 4);
    });
  });
  context.fillStyle = "#666";
  context.font = "10px sans-serif";
  context.fillText("target →", w - 60, h - 4);
  context.fillText("↑ output", 2, 10);
}

/** A confusion matrix (rows: the true class, columns: the network's), labels as text. */
function confusionTable(table, classes, outputs, targets) {
  const k = classes.length;
  const counts = Array.from({ length: k }, () => new Array(k).fill(0));
  outputs.forEach((row, s) => {
    counts[classOf(targets[s], 0, 1)][classOf(row, 0, 1)]++;
  });
  table.replaceChildren();
  const head = element("tr");
  head.appendChild(element("th", "", "true \\ predicted"));
  for (const label of classes) head.appendChild(element("th", "", label));
  table.appendChild(head);
  counts.forEach((row, r) => {
    const tr = element("tr");
    tr.appendChild(element("th", "", classes[r]));
    row.forEach((count, c) => tr.appendChild(element("td", r === c ? "hit" : "", String(count))));
    table.appendChild(tr);
  });
}
