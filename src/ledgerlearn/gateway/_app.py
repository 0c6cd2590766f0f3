"""The gateway's HTTP API (FastAPI): DID-signed requests in, oracle-settled answers out.

Every ``/v1`` route but ``/v1/health`` needs an RFC 9421 signature by the client's DID
(:class:`~ledgerlearn.oracle.RequestVerifier`): unsigned, tampered, expired and replayed
requests get ``401``; each identity has a token-bucket rate limit and a quota (``429`` with
``Retry-After``), a defence against extracting a model by querying it. Routes:

* ``POST /v1/inference`` — ask a model; with ``wait`` (the default) the answer comes back
  once the oracle settled it (``200``), or after ``wait_seconds`` the request id to poll
  (``202`` with ``Location``);
* ``GET /v1/requests/{id}`` — status, result, the agreeing output, each recorded answer and
  deviation, and the evidence trail once settled;
* ``GET /v1/models/{name}`` and ``GET /v1/models/{name}/versions/{version}`` — the
  registry's view.

Every error is an RFC 9457 problem document (``application/problem+json``).

Trust assumption: as :mod:`ledgerlearn.gateway`: the gateway is untrusted; clients check
its answers against the chain.
"""

from typing import Annotated, Any, Literal

from fastapi import Depends, FastAPI, Path, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from ledgerlearn import __version__
from ledgerlearn.exceptions import (
    AuthenticationError,
    ChainUnavailableError,
    ContractRevertError,
    InvalidInferenceInputError,
    LedgerLearnError,
    ModelNotFoundError,
    OracleError,
    RateLimitError,
    RegistryError,
    VersionRevokedError,
)
from ledgerlearn.gateway._service import Gateway
from ledgerlearn.ledger.errors import OracleUnknownRequest
from ledgerlearn.oracle import (
    MAX_INPUT_BYTES,
    MAX_INPUT_ROWS,
    Mode,
    Quota,
    RateLimiter,
    RequestVerifier,
)

__all__ = ["InferenceBody", "gateway_app"]

PROBLEM = "application/problem+json"
MAX_BODY = MAX_INPUT_BYTES + 4096
MAX_INPUT_WIDTH = 65_536

Finite = Annotated[float, Field(allow_inf_nan=False)]


class ProblemError(Exception):
    """An error answered as an RFC 9457 problem document."""

    def __init__(
        self, status: int, title: str, detail: str, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(detail)
        self.status, self.title, self.detail, self.headers = status, title, detail, headers


def _problem(status: int, title: str, detail: str, headers: dict[str, str] | None = None) -> Any:
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail}
    return JSONResponse(body, status_code=status, media_type=PROBLEM, headers=headers)


class InferenceInput(BaseModel):
    """The model's input: rows of numbers."""

    model_config = ConfigDict(extra="forbid")

    x: list[Annotated[list[Finite], Field(min_length=1, max_length=MAX_INPUT_WIDTH)]] = Field(
        min_length=1, max_length=MAX_INPUT_ROWS, description="Input rows (finite numbers)."
    )


class InferenceBody(BaseModel):
    """Body of ``POST /v1/inference``."""

    model_config = ConfigDict(extra="forbid")

    model: str = Field(
        pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}@[A-Za-z0-9._-]{1,64}$",
        description="name@channel (e.g. digits@production) or name@version (digits@3).",
    )
    input: InferenceInput
    mode: Literal["majority", "median"] = Field(
        default="majority",
        description="majority: the top label; median: P(last class) in 1e-6 units.",
    )
    tolerance: int = Field(
        default=0,
        ge=0,
        le=2**128 - 1,
        description="Largest distance from the result still counted as agreeing (median mode).",
    )
    wait: bool = Field(default=True, description="Wait for the settled answer.")


def _rate_headers(exc: RateLimitError) -> dict[str, str]:
    return {"Retry-After": str(max(1, round(exc.retry_after)))}


