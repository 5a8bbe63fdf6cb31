"""`nnsym train`: generate (or reuse) a module, train it on data, report, save."""

from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path
from typing import Any

from nnsym import api
from nnsym.commands.options import (
    REQUEST_FORM,
    add_csv_format_arguments,
    add_spec_arguments,
    csv_format,
    fraction,
    integer,
    non_negative,
    positive_float,
    spec_from_args,
    stderr_progress,
    whole_number,
)
from nnsym.errors import NnsymError, UsageError, interrupted_status, interrupted_word

DEFAULTS = api.TrainingSettings()


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Register `nnsym train`."""
    parser = subparsers.add_parser(
        "train",
        help="train a generated module on a data set and report or save it",
        description="Generate the module (or reuse an up-to-date one), train it "
        "by gradient descent, print predictions against targets, the final loss "
        "and the accuracy, and save the weights if asked.",
    )
    add_spec_arguments(parser)
    parser.add_argument(
        "--data",
        required=True,
        metavar="NAME|FILE",
        help=f"a built-in data set ({', '.join(api.builtin_names())}) or a CSV file",
    )
    parser.add_argument(
        "--target",
        metavar="COLUMNS",
        help="CSV target column(s): names or 1-based numbers, comma-separated "
        "(default: the last column(s); for ce one column of class labels)",
    )
    parser.add_argument(
        "--header",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="the CSV file's first row is (or is not) a header "
        "(default: it is when none of its fields is a number)",
    )
    add_csv_format_arguments(parser)
    parser.add_argument(
        "--test-split",
        type=fraction,
        default=0.0,
        metavar="FRACTION",
        help="hold this fraction of the samples out of training, chosen by "
        "--seed, and report the loss and accuracy on them (default: 0, none)",
    )
    parser.add_argument(
        "--scale",
        choices=("standard", "minmax", "none"),
        default=None,  # None: standard for a CSV file, none for a built-in set
        help="scale the inputs, fitted on the training rows: standard (mean 0, "
        "standard deviation 1, as scikit-learn's StandardScaler), minmax "
        "(to [0, 1]) or none; the saved parameters take raw inputs (the scaling "
        "is folded into layer 1). Default: standard for a CSV file and with the "
        "chosen defaults (see --optimizer), else none for a built-in data set",
    )
    parser.add_argument(
        "--lr",
        type=positive_float,
        default=None,  # None: not given; lm takes none, lbfgs defaults to 1
        help=f"learning rate (default: chosen, see --optimizer; else {DEFAULTS.lr:g}; "
        "lbfgs: 1, as PyTorch's; lm takes none)",
    )
    parser.add_argument(
        "--epochs",
        type=whole_number(0),
        default=None,  # None: not given, chosen (see --optimizer)
        help="passes over the data (default: chosen, see --optimizer; else "
        f"{DEFAULTS.epochs})",
    )
    parser.add_argument(
        "--seed",
        type=integer,
        help="seed of the initial parameters and the mini-batch shuffle "
        "(default: a random seed, printed so the run can be repeated)",
    )
    parser.add_argument(
        "--batch-size",
        type=whole_number(1),
        metavar="N",
        help="mini-batches of N samples in a seeded shuffled order "
        "(default: chosen, see --optimizer; else the full batch)",
    )
    parser.add_argument(
        "--optimizer",
        choices=api.OPTIMIZERS,
        default=None,  # None: not given, chosen by nnsym.models.defaults
        help="sgd (p -= lr * grad), momentum or adam, as PyTorch defines them; "
        "lbfgs (PyTorch's LBFGS with the strong-Wolfe line search: --epochs is "
        "its max_iter) or lm (Levenberg-Marquardt, MATLAB trainlm's damping; "
        "one epoch is one accepted step), both on the full batch. Default: "
        "with none of --optimizer, --lr, --epochs, --batch-size, --momentum, "
        "chosen by size and printed: lm for at most 100 parameters and 100 "
        "rows, else adam (lr 0.01, mean, mini-batches of 32), in the C engine "
        f"when a compiler is found, inputs standardized; with any of them, "
        f"{DEFAULTS.optimizer}",
    )
    parser.add_argument(
        "--momentum",
        type=fraction,
        default=None,  # None: not given, so that giving it without momentum is caught
        help=f"momentum factor for --optimizer momentum (default: {DEFAULTS.momentum})",
    )
    parser.add_argument(
        "--nesterov",
        action="store_true",
        help="Nesterov momentum for --optimizer momentum (torch.optim.SGD's "
        "nesterov=True)",
    )
    parser.add_argument(
        "--weight-decay",
        type=non_negative,
        default=0.0,
        metavar="W",
        help="an L2 term in the objective: W / 2 times the sum of the squared "
        "weights, biases left out (as scikit-learn's alpha); default: 0",
    )
    parser.add_argument(
        "--lr-schedule",
        choices=api.LR_SCHEDULES,
        help="for sgd, momentum and adam, the learning rate per epoch, as "
        "PyTorch's schedulers: step (times --lr-gamma every --lr-step-size "
        "epochs), cosine (annealed to --lr-min over --epochs) or plateau "
        "(times --lr-gamma after --lr-patience epochs without improvement of the "
        "loss, the validation loss if there is one); default: constant",
    )
    parser.add_argument(
        "--lr-step-size",
        type=whole_number(1),
        metavar="N",
        help="epochs between the reductions of step (needed with it)",
    )
    parser.add_argument(
        "--lr-gamma",
        type=fraction,
        metavar="F",
        help="factor of each reduction, step and plateau (default: 0.1)",
    )
    parser.add_argument(
        "--lr-min",
        type=non_negative,
        metavar="LR",
        help="lowest rate, cosine and plateau (default: 0)",
    )
    parser.add_argument(
        "--lr-patience",
        type=whole_number(1),
        metavar="N",
        help="epochs without improvement before plateau reduces (default: 10)",
    )
    parser.add_argument(
        "--clip-grad-norm",
        type=positive_float,
        metavar="NORM",
        help="scale each batch's gradient to at most this 2-norm over all the "
        "parameters (torch.nn.utils.clip_grad_norm_)",
    )
    parser.add_argument(
        "--validation-split",
        type=fraction,
        default=0.0,
        metavar="FRACTION",
        help="hold this fraction of the training rows (after --test-split) out, "
        "chosen by --seed; report their loss and keep the parameters of the "
        "epoch where it was lowest",
    )
    parser.add_argument(
        "--patience",
        type=whole_number(1),
        metavar="N",
        help="stop after N epochs in a row without a lower validation loss "
        "(needs --validation-split)",
    )
    parser.add_argument(
        "--reduction",
        choices=api.REDUCTIONS,
        default=None,  # None: not given (sum, or the rule's choice)
        help="objective: sum or mean of the per-sample losses "
        f"(default: chosen, see --optimizer; else {DEFAULTS.reduction})",
    )
    parser.add_argument(
        "--target-loss",
        type=non_negative,
        metavar="LOSS",
        # Every loss is a sum of non-negative terms: a negative target is never met.
        help="stop early once the objective is at or below LOSS (>= 0)",
    )
    parser.add_argument(
        "--engine",
        choices=api.registry.engines(),
        default=None,  # None: not given (python, or the rule's choice)
        help="run the training loop in the Python module or in its generated "
        "C, compiled with the C compiler on PATH (the same parameters for the "
        "full batch; mini-batches in the C trainer's splitmix64 order). "
        "Default: chosen with the optimizer (see --optimizer), else python",
    )
    parser.add_argument(
        "--init",
        type=Path,
        metavar="MODEL",
        help="start from the parameters in a weights file instead of random ones",
    )
    parser.add_argument(
        "--save",
        type=Path,
        metavar="MODEL",
        help="write the trained weights (JSON); not written if training is "
        "interrupted or diverges",
    )
    parser.add_argument(
        "--plot",
        type=Path,
        metavar="IMAGE",
        help="draw the loss curve (.png, .svg or .pdf; needs nnsym[plot])",
    )
    parser.add_argument(
        "-o",
        "--output",
        type=Path,
        help="where to write the generated module (default: generated/NAME.py)",
    )
    parser.add_argument(
        "--force",
        action="store_true",
        help="overwrite a module or weights file that nnsym did not write",
    )
    parser.add_argument(
        "-q", "--quiet", action="store_true", help="print nothing but errors"
    )
    return parser


def _scale_for(args: argparse.Namespace) -> str:
    # CSV files hold raw features of any size; the built-in sets are the
    # tutorials' and stay as they are unless asked.
    if args.scale is not None:
        return args.scale
    return "none" if args.data in api.builtin_names() else "standard"


def _start_early(
    args: argparse.Namespace, spec: Any, automatic: bool, settings: Any
) -> tuple[str, Any, str, Any] | None:
    """The named engine's build, begun before the data is read where the
    network and optimizer are already known: (engine, spec, optimizer, build).

    The compiler then runs while the CSV is read and scaled: a first
    784-128-10 run waits for the longer of the two, not their sum. None where
    the rule may still change the form or choose by rows, or where a check
    that needs no data would refuse the run (the process would wait for the
    compiler before saying so; the check says it later, in order).
    """
    known = api.known_optimizer(spec.n_params, automatic, settings.optimizer)
    settled = not automatic or args.form != REQUEST_FORM or args.init is not None
    if args.engine is None or known is None or not settled:
        return None
    engine = api.registry.engine(args.engine)
    if engine is None or engine.start is None or known not in engine.optimizers:
        return None
    if any(flag not in engine.options for flag in settings.extras_in_use()):
        return None
    try:
        if args.save is not None:
            api.check_save_target(args.save, force=args.force)
        if args.plot is not None:
            api.check_plot_target(args.plot)
        if args.output is not None:
            api.check_suffix(args.output, api.registry.DEFAULT)
        api.registry.resolve(engine.prepare)()
        return args.engine, spec, known, api.registry.resolve(engine.start)(spec, known)
    except NnsymError:
        return None


def run(args: argparse.Namespace) -> int:
    """Check everything, generate or reuse the module, train, report and save."""
    spec = spec_from_args(args)
    # The options for first-order optimizers switch the rule off too.
    automatic = api.is_automatic(
        args.optimizer,
        args.lr,
        # --epochs 0 (evaluate only) is given, though 0 counts as not given.
        args.epochs is not None,
        args.batch_size,
        args.momentum,
        *(getattr(args, name) for name in api.FIRST_ORDER_OPTIONS),
    )
    optimizer = args.optimizer or DEFAULTS.optimizer
    if args.momentum is not None and optimizer != "momentum":
        raise UsageError(
            f"--momentum is the factor of --optimizer momentum, but the optimizer "
            f"is {optimizer}; add --optimizer momentum or leave out --momentum"
        )
    lr = args.lr
    if lr is None and optimizer not in ("lbfgs", "lm"):
        lr = DEFAULTS.lr
    settings = api.TrainingSettings(
        lr=lr,
        epochs=DEFAULTS.epochs if args.epochs is None else args.epochs,
        batch_size=args.batch_size,
        optimizer=optimizer,
        momentum=DEFAULTS.momentum if args.momentum is None else args.momentum,
        reduction=args.reduction or DEFAULTS.reduction,
        target_loss=args.target_loss,
        weight_decay=args.weight_decay,
        nesterov=args.nesterov,
        lr_schedule=args.lr_schedule,
        lr_step_size=args.lr_step_size,
        lr_gamma=args.lr_gamma,
        lr_min=args.lr_min,
        lr_patience=args.lr_patience,
        clip_grad_norm=args.clip_grad_norm,
        validation_split=args.validation_split,
        patience=args.patience,
    )
    early = _start_early(args, spec, automatic, settings)
    # Everything that can be refused is refused before any file is written.
    plan = api.plan_training(
        spec,
        args.data,
        settings,
        seed=args.seed,
        init=args.init,
        target=args.target,
        header=args.header,
        test_split=args.test_split,
        csv_format=csv_format(args),
        scale=_scale_for(args),
    )
    choice = None
    if automatic:
        plan, choice = api.automatic_plan(
            plan, reduction=args.reduction, engine=args.engine, scale=args.scale
        )
        settings = plan.settings
        if args.form == REQUEST_FORM and args.init is None:
            if api.wants_loops(spec, choice):
                spec = spec_from_args(
                    argparse.Namespace(**{**vars(args), "form": "loops"})
                )
                plan = dataclasses.replace(plan, spec=spec)
                choice = dataclasses.replace(choice, form=spec.form)
    engine_name = choice.engine if choice is not None else args.engine
    engine_name = engine_name or api.registry.DEFAULT
    if args.save is not None:
        api.check_save_target(args.save, force=args.force)
    if args.plot is not None:
        api.check_plot_target(args.plot)
    engine = api.registry.engine(engine_name)
    if engine is not None and settings.optimizer not in engine.optimizers:
        raise UsageError(
            f"--engine {engine_name} trains with {', '.join(engine.optimizers)}; "
            f"--optimizer {settings.optimizer} runs in the Python module (leave "
            "out --engine)"
        )
    missing = (
        [flag for flag in settings.extras_in_use() if flag not in engine.options]
        if engine is not None
        else []
    )
    if missing:
        raise UsageError(
            f"--engine {engine_name}'s trainer has no {', '.join(missing)}: "
            "they run in the Python module (leave out --engine)"
        )
    if engine is not None:
        api.registry.resolve(engine.prepare)()
        if args.batch_size is not None and not args.quiet and engine.batch_note:
            print(f"nnsym: note: {engine.batch_note}", file=sys.stderr)
    if choice is not None and not args.quiet:
        # Said once nothing more can be refused.
        print(f"nnsym: {choice.line()}", file=sys.stderr)
    path = args.output if args.output is not None else api.default_output(spec)
    api.check_suffix(path, api.registry.DEFAULT)
    show_progress = not args.quiet and sys.stderr.isatty()
    report = stderr_progress(show_progress)
    started = None
    if engine is not None and engine.start is not None:
        # The compiler runs while the Python module is derived and written.
        report(f"generating the {api.registry.get(engine_name).language} trainer")
        if early is not None and early[:3] == (engine_name, spec, settings.optimizer):
            started = early[3]
        else:
            started = api.registry.resolve(engine.start)(spec, settings.optimizer)
    module = api.prepare_module(spec, path, force=args.force, progress=report)
    if engine is not None:
        # Seconds for small networks, minutes for large unrolled ones.
        report(f"compiling the {api.registry.get(engine_name).language} trainer")
        load = api.registry.resolve(engine.load)
        module = load(spec, module) if started is None else load(spec, module, started)
    progress = api.ProgressLine(settings.epochs, sys.stderr) if show_progress else None
    try:
        result = api.run_training(module, plan, progress)
    except KeyboardInterrupt as interruption:
        where = f" after {progress.epoch + 1} epochs" if progress is not None else ""
        unsaved = f"; nothing was saved ({args.save} not written)" if args.save else ""
        print(
            f"nnsym: training {interrupted_word(interruption)}{where}{unsaved}",
            file=sys.stderr,
        )
        return interrupted_status(interruption)
    except NnsymError as error:
        if args.save is not None:
            raise type(error)(f"{error}; nothing was saved") from None
        raise
    trained = api.Trained.from_run(plan, module, result)
    if not args.quiet:
        sys.stdout.write(trained.report())
        stopped = ""
        if result.epochs_run < settings.epochs:
            reached = args.target_loss is not None and result.history[-1] <= (
                args.target_loss
            )
            patient = result.best_epoch is not None and args.patience is not None
            stopped = (
                f", stopped early at target loss {args.target_loss:g}"
                if reached
                else (
                    f", stopped early: no lower validation loss in {args.patience} "
                    "epochs"
                    if patient
                    and result.epochs_run == result.best_epoch + 1 + args.patience
                    else ", stopped early: converged (no further progress)"
                )
            )
        print(
            f"{result.epochs_run} epoch{'' if result.epochs_run == 1 else 's'} in "
            f"{result.seconds:.2f} s{stopped}; "
            f"seed {plan.seed}",
        )
        if plan.scaling is not None:
            print(
                f"nnsym: inputs scaled ({plan.scaling.method}, fitted on the "
                f"{len(plan.dataset)} training rows, folded into layer 1: the "
                "saved model takes raw inputs; --scale none to keep them raw)",
                file=sys.stderr,
            )
        advice = api.training_advice(plan, result.history, trained.final_loss)
        if advice is not None:
            print(f"nnsym: note: {advice}", file=sys.stderr)
    if args.save is not None:
        weights = trained.weights
        if choice is not None:
            weights.training.update(choice.record())
        api.save_weights(args.save, weights, force=args.force)
        if not args.quiet:
            print(f"saved {args.save}", file=sys.stderr)
    if args.plot is not None:
        title = f"{api.format_arch(spec.arch)} on {args.data}"
        api.plot_loss(result.history, args.plot, title)
        if not args.quiet:
            print(f"plotted {args.plot}", file=sys.stderr)
    return 0
