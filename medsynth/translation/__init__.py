"""MRI -> CT translation: a CycleGAN on 2D slices, 2.5D slice stacks or 3D patches, whole-volume inference.

Import the translator from :mod:`medsynth.translation.cyclegan` (it imports torch and MONAI); this
package's ``__init__`` stays light so that looking at configs does not import them.
"""

from __future__ import annotations

__all__: list[str] = []
