"""Provider HTTP API (FastAPI): the small interface a gateway calls.

``GET /v1/health`` names the provider and the verified models it serves; ``POST
/v1/answers`` with ``{"requestId": N}`` returns the provider's signed answer and the output
it commits to. Errors are RFC 9457 problem details (``application/problem+json``): 404 for
an unknown request, 409 when the provider was not drawn or the request is not open, 422 for
an input that is malformed, too large or of the wrong shape.

Trust assumption: callers are not trusted and need no credentials: a provider only answers
requests the oracle drew it for, about inputs whose hash is on chain, and the answer is
useful only through a report the contract checks.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from ledgerlearn import __version__
from ledgerlearn.exceptions import (
    ContractRevertError,
    InvalidInferenceInputError,
    LedgerLearnError,
    OracleError,
)
from ledgerlearn.ledger.errors import OracleUnknownRequest
from ledgerlearn.oracle._provider import Provider

__all__ = ["AnswerRequest", "problem", "provider_app"]

PROBLEM = "application/problem+json"


class AnswerRequest(BaseModel):
    """Body of ``POST /v1/answers``."""

    requestId: int = Field(ge=0, lt=2**64, description="The oracle request id.")  # noqa: N815


def problem(status: int, title: str, detail: str) -> JSONResponse:
    """Return an RFC 9457 problem-details response."""
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail}
    return JSONResponse(body, status_code=status, media_type=PROBLEM)


def provider_app(provider: Provider) -> FastAPI:
    """Return the provider's FastAPI application."""
    app = FastAPI(
        title="ledgerlearn inference provider",
        version=__version__,
        description="Signed answers to InferenceOracle requests this provider was drawn for.",
    )

    @app.exception_handler(RequestValidationError)
    async def invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        return problem(422, "invalid request body", str(exc.errors()))

    @app.get("/v1/health")
    def health() -> dict[str, Any]:
        """Name the provider identity and the verified models it serves."""
        return {
            "provider": provider.identity,
            "models": [
                {
                    "model": m.name,
                    "version": m.version,
                    "sha256": m.artifact_sha256.hex(),
                    "backend": m.backend,
                }
                for m in provider.models.values()
            ],
        }

    @app.post(
        "/v1/answers",
        responses={
            404: {"description": "no such request", "content": {PROBLEM: {}}},
            409: {"description": "not drawn, or not open", "content": {PROBLEM: {}}},
            422: {"description": "bad input or body", "content": {PROBLEM: {}}},
        },
    )
    def answers(body: AnswerRequest) -> Any:
        """Compute, sign and return this provider's answer to a request."""
        try:
            return provider.answer(body.requestId).to_json()
        except OracleUnknownRequest:
            return problem(404, "unknown request", f"request {body.requestId} does not exist")
        except ContractRevertError as exc:
            return problem(409, "the oracle refused", str(exc))
        except InvalidInferenceInputError as exc:
            return problem(422, "invalid input", str(exc))
        except OracleError as exc:
            return problem(409, "cannot answer", str(exc))
        except LedgerLearnError as exc:
            return problem(503, "provider unavailable", str(exc))

    return app
