// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {ReentrancyGuard} from "@openzeppelin/contracts/utils/ReentrancyGuard.sol";

/**
 * @title StakeVault
 * @dev Stakes of the protocol token that keep trainers, aggregators and providers honest.
 *
 * An account stakes tokens (active stake); it may start unbonding any part, which stays in
 * the vault, still slashable, until `unbondingBlocks` have passed, then it can be withdrawn.
 * Only protocol modules holding `SLASHER_ROLE` slash, always citing an evidence hash (for
 * example the commitments of the rounds a trainer was rejected in); slashing takes active
 * stake first, then unbonding stake, and sends the tokens to the treasury ({slash}) or to
 * the slashing module, which compensates the wronged party first ({slashTo}).
 *
 * Accounting identity, checked by a stateful property test:
 * `totalDeposited == totalActive + totalUnbonding + totalWithdrawn + totalSlashed`.
 */
contract StakeVault is AccessControl, ReentrancyGuard {
    using SafeERC20 for IERC20;

    bytes32 public constant SLASHER_ROLE = keccak256("SLASHER_ROLE");

    struct Unbonding {
        uint256 amount;
        uint64 releaseBlock;
    }

    IERC20 private immutable _token;
    address private immutable _treasury;
    uint64 private immutable _unbondingBlocks;

    mapping(address account => uint256) private _active;
    mapping(address account => Unbonding[]) private _unbonding;
    mapping(address account => uint256) private _unbondingTotal;
    mapping(address account => uint256) private _slashedTotal;

    uint256 public totalDeposited;
    uint256 public totalActive;
    uint256 public totalUnbonding;
    uint256 public totalWithdrawn;
    uint256 public totalSlashed;

    /// @dev `account` added `amount` to its active stake.
    event Staked(address indexed account, uint256 amount, uint256 activeStake);
    /// @dev `account` moved `amount` from active stake to unbonding, withdrawable at `releaseBlock`.
    event UnbondingStarted(address indexed account, uint256 amount, uint64 releaseBlock);
    /// @dev `account` withdrew `amount` of released unbonding stake.
    event Withdrawn(address indexed account, uint256 amount);
    /// @dev `slasher` took `amount` of `account`'s stake, citing `evidence`.
    event Slashed(address indexed account, address indexed slasher, bytes32 indexed evidence, uint256 amount);

    error StakeVaultZeroAmount();
    error StakeVaultInsufficientStake(address account, uint256 active, uint256 requested);
    error StakeVaultNothingToWithdraw(address account, uint64 nextReleaseBlock);
    error StakeVaultMissingEvidence();
    error StakeVaultInvalidTreasury();
    error StakeVaultInvalidRecipient();

    /**
     * @dev `admin` grants `SLASHER_ROLE` to protocol modules; slashed tokens go to `treasury`.
     */
    constructor(IERC20 token_, address treasury_, uint64 unbondingBlocks_, address admin) {
        if (treasury_ == address(0)) revert StakeVaultInvalidTreasury();
        _token = token_;
        _treasury = treasury_;
        _unbondingBlocks = unbondingBlocks_;
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
    }

    // --- views -------------------------------------------------------------------------

    /// @dev The staked token, the treasury and the unbonding delay in blocks.
    function parameters() external view returns (IERC20, address, uint64) {
        return (_token, _treasury, _unbondingBlocks);
    }

    /// @dev `account`'s active (bonded) stake.
    function stakeOf(address account) external view returns (uint256) {
        return _active[account];
    }

    /// @dev `account`'s stake that is unbonding (still slashable), released or not.
    function unbondingOf(address account) external view returns (uint256) {
        return _unbondingTotal[account];
    }

    /// @dev Everything ever slashed from `account`.
    function slashedOf(address account) external view returns (uint256) {
        return _slashedTotal[account];
    }

    /// @dev `account`'s pending unbonding entries, oldest first.
    function unbondingEntries(address account) external view returns (Unbonding[] memory) {
        return _unbonding[account];
    }

    // --- stakers -----------------------------------------------------------------------

    /**
     * @dev Adds `amount` (approved beforehand) to the caller's active stake.
     *
     * Emits {Staked}.
     */
    function stake(uint256 amount) external nonReentrant {
        if (amount == 0) revert StakeVaultZeroAmount();
        _active[msg.sender] += amount;
        totalActive += amount;
        totalDeposited += amount;
        emit Staked(msg.sender, amount, _active[msg.sender]);
        _token.safeTransferFrom(msg.sender, address(this), amount);
    }

    /**
     * @dev Starts unbonding `amount` of the caller's active stake.
     *
     * Emits {UnbondingStarted}.
     */
    function unbond(uint256 amount) external {
        if (amount == 0) revert StakeVaultZeroAmount();
        uint256 active = _active[msg.sender];
        if (amount > active) revert StakeVaultInsufficientStake(msg.sender, active, amount);
        _active[msg.sender] = active - amount;
        totalActive -= amount;
        uint64 releaseBlock = uint64(block.number) + _unbondingBlocks;
        _unbonding[msg.sender].push(Unbonding({amount: amount, releaseBlock: releaseBlock}));
        _unbondingTotal[msg.sender] += amount;
        totalUnbonding += amount;
        emit UnbondingStarted(msg.sender, amount, releaseBlock);
    }

    /**
     * @dev Withdraws every released unbonding entry of the caller.
     *
     * Requirements: at least one entry is released.
     *
     * Emits {Withdrawn}.
     */
    function withdraw() external nonReentrant returns (uint256 amount) {
        Unbonding[] storage entries = _unbonding[msg.sender];
        uint256 kept = 0;
        uint64 nextRelease = 0;
        for (uint256 i = 0; i < entries.length; ++i) {
            Unbonding memory entry = entries[i];
            if (entry.releaseBlock <= block.number) {
                amount += entry.amount;
            } else {
                if (nextRelease == 0 || entry.releaseBlock < nextRelease) nextRelease = entry.releaseBlock;
                entries[kept++] = entry;
            }
        }
        while (entries.length > kept) entries.pop();
        if (amount == 0) revert StakeVaultNothingToWithdraw(msg.sender, nextRelease);
        _unbondingTotal[msg.sender] -= amount;
        totalUnbonding -= amount;
        totalWithdrawn += amount;
        emit Withdrawn(msg.sender, amount);
        _token.safeTransfer(msg.sender, amount);
    }

    // --- protocol modules ----------------------------------------------------------------

    /**
     * @dev Slashes up to `amount` of `account`'s stake, active first then unbonding (newest
     * entries first), to the treasury, citing `evidence`. Returns what was taken, which is
     * less than `amount` when the account holds less.
     *
     * Requirements: the caller holds `SLASHER_ROLE`; `evidence` is not zero.
     *
     * Emits {Slashed}.
     */
    function slash(address account, uint256 amount, bytes32 evidence)
        external
        onlyRole(SLASHER_ROLE)
        nonReentrant
        returns (uint256 taken)
    {
        taken = _slash(account, amount, evidence, _treasury);
    }

    /**
     * @dev As {slash}, but sends the slashed tokens to `recipient` (the slashing module, which
     * compensates the wronged party first and forwards the rest to the treasury).
     *
     * Requirements: the caller holds `SLASHER_ROLE`; `evidence` is not zero; `recipient` is
     * not the zero address.
     *
     * Emits {Slashed}.
     */
    function slashTo(address account, uint256 amount, bytes32 evidence, address recipient)
        external
        onlyRole(SLASHER_ROLE)
        nonReentrant
        returns (uint256 taken)
    {
        if (recipient == address(0)) revert StakeVaultInvalidRecipient();
        taken = _slash(account, amount, evidence, recipient);
    }

    function _slash(address account, uint256 amount, bytes32 evidence, address recipient)
        private
        returns (uint256 taken)
    {
        if (evidence == bytes32(0)) revert StakeVaultMissingEvidence();
        if (amount == 0) revert StakeVaultZeroAmount();
        uint256 active = _active[account];
        uint256 fromActive = amount < active ? amount : active;
        _active[account] = active - fromActive;
        totalActive -= fromActive;
        taken = fromActive;
        Unbonding[] storage entries = _unbonding[account];
        uint256 i = entries.length;
        while (taken < amount && i > 0) {
            Unbonding storage entry = entries[--i];
            uint256 part = amount - taken < entry.amount ? amount - taken : entry.amount;
            entry.amount -= part;
            taken += part;
        }
        uint256 fromUnbonding = taken - fromActive;
        _unbondingTotal[account] -= fromUnbonding;
        totalUnbonding -= fromUnbonding;
        _slashedTotal[account] += taken;
        totalSlashed += taken;
        emit Slashed(account, msg.sender, evidence, taken);
        if (taken > 0) _token.safeTransfer(recipient, taken);
    }
}
