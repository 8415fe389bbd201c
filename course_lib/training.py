"""Training: the learning-rate schedule, the optimizer, and a trainer that checkpoints and resumes.

The trainer follows nanoGPT's ``train.py``: AdamW with linear warm-up then cosine decay,
gradient clipping by global norm, and every ``eval_interval`` steps an evaluation that averages
the loss over a fixed number of batches (``estimate_loss``). Unlike a notebook loop it also

- writes a checkpoint atomically every ``checkpoint_interval`` steps (to a temporary file,
  then a rename, so a killed run never leaves a half-written checkpoint) and resumes from the
  last one with the same batches it would have seen (the data is a function of the step);
- keeps the history as a list of rows (``history_table`` prints it);
- stops with :class:`NonFiniteLossError` naming the step when the loss is NaN or infinite;
- runs the same call on one device, under mixed precision, with XLA, or under
  ``tf.distribute.MirroredStrategy`` on several GPUs.

Example:

>>> from course_lib.gpt import GPT, GPTConfig
>>> from course_lib.training import LMBatches, TrainConfig, Trainer
>>> tokens = np.random.default_rng(0).integers(0, 11, 2000)
>>> model = GPT(GPTConfig(vocab_size=11, context_length=8, num_layers=1, num_heads=2, width=16))
>>> trainer = Trainer(model, TrainConfig(max_steps=4, eval_interval=2, eval_batches=1,
...                                      warmup_steps=1, verbose=0))
>>> history = trainer.fit(LMBatches(tokens, 8, 4), LMBatches(tokens, 8, 4, seed=1))
>>> [row["step"] for row in history]
[2, 4]
"""

from __future__ import annotations

import json
import math
import os
import re
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import keras
import numpy as np
from keras import ops

from .files import process_alive, write_text_atomically
from .gpt import no_decay_variables
from .lm_data import random_window_dataset
from .memory import check_memory
from .model_io import check_token_ids, save_model

__all__ = [
    "WarmupCosineSchedule",
    "TrainConfig",
    "LMBatches",
    "make_optimizer",
    "compile_model",
    "CheckpointManager",
    "Trainer",
    "NonFiniteLossError",
    "history_table",
]


@keras.saving.register_keras_serializable(package="course_lib")
class WarmupCosineSchedule(keras.optimizers.schedules.LearningRateSchedule):
    """Linear warm-up to ``peak``, then cosine decay to ``minimum``: nanoGPT's ``get_lr``.

    For step ``s`` (0-based), with warm-up ``w`` and decay end ``d``:

    - ``s < w``: ``peak * (s + 1) / (w + 1)``
    - ``w <= s <= d``: ``minimum + 0.5 * (1 + cos(pi * (s - w) / (d - w))) * (peak - minimum)``
    - ``s > d``: ``minimum``

    Args:
        peak: the learning rate at the end of warm-up.
        minimum: the floor reached at ``decay_steps``.
        warmup_steps: steps of linear warm-up.
        decay_steps: the step at which the cosine reaches ``minimum`` (nanoGPT's
            ``lr_decay_iters``, usually the total number of steps).

    Example:

    >>> sched = WarmupCosineSchedule(1e-3, 1e-4, warmup_steps=100, decay_steps=2000)
    >>> round(float(sched(2000)), 6)
    0.0001
    """

    def __init__(self, peak, minimum, warmup_steps, decay_steps):
        if not 0 <= minimum <= peak:
            raise ValueError(f"Need 0 <= minimum <= peak, got minimum={minimum}, peak={peak}")
        if warmup_steps < 0 or decay_steps <= warmup_steps:
            raise ValueError(
                f"Need 0 <= warmup_steps < decay_steps, got {warmup_steps} and {decay_steps}; "
                "make decay_steps the total number of training steps."
            )
        self.peak = float(peak)
        self.minimum = float(minimum)
        self.warmup_steps = int(warmup_steps)
        self.decay_steps = int(decay_steps)

    def __call__(self, step):
        step = ops.cast(step, "float32")
        warm = self.peak * (step + 1.0) / (self.warmup_steps + 1.0)
        ratio = (step - self.warmup_steps) / float(self.decay_steps - self.warmup_steps)
        ratio = ops.clip(ratio, 0.0, 1.0)
        cosine = self.minimum + 0.5 * (1.0 + ops.cos(math.pi * ratio)) * (self.peak - self.minimum)
        return ops.where(step < self.warmup_steps, warm, cosine)

    def get_config(self):
        return {
            "peak": self.peak,
            "minimum": self.minimum,
            "warmup_steps": self.warmup_steps,
            "decay_steps": self.decay_steps,
        }


