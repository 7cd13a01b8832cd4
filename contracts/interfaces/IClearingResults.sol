// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {NetPosition, ResultHeader, SettlementProgress} from "../types/SettlementTypes.sol";

/// @title k-of-n clearing results, settled in chunks of any size
/// @notice Each committee member computes the clearing result of the cycle that is ready and approves
///         its header (`approveResult`): input commitment, roots, counts, and the number and hash chain
///         of the net positions. The k-th distinct approval of the same header hash in the current
///         committee epoch accepts the result: the cycle becomes `Settling`. Its positions are then
///         applied in order, in chunks of any size, by anyone (`settlePositions`): each chunk proves
///         itself against the hash chain, is validated (canonical order, bounds, debit caps, every
///         currency netting to zero when its last position is applied) and applied in the same call.
///         The cycle is Settled, and the next one can become ready, when the last chunk is applied.
///         So a result of any size settles within a block's gas limit and a node's transaction size
///         limit: the chunk size is the sender's choice, never the protocol's.
///
///         Liquidity cannot fall while a cycle is closed or settling (`LiquidityLocked`), so a result
///         valid when the committee computed it stays valid until its last chunk: with an honest
///         majority every chunk applies. Should an accepted result be invalid (a colluding majority),
///         the chunk that shows it reverts with a named error and the admin cancels the cycle: the
///         positions applied so far are reversed, chunk by chunk (`unwindPositions`), and the cycle's
///         whole input carries, as after any cancellation. Per currency, the sum of balances minus the
///         running sum of the applied nets of the currency being applied (kept between chunks) equals
///         `totalBalance` after every chunk: money is neither made nor lost part way.
/// @dev Approvals are on-chain attestations rather than EIP-712 signatures collected off chain. The
///      chain is the committee's only channel, so signatures would have to travel through it anyway;
///      attestations give every member and auditor the approval trail as events, need no aggregator
///      and no signature malleability handling, and are invalidated wholesale by bumping the committee
///      epoch: approvals are counted per (cycle, epoch, result hash), so adding or removing an oracle or
///      changing k makes every earlier approval worthless and can never make an old one valid again.
///      Each member approves at most one result per cycle and epoch (`AlreadyApproved`). The result
///      hash binds chain id and contract address, so a result cannot be replayed on another deployment,
///      and the cycle id, so it cannot be replayed on another cycle.
///
///      Only the cycle next in line can be approved, and the contract keeps the approvals of that cycle
///      only (`approvals` and `hasApproved` answer for it and return 0 / false for every other cycle);
///      the complete trail, including who accepted each result, is the `ResultApproved` events.
interface IClearingResults {
    /// @notice The result's input commitment is not the cycle's.
    error CommitmentMismatch(uint64 cycleId, bytes32 expected, bytes32 actual);
    /// @notice settledCount + deferredCount + recalledCount + expiredCount must equal the carried-in count
    ///         plus the cycle's submissions.
    error CountMismatch(uint64 cycleId, uint64 expected, uint64 actual);
    /// @notice A root must be zero exactly when its count is zero.
    error RootCountMismatch(bytes32 root, uint64 count);
    /// @notice Positions must be non-zero, well formed and sorted strictly by (currency, participant);
    ///         `index` counts from the result's first position.
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
    /// @notice Positions are applied only while `cycleId` is settling (and reversed only while it unwinds).
    error NotSettling(uint64 cycleId);
    /// @notice The chunk is empty or runs past the positions left to apply (or to reverse).
    error ChunkOutOfRange(uint64 cycleId, uint64 start, uint256 length, uint64 end);
    /// @notice The chunk and its `rest` do not hash to the chain value at position `start`: they are
    ///         not the accepted result's positions from `start` on (or another chunk came first).
    error ChunkMismatch(uint64 cycleId, uint64 start);
    /// @notice The cycle's settlement is being reversed; no position is applied any more.
    error SettlementIsUnwinding(uint64 cycleId);
    /// @notice A deferred set is published for settled cycles only.
    error NotSettled(uint64 cycleId);

