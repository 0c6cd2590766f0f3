"""Inference gateway: the DID-authenticated HTTP front door to the InferenceOracle.

Clients sign each HTTP request with a DID key (RFC 9421 HTTP Message Signatures over method,
path and an RFC 9530 body digest, with nonce and expiry); the gateway rate-limits and meters
each identity, turns the call into an oracle request, draws the providers once the beacon
answered, gathers their EIP-712-signed answers and submits the quorum report.

Trust assumption: the gateway is not trusted by anyone. The contract checks every report;
drawn providers report themselves when the gateway does not; clients can rebuild and verify
any answer's evidence from the chain and the content store. Clients trust it only not to
drop their requests (they can then ask another gateway, or the oracle directly).
"""

from ledgerlearn.gateway._app import InferenceBody, gateway_app
from ledgerlearn.gateway._service import Gateway, GatewayPolicy, RequestOutcome

__all__ = ["Gateway", "GatewayPolicy", "InferenceBody", "RequestOutcome", "gateway_app"]
