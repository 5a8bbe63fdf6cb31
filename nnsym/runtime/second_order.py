"""Full-batch optimizers that need no learning rate: Levenberg-Marquardt, L-BFGS.

`_levenberg_marquardt` follows MATLAB's trainlm (Hagan and Menhaj 1994): the
damped Gauss-Newton system (J^T H J + mu I) step = -J^T r, mu times mu_inc
after a step that does not lower the objective, times mu_dec after one that
does, stop once mu exceeds mu_max. For sse and mse, H is the identity and r the
residuals a - y: trainlm's J^T J + mu I. For bce and ce it is the generalized
Gauss-Newton matrix in the output layer's pre-activations z (H = p (1 - p) for
a sigmoid with bce, diag(p) - p p^T for a softmax with ce, times the sum of the
targets), so that lm serves every loss.

`_lbfgs` is torch.optim.LBFGS with line_search_fn="strong_wolfe" (PyTorch
2.x, torch/optim/lbfgs.py), ported line for line to lists of floats: one call
is one step() with max_iter iterations, max_eval = max_iter * 5 // 4.

Neither raises the module's DivergenceError itself: the module passes
`diverged`, which does.
"""

import math

# lm builds an N x N matrix and factors it every iteration (N**3 / 6 operations
# in pure Python): above this many parameters it is refused, and lbfgs is the
# optimizer to use.
LM_MAX_PARAMS = 1000
# trainlm's floor for mu after a run of successful steps.
_LM_MU_MIN = 1e-20


def _cholesky_solve(matrix, rhs, shift):
    # Solve (matrix + shift I) x = rhs by Cholesky; matrix is symmetric, given
    # by its lower triangle (row i holds entries 0..i). None if the shifted
    # matrix is not positive definite (or holds NaN): the caller raises mu.
    lower = []
    for i, row in enumerate(matrix):
        own = []
        for j in range(i):
            other = lower[j]
            total = row[j] - sum([a * b for a, b in zip(own, other)])
            own.append(total / other[j])
        pivot = row[i] + shift - sum([a * a for a in own])
        if not pivot > 0.0 or not math.isfinite(pivot):
            return None
        own.append(math.sqrt(pivot))
        lower.append(own)
    # L y = rhs, then L^T x = y.
    y = []
    for i, own in enumerate(lower):
        y.append((rhs[i] - sum([a * b for a, b in zip(own, y)])) / own[i])
    n = len(y)
    x = [0.0] * n
    for i in range(n - 1, -1, -1):
        total = y[i]
        for k in range(i + 1, n):
            total -= lower[k][i] * x[k]
        x[i] = total / lower[i][i]
    for value in x:
        if not math.isfinite(value):
            return None
    return x


def _add_outer(matrix, coefficient, vector):
    # matrix += coefficient * vector vector^T, on the lower triangle only.
    for i, value in enumerate(vector):
        scaled = coefficient * value
        if scaled:
            row = matrix[i]
            matrix[i] = [m + scaled * v for m, v in zip(row, vector)]


def _normal_equations(loss, n_params, samples, scale):
    # (J^T H J, J^T r) summed over `samples`, each (outputs, targets, rows):
    # rows are the Jacobian of the outputs (sse, mse) or of the output layer's
    # pre-activations (bce, ce) in the parameters, one row per output. Both
    # times `scale` (1 / N for the mean over N samples).
    matrix = [[0.0] * (i + 1) for i in range(n_params)]
    gradient = [0.0] * n_params
    for outputs, targets, rows in samples:
        if loss == "ce":
            weight = sum(targets)
            residuals = [weight * p - t for p, t in zip(outputs, targets)]
            mixed = [0.0] * n_params
            for p, row in zip(outputs, rows):
                _add_outer(matrix, weight * p, row)
                mixed = [m + p * r for m, r in zip(mixed, row)]
            _add_outer(matrix, -weight, mixed)
        else:
            residuals = [p - t for p, t in zip(outputs, targets)]
            for p, row in zip(outputs, rows):
                _add_outer(matrix, p * (1.0 - p) if loss == "bce" else 1.0, row)
        for r, row in zip(residuals, rows):
            if r:
                gradient = [g + r * v for g, v in zip(gradient, row)]
    if scale != 1.0:
        matrix = [[m * scale for m in row] for row in matrix]
        gradient = [g * scale for g in gradient]
    return matrix, gradient


