# %% [markdown]
# # Marketplace-ready product photos
#
# A cut-out is not yet a product photo. A marketplace wants the product cropped, centred,
# filling most of a square, on pure white, at a size that allows zoom; and the soft edge
# pixels of a cut-out still carry the colour of the old background, which shows as a halo
# on white. One step after the mask does all of it: `product_photo(image, preset)`.
#
# The step runs the same way in the kernel (numpy, here) and in the browser's engine worker
# (TypeScript): for the same mask both give the same pixels. This notebook uses photos that
# ship with scikit-image (a cup of coffee, a rocket, a cat) and shapes it makes itself.

# %%
import shutil
import tempfile
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import skimage.data
from PIL import Image

import segmentation
from segmentation import Segmenter, load_image, product_photo, remove_many
from segmentation.product.presets import BUILTIN, SOURCES


def show(images, titles, width=12):
    """Show images side by side; transparent pixels show a checkerboard."""
    fig, axes = plt.subplots(1, len(images), figsize=(width, width / len(images) * 1.1), dpi=50)
    for ax, im, title in zip(np.atleast_1d(axes), images, titles):
        arr = np.asarray(im)
        if arr.ndim == 3 and arr.shape[2] == 4:
            rows, cols = np.indices(arr.shape[:2]) // max(8, arr.shape[0] // 40)
            ax.imshow((rows + cols) % 2, cmap="gray", vmin=-3, vmax=2)
        ax.imshow(arr)
        ax.set_title(title)
        ax.axis("off")
    plt.show()


# %% [markdown]
# ## The presets
#
# Each built-in preset says where its rules come from; what no marketplace rule fixes is
# marked as our choice. `python -m segmentation presets` prints the same.

# %%
for name, spec in BUILTIN.items():
    size = "x".join(map(str, spec.canvas)) if spec.canvas else "the subject's own"
    room = f"fills {spec.fill:.0%}" if spec.fill else f"margin {spec.margin.to_json()}"
    print(f"{name:12s} {size:18s} {room:12s} {spec.format:5s} shadow={spec.shadow is not None}")
    print(f"             {SOURCES[name][:110]}...")

# %% [markdown]
# ## Before and after
#
# IS-Net finds each subject in the kernel (a few seconds a photo); then each preset frames it.
# The masks are computed once and reused: `product_photo(..., mask=...)` needs no model.

# %%
photos = {
    "coffee": load_image(skimage.data.coffee()),
    "rocket": load_image(skimage.data.rocket()),
    "cat": load_image(skimage.data.chelsea()),
}
seg = Segmenter()
masks = {name: seg.mask(img) for name, img in photos.items()}
for name, m in masks.items():
    print(f"{name}: {m.shape[1]}x{m.shape[0]}, subject covers {(m >= 128).mean():.0%} of the photo")

# %% tags=["nbval-ignore-output"]
small = {"amazon": {"canvas": "600x600"}, "shopify": {"canvas": "600x600"}, "transparent": {}}
for name, img in photos.items():  # shown small: a 600x600 canvas instead of 2000x2000
    made = [product_photo(img, p, mask=masks[name], **small[p]) for p in small]
    show([img.pixels, *[m.pixels for m in made]], [name, *small])

# %% [markdown]
# Every amazon photo must be white at its border and the subject must fill 85 % of the
# frame; the check below measures both on the pixels, and the size the file will have.

# %%
for name, img in photos.items():
    photo = product_photo(img, "amazon", mask=masks[name])
    px = photo.pixels
    border = np.concatenate([px[0], px[-1], px[:, 0], px[:, -1]])[:, :3]
    assert (border == 255).all(), name
    assert abs(photo.fill - 0.85) < 0.01, (name, photo.fill)
    print(f"{name}: {photo.size[0]}x{photo.size[1]}, border white, fills {photo.fill:.1%}, "
          f"{photo.mime}")

# %% [markdown]
# ## The edges, at 100 %
#
# A made test: a red subject with a soft edge, photographed on green, put on white. Without
# decontamination the soft edge keeps some of the green; with it (the default), the edge
# has the subject's own red. Left to right: the truth, as is, decontaminated.

