"""Copying an entity's fields into a JSON-ready dict, from a table of field names.

Views and snapshots mostly show an entity's attributes one to one, some under another key
(``startDate`` for ``start_date``). ``record`` writes that table once instead of a
``"key": entity.attribute`` line a field; keys keep the order they are given in, which is the
order the response shows them in.
"""

from __future__ import annotations

from typing import Any

__all__ = ["record"]


def record(entity: object, *names: str, **renamed: str) -> dict[str, Any]:
    """``{name: entity.name}`` for each of ``names``, then ``{key: entity.attribute}`` for each
    ``key=attribute`` of ``renamed``."""
    data = {name: getattr(entity, name) for name in names}
    data.update({key: getattr(entity, attribute) for key, attribute in renamed.items()})
    return data
