/* Levenberg-Marquardt and L-BFGS on the whole batch, as
 * nnsym/runtime/second_order.py does them in the Python module, in the same
 * order of operations; included verbatim after nnsym_runtime.h and
 * nnsym_jacobian.h (same macros) by the trainers built with NAME_SECOND_ORDER.
 *
 * lm is MATLAB's trainlm: (J^T H J + mu I) step = -J^T r, mu 1e-3, times 0.1
 * after a step that lowers the objective, times 10 after one that does not, stop
 * once mu exceeds 1e10; H is the identity for sse and mse (J the outputs'),
 * p (1 - p) for bce and diag(p) - p p^T for ce (J the output layer's
 * pre-activations'). The damped system is solved by a Cholesky factorization
 * of its packed lower triangle; a system that is not positive definite (or
 * holds NaN) raises mu instead. One epoch is one accepted step.
 * lbfgs is torch.optim.LBFGS(lr, history_size, tolerance_grad 1e-7,
 * tolerance_change 1e-9, line_search_fn="strong_wolfe"): a run of K epochs is
 * one step() with max_iter K, its state kept in the workspace between calls.
 *
 * Every buffer is the caller's workspace (NNSYM_LM_WORKSPACE and
 * NNSYM_LBFGS_WORKSPACE numbers); no allocation. */
#include <math.h>
#include <stddef.h>

/* Numbers of workspace, for n parameters and k outputs (h: lbfgs's history). */
#define NNSYM_LM_WORKSPACE(n, k) \
    ((size_t)(n) * ((size_t)(n) + 1) + 4 * (size_t)(n) + (size_t)(k) * (size_t)(n) + \
     3 * (size_t)(k) + 2)
#define NNSYM_LBFGS_WORKSPACE(n, h) \
    (8 * (size_t)(n) + 2 * (size_t)(h) * ((size_t)(n) + 1) + 6)

/* What the optimizers need of a network and its data. */
typedef struct {
    size_t n_params, n_inputs, n_outputs;
    int loss; /* 0: sse or mse, 1: bce, 2: ce */
    int softmax; /* the output layer is a softmax (no slopes) */
    /* The objective over n_samples samples and its gradient, both times scale. */
    NNSYM_REAL (*objective)(const NNSYM_REAL *params, const NNSYM_REAL *xs,
        const NNSYM_REAL *ys, size_t n_samples, NNSYM_REAL scale, NNSYM_REAL *grad);
    /* One sample's outputs, dz_k/dparams rows and output slopes. */
    void (*parts)(const NNSYM_REAL *params, const NNSYM_REAL *x, NNSYM_REAL *outputs,
        NNSYM_REAL *rows, NNSYM_REAL *slopes);
    const NNSYM_REAL *xs, *ys;
    size_t n_samples;
    NNSYM_REAL scale; /* 1, or 1 / n_samples for the mean */
    /* The L2 term (nnsym_runtime.h's penalty): its weight_decay, the layers'
     * widths, and its share of lm's system (weight_decay over the loss's
     * curvature constant). */
    const size_t *widths;
    size_t n_layers;
    NNSYM_REAL weight_decay, decay_share;
} NNSYM_RT(problem);

/* A run in progress: what carries over from one call to the next. */
typedef struct {
    long limit;      /* epochs of the run (lbfgs: max_iter) */
    long done;       /* epochs run so far */
    long evals;      /* objective evaluations so far; 0 before the first */
    int finished;
    int has_target;
    NNSYM_REAL target;
    NNSYM_REAL objective; /* the last epoch's; or the loss that was not finite */
} NNSYM_RT(progress);

/* Index of (i, j), j <= i, in a packed lower triangle. */
/* The objective at params and its gradient, with the L2 term: the Python
 * module's evaluate() in _train_full_batch. */
static NNSYM_REAL NNSYM_RT(evaluate)(const NNSYM_RT(problem) *p, const NNSYM_REAL *params,
                                     NNSYM_REAL *grad)
{
    NNSYM_REAL value = p->objective(params, p->xs, p->ys, p->n_samples, p->scale, grad);
    if (p->weight_decay == 0) {
        return value;
    }
    NNSYM_RT(add_decay)(grad, params, p->widths, p->n_layers, p->weight_decay, NULL);
    return value + NNSYM_RT(penalty)(params, p->widths, p->n_layers, p->weight_decay);
}

