# %% [markdown]
# # Bring your own model
#
# Any ONNX model that maps an image to a foreground map can run in the widget (browser) and
# in the kernel, once you say how to feed it: a `ModelSpec` gives the input size, channel
# order, scaling, mean and std, and how to turn the output into a mask. Those steps are put
# *inside* the ONNX graph, so the browser and the kernel do exactly the same thing.
#
# To stay offline this notebook makes a file that is not in the catalog: the IS-Net weights
# re-exported for a 512x512 input in fp16 (a quarter of the default's compute). Put the path
# of your own file in `my_file` instead.

# %%
import shutil
import tempfile
from dataclasses import replace
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from matplotlib import cbook

from segmentation import ModelSpec, Registry, default_registry
from segmentation.evaluation.runner import Entry, PythonRuntime, run_benchmark
from segmentation.evaluation.datasets import load_dataset
from segmentation.evaluation.metrics import iou
from segmentation.session import Segmenter
from segmentation.evaluation.variants import build_variant
from widget import BackgroundRemover

workdir = Path(tempfile.mkdtemp(prefix="byom-"))
made = build_variant(default_registry().get("isnet-general-use", "fp16"), "fp16@512")
my_file = workdir / "my-isnet-512.onnx"
shutil.copyfile(made.path, my_file)
print(f"{my_file.name}: {my_file.stat().st_size / 1e6:.0f} MB")

# %% [markdown]
# ## Describe it
#
# Empty `input_name` / `output_name` mean the graph's first input and output. IS-Net wants RGB
# scaled to 0..1, minus 0.5, divided by 1, and its output is rescaled to 0..1 per image
# (`normalization="minmax"`). `register_file` reads the graph now, so a wrong path or tensor
# name fails here and not in the browser.

# %%
spec = ModelSpec(
    name="my-isnet",
    precision="fp16-512",
    sources=(),
    input_name="",
    output_name="",
    input_size=(512, 512),
    channel_order="RGB",
    scale=1 / 255,
    mean=(0.5, 0.5, 0.5),
    std=(1.0, 1.0, 1.0),
    activation="none",
    normalization="minmax",
    license="Apache-2.0",
    description="IS-Net at 512x512, my export",
)
registry = Registry()
spec = registry.register_file(my_file, spec)
print(f"{spec.key}: input {spec.input_name!r}, output {spec.output_name!r}")

# %% [markdown]
# Mistakes are named:

# %%
for path, bad in [(my_file, replace(spec, input_name="image")), (workdir / "nope.onnx", spec)]:
    try:
        registry.register_file(path, bad)
    except Exception as exc:
        print(f"{type(exc).__name__}: {exc}".replace(str(workdir), "<workdir>"))

# %% [markdown]
# ## Run it in the browser
#
# Give the spec (and its registry) to the widget. The browser receives your wrapped model
# and runs it; the kernel twin runs the same file.

# %%
photo = cbook.get_sample_data("grace_hopper.jpg", asfileobj=False)
w = BackgroundRemover(photo, model=spec, registry=registry)
w

# %% [markdown]
# ## Parity
#
# `w.wait(browser=True)` waits for the browser's own mask (the kernel's may have been shown
# first); the cell then compares the two. Without a browser (`nbconvert`, `nbval`) the kernel
# twin gives the mask and the cell says so.

# %%
w.wait(timeout=600, browser=True)
if w.browser_mask is not None:
    cmp = w.compare()
    print({k: round(v, 4) if isinstance(v, float) else v for k, v in cmp.items()})
    assert cmp["pixels_match"] and cmp["iou"] >= 0.999 and cmp["mae"] <= 0.002, cmp
mine = w.mask
reason = f" ({w.fallback_reason})" if w.fallback_reason else ""
print(f"mask computed by the {w.backend_used}{reason}")

# %% [markdown]
# Your model against the catalog's default (IS-Net at 1024x1024) on the same photo: a quick
# check that the export and the spec are right before benchmarking.

# %%
reference = Segmenter().mask(photo)
agreement = iou(mine, reference)
print(f"IoU with the catalog model: {agreement:.2f}")
assert agreement >= 0.95, agreement
fig, axes = plt.subplots(1, 3, figsize=(7.5, 3), dpi=50)
for ax, im, title in zip(axes, [w.cutout(), reference, mine], ["cutout", "catalog", "mine"]):
    ax.imshow(im, cmap="gray")
    ax.set_title(title)
    ax.axis("off")
plt.show()

# %% [markdown]
# ## Benchmark it
#
# `run_benchmark` runs models on a dataset with ground truth (here the first images of
# `sod_bsds300`, found under `segmentation.config.datasets_dir()`). Next to your spec runs the
# same file with a classic mistake, ImageNet's mean and std: the accuracy columns show what a
# wrong spec costs. `ref_*` columns compare with the first entry.

# %%
LIMIT = 4
wrong = replace(spec, precision="imagenet-norm", mean=(0.485, 0.456, 0.406),
                std=(0.229, 0.224, 0.225))
size = my_file.stat().st_size
entries = [Entry("my spec", spec, size), Entry("ImageNet mean/std", wrong, size)]
dataset = load_dataset("sod_bsds300", limit=LIMIT)
result = run_benchmark(entries, [dataset], [PythonRuntime(2)], saliency=False, progress=False)
table = result.dataframe().set_index("variant")
accuracy = table[["n", "gt_iou", "gt_mae", "ref_iou"]]
accuracy.round(2)

# %% tags=["nbval-ignore-output"]
table[["size_mb", "load_s", "latency_median_s"]].round(2)

# %% [markdown]
# ## Check
#
# The right spec must be clearly better than the wrong one against the ground truth.

# %%
good, bad = accuracy.loc["my spec", "gt_iou"], accuracy.loc["ImageNet mean/std", "gt_iou"]
print(f"IoU against ground truth: {good:.2f} with the right spec, {bad:.2f} with ImageNet's")
assert good >= 0.65 and good - bad >= 0.3, (good, bad)
