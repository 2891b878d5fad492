"""Marketplace-ready product photos: the subject framed on a canvas, any background.

One step after the mask, the same in the kernel (this package, numpy) and in the browser's
engine worker (``js/src/product/``, TypeScript): ``spec`` (the settings and their
validation), ``presets`` (built-in presets with their sources, user presets), ``framing``
(subject box, canvas, scale, resampling), ``decontaminate`` (edge colours), ``shadow``,
``compose`` (the step), ``colour`` (photos tagged Display P3 and the like, to sRGB) and
``encode`` (PNG, JPEG, WebP). ``photo`` puts a model in front
(:func:`~segmentation.product.photo.product_photo`).
"""
