"""``python -m widget threads on|off|status``: the opt-in isolation config, on real files."""

from __future__ import annotations

import contextlib
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from widget import isolation
from widget.__main__ import main as widget_main


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


def threads_here(
    action: str, config_dir: Path, tmp: Path, monkeypatch: pytest.MonkeyPatch
) -> subprocess.CompletedProcess[str]:
    """``python -m widget threads ACTION`` in this process (cheaper than a new interpreter)."""
    monkeypatch.setenv("JUPYTER_CONFIG_DIR", str(config_dir))
    monkeypatch.setenv("JUPYTER_RUNTIME_DIR", str(tmp / "rt"))
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = widget_main(["threads", action])
    return subprocess.CompletedProcess([], code, out.getvalue(), err.getvalue())


def test_on_and_off_edit_through_a_symlinked_config(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    dotfiles = tmp_path / "dotfiles"
    dotfiles.mkdir()
    target = dotfiles / "jupyter.json"
    target.write_text('{"LabApp": {"dev_mode": false}}')
    target.chmod(0o640)
    cfg = tmp_path / "cfg"
    cfg.mkdir()
    link = cfg / isolation.CONFIG_NAME
    link.symlink_to(Path("..") / "dotfiles" / "jupyter.json")  # relative, as dotfiles tools do
    proc = threads_here("on", cfg, tmp_path, monkeypatch)
    assert proc.returncode == 0, proc.stderr
    assert str(target) in proc.stdout
    assert link.is_symlink() and os.readlink(link) == "../dotfiles/jupyter.json"
    data = json.loads(target.read_text())
    assert data["LabApp"] == {"dev_mode": False}
    assert data["ServerApp"]["tornado_settings"]["headers"] == isolation.HEADERS
    assert (target.stat().st_mode & 0o777) == 0o640, "the user's file keeps its permissions"
    assert sorted(p.name for p in dotfiles.iterdir()) == ["jupyter.json"]  # no temp left
    assert threads_here("status", cfg, tmp_path, monkeypatch).stdout.startswith("threads: on")
    proc = threads_here("off", cfg, tmp_path, monkeypatch)
    assert proc.returncode == 0 and "removed" in proc.stdout, proc.stderr
    assert link.is_symlink() and json.loads(target.read_text()) == {"LabApp": {"dev_mode": False}}
    target.write_text("{}")
    isolation.switch_on(cfg)
    assert isolation.switch_off(cfg) is True
    assert link.is_symlink() and json.loads(target.read_text()) == {}, "emptied, link kept"


def test_a_link_that_cannot_be_written_through_is_refused_in_one_line(tmp_path: Path) -> None:
    cfg = tmp_path / "cfg"
    cfg.mkdir()
    link = cfg / isolation.CONFIG_NAME
    link.symlink_to(tmp_path / "gone" / "jupyter.json")  # its folder does not exist
    proc = run_threads("on", cfg, tmp_path)  # a real process: one line, no traceback
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "whose folder does not exist; left untouched" in lines[0]
    assert link.is_symlink() and not (tmp_path / "gone").exists()
    loop = tmp_path / "loop"
    loop.mkdir()
    (loop / isolation.CONFIG_NAME).symlink_to(loop / isolation.CONFIG_NAME)
    with pytest.raises(isolation.IsolationConfigError, match="symbolic link"):
        isolation.switch_on(loop)
    assert (loop / isolation.CONFIG_NAME).is_symlink()


def test_status_names_a_config_it_cannot_parse(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = isolation.config_path(tmp_path)
    path.write_text("{broken")
    proc = threads_here("status", tmp_path, tmp_path, monkeypatch)
    assert proc.returncode == 2, proc.stdout
    first = proc.stdout.splitlines()[0]
    assert first.startswith("threads: unknown: ") and str(path) in first
    assert "not valid JSON" in first
    assert path.read_text() == "{broken"
