// v8_exp in k5.wasm against Math.exp, bit for bit, on many arguments.
import { readFileSync } from "node:fs";
const { instance } = await WebAssembly.instantiate(readFileSync(new URL("./k5.wasm", import.meta.url)), {});
const e = instance.exports.v8_exp;
let bad = 0, n = 0;
const check = (x) => { n++; const a = e(x), b = Math.exp(x); if (!Object.is(a, b) && !(Number.isNaN(a) && Number.isNaN(b))) { if (bad++ < 5) console.log("differ", x, a, b); } };
for (let i = 0; i < 3e6; i++) { check((Math.random() - 0.5) * 100); check((Math.random() - 0.5) * 1500); check((Math.random() - 0.5) * 2); check((Math.random() - 0.5) * 1e-7); }
for (const x of [0, -0, Infinity, -Infinity, NaN, 709.78, 709.79, -745.13, -745.14, 1e-300, -708.5, 0.5 * Math.LN2, 1.5 * Math.LN2]) check(x);
console.log(`v8_exp vs Math.exp: ${n} arguments, ${bad} differ`);