def gateway_app(
    gateway: Gateway,
    verifier: RequestVerifier,
    limiter: RateLimiter | None = None,
    quota: Quota | None = None,
) -> FastAPI:
    """Return the gateway's FastAPI application.

    Parameters
    ----------
    gateway
        Does the chain work.
    verifier
        Checks request signatures (did:key; did:ethr when it has a resolver).
    limiter, quota
        Per-identity request rate and quota; defaults when omitted.
    """
    limiter = limiter or RateLimiter()
    quota = quota or Quota()
    app = FastAPI(
        title="ledgerlearn inference gateway",
        version=__version__,
        description=(
            "Ask registered models through the InferenceOracle. Sign every request with "
            "your DID key (RFC 9421: Signature-Input, Signature, Content-Digest; see "
            "docs/oracle.md). Errors are application/problem+json."
        ),
    )
    errors: dict[int | str, dict[str, Any]] = {
        401: {"description": "unsigned, tampered, expired or replayed", "content": {PROBLEM: {}}},
        413: {"description": "body too large", "content": {PROBLEM: {}}},
        422: {"description": "invalid body or input", "content": {PROBLEM: {}}},
        429: {"description": "rate limit or quota", "content": {PROBLEM: {}}},
        503: {"description": "chain or store unavailable", "content": {PROBLEM: {}}},
    }

    @app.exception_handler(ProblemError)
    async def on_problem(_: Request, exc: ProblemError) -> JSONResponse:
        return _problem(exc.status, exc.title, exc.detail, exc.headers)  # type: ignore[no-any-return]

    @app.exception_handler(RequestValidationError)
    async def on_invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        detail = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()
        )
        return _problem(422, "invalid request", detail)  # type: ignore[no-any-return]

    @app.exception_handler(StarletteHTTPException)
    async def on_http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        return _problem(exc.status_code, "error", str(exc.detail))  # type: ignore[no-any-return]

    @app.exception_handler(LedgerLearnError)
    async def on_error(_: Request, exc: LedgerLearnError) -> JSONResponse:
        return _problem(*_status_of(exc))  # type: ignore[no-any-return]

    async def authenticated(request: Request) -> str:
        length = request.headers.get("content-length")
        if length is not None and (not length.isdigit() or int(length) > MAX_BODY):
            raise ProblemError(413, "body too large", f"the body may hold at most {MAX_BODY} bytes")
        body = await request.body()
        if len(body) > MAX_BODY:
            raise ProblemError(413, "body too large", f"the body may hold at most {MAX_BODY} bytes")
        try:
            identity: str = await run_in_threadpool(
                verifier.verify, request.method, request.url.path, request.headers, body
            )
            limiter.take(identity)
            quota.spend(identity)
        except AuthenticationError as exc:
            raise ProblemError(
                401, "authentication failed", str(exc), {"WWW-Authenticate": "Signature"}
            ) from exc
        except RateLimitError as exc:
            raise ProblemError(429, "too many requests", str(exc), _rate_headers(exc)) from exc
        return identity

    @app.get("/v1/health")
    def health() -> dict[str, Any]:
        """Say which chain and oracle this gateway uses and its request policy."""
        policy = gateway.policy
        return {
            "chainId": gateway.chain.chain_id,
            "oracle": gateway.oracle.contract.address,
            "gateway": gateway.key.address,
            "redundancy": policy.redundancy,
            "quorum": policy.quorum,
            "deadlineBlocks": policy.deadline_blocks,
        }

    @app.post(
        "/v1/inference",
        responses={
            202: {"description": "accepted; poll the Location"},
            404: {"description": "unknown model or empty channel", "content": {PROBLEM: {}}},
            409: {"description": "version revoked or refused", "content": {PROBLEM: {}}},
            **errors,
        },
    )
    def inference(body: InferenceBody, identity: Annotated[str, Depends(authenticated)]) -> Any:
        """Ask a model through the oracle; wait for the settled answer or get the id."""
        try:
            outcome = gateway.submit(
                identity,
                body.model,
                body.input.x,
                mode=Mode[body.mode.upper()],
                tolerance=body.tolerance,
            )
        except ContractRevertError as exc:
            raise ProblemError(409, "the oracle refused the request", str(exc)) from exc
        if body.wait:
            outcome = gateway.wait(outcome.request_id, gateway.policy.wait_seconds)
        location = f"/v1/requests/{outcome.request_id}"
        if outcome.settled.is_set():
            return JSONResponse({**outcome.to_json(), "links": {"self": location}})
        return JSONResponse(
            {**outcome.to_json(), "links": {"self": location}},
            status_code=202,
            headers={"Location": location},
        )

    @app.get(
        "/v1/requests/{request_id}",
        responses={404: {"description": "no such request", "content": {PROBLEM: {}}}, **errors},
    )
    def request_status(
        request_id: Annotated[int, Path(ge=0, lt=2**64)],
        identity: Annotated[str, Depends(authenticated)],
    ) -> dict[str, Any]:
        """Return a request's status and result, and its answers and evidence once settled."""
        try:
            outcome = gateway.outcome(request_id)
        except OracleUnknownRequest as exc:
            raise ProblemError(404, "unknown request", f"no request {request_id}") from exc
        body = outcome.to_json()
        if outcome.settled.is_set():
            from ledgerlearn.provenance import inference_evidence

            evidence = inference_evidence(
                gateway.chain,
                gateway.oracle.deployment,
                gateway.store,
                request_id,
                oracle=gateway.oracle,
            )
            body["answers"] = evidence.answers
            body["evidence"] = evidence.to_json()
        return body

    @app.get(
        "/v1/models/{name}",
        responses={404: {"description": "no such model", "content": {PROBLEM: {}}}, **errors},
    )
    def model(
        name: Annotated[str, Path(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")],
        identity: Annotated[str, Depends(authenticated)],
    ) -> dict[str, Any]:
        """Return the registry's view of a model: channels and versions."""
        return gateway.registry.view(name)

    @app.get(
        "/v1/models/{name}/versions/{version}",
        responses={404: {"description": "no such version", "content": {PROBLEM: {}}}, **errors},
    )
    def model_version(
        name: Annotated[str, Path(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")],
        version: Annotated[int, Path(ge=1, lt=2**64)],
        identity: Annotated[str, Depends(authenticated)],
    ) -> dict[str, Any]:
        """Return one registered version: hash, CIDs, status, publisher, signer."""
        record = gateway.registry.get_version(name, version)
        return record.to_json(gateway.chain.chain_id)

    return app


def _status_of(exc: LedgerLearnError) -> tuple[int, str, str]:
    """Map a library error to an HTTP status, a title and the error's own message."""
    if isinstance(exc, ModelNotFoundError):
        return 404, "not found", str(exc)
    if isinstance(exc, VersionRevokedError):
        return 409, "version revoked", str(exc)
    if isinstance(exc, InvalidInferenceInputError):
        return 422, "invalid input", str(exc)
    if isinstance(exc, OracleUnknownRequest):
        return 404, "unknown request", str(exc)
    if isinstance(exc, ContractRevertError):
        return 409, "the chain refused", str(exc)
    if isinstance(exc, (OracleError, RegistryError)):
        return 409, "cannot serve this request", str(exc)
    if isinstance(exc, ChainUnavailableError):
        return 503, "chain unavailable", str(exc)
    return 503, "gateway unavailable", f"{type(exc).__name__}: {exc}"
