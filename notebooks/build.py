"""Build and execute the walkthrough notebooks (one per job): ``python notebooks/build.py [NAME ...]``.

Each notebook is defined here as a list of cells, executed with nbclient in a scratch folder, and
written beside this file with its outputs, so the committed notebooks show real results. They use
only data medsynth makes or ships (phantoms, scikit-learn's breast cancer table), offline, on CPU.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import nbformat
from nbclient import NotebookClient

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
md, code = nbformat.v4.new_markdown_cell, nbformat.v4.new_code_cell

NOTEBOOKS: dict[str, list] = {
    "01_io_and_phantoms": [
        md("# Medical image IO and phantoms\n\nmedsynth's `Volume` keeps an image with its geometry (RAS+ affine in mm), "
           "modality and units. This walkthrough makes paired CT/MR phantoms, checks their HU per tissue, and "
           "round-trips a CT through a synthetic-safe DICOM series."),
        code("import numpy as np\nfrom pathlib import Path\n"
             "from medsynth.io import read_dicom_series, write_dicom_series\n"
             "from medsynth.io.phantoms import make_phantom, PhantomConfig, TISSUES, CT_HU\n"
             "ph = make_phantom(0, PhantomConfig(shape=(48, 48, 48)))\nph.ct, ph.mr"),
        md("Mean HU per tissue (voxels one step inside each tissue) against the documented table. The thin fat "
           "layer reads a little low: partial-volume blur mixes it with air at the skin."),
        code("from scipy.ndimage import binary_erosion\nfor i, t in enumerate(TISSUES):\n"
             "    core = binary_erosion(ph.labels.array == i, iterations=1)\n    if core.any():\n"
             "        print(f'{t:12s} measured {ph.ct.array[core].mean():7.1f} HU   documented {CT_HU[t][0]:7.1f}')"),
        code("import matplotlib.pyplot as plt\nfig, ax = plt.subplots(1, 3, figsize=(9, 3))\nk = 24\n"
             "for a, (img, title, kw) in zip(ax, [(ph.labels.array, 'labels', {}), (ph.ct.array, 'CT (HU)', dict(vmin=-200, vmax=300)), (ph.mr.array, 'MR T1', {})]):\n"
             "    a.imshow(img[:, :, k].T, cmap='gray', origin='lower', **kw); a.set_title(title); a.axis('off')\nplt.show()"),
        md("A synthetic-safe DICOM series: new UIDs, no names/IDs/dates, `SyntheticData=YES`. Reading it back gives "
           "the same HU and geometry."),
        code("files = write_dicom_series(ph.ct, Path('series'))\nback = read_dicom_series('series')\n"
             "print(len(files), 'slices; max HU error', float(np.abs(back.array - np.rint(ph.ct.array)).max()),\n"
             "      '; max affine error', float(np.abs(back.affine - ph.ct.affine).max()))\n"
             "import pydicom\nds = pydicom.dcmread(files[0])\nprint(ds.PatientName, ds.PatientID, ds.SyntheticData, list(ds.ImageType))"),
    ],
    "02_private_ehr": [
        md("# Private synthetic EHR with DP-MST\n\nA hospital table (here scikit-learn's Wisconsin breast cancer "
           "table: 569 patients, 30 measurements, diagnosis) is released as synthetic data with epsilon = 1. "
           "Every use of the real rows is charged to the budget: here the column bounds are **public** because "
           "they are printed in the dataset's own description, so the whole budget goes to the model."),
        code("from sklearn.model_selection import train_test_split\n"
             "from medsynth.tabular.example_data import clinical_table, public_schema\n"
             "df = clinical_table()\ntrain, holdout = train_test_split(df, test_size=0.3, random_state=0, stratify=df['diagnosis'])\n"
             "train.to_csv('train.csv', index=False); holdout.to_csv('holdout.csv', index=False)\n"
             "public_schema(df).save('schema.yaml')\nprint(open('schema.yaml').read()[:600])"),
        md("`medsynth schema infer` drafts a schema from a table; every domain it reads is marked `public: false` "
           "until you review it. A DP fit then either estimates those domains with DP (and says so in the ledger) or refuses."),
        code("!medsynth schema infer train.csv --out inferred.yaml\n!head -12 inferred.yaml"),
        code("!medsynth tabular fit train.csv --schema schema.yaml --model dp-mst --epsilon 1 --delta 1e-5 --out run"),
        md("The privacy ledger lists each access to the real data and the composed budget:"),
        code("import json\nledger = json.load(open('run/privacy_ledger.json'))\n"
             "print({k: ledger[k] for k in ('private', 'target_epsilon', 'total_epsilon', 'total_delta')})\n"
             "for e in ledger['entries']:\n    print('-', e['access'], '|', e['mechanism'], '| epsilon', e['epsilon'])"),
        code("!medsynth tabular sample run --n 398 --out synthetic.csv --seed 0\n"
             "import pandas as pd\nsyn = pd.read_csv('synthetic.csv')\nsyn.head()"),
        md("Train on synthetic, test on real (the holdout the generator never saw):"),
        code("from sklearn.ensemble import HistGradientBoostingClassifier\nfrom sklearn.metrics import roc_auc_score\n"
             "X = lambda d: d.drop(columns='diagnosis')\ny = lambda d: (d['diagnosis'] == 'malignant').astype(int)\n"
             "for name, src in [('real', train), ('synthetic (epsilon 1)', syn)]:\n"
             "    m = HistGradientBoostingClassifier(random_state=0).fit(X(src), y(src))\n"
             "    print(f'{name:22s} AUROC on real holdout: {roc_auc_score(y(holdout), m.predict_proba(X(holdout))[:, 1]):.3f}')"),
    ],
    "03_image_synthesis": [
        md("# Augmenting an imaging dataset with a 3D VAE\n\nTrain a class-conditional `vae3d` on CT volumes "
           "(here procedural phantoms, labelled by whether they hold a lesion), then sample new volumes as NIfTI "
           "and DICOM. Sizes are tiny so this runs on a laptop CPU in a minute; `configs/ct_vae3d_64.yaml` is the real setting."),
        code("!medsynth phantoms --n 8 --shape 16 --spacing 4 --out phantoms --seed 0\n"
             "import csv, numpy as np\nfrom pathlib import Path\nfrom medsynth.io import read_nifti\n"
             "rows = [(f.name, 'lesion' if (read_nifti(f).array == 5).any() else 'no_lesion') for f in sorted(Path('phantoms/labels').glob('*.nii.gz'))]\n"
             "with open('labels.csv', 'w', newline='') as fh:\n    w = csv.writer(fh); w.writerow(['file', 'label']); w.writerows(rows)\nrows"),
        code("!medsynth image train ../configs/ct_vae3d_64.yaml --data phantoms/ct --labels labels.csv --out run "
             "--max-steps 40 --set preprocessing.spacing=[4,4,4] --set preprocessing.spatial_size=[16,16,16] "
             "--set model.channels=[8,16] --set model.norm_num_groups=4 --set model.latent_channels=2 "
             "--set train.batch_size=4 --set train.device=cpu --set train.checkpoint_every=20"),
        code("!medsynth image sample run --n 4 --out samples --seed 0 --label lesion\n!cat samples/manifest.csv"),
        code("import matplotlib.pyplot as plt\nreal = read_nifti('phantoms/ct/case_000.nii.gz').array\n"
             "syn = [read_nifti(f).array for f in sorted(Path('samples').glob('*.nii.gz'))]\n"
             "fig, ax = plt.subplots(1, 5, figsize=(12, 2.6))\n"
             "for a, (img, t) in zip(ax, [(real, 'real')] + [(s, f'sample {i}') for i, s in enumerate(syn)]):\n"
             "    a.imshow(img[:, :, 8].T, cmap='gray', origin='lower', vmin=-1000, vmax=400); a.set_title(t); a.axis('off')\nplt.show()"),
        md("40 CPU steps give blurry bodies, not anatomy: train the 64^3 config on a GPU for real use, and check "
           "with `medsynth evaluate images` (fidelity and memorisation) before adding samples to a training set."),
    ],
    "04_mr_to_ct": [
        md("# MRI -> CT translation with CycleGAN\n\nTrain an unpaired 2D CycleGAN on MR and CT phantoms of "
           "*different* cases, translate a held-out MR to CT in Hounsfield units, and score it against that "
           "case's own CT (the phantoms are a known answer). Tiny CPU settings; `configs/mr2ct_cyclegan_*.yaml` "
           "are the real ones."),
        code("!medsynth phantoms --n 9 --shape 32 --spacing 4 --out phantoms --seed 0\n"
             "import shutil\nfrom pathlib import Path\nfor d in ('mr_train', 'ct_train'):\n    Path(d).mkdir(exist_ok=True)\n"
             "for i in range(4):\n    shutil.copy(f'phantoms/mr/case_{i:03d}.nii.gz', 'mr_train')      # MR of cases 0-3\n"
             "    shutil.copy(f'phantoms/ct/case_{i + 4:03d}.nii.gz', 'ct_train')  # CT of cases 4-7 (unpaired)"),
        code("!medsynth translate train ../configs/mr2ct_cyclegan_2d.yaml --source mr_train --target ct_train --out run "
             "--max-steps 150 --set data.patch_size=[32,32] --set generator.base_channels=8 --set generator.n_res_blocks=2 "
             "--set discriminator.channels=16 --set train.batch_size=4 --set train.device=cpu --set train.checkpoint_every=1000"),
        code("!medsynth translate apply run phantoms/mr/case_008.nii.gz --out translated"),
        code("import numpy as np\nfrom medsynth.io import read_nifti\n"
             "sct = read_nifti('translated/case_008_sct.nii.gz', modality='CT'); ref = read_nifti('phantoms/ct/case_008.nii.gz')\n"
             "labels = read_nifti('phantoms/labels/case_008.nii.gz').array\nbody = labels > 0\n"
             "print('same grid as the MR:', sct.same_grid(read_nifti('phantoms/mr/case_008.nii.gz')))\n"
             "print(f'MAE in body: {np.abs(sct.array - ref.array)[body].mean():.0f} HU')\n"
             "for i, t in enumerate(['air', 'fat', 'soft tissue', 'organ', 'bone']):\n"
             "    m = labels == i\n    print(f'  {t:12s} predicted {sct.array[m].mean():7.0f} HU   true {ref.array[m].mean():7.0f} HU')"),
        code("import matplotlib.pyplot as plt\nmr = read_nifti('phantoms/mr/case_008.nii.gz').array\n"
             "fig, ax = plt.subplots(1, 3, figsize=(9, 3))\n"
             "for a, (img, t, kw) in zip(ax, [(mr, 'MR (input)', {}), (sct.array, 'synthetic CT', dict(vmin=-200, vmax=400)), (ref.array, 'true CT', dict(vmin=-200, vmax=400))]):\n"
             "    a.imshow(img[:, :, 16].T, cmap='gray', origin='lower', **kw); a.set_title(t); a.axis('off')\nplt.show()"),
        md("150 CPU steps learn the tissue contrast inversion (fat bright on MR, dark on CT; bone the reverse) only "
           "roughly: the benchmark (`benchmarks/translation.py`) trains thousands of steps and reports its error per tissue."),
    ],
    "05_privacy_audit": [
        md("# Auditing a synthetic table before release\n\n`medsynth audit` judges synthetic data from any tool. "
           "Here two candidate releases of the breast cancer table are audited against the real training rows and "
           "a real holdout the generator never saw: a leaky one (half of it copied training rows) and a clean one "
           "(real rows from the holdout population, which cannot leak the training rows)."),
        code("import pandas as pd\nfrom sklearn.model_selection import train_test_split\n"
             "from medsynth.tabular.example_data import clinical_table\ndf = clinical_table()\n"
             "train, rest = train_test_split(df, test_size=0.5, random_state=0)\nholdout, fresh = train_test_split(rest, test_size=0.5, random_state=0)\n"
             "leaky = pd.concat([train.sample(len(fresh) // 2, random_state=1), fresh.iloc[: len(fresh) - len(fresh) // 2]])\n"
             "for name, d in [('train', train), ('holdout', holdout), ('leaky', leaky), ('clean', fresh)]:\n    d.to_csv(f'{name}.csv', index=False)\n"
             "len(train), len(holdout), len(leaky), len(fresh)"),
        code("!medsynth audit tabular --train train.csv --holdout holdout.csv --synthetic leaky.csv --out audit_leaky; echo exit code $?"),
        code("!medsynth audit tabular --train train.csv --holdout holdout.csv --synthetic clean.csv --out audit_clean; echo exit code $?"),
        code("import json\nfor name in ('leaky', 'clean'):\n    rep = json.load(open(f'audit_{name}/report.json'))\n"
             "    m = {x['name']: x for x in rep['metrics']}\n"
             "    print(f\"{name:6s} verdict={rep['verdict']:6s} dcr_share_train={m['dcr_share_train']['value']:.2f} \"\n"
             "          f\"mia_distance_auc={m['mia_distance_auc']['value']:.2f} exact_copy_share={m['exact_copy_share']['value']:.2f}\")"),
        md("`audit_*/report.html` is the page a privacy officer reads (verdicts first, then plots and tables); "
           "`report.json` is what a release pipeline gates on (the command exits 1 on fail)."),
    ],
}


def build(name: str) -> Path:
    nb = nbformat.v4.new_notebook(cells=NOTEBOOKS[name], metadata={"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}})
    with tempfile.TemporaryDirectory(prefix=f"medsynth-{name}-") as work:
        (Path(work) / "configs").symlink_to(REPO / "configs")
        run_dir = Path(work) / "nb"
        run_dir.mkdir()
        NotebookClient(nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(run_dir)}}).execute()
    dest = HERE / f"{name}.ipynb"
    nbformat.write(nb, dest)
    return dest


if __name__ == "__main__":
    for name in sys.argv[1:] or list(NOTEBOOKS):
        print("built", build(name))