    /// @notice `oracle` approved `resultHash` for `cycleId` (with the full result or its hash); `approvals`
    ///         is the count for that hash in `committeeEpoch`, this approval included.
    event ResultApproved(
        uint64 indexed cycleId, address indexed oracle, bytes32 indexed resultHash, uint256 approvals, uint64 committeeEpoch
    );
    /// @notice k approvals accepted the result `resultHash` for `cycleId`: it is settling, and its
    ///         `positionCount` positions (hash chain `positionsHash`) are applied next.
    event ResultAccepted(
        uint64 indexed cycleId,
        bytes32 resultHash,
        bytes32 settledRoot,
        bytes32 deferredRoot,
        uint64 settledCount,
        uint64 deferredCount,
        uint64 positionCount,
        bytes32 positionsHash
    );
    /// @notice Positions `start` .. `end - 1` of the cycle's accepted result were applied (of `count`).
    event PositionsApplied(uint64 indexed cycleId, uint64 start, uint64 end, uint64 count);
    /// @notice The admin cancelled the settling cycle `cycleId` after `applied` positions: they are
    ///         reversed next (`unwindPositions`), then the cycle is cancelled and its input carries.
    event SettlementUnwinding(uint64 indexed cycleId, uint64 applied, string reason);
    /// @notice A net position applied earlier in the cycle was reversed: `net` was taken back, leaving
    ///         `balance`.
    event NetPositionReversed(
        uint64 indexed cycleId, address indexed participant, bytes3 indexed currency, int256 net, int256 balance
    );
    /// @notice Bytes `offset` .. `offset + bits.length - 1` of the deferred-set bitmap of the settled
    ///         cycle `cycleId`, as a committee member computed it: bit `i` (byte `i / 8`, bit `i % 8`
    ///         counted from the least significant) is set exactly when the cycle's `i`-th input
    ///         obligation (the carried-in set in its carried order, then the submissions in order) was
    ///         deferred. Not checked on chain: a reader rebuilds the deferred set from it and accepts it
    ///         only if it hashes to the cycle's `deferredRoot`, so nobody needs to recompute the clearing.
    event DeferredSetPublished(uint64 indexed cycleId, address indexed publisher, uint64 offset, bytes bits);
    /// @notice Settled cycle `cycleId` ended `recalledCount` obligations their payers recalled and
    ///         `expiredCount` that expired (emitted just before `CycleSettled`, only when either is
    ///         non-zero); neither set carries.
    event ObligationsEnded(
        uint64 indexed cycleId, bytes32 recalledRoot, uint64 recalledCount, bytes32 expiredRoot, uint64 expiredCount
    );
    /// @notice The cycle settled with the result `resultHash`: its last position was applied.
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

    /// @notice Approves `header` as the caller's computation for its cycle; the k-th approval of the
    ///         same header hash accepts the result (the cycle becomes `Settling`), and settles it at
    ///         once when it has no positions.
    /// @dev Caller must be a committee member. Reverts unless the cycle is closed and next in line, the
    ///      commitment and counts match, each root and the positions hash is zero exactly when its count
    ///      is, and the caller has not approved a result for this cycle in the current committee epoch.
    /// @param header The result's header.
    /// @return resultHash The hash approved (`hashResult(header)`).
    /// @return accepted Whether this approval accepted the result.
    function approveResult(ResultHeader calldata header) external returns (bytes32 resultHash, bool accepted);

    /// @notice Applies the accepted result's positions `start` .. `start + positions.length - 1` of the
    ///         settling cycle, where `start` is `settlement().applied`; the last chunk settles the cycle.
    /// @dev Anyone may call: the chunk proves itself against the hash chain (`ChunkMismatch`). Reverts
    ///      unless the cycle is settling and not unwinding, the chunk is non-empty and within the
    ///      result, every position is canonical (`PositionsNotCanonical`, counting from the result's
    ///      first position), known (`UnknownCurrency`, `UnknownParticipant`), at most `MAX_NET_POSITION`
    ///      in magnitude (`NetPositionTooLarge`) and within its debit cap (`DebitCapExceeded`), and every
    ///      currency that ends nets to zero (`NetsDoNotBalance`). A currency's end is only known at the
    ///      next currency's first position or at the result's last one, so its sum is checked by the
    ///      chunk holding that position: a chunk that ends exactly on a currency's last position leaves
    ///      the check to the next chunk (the hub keeps the running sum between chunks).
    /// @param cycleId The settling cycle.
    /// @param positions The next positions of the accepted result, in canonical order.
    /// @param rest The hash-chain value of the position after the chunk (H_b; 0 after the last).
    /// @return applied Positions applied so far, this chunk included.
    /// @return settled Whether this chunk settled the cycle.
    function settlePositions(uint64 cycleId, NetPosition[] calldata positions, bytes32 rest)
        external
        returns (uint64 applied, bool settled);

