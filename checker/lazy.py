"""Deferred imports: a run pays only for the modules it uses.

``defer("z3")`` puts a placeholder module for Z3 in ``sys.modules``. ``import z3`` in the modules
that own the solver binds the placeholder at no cost, and Z3 is really imported the first time
one of its attributes is used, i.e. when a file is really solved: ``verify --help``, a usage
error and a run whose files all come from the result cache never load Z3 (about 70 ms).

(The standard library's ``importlib.util.LazyLoader`` does not do here: on Python 3.11 the
``import z3`` statement itself reads the module's ``__spec__``, which makes it load.)
After the load the placeholder holds the real module's names, exactly as the ``z3`` package
itself holds a copy of the names of ``z3.z3``.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
import types


class _Deferred(types.ModuleType):
    """A module not imported yet: any attribute it does not have imports the real one."""

    def __getattr__(self, attr: str):
        return getattr(_import(self), attr)


def _import(placeholder: _Deferred) -> types.ModuleType:
    name = placeholder.__name__
    if sys.modules.get(name) is placeholder:
        del sys.modules[name]
    real = importlib.import_module(name)
    for key, value in real.__dict__.items():
        if key != "__class__":
            placeholder.__dict__[key] = value
    return real


def defer(name: str) -> None:
    """Make ``import NAME`` lazy in this process, unless it was imported already."""
    if name in sys.modules or "." in name:
        return
    try:
        spec = importlib.util.find_spec(name)
    except (ImportError, ValueError):
        return
    if spec is None:
        return  # not installed: the real import fails where it is used, as it always did
    placeholder = _Deferred(name)
    placeholder.__spec__ = spec  # what the import statement reads; not _initializing, so no load
    sys.modules[name] = placeholder


def loaded(name: str) -> bool:
    """Whether the module has really been imported (not just deferred)."""
    module = sys.modules.get(name)
    return module is not None and type(module) is not _Deferred


def load(name: str) -> None:
    """Import a deferred module now (e.g. once in a parent, before its workers are forked)."""
    module = sys.modules.get(name)
    if type(module) is _Deferred:
        _import(module)
