"""What a model is and where its bytes come from.

``spec`` (:class:`ModelSpec` and its sources), ``registry`` (the explicit
:class:`Registry` and the built-in catalog), the catalog entries ``isnet``
(IMG.LY's npm data package) and ``rembg`` (published URLs), the sources
``npm_package`` and ``download``, ``integrity`` (sha256, sidecars, verified
loads), ``progress`` (tqdm bars while fetching) and ``spec_file`` (your own model
described in JSON, for the command line). Nothing here builds a model
file from another: that is :mod:`segmentation.conversion`.
"""
