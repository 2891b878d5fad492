# %% [markdown]
# # Quick start: remove a background in the browser
#
# `BackgroundRemover` shows a photo and removes its background **in this browser tab**: the
# IS-Net model runs with onnxruntime-web (WebAssembly) in a Web Worker. The kernel sends the
# model once (the browser caches it), and the mask comes back to Python, where you use it like
# any array. The kernel runs the very same model file too: when the browser would need longer
# than a second (the first time, or on a slow machine), the kernel's mask is shown first and
# the browser's own mask, when it arrives, is checked against it byte for byte.
#
# This notebook cuts out Grace Hopper's portrait from matplotlib's sample data.

# %%
import matplotlib.pyplot as plt
import numpy as np
from matplotlib import cbook

from widget import BackgroundRemover


def show(images, titles, width=10):
    """Show images side by side, small; transparent pixels show a checkerboard."""
    fig, axes = plt.subplots(1, len(images), figsize=(width, width / len(images) * 1.25), dpi=50)
    for ax, im, title in zip(axes, images, titles):
        arr = np.asarray(im)
        if arr.ndim == 3 and arr.shape[2] == 4:
            rows, cols = np.indices(arr.shape[:2]) // 24
            ax.imshow((rows + cols) % 2, cmap="gray", vmin=-3, vmax=2)
        ax.imshow(arr, cmap="gray", vmin=0, vmax=255)
        ax.set_title(title)
        ax.axis("off")
    plt.show()


# %% [markdown]
# ## Remove the background
#
# Display the widget: it shows what it is doing (sending the model the first time, loading
# it, running it) and then the photo with its background removed.

# %%
photo = cbook.get_sample_data("grace_hopper.jpg", asfileobj=False)
w = BackgroundRemover(photo)
w

# %% [markdown]
# ## Get the mask in Python
#
# `w.wait()` blocks this cell until the mask exists (so *Run All* works), then it is in the
# kernel as `w.mask` (uint8, 255 = subject, soft values on the edges). It returns who computed
# it and, if the kernel did, why; `w.wait(browser=True)` also waits for the browser's own mask.
#
# **No browser?** When nothing can answer (the notebook runs under `nbconvert` or `nbval`,
# the tab was closed), `wait()` returns within seconds and the mask comes from the **kernel
# twin**: the same ONNX file with the same pre- and post-processing, run by onnxruntime in
# the kernel. `w.backend_used` says which side computed it, `w.fallback_reason` why the
# kernel did.

# %%
result = w.wait(timeout=600)
mask = w.mask
print(f"mask: {mask.shape[1]}x{mask.shape[0]} {mask.dtype}, computed by the {w.backend_used}")
if w.fallback_reason:
    print(f"why the kernel: {w.fallback_reason}")

# %% [markdown]
# ## The cutout
#
# `w.cutout()` is a PIL image with the background transparent; give it a colour or another
# image to put the subject on a new background.

# %%
cutout = w.cutout()
on_blue = w.cutout(background="#2b5797")
print(f"cutout: {cutout.mode} {cutout.size[0]}x{cutout.size[1]}")
show([w.image, mask, cutout, on_blue], ["photo", "mask", "cutout", "on a colour"])

# %% [markdown]
# ## Check
#
# If the model or the pipeline broke (wrong normalisation, a bad file, a swapped channel),
# this cell fails: the subject covers a known share of the photo, the face and cap are kept
# and the backdrop and flag are not.

# %%
subject = mask >= 128
soft = (mask > 0) & (mask < 255)
print(f"subject: {subject.mean():.0%} of the pixels, soft edge: {soft.mean():.0%}")
assert 0.50 < subject.mean() < 0.66, subject.mean()
assert soft.mean() < 0.12, f"edges too soft: {soft.mean():.0%}"
assert subject[250, 256] and subject[80, 256], "face or cap lost"
assert not subject[40, 470] and not subject[200, 40], "backdrop or flag kept"
