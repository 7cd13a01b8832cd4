// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {Cycle, CycleStatus, ObligationInput, ObligationKind, NettingStrategy} from "../types/SettlementTypes.sol";

/// @title Clearing cycles and obligation submission
/// @notice Members submit obligations into the open cycle, one at a time or in packed batches of hundreds.
///         A cycle closes by an admin call, or by anyone once its configured duration has passed (a
///         submission after the deadline closes it itself), and the next cycle opens in the same call,
///         so submission never stops. Cycles are finalised (settled, failed or cancelled) strictly in
///         order. The obligations a settled cycle defers, or all obligations of a failed or cancelled
///         cycle, carry into the next cycle: nothing is lost, and each cycle's `inputCommitment` binds
///         the carried set to the new submissions.
/// @dev Commitments (all keccak256, `‖` is concatenation of the packed encodings):
///        submissionsHash_0 = 0
///        submissionsHash_i = keccak256(submissionsHash_{i-1} ‖ payer ‖ record_i)
///      with record_i the canonical 152-byte record (see `submitBatch`)
///        recallsHash_0 = 0
///        recallsHash_i = keccak256(recallsHash_{i-1} ‖ payer ‖ ref_i)
///      over the recalls recorded while the cycle was open (see `recall`), and
///        inputCommitment   = keccak256(abi.encode(carryIn, submissionsHash, count, recallsHash, recallCount))
///      where `carryIn` is the carry commitment when the cycle became ready (see `carry`).
///
///      Obligations end in one of four ways, each a set of the settled cycle's result with its own
///      Merkle root: settled, deferred (carried into the next cycle), recalled by the payer (`recall`),
///      or expired (`setObligationExpiry`). Recalled and expired obligations never carry, so the carried
///      set is bounded by the expiry times the cycles' submissions.
///      Duplicate references are detected with a per-payer bitmap keyed by `uint256(reference) >> 8`:
///      references that differ only in their last byte share one storage word, so numbering references
///      sequentially costs about 90 gas each for duplicate protection, while random references pay a
///      fresh storage slot (about 22,100 gas) each. A *sequenced* reference, `0x01535101 ‖ seq (12 bytes)
///      ‖ id (16 bytes)` (e.g. a payment's random UETR as `id`), is keyed by `seq` alone: numbering the
///      sequence keeps random ids cheap, and each `seq` of a payer can be used once, whatever its `id`.
interface IClearingCycles {
    /// @notice Submissions are made into the open cycle only; `cycleId` is not open.
    error CycleNotOpen(uint64 cycleId);
    /// @notice `cycleId` is not closed and next in line for finalisation.
    error CycleNotReady(uint64 cycleId);
    /// @notice The cycle's duration has not passed and the caller is not the admin.
    error CycleStillRunning(uint64 cycleId, uint64 closesAt);
    /// @notice The cycle's settlement timeout has not passed (or none is configured).
    error SettlementTimeoutNotReached(uint64 cycleId, uint64 failsAt);
    /// @notice The payer already used `reference`.
    error DuplicateReference(address payer, bytes32 ref);
    /// @notice A reference must be non-zero.
    error ZeroReference(uint256 index);
    /// @notice Obligation amounts must be positive.
    error ZeroObligationAmount(bytes32 ref);
    /// @notice An obligation amount must be at most `MAX_AMOUNT` (2^128 - 1 minor units).
    error ObligationAmountTooLarge(bytes32 ref, uint256 amount);
    /// @notice An obligation's payer and payee must differ.
    error PayerIsPayee(bytes32 ref);
    /// @notice The obligation kind does not match the payer's and payee's participant kinds.
    error KindMismatch(bytes32 ref, ObligationKind kind);
    /// @notice The obligation kind byte is out of range.
    error InvalidKind(bytes32 ref, uint8 kind);
    /// @notice The packed batch is empty or its last record is cut short.
    error MalformedBatch(uint256 length);
    /// @notice The batch references a payee that is not active.
    error InactivePayee(bytes32 ref, address payee);
    /// @notice The batch references an unregistered currency.
    error UnknownObligationCurrency(bytes32 ref, bytes3 currency);
    /// @notice The amount is above the currency's configured maximum (`currencyMaxAmount`).
    error ObligationAmountAboveMaximum(bytes32 ref, uint256 amount, uint256 maximum);
    /// @notice A recall names at least one reference.
    error NothingToRecall();
    /// @notice The caller never submitted an obligation with reference `ref`.
    error UnknownReference(address payer, bytes32 ref);
    /// @notice The caller already recalled `ref`.
    error AlreadyRecalled(address payer, bytes32 ref);

