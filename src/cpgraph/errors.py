"""The exceptions cpgraph raises, mapped once to HTTP problems and to CLI exit codes.

::

    CpgraphError                 any failure cpgraph reports to a user
    ├── InputError               the input cannot be used as given (400, exit 2)
    │   ├── RdfSyntaxError       malformed RDF, with line and column
    │   ├── QuerySyntaxError     malformed SPARQL, with line and column
    │   ├── UnsupportedFormatError   a format cpgraph does not read or write (415)
    │   ├── NotAcceptableError   no result format fits the Accept header (406)
    │   ├── PayloadTooLargeError a query or body over the operator's limit (413)
    │   ├── QueryTooComplexError a query nested deeper or longer than the limits (400)
    │   ├── OutboundRefusedError a SERVICE or LOAD to an endpoint not allowed (400)
    │   └── ParameterError       a saved query's parameter missing or of the wrong type (422)
    ├── ValidationFailedError    RDF parsed but does not conform to the shapes (422, exit 1)
    ├── NotFoundError            no such resource (404, exit 2)
    ├── UnauthorizedError        a write without the operator's bearer token (401)
    ├── LimitError               a limit that protects the service was reached
    │   ├── TooManyQueriesError  one client has too many queries running (429)
    │   ├── QueryTimeoutError    a query ran past its time limit and was stopped (503)
    │   ├── TooManyValidationsError  one client has too many validations running (429)
    │   └── ValidationTimeoutError   a validation passed its time or memory limit (503)
    ├── StoreError               the store cannot be opened, built or written (500, exit 3)
    └── RemoteStoreError         another repository refused or failed a push (502, exit 3)
        ├── PushVerificationError    the copy differs from the store (502, exit 1)
        └── RemoteEndpointError      an allowed SERVICE or LOAD endpoint failed (502)

Each class carries its HTTP ``status``, a problem ``type`` slug and a CLI ``exit_code``, so the
server's one exception handler and the CLI's one ``except`` clause need no table of their own.
"""

from __future__ import annotations

from typing import Any, ClassVar


class CpgraphError(Exception):
    """Base of every error cpgraph reports to a user."""

    status: ClassVar[int] = 500
    problem: ClassVar[str] = "internal-error"
    title: ClassVar[str] = "Internal error"
    exit_code: ClassVar[int] = 3

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


class InputError(CpgraphError):
    """The input cannot be used as given."""

    status = 400
    problem = "bad-input"
    title = "Bad input"
    exit_code = 2


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
        where = ""
        if source:
            where += f"{source}: "
        if line is not None:
            where += f"line {line}, column {column}: " if column is not None else f"line {line}: "
        super().__init__(f"{where}{message}", line=line, column=column, source=source)
        self.line = line
        self.column = column
        self.source = source
        self.reason = message


class RdfSyntaxError(_PositionedError):
    """Malformed RDF; ``line`` and ``column`` say where."""

    problem = "rdf-syntax"
    title = "Malformed RDF"


class QuerySyntaxError(_PositionedError):
    """Malformed SPARQL; ``line`` and ``column`` say where."""

    problem = "sparql-syntax"
    title = "Malformed SPARQL query"


class UnsupportedFormatError(InputError):
    """A media type or file extension that cpgraph does not read or write."""

    status = 415
    problem = "unsupported-format"
    title = "Unsupported format"


class NotAcceptableError(InputError):
    """No representation cpgraph can give fits what the client accepts."""

    status = 406
    problem = "not-acceptable"
    title = "Not acceptable"


class PayloadTooLargeError(InputError):
    """A query or request body larger than the operator allows."""

    status = 413
    problem = "too-large"
    title = "Payload too large"


class OutboundRefusedError(InputError):
    """A SERVICE or LOAD whose endpoint the operator has not allowed (``CPGRAPH_SERVICE_ALLOW``);
    the problem names the setting in ``setting``."""

    problem = "outbound-refused"
    title = "Outbound request refused"

    def __init__(self, message: str, *, setting: str = "CPGRAPH_SERVICE_ALLOW") -> None:
        super().__init__(message, setting=setting)


