"""Who contributions are attributed to: the operator and the contributors a file names."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from cpgraph.errors import InputError
from cpgraph.rdf.namespaces import SLUG, instance_iri

"""A contributor's slug, and a contribution's id: lower-case words joined by hyphens."""


@dataclass(frozen=True, slots=True)
class Contributor:
    """Who a contribution is attributed to: a person or organisation with a slug and a name."""

    slug: str
    name: str
    organisation: bool = False

    def __post_init__(self) -> None:
        if not SLUG.fullmatch(self.slug):
            raise ValueError(
                f"a contributor's slug is lower-case letters, digits and hyphens: {self.slug!r}"
            )

    def iri(self, base: str) -> str:
        """The contributor's IRI, ``<base>id/person/<slug>`` or ``<base>id/org/<slug>``."""
        return instance_iri("org" if self.organisation else "person", self.slug, base)


OPERATOR = Contributor(slug="cpgraph-operator", name="cpgraph operator", organisation=True)


def load_contributors(path: Path | None, *, operator_token: str | None) -> dict[str, Contributor]:
    """Tokens and whom they authenticate: the operator's, and those in ``path``.

    ``path`` is a JSON list of ``{"token": ..., "slug": ..., "name": ..., "organisation":
    false}`` objects; each token must be at least 16 characters long.

    Raises:
        InputError: if the file cannot be read or an entry is malformed.
    """
    tokens: dict[str, Contributor] = {}
    if operator_token:
        tokens[operator_token] = OPERATOR
    if path is None:
        return tokens
    try:
        entries = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise InputError(f"cannot read the contributors file {path}: {exc}") from None
    if not isinstance(entries, list):
        raise InputError(f"{path}: expected a JSON list of contributors")
    for entry in entries:
        try:
            token = str(entry["token"])
            contributor = Contributor(
                slug=str(entry["slug"]),
                name=str(entry["name"]),
                organisation=bool(entry.get("organisation", False)),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise InputError(f"{path}: a contributor entry is malformed: {exc}") from None
        if len(token) < 16:
            raise InputError(f"{path}: the token of {contributor.slug!r} is shorter than 16")
        tokens[token] = contributor
    return tokens
