"""Verifiable inference: providers, requests, signed answers, quorum reports.

A request on the InferenceOracle names a registered model version, an input by sha256 and
CID, a redundancy ``k`` and an aggregation mode; the randomness beacon draws ``k`` staked
providers serving that version; each signs its answer (EIP-712, bound to chain, contract,
request, model and input); one report carrying a quorum of agreeing signatures settles the
request in one transaction, pays the agreeing signers and records every deviation.

Trust assumption: providers may be Byzantine and an honest quorum of the drawn providers is
assumed; reporters (gateway, any provider) are not trusted, the contract checks everything.
"""

from ledgerlearn.oracle._answers import (
    VALUE_SCALE,
    Mode,
    SignedAnswer,
    aggregate,
    agreement,
    decode_value,
    recover_answer_signer,
    sign_answer,
)
from ledgerlearn.oracle._api import provider_app
from ledgerlearn.oracle._auth import (
    Quota,
    RateLimiter,
    RequestVerifier,
    sign_request,
)
from ledgerlearn.oracle._client import (
    OracleClient,
    Report,
    RequestSpec,
    RequestView,
    build_report,
    selection_hash,
)
from ledgerlearn.oracle._gather import (
    EndpointDirectory,
    Gathered,
    gather_answers,
    provider_endpoint,
    publish_endpoint,
    submit_report,
)
from ledgerlearn.oracle._parameters import OracleParameters
from ledgerlearn.oracle._provider import (
    MAX_INPUT_BYTES,
    MAX_INPUT_ROWS,
    Backend,
    LoadedModel,
    Provider,
    ProviderAnswer,
    compute_answer,
    load_model,
    load_network,
)

__all__ = [
    "OracleParameters",
    "Quota",
    "RateLimiter",
    "RequestVerifier",
    "sign_request",
    "EndpointDirectory",
    "Gathered",
    "gather_answers",
    "provider_endpoint",
    "publish_endpoint",
    "submit_report",
    "MAX_INPUT_BYTES",
    "Backend",
    "MAX_INPUT_ROWS",
    "LoadedModel",
    "Provider",
    "ProviderAnswer",
    "compute_answer",
    "load_model",
    "load_network",
    "provider_app",
    "VALUE_SCALE",
    "Mode",
    "OracleClient",
    "Report",
    "RequestSpec",
    "RequestView",
    "SignedAnswer",
    "aggregate",
    "agreement",
    "build_report",
    "decode_value",
    "recover_answer_signer",
    "selection_hash",
    "sign_answer",
]
