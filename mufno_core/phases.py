"""Named points of a command's run (``import``, ``validate``, ``worker-init``, ``unit``, ``train``:
a trial starts training, ``write``) that a test can see reached and hold, to send a signal at
exactly that phase.

Off unless the environment sets ``MUFNO_PHASE_DIR``: then every process that reaches phase P
creates the file ``DIR/P.PID``, and if P is listed in ``MUFNO_PHASE_HOLD`` (comma-separated) it
waits there until the file ``DIR/P.go`` exists. Signals are handled while it waits. Only the
standard library is imported, so the hook works before the heavy imports of a command.
"""

from __future__ import annotations

import os
import time
from pathlib import Path


def reach(phase: str, poll: float = 0.02) -> None:
    """Mark ``phase`` as reached by this process; hold here if a test asked to."""
    folder = os.environ.get("MUFNO_PHASE_DIR")
    if not folder:
        return
    (Path(folder) / f"{phase}.{os.getpid()}").touch()
    if phase in os.environ.get("MUFNO_PHASE_HOLD", "").split(","):
        while not (Path(folder) / f"{phase}.go").exists():
            time.sleep(poll)
