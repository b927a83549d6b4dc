"""The exceptions cpgraph raises, mapped once to HTTP problems and to CLI exit codes.

Each class names its HTTP ``status``, problem ``type`` slug, ``title`` and CLI ``exit_code`` in
its header (a subclass inherits what it does not name), so the server's one exception handler
and the CLI's one ``except`` clause need no table of their own. Keyword details given to an
error become members of its problem details (and, where a class names them, attributes).
"""

from __future__ import annotations

from typing import Any, ClassVar


class CpgraphError(Exception):
    """Base of every error cpgraph reports to a user."""

    status: ClassVar[int] = 500
    problem: ClassVar[str] = "internal-error"
    title: ClassVar[str] = "Internal error"
    exit_code: ClassVar[int] = 3

    def __init_subclass__(
        cls, *, status: int = 0, problem: str = "", title: str = "", exit_code: int = 0
    ) -> None:
        super().__init_subclass__()
        named = {"status": status, "problem": problem, "title": title, "exit_code": exit_code}
        for name, value in named.items():
            if value:
                setattr(cls, name, value)

    def __init__(self, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.message = message
        self.extra = extra

    def to_problem(self, *, base: str = "https://w3id.org/cpgraph/") -> dict[str, Any]:
        """This error as an RFC 9457 problem details object."""
        body: dict[str, Any] = {
            "type": f"{base}problems/{self.problem}",
            "title": self.title,
            "status": self.status,
            "detail": self.message,
        }
        body.update({k: v for k, v in self.extra.items() if v is not None})
        return body


class InputError(CpgraphError, status=400, problem="bad-input", title="Bad input", exit_code=2):
    """The input cannot be used as given."""


class _PositionedError(InputError):
    """An input error at a line and column (1-based) of the input."""

    def __init__(
        self,
        message: str,
        *,
        line: int | None = None,
        column: int | None = None,
        source: str | None = None,
    ) -> None:
        where = f"{source}: " if source else ""
        if line is not None:
            where += f"line {line}, column {column}: " if column is not None else f"line {line}: "
        super().__init__(f"{where}{message}", line=line, column=column, source=source)
        self.line = line
        self.column = column
        self.source = source
        self.reason = message


class RdfSyntaxError(_PositionedError, problem="rdf-syntax", title="Malformed RDF"):
    """Malformed RDF; ``line`` and ``column`` say where."""


class QuerySyntaxError(_PositionedError, problem="sparql-syntax", title="Malformed SPARQL query"):
    """Malformed SPARQL; ``line`` and ``column`` say where."""


class UnsupportedFormatError(
    InputError, status=415, problem="unsupported-format", title="Unsupported format"
):
    """A media type or file extension that cpgraph does not read or write."""


class NotAcceptableError(InputError, status=406, problem="not-acceptable", title="Not acceptable"):
    """No representation cpgraph can give fits what the client accepts."""


class PayloadTooLargeError(InputError, status=413, problem="too-large", title="Payload too large"):
    """A query or request body larger than the operator allows."""


class OutboundRefusedError(
    InputError, problem="outbound-refused", title="Outbound request refused"
):
    """A SERVICE or LOAD to an endpoint the operator has not allowed; ``setting`` names the
    setting that would allow it."""

    def __init__(self, message: str, *, setting: str = "CPGRAPH_SERVICE_ALLOW") -> None:
        super().__init__(message, setting=setting)
        self.setting = setting


class QueryTooComplexError(InputError, problem="query-too-complex", title="Query too complex"):
    """A query or update nested deeper, or holding more operators, than the operator allows;
    ``limit`` names the setting."""

    def __init__(self, message: str, *, limit: str) -> None:
        super().__init__(message, limit=limit)
        self.limit = limit


class ParameterError(InputError, status=422, problem="bad-parameter", title="Bad query parameter"):
    """A saved query's parameter that is unknown, missing, or not a value of its type;
    ``parameter`` names it."""

    def __init__(self, message: str, *, parameter: str) -> None:
        super().__init__(message, parameter=parameter)
        self.parameter = parameter


class ContributionRefusedError(
    InputError, status=422, problem="contribution-refused", title="Contribution refused"
):
    """A contribution that writes where contributions may not, or defines vocabulary."""


class UnauthorizedError(
    CpgraphError, status=401, problem="unauthorized", title="Unauthorized", exit_code=2
):
    """A request that needs the operator's bearer token came without it (or with another)."""


class LimitError(CpgraphError, status=503, problem="limit", title="Service limit reached"):
    """A limit that protects the service was reached; the client may try again later."""


class TooManyQueriesError(
    LimitError, status=429, problem="too-many-queries", title="Too many concurrent queries"
):
    """One client already has as many queries running as it may."""


class QueryTimeoutError(LimitError, problem="query-timeout", title="Query time limit reached"):
    """A query ran past the time limit; its evaluation was stopped."""


class TooManyValidationsError(
    LimitError,
    status=429,
    problem="too-many-validations",
    title="Too many concurrent validations",
):
    """One client already has as many validations running as it may."""


class ValidationTimeoutError(
    LimitError, problem="validation-limit", title="Validation limit reached"
):
    """A validation ran past its time or memory limit; its process was stopped."""


class QueryQuarantinedError(
    LimitError, problem="query-quarantined", title="Query refused for a while"
):
    """A query or update whose same text crashed a server process a short while ago (see
    :mod:`cpgraph.server.board`); ``retry_after`` seconds until it is tried again."""

    def __init__(self, message: str, *, retry_after: int) -> None:
        super().__init__(message, retry_after=retry_after)
        self.retry_after = retry_after


class MemoryLimitError(LimitError, problem="memory-limit", title="Memory limit reached"):
    """The server process answering a query passed its memory ceiling and is replaced."""


class ValidationFailedError(
    CpgraphError,
    status=422,
    problem="does-not-conform",
    title="Does not conform to the shapes",
    exit_code=1,
):
    """RDF that parsed but does not conform to the shapes; ``outcome`` holds the report."""

    def __init__(self, message: str, *, outcome: Any) -> None:
        super().__init__(message)
        self.outcome = outcome

    def to_problem(self, *, base: str = "https://w3id.org/cpgraph/") -> dict[str, Any]:
        """The problem, with the validation results a contributor acts on."""
        body = super().to_problem(base=base)
        summary = getattr(self.outcome, "summary", None)
        if callable(summary):
            body.update(summary())
        return body


class NotFoundError(CpgraphError, status=404, problem="not-found", title="Not found", exit_code=2):
    """No such resource, graph or saved query."""


class StoreError(CpgraphError, problem="store-error", title="Store error"):
    """The store cannot be opened, built or written."""


class RemoteStoreError(
    CpgraphError, status=502, problem="remote-store", title="Remote store error"
):
    """Another repository (a push target) refused a request, failed or could not be reached."""


class StoreUnreachableError(RemoteStoreError, problem="store-unreachable", title="Store failed"):
    """The remote store cpgraph serves from cannot be reached, refused a request or failed; the
    message names the cause, never what the store said (that goes to the log)."""


class StoreTimeoutError(
    RemoteStoreError, status=504, problem="store-timeout", title="Store did not answer in time"
):
    """The remote store cpgraph serves from did not answer, or stopped answering, in time."""


class PushVerificationError(
    RemoteStoreError,
    problem="push-not-verified",
    title="The pushed copy differs from the store",
    exit_code=1,
):
    """A pushed copy does not match the store (triple counts or isomorphism); ``report`` says."""

    def __init__(self, message: str, *, report: Any) -> None:
        super().__init__(message)
        self.report = report


class RemoteEndpointError(
    RemoteStoreError, problem="remote-endpoint", title="Remote endpoint failed"
):
    """An allowed SERVICE or LOAD endpoint failed, answered an error or could not be reached.

    The message never carries what the endpoint answered: it is another host's text.
    """
