"""The graphs a remote store keeps for cpgraph, the update texts that keep them in step, and
the probe that finds how it stores literals (:mod:`cpgraph.store.remote`).

Every write is one update request: the statements go into (or out of) their graph, the merged
:data:`UNION_GRAPH` and the :data:`CATALOGUE_GRAPH` of named graphs, so that a reader never
sees one changed without the others. Terms are written by pyoxigraph (``str`` of a term is its
SPARQL form), never spliced from text.
"""

from __future__ import annotations

import contextlib
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator

import pyoxigraph as ox

from cpgraph.errors import InputError, StoreTimeoutError, StoreUnreachableError
from cpgraph.rdf.namespaces import SD
from cpgraph.store.http import SparqlClient
from cpgraph.store.remote_answers import ACCEPT, read_answer
from cpgraph.store.union import DEFAULT, DEFAULT_GRAPH_NAME, KEPT_DEFAULT

UNION_GRAPH = "urn:x-cpgraph:union"
CATALOGUE_GRAPH = "urn:x-cpgraph:graphs"
PROBE_GRAPH = "urn:x-cpgraph:probe"
EMPTY_GRAPH = "urn:x-cpgraph:empty"  # never written: a dataset's graph that must hold nothing
RESERVED = frozenset({UNION_GRAPH, CATALOGUE_GRAPH, PROBE_GRAPH, EMPTY_GRAPH, DEFAULT_GRAPH_NAME})
NAMED_GRAPH = f"<{SD}NamedGraph>"
REQUEST = 1_000  # statements written in one update request (see write_texts)
STAGING = "urn:x-cpgraph:staging/"  # the graphs a larger write is staged in (see StagedWrite)
_OPERATION = 250  # in one of its operations (each also written to the union)
# A statement with no blank node, in every INSERT template: Virtuoso fails on a template whose
# statements all hold blank nodes, in more than one graph.
_GROUND = f"GRAPH <{CATALOGUE_GRAPH}> {{ <{CATALOGUE_GRAPH}> a <{SD}Graph> }}"
# The graphs that are not part of the dataset: a statement only they hold is in no graph.
_NOT_DATA = (UNION_GRAPH, CATALOGUE_GRAPH, PROBE_GRAPH)


def _in_data_graph(graphs: Iterable[str]) -> str:
    """The filter on ``?h`` of a graph of the dataset: none of ``graphs`` (with those of
    :data:`_NOT_DATA`), and no staging graph."""
    kept = ", ".join(f"<{g}>" for g in (*graphs, *_NOT_DATA))
    return f'FILTER (?h NOT IN ({kept}) && !STRSTARTS(STR(?h), "{STAGING}"))'


def unreserved(graph: str) -> str:
    """``graph``, if it is not a name cpgraph keeps for itself.

    Raises:
        InputError: if it is.
    """
    if graph in RESERVED:
        raise InputError(f"{graph} is reserved: cpgraph keeps it for itself")
    return graph


def dataset_form(default: list[str], named: list[str]) -> list[tuple[str, str]]:
    """The protocol's parameters naming a dataset (no graph: one that holds nothing, so that a
    store adds none of its own)."""
    return [("default-graph-uri", g) for g in default or [EMPTY_GRAPH]] + [
        ("named-graph-uri", g) for g in named or [EMPTY_GRAPH]
    ]


def has_blank(quad: ox.Quad) -> bool:
    """Whether a quad holds a blank node."""
    return isinstance(quad.subject, ox.BlankNode) or isinstance(quad.object, ox.BlankNode)


def is_reserved(graph: ox.NamedNode | ox.BlankNode | ox.DefaultGraph) -> bool:
    """Whether a quad's graph is one cpgraph keeps for itself."""
    return isinstance(graph, ox.NamedNode) and graph.value in RESERVED


def physical(graph: ox.NamedNode | ox.BlankNode | ox.DefaultGraph) -> str:
    """The store's graph for a graph of the dataset (its default graph is kept apart)."""
    return DEFAULT_GRAPH_NAME if isinstance(graph, ox.DefaultGraph) else str(graph.value)


