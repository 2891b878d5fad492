"""The job and the benchmark on a real Dask LocalCluster: same bytes, killed workers, shipping."""

from __future__ import annotations

import os
import shutil
import signal
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from distributed import Client, LocalCluster
from PIL import Image

from segmentation import remove_many
from segmentation.errors import ModelNotFoundError, SegmentationError
from segmentation.evaluation.datasets import load_dataset
from segmentation.evaluation.runner import PythonRuntime, entry_for, run_benchmark
from segmentation.evaluation.variants import build_variant
from segmentation.files import sha256_file
from segmentation.jobs.dask_engine import DaskEngine
from segmentation.jobs.manifest import ManifestRow, read_manifest
from segmentation.jobs.model import prepare_model, shipped_path
from segmentation.models.registry import Registry
from segmentation.models.spec import UrlSource
from tests._images import red_dataset, red_photos, write_bad
from tests.conftest import TinyModel

ROOT = Path(__file__).resolve().parents[3]

pytestmark = pytest.mark.slow


def start_cluster(cache: Path, workers: int = 2) -> tuple[LocalCluster, Client]:
    """Two single-threaded worker processes with their own model cache (not the client's)."""
    cluster = LocalCluster(
        n_workers=workers,
        threads_per_worker=1,
        processes=True,
        dashboard_address=":0",
        env={
            "PYTHONPATH": str(ROOT),
            "PIXEL_LIBERATION_CACHE": str(cache),
            "PIXEL_LIBERATION_OFFLINE": "1",
        },
    )
    return cluster, Client(cluster)


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Client]:
    cluster, client = start_cluster(tmp_path_factory.mktemp("worker-cache"))
    yield client
    client.close()
    cluster.close()


@pytest.fixture(autouse=True)
def _cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PIXEL_LIBERATION_CACHE", str(tmp_path / "cache"))


def job(tiny: TinyModel, inputs: object, out: Path, **kw: object) -> list[ManifestRow]:
    kw.setdefault("progress", False)
    return remove_many(inputs, out, model=tiny.spec.name, registry=tiny.registry, **kw)  # type: ignore[arg-type]


def same_outputs(a: list[ManifestRow], b: list[ManifestRow]) -> None:
    assert [r.source for r in a] == [r.source for r in b]
    for x, y in zip(a, b, strict=True):
        assert (x.status, x.error) == (y.status, y.error)
        if x.status == "done":
            assert Path(x.outputs[0]).read_bytes() == Path(y.outputs[0]).read_bytes()


def test_two_workers_write_the_bytes_of_one_process(
    client: Client, tiny_model: TinyModel, tmp_path: Path
) -> None:
    red_photos(tmp_path / "in", 10)
    bad = [write_bad(tmp_path / "in", case)[0] for case in ("truncated_png", "text_file")]
    inputs = [tmp_path / "in", *bad]
    addresses = set(client.scheduler_info()["workers"])
    small_amazon = {"extends": "amazon", "name": "amazon-small", "canvas": [160, 160]}
    for options in ({"mask_only": True}, {"background": "#0000ff"}, {"preset": small_amazon}):
        one = job(tiny_model, inputs, tmp_path / "one", workers=1, **options)
        two = job(tiny_model, inputs, tmp_path / "two", cluster=client, batch_size=2, **options)
        same_outputs(one, two)
        assert sum(r.status == "done" for r in two) == 10
        assert {r.worker for r in two} <= addresses
        failed = [r for r in two if not r.ok]
        assert [r.source for r in failed] == [str(p) for p in bad]
        assert "truncated" in str(failed[0].error) and "not an image" in str(failed[1].error)
        if "preset" in options:
            assert all(r.preset == "amazon-small" for r in two)
            assert all(r.outputs[0].endswith(".jpg") for r in two)
        shutil.rmtree(tmp_path / "one")
        shutil.rmtree(tmp_path / "two")


