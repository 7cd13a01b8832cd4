// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {ClearingResult} from "../types/SettlementTypes.sol";

/// @title k-of-n clearing results and atomic settlement of net positions
/// @notice Each committee member computes the clearing result of the cycle that is ready and approves
///         it, either with the full result (`approveResult`) or with its hash alone
///         (`approveResultHash`, 32 bytes of calldata instead of the positions). The approval that
///         reaches k - the k-th distinct approval of the same result hash in the current committee
///         epoch - must carry the full result: it is validated completely (input commitment, counts,
///         roots, canonical positions, per-currency balance, debit caps), its hash recomputed, and every
///         net position applied atomically in that transaction. A hash approval that would be the k-th
///         is refused (`ResultRequired`), so nothing settles unvalidated; a full approval below k is
///         validated too before it counts. Members therefore approve by hash while fewer than k - 1
///         approvals of their hash exist, and with the full result otherwise (a member that checks its
///         result first can do so with an `eth_call` of `approveResult`, which validates it for free).
/// @dev Approvals are on-chain attestations rather than EIP-712 signatures collected off chain. The
///      chain is the committee's only channel, so signatures would have to travel through it anyway;
///      attestations give every member and auditor the approval trail as events, need no aggregator
///      and no signature malleability handling, and are invalidated wholesale by bumping the committee
///      epoch: approvals are counted per (cycle, epoch, result hash), so adding or removing an oracle or
///      changing k makes every earlier approval worthless and can never make an old one valid again.
///      Each member approves at most one result per cycle and epoch (`AlreadyApproved`), whichever
///      function it uses. The result hash binds chain id and contract address, so a result cannot be
///      replayed on another deployment, and the cycle id, so it cannot be replayed on another cycle; a
///      hash approval only ever counts toward the full result whose hash it is.
///
///      Only the cycle next in line can be approved, and the contract keeps the approvals of that cycle
///      only (`approvals` and `hasApproved` answer for it and return 0 / false for every other cycle);
///      the complete trail, including who settled each cycle, is the `ResultApproved` events.
interface IClearingResults {
    /// @notice The result's input commitment is not the cycle's.
    error CommitmentMismatch(uint64 cycleId, bytes32 expected, bytes32 actual);
    /// @notice settledCount + deferredCount must equal the carried-in count plus the cycle's submissions.
    error CountMismatch(uint64 cycleId, uint64 expected, uint64 actual);
    /// @notice A root must be zero exactly when its count is zero.
    error RootCountMismatch(bytes32 root, uint64 count);
    /// @notice Positions must be non-zero and sorted strictly by (currency, participant).
    error PositionsNotCanonical(uint256 index);
    /// @notice The nets of `currency` do not sum to zero.
    error NetsDoNotBalance(bytes3 currency, int256 sum);
    /// @notice Position `index` has a net of magnitude above `MAX_NET_POSITION` (2^192), more than any
    ///         honest result can carry; refused so that no result can overflow the balance arithmetic.
    error NetPositionTooLarge(uint256 index, int256 net);
    /// @notice Applying `net` would take the participant below minus its debit cap.
    error DebitCapExceeded(address participant, bytes3 currency, int256 balanceAfter, uint256 cap);
    /// @notice This oracle already approved a result for this cycle in the current committee epoch.
    error AlreadyApproved(uint64 cycleId, address oracle);
    /// @notice The committee's threshold is not valid for its size (2 <= k <= n, 2k > n).
    error CommitteeMisconfigured(uint256 size, uint256 threshold);
    /// @notice This approval of `resultHash` would be the k-th: it must carry the full result
    ///         (`approveResult`) so that it is validated and settles.
    error ResultRequired(uint64 cycleId, bytes32 resultHash);

    /// @notice `oracle` approved `resultHash` for `cycleId` (with the full result or its hash); `approvals`
    ///         is the count for that hash in `committeeEpoch`, this approval included.
    event ResultApproved(
        uint64 indexed cycleId, address indexed oracle, bytes32 indexed resultHash, uint256 approvals, uint64 committeeEpoch
    );
    /// @notice The cycle settled with the result `resultHash`.
    event CycleSettled(
        uint64 indexed cycleId,
        bytes32 resultHash,
        bytes32 settledRoot,
        bytes32 deferredRoot,
        uint64 settledCount,
        uint64 deferredCount
    );
    /// @notice A net position was applied to a settlement balance.
    event NetPositionSettled(
        uint64 indexed cycleId, address indexed participant, bytes3 indexed currency, int256 net, int256 balance
    );

