"""The course's standard figures: loss curves, learning-rate schedules, confusion matrices.

Every function draws on a Matplotlib ``Axes`` and returns it, so figures compose: pass ``ax=``
to draw into a subplot of your own figure, or leave it out and a new figure is made. Nothing
here calls ``plt.show()``; a notebook shows the figure at the end of the cell.

- :func:`plot_loss_curves`: training and validation loss against the step, from the
  :class:`course_lib.training.Trainer` history (a list of rows), a Keras ``History`` or its
  ``.history`` dict. Call it once per run with ``label=`` to compare runs on one axes.
- :func:`plot_lr_schedule`: a learning-rate schedule (any callable of the step, e.g.
  :class:`course_lib.training.WarmupCosineSchedule`) over the steps of a run.
- :func:`plot_confusion_matrix`: a confusion matrix as a heat map with the counts (or rates)
  written in each cell.

Example:

>>> import matplotlib
>>> matplotlib.use("Agg")
>>> history = [{"step": 100, "train_loss": 2.5, "val_loss": 2.6},
...            {"step": 200, "train_loss": 2.1, "val_loss": 2.3}]
>>> ax = plot_loss_curves(history, reference=4.17, reference_label="ln 65")
>>> [line.get_label() for line in ax.get_lines()]
['train', 'validation', 'ln 65']
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import numpy as np

__all__ = ["plot_loss_curves", "plot_lr_schedule", "plot_confusion_matrix"]


def _axes(ax, figsize):
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt

    _, ax = plt.subplots(figsize=figsize)
    return ax


def _series(history, train_key, val_key):
    """(steps, train, val) from a Trainer history, a Keras History or a dict of lists."""
    if hasattr(history, "history") and isinstance(history.history, Mapping):
        history = history.history  # a keras.callbacks.History
    if isinstance(history, Mapping):
        # Keras's History.history: {"loss": [...], "val_loss": [...]}, one entry per epoch.
        train_key = train_key if train_key in history else "loss"
        train = np.asarray(history.get(train_key, []), dtype=float)
        val = history.get(val_key)
        val = None if val is None else np.asarray(val, dtype=float)
        steps = np.asarray(history.get("step", np.arange(1, len(train) + 1)), dtype=float)
        return steps, train, val
    rows = list(history)
    if not rows:
        raise ValueError("the history is empty; train for at least one evaluation interval")
    if not isinstance(rows[0], Mapping) or "step" not in rows[0]:
        raise ValueError(
            "history must be a Trainer history (a list of dicts with 'step'), a Keras History, "
            "or a dict of lists such as History.history"
        )
    steps = np.asarray([r["step"] for r in rows], dtype=float)
    train = np.asarray([r.get(train_key, np.nan) for r in rows], dtype=float)
    vals = [r.get(val_key) for r in rows]
    val = (
        None
        if all(v is None for v in vals)
        else np.asarray([np.nan if v is None else v for v in vals], dtype=float)
    )
    return steps, train, val


def plot_loss_curves(
    history,
    *,
    ax=None,
    label: str | None = None,
    train_key: str = "train_loss",
    val_key: str = "val_loss",
    reference: float | None = None,
    reference_label: str | None = None,
    log_y: bool = False,
    title: str | None = "Loss",
    xlabel: str = "step",
    figsize=(6, 4),
):
    """Training and validation loss against the step (or epoch).

    The training loss is drawn solid and the validation loss dashed, in the same colour, so
    several runs drawn on one axes (one call each, with ``label=``) stay readable. A gap that
    opens between the two curves is overfitting; a flat start at ``ln V`` is the untrained model.

    Args:
        history: the list of rows of :meth:`course_lib.training.Trainer.fit` (keys ``step``,
            ``train_loss``, ``val_loss``), a ``keras.callbacks.History``, or its ``.history``
            dict (``loss`` / ``val_loss`` per epoch).
        ax: the axes to draw on; a new figure when ``None``.
        label: the run's name; the legend then reads "<label> train" / "<label> validation".
        train_key: the key of the training loss (``"loss"`` is tried for Keras histories).
        val_key: the key of the validation loss; missing or ``None`` values are skipped.
        reference: draw a horizontal dotted line at this loss (e.g. ``math.log(vocab_size)``,
            the loss of a uniform guess).
        reference_label: the legend text of the reference line.
        log_y: a logarithmic loss axis (useful when the first loss is far above the rest).
        title: the axes title (``None`` for none).
        xlabel: the x-axis label (``"epoch"`` for a Keras history).
        figsize: the size of a new figure.

    Returns:
        The Matplotlib ``Axes``.

    Example:

    >>> ax = plot_loss_curves(trainer.history, reference=math.log(65))  # doctest: +SKIP
    >>> plot_loss_curves(other.history, ax=ax, label="no warm-up")      # doctest: +SKIP
    """
    steps, train, val = _series(history, train_key, val_key)
    ax = _axes(ax, figsize)
    prefix = f"{label} " if label else ""
    (line,) = ax.plot(
        steps, train, "-", marker="." if len(steps) < 30 else None, label=f"{prefix}train"
    )
    if val is not None and np.isfinite(val).any():
        ok = np.isfinite(val)
        ax.plot(
            steps[ok],
            val[ok],
            "--",
            color=line.get_color(),
            marker="." if len(steps) < 30 else None,
            label=f"{prefix}validation",
        )
    if reference is not None:
        ax.axhline(
            reference,
            color="grey",
            linestyle=":",
            linewidth=1,
            label=reference_label or f"{reference:.3g}",
        )
    if log_y:
        ax.set_yscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel("loss (cross-entropy, nats)")
    if title:
        ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend()
    return ax


def plot_lr_schedule(
    schedule: Callable,
    num_steps: int,
    *,
    ax=None,
    label: str | None = None,
    warmup_steps: int | None = None,
    title: str | None = "Learning-rate schedule",
    figsize=(6, 3),
):
    """A learning-rate schedule evaluated at every step ``0 .. num_steps − 1``.

    Args:
        schedule: a callable of the step returning the learning rate: a
            ``keras.optimizers.schedules.LearningRateSchedule`` (such as
            :class:`course_lib.training.WarmupCosineSchedule`) or a plain function.
        num_steps: how many steps to draw.
        ax: the axes to draw on; a new figure when ``None``.
        label: the legend text of this schedule.
        warmup_steps: shade the warm-up phase ``[0, warmup_steps)``; by default read from the
            schedule's ``warmup_steps`` attribute when it has one.
        title: the axes title.
        figsize: the size of a new figure.

    Returns:
        The Matplotlib ``Axes``.

    Example:

    >>> from course_lib.training import WarmupCosineSchedule
    >>> ax = plot_lr_schedule(WarmupCosineSchedule(1e-3, 1e-4, 100, 2000), 2000)
    >>> round(float(ax.get_lines()[0].get_ydata().max()), 6)
    0.001
    """
    if num_steps < 1:
        raise ValueError(f"num_steps must be at least 1, got {num_steps}")
    steps = np.arange(num_steps)
    try:  # a Keras schedule takes a vector of steps in one call
        rates = np.asarray(schedule(steps), dtype=float).reshape(-1)
        if rates.shape != steps.shape:
            raise ValueError
    except Exception:
        rates = np.asarray([float(schedule(int(s))) for s in steps])
    ax = _axes(ax, figsize)
    ax.plot(steps, rates, label=label)
    warmup = warmup_steps if warmup_steps is not None else getattr(schedule, "warmup_steps", 0)
    if warmup:
        ax.axvspan(0, warmup, color="orange", alpha=0.15, label="warm-up")
    ax.set_xlabel("step")
    ax.set_ylabel("learning rate")
    ax.ticklabel_format(axis="y", style="sci", scilimits=(0, 0))
    if title:
        ax.set_title(title)
    ax.grid(alpha=0.3)
    if label or warmup:
        ax.legend()
    return ax


def plot_confusion_matrix(
    matrix,
    labels: Sequence | None = None,
    *,
    ax=None,
    normalize: str | None = None,
    cmap: str = "Blues",
    title: str | None = "Confusion matrix",
    annotate: bool | None = None,
    figsize=None,
):
    """A confusion matrix as a heat map: rows are the true labels, columns the predictions.

    Args:
        matrix: a square array of counts, as from :func:`course_lib.metrics.confusion_matrix`
            or ``sklearn.metrics.confusion_matrix``.
        labels: the class names, in row order (default ``0 .. L − 1``).
        ax: the axes to draw on; a new figure when ``None``.
        normalize: ``None`` (counts), ``"true"`` (each row sums to 1: per-class recall on the
            diagonal), ``"pred"`` (each column sums to 1: precision on the diagonal) or
            ``"all"``.
        cmap: a Matplotlib colour map name.
        title: the axes title.
        annotate: write the value in every cell; by default only up to 20 classes.
        figsize: the size of a new figure (default grows with the number of classes).

    Returns:
        The Matplotlib ``Axes``.

    Example:

    >>> ax = plot_confusion_matrix([[5, 1], [2, 7]], ["neg", "pos"])
    >>> [t.get_text() for t in ax.texts]
    ['5', '1', '2', '7']
    """
    counts = np.asarray(matrix, dtype=float)
    if counts.ndim != 2 or counts.shape[0] != counts.shape[1]:
        raise ValueError(f"matrix must be square (L, L), got shape {counts.shape}")
    n = counts.shape[0]
    labels = [str(x) for x in (labels if labels is not None else range(n))]
    if len(labels) != n:
        raise ValueError(f"{len(labels)} labels for a {n}×{n} matrix")
    if normalize not in (None, "true", "pred", "all"):
        raise ValueError(f"normalize must be None, 'true', 'pred' or 'all', got {normalize!r}")
    values = counts
    with np.errstate(invalid="ignore", divide="ignore"):
        if normalize == "true":
            values = counts / counts.sum(axis=1, keepdims=True)
        elif normalize == "pred":
            values = counts / counts.sum(axis=0, keepdims=True)
        elif normalize == "all":
            values = counts / counts.sum()
    values = np.nan_to_num(values)
    ax = _axes(ax, figsize or (1.2 + 0.5 * max(n, 4), 1 + 0.5 * max(n, 4)))
    image = ax.imshow(values, cmap=cmap, vmin=0)
    ax.figure.colorbar(image, ax=ax, fraction=0.046, pad=0.04)
    ax.set_xticks(range(n), labels, rotation=45 if max(map(len, labels)) > 3 else 0)
    ax.set_yticks(range(n), labels)
    ax.set_xlabel("predicted label")
    ax.set_ylabel("true label")
    if title:
        ax.set_title(title)
    if annotate is None:
        annotate = n <= 20
    if annotate:
        threshold = values.max() / 2 if values.size else 0
        for i in range(n):
            for j in range(n):
                text = f"{values[i, j]:.2f}" if normalize else f"{int(counts[i, j])}"
                ax.text(
                    j,
                    i,
                    text,
                    ha="center",
                    va="center",
                    fontsize=9,
                    color="white" if values[i, j] > threshold else "black",
                )
    return ax