@dataclass
class TrainConfig:
    """Everything about a training run that is not the model.

    Defaults are nanoGPT's CPU configuration for Tiny Shakespeare (``shakespeare_char`` with
    the CPU overrides of its README).

    Args:
        max_steps: optimizer steps to run in total.
        learning_rate: peak learning rate after warm-up.
        min_learning_rate: floor of the cosine decay (nanoGPT: ``learning_rate / 10``).
        warmup_steps: linear warm-up steps.
        decay_steps: where the cosine ends; ``None`` means ``max_steps``.
        beta_1, beta_2: AdamW moment decay rates (nanoGPT uses 0.99 for beta_2 on small data).
        weight_decay: decoupled weight decay, applied to kernels and embeddings only (not biases
            or LayerNorm parameters).
        grad_clip: clip gradients to this global norm; ``0`` turns clipping off.
        eval_interval: evaluate (and log a history row) every this many steps.
        eval_batches: validation batches averaged per evaluation (nanoGPT's ``eval_iters``).
        checkpoint_interval: checkpoint every this many steps; ``None`` means at each
            evaluation. Only used when the trainer has a ``checkpoint_dir``.
        keep_checkpoints: how many checkpoint files to keep.
        jit_compile: compile the whole training step with XLA. ``"auto"`` turns it on except
            under a multi-device strategy, where XLA cannot place variables on other devices.
        mixed_precision: ``None``, ``"mixed_bfloat16"`` or ``"mixed_float16"``. Set it before
            building the model (see :meth:`Trainer` notes); logits and loss stay float32.
        verbose: 1 prints one line per evaluation (step, losses, learning rate, speed), as
            nanoGPT does; 0 is silent.

    Example:

    >>> TrainConfig(max_steps=100, warmup_steps=10).decay_steps
    100
    """

    max_steps: int = 2000
    learning_rate: float = 1e-3
    min_learning_rate: float = 1e-4
    warmup_steps: int = 100
    decay_steps: int | None = None
    beta_1: float = 0.9
    beta_2: float = 0.99
    weight_decay: float = 0.1
    grad_clip: float = 1.0
    eval_interval: int = 250
    eval_batches: int = 20
    checkpoint_interval: int | None = None
    keep_checkpoints: int = 2
    jit_compile: bool | str = "auto"
    mixed_precision: str | None = None
    verbose: int = 1
    extra: dict = field(default_factory=dict)

    def __post_init__(self):
        if self.decay_steps is None:
            self.decay_steps = self.max_steps
        for name in ("max_steps", "eval_interval", "eval_batches", "keep_checkpoints"):
            if int(getattr(self, name)) < 1:
                raise ValueError(f"{name} must be at least 1, got {getattr(self, name)}")
        if self.warmup_steps >= self.decay_steps:
            raise ValueError(
                f"warmup_steps ({self.warmup_steps}) must be smaller than decay_steps "
                f"({self.decay_steps}); shorten the warm-up or train longer."
            )
        if self.learning_rate <= 0 or self.min_learning_rate < 0:
            raise ValueError("learning_rate must be positive and min_learning_rate non-negative")
        if self.min_learning_rate > self.learning_rate:
            raise ValueError(
                f"min_learning_rate ({self.min_learning_rate}) exceeds learning_rate "
                f"({self.learning_rate}); nanoGPT uses learning_rate / 10."
            )
        if self.mixed_precision not in (None, "mixed_bfloat16", "mixed_float16"):
            raise ValueError(
                f"mixed_precision must be None, 'mixed_bfloat16' or 'mixed_float16', "
                f"got {self.mixed_precision!r}"
            )
        if self.jit_compile not in (True, False, "auto"):
            raise ValueError(f"jit_compile must be True, False or 'auto', got {self.jit_compile!r}")
        if self.checkpoint_interval is not None and self.checkpoint_interval < 1:
            raise ValueError("checkpoint_interval must be at least 1 (or None)")

    def to_dict(self) -> dict:
        """The configuration as a JSON-ready dict."""
        return asdict(self)


