"""Build and execute the walkthrough notebooks (one per job): ``python notebooks/build.py [NAME ...]``.

Each notebook is defined here as a list of cells, executed with nbclient in a scratch folder, and
written beside this file with its outputs, so the committed notebooks show real results. They use
only data medsynth makes or ships (phantoms, simulated admissions, scikit-learn's breast cancer table),
offline, on CPU, and drive medsynth through its Python API (shell calls only where the CLI is the point).
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import nbformat

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
        md("# Private synthetic EHR in Python\n\nA hospital table is released as synthetic data under differential "
           "privacy (epsilon = 1), judged against real rows the model never saw, and the privacy/utility trade-off is "
           "measured across epsilon. The table is simulated admissions that medsynth makes "
           "(`admissions_table`: age, sex, admission type, diagnosis, length of stay, ICU, creatinine band, weekday, "
           "30-day readmission), so this runs offline in a couple of minutes on a CPU."),
        code("import medsynth\nimport pandas as pd\nfrom sklearn.model_selection import train_test_split\n"
             "from medsynth.tabular.example_data import admissions_table, admissions_schema\n"
             "df = admissions_table(4000, seed=0)\n"
             "train, holdout = train_test_split(df, test_size=0.3, random_state=0, stratify=df['readmitted_30d'])\n"
             "df.head()"),
        md("`infer_schema` drafts the column types and domains. Everything it reads from the rows is marked "
           "`public: false`: a DP fit pays for those decisions from the budget (or leaves a column out and says so). "
           "Here the domains are known from clinical practice (ages 18-100, stays of 1-60 days, the category lists), "
           "so `admissions_schema()` declares them public and the whole budget goes to the data."),
        code("draft = medsynth.tabular.infer_schema(train)\n"
             "pd.DataFrame([{'column': c.name, 'type': c.type, 'min': c.min, 'max': c.max, 'public': c.public} for c in draft.columns])"),
        code("model = medsynth.tabular.fit(train, model='dp-aim', epsilon=1.0, delta=1e-5, schema=admissions_schema(), out='run')\n"
             "ledger = model.privacy_ledger.to_dict()\n"
             "print('epsilon spent', round(ledger['total_epsilon'], 3), 'of', ledger['target_epsilon'], '| delta', ledger['total_delta'])\n"
             "pd.DataFrame(ledger['entries'])[['access', 'mechanism', 'epsilon']]"),
        md("Each entry's epsilon is what that access would cost on its own; the ledger composes them once (zCDP), "
           "which is why they add up to more than the total of 1. Sampling costs no privacy (it only reads the "
           "DP model); `where` fixes a category in every row."),
        code("syn = model.sample(len(train), seed=0)\nrenal = model.sample(5, where={'diagnosis': 'renal'}, seed=1)\nrenal"),
        md("The evaluation report judges fidelity, utility (train on synthetic, test on the real holdout) and privacy "
           "attacks. It renders inline; `report.metrics` is a DataFrame and `report.save('report')` writes the "
           "HTML + JSON a pipeline gates on."),
        code("report = medsynth.evaluate_tabular(train, holdout, syn, target='readmitted_30d',\n"
             "                                   config={'tabular': {'max_holdout_overlap': 0.05}})  # discrete rows repeat naturally\n"
             "report.save('report')\nreport"),
        code("report.metrics.loc[['marginal_distance_mean', 'detection_auc', 'utility_tstr_auroc', 'utility_trtr_auroc',\n"
             "                    'dcr_share_train', 'mia_distance_auc'], ['value', 'baseline', 'verdict']]"),
        md("## The trade-off across epsilon\n\nThe same fit at several budgets: utility of a classifier trained "
           "on the synthetic rows (AUROC on the real holdout) against the real-data ceiling, and how easily a "
           "classifier tells synthetic rows from real ones."),
        code("rows = []\nfor eps in [0.1, 0.3, 1.0, 3.0, 10.0]:\n"
             "    m = medsynth.tabular.fit(train, model='dp-aim', epsilon=eps, schema=admissions_schema())\n"
             "    r = medsynth.evaluate_tabular(train, holdout, m.sample(len(train), seed=0), target='readmitted_30d',\n"
             "                                  config={'metrics': ['utility', 'detection', 'marginals'], 'tabular': {'max_holdout_overlap': 0.05}})\n"
             "    v = r.metrics['value']\n"
             "    rows.append({'epsilon': eps, 'tstr_auroc': v['utility_tstr_auroc'], 'trtr_auroc': v['utility_trtr_auroc'],\n"
             "                 'detection_auc': v['detection_auc'], 'marginal_distance': v['marginal_distance_mean'], 'verdict': r.verdict})\n"
             "tradeoff = pd.DataFrame(rows)\ntradeoff"),
        code("import matplotlib.pyplot as plt\nfig, ax = plt.subplots(1, 2, figsize=(10, 3.4))\n"
             "ax[0].semilogx(tradeoff.epsilon, tradeoff.tstr_auroc, 'o-', label='trained on synthetic')\n"
             "ax[0].axhline(tradeoff.trtr_auroc.iloc[0], ls='--', c='k', label='trained on real')\n"
             "ax[0].set(xlabel='epsilon', ylabel='AUROC on real holdout', title='Utility'); ax[0].legend()\n"
             "ax[1].semilogx(tradeoff.epsilon, tradeoff.detection_auc, 'o-', c='C3')\n"
             "ax[1].axhline(0.5, ls='--', c='k'); ax[1].set(xlabel='epsilon', ylabel='AUC', title='Real vs synthetic detection')\n"
             "plt.tight_layout(); plt.show()"),
        md("`medsynth.tabular.export('run', 'release')` copies only what the guarantee covers (the synthetic-data model, "
           "its ledger and model card) to a release folder; `run/private/` never leaves. The hard case, 31 correlated "
           "measurements of 398 patients at epsilon 1, is in `medsynth demo`: there the report says FAIL and why."),
        code("sorted(medsynth.tabular.export('run', 'release'))"),
    ],
    "03_image_synthesis": [
        md("# Augmenting an imaging dataset with a 3D VAE\n\nTrain a class-conditional `vae3d` on CT volumes "
           "(here procedural phantoms, labelled by whether they hold a lesion), then sample new volumes as NIfTI "
           "and DICOM. Sizes are tiny so this runs on a laptop CPU in a minute; `configs/ct_vae3d_64.yaml` is the real setting."),
        code("import csv\nfrom pathlib import Path\nimport medsynth.image as mi\nfrom medsynth.io import read_volume\n"
             "from medsynth.io.phantoms import PhantomConfig, write_phantoms\n"
             "write_phantoms('phantoms', 8, seed=0, config=PhantomConfig(shape=(16, 16, 16), spacing=(4.0, 4.0, 4.0)), overwrite=True)\n"
             "rows = [(f.name, 'lesion' if (read_volume(f).array == 5).any() else 'no_lesion') for f in sorted(Path('phantoms/labels').glob('*.nii.gz'))]\n"
             "with open('labels.csv', 'w', newline='') as fh:\n    w = csv.writer(fh); w.writerow(['file', 'label']); w.writerows(rows)\nrows"),
        code("model = mi.train('../configs/ct_vae3d_64.yaml', 'phantoms/ct', 'run', labels='labels.csv', max_steps=40, device='cpu',\n"
             "                 overrides={'preprocessing.spacing': [4, 4, 4], 'preprocessing.spatial_size': [16, 16, 16],\n"
             "                            'model.channels': [8, 16], 'model.norm_num_groups': 4, 'model.latent_channels': 2,\n"
             "                            'train.batch_size': 4, 'train.checkpoint_every': 20})\nmodel"),
        code("model = mi.load('run')  # any image run: vae3d, gan3d or ldm3d\nsamples = model.sample(4, label='lesion', seed=0)\n"
             "mi.write_volumes(samples, 'samples')  # NIfTI + manifest.csv (format='dicom' for DICOM series)\n"
             "samples[0]"),
        code("import matplotlib.pyplot as plt\nreal = read_volume('phantoms/ct/case_000.nii.gz').array\n"
             "fig, ax = plt.subplots(1, 5, figsize=(12, 2.6))\n"
             "for a, (img, t) in zip(ax, [(real, 'real')] + [(s.array, f'sample {i}') for i, s in enumerate(samples)]):\n"
             "    a.imshow(img[:, :, 8].T, cmap='gray', origin='lower', vmin=-1000, vmax=400); a.set_title(t); a.axis('off')\nplt.show()"),
        md("40 CPU steps give blurry bodies, not anatomy: train the 64^3 config on a GPU for real use, and check "
           "with `medsynth evaluate images` (fidelity and memorisation) before adding samples to a training set."),
    ],
    "04_mr_to_ct": [
        md("# MRI -> CT translation with CycleGAN\n\nTrain an unpaired 2D CycleGAN on MR and CT phantoms of "
           "*different* cases, translate a held-out MR to CT in Hounsfield units, and score it against that "
           "case's own CT (the phantoms are a known answer). Tiny CPU settings; `configs/mr2ct_cyclegan_*.yaml` "
           "are the real ones. `medsynth translate train/apply` on the command line call the same functions."),
        code("import numpy as np\nimport medsynth\nimport medsynth.translate as mt\nfrom medsynth.io import load_volume\n"
             "from medsynth.io.phantoms import PhantomConfig, write_phantoms\n"
             "write_phantoms('phantoms', 9, seed=0, config=PhantomConfig(shape=(32, 32, 32), spacing=(4.0, 4.0, 4.0)))\n"
             "mr_train = [f'phantoms/mr/case_{i:03d}.nii.gz' for i in range(4)]      # MR of cases 0-3\n"
             "ct_train = [f'phantoms/ct/case_{i + 4:03d}.nii.gz' for i in range(4)]  # CT of cases 4-7 (unpaired)"),
        code("tr = mt.train('../configs/mr2ct_cyclegan_2d.yaml', mr_train, ct_train, 'run', max_steps=150, device='cpu', seed=0,\n"
             "              overrides={'data.patch_size': [32, 32], 'generator': {'base_channels': 8, 'n_res_blocks': 2},\n"
             "                         'discriminator.channels': 16, 'train.batch_size': 4, 'train.checkpoint_every': 1000})\n"
             "tr"),
        code("mr = load_volume('phantoms/mr/case_008.nii.gz')                  # held out: never seen as MR or CT\n"
             "sct, spread = mt.load('run').apply(mr, uncertainty=True)         # HU on the MR's grid, + spread (SD, HU)\n"
             "ref = load_volume('phantoms/ct/case_008.nii.gz')\nlabels = load_volume('phantoms/labels/case_008.nii.gz', modality='SEG').array\n"
             "print('same grid as the MR:', sct.same_grid(mr))\n"
             "print(f'MAE in body: {np.abs(sct.array - ref.array)[labels > 0].mean():.0f} HU')\n"
             "for i, t in enumerate(['air', 'fat', 'soft tissue', 'organ', 'bone']):\n"
             "    m = labels == i\n    print(f'  {t:12s} predicted {sct.array[m].mean():7.0f} HU   true {ref.array[m].mean():7.0f} HU')"),
        code("import matplotlib.pyplot as plt\n"
             "fig, ax = plt.subplots(1, 4, figsize=(12, 3))\n"
             "panels = [(mr.array, 'MR (input)', {}), (sct.array, 'synthetic CT', dict(vmin=-200, vmax=400)),\n"
             "          (ref.array, 'true CT', dict(vmin=-200, vmax=400)), (spread.array, 'spread (SD, HU)', dict(cmap='viridis'))]\n"
             "for a, (img, t, kw) in zip(ax, panels):\n"
             "    a.imshow(img[:, :, 16].T, origin='lower', **{'cmap': 'gray', **kw}); a.set_title(t); a.axis('off')\nplt.show()"),
        md("A folder of MRs (NIfTI files or DICOM series) goes through `apply_files`; `evaluate_translation` pairs "
           "each `<name>_sct` with the reference CT `<name>` and returns a report that renders here."),
        code("tr.apply_files(['phantoms/mr/case_008.nii.gz'], 'translated')\n"
             "report = medsynth.evaluate_translation('translated', 'phantoms/ct', labels='phantoms/labels')\nreport"),
        md("150 CPU steps learn the tissue contrast inversion (fat bright on MR, dark on CT; bone the reverse) only "
           "roughly (bone far too dark), and the report's verdict says the sCT is not fit for use. The benchmark "
           "(`benchmarks/translation.py`) trains thousands of steps and reports its error per tissue; the spread map "
           "shows where the model is least sure."),
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
        md("The same audit from Python: `mode='audit'` runs the privacy section alone; the report renders inline "
           "and `report.metrics` is a DataFrame."),
        code("import medsynth\nreports = {name: medsynth.evaluate_tabular('train.csv', 'holdout.csv', f'{name}.csv', mode='audit')\n"
             "           for name in ('leaky', 'clean')}\n"
             "pd.DataFrame({name: r.metrics['value'] for name, r in reports.items()}).loc[\n"
             "    ['dcr_share_train', 'exact_copy_share', 'mia_distance_auc', 'mia_domias_auc']].round(3)"),
        code("reports['leaky']"),
        md("`audit_*/report.html` is the page a privacy officer reads (verdicts first, then plots and tables); "
           "`report.json` is what a release pipeline gates on (the command exits 1 on fail)."),
    ],
}


def build(name: str) -> Path:
    from nbclient import NotebookClient  # only to execute: the tests read the cells without it

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
