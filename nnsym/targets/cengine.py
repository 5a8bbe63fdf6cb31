"""Run a generated C trainer from Python: compiled to a shared library, via ctypes.

Standard library only, plus a C compiler (cc, gcc or clang). `nnsym train
--engine c` trains through nnsym.targets.cmodule.CEngine, with the Python
module's `train()` API, over the `CTrainer` here.
"""

from __future__ import annotations

import array
import ctypes
import itertools
import shutil
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from nnsym.errors import UsageError
from nnsym.pipeline.spec import Spec, physical_memory
from nnsym.targets.cbuild import (  # noqa: F401 (re-exported)
    COMPILERS,
    FAST_FLAGS,
    LIBRARY_FLAGS,
    PORTABLE_FLAGS,
    FlatRows,
    compile_shared,
    find_compiler,
    options_struct,
    require_compiler,
    trainer_struct,
)
from nnsym.targets.ccache import (
    cache_key,
    cached_library,
    cached_path,
    generator_fingerprint,
)

OPTIMIZER_CODES = {"sgd": 0, "momentum": 1, "adam": 2, "lm": 3, "lbfgs": 4}
REDUCTION_CODES = {"sum": 0, "mean": 1}
OK, DIVERGED, BAD_OPTIONS, TOO_MANY_PARAMS = 0, 1, 2, 3
# The longest call into C that train() makes when it trains in chunks: a
# signal (Ctrl-C, SIGTERM) is handled only once the call returns.
CHUNK_SECONDS = 0.1
# A compiled library, and the temporary folder to remove once it is loaded.
Built = tuple[Path, Path | None]


def _frozen(rows: Sequence[Sequence[float]]) -> bool:
    """Whether `rows` cannot change: a tuple of tuples (a data set's rows)."""
    return isinstance(rows, tuple) and all(isinstance(row, tuple) for row in rows)


