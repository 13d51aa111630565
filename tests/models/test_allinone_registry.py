"""Importing vrestore.models alone registers every all-in-one model (checked in a fresh interpreter)."""

from __future__ import annotations

import subprocess
import sys


def test_package_import_registers_the_all_in_one_models():
    code = "from vrestore.models import list_models; print(' '.join(s.id for s in list_models()))"
    ids = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert {"promptir.3task", "promptir.test", "dynet.l", "dynet.s", "dynet.test", "dppd.test"} <= set(ids)
