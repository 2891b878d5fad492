"""``python -m segmentation``: see :mod:`segmentation.cli`."""

from segmentation.cli import run

if __name__ == "__main__":
    run()
