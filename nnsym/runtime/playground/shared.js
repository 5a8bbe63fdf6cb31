// What the formulas' JavaScript (G) and the page both call.

/** f(low) + f(low + 1) + ... + f(high): a sum over an index of the layer formulas. */
function _sum(low, high, f) {
  let total = 0;
  for (let index = low; index <= high; index++) total += f(index);
  return total;
}
