"""Kernel -> browser transfer: assets named by sha256 (``assets``), acknowledged ``chunks``."""