class LMBatches:
    """Random (x, y) windows of a token array for each step; deterministic per (seed, step).

    A trainer asks it for the batches of steps ``[start, start + n)``; asking twice gives the
    same batches, which is what makes resuming exact.

    Args:
        tokens: 1-D array of token ids.
        context_length: tokens per window.
        batch_size: windows per batch (the global batch under a distribution strategy).
        seed: the data seed; use a different one for validation.

    Example:

    >>> source = LMBatches(np.arange(500), context_length=8, batch_size=2, seed=0)
    >>> x, y = next(iter(source(start_step=0, num_steps=1)))
    >>> tuple(x.shape)
    (2, 8)
    """

    def __init__(self, tokens, context_length: int, batch_size: int, seed: int = 0):
        self.tokens = np.asarray(tokens, dtype=np.int32)
        self.context_length = int(context_length)
        self.batch_size = int(batch_size)
        self.seed = int(seed)

    @property
    def tokens_per_step(self) -> int:
        return self.context_length * self.batch_size

    def __call__(self, start_step: int, num_steps: int):
        return random_window_dataset(
            self.tokens,
            self.context_length,
            self.batch_size,
            seed=self.seed,
            start_step=start_step,
            num_steps=num_steps,
        )


class NonFiniteLossError(FloatingPointError):
    """Raised when the training loss becomes NaN or infinite; the message names the step."""


def make_optimizer(model, config: TrainConfig) -> keras.optimizers.Optimizer:
    """AdamW with the warm-up/cosine schedule, clipping, and decay on matrices only.

    Args:
        model: a built Keras model (its variables decide what is excluded from decay).
        config: the :class:`TrainConfig`.

    Returns:
        A ``keras.optimizers.AdamW``.

    Example:

    >>> model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2)])
    >>> opt = make_optimizer(model, TrainConfig(max_steps=10, warmup_steps=1))
    >>> type(opt).__name__
    'AdamW'
    """
    schedule = WarmupCosineSchedule(
        config.learning_rate, config.min_learning_rate, config.warmup_steps, config.decay_steps
    )
    opt = keras.optimizers.AdamW(
        learning_rate=schedule,
        weight_decay=config.weight_decay,
        beta_1=config.beta_1,
        beta_2=config.beta_2,
        epsilon=1e-8,  # PyTorch's default, as in nanoGPT (Keras defaults to 1e-7)
        global_clipnorm=config.grad_clip or None,
    )
    # nanoGPT decays matmul kernels and embedding tables only, chosen by role, not rank.
    opt.exclude_from_weight_decay(var_list=no_decay_variables(model))
    return opt


def _strategy_replicas(model) -> int:
    strategy = getattr(model, "distribute_strategy", None)
    return getattr(strategy, "num_replicas_in_sync", 1) if strategy is not None else 1


def compile_model(model, config: TrainConfig, *, sample_input=None):
    """Builds and compiles ``model`` for next-token training with the course's settings.

    Args:
        model: a Keras model mapping token ids ``(B, T)`` to logits ``(B, T, V)``.
        config: the :class:`TrainConfig`.
        sample_input: a batch of token ids to build an unbuilt model with.

    Returns:
        The model, compiled with AdamW and sparse categorical cross-entropy from logits.

    Example:

    >>> model = keras.Sequential([keras.Input((8,), dtype="int32"),
    ...                           keras.layers.Embedding(11, 4), keras.layers.Dense(11)])
    >>> type(compile_model(model, TrainConfig(max_steps=10, warmup_steps=1)).optimizer).__name__
    'AdamW'
    """
    if not model.built:
        if sample_input is None:
            raise ValueError("The model is not built: pass sample_input (a batch of token ids).")
        model(sample_input)
    jit = config.jit_compile
    if jit == "auto":
        jit = _strategy_replicas(model) == 1
    model.compile(
        optimizer=make_optimizer(model, config),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        jit_compile=jit,
    )
    model.optimizer.build(model.trainable_variables)
    return model


def _writer_pid(name: str) -> int | None:
    """The writer's process id in a temporary name (``.ckpt-000500.keras.<pid>.<random>.keras``
    or ``.state.json.<pid>.<random>.tmp``); None for any other name."""
    match = re.fullmatch(r"\.(?:ckpt-\d+\.keras|state\.json)\.(\d+)\.\w+\.(?:keras|tmp)", name)
    return int(match.group(1)) if match else None