#define NNSYM_TRI(i, j) ((i) * ((i) + 1) / 2 + (j))

/* matrix += coefficient * vector vector^T, on the lower triangle. */
static void NNSYM_RT(lm_add_outer)(NNSYM_REAL *matrix, NNSYM_REAL coefficient,
    const NNSYM_REAL *vector, size_t n)
{
    size_t i, j;
    NNSYM_REAL scaled;
    for (i = 0; i < n; i++) {
        scaled = coefficient * vector[i];
        if (scaled != 0) {
            NNSYM_REAL *row = matrix + NNSYM_TRI(i, 0);
            for (j = 0; j <= i; j++) {
                row[j] = row[j] + scaled * vector[j];
            }
        }
    }
}

/* Solve (matrix + shift I) step = -gradient by Cholesky into lower (packed, as
 * matrix) and step. 0 if the shifted matrix is not positive definite or the
 * step not finite: the caller raises mu. */
static int NNSYM_RT(cholesky_solve)(const NNSYM_REAL *matrix, NNSYM_REAL *lower,
    const NNSYM_REAL *gradient, NNSYM_REAL shift, size_t n, NNSYM_REAL *step)
{
    size_t i, j, k;
    NNSYM_REAL total, pivot;
    for (i = 0; i < n; i++) {
        NNSYM_REAL *own = lower + NNSYM_TRI(i, 0);
        for (j = 0; j < i; j++) {
            const NNSYM_REAL *other = lower + NNSYM_TRI(j, 0);
            total = 0;
            for (k = 0; k < j; k++) {
                total += own[k] * other[k];
            }
            own[j] = (matrix[NNSYM_TRI(i, j)] - total) / other[j];
        }
        total = 0;
        for (k = 0; k < i; k++) {
            total += own[k] * own[k];
        }
        pivot = matrix[NNSYM_TRI(i, i)] + shift - total;
        if (!(pivot > 0) || !isfinite(pivot)) {
            return 0;
        }
        own[i] = NNSYM_MATH(sqrt)(pivot);
    }
    /* L y = -gradient, then L^T step = y, in place. */
    for (i = 0; i < n; i++) {
        total = 0;
        for (k = 0; k < i; k++) {
            total += lower[NNSYM_TRI(i, k)] * step[k];
        }
        step[i] = (-gradient[i] - total) / lower[NNSYM_TRI(i, i)];
    }
    for (i = n; i-- > 0;) {
        total = step[i];
        for (k = i + 1; k < n; k++) {
            total -= lower[NNSYM_TRI(k, i)] * step[k];
        }
        step[i] = total / lower[NNSYM_TRI(i, i)];
    }
    for (i = 0; i < n; i++) {
        if (!isfinite(step[i])) {
            return 0;
        }
    }
    return 1;
}

/* (J^T H J, J^T r) over the data, times scale: _normal_equations. work holds
 * k * n rows, n mixed, then k outputs, slopes and residuals. */
