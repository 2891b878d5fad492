# %% [markdown]
# # Browser vs Python: parity and latency
#
# The widget runs the model in the browser tab (onnxruntime-web, WebAssembly, in a Web
# Worker); the kernel can run the **very same ONNX file** with onnxruntime. Resizing,
# normalisation and post-processing are inside that file, so the same pixels in give the
# same mask out, up to float rounding. This notebook first shows a **recorded run** (every
# catalog precision of IS-Net, the browser on 1 and 2 WebAssembly threads and the kernel on 1
# and 2, on photos of both datasets, in one real JupyterLab), read from
# `results/browser_vs_python.json`, then measures the same thing **live** on one photo in
# this notebook's own tab.

# %%
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd

from segmentation.evaluation.record import read_record

pd.set_option("display.width", 140)

record = read_record(Path("results") / "browser_vs_python.json")
meta = record.meta
print("command :", meta["command"])
print("run     :", meta["started"], "to", meta["finished"], "at commit", meta["commit"])
print("machine :", meta["machine"]["cpu"], f"{meta['machine']['cores']} cores;",
      "load average", meta["machine"]["load_average"], "at start,", meta["load_average_end"], "at end")
print("versions:", ", ".join(f"{k} {v}" for k, v in meta["versions"].items()))

# %% [markdown]
# ## Recorded latency per precision and thread count
#
# Median over the photos of each photo's fastest run, in seconds (the wrapped model:
# resize, normalise, infer, resize back; the browser's time is measured inside its worker).
# The browser's 2-thread column needs a cross-origin isolated page
# (`python -m widget threads on`); JupyterLab, Notebook 7 and Colab give one thread by default.

# %%
summary = record.dataframe()
order = ["browser-tab-1t", "browser-tab-2t", "python-1t", "python-2t"]
latency = summary.pivot_table(index="variant", columns="runtime", values="latency_median_s")
latency = latency[[c for c in order if c in latency.columns]]
sizes = summary.groupby("variant")["size_mb"].first().round(0).astype(int)
table = latency.round(2)
table.insert(0, "MB", sizes)
table["browser 1t / kernel 2t"] = (latency["browser-tab-1t"] / latency["python-2t"]).round(1)
table.index = [f"{v} *" if v == meta["default_precision"] else v for v in table.index]
table

# %%
ax = latency.plot.barh(figsize=(7, 3.2), title="seconds per photo (lower is better), * default")
ax.set_yticklabels([f"{v} *" if v == meta["default_precision"] else v for v in latency.index])
ax.set_xlabel("seconds")
ax.legend(fontsize=8)
ax.figure.set_dpi(72)
ax.figure.tight_layout()
plt.show()

# %% [markdown]
# ## Recorded parity, photo by photo
#
# For each browser run, its mask against the kernel's on the same pixels (`pixels_match`: the
# browser decoded exactly the kernel's pixels): IoU at 0.5, the largest difference of the soft
# masks in 0..255 levels, and the number of pixels that differ at all.

# %%
images = record.dataframe(per_image=True)
browser = images[images.runtime.str.startswith("browser")].copy()
browser["max levels"] = (browser["parity_max_abs"] * 255).round().astype(int)
browser["IoU"] = browser["parity_iou"].round(4)
browser["differing px"] = browser["parity_differing"]
parity = browser.pivot_table(index=["variant", "image"], columns="runtime",
                             values=["IoU", "max levels", "differing px"], aggfunc="first")
parity

# %%
assert browser["pixels_match"].all(), "the browser fed the model other pixels"
assert (browser[browser.variant == meta["default_precision"]]["parity_iou"] >= 0.999).all()
assert (browser["parity_iou"] >= 0.99).all(), browser[["variant", "image", "parity_iou"]]
print(f"{len(browser)} browser runs: lowest IoU against the kernel {browser.parity_iou.min():.4f}")

# %% [markdown]
# ## Live, in this tab
#
# The same comparison on one photo with the widget you are looking at.

# %%
import matplotlib.pyplot as plt
import numpy as np
import onnxruntime as ort
import pandas as pd
from matplotlib import cbook

from segmentation.session import Segmenter
from widget import BackgroundRemover

photo = cbook.get_sample_data("grace_hopper.jpg", asfileobj=False)
w = BackgroundRemover(photo)
w

