"""The first-order optimizers' extras: schedules, clipping, early stopping.

As PyTorch defines them: StepLR, CosineAnnealingLR and ReduceLROnPlateau
(torch.optim.lr_scheduler), stepped once after each epoch;
torch.nn.utils.clip_grad_norm_ on each batch's gradient before the update.
Early stopping keeps the parameters with the lowest validation loss, as
Keras's EarlyStopping(restore_best_weights=True) and scikit-learn's
early_stopping do.
"""

import math

LR_SCHEDULES = ("step", "cosine", "plateau")
# ReduceLROnPlateau's defaults: mode "min", threshold 1e-4 relative, cooldown
# 0; a reduction smaller than eps is not made.
_PLATEAU_THRESHOLD = 1e-4
_PLATEAU_EPS = 1e-8


def _check_extras(optimizer, momentum, nesterov, schedule, options, clip, stopping):
    # train()'s options for sgd, momentum and adam, refused before any work.
    step_size, gamma, lr_min, lr_patience = options
    validation, patience = stopping
    if nesterov and not (optimizer == "momentum" and momentum > 0):
        raise ValueError("nesterov=True needs optimizer='momentum' and momentum > 0")
    if schedule is not None and schedule not in LR_SCHEDULES:
        raise ValueError(
            "lr_schedule must be None or one of %s, got %r"
            % (", ".join(LR_SCHEDULES), schedule)
        )
    if optimizer in ("lbfgs", "lm"):
        for name, value in (
            ("lr_schedule", schedule),
            ("clip_grad_norm", clip),
            ("validation", validation),
        ):
            if value is not None:
                raise ValueError(
                    "%s is for sgd, momentum and adam, not optimizer %r"
                    % (name, optimizer)
                )
    if validation is not None and not (
        isinstance(validation, (tuple, list)) and len(validation) == 2
    ):
        raise ValueError("validation must be a pair (xs, ys)")
    if patience is not None and validation is None:
        raise ValueError("patience needs a validation set: validation=(xs, ys)")
    if schedule == "step" and not (isinstance(step_size, int) and step_size >= 1):
        raise ValueError(
            "lr_schedule='step' needs lr_step_size, a whole number >= 1, got %r"
            % (step_size,)
        )
    if not (_finite(gamma) and 0 < gamma < 1):
        raise ValueError("lr_gamma must be a number in (0, 1), got %r" % (gamma,))
    if not (_finite(lr_min) and lr_min >= 0):
        raise ValueError("lr_min must be a finite number >= 0, got %r" % (lr_min,))
    if clip is not None and not (_finite(clip) and clip > 0):
        raise ValueError("clip_grad_norm must be a finite number > 0, got %r" % (clip,))
    for name, value in (("lr_patience", lr_patience), ("patience", patience)):
        if value is not None and not (isinstance(value, int) and value >= 1):
            raise ValueError("%s must be a whole number >= 1, got %r" % (name, value))


def _finite(value):
    return isinstance(value, (int, float)) and math.isfinite(value)


def _clipped(grads, max_norm):
    # clip_grad_norm_: scaled by max_norm / (norm + 1e-6) if that is below 1,
    # the norm taken over all the parameters at once.
    coefficient = max_norm / (math.sqrt(sum([g * g for g in grads])) + 1e-6)
    return [g * coefficient for g in grads] if coefficient < 1.0 else grads


class _Progress:
    # What train() carries from epoch to epoch for sgd, momentum and adam: the
    # history, each epoch's learning rate, the validation losses and the best
    # parameters so far. validate: None, or the module's (_objective, the
    # validation samples, the scale of the reduction).

    def __init__(self, lr, epochs, schedule, options, validate, stopping):
        self.lr = self.base = lr
        self.epochs = epochs
        self.schedule = schedule
        self.step_size, self.gamma, self.lr_min, self.lr_patience = options
        self.validate = validate
        self.patience, self.target_loss, self.callback, self.losses = stopping
        self.history = []
        self.best = self.watched_best = math.inf
        self.best_params = None
        self.waited = self.bad_epochs = 0

    def start(self, epoch):
        # The learning rate of this epoch: StepLR and CosineAnnealingLR (T_max
        # = epochs) in closed form, ReduceLROnPlateau as last set by end().
        if self.schedule == "step":
            self.lr = self.base * self.gamma ** (epoch // self.step_size)
        elif self.schedule == "cosine":
            cosine = 1.0 + math.cos(math.pi * epoch / self.epochs)
            self.lr = self.lr_min + (self.base - self.lr_min) * cosine / 2.0
        return self.lr

    def end(self, epoch, objective, params):
        # After the epoch's updates; True to stop here.
        self.history.append(objective)
        watched = objective
        if self.validate is not None:
            objective_of, samples, scale = self.validate
            watched = objective_of(params, samples, scale)[0]
            if self.losses is not None:
                self.losses.append(watched)
            if watched < self.best:
                self.best, self.best_params, self.waited = watched, list(params), 0
            else:
                self.waited += 1
        if self.schedule == "plateau":
            self._plateau(watched)
        if self.patience is not None and self.waited >= self.patience:
            return True
        if self.target_loss is not None and objective <= self.target_loss:
            return True
        return self.callback is not None and bool(self.callback(epoch, objective))

    def _plateau(self, metric):
        # ReduceLROnPlateau.step(metric), mode "min", threshold_mode "rel".
        if metric < self.watched_best * (1.0 - _PLATEAU_THRESHOLD):
            self.watched_best, self.bad_epochs = metric, 0
        else:
            self.bad_epochs += 1
        if self.bad_epochs > self.lr_patience:
            reduced = max(self.lr * self.gamma, self.lr_min)
            if self.lr - reduced > _PLATEAU_EPS:
                self.lr = reduced
            self.bad_epochs = 0

    def result(self, params):
        # (params, history): with a validation set, the best epoch's parameters.
        if self.best_params is not None:
            return self.best_params, self.history
        return params, self.history
