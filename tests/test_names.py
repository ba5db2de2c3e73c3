"""Public-looking class names are unique across siox, and renamed ones keep a deprecated alias."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from collections import defaultdict

import pytest

import siox

# Parallel implementations of one documented shape, in sibling modules (api.md: the msgpack
# parser has "the same encode / Decoder shape" as the default one).
SAME_SHAPE = {"Decoder": {"siox.parser.default", "siox.parser.msgpack"}}


def public_classes() -> dict[str, set[str]]:
    found: dict[str, set[str]] = defaultdict(set)
    for info in pkgutil.walk_packages(siox.__path__, "siox."):
        module = importlib.import_module(info.name)
        for name, value in vars(module).items():
            public = inspect.isclass(value) and not name.startswith("_")
            if public and value.__module__ == module.__name__:
                found[name].add(module.__name__)
    return found


def test_no_two_public_looking_classes_share_a_name() -> None:
    shared = {name: mods for name, mods in public_classes().items() if len(mods) > 1}
    assert shared == SAME_SHAPE


@pytest.mark.parametrize(
    ("old", "new"), [("Packet", "EnginePacket"), ("PacketType", "EnginePacketType")]
)
def test_the_renamed_engineio_packet_classes_keep_their_old_names_with_a_warning(
    old: str, new: str
) -> None:
    import siox.engineio

    with pytest.warns(DeprecationWarning, match=f"siox.engineio.{old} is now"):
        value = getattr(siox.engineio, old)
    assert value is getattr(siox.engineio, new)
    assert old not in siox.engineio.__all__
    with pytest.raises(AttributeError):
        siox.engineio.Nothing  # noqa: B018