def quads_text(quads: Iterable[ox.Quad]) -> str:
    """Quads as the ``GRAPH`` blocks of ``INSERT DATA`` or ``DELETE DATA``."""
    by_graph: dict[str, list[str]] = defaultdict(list)
    for q in quads:
        by_graph[physical(q.graph_name)].append(f"{q.subject} {q.predicate} {q.object} .")
    return " ".join(f"GRAPH <{g}> {{ {' '.join(lines)} }}" for g, lines in by_graph.items())


def write_texts(removed: list[ox.Quad], added: list[ox.Quad]) -> list[str]:
    """The update requests that take ``removed`` out of their graphs and, where no other
    graph holds them, out of the union, and put ``added`` into their graphs, the union and the
    catalogue: one request when the change holds at most :data:`REQUEST` statements (all or
    nothing), else several, the removals first.

    Each operation holds at most :data:`_OPERATION` statements and each request a few
    operations: Virtuoso compiles an operation into SQL of bounded length, and a request
    into a bounded code vector. Statements that share blank nodes go in one operation (an
    ``INSERT`` template: a label then names one node in every graph; stores such as Virtuoso
    refuse blank nodes in ``INSERT DATA``).
    """
    operations: list[tuple[int, str]] = []
    for start in range(0, len(removed), _OPERATION):
        gone = removed[start : start + _OPERATION]
        rows = " ".join(f"({q.subject} {q.predicate} {q.object})" for q in gone)
        operations.append((len(gone), f"DELETE DATA {{ {quads_text(gone)} }}"))
        operations.append(
            (
                len(gone),
                f"DELETE {{ GRAPH <{UNION_GRAPH}> {{ ?s ?p ?o }} }} WHERE {{ VALUES (?s ?p ?o) "
                f"{{ {rows} }} FILTER NOT EXISTS {{ GRAPH ?h {{ ?s ?p ?o }} "
                f"{_in_data_graph(())} }} }}",
            )
        )
    catalogue = _catalogue_text(added)
    if catalogue:
        operations.append((0, catalogue))
    operations += _insertions(added, with_union=True)
    return _requests(operations)


def _catalogue_text(added: Iterable[ox.Quad]) -> str:
    """The operation that lists the named graphs of ``added`` in the catalogue ("" if none)."""
    graphs = sorted({q.graph_name.value for q in added if isinstance(q.graph_name, ox.NamedNode)})
    catalogue = " ".join(f"<{g}> a {NAMED_GRAPH} ." for g in graphs)
    return f"INSERT DATA {{ GRAPH <{CATALOGUE_GRAPH}> {{ {catalogue} }} }}" if graphs else ""


def _insertions(quads: list[ox.Quad], *, with_union: bool) -> list[tuple[int, str]]:
    """The operations that insert ``quads`` (each also into the union, ``with_union``), with
    the statements of ``quads`` each holds."""

    def written(part: list[ox.Quad]) -> str:
        return quads_text(_with_union(part) if with_union else part)

    operations: list[tuple[int, str]] = []
    plain = [q for q in quads if not has_blank(q)]
    for start in range(0, len(plain), _OPERATION):
        part = plain[start : start + _OPERATION]
        operations.append((len(part), f"INSERT DATA {{ {written(part)} }}"))
    for group in _templates([q for q in quads if has_blank(q)]):
        operations.append((len(group), f"INSERT {{ {written(group)} {_GROUND} }} WHERE {{ }}"))
    return operations


def _requests(operations: list[tuple[int, str]]) -> list[str]:
    """Operations joined into requests of at most :data:`REQUEST` statements each."""
    requests: list[list[str]] = [[]]
    held = 0
    for size, text in operations:
        if requests[-1] and held + size > REQUEST:
            requests.append([])
            held = 0
        requests[-1].append(text)
        held += size
    return [" ;\n".join(texts) for texts in requests if texts]


