"""medsynth: synthetic medical data (imaging, translation, private EHR) and its privacy audit.

Importing the package is cheap: heavy dependencies (torch, monai, sdv, opacus) are imported by the
sub-packages that need them, so ``medsynth --help`` stays fast.
"""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__"]
