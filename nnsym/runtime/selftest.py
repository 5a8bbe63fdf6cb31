"""A generated file's check of itself, run by `python FILE.py --selftest`.

A module compares its exact gradient with central differences of its own loss
and with reference values that nnsym computed at generation time to 30 digits
from the symbolic expressions; a predictor compares its outputs with reference
outputs computed when it was exported. Either prints a short table.
"""

import sys


def _relative_error(value, reference):
    # Relative, with an absolute floor so that values near zero are not judged
    # by their last digits.
    return abs(value - reference) / max(1e-2, abs(value), abs(reference))


def _check_gradients(
    loss_and_grad, init_params, indices, points, central=1e-5, exact=1e-9, write=print
):
    # points: (seed, x, y, reference loss, reference dL/dparams[i] for i in indices).
    # central differences are good to about 1e-8 with this step; the module's
    # float arithmetic to about 1e-13.
    write("point  seed  values  worst vs central diff.  worst vs reference  result")
    passed = True
    for number, (seed, x, y, loss_reference, grad_references) in enumerate(points, 1):
        params = init_params(seed)
        loss, grads = loss_and_grad(params, x, y)
        worst_reference = _relative_error(loss, loss_reference)
        worst_central = 0.0
        for i, reference in zip(indices, grad_references):
            step = 1e-6 * max(1.0, abs(params[i]))
            up = list(params)
            down = list(params)
            up[i] += step
            down[i] -= step
            difference = (loss_and_grad(up, x, y)[0] - loss_and_grad(down, x, y)[0]) / (
                2 * step
            )
            worst_central = max(worst_central, _relative_error(grads[i], difference))
            worst_reference = max(worst_reference, _relative_error(grads[i], reference))
        ok = worst_central <= central and worst_reference <= exact
        passed = passed and ok
        write(
            "%5d  %4d  %6d  %22.1e  %18.1e  %s"
            % (
                number,
                seed,
                len(grad_references) + 1,
                worst_central,
                worst_reference,
                "ok" if ok else "FAILED",
            )
        )
    write("selftest %s" % ("passed" if passed else "FAILED"))
    return passed


def _check_central_differences(
    loss_and_grad, init_params, indices, points, central=1e-5, write=print
):
    # points: (seed, x, y), without reference values: the gradient is checked
    # against central differences of the module's own loss only.
    write("no reference values (too many parameters): central differences only")
    write("point  seed  values  worst vs central diff.  result")
    passed = True
    for number, (seed, x, y) in enumerate(points, 1):
        params = init_params(seed)
        grads = loss_and_grad(params, x, y)[1]
        worst_central = 0.0
        for i in indices:
            step = 1e-6 * max(1.0, abs(params[i]))
            up = list(params)
            down = list(params)
            up[i] += step
            down[i] -= step
            difference = (loss_and_grad(up, x, y)[0] - loss_and_grad(down, x, y)[0]) / (
                2 * step
            )
            worst_central = max(worst_central, _relative_error(grads[i], difference))
        ok = worst_central <= central
        passed = passed and ok
        write(
            "%5d  %4d  %6d  %22.1e  %s"
            % (number, seed, len(indices), worst_central, "ok" if ok else "FAILED")
        )
    write("selftest %s" % ("passed" if passed else "FAILED"))
    return passed


def _check_outputs(predict, vectors, exact=1e-9, write=print):
    # vectors: (inputs, reference outputs) computed to 30 digits at export time.
    write("sample  outputs  worst vs reference  result")
    passed = True
    for number, (x, references) in enumerate(vectors, 1):
        outputs = predict(x)
        worst = max(_relative_error(v, r) for v, r in zip(outputs, references))
        ok = len(outputs) == len(references) and worst <= exact
        passed = passed and ok
        write(
            "%6d  %7d  %18.1e  %s"
            % (number, len(outputs), worst, "ok" if ok else "FAILED")
        )
    write("selftest %s" % ("passed" if passed else "FAILED"))
    return passed


def _selftest_main(argv, selftest):
    # python FILE.py --selftest: exit status 0 if every check passed, else 1.
    if list(argv) != ["--selftest"]:
        print("usage: python %s --selftest" % sys.argv[0], file=sys.stderr)
        return 2
    return 0 if selftest() else 1