class StagedWrite:
    """A write too large for one request, made all or nothing all the same: its statements
    are first written, in as many requests as they need, into staging graphs of their own
    (named under :data:`STAGING`: in no catalogue, no union, no answer), then one request
    moves them into their graphs, the union and the catalogue and drops the staging graphs.
    Cut before that request, the write left nothing the dataset shows; its staging graphs
    are dropped by :meth:`discard_text` where the store can still be reached."""

    def __init__(self, *, first: Iterable[str] = ()) -> None:
        """``first``: operations the last request makes before it applies the write (the
        drop of a graph the write replaces)."""
        self._first = list(first)
        self._key = uuid.uuid4().hex
        self._added: dict[str, str] = {}  # a graph of the store -> its staging graph
        self._removed: dict[str, str] = {}
        self._catalogue: set[ox.Quad] = set()

    @property
    def empty(self) -> bool:
        """Whether nothing was staged yet."""
        return not self._added and not self._removed

    def _staged(self, quads: list[ox.Quad], table: dict[str, str]) -> list[ox.Quad]:
        staged = []
        for q in quads:
            graph = physical(q.graph_name)
            name = table.setdefault(
                graph, f"{STAGING}{self._key}/{len(self._added) + len(self._removed)}"
            )
            staged.append(ox.Quad(q.subject, q.predicate, q.object, ox.NamedNode(name)))
        return staged

    def texts(self, removed: list[ox.Quad], added: list[ox.Quad]) -> list[str]:
        """The requests that stage ``removed`` and ``added`` (any number of calls)."""
        self._catalogue.update(q for q in added if isinstance(q.graph_name, ox.NamedNode))
        return _requests(
            _insertions(self._staged(removed, self._removed), with_union=False)
            + _insertions(self._staged(added, self._added), with_union=False)
        )

    def publish_text(self) -> str:
        """The one request that applies what was staged: removals first, as in
        :func:`write_texts`, then additions, and the staging graphs dropped."""
        operations = list(self._first)
        for graph, staged in sorted(self._removed.items()):
            operations += [
                f"DELETE {{ GRAPH <{graph}> {{ ?s ?p ?o }} }} WHERE {{ GRAPH <{staged}> "
                "{ ?s ?p ?o } }",
                f"DELETE {{ GRAPH <{UNION_GRAPH}> {{ ?s ?p ?o }} }} WHERE {{ GRAPH <{staged}> "
                f"{{ ?s ?p ?o }} FILTER NOT EXISTS {{ GRAPH ?h {{ ?s ?p ?o }} "
                f"{_in_data_graph(())} }} }}",
            ]
        catalogue = _catalogue_text(self._catalogue)
        if catalogue:
            operations.append(catalogue)
        for graph, staged in sorted(self._added.items()):
            # One graph a template: Virtuoso fails on a template of variables in two graphs.
            operations += [
                f"INSERT {{ GRAPH <{target}> {{ ?s ?p ?o }} }} WHERE {{ GRAPH <{staged}> "
                "{ ?s ?p ?o } }"
                for target in (graph, UNION_GRAPH)
            ]
        return " ;\n".join([*operations, self.discard_text()])

    def discard_text(self) -> str:
        """The request that drops the staging graphs."""
        staged = sorted({*self._added.values(), *self._removed.values()})
        return " ;\n".join(f"DROP SILENT GRAPH <{g}>" for g in staged)


def send_write(send: Callable[[str], None], removed: list[ox.Quad], added: list[ox.Quad]) -> None:
    """Send a change by ``send``, all or nothing: the request of :func:`write_texts`, or, for
    a change too large for one, the requests of a :class:`StagedWrite`.

    Raises:
        StoreUnreachableError, StoreTimeoutError: if the store fails (the staging graphs of a
            failed write are dropped where the store can still be reached).
    """
    texts = write_texts(removed, added)
    if len(texts) <= 1:
        for text in texts:
            send(text)
        return
    staged = StagedWrite()
    with _discarded_on_failure(send, staged):
        for text in staged.texts(removed, added):
            send(text)
        send(staged.publish_text())


