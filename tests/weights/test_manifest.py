"""weights.toml: schema validation, the packaged file, and consistency with the model registry."""

from __future__ import annotations

import re

import pytest

from vrestore.errors import WeightsError
from vrestore.models import list_models
from vrestore.weights.manifest import check_consistency, load_manifest, manifest_text, parse_manifest

SHA = "ab" * 32
GOOD = f'["a.b"]\nurl = "https://example.org/x/a.pth"\nsha256 = "{SHA}"\nsize = 10\nlicense = "MIT"\nsource = "s"\n'


def test_good_entry_parses():
    entry = parse_manifest(GOOD)["a.b"]
    assert entry.verified and not entry.bundled
    assert (entry.filename, entry.suffix, entry.size, entry.urls) == ("a.pth", ".pth", 10, ("https://example.org/x/a.pth",))


def test_unverified_entry_parses():
    text = ('[k]\nurl = "https://h/m.ckpt"\nsha256 = "unverified"\nlicense = "L"\nsource = "s"\n'
            'state_key = "state_dict"\n')
    entry = parse_manifest(text)["k"]
    assert entry.sha256 is None and not entry.verified and entry.suffix == ".ckpt" and entry.state_key == "state_dict"


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda t: t.replace('license = "MIT"', 'licence = "MIT"'), "unknown field"),
        (lambda t: t.replace("https://example.org", "http://example.org"), "not an https url"),
        (lambda t: t.replace(f'sha256 = "{SHA}"', 'sha256 = "abc"'), "64 lower-case hex"),
        (lambda t: t.replace("size = 10\n", ""), "'size'"),
        (lambda t: t.replace(f'sha256 = "{SHA}"', 'sha256 = "unverified"'), "has no 'size'"),
        (lambda t: t.replace('source = "s"\n', ""), "'source' is required"),
        (lambda t: t.replace('["a.b"]', '["A B"]'), "lower-case"),
        (lambda t: t + 'file = "weights/a.pth"\n', "exactly one of 'url'"),
        (lambda t: t + "component_of = 3\n", "component_of"),
        (lambda t: t + 'parts = "flow"\n', "'parts' is a list"),
        (lambda t: t + 'parts = ["a.b"]\n', "'parts' is a list"),
        (lambda t: t + 'parts = ["Not A Key"]\n', "'parts' is a list"),
        (lambda t: t + "[[broken", "not valid TOML"),
    ],
)
def test_invalid_entries_are_refused(edit, message):
    with pytest.raises(WeightsError, match=re.escape(message)):
        parse_manifest(edit(GOOD), "w.toml")


def test_packaged_manifest_is_valid():
    manifest = load_manifest()
    assert manifest.source == "weights.toml"
    header = manifest_text()
    for field in ("url", "file", "mirrors", "sha256", "size", "license", "source", "paper", "state_key",
                  "component_of", "parts"):
        assert f"\n# {field} " in header, f"the schema header does not document '{field}'"
    for entry in manifest.values():
        assert entry.url is None or entry.url.startswith("https://")


def test_spynet_is_a_live_component_entry():
    """SpyNet, which PGDENet training starts from, is listed (unverified: its release asset was never hashed)."""
    entry = parse_manifest(manifest_text(), "packaged")["spynet.sintel-final"]
    assert set(entry.component_of) == {"pgdenet.official", "pgdenet.tud"}
    assert not entry.verified and entry.state_key == "params"


def test_registry_and_manifest_are_consistent():
    """Every registered spec's weights name an entry, and every entry is used by a registered model."""
    weights_of = {spec.id: spec.weights for spec in list_models()}
    assert check_consistency(weights_of, load_manifest()) == []


def test_consistency_check_finds_both_directions():
    manifest = parse_manifest(
        GOOD + GOOD.replace('["a.b"]', '["flow"]') + 'component_of = ["x.one"]\n'
        + GOOD.replace('["a.b"]', '["orphan"]')
    )
    problems = check_consistency({"x.one": "a.b", "x.two": "missing", "x.three": None}, manifest)
    assert problems == [
        "model x.two names checkpoint 'missing', which weights.toml lacks",
        "checkpoint 'orphan' is used by no registered model",
    ]
    problems = check_consistency({"x.one": "a.b"}, parse_manifest(GOOD + GOOD.replace('["a.b"]', '["f"]')
                                                                  + 'component_of = ["gone.model"]\n'))
    assert problems == ["checkpoint 'f' is a component of unregistered model(s) gone.model"]


def test_parts_count_as_used_and_must_exist_without_parts_of_their_own():
    flow = GOOD.replace('["a.b"]', '["flow"]')
    manifest = parse_manifest(GOOD + 'parts = ["flow"]\n' + flow)
    assert manifest["a.b"].keys == ("a.b", "flow") and manifest["flow"].keys == ("flow",)
    assert check_consistency({"x.one": "a.b"}, manifest) == []
    assert check_consistency({"x.one": "flow"}, manifest) == ["checkpoint 'a.b' is used by no registered model"]
    problems = check_consistency({"x.one": "a.b"}, parse_manifest(GOOD + 'parts = ["gone"]\n'))
    assert problems == ["checkpoint 'a.b' has part 'gone', which weights.toml lacks"]
    nested = parse_manifest(GOOD + 'parts = ["flow"]\n' + flow + 'parts = ["deep"]\n'
                            + GOOD.replace('["a.b"]', '["deep"]'))
    assert check_consistency({"x.one": "a.b"}, nested) == [
        "checkpoint 'a.b' has part 'flow', which has parts of its own"]
