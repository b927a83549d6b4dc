"""The one Jinja2 environment that renders cpgraph's pages and charts.

Templates live in ``cpgraph/web/templates`` and are read by Jinja2's :class:`PackageLoader`,
so they are found in an installed package as in a checkout. Autoescaping is on for ``.html``,
``.svg`` and ``.xml`` templates and undefined names are errors (:class:`StrictUndefined`).
Values are escaped with the entity spellings of :func:`html.escape` (``&quot;``, ``&#x27;``),
as the pages have always been written. A URL's query is written with Jinja2's own
``urlencode`` filter, which for a dict is :func:`urllib.parse.urlencode` (spaces as ``+``).
"""

from __future__ import annotations

from typing import Any

import pyoxigraph as ox
from jinja2 import (
    Environment,
    PackageLoader,
    StrictUndefined,
    pass_eval_context,
    select_autoescape,
)
from jinja2.nodes import EvalContext
from markupsafe import Markup, escape


@pass_eval_context
def _escaped(context: EvalContext, value: Any) -> Any:
    """A value printed into an autoescaped template: escaped, quotes as ``&quot;`` and
    ``&#x27;``; markup (macros, prebuilt fragments) as it is."""
    if not context.autoescape or hasattr(value, "__html__"):
        return value
    return Markup(str(escape(value)).replace("&#34;", "&quot;").replace("&#39;", "&#x27;"))


def _fixed(value: float) -> str:
    """A coordinate with one decimal, as the charts write them."""
    return f"{value:.1f}"


ENVIRONMENT = Environment(
    loader=PackageLoader("cpgraph.web"),
    autoescape=select_autoescape(("html", "svg", "xml"), default_for_string=True),
    undefined=StrictUndefined,
    finalize=_escaped,
    keep_trailing_newline=True,
    auto_reload=False,
)
ENVIRONMENT.filters["fixed"] = _fixed
ENVIRONMENT.tests.update(
    iri=lambda term: isinstance(term, ox.NamedNode),
    bnode=lambda term: isinstance(term, ox.BlankNode),
    literal=lambda term: isinstance(term, ox.Literal),
)
# tojson in the page's <script type="application/json">: the keys in the order given
ENVIRONMENT.policies["json.dumps_kwargs"] = {"sort_keys": False}


def render(name: str, **context: Any) -> str:
    """The template ``name`` rendered with ``context``: a whole page or document."""
    return ENVIRONMENT.get_template(name).render(**context)


def fragment(name: str, **context: Any) -> Markup:
    """The template ``name`` rendered with ``context``, as markup that another template may
    embed as it is (its values were escaped when it was rendered)."""
    return Markup(render(name, **context))
