"""The command line, ``python -m segmentation`` (or ``pixel-liberation``).

``main`` parses the arguments and holds ``remove``, ``models`` and ``fetch``;
``bench`` adds ``quantize`` and ``bench``; ``demo`` is the quick-start job.
"""
