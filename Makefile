# Shortcuts; the scripts are the source of truth (see README.md).
.PHONY: setup test fast ui ci

setup:
	bash scripts/setup.sh

test:
	bash scripts/test.sh

fast:
	.venv/bin/pytest -m "not browser and not isnet"

ui:
	.venv/bin/pytest tests/ui

ci:
	bash .ci/run