def send_replace(
    send: Callable[[str], None], graph: str, quads: list[ox.Quad], *, listed: bool
) -> None:
    """Send, by ``send``, that the store's graph ``graph`` holds exactly ``quads`` (and is in
    the catalogue, ``listed``), all or nothing: the drop of :func:`drop_graph_text` and the
    insertions in one request when they fit, else the insertions staged and the drop made
    by the last request.

    Raises:
        InputError: if a quad is in a reserved graph.
        StoreUnreachableError, StoreTimeoutError: if the store fails.
    """
    if any(is_reserved(q.graph_name) for q in quads):
        raise InputError("the write goes into a graph that cpgraph keeps for itself")
    first = [drop_graph_text(graph), *([add_graph_text(graph)] if listed else [])]
    texts = write_texts([], quads)
    if len(texts) <= 1:
        send(" ;\n".join([*first, *texts]))
        return
    staged = StagedWrite(first=first)
    with _discarded_on_failure(send, staged):
        for text in staged.texts([], quads):
            send(text)
        send(staged.publish_text())


def send_stream(send: Callable[[str], None], quads: Iterable[ox.Quad]) -> None:
    """Send the addition of ``quads`` by ``send``, all or nothing, without holding them all:
    one request when they fit, else staged in batches of :data:`REQUEST` as they come and
    applied by one last request. Those with blank nodes are held until the end (a later one
    may share a node).

    Raises:
        InputError: if a quad is in a reserved graph (nothing of the write is shown).
        StoreUnreachableError, StoreTimeoutError: if the store fails.
    """
    batch: list[ox.Quad] = []
    blank: list[ox.Quad] = []
    staged = StagedWrite()
    with _discarded_on_failure(send, staged):
        for q in quads:
            if is_reserved(q.graph_name):
                raise InputError(f"{q.graph_name} is reserved: cpgraph keeps it for itself")
            (blank if has_blank(q) else batch).append(q)
            if len(batch) >= REQUEST:
                for text in staged.texts([], batch):
                    send(text)
                batch = []
        if staged.empty:
            send_write(send, [], batch + blank)
            return
        for text in staged.texts([], batch + blank):
            send(text)
        send(staged.publish_text())


@contextlib.contextmanager
def _discarded_on_failure(send: Callable[[str], None], staged: StagedWrite) -> Iterator[None]:
    """Drop ``staged``'s graphs if the block fails, where the store can still be reached
    (else they stay, in no answer, until a later write drops them)."""
    try:
        yield
    except BaseException:
        if not staged.empty:
            with contextlib.suppress(StoreUnreachableError, StoreTimeoutError):
                send(staged.discard_text())
        raise


def _with_union(quads: list[ox.Quad]) -> list[ox.Quad]:
    union = ox.NamedNode(UNION_GRAPH)
    return quads + [ox.Quad(q.subject, q.predicate, q.object, union) for q in quads]


def _templates(quads: list[ox.Quad]) -> list[list[ox.Quad]]:
    """``quads`` in groups of at most :data:`_OPERATION` statements, but for those that share
    a blank node (directly or through others), which are always in one group."""
    parent: dict[ox.BlankNode, ox.BlankNode] = {}

    def root(node: ox.BlankNode) -> ox.BlankNode:
        while parent.setdefault(node, node) != node:
            parent[node] = parent[parent[node]]
            node = parent[node]
        return node

    for q in quads:
        blanks = [t for t in (q.subject, q.object) if isinstance(t, ox.BlankNode)]
        for other in blanks[1:]:
            parent[root(other)] = root(blanks[0])
    sets: dict[ox.BlankNode, list[ox.Quad]] = defaultdict(list)
    for q in quads:
        node = q.subject if isinstance(q.subject, ox.BlankNode) else q.object
        sets[root(node)].append(q)  # type: ignore[arg-type]
    groups: list[list[ox.Quad]] = [[]]
    for members in sets.values():
        if groups[-1] and len(groups[-1]) + len(members) > _OPERATION:
            groups.append([])
        groups[-1] += members
    return [g for g in groups if g]


def add_graph_text(graph: str) -> str:
    """The update that lists ``graph`` in the catalogue."""
    return f"INSERT DATA {{ GRAPH <{CATALOGUE_GRAPH}> {{ <{graph}> a {NAMED_GRAPH} }} }}"