class CheckpointManager:
    """Atomic checkpoints of a model with its optimizer state, plus the trainer's state.

    Layout of ``directory``: ``ckpt-000500.keras`` files (model, weights and optimizer state)
    and ``state.json`` (the last step, the checkpoint's file name and the history). Each file
    is written under a temporary name and renamed into place, and ``state.json`` is replaced
    only after its checkpoint is complete, so an interrupted save leaves the previous
    checkpoint intact.

    Args:
        directory: where checkpoints live (created if missing).
        keep: how many checkpoint files to keep.

    Example:

    >>> import tempfile
    >>> manager = CheckpointManager(tempfile.mkdtemp())
    >>> manager.latest() is None
    True
    """

    STATE = "state.json"
    # What state.json may name: a checkpoint file of this folder, nothing else.
    CHECKPOINT_NAME = re.compile(r"ckpt-\d{6,}\.keras")

    def __init__(self, directory, keep: int = 2):
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self.keep = keep
        # A process killed while saving leaves its temporary file behind; it is never a
        # complete checkpoint (only renamed files are). Each temporary name carries its
        # writer's process id, so only the files of writers that are gone are removed: a
        # trainer still saving into this folder keeps its own.
        for stale in self.directory.glob(".*"):
            pid = _writer_pid(stale.name)
            if pid is not None and pid != os.getpid() and not process_alive(pid):
                stale.unlink(missing_ok=True)

    def save(self, model, step: int, state: dict) -> Path:
        """Writes ``ckpt-<step>.keras`` and then ``state.json``; returns the checkpoint path."""
        name = f"ckpt-{step:06d}.keras"
        # save_model writes a hidden temporary file named after its writer's pid, then renames.
        final = save_model(model, self.directory / name)
        write_text_atomically(
            self.directory / self.STATE,
            json.dumps({"step": step, "checkpoint": name, **state}, indent=1),
        )
        for old in sorted(self.directory.glob("ckpt-*.keras"))[: -self.keep]:
            old.unlink(missing_ok=True)
        return final

    def latest(self) -> dict | None:
        """The saved state (with ``step`` and ``checkpoint``), or ``None`` when there is none."""
        path = self.directory / self.STATE
        if not path.exists():
            return None
        try:
            state = json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise RuntimeError(
                f"{path} is not valid JSON ({exc}); delete the checkpoint folder to start over."
            ) from exc
        name = state.get("checkpoint") if isinstance(state, dict) else None
        if not isinstance(name, str) or not self.CHECKPOINT_NAME.fullmatch(name):
            raise RuntimeError(
                f"{path} names the checkpoint {name!r}, which is not a checkpoint file of this "
                "folder (ckpt-NNNNNN.keras); delete the folder to start over."
            )
        if not (self.directory / name).exists():
            raise RuntimeError(
                f"{path} names {state['checkpoint']}, which is missing; delete the checkpoint "
                "folder to start over, or restore the file."
            )
        return state

    def restore(self, model) -> dict | None:
        """Loads the latest weights and optimizer state into ``model``; returns the state."""
        state = self.latest()
        if state is None:
            return None
        path = self.directory / state["checkpoint"]
        try:
            model.load_weights(path)
        except Exception as exc:
            raise RuntimeError(
                f"Could not load checkpoint {path}: {exc}. The file may be damaged or made "
                "for another model configuration; delete the folder to start over."
            ) from exc
        return state