    /// @notice A cycle opened for submissions.
    event CycleOpened(uint64 indexed cycleId, uint64 openedAt, uint64 closesAt);
    /// @notice A cycle closed: its submissions are final.
    event CycleClosed(uint64 indexed cycleId, uint64 count, bytes32 submissionsHash, address closedBy);
    /// @notice A closed cycle is next in line: the committee computes its result against balances at the
    ///         end of block `readyBlock`, over the carried-in obligations plus the cycle's submissions.
    event CycleReady(uint64 indexed cycleId, bytes32 inputCommitment, bytes32 carryIn, uint64 carriedCount, uint64 readyBlock);
    /// @notice No result was accepted in time; all of the cycle's obligations carry into the next cycle.
    event CycleFailed(uint64 indexed cycleId, string reason);
    /// @notice The admin cancelled the cycle; all of its obligations carry into the next cycle.
    event CycleCancelled(uint64 indexed cycleId, string reason);
    /// @notice The automatic cycle length changed (0 = close by admin only).
    event CycleDurationSet(uint64 duration);
    /// @notice The time after readiness after which anyone may fail a cycle without a result (0 = never).
    event SettlementTimeoutSet(uint64 timeout);
    /// @notice The committee's gridlock-resolution strategy changed.
    event NettingStrategySet(NettingStrategy strategy);
    /// @notice Unsettled obligations now expire `cycles` cycles after the cycle they were submitted to
    ///         (0 = never).
    event ObligationExpirySet(uint64 cycles);
    /// @notice `payer` asked to recall its obligation `ref`; recorded in the open cycle `cycleId`.
    event RecallRequested(address indexed payer, uint64 indexed cycleId, bytes32 ref);
    /// @notice An obligation entered `cycleId`. Carries every field; submission order is log order.
    event ObligationSubmitted(
        address indexed payer,
        address indexed payee,
        uint64 cycleId,
        bytes32 ref,
        bytes3 currency,
        ObligationKind kind,
        uint256 amount,
        bytes32 payerAccount,
        bytes32 payeeAccount
    );

    /// @notice Submits one obligation, paid by the caller, into the open cycle.
    /// @dev Caller must be an active participant; reverts with the specific validation error otherwise,
    ///      e.g. `ObligationAmountTooLarge` for an amount above `MAX_AMOUNT`.
    /// @param obligation The obligation.
    /// @return cycleId The cycle it entered.
    function submit(ObligationInput calldata obligation) external returns (uint64 cycleId);

    /// @notice Submits a batch of obligations, all paid by the caller, into the open cycle; all or nothing.
    /// @dev `records` concatenates records of 88 or 152 bytes, integers big-endian:
    ///      payee (20) ‖ currency (3) ‖ flags (1) ‖ amount (32) ‖ ref (32) [‖ payerAccount (32) ‖ payeeAccount (32)]
    ///      where flags = kind | 0x80 when the two account hashes follow, and kind alone when they are zero and
    ///      omitted. The canonical record hashed into `submissionsHash` is always the 152-byte form with the
    ///      plain kind byte. The packed form saves about 40% of the calldata of the ABI array and lets bank
    ///      nodes encode batches without an ABI encoder. Each record is validated like `submit`'s
    ///      obligation (an amount above `MAX_AMOUNT` reverts `ObligationAmountTooLarge`).
    /// @param records The packed obligations.
    /// @return cycleId The cycle they entered.
    function submitBatch(bytes calldata records) external returns (uint64 cycleId);

    /// @notice Recalls obligations the caller submitted and that have not settled: each request is
    ///         recorded in the open cycle and bound into its input commitment.
    /// @dev The first cycle from `cycleId` on that settles decides: an obligation still outstanding then
    ///      (submitted to it, or carried into it) is not netted and does not carry; it ends in that
    ///      cycle's recalled set. An obligation that settled or expired before is not affected: nothing
    ///      undoes a settlement, and a recall arriving too late is visible as a `RecallRequested` for an
    ///      obligation in an earlier settled set. A failed or cancelled cycle carries its recalls with its
    ///      whole input. Any member that submitted `refs` may recall them, also while suspended.
    ///      Reverts `UnknownReference` for a reference the caller never used, `AlreadyRecalled` for one
    ///      recalled before; all or nothing.
    /// @param refs The references of the obligations to recall.
    /// @return cycleId The cycle the recalls were recorded in.
    function recall(bytes32[] calldata refs) external returns (uint64 cycleId);

    /// @notice Closes the open cycle and opens the next one.
    /// @dev The admin may close at any time; anyone may once the cycle's duration has passed.
    /// @return closedId The cycle that closed.
    function closeCycle() external returns (uint64 closedId);