static void NNSYM_RT(lm_linearize)(const NNSYM_RT(problem) *p, const NNSYM_REAL *params,
    NNSYM_REAL *matrix, NNSYM_REAL *gradient, NNSYM_REAL *work)
{
    const size_t n = p->n_params, k = p->n_outputs;
    NNSYM_REAL *rows = work, *mixed = rows + k * n, *outputs = mixed + n;
    NNSYM_REAL *slopes = outputs + k, *residuals = slopes + k;
    const NNSYM_REAL *targets;
    NNSYM_REAL weight, r;
    size_t s, o, i;
    for (i = 0; i < NNSYM_TRI(n, 0); i++) {
        matrix[i] = 0;
    }
    for (i = 0; i < n; i++) {
        gradient[i] = 0;
    }
    for (s = 0; s < p->n_samples; s++) {
        p->parts(params, p->xs + s * p->n_inputs, outputs, rows, slopes);
        targets = p->ys + s * k;
        if (p->loss == 0) {
            NNSYM_RT(output_rows)(outputs, rows, p->softmax ? NULL : slopes, k, n);
        }
        if (p->loss == 2) {
            weight = 0;
            for (o = 0; o < k; o++) {
                weight = weight + targets[o];
            }
            for (i = 0; i < n; i++) {
                mixed[i] = 0;
            }
            for (o = 0; o < k; o++) {
                residuals[o] = weight * outputs[o] - targets[o];
                NNSYM_RT(lm_add_outer)(matrix, weight * outputs[o], rows + o * n, n);
                for (i = 0; i < n; i++) {
                    mixed[i] = mixed[i] + outputs[o] * rows[o * n + i];
                }
            }
            NNSYM_RT(lm_add_outer)(matrix, -weight, mixed, n);
        } else {
            for (o = 0; o < k; o++) {
                residuals[o] = outputs[o] - targets[o];
                NNSYM_RT(lm_add_outer)(matrix,
                    p->loss == 1 ? outputs[o] * ((NNSYM_REAL)1 - outputs[o]) : 1,
                    rows + o * n, n);
            }
        }
        for (o = 0; o < k; o++) {
            r = residuals[o];
            if (r != 0) {
                for (i = 0; i < n; i++) {
                    gradient[i] = gradient[i] + r * rows[o * n + i];
                }
            }
        }
    }
    if (p->scale != 1) {
        for (i = 0; i < NNSYM_TRI(n, 0); i++) {
            matrix[i] = matrix[i] * p->scale;
        }
        for (i = 0; i < n; i++) {
            gradient[i] = gradient[i] * p->scale;
        }
    }
    if (p->weight_decay != 0) {
        NNSYM_RT(add_decay)(gradient, params, p->widths, p->n_layers, p->decay_share,
            matrix);
    }
}

/* Up to `epochs` more epochs of lm (_levenberg_marquardt); history (or NULL)
 * receives their objectives. 1 when the objective became NaN or infinite
 * (params unchanged, the loss in history after this call's epochs), else 0. */
static int NNSYM_RT(lm_epochs)(const NNSYM_RT(problem) *p, NNSYM_RT(progress) *run,
    NNSYM_REAL *params, NNSYM_REAL *work, long epochs, NNSYM_REAL *history)
{
    const size_t n = p->n_params;
    NNSYM_REAL *mu = work, *current = work + 1, *matrix = work + 2;
    NNSYM_REAL *lower = matrix + NNSYM_TRI(n, 0), *gradient = lower + NNSYM_TRI(n, 0);
    NNSYM_REAL *step = gradient + n, *trial = step + n, *scratch = trial + n;
    NNSYM_REAL value = 0;
    long epoch;
    size_t i;
    int accepted;
    if (run->evals == 0) {
        *mu = (NNSYM_REAL)1e-3;
        *current = NNSYM_RT(evaluate)(p, params, scratch);
        run->evals = 1;
    }
    for (epoch = 0; epoch < epochs && !run->finished; epoch++) {
        if (!isfinite(*current)) {
            if (history != NULL) {
                history[epoch] = *current;
            }
            run->objective = *current;
            run->finished = 1;
            return 1;
        }
        NNSYM_RT(lm_linearize)(p, params, matrix, gradient, scratch);
        accepted = 0;
        while (*mu <= (NNSYM_REAL)1e10) {
            if (NNSYM_RT(cholesky_solve)(matrix, lower, gradient, *mu, n, step)) {
                for (i = 0; i < n; i++) {
                    trial[i] = params[i] + step[i];
                }
                value = NNSYM_RT(evaluate)(p, trial, scratch);
                run->evals++;
                if (value < *current) {
                    *mu = *mu * (NNSYM_REAL)0.1;
                    if (*mu < (NNSYM_REAL)1e-20) {
                        *mu = (NNSYM_REAL)1e-20;
                    }
                    accepted = 1;
                    break;
                }
            }
            *mu = *mu * 10;
        }
        if (history != NULL) {
            history[epoch] = *current;
        }
        run->objective = *current;
        run->done++;
        if (!accepted) {
            run->finished = 1;
            break;
        }
        for (i = 0; i < n; i++) {
            params[i] = trial[i];
        }
        *current = value;
        run->finished = run->done >= run->limit ||
            (run->has_target && run->objective <= run->target);
    }
    return 0;
}

