"""StageProfile and `restore --profile`: every stage is reported, in the human line and in --json."""

from __future__ import annotations

import threading
import time

import pytest

from vrestore.engine.profile import NO_PROFILE, STAGES, StageProfile


def test_stages_accumulate_from_threads() -> None:
    profile = StageProfile("cpu")

    def work() -> None:
        for _ in range(100):
            profile.add("decode", 0.01)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    with profile.stage("model"):
        time.sleep(0.01)
    profile.finish()
    report = profile.report()
    assert set(report) == {*STAGES, "wall"}
    assert report["decode"] == pytest.approx(4.0)
    assert report["model"] > 0 and report["wall"] >= report["model"]
    assert report["encode"] == 0.0


def test_unknown_stage_is_an_error() -> None:
    with pytest.raises(KeyError, match="unknown profile stage 'gpu'"):
        StageProfile().add("gpu", 1.0)


def test_disabled_profile_records_nothing() -> None:
    with NO_PROFILE.stage("model"):
        pass
    NO_PROFILE.add("whatever", 1.0)  # not even checked: the disabled profile costs nothing
    assert NO_PROFILE.seconds("model") == 0.0
