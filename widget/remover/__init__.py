"""``BackgroundRemover``, the one-image widget: the widget, its synced traits, mask editing."""

from widget.remover.widget import BackgroundRemover

__all__ = ["BackgroundRemover"]
