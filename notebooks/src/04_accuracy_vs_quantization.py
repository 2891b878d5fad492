# %% [markdown]
# # Accuracy vs quantization
#
# Smaller model files (fp16, int8) download faster to the browser and int8 runs faster, but
# they may cut out worse. This notebook measures how much, on a dataset with hand-made masks:
# for each variant of IS-Net, its size, its latency in the kernel, its IoU and MAE against the
# ground truth (`gt_*`) and against the first variant's masks (`ref_*`). The Pareto front marks
# the variants that no other variant beats on both size and accuracy.
#
# By default it runs a small subset so that it finishes in minutes on a laptop: 4 images of
# `sod_bsds300` and 3 variants with a 512x512 input. Set `FULL_RUN = True` for the real
# benchmark (both datasets, seven variants, two thread counts: about an hour on 2 cores).
# The datasets live under `segmentation.config.datasets_dir()` (environment variable
# `PIXEL_LIBERATION_DATASETS`); they are not part of the package.

# %% tags=["parameters"]
FULL_RUN = False

# %%
%matplotlib inline
import matplotlib.pyplot as plt
import numpy as np

from segmentation.evaluation.runner import Entry, PythonRuntime, run_benchmark
from segmentation.models.registry import default_registry
from segmentation.evaluation.datasets import load_dataset
from segmentation.evaluation.plots import pareto_front, plot_tradeoff
from segmentation.evaluation.variants import build_variant

if FULL_RUN:
    VARIANTS = ["fp32", "fp16", "int8-dynamic", "int8-calibrated", "int8-weight",
                "fp32@512", "int8-calibrated@512"]
    sod = load_dataset("sod_bsds300")
    DATASETS = [
        sod.subset(limit=len(sod) - 8),  # the last 8 images calibrate int8-calibrated
        load_dataset("icm58_objects", max_side=1024),
    ]
    RUNTIMES, REPEATS = [PythonRuntime(2), PythonRuntime(1)], 3
else:
    VARIANTS = ["fp32@512", "fp16@512", "int8-dynamic@512"]
    DATASETS = [load_dataset("sod_bsds300", limit=4)]
    RUNTIMES, REPEATS = [PythonRuntime(2)], 1
print(f"{len(VARIANTS)} variants x {sum(len(d) for d in DATASETS)} images x {len(RUNTIMES)} runtimes")

# %% [markdown]
# ## Build the variants
#
# Each variant is made once from the fp32 model and cached with its recipe (see
# `segmentation.evaluation.variants`): later runs reuse the files.

# %% tags=["nbval-ignore-output"]
base = default_registry().get("isnet-general-use", "fp32")
built = [build_variant(base, name) for name in VARIANTS]
for v in built:
    print(f"{v.name:>22}: {v.size_bytes / 1e6:6.1f} MB  {v.path.name}")

# %% [markdown]
# ## Run the benchmark
#
# Latency is the median over the images of the time to run the wrapped model (resize,
# normalise, infer, resize back) in this kernel; it depends on the machine, so that table is
# not compared by the notebook tests. Accuracy does not depend on the machine.

# %% tags=["nbval-ignore-output"]
entries = [Entry(v.name, v.spec, v.size_bytes) for v in built]
result = run_benchmark(
    entries, DATASETS, RUNTIMES, repeats=REPEATS, saliency=FULL_RUN, keep_masks=True
)
table = result.dataframe()
table[["variant", "runtime", "dataset", "load_s", "latency_median_s"]].round(2)

# %%
accuracy = table[table.runtime == RUNTIMES[0].name].set_index(["dataset", "variant"])
accuracy = accuracy[["n", "size_mb", "gt_iou", "gt_mae", "ref_iou", "ref_mae"]]
accuracy.round({"size_mb": 0, "gt_iou": 2, "gt_mae": 2, "ref_iou": 2, "ref_mae": 3})

# %% [markdown]
# ## Trade-offs
#
# Accuracy against file size (what the browser downloads) and against latency. The dashed
# line is the Pareto front.

# %%
for x in ("size_mb", "latency_median_s"):
    fig = plot_tradeoff(result.summary, x, "gt_iou", runtime=RUNTIMES[0].name)
    fig.set_dpi(55)
    display(fig)

# %%
for ds in DATASETS:
    rows = accuracy.loc[ds.name]
    front = pareto_front(rows["size_mb"].tolist(), rows["gt_iou"].round(2).tolist())
    print(f"{ds.name}: Pareto front by size -> {', '.join(rows.index[i] for i in front)}")

# %% [markdown]
# ## Where the smallest variant does worst
#
# Ground truth and every variant's mask on the image where the smallest variant scores the
# lowest IoU (masks only: the datasets' photos are not ours to redistribute).

# %%
smallest = min(built, key=lambda v: v.size_bytes).name
per_image = result.dataframe(per_image=True)
mine = per_image[(per_image.variant == smallest) & (per_image.runtime == RUNTIMES[0].name)]
worst = mine.sort_values("gt_iou").iloc[0]
sample = next(s for d in DATASETS if d.name == worst.dataset for s in d if s.stem == worst.stem)
masks = {v.name: result.masks[(v.name, worst.dataset, worst.stem)] for v in built}
panels = {"ground truth": sample.mask(masks[smallest].shape), **masks}
fig, axes = plt.subplots(1, len(panels), figsize=(2.4 * len(panels), 2.4), dpi=50)
for ax, (title, m) in zip(axes, panels.items()):
    ax.imshow(m, cmap="gray")
    ax.set_title(title, fontsize=9)
    ax.axis("off")
fig.suptitle(f"{worst.dataset}/{worst.stem}")
plt.show()

# %% [markdown]
# ## Check
#
# Numbers that must hold whatever the machine: smaller formats are smaller, fp16 agrees with
# fp32 almost exactly, dynamic int8 moves further from fp32 (IoU about 0.89 here) but loses
# little against the ground truth, and every variant stays useful. A broken model, pipeline
# or quantizer fails here.

# %%
first = accuracy.loc[DATASETS[0].name]
sizes = first["size_mb"]
print(f"sizes (MB): {sizes.round(0).to_dict()}")
print(f"IoU vs ground truth: {first['gt_iou'].round(2).to_dict()}")
if not FULL_RUN:
    assert sizes["int8-dynamic@512"] < sizes["fp16@512"] < sizes["fp32@512"]
    assert first.loc["fp16@512", "ref_iou"] >= 0.99, first
    assert first.loc["int8-dynamic@512", "ref_iou"] >= 0.80, first
    assert first.loc["int8-dynamic@512", "gt_iou"] >= first.loc["fp32@512", "gt_iou"] - 0.05
assert (first["gt_iou"] >= 0.6).all(), first["gt_iou"]
assert np.isclose(first["ref_iou"].max(), 1.0)
