// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {ERC20Permit} from "@openzeppelin/contracts/token/ERC20/extensions/ERC20Permit.sol";
import {ERC20Votes} from "@openzeppelin/contracts/token/ERC20/extensions/ERC20Votes.sol";
import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {Nonces} from "@openzeppelin/contracts/utils/Nonces.sol";

/**
 * @title LedgerToken
 * @dev The ledgerlearn protocol token. It carries stakes (StakeVault), rewards and
 * governance votes (Governor through ERC20Votes checkpoints), and supports gasless
 * approvals (EIP-2612 permit).
 *
 * The whole initial supply is minted to `initialHolder`. Later supply only comes from
 * holders of `MINTER_ROLE` (the rewards module), capped at `maxSupply()`.
 */
contract LedgerToken is ERC20, ERC20Permit, ERC20Votes, AccessControl {
    bytes32 public constant MINTER_ROLE = keccak256("MINTER_ROLE");

    uint256 private immutable _supplyCap;

    /// @dev A mint would take the total supply past the cap.
    error LedgerTokenCapExceeded(uint256 requestedSupply, uint256 maxSupply);

    /// @dev The cap is below the initial supply.
    error LedgerTokenInvalidCap(uint256 initialSupply, uint256 maxSupply);

    /**
     * @dev Mints `initialSupply` to `initialHolder` and makes `admin` the role admin.
     *
     * Requirements:
     * - `maxSupply_` is at least `initialSupply`.
     *
     * Emits a {Transfer} event for the initial mint.
     */
    constructor(address admin, address initialHolder, uint256 initialSupply, uint256 maxSupply_)
        ERC20("LedgerLearn", "LLT")
        ERC20Permit("LedgerLearn")
    {
        if (maxSupply_ < initialSupply) revert LedgerTokenInvalidCap(initialSupply, maxSupply_);
        _supplyCap = maxSupply_;
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _mint(initialHolder, initialSupply);
    }

    /// @dev The largest total supply minting may ever reach.
    function maxSupply() external view returns (uint256) {
        return _supplyCap;
    }

    /**
     * @dev Mints `amount` to `to`.
     *
     * Requirements:
     * - the caller has `MINTER_ROLE`;
     * - the new total supply does not exceed `maxSupply()`.
     *
     * Emits a {Transfer} event.
     */
    function mint(address to, uint256 amount) external onlyRole(MINTER_ROLE) {
        uint256 newSupply = totalSupply() + amount;
        if (newSupply > _supplyCap) revert LedgerTokenCapExceeded(newSupply, _supplyCap);
        _mint(to, amount);
    }

    /// @dev Routes balance changes through ERC20Votes so vote checkpoints follow transfers.
    function _update(address from, address to, uint256 value) internal override(ERC20, ERC20Votes) {
        super._update(from, to, value);
    }

    /// @dev One nonce space shared by permits and vote delegation by signature.
    function nonces(address owner) public view override(ERC20Permit, Nonces) returns (uint256) {
        return super.nonces(owner);
    }
}
