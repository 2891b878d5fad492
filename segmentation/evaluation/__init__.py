"""Measuring models: datasets, metrics, the benchmark runner and its runtimes, plots.

``datasets`` (images + human masks), ``metrics`` (IoU, MAE, saliency measures),
``variants`` (experimental variants built from your own calibration images),
``runner`` (variants x images x runtimes), ``browser_runtime`` and
``page_server`` (the widget's engine in headless Chromium), ``imgly`` (the
side-by-side comparison with @imgly/background-removal), ``plots`` and
``cpu_time``. Needs the ``bench`` extra for pandas, matplotlib and pysodmetrics.
"""