static NNSYM_REAL NNSYM_RT(inner)(const NNSYM_REAL *u, const NNSYM_REAL *v, size_t n)
{
    NNSYM_REAL total = 0;
    size_t i;
    for (i = 0; i < n; i++) {
        total = total + u[i] * v[i];
    }
    return total;
}

static NNSYM_REAL NNSYM_RT(max_abs)(const NNSYM_REAL *v, NNSYM_REAL factor, size_t n)
{
    NNSYM_REAL most = NNSYM_MATH(fabs)(v[0] * factor), value;
    size_t i;
    for (i = 1; i < n; i++) {
        value = NNSYM_MATH(fabs)(v[i] * factor);
        if (value > most) {
            most = value;
        }
    }
    return most;
}

static void NNSYM_RT(copy)(NNSYM_REAL *to, const NNSYM_REAL *from, size_t n)
{
    size_t i;
    for (i = 0; i < n; i++) {
        to[i] = from[i];
    }
}

/* PyTorch's _cubic_interpolate: the minimum of the cubic through two points
 * with their values and derivatives, within [low, high] when bounded. */
static NNSYM_REAL NNSYM_RT(cubic_interpolate)(NNSYM_REAL x1, NNSYM_REAL f1, NNSYM_REAL g1,
    NNSYM_REAL x2, NNSYM_REAL f2, NNSYM_REAL g2, int bounded, NNSYM_REAL low,
    NNSYM_REAL high)
{
    NNSYM_REAL xmin_bound = x1 <= x2 ? x1 : x2, xmax_bound = x1 <= x2 ? x2 : x1;
    NNSYM_REAL d1, d2_square, d2, min_pos;
    if (bounded) {
        xmin_bound = low;
        xmax_bound = high;
    }
    d1 = g1 + g2 - 3 * (f1 - f2) / (x1 - x2);
    d2_square = NNSYM_MATH(pow)(d1, 2) - g1 * g2;
    if (d2_square >= 0) {
        d2 = NNSYM_MATH(sqrt)(d2_square);
        if (x1 <= x2) {
            min_pos = x2 - (x2 - x1) * ((g2 + d2 - d1) / (g2 - g1 + 2 * d2));
        } else {
            min_pos = x1 - (x1 - x2) * ((g1 + d2 - d1) / (g1 - g2 + 2 * d2));
        }
        /* Python's min(max(min_pos, low), high). */
        min_pos = xmin_bound > min_pos ? xmin_bound : min_pos;
        return xmax_bound < min_pos ? xmax_bound : min_pos;
    }
    return (xmin_bound + xmax_bound) / 2;
}

/* The objective at x + t d into point, its gradient into grad. */
static NNSYM_REAL NNSYM_RT(objective_at)(const NNSYM_RT(problem) *p, const NNSYM_REAL *x,
    NNSYM_REAL t, const NNSYM_REAL *d, NNSYM_REAL *point, NNSYM_REAL *grad)
{
    size_t i;
    for (i = 0; i < p->n_params; i++) {
        point[i] = x[i] + t * d[i];
    }
    return NNSYM_RT(evaluate)(p, point, grad);
}

/* PyTorch's _strong_wolfe from step *t along d, at x with objective f and
 * gradient g (which receives the chosen point's gradient; *f and *t its
 * objective and step). work: 5 * n numbers. The number of evaluations. */
