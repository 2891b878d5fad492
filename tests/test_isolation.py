"""``python -m widget threads on|off|status``: the opt-in isolation config, on real files."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from widget import isolation


def run_threads(action: str, config_dir: Path, tmp: Path) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, JUPYTER_CONFIG_DIR=str(config_dir), JUPYTER_RUNTIME_DIR=str(tmp / "rt"))
    return subprocess.run(
        [sys.executable, "-m", "widget", "threads", action],
        capture_output=True, text=True, env=env, timeout=120,
    )  # fmt: skip


def test_on_status_off_round_trip(tmp_path: Path) -> None:
    cfg = tmp_path / "cfg"
    proc = run_threads("status", cfg, tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("threads: off")
    proc = run_threads("on", cfg, tmp_path)
    assert proc.returncode == 0, proc.stderr
    path = cfg / "jupyter_server_config.json"
    assert str(path) in proc.stdout and "restart" in proc.stdout
    data = json.loads(path.read_text())
    assert data["ServerApp"]["tornado_settings"]["headers"] == isolation.HEADERS
    assert [p.name for p in path.parent.iterdir()] == [isolation.CONFIG_NAME]  # no temp left
    proc = run_threads("status", cfg, tmp_path)
    assert proc.stdout.startswith("threads: on"), proc.stdout
    assert "no running Jupyter server" in proc.stdout
    assert isolation.is_on(cfg) and not isolation.restart_needed(cfg)
    proc = run_threads("off", cfg, tmp_path)
    assert proc.returncode == 0 and "removed" in proc.stdout
    assert not path.exists() and not isolation.is_on(cfg)
    proc = run_threads("off", cfg, tmp_path)
    assert proc.returncode == 0 and "no header in" in proc.stdout


def test_on_and_off_keep_the_users_other_settings(tmp_path: Path) -> None:
    path = isolation.config_path(tmp_path)
    mine = {
        "ServerApp": {"tornado_settings": {"headers": {"X-Mine": "1"}, "debug": True}},
        "LabApp": {"dev_mode": False},
    }
    path.write_text(json.dumps(mine))
    isolation.switch_on(tmp_path)
    data = json.loads(path.read_text())
    assert data["LabApp"] == mine["LabApp"]
    assert data["ServerApp"]["tornado_settings"]["debug"] is True
    assert data["ServerApp"]["tornado_settings"]["headers"] == {"X-Mine": "1", **isolation.HEADERS}
    assert isolation.switch_off(tmp_path) is True
    assert json.loads(path.read_text()) == mine
    path.write_text("{broken")
    try:
        isolation.switch_on(tmp_path)
    except isolation.IsolationConfigError as exc:
        assert "not valid JSON" in str(exc)
    else:
        raise AssertionError("a broken config was overwritten")
    assert path.read_text() == "{broken"


def test_on_with_unwritable_config_dir_is_one_line_error(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    proc = run_threads("on", blocker / "cfg", tmp_path)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: cannot write"), proc.stderr
    assert "JUPYTER_CONFIG_DIR" in lines[0]
    assert blocker.read_text() == "not a folder"


def test_failed_write_keeps_the_previous_file(tmp_path: Path) -> None:
    cfg = tmp_path / "cfg"
    path = isolation.switch_on(cfg)
    before = path.read_bytes()
    folder = path.parent
    folder.chmod(0o500)
    try:
        if os.access(folder, os.W_OK):  # root ignores modes: make the folder a dead end instead
            folder.chmod(0o700)
            path.unlink()
            path.mkdir()
            (path / "keep").write_text("x")
        try:
            isolation.switch_on(cfg)
        except isolation.IsolationConfigError as exc:
            assert str(path) in str(exc)
        else:
            raise AssertionError("switch_on wrote over an unwritable target")
    finally:
        folder.chmod(0o700)
    leftovers = [p.name for p in folder.iterdir() if p.name.endswith(".part")]
    assert leftovers == []
    if path.is_file():
        assert path.read_bytes() == before


def test_a_foreign_file_is_not_on(tmp_path: Path) -> None:
    path = isolation.config_path(tmp_path)
    path.write_text('{"ServerApp": {"tornado_settings": {"headers": {}}}}')
    assert not isolation.is_on(tmp_path)
    path.write_text("{not json")
    assert not isolation.is_on(tmp_path)


def test_hint_names_the_command_only_when_not_isolated() -> None:
    assert isolation.THREADS_COMMAND in isolation.hint(False)
    assert isolation.hint(True) == ""
