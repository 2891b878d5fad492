"""The messages between the kernel and the widgets' views: one module per widget, one shared.

Each module here has a TypeScript twin of the same name in ``js/src/protocol/``.
"""
