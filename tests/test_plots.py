"""course_lib.plots: each figure draws the data it is given, and rejects what it cannot draw."""

import math

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from course_lib import plots  # noqa: E402

HISTORY = [
    {"step": 100, "train_loss": 3.0, "val_loss": 3.1, "lr": 1e-3},
    {"step": 200, "train_loss": 2.5, "val_loss": 2.7, "lr": 5e-4},
    {"step": 300, "train_loss": 2.2, "val_loss": None, "lr": 1e-4},
]


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def test_loss_curves_from_trainer_history():
    ax = plots.plot_loss_curves(HISTORY, reference=math.log(65), reference_label="ln 65")
    train, val, ref = ax.get_lines()
    assert train.get_label() == "train" and val.get_label() == "validation"
    np.testing.assert_array_equal(train.get_xdata(), [100, 200, 300])
    np.testing.assert_array_equal(val.get_ydata(), [3.1, 2.7])  # the None row is skipped
    assert ref.get_ydata()[0] == pytest.approx(math.log(65)) and ref.get_label() == "ln 65"
    assert val.get_color() == train.get_color()


def test_loss_curves_compare_runs_on_one_axes():
    _, ax = plt.subplots()
    plots.plot_loss_curves(HISTORY, ax=ax, label="A")
    plots.plot_loss_curves(HISTORY[:2], ax=ax, label="B", log_y=True)
    labels = [line.get_label() for line in ax.get_lines()]
    assert labels == ["A train", "A validation", "B train", "B validation"]
    assert ax.get_yscale() == "log"


def test_loss_curves_from_keras_history_dict_and_object():
    keras_dict = {"loss": [2.0, 1.5, 1.2], "val_loss": [2.1, 1.7, 1.6]}
    ax = plots.plot_loss_curves(keras_dict, xlabel="epoch")
    np.testing.assert_array_equal(ax.get_lines()[0].get_xdata(), [1, 2, 3])
    np.testing.assert_array_equal(ax.get_lines()[0].get_ydata(), [2.0, 1.5, 1.2])

    class History:  # the shape of keras.callbacks.History
        history = keras_dict

    ax = plots.plot_loss_curves(History())
    assert len(ax.get_lines()) == 2


def test_loss_curves_reject_bad_history():
    with pytest.raises(ValueError, match="empty"):
        plots.plot_loss_curves([])
    with pytest.raises(ValueError, match="Trainer history"):
        plots.plot_loss_curves([1.0, 2.0])


def test_lr_schedule_draws_every_step_and_shades_warmup():
    from course_lib.training import WarmupCosineSchedule

    schedule = WarmupCosineSchedule(1e-3, 1e-4, warmup_steps=10, decay_steps=100)
    ax = plots.plot_lr_schedule(schedule, 120, label="warm-up + cosine")
    line = ax.get_lines()[0]
    y = line.get_ydata()
    assert len(y) == 120
    assert y.max() == pytest.approx(1e-3, rel=1e-5) and y[-1] == pytest.approx(1e-4, rel=1e-5)
    assert int(np.argmax(y)) == 10
    assert len(ax.patches) == 1  # the warm-up band


def test_lr_schedule_accepts_a_plain_function():
    ax = plots.plot_lr_schedule(lambda step: 0.1 / (1 + step), 5, warmup_steps=0)
    np.testing.assert_allclose(ax.get_lines()[0].get_ydata(), [0.1 / (1 + s) for s in range(5)])
    assert not ax.patches
    with pytest.raises(ValueError, match="num_steps"):
        plots.plot_lr_schedule(lambda s: 0.1, 0)


def test_confusion_matrix_counts_and_normalised_rates():
    matrix = [[5, 1], [2, 7]]
    ax = plots.plot_confusion_matrix(matrix, ["neg", "pos"])
    assert [t.get_text() for t in ax.texts] == ["5", "1", "2", "7"]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["neg", "pos"]
    ax = plots.plot_confusion_matrix(matrix, normalize="true")
    assert [t.get_text() for t in ax.texts] == ["0.83", "0.17", "0.22", "0.78"]
    np.testing.assert_allclose(ax.images[0].get_array().sum(axis=1), [1.0, 1.0])


def test_confusion_matrix_validation():
    with pytest.raises(ValueError, match="square"):
        plots.plot_confusion_matrix([[1, 2, 3], [4, 5, 6]])
    with pytest.raises(ValueError, match="labels"):
        plots.plot_confusion_matrix([[1, 0], [0, 1]], ["a"])
    with pytest.raises(ValueError, match="normalize"):
        plots.plot_confusion_matrix([[1, 0], [0, 1]], normalize="rows")
    big = plots.plot_confusion_matrix(np.eye(30, dtype=int))
    assert not big.texts  # too many classes to annotate by default