static long NNSYM_RT(strong_wolfe)(const NNSYM_RT(problem) *p, const NNSYM_REAL *x,
    NNSYM_REAL *t_io, const NNSYM_REAL *d, NNSYM_REAL *f_io, NNSYM_REAL *g,
    NNSYM_REAL gtd, long max_ls, NNSYM_REAL *work)
{
    const size_t n = p->n_params;
    const NNSYM_REAL c1 = (NNSYM_REAL)1e-4, c2 = (NNSYM_REAL)0.9;
    const NNSYM_REAL tolerance_change = (NNSYM_REAL)1e-9, f = *f_io;
    NNSYM_REAL *point = work, *g_new = work + n, *g_prev = work + 2 * n;
    NNSYM_REAL *bracket_g[2];
    NNSYM_REAL bracket[2], bracket_f[2], bracket_gtd[2] = {0, 0};
    NNSYM_REAL t = *t_io, d_norm, f_new, gtd_new, t_prev, f_prev, gtd_prev;
    NNSYM_REAL min_step, max_step, tmp, eps, high_end, low_end;
    long ls_func_evals = 1, ls_iter = 0;
    int done = 0, insuf_progress = 0, low_pos, high_pos, two = 1;
    bracket_g[0] = work + 3 * n;
    bracket_g[1] = work + 4 * n;
    d_norm = NNSYM_RT(max_abs)(d, 1, n);
    f_new = NNSYM_RT(objective_at)(p, x, t, d, point, g_new);
    gtd_new = NNSYM_RT(inner)(g_new, d, n);
    t_prev = 0;
    f_prev = f;
    NNSYM_RT(copy)(g_prev, g, n);
    gtd_prev = gtd;
    while (ls_iter < max_ls) {
        /* Armijo fails or no lower: bracketed; strong Wolfe holds: done;
         * the slope turned: bracketed. */
        if (f_new > (f + c1 * t * gtd) || (ls_iter > 1 && f_new >= f_prev)) {
            break;
        }
        if (NNSYM_MATH(fabs)(gtd_new) <= -c2 * gtd) {
            done = 1;
            break;
        }
        if (gtd_new >= 0) {
            break;
        }
        min_step = t + (NNSYM_REAL)0.01 * (t - t_prev);
        max_step = t * 10;
        tmp = t;
        t = NNSYM_RT(cubic_interpolate)(t_prev, f_prev, gtd_prev, t, f_new, gtd_new, 1,
            min_step, max_step);
        t_prev = tmp;
        f_prev = f_new;
        NNSYM_RT(copy)(g_prev, g_new, n);
        gtd_prev = gtd_new;
        f_new = NNSYM_RT(objective_at)(p, x, t, d, point, g_new);
        ls_func_evals++;
        gtd_new = NNSYM_RT(inner)(g_new, d, n);
        ls_iter++;
    }
    if (done) {
        bracket[0] = t;
        bracket_f[0] = f_new;
        NNSYM_RT(copy)(bracket_g[0], g_new, n);
        two = 0;
    } else if (ls_iter == max_ls) {
        bracket[0] = 0;
        bracket[1] = t;
        bracket_f[0] = f;
        bracket_f[1] = f_new;
        NNSYM_RT(copy)(bracket_g[0], g, n);
        NNSYM_RT(copy)(bracket_g[1], g_new, n);
    } else {
        bracket[0] = t_prev;
        bracket[1] = t;
        bracket_f[0] = f_prev;
        bracket_f[1] = f_new;
        NNSYM_RT(copy)(bracket_g[0], g_prev, n);
        NNSYM_RT(copy)(bracket_g[1], g_new, n);
        bracket_gtd[0] = gtd_prev;
        bracket_gtd[1] = gtd_new;
    }
    /* Zoom: refine the bracket until a point satisfies the conditions. */
    low_pos = 0;
    high_pos = 1;
    if (two && !(bracket_f[0] <= bracket_f[1])) {
        low_pos = 1;
        high_pos = 0;
    }
    while (!done && ls_iter < max_ls) {
        if (NNSYM_MATH(fabs)(bracket[1] - bracket[0]) * d_norm < tolerance_change) {
            break;
        }
        t = NNSYM_RT(cubic_interpolate)(bracket[0], bracket_f[0], bracket_gtd[0],
            bracket[1], bracket_f[1], bracket_gtd[1], 0, 0, 0);
        /* Too close to an end of the bracket (twice, or on it): move to 0.1
         * of its length from the nearer end. */
        high_end = bracket[1] > bracket[0] ? bracket[1] : bracket[0];
        low_end = bracket[1] < bracket[0] ? bracket[1] : bracket[0];
        eps = (NNSYM_REAL)0.1 * (high_end - low_end);
        if ((high_end - t < t - low_end ? high_end - t : t - low_end) < eps) {
            if (insuf_progress || t >= high_end || t <= low_end) {
                if (NNSYM_MATH(fabs)(t - high_end) < NNSYM_MATH(fabs)(t - low_end)) {
                    t = high_end - eps;
                } else {
                    t = low_end + eps;
                }
                insuf_progress = 0;
            } else {
                insuf_progress = 1;
            }
        } else {
            insuf_progress = 0;
        }
        f_new = NNSYM_RT(objective_at)(p, x, t, d, point, g_new);
        ls_func_evals++;
        gtd_new = NNSYM_RT(inner)(g_new, d, n);
        ls_iter++;
        if (f_new > (f + c1 * t * gtd) || f_new >= bracket_f[low_pos]) {
            bracket[high_pos] = t;
            bracket_f[high_pos] = f_new;
            NNSYM_RT(copy)(bracket_g[high_pos], g_new, n);
            bracket_gtd[high_pos] = gtd_new;
            low_pos = bracket_f[0] <= bracket_f[1] ? 0 : 1;
            high_pos = 1 - low_pos;
        } else {
            if (NNSYM_MATH(fabs)(gtd_new) <= -c2 * gtd) {
                done = 1;
            } else if (gtd_new * (bracket[high_pos] - bracket[low_pos]) >= 0) {
                /* The old high end becomes the new low end. */
                bracket[high_pos] = bracket[low_pos];
                bracket_f[high_pos] = bracket_f[low_pos];
                NNSYM_RT(copy)(bracket_g[high_pos], bracket_g[low_pos], n);
                bracket_gtd[high_pos] = bracket_gtd[low_pos];
            }
            bracket[low_pos] = t;
            bracket_f[low_pos] = f_new;
            NNSYM_RT(copy)(bracket_g[low_pos], g_new, n);
            bracket_gtd[low_pos] = gtd_new;
        }
    }
    *f_io = bracket_f[low_pos];
    *t_io = bracket[low_pos];
    NNSYM_RT(copy)(g, bracket_g[low_pos], n);
    return ls_func_evals;
}

