"""Literals the store holds in another form, as results of a SHACL validation report.

What is validated is what is stored (:mod:`cpgraph.store.stored_forms`), and the one who sent
the data is told what the store rewrote, in the report they already read: a contribution's
rewrites are Info results (:func:`with_rewrites`), a build's are violations, each naming the
file and line (:func:`rewrite_outcome`). The results are ordinary ``sh:ValidationResult``
nodes; their source shape and constraint component are cpgraph's own IRIs, their value the
stored form (rdflib, which holds the report, would rewrite the original too) and their message
both forms.
"""

from __future__ import annotations

from collections.abc import Sequence

from rdflib import RDF, BNode, Graph, Literal, URIRef

from cpgraph.rdf.io import to_rdflib_term
from cpgraph.store.stored_forms import Rewrite
from cpgraph.validation.shacl import SH, ValidationOutcome, outcome_from_report

STORED_FORM_SHAPE = "urn:x-cpgraph:stored-form"
"""The source shape of a result about a literal the store rewrites."""
STORED_FORM_COMPONENT = "urn:x-cpgraph:StoredFormConstraintComponent"
"""Its constraint component."""


def rewrite_message(rewrite: Rewrite) -> str:
    """What a contributor is told of one rewrite: the form sent, and the form stored."""
    return (
        f"{rewrite.describe()}: the store keeps this literal in that form, so that form was "
        "validated and is the one committed"
    )


def with_rewrites(outcome: ValidationOutcome, rewrites: Sequence[Rewrite]) -> ValidationOutcome:
    """``outcome`` with an Info result for each rewrite (its report too); unchanged if none."""
    if not rewrites:
        return outcome
    report = Graph()
    for triple in outcome.report:
        report.add(triple)
    _add(report, [(r, rewrite_message(r)) for r in rewrites], SH.Info, conforms=outcome.conforms)
    return outcome_from_report(report, conforms=outcome.conforms)


def rewrite_outcome(rewrites: Sequence[tuple[Rewrite, str]]) -> ValidationOutcome:
    """A report of violations, one per rewrite and its message (a build refuses them)."""
    report = Graph()
    _add(report, rewrites, SH.Violation, conforms=False)
    return outcome_from_report(report, conforms=False)


def _add(
    report: Graph, rewrites: Sequence[tuple[Rewrite, str]], severity: URIRef, *, conforms: bool
) -> None:
    node = report.value(predicate=RDF.type, object=SH.ValidationReport)
    if node is None:
        node = BNode()
        report.add((node, RDF.type, SH.ValidationReport))
        report.add((node, SH.conforms, Literal(conforms)))
    for rewrite, message in rewrites:
        result = BNode()
        report.add((node, SH.result, result))
        report.add((result, RDF.type, SH.ValidationResult))
        report.add((result, SH.focusNode, to_rdflib_term(rewrite.subject)))
        report.add((result, SH.resultPath, to_rdflib_term(rewrite.predicate)))
        report.add((result, SH.value, to_rdflib_term(rewrite.stored)))
        report.add((result, SH.resultSeverity, severity))
        report.add((result, SH.sourceShape, URIRef(STORED_FORM_SHAPE)))
        report.add((result, SH.sourceConstraintComponent, URIRef(STORED_FORM_COMPONENT)))
        report.add((result, SH.resultMessage, Literal(message, lang="en")))
