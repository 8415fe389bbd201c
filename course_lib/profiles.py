"""Run profiles: one notebook, three scales.

A profile names the scale a chapter runs at:

- ``smoke``: the test suite. Seconds per chapter, tiny data slices; numbers mean nothing.
- ``cpu``: a 2-core laptop. Minutes per chapter; results worth reading.
- ``gpu``: a real accelerator. The full sizes (e.g. nanoGPT's GPU configuration).

The profile comes from the ``COURSE_PROFILE`` environment variable. When it is unset, the
profile is ``gpu`` if TensorFlow sees a GPU, else ``cpu``.

Example:

>>> from course_lib.profiles import Profile
>>> Profile("cpu").pick(smoke=20, cpu=2000, gpu=5000)
2000
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

PROFILE_NAMES = ("smoke", "cpu", "gpu")
ENV_VAR = "COURSE_PROFILE"


@dataclass(frozen=True)
class Profile:
    """A named run scale.

    Args:
        name: one of ``"smoke"``, ``"cpu"``, ``"gpu"``.
        source: where the name came from (``"COURSE_PROFILE"``, ``"detected"`` or
            ``"explicit"``), shown in the environment report.

    Example:

    >>> p = Profile("smoke")
    >>> p.pick(smoke=2, cpu=20, gpu=200)
    2
    """

    name: str
    source: str = "explicit"

    def __post_init__(self):
        if self.name not in PROFILE_NAMES:
            raise ValueError(
                f"Unknown profile {self.name!r}. Use one of {', '.join(PROFILE_NAMES)}, "
                f"e.g. `export {ENV_VAR}=cpu`."
            )

    def pick(self, *, smoke: Any, cpu: Any, gpu: Any) -> Any:
        """Returns the value given for this profile.

        All three values are required, so a notebook states each scale explicitly.

        Example:

        >>> Profile("gpu").pick(smoke=64, cpu=256, gpu=1024)
        1024
        """
        return {"smoke": smoke, "cpu": cpu, "gpu": gpu}[self.name]

    @property
    def is_smoke(self) -> bool:
        """True for the test profile, where numbers are not meant to be read."""
        return self.name == "smoke"

    def __str__(self) -> str:
        return self.name


def gpu_available() -> bool:
    """True when TensorFlow sees at least one GPU."""
    import tensorflow as tf

    return bool(tf.config.list_physical_devices("GPU"))


@lru_cache(maxsize=1)
def _active_from_env(value: str | None) -> Profile:
    if value:
        return Profile(value.strip().lower(), source=ENV_VAR)
    return Profile("gpu" if gpu_available() else "cpu", source="detected")


def active_profile() -> Profile:
    """Returns the active profile, read from ``COURSE_PROFILE`` or detected.

    Raises:
        ValueError: when ``COURSE_PROFILE`` names no known profile.

    Example:

    >>> import os
    >>> os.environ["COURSE_PROFILE"] = "smoke"
    >>> active_profile().name
    'smoke'
    """
    return _active_from_env(os.environ.get(ENV_VAR))
