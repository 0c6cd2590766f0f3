"""Aggregation: robust rules as pure functions over stacked updates, one module per paper.

Trust assumption: up to ``f`` of ``n`` updates are Byzantine; each rule states and checks
the largest ``f`` it tolerates.
"""

from ledgerlearn.learning.aggregation._common import COLUMN_BLOCK, as_matrix, squared_distances
from ledgerlearn.learning.aggregation.bucketing import bucketing
from ledgerlearn.learning.aggregation.bulyan import bulyan
from ledgerlearn.learning.aggregation.centered_clipping import centered_clipping
from ledgerlearn.learning.aggregation.fedavg import fedavg
from ledgerlearn.learning.aggregation.geometric_median import geometric_median
from ledgerlearn.learning.aggregation.krum import krum, krum_scores, multi_krum
from ledgerlearn.learning.aggregation.median import coordinate_median
from ledgerlearn.learning.aggregation.nnm import nearest_neighbour_mixing
from ledgerlearn.learning.aggregation.trimmed_mean import trimmed_mean

__all__ = [
    "COLUMN_BLOCK",
    "as_matrix",
    "bucketing",
    "bulyan",
    "centered_clipping",
    "coordinate_median",
    "fedavg",
    "geometric_median",
    "krum",
    "krum_scores",
    "multi_krum",
    "nearest_neighbour_mixing",
    "squared_distances",
    "trimmed_mean",
]