class Trainer:
    """Trains a next-token model for a number of steps, evaluating and checkpointing as it goes.

    Build the model before the trainer (under ``strategy.scope()`` when distributing, and after
    ``keras.mixed_precision.set_dtype_policy(...)`` for mixed precision). The trainer compiles
    it. With a ``checkpoint_dir`` that holds a checkpoint, :meth:`fit` resumes from it.

    Under ``MirroredStrategy`` each global batch is split across the replicas and the losses
    match a single-device run; one difference remains: Keras clips each replica's share of the
    gradient before summing them, so ``grad_clip`` acts more loosely there.

    Before the first step the trainer checks that the token ids fit the model's vocabulary and
    warns when the estimated memory exceeds the machine's (:func:`course_lib.memory.
    check_memory`). A resumed run repeats the uninterrupted one exactly when dropout is 0;
    with dropout the random masks after the resume differ (the dropout generator's state is
    not part of the checkpoint), so the losses agree only statistically.

    A caller that trains for longer than one process lives (``course_lib.pretraining``) can
    keep its own records in :attr:`extra_state`: a JSON-ready dict saved in every checkpoint's
    ``state.json`` and restored with it, so those records always match the checkpoint's step.
    :meth:`request_stop` makes :meth:`fit` return at the next checkpoint.

    Args:
        model: a Keras model mapping ``(B, T)`` token ids to ``(B, T, V)`` float32 logits.
        config: a :class:`TrainConfig`.
        checkpoint_dir: a folder for checkpoints; ``None`` keeps none.

    Example:

    ```python
    trainer = Trainer(model, TrainConfig(max_steps=2000))
    history = trainer.fit(LMBatches(train, 64, 12), LMBatches(val, 64, 12, seed=1))
    ```
    """

    def __init__(self, model, config: TrainConfig, *, checkpoint_dir=None):
        self.model = model
        self.config = config
        self.checkpoints = (
            CheckpointManager(checkpoint_dir, keep=config.keep_checkpoints)
            if checkpoint_dir is not None
            else None
        )
        self.history: list[dict] = []
        self.step = 0
        self.step_times: list[float] = []
        self.eval_seconds = 0.0  # time spent in evaluate(), for profiling
        self.extra_state: dict = {}
        self._compiled = False
        self._stop_requested = False

    def request_stop(self) -> None:
        """Asks :meth:`fit` to return after the next checkpoint (without a checkpoint folder:
        after the next evaluation), e.g. when a time budget is spent; calling ``fit`` again
        resumes from that checkpoint."""
        self._stop_requested = True

    # -- the pieces ------------------------------------------------------------------------

    def _ensure_compiled(self, sample_x):
        # Compile once per trainer, with this trainer's settings, whatever the model had before.
        if not self._compiled:
            compile_model(self.model, self.config, sample_input=sample_x)
            self._compiled = True

    def _check_inputs(self, train_data, val_data):
        # Out-of-range ids fail deep inside the graph on a CPU and read zeros on a GPU; say
        # what is wrong before the first step instead. Likewise for a batch that cannot fit.
        model_config = getattr(self.model, "config", None)
        if model_config is None:
            return
        for source in (train_data, val_data):
            if getattr(source, "tokens", None) is not None:
                check_token_ids(self.model, source.tokens)
        batch_size = getattr(train_data, "batch_size", None)
        if batch_size:
            check_memory(model_config, batch_size, mixed_precision=self.config.mixed_precision)

    def evaluate(self, data) -> float:
        """Mean loss over ``eval_batches`` fixed batches of ``data`` (nanoGPT's estimate_loss)."""
        start = time.perf_counter()
        losses = [
            float(self.model.test_on_batch(x, y))
            for x, y in data(start_step=0, num_steps=self.config.eval_batches)
        ]
        self.eval_seconds += time.perf_counter() - start
        return float(np.mean(losses))

    def _train_steps(self, data, start: int, count: int, on_step) -> None:
        ds = data(start_step=start, num_steps=count)
        if _strategy_replicas(self.model) > 1:
            # Only fit splits each global batch across the replicas; train_on_batch would give
            # every replica the whole batch.
            class _StepCallback(keras.callbacks.Callback):
                prev = 0.0

                def on_train_batch_begin(self, batch, logs=None):
                    self.t0 = time.perf_counter()

                def on_train_batch_end(self, batch, logs=None):
                    # fit reports the running mean of the epoch; recover this step's loss.
                    mean = float(logs["loss"])
                    loss = mean * (batch + 1) - self.prev * batch if batch else mean
                    self.prev = mean
                    on_step(loss, time.perf_counter() - self.t0)

            self.model.fit(
                ds, steps_per_epoch=count, epochs=1, verbose=0, callbacks=[_StepCallback()]
            )
            return
        for x, y in ds:
            t0 = time.perf_counter()
            loss = self.model.train_on_batch(x, y)
            on_step(float(loss), time.perf_counter() - t0)

    # -- the loop --------------------------------------------------------------------------

    def fit(self, train_data, val_data=None, *, on_step=None, on_eval=None) -> list[dict]:
        """Trains until ``config.max_steps``, resuming from the latest checkpoint if any.

        Args:
            train_data: a batch source: called as ``train_data(start_step=, num_steps=)`` it
                returns an iterable of ``(x, y)`` batches (e.g. :class:`LMBatches`).
            val_data: a batch source for evaluation, or ``None`` to skip it.
            on_step: called as ``on_step(step, loss, seconds)`` after every training step
                (``step`` counts from 1), e.g. to print progress lines.
            on_eval: called as ``on_eval(row)`` after each history row is added and before
                that step's checkpoint is written, so what it adds to the row or to
                :attr:`extra_state` is saved with the checkpoint.

        Returns:
            The history: one dict per evaluation with ``step``, ``train_loss`` (mean of the
            steps since the last row), ``val_loss``, ``lr``, ``tokens_per_sec`` and
            ``elapsed_sec``. After :meth:`request_stop` it ends before ``max_steps``.

        Raises:
            NonFiniteLossError: when a step's loss is NaN or infinite.
        """
        cfg = self.config
        self._stop_requested = False
        self._check_inputs(train_data, val_data)
        sample_x, _ = next(iter(train_data(start_step=0, num_steps=1)))
        self._ensure_compiled(sample_x)
        if self.checkpoints is not None:
            state = self.checkpoints.restore(self.model)
            if state is not None:
                self.step = int(state["step"])
                self.history = state.get("history", [])
                self.extra_state = state.get("extra", {})
                if cfg.verbose:
                    print(f"Resumed from {Path(state['checkpoint']).name} at step {self.step}.")
        tokens_per_step = getattr(train_data, "tokens_per_step", None) or int(
            np.prod(sample_x.shape)
        )
        ckpt_every = cfg.checkpoint_interval or cfg.eval_interval
        window: list[float] = []
        t_start = time.perf_counter()

        def step_done(loss: float, seconds: float):
            self.step += 1
            if not math.isfinite(loss):
                raise NonFiniteLossError(
                    f"The training loss became {loss} at step {self.step}. Lower the learning "
                    "rate, check the data for invalid ids, or turn on gradient clipping; the "
                    "last checkpoint (if any) is untouched."
                )
            window.append(loss)
            self.step_times.append(seconds)
            if on_step is not None:
                on_step(self.step, loss, seconds)

        while self.step < cfg.max_steps:
            boundary = min(
                cfg.max_steps,
                (self.step // cfg.eval_interval + 1) * cfg.eval_interval,
                (self.step // ckpt_every + 1) * ckpt_every,
            )
            window.clear()
            self._train_steps(train_data, self.step, boundary - self.step, step_done)
            if self.step % cfg.eval_interval == 0 or self.step == cfg.max_steps:
                recent = self.step_times[-len(window) :]
                row = {
                    "step": self.step,
                    "train_loss": float(np.mean(window)),
                    "val_loss": self.evaluate(val_data) if val_data is not None else None,
                    "lr": float(self.model.optimizer.learning_rate),
                    "tokens_per_sec": tokens_per_step / float(np.median(recent)),
                    "elapsed_sec": time.perf_counter() - t_start,
                }
                self.history.append(row)
                if on_eval is not None:
                    on_eval(row)
                if cfg.verbose:
                    print(_progress_line(row), flush=True)
            saved = False
            if self.checkpoints is not None and (
                self.step % ckpt_every == 0 or self.step == cfg.max_steps
            ):
                self.checkpoints.save(
                    self.model,
                    self.step,
                    {
                        "history": self.history,
                        "train_config": cfg.to_dict(),
                        "extra": self.extra_state,
                    },
                )
                saved = True
            # Stop only where a resume can pick up: right after a checkpoint.
            if self._stop_requested and (saved or self.checkpoints is None):
                break
        return self.history

    def median_step_seconds(self, skip: int = 10) -> float:
        """Median wall time of one training step, skipping the first (compiling) steps."""
        times = self.step_times[skip:] or self.step_times
        return float(np.median(times))


def _progress_line(row: dict) -> str:
    val = "" if row["val_loss"] is None else f"  val {row['val_loss']:.4f}"
    return (f"step {row['step']:>6,}  train {row['train_loss']:.4f}{val}  lr {row['lr']:.2e}  "
            f"{row['tokens_per_sec']:>8,.0f} tokens/s  {row['elapsed_sec']:6.0f} s")


def history_table(history: list[dict]) -> str:
    """Formats a trainer's history as an aligned text table.

    Example:

    >>> print(history_table([{"step": 1, "train_loss": 2.5, "val_loss": 2.6, "lr": 1e-3,
    ...                       "tokens_per_sec": 1000.0, "elapsed_sec": 1.0}]))
     step  train_loss  val_loss        lr  tokens/s  elapsed_s
        1      2.5000    2.6000  1.00e-03      1000        1.0
    """
    lines = [
        f"{'step':>5}  {'train_loss':>10}  {'val_loss':>8}  {'lr':>8}  {'tokens/s':>8}"
        f"  {'elapsed_s':>9}"
    ]
    for r in history:
        val = "-" if r.get("val_loss") is None else f"{r['val_loss']:.4f}"
        lines.append(
            f"{r['step']:>5}  {r['train_loss']:>10.4f}  {val:>8}  {r['lr']:>8.2e}  "
            f"{r['tokens_per_sec']:>8.0f}  {r['elapsed_sec']:>9.1f}"
        )
    return "\n".join(lines)
