// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

/**
 * @title EcVrf
 * @dev Verifies ECVRF-SECP256K1-SHA256-TAI proofs (RFC 9381 procedures, suite string 0xFE;
 * the suite of `ledgerlearn.randomness` and of SEDA Protocol's vrf-rs).
 *
 * Scalar multiplications are not computed but checked: the prover supplies U = s*B - c*Y,
 * s*H and c*Gamma, and each is checked with one `ecrecover`, which computes
 * r^-1 (s*R - h*G) for a point R with x-coordinate r. Choosing R, r, s and h makes that
 * expression the product to check, and comparing the recovered address with the address of
 * the supplied point proves equality. Encode-to-curve (try-and-increment) and the final
 * point subtraction V = s*H - c*Gamma use the modexp precompile for square roots and
 * inverses. Points travel uncompressed; the contract checks each is on the curve.
 */
library EcVrf {
    uint256 internal constant P = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEFFFFFC2F;
    uint256 internal constant N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141;
    uint8 internal constant SUITE = 0xFE;

    /// @dev A proof: Gamma (uncompressed), the 16-byte challenge c and the scalar s.
    struct Proof {
        uint256 gammaX;
        uint256 gammaY;
        uint256 c;
        uint256 s;
    }

    /// @dev Points the prover supplies so the verifier only checks products.
    struct Helpers {
        uint256 uX;
        uint256 uY;
        uint256 sHX;
        uint256 sHY;
        uint256 cGammaX;
        uint256 cGammaY;
    }

    /// @dev A point is not on secp256k1 (or is not reduced).
    error EcVrfPointNotOnCurve(uint256 x, uint256 y);

    /// @dev c is zero or wider than 16 bytes, or s is zero or not below the group order.
    error EcVrfInvalidScalar(uint256 c, uint256 s);

    /// @dev A supplied helper point is not the product it claims to be (0 U, 1 s*H, 2 c*Gamma).
    error EcVrfInvalidHelper(uint8 which);

    /// @dev The recomputed challenge differs: the proof is not for this key and input.
    error EcVrfInvalidProof();

    /// @dev An intermediate value fell on a case of probability about 2^-128 (x >= N, zero
    /// products); the proof cannot be checked with the ecrecover technique.
    error EcVrfDegenerateInput();

    /**
     * @dev Verifies `proof` of `alpha` under `publicKey` and returns the VRF output beta.
     *
     * Requirements:
     * - every point is on the curve, the scalars are in range, the helpers are the products
     *   they claim to be, and the challenge recomputes.
     */
    function verify(uint256[2] memory publicKey, Proof memory proof, bytes memory alpha, Helpers memory helpers)
        internal
        view
        returns (bytes32 beta)
    {
        _requireOnCurve(publicKey[0], publicKey[1]);
        _requireOnCurve(proof.gammaX, proof.gammaY);
        _requireOnCurve(helpers.uX, helpers.uY);
        _requireOnCurve(helpers.sHX, helpers.sHY);
        _requireOnCurve(helpers.cGammaX, helpers.cGammaY);
        if (proof.c == 0 || proof.c >> 128 != 0 || proof.s == 0 || proof.s >= N) {
            revert EcVrfInvalidScalar(proof.c, proof.s);
        }
        (uint256 hX, uint256 hY) = encodeToCurve(publicKey, alpha);
        _checkHelpers(publicKey, proof, helpers, hX, hY);
        (uint256 vX, uint256 vY) = _subtract(helpers.sHX, helpers.sHY, helpers.cGammaX, helpers.cGammaY);
        bytes32 digest = sha256(
            abi.encodePacked(
                SUITE,
                uint8(0x02),
                _compress(publicKey[0], publicKey[1]),
                _compress(hX, hY),
                _compress(proof.gammaX, proof.gammaY),
                _compress(helpers.uX, helpers.uY),
                _compress(vX, vY),
                uint8(0x00)
            )
        );
        if (uint256(digest) >> 128 != proof.c) revert EcVrfInvalidProof();
        return gammaToHash(proof.gammaX, proof.gammaY);
    }

    /// @dev The VRF output of a (verified) Gamma: sha256(suite || 0x03 || Gamma || 0x00).
    function gammaToHash(uint256 gammaX, uint256 gammaY) internal pure returns (bytes32) {
        return sha256(abi.encodePacked(SUITE, uint8(0x03), _compress(gammaX, gammaY), uint8(0x00)));
    }

    /**
     * @dev ECVRF_encode_to_curve_try_and_increment (RFC 9381 5.4.1.1) with the public key as
     * salt: the first counter whose hash is the x-coordinate of a point, with even y.
     */
    function encodeToCurve(uint256[2] memory publicKey, bytes memory alpha) internal view returns (uint256, uint256) {
        bytes memory prefix = abi.encodePacked(SUITE, uint8(0x01), _compress(publicKey[0], publicKey[1]), alpha);
        for (uint256 ctr = 0; ctr < 256; ++ctr) {
            uint256 x = uint256(sha256(abi.encodePacked(prefix, uint8(ctr), uint8(0x00))));
            if (x >= P) continue;
            uint256 rhs = addmod(mulmod(mulmod(x, x, P), x, P), 7, P);
            uint256 y = _modexp(rhs, (P + 1) / 4);
            if (mulmod(y, y, P) != rhs) continue;
            return (x, y & 1 == 0 ? y : P - y);
        }
        revert EcVrfDegenerateInput(); // probability 2^-256
    }

    /// @dev Whether (x, y) is an affine point of secp256k1.
    function isOnCurve(uint256 x, uint256 y) internal pure returns (bool) {
        if (x >= P || y >= P || (x == 0 && y == 0)) return false;
        return mulmod(y, y, P) == addmod(mulmod(mulmod(x, x, P), x, P), 7, P);
    }

    function _requireOnCurve(uint256 x, uint256 y) private pure {
        if (!isOnCurve(x, y)) revert EcVrfPointNotOnCurve(x, y);
    }

    function _checkHelpers(
        uint256[2] memory publicKey,
        Proof memory proof,
        Helpers memory helpers,
        uint256 hX,
        uint256 hY
    ) private pure {
        // U = s*G - c*Y: ecrecover with R = Y gives Y.x^-1 (sig_s*Y - h*G); take
        // sig_s = -c*Y.x and h = -s*Y.x.
        uint256 yx = publicKey[0];
        if (yx >= N || hX >= N || proof.gammaX >= N) revert EcVrfDegenerateInput();
        uint256 sigS = mulmod(proof.c, yx, N);
        uint256 h = mulmod(proof.s, yx, N);
        if (sigS == 0 || h == 0) revert EcVrfDegenerateInput();
        if (_recover(N - h, publicKey[1], yx, N - sigS) != _address(helpers.uX, helpers.uY)) {
            revert EcVrfInvalidHelper(0);
        }
        // s*H and c*Gamma: ecrecover with h = 0 and sig_s = k * R.x gives k*R.
        if (_recover(0, hY, hX, mulmod(proof.s, hX, N)) != _address(helpers.sHX, helpers.sHY)) {
            revert EcVrfInvalidHelper(1);
        }
        if (_recover(0, proof.gammaY, proof.gammaX, mulmod(proof.c, proof.gammaX, N)) != _address(helpers.cGammaX, helpers.cGammaY)) {
            revert EcVrfInvalidHelper(2);
        }
    }

    function _recover(uint256 h, uint256 ry, uint256 rx, uint256 sigS) private pure returns (address) {
        if (sigS == 0) revert EcVrfDegenerateInput();
        uint8 v = ry & 1 == 0 ? 27 : 28;
        return ecrecover(bytes32(h), v, bytes32(rx), bytes32(sigS));
    }

    function _address(uint256 x, uint256 y) private pure returns (address) {
        return address(uint160(uint256(keccak256(abi.encodePacked(x, y)))));
    }

    function _subtract(uint256 x1, uint256 y1, uint256 x2, uint256 y2) private view returns (uint256, uint256) {
        if (x1 == x2) revert EcVrfInvalidProof(); // V would be the identity or a doubling: not a valid proof
        uint256 negY2 = P - y2;
        uint256 slope = mulmod(addmod(negY2, P - y1, P), _modexp(addmod(x2, P - x1, P), P - 2), P);
        uint256 x3 = addmod(mulmod(slope, slope, P), P - addmod(x1, x2, P), P);
        uint256 y3 = addmod(mulmod(slope, addmod(x1, P - x3, P), P), P - y1, P);
        return (x3, y3);
    }

    function _compress(uint256 x, uint256 y) private pure returns (bytes memory) {
        return abi.encodePacked(uint8(2 + (y & 1)), x);
    }

    function _modexp(uint256 base, uint256 exponent) private view returns (uint256 result) {
        (bool ok, bytes memory out) = address(0x05).staticcall(abi.encode(32, 32, 32, base, exponent, P));
        if (!ok) revert EcVrfDegenerateInput();
        result = abi.decode(out, (uint256));
    }
}
