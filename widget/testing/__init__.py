"""Drive the widgets in a real JupyterLab and Chromium: the tooling of tests and benchmarks.

- :mod:`~widget.testing.jupyter_server`: a throw-away JupyterLab (its own config, kernelspec
  and settings in a temp folder; ``isolated=True`` for cross-origin isolated pages);
- :mod:`~widget.testing.notebook`: :class:`Notebook`, one notebook open in one page: write
  cells, run them, read outputs, run code in the kernel (JS snippets in ``notebook_js``);
- :mod:`~widget.testing.page_log`: a page's console and its websocket bytes;
- :mod:`~widget.testing.chromium`: the browser binary, its flags, a Playwright launch;
- :mod:`~widget.testing.cdp`: Chromium over a bare DevTools socket, no domain enabled (what
  a user's tab holds in memory);
- :mod:`~widget.testing.widgets`: wait for a widget's answer from the kernel;
- :mod:`~widget.testing.pages`: the mask editor's standalone page (built from ``js/``).

``tests/e2e/`` and ``python -m widget.bench`` both use it. Playwright and websocket-client
come with the ``test`` extra; importing this package needs neither.
"""
