// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

/**
 * @title WeightedSelection
 * @dev Picks k distinct indices with probability proportional to weight, by successive
 * draws without replacement. Draw j takes r = keccak256(abi.encode(seed, j)) mod W, where W
 * is the weight not yet drawn, and walks the remaining weights in index order. The Python
 * twin, `ledgerlearn.randomness.select`, returns the same indices bit for bit.
 *
 * Bias: each draw picks candidate i with probability w_i / W up to W / 2^256 (the modulo
 * bias of a 256-bit hash), i.e. exactly for any realistic stake total. Later draws are
 * proportional among the candidates not yet drawn (Plackett-Luce order), so a member's
 * overall inclusion probability is not exactly k * w_i / W when weights are unequal.
 */
library WeightedSelection {
    /// @dev Fewer candidates with positive weight than members asked for.
    error WeightedSelectionTooFewCandidates(uint256 requested, uint256 eligible);

    /**
     * @dev Returns k distinct indices of `weights`, in draw order.
     *
     * Requirements:
     * - at least `k` weights are positive, and their sum fits in 256 bits.
     */
    function select(bytes32 seed, uint256[] memory weights, uint256 k) internal pure returns (uint256[] memory chosen) {
        uint256 n = weights.length;
        uint256[] memory remaining = new uint256[](n);
        uint256 total;
        uint256 eligible;
        for (uint256 i = 0; i < n; ++i) {
            uint256 weight = weights[i];
            remaining[i] = weight;
            total += weight;
            if (weight > 0) ++eligible;
        }
        if (k > eligible) revert WeightedSelectionTooFewCandidates(k, eligible);
        chosen = new uint256[](k);
        for (uint256 j = 0; j < k; ++j) {
            uint256 r = uint256(keccak256(abi.encode(seed, j))) % total;
            uint256 cumulative;
            for (uint256 i = 0; i < n; ++i) {
                uint256 weight = remaining[i];
                if (weight == 0) continue;
                cumulative += weight;
                if (r < cumulative) {
                    chosen[j] = i;
                    total -= weight;
                    remaining[i] = 0;
                    break;
                }
            }
        }
    }
}
