// Every quantity of the formulas for one sample, computed by the formulas
// themselves (G.FORMULAS, printed from the derivation by SymPy's JavaScript
// printer), and how the page shows their numbers.

/** {name: value} per parameter, or {name: nested arrays} per layer, for one sample. */
function quantities(params, x, y) {
  const v = {};
  if (G.MODE === "scalar") {
    M.PARAM_NAMES.forEach((name, p) => {
      v[name] = params[p];
    });
    for (let i = 0; i < x.length; i++) v[`x${i}`] = x[i];
    for (let k = 0; k < y.length; k++) v[`y${k}`] = y[k];
    for (const formula of G.FORMULAS) v[formula.target] = formula.compute(v, 0, 0, 0, 0);
    return v;
  }
  v.x = Array.from(x);
  v.y = Array.from(y);
  let p = 0;
  for (let n = 1; n < M.ARCH.length; n++) {
    const w = [];
    const b = [];
    for (let j = 0; j < M.ARCH[n]; j++) {
      w.push(Array.from(params.slice(p, p + M.ARCH[n - 1])));
      p += M.ARCH[n - 1];
      b.push(params[p++]);
    }
    v[`w${n}`] = w;
    v[`b${n}`] = b;
  }
  for (const formula of G.FORMULAS) v[formula.target] = _computeAll(formula, v);
  return v;
}

function _call(fn, v, names, values) {
  const at = { i: 0, j: 0, k: 0, m: 0 };
  names.forEach((name, position) => {
    at[name] = values[position];
  });
  return fn(v, at.i, at.j, at.k, at.m);
}

function _computeAll(formula, v) {
  const names = formula.indices.map((index) => index[0]);
  const sizes = formula.indices.map((index) => index[2]);
  if (sizes.length === 0) return formula.compute(v, 0, 0, 0, 0);
  const result = [];
  for (let a = 0; a < sizes[0]; a++) {
    if (sizes.length === 1) {
      result.push(_call(formula.compute, v, names, [a]));
    } else {
      const row = [];
      for (let b = 0; b < sizes[1]; b++) row.push(_call(formula.compute, v, names, [a, b]));
      result.push(row);
    }
  }
  return result;
}

/** The formula's value and its placeholders' values, at `values` of its indices. */
function formulaNumbers(formula, v, values) {
  const names = formula.indices.map((index) => index[0]);
  let value = v[formula.target];
  for (const at of values.slice(0, names.length)) value = value[at];
  const placeholders = {};
  for (const [key, fn] of Object.entries(formula.placeholders)) placeholders[key] = _call(fn, v, names, values);
  return { value, placeholders };
}

/** The gradient the formulas give, in PARAM_NAMES order. */
function formulaGradient(v) {
  if (G.MODE === "scalar") return M.PARAM_NAMES.map((name) => v[`g_${name}`]);
  const grad = [];
  for (let n = 1; n < M.ARCH.length; n++) {
    for (let j = 0; j < M.ARCH[n]; j++) {
      grad.push(...v[`gw${n}`][j]);
      grad.push(v[`gb${n}`][j]);
    }
  }
  return grad;
}

/** A number as the formulas show it: three significant digits, a true minus sign. */
function formatNumber(value) {
  if (!Number.isFinite(value)) return String(value);
  if (value === 0) return "0";
  const size = Math.abs(value);
  let text;
  if (size >= 1e4 || size < 1e-3) {
    text = value.toExponential(2).replace(/\.?0+e/, "e").replace("e+", "e");
  } else {
    text = value.toPrecision(3);
    if (text.includes(".")) text = text.replace(/\.?0+$/, "");
  }
  return text.replace(/-/g, "\u2212");
}
