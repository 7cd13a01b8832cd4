// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {MerkleProof} from "@openzeppelin/contracts/utils/cryptography/MerkleProof.sol";
import {IClearingResults} from "../interfaces/IClearingResults.sol";
import {ClearingResultHash} from "../libraries/ClearingResultHash.sol";
import {ObligationLeaf} from "../libraries/ObligationLeaf.sol";
import {ClearingCycles} from "./ClearingCycles.sol";
import {
    MAX_NET_POSITION,
    Cycle,
    CycleStatus,
    NetPosition,
    ParticipantKind,
    ResultHeader,
    SettlementProgress
} from "../types/SettlementTypes.sol";

/// @title k-of-n result approval and chunked settlement module of the settlement hub
/// @dev Members approve a result's header (`approveResult`, a few hundred bytes whatever the result's
///      size); the approval that reaches k accepts it and the cycle becomes `Settling`. The positions
///      then arrive in chunks (`settlePositions`) that prove themselves against the header's hash chain
///      and are validated and applied in the same call; loops run over the chunk's positions only.
///
///      Gas: only the cycle next in line (`_nextToFinalize`) can be approved or settling, so its ballot
///      (in `_pending`, next to its carry count, and `_leadHash`) and its settlement progress
///      (`_progress`) are single records every cycle rewrites instead of allocating fresh slots; an
///      oracle's own approval is recorded in its role slot (`Membership.Oracle`). Per settled cycle the
///      only fresh slots are the result hash and the non-zero roots.
abstract contract ClearingResults is ClearingCycles, IClearingResults {
    struct Roots {
        bytes32 settled;
        bytes32 deferred;
        bytes32 recalled;
        bytes32 expired;
    }

    /// @dev Progress of the settling cycle (`_nextToFinalize` while its status is `Settling`), in five
    ///      slots rewritten every cycle. `nextHash` is H_applied of the positions' hash chain (left at
    ///      its last value once all are applied, so the slot never returns to zero); `unwindHash` is
    ///      H_unwound (H_0 until the admin cancels); `previous`, `currency` and `sum` are the canonical
    ///      order and running per-currency sum of the positions applied so far.
    struct Progress {
        uint64 applied;
        uint64 count;
        uint64 unwound;
        uint64 deferredCount;
        bytes32 nextHash;
        bytes32 unwindHash;
        int256 sum;
        address previous;
        bytes3 currency;
        bool unwinding;
        uint64 settledCount;
        uint64 recalledCount;
        uint64 expiredCount;
    }

    /// @dev The ballot of the cycle awaiting its result lives in `_pending` (ClearingCycles): approvals of
    ///      (`ballotCycle`, `ballotEpoch`), where `leadApprovals` count `_leadHash`, the first hash approved
    ///      for that cycle in that committee epoch. Other hashes (members disagreeing) are counted in
    ///      `_otherApprovals`. A ballot for another cycle or epoch is stale: the next approval starts anew.
    bytes32 internal _leadHash;
    mapping(uint64 cycleId => mapping(uint64 epoch => mapping(bytes32 resultHash => uint256))) internal
        _otherApprovals;
    mapping(uint64 cycleId => Roots) internal _roots;
    Progress internal _progress;

    /// @dev How an approval is counted: it opens a new ballot, adds to the lead hash, or to another hash.
    enum Tally {
        Fresh,
        Lead,
        Other
    }

    constructor() {
        // Non-zero from the start, so that the first cycle's approvals rewrite it like every later cycle's
        // (2,900 gas) instead of allocating it (20,000). It belongs to a ballot of no cycle: never counted.
        _leadHash = bytes32(uint256(1));
        _progress.nextHash = bytes32(uint256(1));
        _progress.unwindHash = bytes32(uint256(1));
        _progress.settledCount = type(uint64).max;
        _progress.count = type(uint64).max;
        _progress.recalledCount = type(uint64).max;
    }

    /// @inheritdoc IClearingResults
    function approveResult(ResultHeader calldata header)
        external
        whenNotPaused
        returns (bytes32 resultHash, bool accepted)
    {
        (uint256 threshold, uint64 epoch) = _requireCommitteeMember();

        uint64 id = header.cycleId;
        Cycle storage c = _requireReady(id);
        if (header.inputCommitment != c.inputCommitment) {
            revert CommitmentMismatch(id, c.inputCommitment, header.inputCommitment);
        }
        uint64 expected = _pending.carryCount + c.count;
        uint64 actual = header.settledCount + header.deferredCount + header.recalledCount + header.expiredCount;
        if (actual != expected) revert CountMismatch(id, expected, actual);
        _checkRoot(header.settledRoot, header.settledCount);
        _checkRoot(header.deferredRoot, header.deferredCount);
        _checkRoot(header.recalledRoot, header.recalledCount);
        _checkRoot(header.expiredRoot, header.expiredCount);
        _checkRoot(header.positionsHash, header.positionCount);
        _requireFirstApproval(id, epoch);

        resultHash = ClearingResultHash.hash(header, block.chainid, address(this));
        (uint256 count, Tally tally) = _tally(id, epoch, resultHash);
        accepted = count >= threshold;
        // The accepting approval needs no record: the cycle leaves the ballot in this call.
        if (!accepted) _record(id, epoch, resultHash, count, tally);
        emit ResultApproved(id, msg.sender, resultHash, count, epoch);
        if (accepted) _accept(id, c, resultHash, header);
    }

    /// @inheritdoc IClearingResults
    function publishDeferredSet(uint64 cycleId, uint64 offset, bytes calldata bits) external whenNotPaused {
        if (!_oracles[msg.sender].active) revert NotOracle(msg.sender);
        if (_cycles[cycleId].status != CycleStatus.Settled) revert NotSettled(cycleId);
        emit DeferredSetPublished(cycleId, msg.sender, offset, bits);
    }

    /// @inheritdoc IClearingResults
    function settlePositions(uint64 cycleId, NetPosition[] calldata positions, bytes32 rest)
        external
        whenNotPaused
        returns (uint64 applied, bool settled)
    {
        Cycle storage c = _requireSettling(cycleId);
        Progress memory p = _progress;
        if (p.unwinding) revert SettlementIsUnwinding(cycleId);
        uint64 start = p.applied;
        _checkChunk(cycleId, positions, rest, start, p.count, p.nextHash);

        bytes32 currency = start == 0 ? bytes32(type(uint256).max) : bytes32(p.currency);
        (address previous, bytes32 last, int256 sum) =
            _processPositions(cycleId, positions, start, p.previous, currency, p.sum);
        applied = start + uint64(positions.length);
        settled = applied == p.count;
        emit PositionsApplied(cycleId, start, applied, p.count);
        if (settled) {
            if (sum != 0) revert NetsDoNotBalance(bytes3(last), sum);
            _progress.applied = applied;
            _settle(cycleId, c, p);
        } else {
            Progress storage s = _progress;
            s.applied = applied;
            s.nextHash = rest;
            s.sum = sum;
            s.previous = previous;
            s.currency = bytes3(last);
        }
    }

    /// @inheritdoc IClearingResults
    function unwindPositions(uint64 cycleId, NetPosition[] calldata positions, bytes32 rest)
        external
        returns (uint64 unwound, bool cancelled)
    {
        Cycle storage c = _requireSettling(cycleId);
        Progress memory p = _progress;
        if (!p.unwinding) revert NotSettling(cycleId);
        uint64 start = p.unwound;
        _checkChunk(cycleId, positions, rest, start, p.applied, p.unwindHash);
        for (uint256 i; i < positions.length; ++i) {
            NetPosition calldata q = positions[i];
            Account storage a = _accounts[q.participant][q.currency];
            int256 balance = a.balance - q.net;
            a.balance = balance;
            emit NetPositionReversed(cycleId, q.participant, q.currency, q.net, balance);
        }
        unwound = start + uint64(positions.length);
        cancelled = unwound == p.applied;
        _progress.unwound = unwound;
        _progress.unwindHash = rest;
        if (cancelled) _cancelAccepted(cycleId, c, "settlement unwound");
    }

    /// @inheritdoc IClearingResults
    function hashResult(ResultHeader calldata header) external view returns (bytes32) {
        return ClearingResultHash.hash(header, block.chainid, address(this));
    }

    /// @inheritdoc IClearingResults
    function settlement() external view returns (SettlementProgress memory progress) {
        uint64 id = _nextToFinalize;
        Cycle storage c = _cycles[id];
        if (c.status != CycleStatus.Settling) return progress;
        Progress memory p = _progress;
        progress = SettlementProgress(id, c.resultHash, p.applied, p.count, p.nextHash, p.unwinding, p.unwound);
    }

    /// @inheritdoc IClearingResults
    function approvals(uint64 cycleId, bytes32 resultHash) external view returns (uint256) {
        if (!_balloting(cycleId)) return 0;
        if (resultHash == _leadHash) return _pending.leadApprovals;
        return _otherApprovals[cycleId][_committeeEpoch][resultHash];
    }

    /// @inheritdoc IClearingResults
    function hasApproved(uint64 cycleId, address oracle) external view returns (bool) {
        Oracle memory o = _oracles[oracle];
        return o.approvedCycle == cycleId && o.approvedEpoch == _committeeEpoch && _balloting(cycleId);
    }

    /// @inheritdoc IClearingResults
    function verifyObligation(
        uint64 cycleId,
        bool settledSet,
        bytes32[] calldata proof,
        uint64 originCycle,
        address payer,
        address payee,
        bytes3 currencyCode,
        uint256 amount,
        bytes32 ref
    ) external view returns (bool) {
        Roots storage r = _roots[cycleId];
        bytes32 root = settledSet ? r.settled : r.deferred;
        return _verify(cycleId, root, proof, ObligationLeaf.hash(originCycle, payer, payee, currencyCode, amount, ref));
    }

    /// @inheritdoc IClearingResults
    function verifyEndedObligation(
        uint64 cycleId,
        bool recalledSet,
        bytes32[] calldata proof,
        uint64 originCycle,
        address payer,
        address payee,
        bytes3 currencyCode,
        uint256 amount,
        bytes32 ref
    ) external view returns (bool) {
        Roots storage r = _roots[cycleId];
        bytes32 root = recalledSet ? r.recalled : r.expired;
        return _verify(cycleId, root, proof, ObligationLeaf.hash(originCycle, payer, payee, currencyCode, amount, ref));
    }

    /// @inheritdoc IClearingResults
    function roots(uint64 cycleId) external view returns (bytes32 settledRoot, bytes32 deferredRoot) {
        Roots memory r = _roots[cycleId];
        return (r.settled, r.deferred);
    }

    /// @inheritdoc IClearingResults
    function endedRoots(uint64 cycleId) external view returns (bytes32 recalledRoot, bytes32 expiredRoot) {
        Roots memory r = _roots[cycleId];
        return (r.recalled, r.expired);
    }

    function _verify(uint64 cycleId, bytes32 root, bytes32[] calldata proof, bytes32 leaf)
        private
        view
        returns (bool)
    {
        if (root == 0 || _cycles[cycleId].status != CycleStatus.Settled) return false;
        return MerkleProof.verifyCalldata(proof, root, leaf);
    }

    /// @inheritdoc ClearingCycles
    function _deferredRoot(uint64 id) internal view override returns (bytes32) {
        return _roots[id].deferred;
    }

    // ---------------------------------------------------------------------------------------------
    // Internal: approvals
    // ---------------------------------------------------------------------------------------------

    /// @dev The threshold and committee epoch, if the caller is an oracle and the committee can settle.
    function _requireCommitteeMember() private view returns (uint256 threshold, uint64 epoch) {
        if (!_oracles[msg.sender].active) revert NotOracle(msg.sender);
        threshold = _threshold;
        if (!_validThreshold(_committeeSize, threshold)) revert CommitteeMisconfigured(_committeeSize, threshold);
        epoch = _committeeEpoch;
    }

    function _requireFirstApproval(uint64 id, uint64 epoch) private view {
        Oracle memory o = _oracles[msg.sender];
        if (o.approvedCycle == id && o.approvedEpoch == epoch) revert AlreadyApproved(id, msg.sender);
    }

    /// @dev Whether the ballot holds the approvals of `id` in the current epoch and `id` still awaits them.
    function _balloting(uint64 id) private view returns (bool) {
        Pending memory b = _pending;
        return b.ballotCycle == id && b.ballotEpoch == _committeeEpoch && id == _nextToFinalize
            && _cycles[id].status == CycleStatus.Closed;
    }

    /// @dev The count `resultHash` reaches with this approval, and where it is kept.
    function _tally(uint64 id, uint64 epoch, bytes32 resultHash) private view returns (uint256, Tally) {
        Pending memory b = _pending;
        if (b.ballotCycle != id || b.ballotEpoch != epoch) return (1, Tally.Fresh);
        if (resultHash == _leadHash) return (uint256(b.leadApprovals) + 1, Tally.Lead);
        return (_otherApprovals[id][epoch][resultHash] + 1, Tally.Other);
    }

    /// @dev Records the caller's approval of `resultHash`, the `count`-th for it.
    function _record(uint64 id, uint64 epoch, bytes32 resultHash, uint256 count, Tally tally) private {
        if (tally == Tally.Other) {
            _otherApprovals[id][epoch][resultHash] = count;
        } else {
            if (tally == Tally.Fresh) _leadHash = resultHash;
            _pending = Pending(_pending.carryCount, id, epoch, uint64(count));
        }
        Oracle storage o = _oracles[msg.sender];
        o.approvedCycle = id;
        o.approvedEpoch = epoch;
    }

    // ---------------------------------------------------------------------------------------------
    // Internal: the result
    // ---------------------------------------------------------------------------------------------

    function _checkRoot(bytes32 root, uint64 count) private pure {
        if ((root == 0) != (count == 0)) revert RootCountMismatch(root, count);
    }

    /// @dev The k-th approval: the cycle settles `header`'s result, at once when it has no positions.
    function _accept(uint64 id, Cycle storage c, bytes32 resultHash, ResultHeader calldata header) private {
        c.status = CycleStatus.Settling;
        c.resultHash = resultHash;
        bytes32 settledRoot = header.settledRoot;
        bytes32 deferredRoot = header.deferredRoot;
        if (settledRoot != 0) _roots[id].settled = settledRoot;
        if (deferredRoot != 0) _roots[id].deferred = deferredRoot;
        if (header.recalledRoot != 0) _roots[id].recalled = header.recalledRoot;
        if (header.expiredRoot != 0) _roots[id].expired = header.expiredRoot;
        uint64 count = header.positionCount;
        emit ResultAccepted(
            id,
            resultHash,
            settledRoot,
            deferredRoot,
            header.settledCount,
            header.deferredCount,
            count,
            header.positionsHash
        );
        if (count == 0) {
            Progress memory ended;
            ended.settledCount = header.settledCount;
            ended.deferredCount = header.deferredCount;
            ended.recalledCount = header.recalledCount;
            ended.expiredCount = header.expiredCount;
            _settle(id, c, ended);
            return;
        }
        bytes32 chain = header.positionsHash;
        Progress storage s = _progress;
        s.applied = 0;
        s.count = count;
        s.unwound = 0;
        s.deferredCount = header.deferredCount;
        s.nextHash = chain;
        s.unwindHash = chain;
        s.unwinding = false;
        s.settledCount = header.settledCount;
        s.recalledCount = header.recalledCount;
        s.expiredCount = header.expiredCount;
    }

    /// @dev The last position is applied (or there were none): the cycle is settled and the next in line.
    ///      `p` holds the result's counts.
    function _settle(uint64 id, Cycle storage c, Progress memory p) private {
        c.status = CycleStatus.Settled;
        Roots memory r = _roots[id];
        if (p.recalledCount != 0 || p.expiredCount != 0) {
            emit ObligationsEnded(id, r.recalled, p.recalledCount, r.expired, p.expiredCount);
        }
        emit CycleSettled(id, c.resultHash, r.settled, r.deferred, p.settledCount, p.deferredCount);
        _finalize(id, p.deferredCount);
    }

    /// @dev The cycle if it is next in line and settling.
    function _requireSettling(uint64 id) private view returns (Cycle storage c) {
        c = _cycles[id];
        if (id != _nextToFinalize || c.status != CycleStatus.Settling) revert NotSettling(id);
    }

    /// @dev Checks that `positions` followed by `rest` are the chain's positions from `start` (whose chain
    ///      value is `expected`), within `end`.
    function _checkChunk(
        uint64 id,
        NetPosition[] calldata positions,
        bytes32 rest,
        uint64 start,
        uint64 end,
        bytes32 expected
    ) private pure {
        uint256 n = positions.length;
        if (n == 0 || n > end - start) revert ChunkOutOfRange(id, start, n, end);
        (bytes32 h, uint256 malformed) = ClearingResultHash.chain(positions, rest);
        if (h != expected) revert ChunkMismatch(id, start);
        if (malformed != 0) revert PositionsNotCanonical(start + malformed - 1);
    }

    /// @inheritdoc ClearingCycles
    function _cancelSettling(uint64 id, Cycle storage c, string calldata reason) internal override {
        Progress storage s = _progress;
        if (s.unwinding) revert SettlementIsUnwinding(id);
        uint64 applied = s.applied;
        if (applied == 0) {
            _cancelAccepted(id, c, reason);
            return;
        }
        s.unwinding = true;
        emit SettlementUnwinding(id, applied, reason);
    }

    /// @dev The accepted result is withdrawn with nothing of it applied: the cycle is cancelled and its
    ///      whole input carries, as after any cancellation.
    function _cancelAccepted(uint64 id, Cycle storage c, string memory reason) private {
        delete _roots[id];
        c.status = CycleStatus.Cancelled;
        emit CycleCancelled(id, reason);
        _carryWholeInput(id, c);
    }

    /// @dev Validates and applies positions `start` .. of the accepted result: canonical order continuing
    ///      from `previous` in `currency` (the left-aligned code, all ones before the first position),
    ///      zero sums of every currency that ends inside the chunk, bounds and debit caps. Returns the
    ///      last position's participant and currency, and the running sum of that currency.
    ///      Only a member's account is ever non-zero (only members are funded, capped or credited, and
    ///      membership is never revoked), so the registry is read only for an account with zero balance
    ///      and zero cap: a payer within its cap has balance + cap > 0, and a receiver with a non-zero
    ///      balance or cap is a member.
    ///
    ///      The loop is assembly, like the submission loop, because it runs once per position: it costs
    ///      about 750 gas per position besides the storage, the event and the calldata, where the
    ///      Solidity version cost 1,700. The words were checked for dirty bits by the hash chain. On the
    ///      first bad position it stops with a failure code and `_revertPosition` raises the typed error
    ///      (deciding between an unknown participant and a debit cap). A net above `MAX_NET_POSITION` in
    ///      magnitude is refused (`NetPositionTooLarge`) before any arithmetic, which with the bounds on
    ///      caps and totals (`MAX_AMOUNT`) keeps the running sum and every balance inside int256; the
    ///      overflow checks that would raise Panic(0x11) remain as guards but no result can reach them.
    function _processPositions(
        uint64 id,
        NetPosition[] calldata positions,
        uint256 start,
        address previousIn,
        bytes32 currencyIn,
        int256 sumIn
    ) private returns (address previousOut, bytes32 currency, int256 sum) {
        bytes32 topic0 = NetPositionSettled.selector;
        uint256 failure;
        uint256 index;
        currency = currencyIn;
        sum = sumIn;
        assembly ("memory-safe") {
            let ev := mload(0x40) // NetPositionSettled data: net ‖ balance
            let ptr := positions.offset
            let n := positions.length
            let previous := previousIn
            // before the result's first position currency is not(0): no bytes3 (low 232 bits clear) equals it
            for { let i := 0 } lt(i, n) { i := add(i, 1) } {
                let who := calldataload(ptr)
                let code := calldataload(add(ptr, 0x20))
                let net := calldataload(add(ptr, 0x40))
                ptr := add(ptr, 0x60)
                index := add(start, i)
                if iszero(net) {
                    failure := 1 // PositionsNotCanonical
                    break
                }
                // |net| > MAX_NET_POSITION: net + MAX lies outside [0, 2 * MAX] (unsigned, wrapping)
                if gt(add(net, MAX_NET_POSITION), shl(1, MAX_NET_POSITION)) {
                    failure := 6 // NetPositionTooLarge
                    break
                }
                switch eq(code, currency)
                case 0 {
                    if index {
                        if lt(code, currency) {
                            failure := 1
                            break
                        }
                        if sum {
                            failure := 2 // NetsDoNotBalance(currency, sum)
                            break
                        }
                    }
                    mstore(0x00, code)
                    mstore(0x20, _currencies.slot)
                    // Currency { registered (byte 0), minorUnits (byte 1) }
                    if iszero(and(sload(keccak256(0x00, 0x40)), 0xff)) {
                        failure := 3 // UnknownCurrency
                        break
                    }
                    currency := code
                    sum := 0
                }
                default {
                    if iszero(gt(who, previous)) {
                        failure := 1
                        break
                    }
                }
                previous := who
                let total := add(sum, net)
                // signed overflow: the sum moved against the sign of net. Unreachable: |net| <= 2^192 and
                // a result carries far fewer than 2^62 positions; kept as a guard.
                if iszero(eq(slt(total, sum), slt(net, 0))) {
                    failure := 7 // Panic(0x11), raised by the same addition in Solidity
                    break
                }
                sum := total
                // Account { balance (slot), cap (slot + 1) } at _accounts[who][code]
                mstore(0x00, who)
                mstore(0x20, _accounts.slot)
                mstore(0x20, keccak256(0x00, 0x40))
                mstore(0x00, code)
                let slot := keccak256(0x00, 0x40)
                let before := sload(slot)
                let balanceAfter := add(before, net)
                // Unreachable as well: |before| < 2^160 (see MAX_AMOUNT) and |net| <= 2^192; kept as a guard.
                if iszero(eq(slt(balanceAfter, before), slt(net, 0))) {
                    failure := 8 // Panic(0x11)
                    break
                }
                switch slt(net, 0)
                case 1 {
                    // Only a payment can take a balance below minus its cap. A receipt is always applied,
                    // also to an account already below it because the admin lowered the cap under its
                    // usage (the documented way to stop a member's outgoing payments): refusing it would
                    // refuse the whole result. cap <= type(int256).max (setDebitCap), so -cap is exact.
                    if slt(balanceAfter, sub(0, sload(add(slot, 1)))) {
                        failure := 4 // DebitCapExceeded, or UnknownParticipant
                        break
                    }
                }
                default {
                    if iszero(or(before, sload(add(slot, 1)))) {
                        mstore(0x00, who)
                        mstore(0x20, _members.slot)
                        // Member { kind (byte 0), status (byte 1) }; kind None = 0
                        if iszero(and(sload(keccak256(0x00, 0x40)), 0xff)) {
                            failure := 5 // UnknownParticipant
                            break
                        }
                    }
                }
                sstore(slot, balanceAfter)
                mstore(ev, net)
                mstore(add(ev, 0x20), balanceAfter)
                log4(ev, 0x40, topic0, id, who, code)
            }
            previousOut := previous
        }
        if (failure != 0) _revertPosition(failure, positions[index - start], index, bytes3(currency), sum);
    }

    /// @dev Raises the error for position `index` (`p`) found by `_processPositions`; `currency` and `sum`
    ///      are the running currency and sum before `p`.
    function _revertPosition(uint256 failure, NetPosition calldata p, uint256 index, bytes3 currency, int256 sum)
        private
        view
    {
        if (failure == 1) revert PositionsNotCanonical(index);
        if (failure == 2) revert NetsDoNotBalance(currency, sum);
        if (failure == 3) revert UnknownCurrency(p.currency);
        if (failure == 6) revert NetPositionTooLarge(index, p.net);
        if (failure >= 7) {
            // the sum (7) or the balance (8) overflows: Panic(0x11), as checked arithmetic raises it
            assembly ("memory-safe") {
                mstore(0x00, shl(224, 0x4e487b71))
                mstore(0x04, 0x11)
                revert(0x00, 0x24)
            }
        }
        if (_members[p.participant].kind == ParticipantKind.None) revert UnknownParticipant(p.participant);
        Account storage a = _accounts[p.participant][p.currency];
        revert DebitCapExceeded(p.participant, p.currency, a.balance + p.net, a.cap);
    }
}