    /// @notice Approves `result` as the caller's computation for its cycle; the k-th approval settles.
    /// @dev Caller must be a committee member. Reverts unless the cycle is closed and next in line, the
    ///      commitment and counts match, the positions are canonical, every net is at most
    ///      `MAX_NET_POSITION` in magnitude (else `NetPositionTooLarge`), each currency nets to zero, every
    ///      balance stays within its debit cap, and the caller has not approved a result for this cycle in
    ///      the current committee epoch. Counts together with hash approvals of the same hash.
    /// @param result The clearing result.
    /// @return resultHash The hash approved.
    /// @return settled Whether this approval settled the cycle.
    function approveResult(ClearingResult calldata result) external returns (bytes32 resultHash, bool settled);

    /// @notice Approves the result whose hash (`hashResult`) is `resultHash` for the cycle `cycleId`,
    ///         without sending it; for every approval but the k-th.
    /// @dev Caller must be a committee member, the cycle closed and next in line, and the caller must not
    ///      have approved a result for it in the current committee epoch. The contract cannot validate a
    ///      hash: the result is validated when it is presented, at the latest by the k-th approval, which
    ///      must be `approveResult` - this call reverts `ResultRequired` instead of reaching k. An
    ///      approval of a hash no valid result has can therefore never settle anything.
    /// @param cycleId The cycle (also bound inside the hash).
    /// @param resultHash `hashResult(result)` of the result approved.
    /// @return count The approvals `resultHash` now has in the current committee epoch.
    function approveResultHash(uint64 cycleId, bytes32 resultHash) external returns (uint256 count);

    /// @notice The hash that committee members approve for `result` on this deployment.
    /// @param result The clearing result.
    /// @return The result hash.
    function hashResult(ClearingResult calldata result) external view returns (bytes32);

    /// @notice Approvals for `resultHash` on `cycleId` in the current committee epoch, while `cycleId`
    ///         awaits its result (closed and next in line); 0 for any other cycle.
    /// @param cycleId The cycle.
    /// @param resultHash The result hash.
    /// @return The count.
    function approvals(uint64 cycleId, bytes32 resultHash) external view returns (uint256);

    /// @notice Whether `oracle` approved a result for `cycleId` in the current committee epoch, while
    ///         `cycleId` awaits its result (closed and next in line); false for any other cycle.
    /// @param cycleId The cycle.
    /// @param oracle The committee member.
    /// @return True if it did.
    function hasApproved(uint64 cycleId, address oracle) external view returns (bool);

    /// @notice Verifies an obligation's inclusion in a settled cycle's settled or deferred set.
    /// @dev Leaf: StandardMerkleTree over (uint64 cycleId, address payer, address payee, bytes3 currency,
    ///      uint256 amount, bytes32 ref), where cycleId is the cycle the obligation was submitted to.
    /// @param cycleId The settled cycle whose roots to check against.
    /// @param settled True for the settled set, false for the deferred set.
    /// @param proof The Merkle proof.
    /// @param originCycle Cycle the obligation was submitted to.
    /// @param payer The payer.
    /// @param payee The payee.
    /// @param currencyCode The currency.
    /// @param amount The amount.
    /// @param ref The reference.
    /// @return True if the proof verifies.
    function verifyObligation(
        uint64 cycleId,
        bool settled,
        bytes32[] calldata proof,
        uint64 originCycle,
        address payer,
        address payee,
        bytes3 currencyCode,
        uint256 amount,
        bytes32 ref
    ) external view returns (bool);

    /// @notice The settled and deferred roots of a settled cycle.
    /// @param cycleId The cycle.
    /// @return settledRoot Root of the settled set.
    /// @return deferredRoot Root of the deferred set.
    function roots(uint64 cycleId) external view returns (bytes32 settledRoot, bytes32 deferredRoot);
}