def drop_graph_text(name: str) -> str:
    """The update that empties the store's graph ``name``, takes out of the union what no
    other graph holds, and takes ``name`` out of the catalogue."""
    return (
        f"DELETE {{ GRAPH <{UNION_GRAPH}> {{ ?s ?p ?o }} }} WHERE {{ GRAPH <{name}> "
        f"{{ ?s ?p ?o }} FILTER NOT EXISTS {{ GRAPH ?h {{ ?s ?p ?o }} "
        f"{_in_data_graph([name])} }} }} ;\n"
        f"DROP SILENT GRAPH <{name}> ;\n"
        f"DELETE DATA {{ GRAPH <{CATALOGUE_GRAPH}> {{ <{name}> a {NAMED_GRAPH} }} }}"
    )


def held_query(quads: list[ox.Quad]) -> tuple[str, list[str]] | None:
    """The query that finds which of ``quads`` (those with no blank node: a new one is never
    held) the store holds, and the graphs it reads; None if there are none to look for."""
    wanted = [q for q in quads if not has_blank(q)]
    if not wanted:
        return None
    rows = " ".join(
        f"({q.subject} {q.predicate} {q.object} <{physical(q.graph_name)}>)" for q in wanted
    )
    text = (
        f"SELECT ?s ?p ?o ?g WHERE {{ VALUES (?s ?p ?o ?g) {{ {rows} }} GRAPH ?g {{ ?s ?p ?o }} }}"
    )
    return text, sorted({physical(q.graph_name) for q in wanted})


def held_quad(row: dict[str, ox.NamedNode | ox.BlankNode | ox.Literal]) -> ox.Quad:
    """A row of :func:`held_query` as the quad of the dataset it found."""
    graph = row["g"]
    name = DEFAULT if graph == KEPT_DEFAULT else graph
    return ox.Quad(row["s"], row["p"], row["o"], name)  # type: ignore[arg-type]


def probe_forms(client: SparqlClient, literals: list[ox.Literal]) -> dict[ox.Literal, ox.Literal]:
    """What the store holds for each of ``literals``: each written once to
    :data:`PROBE_GRAPH` under a subject of its own, read back, and removed (only those:
    probes made at the same time by other front ends stay). Where the store refuses the
    write while it answers, the halves are probed apart until the literal it refuses is found.

    Raises:
        InputError: naming a literal the store refuses to hold (one it cannot read).
        StoreUnreachableError, StoreTimeoutError: if the store fails or is too slow.
    """
    try:
        return _probe_once(client, literals)
    except StoreUnreachableError:
        if not _answers(client):
            raise
        if len(literals) == 1:
            raise InputError(f"the store refuses to hold the literal {literals[0]}") from None
    half = len(literals) // 2
    return {**probe_forms(client, literals[:half]), **probe_forms(client, literals[half:])}


def _probe_once(client: SparqlClient, literals: list[ox.Literal]) -> dict[ox.Literal, ox.Literal]:
    names = [ox.NamedNode(f"{PROBE_GRAPH}#{uuid.uuid4().hex}") for _ in literals]
    value = ox.NamedNode(f"{PROBE_GRAPH}#value")
    lines = " ".join(f"{s} {value} {lit} ." for s, lit in zip(names, literals, strict=True))
    subjects = " ".join(str(s) for s in names)
    where = f"WHERE {{ VALUES ?s {{ {subjects} }} GRAPH <{PROBE_GRAPH}> {{ ?s ?p ?o }} }}"
    client.update(f"INSERT DATA {{ GRAPH <{PROBE_GRAPH}> {{ {lines} }} }}")
    try:
        form = [("default-graph-uri", EMPTY_GRAPH), ("named-graph-uri", PROBE_GRAPH)]
        result = read_answer(
            client.query([("query", f"SELECT ?s ?o {where}"), *form], accept=ACCEPT)
        )
        try:
            back = {row["s"]: row["o"] for row in result.rows()}
        finally:
            result.close()
    finally:
        client.update(f"DELETE {{ GRAPH <{PROBE_GRAPH}> {{ ?s ?p ?o }} }} {where}")
    return {
        lit: stored if isinstance(stored := back.get(s), ox.Literal) else lit
        for s, lit in zip(names, literals, strict=True)
    }


def _answers(client: SparqlClient) -> bool:
    """Whether the store answers a query."""
    try:
        client.query([("query", "ASK {}")], accept=ACCEPT).close()
    except (StoreUnreachableError, StoreTimeoutError):
        return False
    return True