def _levenberg_marquardt(
    params, objective, linearize, epochs, damping, target_loss, callback, diverged
):
    # trainlm's loop. objective(params) is the training objective (inf on
    # overflow); linearize(params) is _normal_equations at params; damping is
    # (mu, mu_dec, mu_inc, mu_max). One epoch is one accepted step; history[i]
    # is the objective before it. Stops early when no mu up to mu_max lowers
    # the objective (a minimum, or a system that stays singular).
    mu, mu_dec, mu_inc, mu_max = damping
    current = objective(params)
    history = []
    last_finite = None
    for epoch in range(epochs):
        if not math.isfinite(current):
            diverged(epoch, current, last_finite, params)
        matrix, gradient = linearize(params)
        accepted = False
        while mu <= mu_max:
            step = _cholesky_solve(matrix, [-g for g in gradient], mu)
            if step is not None:
                trial = [p + s for p, s in zip(params, step)]
                value = objective(trial)
                if value < current:
                    mu = max(mu * mu_dec, _LM_MU_MIN)
                    accepted = True
                    break
            mu *= mu_inc
        history.append(current)
        last_finite = current
        if not accepted:
            break
        params, current = trial, value
        if target_loss is not None and history[-1] <= target_loss:
            break
        if callback is not None and callback(epoch, history[-1]):
            break
    return params, history


def _inner(u, v):
    return sum([a * b for a, b in zip(u, v)])


def _cubic_interpolate(x1, f1, g1, x2, f2, g2, bounds=None):
    # PyTorch's port of torch/optim's polyinterp.lua: the minimum of the cubic
    # through two points with their values and derivatives, within bounds.
    if bounds is not None:
        xmin_bound, xmax_bound = bounds
    else:
        xmin_bound, xmax_bound = (x1, x2) if x1 <= x2 else (x2, x1)
    d1 = g1 + g2 - 3 * (f1 - f2) / (x1 - x2)
    d2_square = d1**2 - g1 * g2
    if d2_square >= 0:
        d2 = math.sqrt(d2_square)
        if x1 <= x2:
            min_pos = x2 - (x2 - x1) * ((g2 + d2 - d1) / (g2 - g1 + 2 * d2))
        else:
            min_pos = x1 - (x1 - x2) * ((g1 + d2 - d1) / (g1 - g2 + 2 * d2))
        return min(max(min_pos, xmin_bound), xmax_bound)
    return (xmin_bound + xmax_bound) / 2.0


def _strong_wolfe(
    obj_func, x, t, d, f, g, gtd, c1=1e-4, c2=0.9, tolerance_change=1e-9, max_ls=25
):
    # PyTorch's _strong_wolfe (a port of lswolfe.lua): bracket a step length
    # satisfying the strong Wolfe conditions, then zoom in by cubic
    # interpolation. Lists are never modified in place here, so no copies.
    d_norm = max(abs(v) for v in d)
    f_new, g_new = obj_func(x, t, d)
    ls_func_evals = 1
    gtd_new = _inner(g_new, d)
    t_prev, f_prev, g_prev, gtd_prev = 0, f, g, gtd
    done = False
    ls_iter = 0
    while ls_iter < max_ls:
        if f_new > (f + c1 * t * gtd) or (ls_iter > 1 and f_new >= f_prev):
            bracket = [t_prev, t]
            bracket_f = [f_prev, f_new]
            bracket_g = [g_prev, g_new]
            bracket_gtd = [gtd_prev, gtd_new]
            break
        if abs(gtd_new) <= -c2 * gtd:
            bracket = [t]
            bracket_f = [f_new]
            bracket_g = [g_new]
            done = True
            break
        if gtd_new >= 0:
            bracket = [t_prev, t]
            bracket_f = [f_prev, f_new]
            bracket_g = [g_prev, g_new]
            bracket_gtd = [gtd_prev, gtd_new]
            break
        min_step = t + 0.01 * (t - t_prev)
        max_step = t * 10
        tmp = t
        t = _cubic_interpolate(
            t_prev, f_prev, gtd_prev, t, f_new, gtd_new, bounds=(min_step, max_step)
        )
        t_prev = tmp
        f_prev = f_new
        g_prev = g_new
        gtd_prev = gtd_new
        f_new, g_new = obj_func(x, t, d)
        ls_func_evals += 1
        gtd_new = _inner(g_new, d)
        ls_iter += 1
    if ls_iter == max_ls:
        bracket = [0, t]
        bracket_f = [f, f_new]
        bracket_g = [g, g_new]
    # Zoom: refine the bracket until a point satisfies the conditions.
    insuf_progress = False
    low_pos, high_pos = (0, 1) if bracket_f[0] <= bracket_f[-1] else (1, 0)
    while not done and ls_iter < max_ls:
        if abs(bracket[1] - bracket[0]) * d_norm < tolerance_change:
            break
        t = _cubic_interpolate(
            bracket[0],
            bracket_f[0],
            bracket_gtd[0],
            bracket[1],
            bracket_f[1],
            bracket_gtd[1],
        )
        # Too close to an end of the bracket (twice, or on it): move to 0.1
        # of its length from the nearer end.
        eps = 0.1 * (max(bracket) - min(bracket))
        if min(max(bracket) - t, t - min(bracket)) < eps:
            if insuf_progress or t >= max(bracket) or t <= min(bracket):
                if abs(t - max(bracket)) < abs(t - min(bracket)):
                    t = max(bracket) - eps
                else:
                    t = min(bracket) + eps
                insuf_progress = False
            else:
                insuf_progress = True
        else:
            insuf_progress = False
        f_new, g_new = obj_func(x, t, d)
        ls_func_evals += 1
        gtd_new = _inner(g_new, d)
        ls_iter += 1
        if f_new > (f + c1 * t * gtd) or f_new >= bracket_f[low_pos]:
            # Armijo condition not met, or not below the lowest point.
            bracket[high_pos] = t
            bracket_f[high_pos] = f_new
            bracket_g[high_pos] = g_new
            bracket_gtd[high_pos] = gtd_new
            low_pos, high_pos = (0, 1) if bracket_f[0] <= bracket_f[1] else (1, 0)
        else:
            if abs(gtd_new) <= -c2 * gtd:
                done = True
            elif gtd_new * (bracket[high_pos] - bracket[low_pos]) >= 0:
                # The old high end becomes the new low end.
                bracket[high_pos] = bracket[low_pos]
                bracket_f[high_pos] = bracket_f[low_pos]
                bracket_g[high_pos] = bracket_g[low_pos]
                bracket_gtd[high_pos] = bracket_gtd[low_pos]
            bracket[low_pos] = t
            bracket_f[low_pos] = f_new
            bracket_g[low_pos] = g_new
            bracket_gtd[low_pos] = gtd_new
    return bracket_f[low_pos], bracket_g[low_pos], bracket[low_pos], ls_func_evals


