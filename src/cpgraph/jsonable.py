"""Records as JSON-ready data, named as cpgraph's JSON names things: ``camelCase`` keys.

The dataclasses that an HTTP answer or ``--json`` output carries (a SHACL result, a
contribution's record) turn into JSON the same way, field by field in their order.
"""

from __future__ import annotations

import enum
from dataclasses import fields
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from _typeshed import DataclassInstance


def camel_case(name: str) -> str:
    """A Python field name as a JSON key.

    >>> camel_case("focus_node")
    'focusNode'
    """
    head, *rest = name.split("_")
    return head + "".join(word.capitalize() for word in rest)


def json_fields(record: DataclassInstance) -> dict[str, object]:
    """The fields of ``record`` under ``camelCase`` keys, in order; an enum by its value."""
    return {
        camel_case(f.name): value.value if isinstance(value, enum.Enum) else value
        for f in fields(record)
        for value in (getattr(record, f.name),)
    }
