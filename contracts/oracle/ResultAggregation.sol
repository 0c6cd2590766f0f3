// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

/**
 * @title ResultAggregation
 * @dev How signed values are combined into one result and compared with it, shared by the
 * {InferenceOracle} (answers) and {InferenceAudits} (verdicts) so both apply the same rule:
 * the lower median of numbers, the most frequent label (ties to the smaller), and the exact
 * absolute difference used against a request's tolerance.
 */
library ResultAggregation {
    /// @dev |a - b|, exact for any two int256 (a signed difference could overflow).
    function distance(int256 a, int256 b) internal pure returns (uint256) {
        // unchecked: the true difference of two int256 lies in [0, 2^256 - 1], and two's
        // complement subtraction modulo 2^256 yields exactly it.
        unchecked {
            return a >= b ? uint256(a) - uint256(b) : uint256(b) - uint256(a);
        }
    }

    /// @dev The lower median: element `(n - 1) / 2` after an insertion sort (n <= 16).
    function lowerMedian(int256[] memory values) internal pure returns (int256) {
        for (uint256 i = 1; i < values.length; ++i) {
            int256 v = values[i];
            uint256 j = i;
            while (j > 0 && values[j - 1] > v) {
                values[j] = values[j - 1];
                --j;
            }
            values[j] = v;
        }
        return values[(values.length - 1) / 2];
    }

    /// @dev The most frequent value; a tie goes to the smaller value.
    function plurality(int256[] memory values) internal pure returns (int256 best) {
        uint256 bestCount = 0;
        for (uint256 i = 0; i < values.length; ++i) {
            uint256 count = 0;
            for (uint256 j = 0; j < values.length; ++j) {
                if (values[j] == values[i]) ++count;
            }
            if (count > bestCount || (count == bestCount && values[i] < best)) {
                best = values[i];
                bestCount = count;
            }
        }
    }
}