def _lbfgs(
    params, evaluate, max_iter, options, target_loss, callback, diverged
):  # noqa: C901 - PyTorch's step(), kept in one piece to compare line for line
    # torch.optim.LBFGS(lr, max_iter, tolerance_grad, tolerance_change,
    # history_size, line_search_fn="strong_wolfe").step(closure) from a fresh
    # state; evaluate(params) is (objective, gradient). history[i] is the
    # objective at the start of iteration i.
    lr, tolerance_grad, tolerance_change, history_size = options
    max_eval = max_iter * 5 // 4
    history = []
    loss, flat_grad = evaluate(params)
    if not math.isfinite(loss):
        diverged(0, loss, None, params)
    current_evals = 1
    if max(abs(v) for v in flat_grad) <= tolerance_grad:
        return params, history
    d = t = prev_flat_grad = prev_loss = None
    old_dirs, old_stps, ro = [], [], []
    h_diag = 1
    n_iter = 0
    while n_iter < max_iter:
        n_iter += 1
        history.append(loss)
        if target_loss is not None and loss <= target_loss:
            break
        if callback is not None and callback(n_iter - 1, loss):
            break
        if n_iter == 1:
            d = [-v for v in flat_grad]
        else:
            y = [a - b for a, b in zip(flat_grad, prev_flat_grad)]
            s = [v * t for v in d]
            ys = _inner(y, s)
            if ys > 1e-10:
                if len(old_dirs) == history_size:
                    old_dirs.pop(0)
                    old_stps.pop(0)
                    ro.pop(0)
                old_dirs.append(y)
                old_stps.append(s)
                ro.append(1.0 / ys)
                h_diag = ys / _inner(y, y)
            num_old = len(old_dirs)
            al = [None] * num_old
            q = [-v for v in flat_grad]
            for i in range(num_old - 1, -1, -1):
                al[i] = _inner(old_stps[i], q) * ro[i]
                q = [a - al[i] * b for a, b in zip(q, old_dirs[i])]
            r = [v * h_diag for v in q]
            for i in range(num_old):
                be_i = _inner(old_dirs[i], r) * ro[i]
                r = [a + (al[i] - be_i) * b for a, b in zip(r, old_stps[i])]
            d = r
        prev_flat_grad = flat_grad
        prev_loss = loss
        if n_iter == 1:
            t = min(1.0, 1.0 / sum(abs(v) for v in flat_grad)) * lr
        else:
            t = lr
        gtd = _inner(flat_grad, d)
        if gtd > -tolerance_change:
            break

        def obj_func(x, step, direction):
            return evaluate([p + step * v for p, v in zip(x, direction)])

        loss, flat_grad, t, ls_func_evals = _strong_wolfe(
            obj_func,
            params,
            t,
            d,
            loss,
            flat_grad,
            gtd,
            max_ls=max_eval - current_evals,
        )
        params = [p + t * v for p, v in zip(params, d)]
        if not math.isfinite(loss):
            diverged(n_iter, loss, prev_loss, params)
        opt_cond = max(abs(v) for v in flat_grad) <= tolerance_grad
        current_evals += ls_func_evals
        if n_iter == max_iter:
            break
        if current_evals >= max_eval:
            break
        if opt_cond:
            break
        if max(abs(v * t) for v in d) <= tolerance_change:
            break
        if abs(loss - prev_loss) < tolerance_change:
            break
    return params, history


