// JavaScript's floating-point limit for the JavaScript trainers' kind of code,
// the counterpart of benchmarks/peak.c: a multiply and a separate add (V8
// fuses no multiply-add) on LANES independent chains, acc[k] = acc[k] * scale
// + shift, in float64 (every JavaScript number). V8 has no vector
// instructions, so the chains run one number at a time; they start from and
// end in a Float64Array but are held in local variables through the loop, as
// gcc holds peak.c's in registers: kept in the array they would cost a load
// and a store per multiply-add, which halves the rate. Enough lanes keep the
// multipliers and adders busy through their latency, but 16 and more do not
// fit x86-64's 16 registers with scale and shift, and the spills halve the
// rate too; so several lane counts are measured and the fastest counts.
// Each repetition is LANES multiplies and LANES adds: 2 * LANES floating-point
// operations. The chains' sum is printed, so that nothing is optimized away.
//
// node peak.mjs ROUNDS FLOPS -> {"flopsPerSecond", "lanes", "totals"}
// ROUNDS rounds of every lane count, each about FLOPS floating-point
// operations timed in CPU time (process.cpuUsage, as peak.c's in
// time.process_time); flopsPerSecond is the fastest round's, lanes its lane
// count, totals each lane count's final sum of the chains.

const LANE_COUNTS = [8, 12, 16];
const SCALE = 0.999999;
const SHIFT = 1e-6;

// kernel(acc, repetitions): the chains written out for one lane count, so
// that each is a local variable V8 can keep in a register.
function makeKernel(lanes) {
  const names = Array.from({ length: lanes }, (_, k) => `a${k}`);
  const load = names.map((name, k) => `${name} = acc[${k}]`).join(", ");
  const step = names.map((name) => `${name} = ${name} * scale + shift;`);
  const store = names.map((name, k) => `acc[${k}] = ${name};`);
  return new Function(
    "acc",
    "repetitions",
    `const scale = ${SCALE}, shift = ${SHIFT};
     let ${load};
     for (let r = 0; r < repetitions; r++) { ${step.join(" ")} }
     ${store.join(" ")}`,
  );
}

function cpuSeconds(since) {
  const used = process.cpuUsage(since);
  return (used.user + used.system) / 1e6;
}

const [rounds, flops] = process.argv.slice(2).map(Number);
let best = 0;
let bestLanes = 0;
const totals = {};
for (const lanes of LANE_COUNTS) {
  const kernel = makeKernel(lanes);
  const repetitions = Math.max(1, Math.round(flops / (2 * lanes)));
  let total = 0;
  for (let round = 0; round < rounds; round++) {
    const acc = Float64Array.from({ length: lanes }, (_, k) => k);
    const started = process.cpuUsage();
    kernel(acc, repetitions);
    const rate = (2 * lanes * repetitions) / cpuSeconds(started);
    if (rate > best) {
      best = rate;
      bestLanes = lanes;
    }
    total = acc.reduce((sum, value) => sum + value, 0);
  }
  totals[lanes] = { repetitions, total };
}
process.stdout.write(
  JSON.stringify({ flopsPerSecond: best, lanes: bestLanes, totals }),
);