class QueryTooComplexError(InputError):
    """A query or update nested deeper, or holding more operators, than the operator allows;
    ``limit`` names the setting."""

    problem = "query-too-complex"
    title = "Query too complex"

    def __init__(self, message: str, *, limit: str) -> None:
        super().__init__(message, limit=limit)
        self.limit = limit


class ParameterError(InputError):
    """A saved query's parameter that is unknown, missing, or not a value of its type; the
    problem names it in ``parameter``."""

    status = 422
    problem = "bad-parameter"
    title = "Bad query parameter"

    def __init__(self, message: str, *, parameter: str) -> None:
        super().__init__(message, parameter=parameter)
        self.parameter = parameter


class ContributionRefusedError(InputError):
    """A contribution that writes where contributions may not, or defines vocabulary."""

    status = 422
    problem = "contribution-refused"
    title = "Contribution refused"


class UnauthorizedError(CpgraphError):
    """A request that needs the operator's bearer token came without it (or with another)."""

    status = 401
    problem = "unauthorized"
    title = "Unauthorized"
    exit_code = 2


class LimitError(CpgraphError):
    """A limit that protects the service was reached; the client may try again later."""

    status = 503
    problem = "limit"
    title = "Service limit reached"
    exit_code = 3


class TooManyQueriesError(LimitError):
    """One client already has as many queries running as it may."""

    status = 429
    problem = "too-many-queries"
    title = "Too many concurrent queries"


class QueryTimeoutError(LimitError):
    """A query ran past the time limit; its evaluation was stopped."""

    status = 503
    problem = "query-timeout"
    title = "Query time limit reached"


class TooManyValidationsError(LimitError):
    """One client already has as many validations running as it may."""

    status = 429
    problem = "too-many-validations"
    title = "Too many concurrent validations"


class ValidationTimeoutError(LimitError):
    """A validation ran past its time or memory limit; its process was stopped."""

    status = 503
    problem = "validation-limit"
    title = "Validation limit reached"


class QueryQuarantinedError(LimitError):
    """A query or update whose same text crashed a server process a short while ago (see
    :mod:`cpgraph.server.board`); ``retry_after`` seconds until it is tried again."""

    status = 503
    problem = "query-quarantined"
    title = "Query refused for a while"

    def __init__(self, message: str, *, retry_after: int) -> None:
        super().__init__(message, retry_after=retry_after)
        self.retry_after = retry_after


class MemoryLimitError(LimitError):
    """The server process answering a query passed its memory ceiling and is replaced."""

    status = 503
    problem = "memory-limit"
    title = "Memory limit reached"


class ValidationFailedError(CpgraphError):
    """RDF that parsed but does not conform to the shapes; ``outcome`` holds the report."""

    status = 422
    problem = "does-not-conform"
    title = "Does not conform to the shapes"
    exit_code = 1

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


class NotFoundError(CpgraphError):
    """No such resource, graph or saved query."""

    status = 404
    problem = "not-found"
    title = "Not found"
    exit_code = 2


class StoreError(CpgraphError):
    """The store cannot be opened, built or written."""

    status = 500
    problem = "store-error"
    title = "Store error"
    exit_code = 3


class RemoteStoreError(CpgraphError):
    """Another repository (a push target) refused a request, failed or could not be reached."""

    status = 502
    problem = "remote-store"
    title = "Remote store error"
    exit_code = 3


class PushVerificationError(RemoteStoreError):
    """A pushed copy does not match the store (triple counts or isomorphism); ``report`` says."""

    problem = "push-not-verified"
    title = "The pushed copy differs from the store"
    exit_code = 1

    def __init__(self, message: str, *, report: Any) -> None:
        super().__init__(message)
        self.report = report


class RemoteEndpointError(RemoteStoreError):
    """An allowed SERVICE or LOAD endpoint failed, answered an error or could not be reached.

    The message never carries what the endpoint answered: it is another host's text.
    """

    problem = "remote-endpoint"
    title = "Remote endpoint failed"
