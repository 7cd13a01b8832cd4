// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {MerkleProof} from "@openzeppelin/contracts/utils/cryptography/MerkleProof.sol";
import {IClearingResults} from "../interfaces/IClearingResults.sol";
import {ClearingResultHash} from "../libraries/ClearingResultHash.sol";
import {ObligationLeaf} from "../libraries/ObligationLeaf.sol";
import {ClearingCycles} from "./ClearingCycles.sol";
import {ClearingResult, Cycle, CycleStatus, NetPosition, ParticipantKind} from "../types/SettlementTypes.sol";

/// @title k-of-n result approval and atomic settlement module of the settlement hub
/// @dev Every approval re-validates the whole result against current state, so no approval of an
///      inapplicable result is ever recorded; the approval that reaches k applies it in the same call.
///      Loops run over the result's positions only (bounded by participants x currencies).
abstract contract ClearingResults is ClearingCycles, IClearingResults {
    struct Roots {
        bytes32 settled;
        bytes32 deferred;
    }

    mapping(uint64 cycleId => mapping(uint64 epoch => mapping(bytes32 resultHash => uint256))) internal _approvalCount;
    mapping(uint64 cycleId => mapping(uint64 epoch => mapping(address oracle => bool))) internal _approved;
    mapping(uint64 cycleId => Roots) internal _roots;

    /// @inheritdoc IClearingResults
    function approveResult(ClearingResult calldata result) external whenNotPaused returns (bytes32 resultHash, bool settled) {
        if (!_oracles[msg.sender]) revert NotOracle(msg.sender);
        uint256 threshold = _threshold;
        if (!_validThreshold(_committeeSize, threshold)) revert CommitteeMisconfigured(_committeeSize, threshold);

        uint64 id = result.cycleId;
        Cycle storage c = _requireReady(id);
        if (result.inputCommitment != c.inputCommitment) {
            revert CommitmentMismatch(id, c.inputCommitment, result.inputCommitment);
        }
        uint64 expected = _carryCount + c.count;
        uint64 actual = result.settledCount + result.deferredCount;
        if (actual != expected) revert CountMismatch(id, expected, actual);
        _checkRoot(result.settledRoot, result.settledCount);
        _checkRoot(result.deferredRoot, result.deferredCount);

        uint64 epoch = _committeeEpoch;
        if (_approved[id][epoch][msg.sender]) revert AlreadyApproved(id, msg.sender);

        resultHash = ClearingResultHash.hash(result, block.chainid, address(this));
        uint256 count = _approvalCount[id][epoch][resultHash] + 1;
        settled = count >= threshold;
        _processPositions(id, result.positions, settled);

        _approvalCount[id][epoch][resultHash] = count;
        _approved[id][epoch][msg.sender] = true;
        emit ResultApproved(id, msg.sender, resultHash, count, epoch);

        if (settled) {
            c.status = CycleStatus.Settled;
            c.resultHash = resultHash;
            _roots[id] = Roots(result.settledRoot, result.deferredRoot);
            emit CycleSettled(
                id, resultHash, result.settledRoot, result.deferredRoot, result.settledCount, result.deferredCount
            );
            uint64 deferred = result.deferredCount;
            _finalize(id, deferred == 0 ? bytes32(0) : keccak256(abi.encode(result.deferredRoot, deferred)), deferred);
        }
    }

    /// @inheritdoc IClearingResults
    function hashResult(ClearingResult calldata result) external view returns (bytes32) {
        return ClearingResultHash.hash(result, block.chainid, address(this));
    }

    /// @inheritdoc IClearingResults
    function approvals(uint64 cycleId, bytes32 resultHash) external view returns (uint256) {
        return _approvalCount[cycleId][_committeeEpoch][resultHash];
    }

    /// @inheritdoc IClearingResults
    function hasApproved(uint64 cycleId, address oracle) external view returns (bool) {
        return _approved[cycleId][_committeeEpoch][oracle];
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

    function _checkRoot(bytes32 root, uint64 count) private pure {
        if ((root == 0) != (count == 0)) revert RootCountMismatch(root, count);
    }

    /// @dev Validates canonical order, per-currency balance and debit caps; applies the nets if `apply_`.
    function _processPositions(uint64 id, NetPosition[] calldata positions, bool apply_) private {
        uint256 n = positions.length;
        bytes3 currentCurrency;
        address previous;
        int256 sum;
        for (uint256 i; i < n; ++i) {
            NetPosition calldata p = positions[i];
            bytes3 code = p.currency;
            address who = p.participant;
            int256 net = p.net;
            if (net == 0) revert PositionsNotCanonical(i);
            if (i == 0 || code != currentCurrency) {
                if (i != 0) {
                    if (code < currentCurrency) revert PositionsNotCanonical(i);
                    if (sum != 0) revert NetsDoNotBalance(currentCurrency, sum);
                }
                if (!_currencies[code].registered) revert UnknownCurrency(code);
                currentCurrency = code;
                sum = 0;
            } else if (who <= previous) {
                revert PositionsNotCanonical(i);
            }
            previous = who;
            sum += net;
            if (_members[who].kind == ParticipantKind.None) revert UnknownParticipant(who);
            Account storage a = _accounts[who][code];
            int256 balanceAfter = a.balance + net;
            uint256 cap = a.cap;
            // Only a payment (net < 0) can take a balance below minus its cap. A receipt is always applied,
            // also to an account already below it because the admin lowered the cap under its usage (the
            // documented way to stop a member's outgoing payments): refusing it would refuse the whole result.
            if (balanceAfter < -int256(cap) && net < 0) revert DebitCapExceeded(who, code, balanceAfter, cap);
            if (apply_) {
                a.balance = balanceAfter;
                emit NetPositionSettled(id, who, code, net, balanceAfter);
            }
        }
        if (sum != 0) revert NetsDoNotBalance(currentCurrency, sum);
    }
}
