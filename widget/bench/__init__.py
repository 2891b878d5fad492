"""Every benchmark of the project, one command: ``python -m widget.bench NAME [options]``.

``python -m widget.bench`` lists them; ``python -m widget.bench NAME --help`` gives the
options of one. Each prints tables (timings are never compared with a target in a test;
``tests/widget/bench/test_commands.py`` smoke-runs each on its smallest case).
:mod:`widget.bench.harness` is what they share: the command line, the sample photo, a
throw-away JupyterLab, one notebook per case, the model cells. The benchmarks that drive
the widget use :mod:`widget.testing`, the JupyterLab/Chromium driver of the browser tests.
The model benchmark (accuracy and latency of each model file, kernel and headless browser)
is ``python -m segmentation bench``.
"""
