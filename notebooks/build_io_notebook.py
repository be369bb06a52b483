"""Build and execute notebooks/01_io_and_phantoms.ipynb (run: python notebooks/build_io_notebook.py)."""

from __future__ import annotations

from pathlib import Path

import nbformat
from nbclient import NotebookClient

HERE = Path(__file__).parent
cells = [
    nbformat.v4.new_markdown_cell(
        "# Medical image IO and phantoms\n\n"
        "medsynth's `Volume` keeps an image with its geometry (RAS+ affine in mm), modality and units. "
        "This walkthrough makes paired CT/MR phantoms, checks their HU per tissue, and round-trips a CT "
        "through a synthetic-safe DICOM series."
    ),
    nbformat.v4.new_code_cell(
        "import tempfile, numpy as np\n"
        "from pathlib import Path\n"
        "from medsynth.io import read_dicom_series, write_dicom_series, write_nifti, read_nifti\n"
        "from medsynth.io.phantoms import make_phantom, PhantomConfig, TISSUES, CT_HU\n"
        "ph = make_phantom(0, PhantomConfig(shape=(48, 48, 48)))\n"
        "ph.ct, ph.mr"
    ),
    nbformat.v4.new_markdown_cell("Mean HU per tissue (voxels one step inside each tissue) against the documented table. The thin fat layer reads a little low: partial-volume blur mixes it with air at the skin."),
    nbformat.v4.new_code_cell(
        "from scipy.ndimage import binary_erosion\n"
        "for i, t in enumerate(TISSUES):\n"
        "    core = binary_erosion(ph.labels.array == i, iterations=1)\n"
        "    if core.any():\n"
        "        print(f'{t:12s} measured {ph.ct.array[core].mean():7.1f} HU   documented {CT_HU[t][0]:7.1f}')"
    ),
    nbformat.v4.new_code_cell(
        "import matplotlib.pyplot as plt\n"
        "fig, ax = plt.subplots(1, 3, figsize=(9, 3))\n"
        "k = 24\n"
        "for a, (img, title, kw) in zip(ax, [(ph.labels.array, 'labels', {}), (ph.ct.array, 'CT (HU)', dict(vmin=-200, vmax=300)), (ph.mr.array, 'MR T1', {})]):\n"
        "    a.imshow(img[:, :, k].T, cmap='gray', origin='lower', **kw); a.set_title(title); a.axis('off')\n"
        "plt.show()"
    ),
    nbformat.v4.new_markdown_cell(
        "A synthetic-safe DICOM series: new UIDs, no names/IDs/dates, `SyntheticData=YES`. "
        "Reading it back gives the same HU and geometry."
    ),
    nbformat.v4.new_code_cell(
        "out = Path(tempfile.mkdtemp())\n"
        "files = write_dicom_series(ph.ct, out / 'series')\n"
        "back = read_dicom_series(out / 'series')\n"
        "print(len(files), 'slices; max HU error', float(np.abs(back.array - np.rint(ph.ct.array)).max()),\n"
        "      '; max affine error', float(np.abs(back.affine - ph.ct.affine).max()))\n"
        "import pydicom\n"
        "ds = pydicom.dcmread(files[0])\n"
        "print(ds.PatientName, ds.PatientID, ds.SyntheticData, list(ds.ImageType))"
    ),
]
nb = nbformat.v4.new_notebook(cells=cells, metadata={"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}})
NotebookClient(nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(HERE)}}).execute()
nbformat.write(nb, HERE / "01_io_and_phantoms.ipynb")
print("wrote", HERE / "01_io_and_phantoms.ipynb")
