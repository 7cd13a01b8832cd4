// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {Ownable2Step} from "@openzeppelin/contracts/access/Ownable2Step.sol";
import {IMembership} from "../interfaces/IMembership.sol";
import {ParticipantKind, ParticipantStatus} from "../types/SettlementTypes.sol";

/// @title Membership module of the settlement hub
/// @dev Admin-controlled registry of participants, oracle committee and auditors. The committee epoch
///      increments on every committee change; approvals are counted per epoch (see ClearingResults).
abstract contract Membership is Ownable2Step, IMembership {
    struct Member {
        ParticipantKind kind;
        ParticipantStatus status;
    }

    /// @dev An oracle's role and, in the same slot, the last (cycle, committee epoch) it approved a
    ///      result for: checking the role and recording an approval touch one slot that is never
    ///      freshly allocated (ClearingResults).
    struct Oracle {
        bool active;
        uint64 approvedCycle;
        uint64 approvedEpoch;
    }

    mapping(address account => Member) internal _members;
    mapping(address account => Oracle) internal _oracles;
    mapping(address account => bool) internal _auditors;
    /// @dev What back offices call a participant (one slot: 11 + 20 bytes), and the reverse lookups.
    struct Identifiers {
        bytes11 bic;
        bytes20 lei;
    }

    mapping(address account => Identifiers) private _identifiers;
    mapping(bytes11 bic => address account) private _byBic;
    mapping(bytes20 lei => address account) private _byLei;
    uint64 internal _committeeSize;
    uint64 internal _threshold;
    uint64 internal _committeeEpoch;

    /// @inheritdoc IMembership
    function registerParticipant(address account, ParticipantKind kind, string calldata name) external onlyOwner {
        if (account == address(0)) revert ZeroAddress();
        if (kind != ParticipantKind.Bank && kind != ParticipantKind.WalletProvider) revert InvalidParticipantKind(kind);
        if (_members[account].kind != ParticipantKind.None) revert AlreadyRegistered(account);
        _members[account] = Member(kind, ParticipantStatus.Active);
        emit ParticipantRegistered(account, kind, name);
    }

    /// @inheritdoc IMembership
    function suspendParticipant(address account, string calldata reason) external onlyOwner {
        ParticipantStatus status = _members[account].status;
        if (status == ParticipantStatus.None) revert UnknownParticipant(account);
        if (status != ParticipantStatus.Active) revert InvalidParticipantStatus(account, status);
        _members[account].status = ParticipantStatus.Suspended;
        emit ParticipantSuspended(account, reason);
    }

    /// @inheritdoc IMembership
    function reinstateParticipant(address account) external onlyOwner {
        ParticipantStatus status = _members[account].status;
        if (status == ParticipantStatus.None) revert UnknownParticipant(account);
        if (status != ParticipantStatus.Suspended) revert InvalidParticipantStatus(account, status);
        _members[account].status = ParticipantStatus.Active;
        emit ParticipantReinstated(account);
    }

    /// @inheritdoc IMembership
    function addOracle(address oracle) external onlyOwner {
        uint64 epoch = ++_committeeEpoch;
        uint256 size = _grantOracle(oracle, _committeeSize, epoch);
        _requireValidCommittee(size, _threshold);
        _committeeSize = uint64(size);
    }

    /// @inheritdoc IMembership
    function removeOracle(address oracle) external onlyOwner {
        uint64 epoch = ++_committeeEpoch;
        uint256 size = _revokeOracle(oracle, _committeeSize, epoch);
        _requireValidCommittee(size, _threshold);
        _committeeSize = uint64(size);
    }

    /// @inheritdoc IMembership
    function setThreshold(uint256 threshold) external onlyOwner {
        uint256 size = _committeeSize;
        if (!_validThreshold(size, threshold)) revert InvalidThreshold(threshold, size);
        _threshold = uint64(threshold);
        emit ThresholdChanged(threshold, ++_committeeEpoch);
    }

    /// @inheritdoc IMembership
    function updateCommittee(address[] calldata added, address[] calldata removed, uint256 threshold)
        external
        onlyOwner
    {
        uint64 epoch = ++_committeeEpoch;
        uint256 size = _committeeSize;
        for (uint256 i; i < added.length; ++i) {
            size = _grantOracle(added[i], size, epoch);
        }
        for (uint256 i; i < removed.length; ++i) {
            size = _revokeOracle(removed[i], size, epoch);
        }
        if (!_validThreshold(size, threshold)) revert InvalidThreshold(threshold, size);
        _committeeSize = uint64(size);
        _threshold = uint64(threshold);
        emit ThresholdChanged(threshold, epoch);
    }

    /// @inheritdoc IMembership
    function addAuditor(address auditor) external onlyOwner {
        if (auditor == address(0)) revert ZeroAddress();
        if (_auditors[auditor]) revert RoleAlreadyGranted(auditor);
        _auditors[auditor] = true;
        emit AuditorAdded(auditor);
    }

    /// @inheritdoc IMembership
    function removeAuditor(address auditor) external onlyOwner {
        if (!_auditors[auditor]) revert RoleNotGranted(auditor);
        _auditors[auditor] = false;
        emit AuditorRemoved(auditor);
    }

    /// @inheritdoc IMembership
    function setParticipantIdentifiers(address account, bytes11 bic, bytes20 lei) external onlyOwner {
        if (_members[account].kind == ParticipantKind.None) revert UnknownParticipant(account);
        Identifiers memory old = _identifiers[account];
        if (bic != old.bic) {
            if (bic != 0) {
                address holder = _byBic[bic];
                if (holder != address(0)) revert BicTaken(bic, holder);
                _byBic[bic] = account;
            }
            if (old.bic != 0) delete _byBic[old.bic];
        }
        if (lei != old.lei) {
            if (lei != 0) {
                address holder = _byLei[lei];
                if (holder != address(0)) revert LeiTaken(lei, holder);
                _byLei[lei] = account;
            }
            if (old.lei != 0) delete _byLei[old.lei];
        }
        _identifiers[account] = Identifiers(bic, lei);
        emit ParticipantIdentifiersSet(account, bic, lei);
    }

    /// @inheritdoc IMembership
    function identifiersOf(address account) external view returns (bytes11 bic, bytes20 lei) {
        Identifiers memory ids = _identifiers[account];
        return (ids.bic, ids.lei);
    }

    /// @inheritdoc IMembership
    function participantByIdentifier(bytes11 bic, bytes20 lei) external view returns (address account) {
        return bic != 0 ? _byBic[bic] : _byLei[lei];
    }

    /// @inheritdoc IMembership
    function participant(address account) external view returns (ParticipantKind kind, ParticipantStatus status) {
        Member memory m = _members[account];
        return (m.kind, m.status);
    }

    /// @inheritdoc IMembership
    function isOracle(address account) external view returns (bool) {
        return _oracles[account].active;
    }

    /// @inheritdoc IMembership
    function isAuditor(address account) external view returns (bool) {
        return _auditors[account];
    }

    /// @inheritdoc IMembership
    function committee() external view returns (uint256 size, uint256 threshold, uint64 epoch) {
        return (_committeeSize, _threshold, _committeeEpoch);
    }

    /// @dev Kind of an active participant; reverts `NotActiveParticipant` otherwise.
    function _requireActive(address account) internal view returns (ParticipantKind) {
        Member memory m = _members[account];
        if (m.status != ParticipantStatus.Active) revert NotActiveParticipant(account);
        return m.kind;
    }

    /// @dev Grants the oracle role; returns the committee size after it (not yet stored).
    function _grantOracle(address oracle, uint256 size, uint64 epoch) private returns (uint256) {
        if (oracle == address(0)) revert ZeroAddress();
        if (_oracles[oracle].active) revert RoleAlreadyGranted(oracle);
        _oracles[oracle] = Oracle(true, 0, 0);
        emit OracleAdded(oracle, epoch);
        return size + 1;
    }

    /// @dev Revokes the oracle role; returns the committee size after it (not yet stored).
    function _revokeOracle(address oracle, uint256 size, uint64 epoch) private returns (uint256) {
        if (!_oracles[oracle].active) revert RoleNotGranted(oracle);
        _oracles[oracle].active = false;
        emit OracleRemoved(oracle, epoch);
        return size - 1;
    }

    /// @dev Once a threshold is set (k > 0), every committee change must leave a valid (n, k). While
    ///      k is 0 (the committee being assembled after deployment) members come and go freely and
    ///      nothing can settle.
    function _requireValidCommittee(uint256 size, uint256 threshold) private pure {
        if (threshold != 0 && !_validThreshold(size, threshold)) revert InvalidThreshold(threshold, size);
    }

    /// @dev No single oracle may settle (k >= 2), k members must exist, and a majority is required.
    function _validThreshold(uint256 size, uint256 threshold) internal pure returns (bool) {
        return threshold >= 2 && threshold <= size && 2 * threshold > size;
    }
}
