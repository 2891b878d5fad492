# %% [markdown]
# # Interactive masking: refine by hand, replace the background, export
#
# A model decides what the subject is, and sometimes you disagree. Here Grace Hopper has a
# present next to her; IS-Net keeps the person and drops the box, but we want both. The
# widget's editor fixes that by hand: brush (add / erase), keep or remove the object under a
# click, threshold, fill holes, feather, undo and redo, then a new background and downloads.
#
# Every edit is an entry of `w.edit_log`, replayed on the model's mask in the browser and in
# the kernel with the same arithmetic, so `w.mask` in Python is exactly what you see. The
# cells below make the edits from Python (what the view's tools record), so the notebook also
# runs with no browser attached.

# %%
import json
import tempfile
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from matplotlib import cbook
from PIL import Image

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
# ## A photo the model gets "wrong"
#
# Grace Hopper's portrait with a present in the top right corner (both from matplotlib's
# sample data).

# %%
portrait = Image.open(cbook.get_sample_data("grace_hopper.jpg", asfileobj=False)).convert("RGB")
present = Image.open(cbook.get_sample_data("Minduka_Present_Blue_Pack.png", asfileobj=False))
BOX = (376, 12)  # where the present goes (x, y of its top-left corner)
scene = portrait.copy()
scene.paste(present, BOX, present)
box = np.zeros((scene.height, scene.width), bool)  # the present's own pixels
box[BOX[1] : BOX[1] + present.height, BOX[0] : BOX[0] + present.width] = (
    np.asarray(present)[..., 3] > 128
)

w = BackgroundRemover(scene)
w

# %%
model = w.model_mask
print(f"model mask by the {w.backend_used}: keeps {(model[box] >= 128).mean():.0%} of the present")

# %% [markdown]
# ## Paint the present in
#
# In the view: pick the brush, *add*, and paint over the box. The same stroke from Python is
# one `brush` op: a polyline in image pixels, a radius, and a hardness (the share of the
# radius painted fully; the rest fades out). A light feather then softens the painted edge.

# %%
stroke = [392, 40, 486, 40, 486, 70, 392, 70, 392, 100, 486, 100, 486, 122, 392, 122]
w.push_edit({"op": "brush", "mode": "add", "points": stroke, "radius": 17, "hardness": 0.9})
w.push_edit({"op": "feather", "radius": 1})
edited = w.mask
print(f"{len(w.edit_log)} edits; the present is now {(edited[box] >= 128).mean():.0%} kept")
show([model, edited, w.cutout(None)], ["model mask", "edited mask", "cutout"], width=7.5)

# %% [markdown]
# Undo and redo work from Python as in the view (Ctrl+Z / Ctrl+Shift+Z); the redo tail stays
# in the log until a new edit replaces it.

# %%
w.undo()
print(f"after undo: {w.edit_cursor} of {len(w.edit_log)} edits applied")
w.redo()
print(f"after redo: {w.edit_cursor} of {len(w.edit_log)} edits applied")
assert np.array_equal(w.mask, edited)

# %% [markdown]
# ## Replace the background
#
# The view's background picker (transparent, a colour, an image, or the photo blurred) sets
# `w.editor_settings`; `w.cutout()` uses it. Any colour or image can also be passed directly.

# %%
w.editor_settings = {**w.editor_settings, "background": "blur", "blur": 10}
blurred = w.cutout()
rows, cols = np.mgrid[0 : scene.height, 0 : scene.width]
sunset = np.stack([200 + 55 * rows / scene.height, 90 + cols / 8, 120 - rows / 6], -1)
on_sunset = w.cutout(background=sunset.astype(np.uint8))
on_white = w.cutout(background="white")
show([blurred, on_sunset, on_white], ["blurred photo", "an image", "a colour"], width=7.5)

# %% [markdown]
# ## Export
#
# A transparent PNG, the mask as an 8-bit PNG, and the edit log (JSON) that rebuilds the mask
# from the model's. The view's download buttons save the same files from the browser.

# %%
out = Path(tempfile.mkdtemp(prefix="cutout-"))
w.cutout(None).save(out / "cutout.png")
Image.fromarray(w.mask).save(out / "mask.png")
(out / "edits.json").write_text(json.dumps(w.edit_log[: w.edit_cursor]))
for path in sorted(out.iterdir()):
    desc = "x".join(map(str, Image.open(path).size)) if path.suffix == ".png" else "edit log"
    print(f"{path.name:>11}: {desc}")

# %% [markdown]
# ## Check
#
# The exported files give back the edited mask, the edits took the present in and left the
# person as the model made her (apart from the feathered edge).

# %%
from segmentation import mask_edits

reloaded = np.asarray(Image.open(out / "mask.png"))
replayed = mask_edits.replay(model, json.loads((out / "edits.json").read_text()))
assert np.array_equal(reloaded, w.mask) and np.array_equal(replayed, w.mask)
alpha = np.asarray(Image.open(out / "cutout.png"))[..., 3]
assert np.array_equal(alpha, w.mask)
person = (model >= 128) & ~box
kept_box, kept_person = (edited[box] >= 128).mean(), (edited[person] >= 128).mean()
soft = ((model > 0) & (model < 255)).mean()
print(f"present kept: {kept_box:.0%} (model: {(model[box] >= 128).mean():.0%}),"
      f" person kept: {kept_person:.0%}, model's soft edge: {soft:.0%}")
assert (model[box] >= 128).mean() < 0.2 and kept_box > 0.8, kept_box
assert kept_person > 0.99 and 0.5 < (model >= 128).mean() < 0.66
assert soft < 0.12, f"model mask edges too soft: {soft:.0%}"
