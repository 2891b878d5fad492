# Shortcuts; the scripts are the source of truth (see README.md and docs/development.md).
.PHONY: setup test fast ui ci results

setup:
	bash scripts/setup.sh

test:
	bash scripts/test.sh

fast:
	.venv/bin/pytest -m "not browser and not isnet"

ui:
	.venv/bin/pytest tests/e2e

ci:
	bash .ci/run

# The recorded runs that notebooks 03/04 and docs/results.md show (about an hour on 2 cores;
# run on a quiet machine): results files, the tables of docs/results.md, notebooks re-executed.
RESULTS_BENCH = --dataset sod_bsds300 --dataset icm58_objects --every 2 \
	--precisions fp32 fp16 int8 int8-static --variants int8-calibrated fp32@512 \
	--runtime python-2 python-1 browser-1 browser-2 --others-limit 4 \
	--record notebooks/results/accuracy_vs_quantization.json

results:
	.venv/bin/python -m segmentation bench $(RESULTS_BENCH)
	.venv/bin/python -m widget.bench record
	.venv/bin/python scripts/results_tables.py --write docs/results.md
	.venv/bin/python scripts/make_notebooks.py 03 04