# %% [markdown]
# ## The kernel side
#
# `Segmenter` loads the wrapped model the widget sends to the browser (`w.model_key`) and
# `run_pixels` feeds it exactly the RGBA pixels the browser gets (`w.image`): no decoding
# differences. Timings depend on the machine, so this cell's output is not compared by the
# notebook tests.

# %% tags=["nbval-ignore-output"]
REPEATS = 2
name, precision = w.model_key.split(":")
seg = Segmenter(name, precision)
kernel_ms = []
for _ in range(REPEATS):
    kernel_mask = seg.run_pixels(w.image)
    kernel_ms.append(seg.last_timings["inference"] * 1000)
print(f"{w.model_key} in the kernel: onnxruntime {ort.__version__}, median of {REPEATS}:")
print(f"  {np.median(kernel_ms):.0f} ms for {w.image.shape[1]}x{w.image.shape[0]} pixels")

# %% [markdown]
# ## Parity
#
# `w.wait(browser=True)` blocks until the browser's own mask is here (so *Run All* gets here
# with it, even when the kernel's mask was shown first); then compare it with the kernel's:
# IoU of the masks thresholded at 0.5, mean and
# largest absolute difference of the soft masks, and whether the browser decoded exactly
# the kernel's pixels (`pixels_match`). Without a browser (`nbconvert`, `nbval`) `wait()`
# returns within seconds, there is nothing to compare and the cell says so; the
# real-browser tests of the project run this notebook in JupyterLab.

# %%
result = w.wait(timeout=600, browser=True)
if w.browser_mask is not None:
    cmp = w.compare()
    print(pd.Series(cmp).to_string())
    assert cmp["pixels_match"], "the browser fed the model other pixels than the kernel"
    assert cmp["iou"] >= 0.999 and cmp["mae"] <= 0.002, cmp
    browser_mask = w.browser_mask
else:
    print(f"no mask from a browser: {result.reason}")
    print("showing the kernel side only")
    browser_mask = None

# %%
panels = [w.image, kernel_mask]
titles = ["photo", "kernel mask"]
if browser_mask is not None:
    diff = np.abs(browser_mask.astype(int) - kernel_mask.astype(int))
    panels += [browser_mask, diff]
    titles += ["browser mask", f"|difference| (max {diff.max()})"]
fig, axes = plt.subplots(1, len(panels), figsize=(2.6 * len(panels), 3.2), dpi=50)
for ax, im, title in zip(axes, panels, titles):
    ax.imshow(im, cmap="magma" if title.startswith("|") else "gray")
    ax.set_title(title)
    ax.axis("off")
plt.show()

# %% [markdown]
# ## Latency, stage by stage
#
# The browser reports where its time went: receiving the assets (`transfer`, only the first
# time: the model is cached in IndexedDB afterwards), decoding the image, creating the
# onnxruntime-web session, and inference. WebAssembly runs on one thread unless the page is
# cross-origin isolated, which JupyterLab, Notebook 7 and Colab are not by default.

# %% tags=["nbval-ignore-output"]
browser_ms = pd.Series(  # the browser's stages (kernel_inference is the twin's run)
    {k: v for k, v in w.timings.items() if not k.startswith("kernel_")}
    if w.browser_mask is not None else {}, dtype=float)
table = pd.DataFrame(
    {"browser (ms)": browser_ms, "kernel (ms)": pd.Series({"inference": np.median(kernel_ms)})}
)
print(f"browser threads: {w.threads or 'n/a'}, cross-origin isolated: {w.cross_origin_isolated}")
ax = table.fillna(0).plot.barh(figsize=(6, 2.5), title="milliseconds (lower is better)")
ax.figure.set_dpi(60)
plt.show()
table.round(0)

# %% [markdown]
# ## Check
#
# The kernel's mask must still look like the model's: the subject covers a known share of the
# photo. A broken pipeline (wrong mean, swapped channels, a damaged file) fails here.

# %%
subject = kernel_mask >= 128
soft = (kernel_mask > 0) & (kernel_mask < 255)
print(f"kernel mask: subject {subject.mean():.0%} of the pixels, soft edge {soft.mean():.0%}")
assert 0.50 < subject.mean() < 0.66, subject.mean()
assert soft.mean() < 0.12, f"edges too soft: {soft.mean():.0%}"
assert subject[250, 256] and not subject[40, 470]
