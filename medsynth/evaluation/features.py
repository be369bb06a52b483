"""3D feature network for Frechet / KID / MMD distances between sets of volumes. Nothing is downloaded.

* Default: **random features**. A MONAI ResNet-10 (3D, one input channel, MedicalNet layout:
  7x7x7 stem with stride 2, shortcut "B") initialised with ``torch.manual_seed(feature_seed)`` and
  never trained, in eval mode; the 512 global-average-pooled activations are the features. Random
  convolutional features are a known, weaker substitute for a trained network: distances rank sets
  consistently but their absolute values are not comparable with published FID/KID numbers, nor
  across medsynth versions whose weights fingerprint differs. The report states this and the
  weights' fingerprint.
* With ``weights`` (a local ``.pth`` such as MedicalNet's ``resnet_10.pth``): the same architecture
  loaded from that file (``torch.load(weights_only=True)``; a ``module.`` prefix is stripped and the
  segmentation head ignored). Keys that do not fit are an error listing them.

Volumes (already in [-1, 1] on one grid) are resized to ``feature_size`` cubed before the network,
and the features are standardised by the real (train + holdout) per-feature mean and standard
deviation before any distance (random features have arbitrary scales); constant units are dropped.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from medsynth.core.errors import ConfigError
from medsynth.core.files import fingerprint_array


def build_network(weights: str | Path | None = None, seed: int = 0) -> tuple[Any, dict[str, str]]:
    """The feature network and a description of it (kind, weights source, fingerprint)."""
    import torch
    from monai.networks.nets import resnet10

    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        net = resnet10(spatial_dims=3, n_input_channels=1, feed_forward=False, conv1_t_size=7, conv1_t_stride=2,
                       shortcut_type="B", bias_downsample=False)
    if weights is None:
        kind = f"random features: MONAI ResNet-10 3D, seeded initialisation (seed {seed}), untrained"
    else:
        p = Path(weights)
        if not p.is_file():
            raise ConfigError(f"feature weights '{p}' do not exist; give a local .pth file (e.g. MedicalNet resnet_10.pth) or leave them out")
        try:
            raw = torch.load(p, map_location="cpu", weights_only=True)
        except (RuntimeError, OSError, ValueError) as exc:
            raise ConfigError(f"feature weights '{p}' cannot be loaded as a state dict ({type(exc).__name__}: {exc})") from None
        state = raw.get("state_dict", raw) if isinstance(raw, dict) else None
        if not isinstance(state, dict):
            raise ConfigError(f"feature weights '{p}' hold a {type(raw).__name__}, not a state dict")
        state = {k.removeprefix("module."): v for k, v in state.items() if not k.removeprefix("module.").startswith(("conv_seg", "fc."))}
        own = net.state_dict()
        missing = [k for k in own if k not in state and not k.endswith("num_batches_tracked")]
        unexpected = [k for k in state if k not in own]
        wrong = [k for k in state if k in own and tuple(state[k].shape) != tuple(own[k].shape)]
        if missing or unexpected or wrong:
            raise ConfigError(
                f"feature weights '{p}' do not fit a 3D ResNet-10 (MedicalNet layout): missing {missing[:5]}, "
                f"unexpected {unexpected[:5]}, wrong shape {wrong[:5]}; use MedicalNet's resnet_10.pth or its layout"
            )
        net.load_state_dict(state, strict=False)
        kind = f"pretrained: MONAI ResNet-10 3D with local weights '{p.name}'"
    net.eval()
    flat = np.concatenate([v.detach().cpu().numpy().ravel() for v in net.state_dict().values() if v.dtype.is_floating_point])
    return net, {"network": kind, "weights_fingerprint": fingerprint_array(flat.astype(np.float32))}


def extract(net: Any, arrays: np.ndarray, size: int, *, batch: int = 4) -> np.ndarray:
    """(n, 512) features of (n, i, j, k) volumes in [-1, 1]."""
    import torch
    import torch.nn.functional as F

    out = []
    with torch.no_grad():
        for s in range(0, len(arrays), batch):
            x = torch.from_numpy(np.ascontiguousarray(arrays[s : s + batch], dtype=np.float32))[:, None]
            x = F.interpolate(x, size=(size, size, size), mode="trilinear", align_corners=False)
            out.append(net(x).cpu().numpy().astype(np.float64))
    return np.concatenate(out)


def frechet_distance(a: np.ndarray, b: np.ndarray) -> float:
    """Frechet distance between Gaussians fitted to two feature sets (FID's formula)."""
    from scipy import linalg

    mu1, mu2 = a.mean(0), b.mean(0)
    s1 = np.cov(a, rowvar=False) if len(a) > 1 else np.zeros((a.shape[1], a.shape[1]))
    s2 = np.cov(b, rowvar=False) if len(b) > 1 else np.zeros((b.shape[1], b.shape[1]))
    eps = np.eye(len(s1)) * 1e-6  # few volumes give singular covariances: regularise slightly
    covmean = np.real(linalg.sqrtm((s1 + eps) @ (s2 + eps)))
    return float(max(np.sum((mu1 - mu2) ** 2) + np.trace(s1) + np.trace(s2) - 2 * np.trace(covmean), 0.0))


def kid(a: np.ndarray, b: np.ndarray) -> float:
    """Kernel Inception Distance: unbiased MMD^2 with the cubic polynomial kernel (x.y/d + 1)^3."""
    d = a.shape[1]

    def k(x: np.ndarray, y: np.ndarray) -> np.ndarray:
        return (x @ y.T / d + 1.0) ** 3

    return _mmd2_unbiased(k(a, a), k(b, b), k(a, b))


def mmd_rbf(a: np.ndarray, b: np.ndarray) -> float:
    """Unbiased MMD^2 with a Gaussian kernel (bandwidth: median pairwise distance of the pooled set)."""
    z = np.vstack([a, b])
    sq = np.sum(z * z, 1)
    d2 = np.maximum(sq[:, None] + sq[None, :] - 2 * z @ z.T, 0)
    med = np.median(d2[np.triu_indices(len(z), 1)]) if len(z) > 1 else 1.0
    K = np.exp(-d2 / max(med, 1e-12))
    n = len(a)
    return _mmd2_unbiased(K[:n, :n], K[n:, n:], K[:n, n:])


def _mmd2_unbiased(kxx: np.ndarray, kyy: np.ndarray, kxy: np.ndarray) -> float:
    m, n = len(kxx), len(kyy)
    if m < 2 or n < 2:
        return float("nan")
    xx = (kxx.sum() - np.trace(kxx)) / (m * (m - 1))
    yy = (kyy.sum() - np.trace(kyy)) / (n * (n - 1))
    return float(xx + yy - 2 * kxy.mean())


__all__ = ["build_network", "extract", "frechet_distance", "kid", "mmd_rbf"]