    /// @notice Reverses the applied positions `start` .. `start + positions.length - 1` of a settling
    ///         cycle the admin cancelled, where `start` is `settlement().unwound`; the chunk that reverses
    ///         the last applied position cancels the cycle, and its whole input carries.
    /// @dev Anyone may call; the chunk proves itself against the hash chain from its start. Reverts unless
    ///      the cycle is unwinding and the chunk is non-empty and within the applied positions.
    /// @param cycleId The unwinding cycle.
    /// @param positions Applied positions of the accepted result, from `start`, in canonical order.
    /// @param rest The hash-chain value of the position after the chunk.
    /// @return unwound Positions reversed so far, this chunk included.
    /// @return cancelled Whether this chunk completed the reversal (the cycle is cancelled).
    function unwindPositions(uint64 cycleId, NetPosition[] calldata positions, bytes32 rest)
        external
        returns (uint64 unwound, bool cancelled);

    /// @notice Publishes part of settled cycle `cycleId`'s deferred-set bitmap (see `DeferredSetPublished`),
    ///         so that any node, one that started late or one that cannot reproduce the accepted result,
    ///         can rebuild the set the next cycle carries from chain data alone.
    /// @dev Caller must be a committee member; the cycle must be settled. Stores nothing: the event is the
    ///      record, and readers check what they rebuild against the cycle's `deferredRoot`.
    /// @param cycleId The settled cycle.
    /// @param offset The bitmap's byte offset of `bits`.
    /// @param bits The bitmap bytes from `offset`.
    function publishDeferredSet(uint64 cycleId, uint64 offset, bytes calldata bits) external;

    /// @notice The hash that committee members approve for `header` on this deployment.
    /// @param header The result's header.
    /// @return The result hash.
    function hashResult(ResultHeader calldata header) external view returns (bytes32);

    /// @notice Progress of the settling cycle's accepted result; `cycleId` is 0 when no cycle is settling.
    /// @return progress The settling cycle, its result hash, positions applied of the count, the chain
    ///         value the next chunk must match, and the unwinding state.
    function settlement() external view returns (SettlementProgress memory progress);

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

    /// @notice Verifies an obligation's inclusion in a settled cycle's settled or deferred set (false for a
    ///         cycle that is not settled).
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

    /// @notice Verifies an obligation's inclusion in a settled cycle's recalled or expired set (false for
    ///         a cycle that is not settled); the leaf is `verifyObligation`'s.
    /// @param cycleId The settled cycle whose roots to check against.
    /// @param recalled True for the recalled set, false for the expired set.
    /// @param proof The Merkle proof.
    /// @param originCycle Cycle the obligation was submitted to.
    /// @param payer The payer.
    /// @param payee The payee.
    /// @param currencyCode The currency.
    /// @param amount The amount.
    /// @param ref The reference.
    /// @return True if the proof verifies.
    function verifyEndedObligation(
        uint64 cycleId,
        bool recalled,
        bytes32[] calldata proof,
        uint64 originCycle,
        address payer,
        address payee,
        bytes3 currencyCode,
        uint256 amount,
        bytes32 ref
    ) external view returns (bool);

    /// @notice The recalled and expired roots of a settled cycle (or of the accepted result of the cycle
    ///         settling; zero for any other cycle, and for an empty set).
    /// @param cycleId The cycle.
    /// @return recalledRoot Root of the recalled set.
    /// @return expiredRoot Root of the expired set.
    function endedRoots(uint64 cycleId) external view returns (bytes32 recalledRoot, bytes32 expiredRoot);

    /// @notice The settled and deferred roots of a settled cycle (or of the accepted result of the cycle
    ///         settling; zero for any other cycle).
    /// @param cycleId The cycle.
    /// @return settledRoot Root of the settled set.
    /// @return deferredRoot Root of the deferred set.
    function roots(uint64 cycleId) external view returns (bytes32 settledRoot, bytes32 deferredRoot);
}
