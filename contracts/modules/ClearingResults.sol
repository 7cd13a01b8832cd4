// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {MerkleProof} from "@openzeppelin/contracts/utils/cryptography/MerkleProof.sol";
import {IClearingResults} from "../interfaces/IClearingResults.sol";
import {ClearingResultHash} from "../libraries/ClearingResultHash.sol";
import {ObligationLeaf} from "../libraries/ObligationLeaf.sol";
import {ClearingCycles} from "./ClearingCycles.sol";
import {
    MAX_NET_POSITION,
    ClearingResult,
    Cycle,
    CycleStatus,
    NetPosition,
    ParticipantKind
} from "../types/SettlementTypes.sol";

/// @title k-of-n result approval and atomic settlement module of the settlement hub
/// @dev An approval either carries the full result (`approveResult`: validated completely against current
///      state before it counts) or only its hash (`approveResultHash`: cannot be the k-th). The approval
///      that reaches k is always a full one, validated and applied in the same call, so nothing settles
///      that was not checked. Loops run over the result's positions only (bounded by participants x
///      currencies).
///
///      Gas: only the cycle next in line (`_nextToFinalize`) can be approved, so its approvals are kept
///      in one ballot (in `_pending`, next to its carry count, and `_leadHash`) that every cycle rewrites
///      instead of allocating fresh slots; an oracle's own approval is recorded in its role slot
///      (`Membership.Oracle`). Per settled cycle the only fresh slots are the result hash and the
///      non-zero roots.
abstract contract ClearingResults is ClearingCycles, IClearingResults {
    struct Roots {
        bytes32 settled;
        bytes32 deferred;
    }

    /// @dev The ballot of the cycle awaiting its result lives in `_pending` (ClearingCycles): approvals of
    ///      (`ballotCycle`, `ballotEpoch`), where `leadApprovals` count `_leadHash`, the first hash approved
    ///      for that cycle in that committee epoch. Other hashes (members disagreeing) are counted in
    ///      `_otherApprovals`. A ballot for another cycle or epoch is stale: the next approval starts anew.
    bytes32 internal _leadHash;
    mapping(uint64 cycleId => mapping(uint64 epoch => mapping(bytes32 resultHash => uint256))) internal
        _otherApprovals;
    mapping(uint64 cycleId => Roots) internal _roots;

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
    }

    /// @inheritdoc IClearingResults
    function approveResult(ClearingResult calldata result) external whenNotPaused returns (bytes32 resultHash, bool settled) {
        (uint256 threshold, uint64 epoch) = _requireCommitteeMember();

        uint64 id = result.cycleId;
        Cycle storage c = _requireReady(id);
        if (result.inputCommitment != c.inputCommitment) {
            revert CommitmentMismatch(id, c.inputCommitment, result.inputCommitment);
        }
        uint64 expected = _pending.carryCount + c.count;
        uint64 actual = result.settledCount + result.deferredCount;
        if (actual != expected) revert CountMismatch(id, expected, actual);
        _checkRoot(result.settledRoot, result.settledCount);
        _checkRoot(result.deferredRoot, result.deferredCount);
        _requireFirstApproval(id, epoch);

        resultHash = ClearingResultHash.hash(result, block.chainid, address(this));
        (uint256 count, Tally tally) = _tally(id, epoch, resultHash);
        settled = count >= threshold;
        _processPositions(id, result.positions, settled);
        // The settling approval needs no record: the cycle leaves the ballot in this call.
        if (!settled) _record(id, epoch, resultHash, count, tally);
        emit ResultApproved(id, msg.sender, resultHash, count, epoch);

        if (settled) {
            c.status = CycleStatus.Settled;
            c.resultHash = resultHash;
            bytes32 settledRoot = result.settledRoot;
            bytes32 deferredRoot = result.deferredRoot;
            if (settledRoot != 0) _roots[id].settled = settledRoot;
            if (deferredRoot != 0) _roots[id].deferred = deferredRoot;
            uint64 deferred = result.deferredCount;
            emit CycleSettled(id, resultHash, settledRoot, deferredRoot, result.settledCount, deferred);
            _finalize(id, deferred);
        }
    }

    /// @inheritdoc IClearingResults
    function approveResultHash(uint64 cycleId, bytes32 resultHash) external whenNotPaused returns (uint256 count) {
        (uint256 threshold, uint64 epoch) = _requireCommitteeMember();
        _requireReady(cycleId);
        _requireFirstApproval(cycleId, epoch);
        Tally tally;
        (count, tally) = _tally(cycleId, epoch, resultHash);
        if (count >= threshold) revert ResultRequired(cycleId, resultHash);
        _record(cycleId, epoch, resultHash, count, tally);
        emit ResultApproved(cycleId, msg.sender, resultHash, count, epoch);
    }

    /// @inheritdoc IClearingResults
    function hashResult(ClearingResult calldata result) external view returns (bytes32) {
        return ClearingResultHash.hash(result, block.chainid, address(this));
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
        Roots memory r = _roots[cycleId];
        bytes32 root = settledSet ? r.settled : r.deferred;
        if (root == 0) return false;
        bytes32 leaf = ObligationLeaf.hash(originCycle, payer, payee, currencyCode, amount, ref);
        return MerkleProof.verifyCalldata(proof, root, leaf);
    }

    /// @inheritdoc IClearingResults
    function roots(uint64 cycleId) external view returns (bytes32 settledRoot, bytes32 deferredRoot) {
        Roots memory r = _roots[cycleId];
        return (r.settled, r.deferred);
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

    /// @dev Validates canonical order, per-currency balance and debit caps; applies the nets if `apply_`.
    ///      Only a member's account is ever non-zero (only members are funded, capped or credited, and
    ///      membership is never revoked), so the registry is read only for an account with zero balance
    ///      and zero cap: a payer within its cap has balance + cap > 0, and a receiver with a non-zero
    ///      balance or cap is a member.
    ///
    ///      The loop is assembly, like the submission loop, because it runs once per position: with the
    ///      hash it costs about 750 gas per position besides the storage, the event and the calldata,
    ///      where the Solidity version cost 1,700. The calldata words were checked for dirty bits by the
    ///      hash, computed before. On the first bad position it stops with a failure code and
    ///      `_revertPosition` raises the typed error (deciding between an unknown participant and a
    ///      debit cap). A net above `MAX_NET_POSITION` in magnitude is refused (`NetPositionTooLarge`)
    ///      before any arithmetic, which with the bounds on caps and totals (`MAX_AMOUNT`) keeps the
    ///      running sum and every balance inside int256; the overflow checks that would raise
    ///      Panic(0x11) remain as guards but no result can reach them.
    function _processPositions(uint64 id, NetPosition[] calldata positions, bool apply_) private {
        bytes32 topic0 = NetPositionSettled.selector;
        uint256 failure;
        uint256 index;
        bytes32 currency;
        int256 sum;
        assembly ("memory-safe") {
            let ev := mload(0x40) // NetPositionSettled data: net ‖ balance
            let ptr := positions.offset
            let n := positions.length
            let previous := 0
            currency := not(0) // none yet: no bytes3 (low 232 bits clear) equals not(0)
            for { let i := 0 } lt(i, n) { i := add(i, 1) } {
                let who := calldataload(ptr)
                let code := calldataload(add(ptr, 0x20))
                let net := calldataload(add(ptr, 0x40))
                ptr := add(ptr, 0x60)
                index := i
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
                    if i {
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
                if apply_ {
                    sstore(slot, balanceAfter)
                    mstore(ev, net)
                    mstore(add(ev, 0x20), balanceAfter)
                    log4(ev, 0x40, topic0, id, who, code)
                }
            }
        }
        if (failure != 0) _revertPosition(failure, positions[index], index, bytes3(currency), sum);
        if (sum != 0) revert NetsDoNotBalance(bytes3(currency), sum);
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
