"""Secure aggregation (Bonawitz et al. 2017 with SecAgg+'s sparse graph, Bell et al. 2020).

The server learns the sum of the surviving clients' clipped, quantised updates and nothing
about any one of them, while up to ``k - t`` of each client's ``k`` neighbours drop out.
See :mod:`ledgerlearn.learning.secagg._protocol` for the phases and the trust assumption.
"""

from ledgerlearn.learning.secagg._graph import default_degree, neighbour_graph
from ledgerlearn.learning.secagg._protocol import (
    AdvertiseKeys,
    SecAggClient,
    SecAggConfig,
    SecAggKeys,
    SecAggServer,
    UnmaskShares,
)
from ledgerlearn.learning.secagg._quantize import Quantizer
from ledgerlearn.learning.secagg._settings import SecAggSettings
from ledgerlearn.learning.secagg._shamir import combine, split

__all__ = [
    "AdvertiseKeys",
    "Quantizer",
    "SecAggClient",
    "SecAggConfig",
    "SecAggKeys",
    "SecAggServer",
    "SecAggSettings",
    "UnmaskShares",
    "combine",
    "default_degree",
    "neighbour_graph",
    "split",
]
