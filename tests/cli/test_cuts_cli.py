"""restore reports scene cuts in --json; --no-cut-detection and --cuts (issue 22)."""

from __future__ import annotations

import json
from pathlib import Path

from tests.test_scene_cuts import davis


def test_cuts_in_json_and_options(run_cli, shared_data: Path, make_clip) -> None:
    shots = davis(shared_data, "blackswan", 5, 96) + davis(shared_data, "breakdance", 4, 96)
    source = make_clip("shots.mkv", shots, codec="ffv1")

    def cuts(*args: str) -> list[int]:
        result = run_cli("restore", source, source.with_name("out.mkv"), "--model", "tiny.test", "--json",
                         "--overwrite", *args)
        assert result.code == 0, result.stderr
        return json.loads(result.stdout.splitlines()[-1])["cuts"]

    assert cuts() == [5]
    assert cuts("--no-cut-detection") == []
    assert cuts("--cuts", "2,7,40") == [2, 7]
    assert run_cli("restore", source, "--cuts", "2,x").code != 0
