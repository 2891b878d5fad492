"""Many images at once: the job behind ``remove_many`` and ``python -m segmentation remove``.

One module per idea: ``inputs`` (files, folders, list files), ``outputs``
(planned names, never over an input, atomic PNG writes), ``manifest`` (JSON
Lines rows: source and its sha256, outputs, status, error, seconds, worker),
``model`` (the model by sha256, found or shipped on each worker), ``work``
(what a worker does with a batch), ``engines`` (this process, a local process
pool), ``dask_engine`` (a Dask cluster; needs the ``cluster`` extra) and ``job``
(:func:`remove_many`, the client side: plan, run, record, resume).
"""

from segmentation.jobs.job import JobInterrupted, remove_many
from segmentation.jobs.manifest import ManifestRow

__all__ = ["JobInterrupted", "ManifestRow", "remove_many"]
