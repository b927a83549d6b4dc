"""The top level of SPARQL texts (cpgraph.sparql.text): what may and may not hide a keyword."""

from __future__ import annotations

import pyoxigraph as ox
import pytest

from cpgraph.sparql.text import as_insertions, data_operations, top_level_words


@pytest.mark.parametrize(
    ("text", "words"),
    [
        # a '#' in an IRI is no comment, a quote in an IRI no string, wherever the IRI stands
        ("INSERT { ?s <http://e/v#p> ?o } WHERE { }", ["INSERT", "WHERE"]),
        ("INSERT { ?s <http://e/it's> ?o } WHERE { }", ["INSERT", "WHERE"]),
        # braces, quotes and keywords in strings, comments and names are not the text's own
        ("INSERT { ?s ?p '''a } \" ' WHERE''' } WHERE { }", ["INSERT", "WHERE"]),
        ("INSERT { ?s ?p 'it\\'s { WHERE' } # WHERE {\nWHERE { }", ["INSERT", "WHERE"]),
        ("INSERT { ?where :where where:x } WHERE { FILTER(?a<?b) }", ["INSERT", "WHERE"]),
        # '<' that starts no IRI: comparisons, and RDF-star's '<<'
        ("INSERT DATA { << <urn:a> <urn:b> <urn:c> >> <urn:d> 1 }", ["INSERT", "DATA"]),
        # a comment ends at CR as at LF; an IRIREF may hold \\u escapes
        ("INSERT {} # x\rWHERE { }", ["INSERT", "WHERE"]),
        ("PREFIX x: <urn:\\u0061#'> INSERT DATA { x:a x:b x:c }", ["PREFIX", "INSERT", "DATA"]),
    ],
)
def test_top_level_words_are_found_past_iris_strings_and_comments(
    text: str, words: list[str]
) -> None:
    assert [word for _, word in top_level_words(text)] == words


@pytest.mark.parametrize(
    ("update", "kinds"),
    [
        ("INSERT DATA { <urn:a> <urn:b> <urn:c> }", ["INSERT"]),
        (
            "PREFIX insert: <urn:> BASE <urn:x/>\ninsert data { insert:a insert:b 'DELETE' } ;"
            " PREFIX : <urn:y> DELETE # a comment\n DATA { :a :b :c } ;",
            ["INSERT", "DELETE"],
        ),
        ("", []),
        ("PREFIX : <urn:>", []),
        # anything else, or a word this cannot place, goes the general way
        ("DELETE WHERE { ?s ?p ?o }", None),
        ("INSERT { ?s ?p ?o } WHERE { ?s ?p ?o }", None),
        ("INSERT DATA { <urn:a> <urn:b> <urn:c> } ; CLEAR ALL", None),
        ("WITH <urn:g> DELETE { ?s ?p ?o } WHERE { ?s ?p ?o }", None),
        ("INSERT DATA { <urn:a> <urn:b> <urn:c> } ; LOAD <http://e/x>", None),
        # a comment ends at a CR as at a LF: what follows it is read
        ("INSERT DATA { <urn:a> <urn:b> <urn:c> } # no more\r; CLEAR ALL", None),
        # a prefix's name may hold dots (PN_PREFIX): it is a name, not words
        ("PREFIX a.b: <urn:> INSERT DATA { a.b:c a.b:d a.b:e }", ["INSERT"]),
    ],
)
def test_an_update_of_data_alone_is_told_from_any_other(
    update: str, kinds: list[str] | None
) -> None:
    found = data_operations(update)
    assert (None if found is None else [kind for _, kind in found]) == kinds


def test_deletions_read_as_insertions_name_every_statement_of_the_update() -> None:
    update = (
        "PREFIX : <urn:>\nDELETE DATA { :a :b :c } ;\n"
        "INSERT DATA { GRAPH :g { :d :e 'DELETE DATA' } } ; DELETE DATA { GRAPH :g { :f :g 1 } }"
    )
    operations = data_operations(update)
    assert operations is not None
    named = ox.Store()
    named.update(as_insertions(update, operations))
    expected = (
        "<urn:a> <urn:b> <urn:c> .\n"
        '<urn:d> <urn:e> "DELETE DATA" <urn:g> .\n'
        '<urn:f> <urn:g> "1"^^<http://www.w3.org/2001/XMLSchema#integer> <urn:g> .\n'
    )
    assert set(named) == set(ox.parse(expected, format=ox.RdfFormat.N_QUADS))
