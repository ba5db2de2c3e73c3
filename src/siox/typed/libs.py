"""The optional model libraries (pydantic, msgspec), recognised without importing them.

A pydantic model or a msgspec Struct can only exist once its library is imported, so a type is
checked against ``sys.modules``: siox never imports either library, and neither is required.
"""

from __future__ import annotations

import sys
from typing import Any

__all__ = ["is_msgspec_struct", "is_pydantic_model", "msgspec", "pydantic"]


def pydantic() -> Any:
    """The pydantic module if something imported it, else None."""
    return sys.modules.get("pydantic")


def msgspec() -> Any:
    """The msgspec module if something imported it, else None."""
    return sys.modules.get("msgspec")


def is_pydantic_model(tp: Any) -> bool:
    """Whether ``tp`` is a pydantic (v2) model class."""
    module = pydantic()
    return (
        module is not None
        and isinstance(tp, type)
        and issubclass(tp, module.BaseModel)
        and hasattr(tp, "model_validate")
    )


def is_msgspec_struct(tp: Any) -> bool:
    """Whether ``tp`` is a msgspec Struct class."""
    module = msgspec()
    return module is not None and isinstance(tp, type) and issubclass(tp, module.Struct)