class CTrainer:
    """A compiled C trainer, called through ctypes with Python lists in and out."""

    def __init__(
        self,
        library: Path,
        spec: Spec,
        dtype: str = "float64",
        second_order: bool = True,
    ) -> None:
        self.library = ctypes.CDLL(str(library))
        # False: built with NAME_SECOND_ORDER and NAME_JACOBIAN 0, without lm,
        # lbfgs and NAME_jacobian.
        self.second_order = second_order
        self.prefix = spec.name
        self.real = ctypes.c_float if dtype == "float32" else ctypes.c_double
        self._typecode = "f" if dtype == "float32" else "d"
        self.Options = options_struct(self.real)
        self.State = trainer_struct(self.Options, self.real)
        self.n_params = spec.n_params
        self.n_inputs = spec.arch[0]
        self.n_outputs = spec.arch[-1]
        self.threshold = spec.classification_threshold
        self._last_params: tuple[tuple[float, ...], Any] | None = None
        # The report asks for losses, then accuracy, on the same rows: the
        # second is answered from the first (784-128-10 x 2000: 0.2 s).
        self._last_evaluation: tuple[Any, ...] | None = None
        real_p = ctypes.POINTER(self.real)
        self._init = self._function("init_params", None, [real_p, ctypes.c_ulong])
        self._forward = self._function("forward", None, [real_p, real_p, real_p])
        self._loss_and_grad = self._function(
            "loss_and_grad", self.real, [real_p, real_p, real_p, real_p]
        )
        self._train = self._function(
            "train",
            ctypes.c_int,
            [
                real_p,
                real_p,
                real_p,
                ctypes.c_size_t,
                ctypes.POINTER(self.Options),
                ctypes.POINTER(ctypes.c_size_t),
                real_p,
                ctypes.POINTER(ctypes.c_long),
            ],
        )
        self._trainer_init = self._function(
            "trainer_init",
            ctypes.c_int,
            [
                ctypes.POINTER(self.State),
                ctypes.POINTER(self.Options),
                ctypes.c_size_t,
                ctypes.POINTER(ctypes.c_size_t),
                real_p,
            ],
        )
        self._train_epochs = self._function(
            "train_epochs",
            ctypes.c_int,
            [ctypes.POINTER(self.State), real_p, real_p, real_p, ctypes.c_long, real_p],
        )
        # A library built without lm and lbfgs has no NAME_jacobian either.
        self.jacobian_rows = (
            self._function("jacobian", None, [real_p, real_p, real_p])
            if second_order
            else None
        )
        self.workspace_size = self._function(
            "workspace_size", ctypes.c_size_t, [ctypes.c_int]
        )

    def _function(self, name: str, restype: Any, argtypes: list[Any]) -> Any:
        function = getattr(self.library, f"{self.prefix}_{name}")
        function.restype = restype
        function.argtypes = argtypes
        return function

    def _array(self, values: Sequence[float]) -> Any:
        return self._rows([values], len(values))[0]  # at C speed, as rows are

    def init_params(self, seed: int) -> list[float]:
        """NAME_init_params(seed): splitmix64 draws, as JavaScript's initParams."""
        params = (self.real * self.n_params)()
        self._init(params, seed & 0xFFFFFFFFFFFFFFFF)
        return list(params)

    def forward(self, params: Sequence[float], x: Sequence[float]) -> list[float]:
        """NAME_forward for one sample."""
        out = (self.real * self.n_outputs)()
        self._forward(self._array(params), self._array(x), out)
        return list(out)

    def jacobian(
        self, params: Sequence[float], x: Sequence[float]
    ) -> list[list[float]]:
        """NAME_jacobian for one sample: N_OUTPUTS rows of d out_k / d params."""
        if self.jacobian_rows is None:
            raise UsageError(
                "this C trainer was built without NAME_jacobian (NAME_JACOBIAN 0, "
                "with lm and lbfgs left out): build it with second_order=True"
            )
        flat, n = (self.real * (self.n_outputs * self.n_params))(), self.n_params
        self.jacobian_rows(self._array(params), self._array(x), flat)
        return [list(flat[k * n : (k + 1) * n]) for k in range(self.n_outputs)]

    def loss_and_grad(
        self, params: Sequence[float], x: Sequence[float], y: Sequence[float]
    ) -> tuple[float, list[float]]:
        """NAME_loss_and_grad for one sample: (loss, gradient in PARAM_NAMES order)."""
        grad = (self.real * self.n_params)()
        loss = self._loss_and_grad(
            self._array(params), self._array(x), self._array(y), grad
        )
        return float(loss), list(grad)

    def _params(self, params: Sequence[float]) -> Any:
        # The report asks for one row at a time with the same parameters:
        # converted once (100,000 of them take 20 ms), while they are equal.
        values = tuple(params)
        if self._last_params is None or self._last_params[0] != values:
            self._last_params = (values, self._array(values))
        return self._last_params[1]

    def rows(self, rows: Sequence[Sequence[float]], width: int) -> FlatRows:
        """`rows` as one flat C array, to pass to train() or evaluate() again."""
        flat, kept = self._rows(rows, width)
        return FlatRows(flat, kept, len(rows))

    def _rows(self, rows: Sequence[Sequence[float]], width: int) -> Any:
        # One flat C array of all rows; array.array fills it at C speed.
        if isinstance(rows, FlatRows):
            return rows.array, rows
        flat = array.array(self._typecode, itertools.chain.from_iterable(rows))
        if len(flat) != len(rows) * width:
            raise ValueError("every sample needs N_INPUTS inputs and N_OUTPUTS targets")
        return (self.real * len(flat)).from_buffer(flat), flat

    def evaluate(
        self,
        params: Sequence[float],
        xs: Sequence[Sequence[float]],
        ys: Sequence[Sequence[float]] | None = None,
    ) -> tuple[list[float], list[list[float]]]:
        """Each sample's loss (none without ys) and outputs, computed in C.

        One NAME_forward (and NAME_loss_and_grad, for the loss) per sample on
        flat arrays made once: the numbers of the C trainer, at C speed.
        """
        last = self._last_evaluation
        if (
            last is not None
            and _frozen(xs)
            and last[1] is xs
            and (ys is None or last[2] is ys)
            and last[0] == tuple(params)
        ):
            # The report's accuracy after its losses: the same outputs.
            losses, outputs = last[3]
            return (list(losses) if ys is not None else []), [
                list(row) for row in outputs
            ]
        result = self._evaluate(params, xs, ys)
        if ys is not None and _frozen(xs):
            self._last_evaluation = (tuple(params), xs, ys, result)
        return list(result[0]), [list(row) for row in result[1]]

    def _evaluate(
        self,
        params: Sequence[float],
        xs: Sequence[Sequence[float]],
        ys: Sequence[Sequence[float]] | None,
    ) -> tuple[list[float], list[list[float]]]:
        """evaluate() without its memory of the last call."""
        n, size = len(xs), ctypes.sizeof(self.real)
        state = self._params(params)
        x, _keep_x = self._rows(xs, self.n_inputs)
        out = (self.real * (n * self.n_outputs))()
        forward = self._raw("forward", None, 3)
        x_at, out_at = ctypes.addressof(x), ctypes.addressof(out)
        for k in range(n):
            forward(
                state,
                x_at + k * self.n_inputs * size,
                out_at + k * self.n_outputs * size,
            )
        flat_out = list(out)
        outputs = [
            flat_out[k * self.n_outputs : (k + 1) * self.n_outputs] for k in range(n)
        ]
        if ys is None:
            return [], outputs
        y, _keep_y = self._rows(ys, self.n_outputs)
        grad = (self.real * self.n_params)()
        loss_and_grad = self._raw("loss_and_grad", self.real, 4)
        y_at = ctypes.addressof(y)
        losses = [
            float(
                loss_and_grad(
                    state,
                    x_at + k * self.n_inputs * size,
                    y_at + k * self.n_outputs * size,
                    grad,
                )
            )
            for k in range(n)
        ]
        return losses, outputs

    def _raw(self, name: str, restype: Any, count: int) -> Any:
        # A second handle on a function, taking addresses (rows inside arrays).
        function = self.library[f"{self.prefix}_{name}"]
        function.restype = restype
        function.argtypes = [ctypes.c_void_p] * count
        return function

    def train(
        self,
        xs: Sequence[Sequence[float]],
        ys: Sequence[Sequence[float]],
        *,
        lr: float | None,
        epochs: int,
        params: Sequence[float],
        seed: int = 0,
        batch_size: int | None = None,
        optimizer: str = "sgd",
        reduction: str = "sum",
        momentum: float = 0.9,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        target_loss: float | None = None,
        between: Callable[[int, float], bool] | None = None,
        weight_decay: float = 0.0,
        nesterov: bool = False,
        clip_grad_norm: float | None = None,
    ) -> tuple[int, list[float], list[float]]:
        """NAME_train: (result code, params, history).

        On divergence, params are the last finite ones and history ends with the
        loss that was not finite. With `between`, the run goes through
        NAME_trainer_init and NAME_train_epochs, a chunk of epochs per call, and
        between(last epoch, its objective) is called after each chunk (True
        stops the run): Python's signal handlers run only between calls into C.
        lm and lbfgs always go that way (their workspace is made here); lr None
        is 1 (lbfgs's default, unused by lm).
        """
        n = len(xs)
        if len(ys) != n:
            raise ValueError("every sample needs N_INPUTS inputs and N_OUTPUTS targets")
        flat_x, _keep_x = self._rows(xs, self.n_inputs)
        flat_y, _keep_y = self._rows(ys, self.n_outputs)
        options = self.Options(
            OPTIMIZER_CODES[optimizer],
            REDUCTION_CODES[reduction],
            1.0 if lr is None else lr,
            epochs,
            batch_size or 0,
            momentum,
            betas[0],
            betas[1],
            eps,
            seed & 0xFFFFFFFFFFFFFFFF,
            target_loss is not None,
            0.0 if target_loss is None else target_loss,
            weight_decay,
            bool(nesterov),
            0.0 if clip_grad_norm is None else clip_grad_norm,
        )
        # NAME_train writes the whole history to one array, made here first.
        needed = max(epochs, 1) * ctypes.sizeof(self.real)
        memory = physical_memory()
        if memory is not None and needed > memory // 2:
            raise UsageError(
                f"{epochs} epochs in the C trainer need {needed / 1e9:.3g} GB for "
                "the loss history, more than half of this machine's memory; "
                "train fewer epochs at a time"
            )
        state = self._array(params)
        history = (self.real * max(epochs, 1))()
        order = (ctypes.c_size_t * max(n, 1))()
        epochs_run = ctypes.c_long(0)
        if optimizer in ("lm", "lbfgs"):  # their workspace is made there
            between = between or (lambda epoch, objective: False)
        if between is not None:
            code, epochs_run.value = self._train_in_chunks(
                state, flat_x, flat_y, n, options, order, history, between
            )
        else:
            code = self._train(
                state,
                flat_x,
                flat_y,
                n,
                ctypes.byref(options),
                order,
                history,
                ctypes.byref(epochs_run),
            )
        run = epochs_run.value + (code == DIVERGED)
        return code, state[:], history[:run]

    def _train_in_chunks(
        self,
        params: Any,
        xs: Any,
        ys: Any,
        n: int,
        options: Any,
        order: Any,
        history: Any,
        between: Callable[[int, float], bool],
    ) -> tuple[int, int]:
        # Chunks grow while they take under CHUNK_SECONDS, and shrink when
        # longer, so that a signal is seen within about that long.
        run = self.State()
        moments = (self.real * max(self.workspace_size(options.optimizer), 1))()
        code = self._trainer_init(
            ctypes.byref(run), ctypes.byref(options), n, order, moments
        )
        size, chunk = ctypes.sizeof(self.real), 1
        while code == OK and not run.finished:
            began = time.perf_counter()
            done = run.epochs_run
            code = self._train_epochs(
                ctypes.byref(run),
                params,
                xs,
                ys,
                chunk,
                ctypes.cast(
                    ctypes.addressof(history) + done * size, ctypes.POINTER(self.real)
                ),
            )
            took = time.perf_counter() - began
            last = run.epochs_run - 1
            if code == OK and last >= 0 and between(last, history[last]):
                break
            if took < CHUNK_SECONDS / 2:
                chunk *= 2
            elif took > CHUNK_SECONDS and chunk > 1:
                chunk //= 2
        return code, run.epochs_run


