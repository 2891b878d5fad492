"""Kernel -> browser transfer: assets named by sha256, acknowledged chunks, front-end code.

``assets`` names files and images by sha256, ``chunks`` sends them in acknowledged
pieces, ``bundle`` carries each widget's front-end code.
"""
