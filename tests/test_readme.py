"""The README's code runs as written: every ```python block, in a fresh process, in an empty folder."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"


def python_blocks(text: str) -> list[str]:
    """The bodies of the fenced ```python blocks of a Markdown text, in order."""
    return re.findall(r"^```python\n(.*?)^```", text, flags=re.MULTILINE | re.DOTALL)


def test_python_blocks_are_found():
    text = "intro\n```python\na = 1\n```\n```bash\nls\n```\n```python\nb = 2\n```\n"
    assert python_blocks(text) == ["a = 1\n", "b = 2\n"]


@pytest.mark.parametrize("index", range(len(python_blocks(README.read_text(encoding="utf-8")))))
def test_the_readme_code_runs_as_written(index, tmp_path):
    code = python_blocks(README.read_text(encoding="utf-8"))[index]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}  # one thread: two spin on a loaded 2-core machine
    done = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True,
                          timeout=300, env=env)
    assert done.returncode == 0, f"README python block {index + 1} fails:\n{done.stderr[-3000:]}"
    assert not any(tmp_path.iterdir()), "the README's code writes files where it runs"
    if "train(" in code:  # the one-screen example: trained, and Algorithm 1's number printed
        assert re.search(r"test error \(rel\. L2\) 0\.\d+ after 40 steps", done.stdout), done.stdout
        assert "0.00246939" in done.stdout