class PendingTrainer:
    """A C trainer being compiled in a thread while the caller goes on.

    result() waits for the compiler and loads the library; a compile error is
    raised there, in the caller's thread.
    """

    def __init__(
        self, spec: Spec, dtype: str, second_order: bool, build: Callable[[], Built]
    ) -> None:
        self.spec, self.dtype, self.second_order = spec, dtype, second_order
        self._built: list[Built] = []
        self._error: list[BaseException] = []
        self._thread = threading.Thread(target=self._run, args=(build,))
        self._thread.start()

    def _run(self, build: Callable[[], Built]) -> None:
        try:
            self._built.append(build())
        except BaseException as error:  # noqa: BLE001 (re-raised by result())
            self._error.append(error)

    def result(self) -> CTrainer:
        """The loaded trainer, once the compiler is done."""
        self._thread.join()
        if self._error:
            raise self._error[0]
        library, temporary = self._built[0]
        try:
            return CTrainer(library, self.spec, self.dtype, self.second_order)
        finally:
            if temporary is not None:  # the loaded library stays mapped
                shutil.rmtree(temporary, ignore_errors=True)


def start_trainer(
    spec: Spec,
    source: str | Callable[[], str],
    dtype: str = "float64",
    second_order: bool = True,
) -> PendingTrainer:
    """Start building `spec`'s C trainer from `source` (or a function writing it).

    The library is reused from the cache of compiled trainers when the same
    source was compiled before by the same compiler with the same flags
    (nnsym.targets.ccache); else the compiler runs in a thread, in the cache
    (or, where it cannot be written, in a temporary folder removed once
    loaded), while the caller goes on. A function is called only on a miss,
    before this returns: the key is then the spec, the dtype and nnsym's own
    files (generator_fingerprint), not the source. `second_order` False builds
    without lm, lbfgs and NAME_jacobian (NAME_SECOND_ORDER and NAME_JACOBIAN 0),
    in 40% of the compile time.
    """
    compiler = require_compiler()
    if callable(source):
        identity = f"generator {generator_fingerprint()}\n{spec!r}\n{dtype}"
        write = source
    else:
        identity, text = source, source
        write = lambda: text  # noqa: E731
    upper = spec.name.upper()
    # Without lm, nothing calls NAME_jacobian: left out, gcc's time falls again
    # (784-128-10: 2.9 s in all, 1.6 s without lm, 1.2 s without the Jacobian).
    defines = () if second_order else (f"{upper}_SECOND_ORDER=0", f"{upper}_JACOBIAN=0")
    key = cache_key(identity, compiler, (*FAST_FLAGS, "|", *PORTABLE_FLAGS, *defines))
    found = cached_path(key, spec.name)
    if found is not None:
        return PendingTrainer(spec, dtype, second_order, lambda: (found, None))
    written = write()
    return PendingTrainer(
        spec,
        dtype,
        second_order,
        lambda: cached_library(
            key,
            spec.name,
            lambda folder: compile_shared(
                written, spec.name, folder, compiler, defines=defines
            ),
        ),
    )


def load_trainer(
    spec: Spec,
    source: str | Callable[[], str],
    dtype: str = "float64",
    second_order: bool = True,
) -> CTrainer:
    """Compile `source`, `spec`'s generated C (or a function writing it), and load it.

    start_trainer(...).result(): see there for the cache.
    """
    return start_trainer(spec, source, dtype, second_order).result()