    /// @notice Marks the next cycle in line as failed once its settlement timeout has passed.
    /// @dev Callable by anyone while no result is accepted (the cycle is closed); all of its obligations
    ///      carry into the next cycle. A settling cycle cannot fail: anyone can apply its chunks.
    /// @param cycleId The cycle, which must be closed and next in line.
    function failCycle(uint64 cycleId) external;

    /// @notice Cancels the next cycle in line; all of its obligations carry into the next cycle.
    /// @dev Admin only. A closed cycle, or a settling one none of whose positions is applied yet, is
    ///      cancelled at once. A settling cycle with applied positions starts unwinding
    ///      (`SettlementUnwinding`): the positions are reversed with `unwindPositions`, and the chunk
    ///      that reverses the last of them cancels the cycle.
    /// @param cycleId The cycle, which must be closed and next in line.
    /// @param reason Free text recorded in the event.
    function cancelCycle(uint64 cycleId, string calldata reason) external;

    /// @notice Sets the automatic cycle length in seconds (0 = close by admin only); applies from the next cycle.
    /// @dev Admin only.
    /// @param duration Seconds.
    function setCycleDuration(uint64 duration) external;

    /// @notice Sets the settlement timeout in seconds after readiness (0 = never fail automatically).
    /// @dev Admin only.
    /// @param timeout Seconds.
    function setSettlementTimeout(uint64 timeout) external;

    /// @notice Sets the gridlock-resolution strategy every committee member must use.
    /// @dev Admin only; takes effect for cycles that become ready afterwards (members read it at the ready block).
    /// @param strategy Fifo or MaxValue.
    function setNettingStrategy(NettingStrategy strategy) external;

    /// @notice Sets how many cycles an obligation may stay unsettled: one submitted to cycle s is netted
    ///         in cycles s .. s + `cycles` - 1 at most; still outstanding in the input of cycle
    ///         s + `cycles` (or a later one), it ends in that cycle's expired set before the clearing, so
    ///         what it blocked settles in that cycle (0 = never expire). Bounds the carried set, and
    ///         ends head-of-line blocking by an obligation that can never settle.
    /// @dev Admin only; like the strategy it applies to cycles that become ready afterwards (members read
    ///      it at the ready block).
    /// @param cycles Cycles after submission; 0 disables expiry.
    function setObligationExpiry(uint64 cycles) external;

    /// @notice The obligation expiry in cycles (0 = never), see `setObligationExpiry`.
    /// @return The number of cycles.
    function obligationExpiry() external view returns (uint64);

    /// @notice The recall requests recorded while `cycleId` was open.
    /// @param cycleId The cycle.
    /// @return hash keccak256 rolling hash over (payer, ref) in order (0 when none).
    /// @return count How many.
    function recalls(uint64 cycleId) external view returns (bytes32 hash, uint64 count);

    /// @notice The cycle currently open for submissions (a lapsed cycle reports until it is rolled).
    /// @return The cycle id.
    function currentCycleId() external view returns (uint64);

    /// @notice The oldest cycle that is not yet settled, failed or cancelled.
    /// @return The cycle id.
    function nextCycleToFinalize() external view returns (uint64);

    /// @notice A cycle's stored state.
    /// @param cycleId The cycle.
    /// @return The cycle.
    function cycle(uint64 cycleId) external view returns (Cycle memory);

    /// @notice The commitment and count of obligations carried into the next cycle to finalise.
    /// @dev After a settlement: keccak256(abi.encode(deferredRoot, deferredCount)), or 0 when nothing was
    ///      deferred. After a failure or cancellation: that cycle's inputCommitment (its whole input).
    /// @return commitment The carry commitment.
    /// @return count How many obligations it holds.
    function carry() external view returns (bytes32 commitment, uint64 count);

    /// @notice Cycle configuration.
    /// @return duration Automatic cycle length in seconds (0 = manual).
    /// @return settlementTimeout Seconds after readiness before a cycle may be failed (0 = never).
    /// @return strategy The netting strategy.
    function cycleConfig() external view returns (uint64 duration, uint64 settlementTimeout, NettingStrategy strategy);

    /// @notice Which of `references` the payer has already used; bit i of word i/256 is set for refs[i].
    /// @dev Lets a restarted submitter skip what is already on chain with one call per few thousand rows.
    /// @param payer The payer.
    /// @param refs References to test.
    /// @return used Bitmap, little-endian by index.
    function referencesUsed(address payer, bytes32[] calldata refs) external view returns (uint256[] memory used);
}