/* Up to `epochs` more iterations of lbfgs (_lbfgs: torch.optim.LBFGS's step()
 * with max_iter run->limit), history (or NULL) receiving the objective at the
 * start of each; lr is the first step's scale, history_size the pairs kept.
 * work: NNSYM_LBFGS_WORKSPACE(n, history_size) numbers, which hold the whole
 * state, so that calls of any size give the numbers of one whole run. 1 when
 * the objective became NaN or infinite (params the last finite, the loss in
 * history after this call's iterations), else 0. */
static int NNSYM_RT(lbfgs_epochs)(const NNSYM_RT(problem) *p, NNSYM_RT(progress) *run,
    NNSYM_REAL *params, NNSYM_REAL *work, long epochs, NNSYM_REAL *history,
    NNSYM_REAL lr, size_t history_size)
{
    const size_t n = p->n_params, h = history_size;
    const NNSYM_REAL tolerance_grad = (NNSYM_REAL)1e-7;
    const NNSYM_REAL tolerance_change = (NNSYM_REAL)1e-9;
    const long max_eval = run->limit * 5 / 4;
    /* loss, t, prev_loss, h_diag, how many pairs are kept, the oldest's slot. */
    NNSYM_REAL *loss = work, *t = work + 1, *prev_loss = work + 2, *h_diag = work + 3;
    NNSYM_REAL *kept = work + 4, *oldest = work + 5;
    NNSYM_REAL *flat_grad = work + 6, *prev_flat_grad = flat_grad + n, *d = flat_grad + 2 * n;
    NNSYM_REAL *line = flat_grad + 3 * n; /* 5 * n for the line search */
    NNSYM_REAL *old_dirs = flat_grad + 8 * n, *old_stps = old_dirs + h * n;
    NNSYM_REAL *ro = old_stps + h * n, *al = ro + h;
    NNSYM_REAL ys, yy, be_i, gtd, total, value;
    size_t i, m, num_old, slot;
    long epoch, ls_func_evals;
    if (run->evals == 0) {
        *loss = NNSYM_RT(evaluate)(p, params, flat_grad);
        run->evals = 1;
        *h_diag = 1;
        *kept = 0;
        *oldest = 0;
        if (!isfinite(*loss)) {
            if (history != NULL) {
                history[0] = *loss;
            }
            run->objective = *loss;
            run->finished = 1;
            return 1;
        }
        if (NNSYM_RT(max_abs)(flat_grad, 1, n) <= tolerance_grad) {
            run->finished = 1;
            return 0;
        }
    }
    for (epoch = 0; epoch < epochs && !run->finished; epoch++) {
        run->done++;
        if (history != NULL) {
            history[epoch] = *loss;
        }
        run->objective = *loss;
        if (run->has_target && *loss <= run->target) {
            run->finished = 1;
            break;
        }
        if (run->done == 1) {
            for (i = 0; i < n; i++) {
                d[i] = -flat_grad[i];
            }
        } else {
            /* y = flat_grad - prev_flat_grad (into prev_flat_grad), s = d t:
             * kept as the newest pair when y s > 1e-10. */
            num_old = (size_t)*kept;
            slot = ((size_t)*oldest + num_old) % h;
            if (num_old == h) {
                slot = (size_t)*oldest;
            }
            for (i = 0; i < n; i++) {
                prev_flat_grad[i] = flat_grad[i] - prev_flat_grad[i];
            }
            ys = 0;
            for (i = 0; i < n; i++) {
                ys = ys + prev_flat_grad[i] * (d[i] * *t);
            }
            if (ys > (NNSYM_REAL)1e-10) {
                if (num_old == h) {
                    *oldest = (NNSYM_REAL)(((size_t)*oldest + 1) % h);
                } else {
                    *kept = (NNSYM_REAL)(num_old + 1);
                }
                for (i = 0; i < n; i++) {
                    old_dirs[slot * n + i] = prev_flat_grad[i];
                    old_stps[slot * n + i] = d[i] * *t;
                }
                ro[slot] = 1 / ys;
                yy = NNSYM_RT(inner)(prev_flat_grad, prev_flat_grad, n);
                *h_diag = ys / yy;
            }
            /* The two-loop recursion, newest pair first, into d. */
            num_old = (size_t)*kept;
            for (i = 0; i < n; i++) {
                d[i] = -flat_grad[i];
            }
            for (m = num_old; m-- > 0;) {
                slot = ((size_t)*oldest + m) % h;
                al[m] = NNSYM_RT(inner)(old_stps + slot * n, d, n) * ro[slot];
                for (i = 0; i < n; i++) {
                    d[i] = d[i] - al[m] * old_dirs[slot * n + i];
                }
            }
            for (i = 0; i < n; i++) {
                d[i] = d[i] * *h_diag;
            }
            for (m = 0; m < num_old; m++) {
                slot = ((size_t)*oldest + m) % h;
                be_i = NNSYM_RT(inner)(old_dirs + slot * n, d, n) * ro[slot];
                for (i = 0; i < n; i++) {
                    d[i] = d[i] + (al[m] - be_i) * old_stps[slot * n + i];
                }
            }
        }
        NNSYM_RT(copy)(prev_flat_grad, flat_grad, n);
        *prev_loss = *loss;
        if (run->done == 1) {
            total = 0;
            for (i = 0; i < n; i++) {
                total = total + NNSYM_MATH(fabs)(flat_grad[i]);
            }
            value = 1 / total;
            *t = (value < 1 ? value : 1) * lr;
        } else {
            *t = lr;
        }
        gtd = NNSYM_RT(inner)(flat_grad, d, n);
        if (gtd > -tolerance_change) {
            run->finished = 1;
            break;
        }
        value = *loss;
        ls_func_evals = NNSYM_RT(strong_wolfe)(p, params, t, d, &value, flat_grad, gtd,
            max_eval - run->evals, line);
        if (!isfinite(value)) {
            if (history != NULL) {
                history[epoch + 1] = value;
            }
            run->objective = value;
            run->finished = 1;
            return 1;
        }
        *loss = value;
        for (i = 0; i < n; i++) {
            params[i] = params[i] + *t * d[i];
        }
        run->evals += ls_func_evals;
        run->finished = run->done >= run->limit || run->evals >= max_eval ||
            NNSYM_RT(max_abs)(flat_grad, 1, n) <= tolerance_grad ||
            NNSYM_RT(max_abs)(d, *t, n) <= tolerance_change ||
            NNSYM_MATH(fabs)(*loss - *prev_loss) < tolerance_change;
    }
    return 0;
}
