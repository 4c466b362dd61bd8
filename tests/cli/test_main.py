"""The ``mufno`` command: its subcommands are wired, user errors end in one clear line, a full disk
ends in its one line and exit code (no crash after it)."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from mufno_core import __version__
from mufno_core.cli.main import main

ROOT = Path(__file__).resolve().parents[2]


def test_version_and_help(capsys):
    try:
        main(["--version"])
    except SystemExit as stop:
        assert stop.code == 0
    assert __version__ in capsys.readouterr().out
    assert main([]) == 2
    help_text = capsys.readouterr().out
    assert "data" in help_text and "sweep" in help_text


def test_user_error_is_one_line_without_traceback(tmp_path, capsys):
    """A missing results folder / bad preset: exit code 2 and a message, never a traceback. (In
    this process; the signal and full-disk tests run ``python -m mufno_core.cli.main`` itself.)"""
    with pytest.raises(SystemExit) as stop:
        main(["sweep", "darcy_lr", "--preset", "nonsense", "--results", str(tmp_path)])
    err = capsys.readouterr().err
    assert stop.value.code == 2
    assert "Traceback" not in err
    assert "nonsense" in err


# A tmpfs of 200 KiB in a private mount namespace (no root needed where user namespaces are on),
# filled up to FREE KiB; the command runs on it, then the folder is listed.
ON_A_FULL_DISK = """set -e
mount -t tmpfs -o size=200k tmpfs "$1"
head -c $(( (200 - $2) * 1024 )) /dev/zero > "$1/filler"
shift 2
set +e
"$@"
echo "exit $?"
ls -a "$DISK"
"""


def _can_mount_a_tmpfs(folder: Path) -> bool:
    if shutil.which("unshare") is None:
        return False
    done = subprocess.run(["unshare", "-rm", "sh", "-c", f"mount -t tmpfs -o size=200k tmpfs {folder}"],
                          capture_output=True)
    return done.returncode == 0


@pytest.mark.skipif(sys.platform != "linux", reason="a tmpfs in a mount namespace")
@pytest.mark.parametrize("command", ["data", "sweep"])
def test_a_full_disk_ends_in_one_line_and_no_crash(command, tmp_path, processes):
    """``mufno data`` (and a sweep that must generate its data) on a disk with 4 KiB free: the one
    'disk full' line, exit 2, the partial file removed; before the fix HDF5's failed close left ids
    whose finalisation crashed the process with SIGSEGV (exit 139) after the message (also with
    20 KiB free)."""
    disk = tmp_path / "full"
    disk.mkdir()
    if not _can_mount_a_tmpfs(disk):
        pytest.skip("cannot mount a tmpfs here (no user namespaces); see the mocked-ENOSPC test")
    cli = [sys.executable, "-m", "mufno_core.cli.main"]
    cli += (["data", "burgers", "--preset", "smoke", "--out", str(disk / "b.h5"), "--no-progress"]
            if command == "data" else
            ["sweep", "burgers_lr", "--preset", "smoke", "--data-dir", str(disk), "--results",
             str(tmp_path / "results"), "--limit", "1", "--no-progress"])
    done = processes.run(["unshare", "-rm", "sh", "-c", ON_A_FULL_DISK, "sh", str(disk),
                          "4", *cli], cwd=ROOT, env={**_env(), "DISK": str(disk)})
    assert "exit 2" in done.stdout.splitlines(), (done.stdout, done.stderr)
    assert set(done.stdout.splitlines()[-4:]) >= {".", "..", "filler"}  # no partial file
    assert not any(".h5" in line for line in done.stdout.splitlines())
    lines = done.stderr.strip().splitlines()
    assert len(lines) == (1 if command == "data" else 2), done.stderr  # a sweep: its header too
    assert "disk full" in lines[-1] and "Traceback" not in done.stderr


def test_a_disk_full_at_the_write_is_one_line_mocked(tmp_path, processes):
    """ENOSPC raised by a chunk's write itself (also where no tmpfs can be mounted)."""
    code = ("import errno, sys\n"
            "import mufno_core.data.generate as g\n"
            "class Full:\n"
            "    def __init__(self, file): self.file, self.left = file, 8192\n"
            "    def write(self, data):\n"
            "        if self.left < len(data): raise OSError(errno.ENOSPC, 'No space left on device')\n"
            "        self.left -= len(data); return self.file.write(data)\n"
            "    def __getattr__(self, name): return getattr(self.file, name)\n"
            "init = g.DiskWriter.__init__\n"
            "def full(self, path): init(self, path); self.file = Full(self.file)\n"
            "g.DiskWriter.__init__ = full\n"
            "from mufno_core.cli.main import main\n"
            "sys.exit(main(sys.argv[1:]))\n")
    out = tmp_path / "b.h5"
    done = processes.run([sys.executable, "-c", code, "data", "burgers", "--preset", "smoke",
                          "--out", str(out), "--no-progress"], cwd=ROOT, env=_env())
    assert done.returncode == 2, done.stderr
    assert done.stderr.strip().splitlines() == [done.stderr.strip()]
    assert "disk full" in done.stderr and "partial file was removed" in done.stderr
    assert list(tmp_path.iterdir()) == []


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT)}
