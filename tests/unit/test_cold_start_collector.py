"""A cold start does not walk the third-party modules' objects again in every full collection:
importing the package freezes what was allocated before it (background_posting/__init__.py)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

LAYER = Path(__file__).resolve().parents[2] / "layers" / "common"

PROBE = """
import gc, sys
sys.path.insert(0, {layer!r})
import botocore.session  # a handler imports its third-party modules first
frozen_before = gc.get_freeze_count()
import background_posting
print(frozen_before, gc.get_freeze_count(), gc.isenabled())
"""


def test_importing_the_package_freezes_what_was_loaded_before_it() -> None:
    answer = subprocess.run(
        [sys.executable, "-c", PROBE.format(layer=str(LAYER))],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    before, after, enabled = answer.stdout.split()
    assert int(before) == 0
    assert int(after) > 10_000  # botocore alone tracks tens of thousands of objects
    assert enabled == "True"  # collections still run, over what comes after
