"""``python -m segmentation``: see :mod:`segmentation.cli.main`."""

from segmentation.cli.main import run

if __name__ == "__main__":
    run()
