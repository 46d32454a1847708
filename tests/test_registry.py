"""The plugin registry: built-ins and third parties alike, and a broken third party reported, not fatal."""

from __future__ import annotations

from importlib.metadata import EntryPoint

import pytest

from plugins import registry
from tests.conftest import run_python


def test_the_built_ins_are_registered():
    assert "onnx" in registry.names("model_format")
    assert "cifar10" in registry.names("testset_reader")
    assert {"original", "clean", "multilabel", "soft"} <= set(registry.names("label_protocol"))


def test_an_unknown_name_lists_the_known_ones():
    with pytest.raises(LookupError, match=r"no model format plugin named 'tflite' \(available: .*onnx"):
        registry.get("model_format", "tflite")


def test_registering_a_name_twice_warns(monkeypatch):
    monkeypatch.setitem(registry._entries, "slicer", dict(registry._entries["slicer"]))
    with pytest.warns(UserWarning, match="slicer plugin 'class' registered twice"):
        registry.register("slicer", "class")(lambda root, manifest: {})


def test_a_broken_third_party_plugin_is_reported_by_name(monkeypatch):
    broken = EntryPoint(name="broken-format", value="zooboard_no_such_module:plugin", group=registry.ENTRY_POINT_GROUP)
    monkeypatch.setattr(registry, "entry_points", lambda group: [broken])
    monkeypatch.setattr(registry, "_loaded", False)
    monkeypatch.setattr(registry, "_broken", {})
    assert "onnx" in registry.names("model_format")  # loading went on
    assert registry.broken_plugins() == {
        "broken-format": "ModuleNotFoundError: No module named 'zooboard_no_such_module'"
    }


RACE = """
import threading
from plugins import registry

start = threading.Barrier(8)
seen = []

def ask():
    start.wait()
    seen.append(tuple(registry.names("model_format")) + tuple(registry.names("label_protocol")))

threads = [threading.Thread(target=ask) for _ in range(8)]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()
print(len(set(seen)), sorted(set(seen))[0])
"""


def test_threads_asking_at_once_all_find_every_plugin():
    """gunicorn's threads: the first requests of a fresh process ask the registry together. Before the lock
    the later threads found it half filled ("no model format plugin named 'onnx' (available: none)")."""
    done = run_python("-c", RACE)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "1 ('onnx', 'timm', 'clean', 'multilabel', 'original', 'soft')"