def test_a_worker_killed_mid_run(tiny_model: TinyModel, tmp_path: Path) -> None:
    red_photos(tmp_path / "in", 40)
    reference = job(tiny_model, [tmp_path / "in"], tmp_path / "ref", workers=1, mask_only=True)
    cluster, client = start_cluster(tmp_path / "worker-cache")
    try:
        pids = client.run(os.getpid)
        killed: list[tuple[str, int]] = []

        def kill_one(row: ManifestRow) -> None:
            if not killed:
                victim = next(a for a in pids if a != row.worker)  # the other one: mid-batch
                os.kill(pids[victim], signal.SIGKILL)
                killed.append((victim, pids[victim]))

        out = tmp_path / "out"
        rows = job(
            tiny_model, [tmp_path / "in"], out, cluster=client, batch_size=2, mask_only=True,
            on_result=kill_one,
        )  # fmt: skip
        after = client.run(os.getpid)
    finally:
        client.close()
        cluster.close()
    assert killed and killed[0][1] not in after.values(), "the worker process really died"
    same_outputs(reference, rows)
    assert all(r.status == "done" for r in rows)
    lines = (out / "manifest.jsonl").read_text().splitlines()
    assert len(lines) == 40 and len(read_manifest(out / "manifest.jsonl")) == 40, "each once"
    assert {r.worker for r in rows} <= set(pids) | set(after)
    assert sorted(p.name for p in out.iterdir()) == sorted(
        ["manifest.jsonl", *(Path(r.outputs[0]).name for r in rows)]
    ), "no temporary file left"
    for row in rows:
        with Image.open(row.outputs[0]) as im:
            im.load()


def test_model_missing_on_workers_is_shipped_or_stops_the_job(
    client: Client, tiny_model: TinyModel, tmp_path: Path
) -> None:
    """A catalog-like model in the client's cache only: the workers' caches lack it.

    (``minmax`` makes its wrapped file one the workers have not opened before.)
    """
    spec = replace(
        tiny_model.spec,
        # never fetched: the client's cache holds the very file the checksum names
        sources=(UrlSource("http://127.0.0.1:9/tiny.onnx", sha256=sha256_file(tiny_model.path)),),
        normalization="minmax",
    )
    cached = tmp_path / "cache" / "models" / spec.filename
    cached.parent.mkdir(parents=True)
    shutil.copy(tiny_model.path, cached)
    registry = Registry([spec])
    photos = red_photos(tmp_path / "in", 4)
    kw = {"model": spec.name, "registry": registry, "progress": False, "mask_only": True}
    with pytest.raises(ModelNotFoundError, match="missing or differs on this worker"):
        remove_many(photos, tmp_path / "no", cluster=client, ship_model=False, **kw)  # type: ignore[arg-type]
    assert not any((tmp_path / "no").glob("*.png")), "stopped before any image"
    shipped = remove_many(photos, tmp_path / "yes", cluster=client, **kw)  # type: ignore[arg-type]
    here = remove_many(photos, tmp_path / "here", workers=1, **kw)  # type: ignore[arg-type]
    same_outputs(here, shipped)
    assert all(r.status == "done" for r in shipped)
    ref = prepare_model(spec, registry)
    on_workers = client.run(lambda: (shipped_path(ref).is_file(), str(shipped_path(ref))))
    assert all(ok for ok, _ in on_workers.values()), on_workers
    assert not any(Path(where).is_relative_to(tmp_path) for _, where in on_workers.values())


def test_bench_spreads_over_the_cluster_with_the_same_masks(
    client: Client, tiny_model: TinyModel, tmp_path: Path
) -> None:
    ds = load_dataset(red_dataset(tmp_path / "red", 5))
    weight = build_variant(tiny_model.spec, "int8-weight")
    entries = [entry_for(tiny_model.spec, "fp32"), entry_for(weight.spec, weight.name)]
    runtimes = [PythonRuntime(1)]
    here = run_benchmark(entries, [ds], runtimes, keep_masks=True, progress=False, saliency=False)
    engine = DaskEngine(client)
    spread = run_benchmark(
        entries, [ds], runtimes, keep_masks=True, progress=False, saliency=False, engine=engine
    )
    engine.close()
    assert not client.status == "closed", "a given client stays open"
    assert here.masks.keys() == spread.masks.keys() and len(spread.masks) == 10
    for key, mask in here.masks.items():
        assert (spread.masks[key] == mask).all(), key
    drop = ("latency_s", "worker")
    assert [{k: v for k, v in r.items() if k not in drop} for r in here.images] == [
        {k: v for k, v in r.items() if k not in drop} for r in spread.images
    ]
    assert {r["worker"] for r in spread.images} <= set(client.scheduler_info()["workers"])
    assert all(r["load_s"] > 0 for r in spread.summary)


def test_unreachable_scheduler_and_bad_cluster_strings(
    tiny_model: TinyModel, tmp_path: Path
) -> None:
    photos = red_photos(tmp_path / "in", 1)
    with pytest.raises(ValueError, match="cluster must be 'local' or a scheduler address"):
        job(tiny_model, photos, tmp_path / "o", cluster="localhost:8786")
    with pytest.raises(ValueError, match="an existing cluster has its own workers"):
        job(tiny_model, photos, tmp_path / "o", cluster="tcp://127.0.0.1:9", workers=2)
    with pytest.raises(SegmentationError, match="cannot reach the Dask scheduler"):
        DaskEngine("tcp://127.0.0.1:9", timeout_s=2)
