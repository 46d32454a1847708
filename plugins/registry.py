"""One registry for every plugin kind: built-ins register by decorator, third parties by entry point.

Third-party packages declare a module in the ``zooboard.plugins`` entry-point group; importing it runs
its ``@register`` decorators, exactly as the built-ins do.
"""

from __future__ import annotations

import importlib
import logging
import threading
import warnings
from importlib.metadata import entry_points

log = logging.getLogger(__name__)

KINDS = ("model_format", "testset_reader", "label_protocol", "metric", "slicer", "summary")
ENTRY_POINT_GROUP = "zooboard.plugins"
BUILTIN_MODULES = (
    "plugins.formats.onnx_format",
    "plugins.formats.timm_format",
    "plugins.readers.cifar10",
    "plugins.readers.imagenet",
    "plugins.protocols.original",
    "plugins.protocols.clean",
    "plugins.protocols.multilabel",
    "plugins.protocols.soft",
    "plugins.slicers.by_class",
    "plugins.slicers.superclass",
    "plugins.slicers.label_status",
    "plugins.slicers.label_multiplicity",
    "plugins.slicers.annotations",
    "plugins.summaries.macro_std",
)

_entries: dict[str, dict[str, object]] = {kind: {} for kind in KINDS}
_broken: dict[str, str] = {}
_loaded = False
_loading = False
_lock = threading.RLock()


def register(kind: str, name: str | None = None):
    """Decorator: registers a class (instantiated once) or a function under kind and its name: the class's own
    `name` attribute, written once, or the name given here (which a class without one then takes)."""
    if kind not in KINDS:
        raise ValueError(f"unknown plugin kind {kind!r}; kinds are {', '.join(KINDS)}")

    def decorate(obj):
        own = getattr(obj, "name", None) if isinstance(obj, type) else None
        if name is not None and own is not None and own != name:
            raise ValueError(f"{kind} plugin {obj.__name__} is named {own!r}; it cannot register as {name!r}")
        key = name or own
        if not key:
            raise ValueError(f"{kind} plugin {obj.__name__} has no name: give one to register() or a name attribute")
        if isinstance(obj, type) and own is None:
            obj.name = key
        if key in _entries[kind]:
            warnings.warn(f"{kind} plugin {key!r} registered twice; the later one wins", stacklevel=2)
        _entries[kind][key] = obj() if isinstance(obj, type) else obj
        return obj

    return decorate


def get(kind: str, name: str):
    """The plugin registered as kind/name; LookupError naming the available ones otherwise."""
    load_all()
    try:
        return _entries[kind][name]
    except KeyError:
        available = ", ".join(sorted(_entries[kind])) or "none"
        raise LookupError(f"no {kind.replace('_', ' ')} plugin named {name!r} (available: {available})") from None


def names(kind: str) -> list[str]:
    load_all()
    return sorted(_entries[kind])


def broken_plugins() -> dict[str, str]:
    """Entry points that failed to load, by name, with the reason: shown to operators, never fatal."""
    load_all()
    return dict(_broken)


def load_all() -> None:
    """Imports the built-ins, then every installed entry point, once per process.

    Threads (gunicorn's) wait for the first one's imports to finish, rather than finding the registry half
    filled; a call made by those imports themselves, in the loading thread, returns at once."""
    global _loaded, _loading
    if _loaded:
        return
    with _lock:
        if _loaded or _loading:
            return
        _loading = True
        try:
            for module in BUILTIN_MODULES:
                importlib.import_module(module)
            for entry_point in entry_points(group=ENTRY_POINT_GROUP):
                try:
                    entry_point.load()
                except Exception as error:  # a broken third-party plugin must not take the server down
                    _broken[entry_point.name] = f"{type(error).__name__}: {error}"
                    log.exception("plugin %s (%s) failed to load", entry_point.name, entry_point.value)
            _loaded = True
        finally:
            _loading = False
