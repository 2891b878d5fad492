"""``BatchRemover``, many images on the browser's worker pool: widget, traits, results."""

from widget.batch.widget import BatchRemover

__all__ = ["BatchRemover"]
