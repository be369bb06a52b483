"""The medsynth error hierarchy.

Every error a user can cause is a :class:`MedsynthError`. The CLI prints its message (one clear
paragraph: what was wrong, what was expected, how to fix it) and exits with code 2; ``--debug`` shows
the traceback. Never use ``assert`` for user input.
"""

from __future__ import annotations

from collections.abc import Iterable


class MedsynthError(Exception):
    """Base class of every error medsynth raises on purpose."""


class ConfigError(MedsynthError, ValueError):
    """A configuration value or file is invalid (unknown key, wrong type, out of range)."""


class DataValidationError(MedsynthError, ValueError):
    """Input data is invalid. Carries *every* problem found, not only the first.

    Args:
        problems: one human-readable sentence per problem.
        context: what was being validated (e.g. a file name), put before the list.
    """

    def __init__(self, problems: Iterable[str] | str, context: str | None = None) -> None:
        self.problems: list[str] = [problems] if isinstance(problems, str) else list(problems)
        self.context = context
        super().__init__(self._format())

    def _format(self) -> str:
        head = f"{self.context}: " if self.context else ""
        if len(self.problems) == 1:
            return head + self.problems[0]
        items = "\n".join(f"  - {p}" for p in self.problems)
        return f"{head}{len(self.problems)} problems found:\n{items}"


class NotFittedError(MedsynthError, RuntimeError):
    """A model was used (sample, translate, save) before ``fit`` or ``load``."""


class PrivacyBudgetError(MedsynthError, ValueError):
    """A privacy budget is invalid, or an operation would spend more than the budget allows."""


class RunDirectoryError(MedsynthError):
    """A run directory cannot be created, resumed or read (exists already, not a run, corrupt)."""


class OutputPathError(MedsynthError):
    """An output path cannot be created or written (its parent is a file, read-only, or does not accept files)."""


class ImageReadError(DataValidationError):
    """An image file or DICOM series cannot be read (truncated, not an image, unsupported)."""


class MixedSeriesError(DataValidationError):
    """A DICOM folder holds more than one series and none was chosen."""


class SliceGeometryError(DataValidationError):
    """DICOM slices do not form one regular volume (gap, duplicate, varying orientation/spacing)."""


class UnsupportedTransferSyntaxError(ImageReadError):
    """DICOM pixel data uses a compressed transfer syntax that no installed decoder handles."""


class ReleaseWarning(UserWarning):
    """A DP fit could not release part of the table at its budget (columns left empty or with one value)."""


class DataWarning(UserWarning):
    """Input data a job accepted but partly lost on the way (e.g. label maps whose structures the training grid cuts off)."""


__all__ = [
    "ConfigError",
    "DataWarning",
    "DataValidationError",
    "ImageReadError",
    "MedsynthError",
    "MixedSeriesError",
    "NotFittedError",
    "OutputPathError",
    "PrivacyBudgetError",
    "ReleaseWarning",
    "RunDirectoryError",
    "SliceGeometryError",
    "UnsupportedTransferSyntaxError",
]
