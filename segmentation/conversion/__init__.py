"""Conversion: everything that makes one model file from another.

``wrapper`` puts pre/post-processing inside the graph (the file both runtimes
run), ``webgpu_graph`` rewrites it for onnxruntime-web's WebGPU provider,
``convert`` upcasts fp16 to fp32, ``quantize`` holds the precision transforms,
``int8_static`` the default static int8 model, ``calibration`` feeds images to
static quantization, and ``derivations`` names the steps the catalog's derived
sources use. These modules know :mod:`segmentation.models`, never the cache
(:mod:`segmentation.store`) above them. The benchmark's experimental builds
(``bench --variants``) are made from these pieces in :mod:`segmentation.evaluation.variants`.
"""