# %%
h, w = 160, 220
yy, xx = np.mgrid[0:h, 0:w]
alpha = np.clip(0.5 - (np.hypot(xx - 110, yy - 80) - 60) / 6, 0, 1)
red, green = np.array([210, 40, 40]), np.array([40, 190, 60])
a = alpha[..., None]
opaque = np.full((h, w, 1), 255)
shot = np.concatenate([np.round(a * red + (1 - a) * green), opaque], axis=2).astype(np.uint8)
solid_red = np.concatenate([np.broadcast_to(red, (h, w, 3)), opaque], axis=2).astype(np.uint8)
mask = np.round(alpha * 255).astype(np.uint8)
frame = {"canvas": "220x160", "fill": 0.8}
truth = product_photo(solid_red, "amazon", mask=mask, decontaminate=False, **frame)
kept = product_photo(shot, "amazon", mask=mask, decontaminate=False, **frame)
fixed = product_photo(shot, "amazon", mask=mask, **frame)
soft = (truth.pixels[..., :3] != 255).any(axis=2) & (truth.pixels[..., :3] != red).any(axis=2)


def edge_error(photo):
    """Mean distance from the truth over the soft edge, in 8-bit levels."""
    diff = np.abs(photo.pixels[..., :3].astype(int) - truth.pixels[..., :3]).max(axis=2)
    return diff[soft].mean()


print(f"{soft.sum()} soft edge pixels; error: {edge_error(kept):.1f} levels as is, "
      f"{edge_error(fixed):.1f} decontaminated")
assert edge_error(fixed) < edge_error(kept) / 4

# %% tags=["nbval-ignore-output"]
zoom = (slice(55, 105), slice(10, 60))
show([p.pixels[zoom].repeat(4, 0).repeat(4, 1) for p in (truth, kept, fixed)],
     ["truth", "as is", "decontaminated"], width=9)

# %% [markdown]
# That is a clean mix of two colours with the true alpha. A model's mask is often soft where
# the photo is not (inside a dark rim, or out over the background); there the estimate keeps
# the pixel's own colour instead of painting the subject's into it
# ([docs/product-photos.md](../docs/product-photos.md), *Edge quality*, has the measurements).
#
# ## Your own preset
#
# A preset is a small dict (or a JSON file, `{"presets": {...}}`, for
# `python -m segmentation remove --preset-file`). It may start from a built-in one; every
# field is checked, and a mistake is one line, before any work.

# %%
etsy = {"extends": "shopify", "canvas": [1600, 1200], "aspect": None, "background": "#f4f1ec",
        "position": "bottom", "floor": "6%"}
photo = product_photo(photos["coffee"], etsy, mask=masks["coffee"])
print(photo.size, photo.spec.background, photo.spec.shadow)
try:
    product_photo(photos["coffee"], "amazon", mask=masks["coffee"], margin="60%")
except segmentation.ProductSpecError as err:
    print(err)

# %% tags=["nbval-ignore-output"]
show([photo.pixels], ["etsy-like, standing on the floor"], width=5)

# %% [markdown]
# ## In the widget
#
# `w = widget.BackgroundRemover(photo)` shows the mask editor and, folded under it, a
# *Product photo* panel: choose a preset, see the framed photo, download it. It runs in the
# browser's worker on the edited mask; `w.product_photo("amazon")` gives the same pixels in
# Python, and `widget.BatchRemover(paths, out_dir=..., preset="amazon")` writes one per image.
#
# ## A folder of photos
#
# `remove_many(..., preset="amazon")` (or `python -m segmentation remove photos/ -o out/
# --preset amazon`) writes one product photo per image, on every core (here: one) or a Dask
# cluster, and records the preset in the manifest: running it again skips what is done;
# changing the preset redoes it.

# %%
folder = Path(tempfile.mkdtemp())
for name, img in photos.items():
    Image.fromarray(img.pixels[..., :3]).save(folder / f"{name}.png")
job = {"preset": "amazon", "resolution": 512, "workers": 1, "progress": False}
rows = remove_many(folder, folder / "out", **job)
for row in sorted(rows, key=lambda r: Path(r.source).name):
    print(f"{Path(row.source).name:11s} {row.status:7s} {row.preset:7s} {Path(row.outputs[0]).name}")
again = remove_many(folder, folder / "out", **job)
print(sorted(r.status for r in again))
redo = remove_many(folder, folder / "out", **job, background="#fafafa")
print(sorted(r.status for r in redo))

# %% [markdown]
# A mask with nothing in it has nothing to frame: that photo fails, with its reason, instead
# of becoming a blank white "success" (in a job it is that image's row, and the job goes on).
# IS-Net's output is scaled to 0..255 per image, so it always marks something; empty masks
# come from other models and from edited masks.

# %%
try:
    product_photo(photos["coffee"], "amazon", mask=np.zeros_like(masks["coffee"]))
except segmentation.NoSubjectError as err:
    print(err)

# %%
shutil.rmtree(folder)  # the photos and the outputs of this notebook's job
