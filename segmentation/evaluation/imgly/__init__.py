"""Side by side with ``@imgly/background-removal`` in one headless Chromium.

``install`` gets and bundles imgly's library on demand, ``browser`` serves and
runs it on ``127.0.0.1`` only, ``report`` makes the photo and prints the table.
"""