def _output_rows(outputs, rows, slopes):
    # The chain rule through the output activation: d a_k = slope_k d z_k, or
    # for a softmax (slopes None) d a_k = a_k (d z_k - sum_j a_j d z_j).
    if slopes is not None:
        return [[slope * v for v in row] for slope, row in zip(slopes, rows)]
    mixed = [0.0] * len(rows[0])
    for a, row in zip(outputs, rows):
        mixed = [m + a * v for m, v in zip(mixed, row)]
    return [[a * (v - m) for v, m in zip(row, mixed)] for a, row in zip(outputs, rows)]


def _train_full_batch(
    optimizer,
    params,
    data,
    epochs,
    reduction,
    batch_size,
    lbfgs_options,
    damping,
    target_loss,
    callback,
    model,
):
    # train() for lbfgs and lm. model is the module's (LOSS, _objective,
    # _jacobian_parts, DivergenceError, _IS_WEIGHT, weight_decay).
    loss, objective, jacobian_parts, error, is_weight, decay = model
    if batch_size is not None and batch_size < len(data):
        raise ValueError(
            "optimizer %r runs on the full batch; leave batch_size out" % (optimizer,)
        )
    if optimizer == "lm" and len(params) > LM_MAX_PARAMS:
        raise ValueError(
            "optimizer 'lm' handles at most %d parameters, this network has %d; "
            "use optimizer='lbfgs'" % (LM_MAX_PARAMS, len(params))
        )
    scale = 1.0 / len(data) if reduction == "mean" else 1.0

    def diverged(epoch, value, last_finite, last_params):
        raise error(
            "the loss became %r at epoch %d (last finite loss: %r)"
            % (value, epoch, last_finite),
            epoch,
            last_finite,
            last_params,
        )

    def evaluate(point):
        value, gradient = objective(point, data, scale)
        if not decay:
            return value, gradient
        return value + _penalty(point, decay, is_weight), _decayed(
            gradient, point, decay, is_weight
        )

    if optimizer == "lbfgs":
        return _lbfgs(
            params, evaluate, epochs, lbfgs_options, target_loss, callback, diverged
        )

    def value(point):
        return evaluate(point)[0]

    def linearize(point):
        samples = []
        for x, y in data:
            outputs, rows, slopes = jacobian_parts(point, x)
            if loss in ("sse", "mse"):
                rows = _output_rows(outputs, rows, slopes)
            samples.append((outputs, y, rows))
        matrix, gradient = _normal_equations(loss, len(point), samples, scale)
        if decay:
            # The system is the objective's over the loss's curvature constant
            # (sse: 2, mse: 2 / outputs, bce and ce: 1): the L2 term likewise.
            n_outputs = len(samples[0][0])
            share = decay / {"sse": 2.0, "mse": 2.0 / n_outputs}.get(loss, 1.0)
            for i, w in enumerate(is_weight):
                if w:
                    matrix[i][i] += share
                    gradient[i] += share * point[i]
        return matrix, gradient

    return _levenberg_marquardt(
        params, value, linearize, epochs, damping, target_loss, callback, diverged
    )


def _penalty(params, weight_decay, is_weight):
    # The L2 term of the objective: weight_decay / 2 times the sum of the
    # squared weights (the biases are not decayed, as in scikit-learn's alpha).
    return 0.5 * weight_decay * sum([p * p for p, w in zip(params, is_weight) if w])


def _decayed(grads, params, weight_decay, is_weight):
    # The gradient with the L2 term's: weight_decay * w for each weight.
    return [
        g + weight_decay * p if w else g for g, p, w in zip(grads, params, is_weight)
    ]
