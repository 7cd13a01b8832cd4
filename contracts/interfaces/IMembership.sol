// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {ParticipantKind, ParticipantStatus} from "../types/SettlementTypes.sol";

/// @title Consortium membership, oracle committee and auditor roles
/// @notice The admin (consortium operator and settlement agent) registers banks and wallet providers,
///         suspends and reinstates them, and grants the oracle-committee and auditor roles.
/// @dev Membership is enforced here rather than by node permissioning: Besu 25.x removed on-chain
///      permissioning, so a key that reaches the RPC endpoint can send transactions, and only these
///      checks decide what it may do.
///
///      Suspension is immediate for NEW obligations: a suspended member can neither submit nor be the
///      payee of a new obligation. Obligations already submitted are irrevocable (settlement finality)
///      and stay in their cycle, netted like any other; to stop a suspended member's outgoing payments
///      from settling, the admin lowers its debit cap to zero, and gridlock resolution defers them.
interface IMembership {
    /// @notice `account` is not an active participant.
    error NotActiveParticipant(address account);
    /// @notice `account` is already registered.
    error AlreadyRegistered(address account);
    /// @notice `account` was never registered.
    error UnknownParticipant(address account);
    /// @notice The participant kind must be Bank or WalletProvider.
    error InvalidParticipantKind(ParticipantKind kind);
    /// @notice The zero address cannot be a participant, oracle or auditor.
    error ZeroAddress();
    /// @notice `account` is not a member of the oracle committee.
    error NotOracle(address account);
    /// @notice `account` already holds the role being granted.
    error RoleAlreadyGranted(address account);
    /// @notice `account` does not hold the role being revoked.
    error RoleNotGranted(address account);
    /// @notice The threshold must satisfy 2 <= k <= n and 2k > n for a committee of n members.
    error InvalidThreshold(uint256 threshold, uint256 committeeSize);
    /// @notice The participant is not in the state the call requires.
    error InvalidParticipantStatus(address account, ParticipantStatus status);
    /// @notice `bic` already identifies another participant, `holder`.
    error BicTaken(bytes11 bic, address holder);
    /// @notice `lei` already identifies another participant, `holder`.
    error LeiTaken(bytes20 lei, address holder);

    /// @notice A participant joined the consortium.
    event ParticipantRegistered(address indexed account, ParticipantKind kind, string name);
    /// @notice A participant was suspended; `reason` is free text for the audit trail.
    event ParticipantSuspended(address indexed account, string reason);
    /// @notice A suspended participant was reinstated.
    event ParticipantReinstated(address indexed account);
    /// @notice An oracle joined the committee; approvals given under earlier epochs no longer count.
    event OracleAdded(address indexed oracle, uint64 committeeEpoch);
    /// @notice An oracle left the committee; approvals given under earlier epochs no longer count.
    event OracleRemoved(address indexed oracle, uint64 committeeEpoch);
    /// @notice The committee threshold changed; approvals given under earlier epochs no longer count.
    event ThresholdChanged(uint256 threshold, uint64 committeeEpoch);
    /// @notice An auditor role was granted.
    event AuditorAdded(address indexed auditor);
    /// @notice An auditor role was revoked.
    event AuditorRemoved(address indexed auditor);
    /// @notice The identifiers back offices know `account` by were set (zero: none).
    event ParticipantIdentifiersSet(address indexed account, bytes11 bic, bytes20 lei);

    /// @notice Registers `account` as an active participant.
    /// @dev Admin only. Reverts `AlreadyRegistered`, `ZeroAddress` or `InvalidParticipantKind`.
    /// @param account The participant's transaction-signing address.
    /// @param kind Bank or WalletProvider.
    /// @param name Human-readable name, emitted only (not stored).
    function registerParticipant(address account, ParticipantKind kind, string calldata name) external;

    /// @notice Suspends an active participant: its new submissions, and new obligations to it, are refused.
    /// @dev Admin only. Pending obligations are unaffected (see the contract documentation).
    /// @param account The participant to suspend.
    /// @param reason Free text recorded in the event.
    function suspendParticipant(address account, string calldata reason) external;

    /// @notice Reinstates a suspended participant.
    /// @dev Admin only. Reverts `InvalidParticipantStatus` unless the participant is suspended.
    /// @param account The participant to reinstate.
    function reinstateParticipant(address account) external;

    /// @notice Adds `oracle` to the clearing committee and starts a new committee epoch.
    /// @dev Admin only. Approvals recorded under earlier epochs stop counting, so membership changes
    ///      can never revive or complete an old approval set. Once a threshold is set, reverts
    ///      `InvalidThreshold` if the current k is not valid for the larger committee: use
    ///      `updateCommittee` to change both in one call.
    /// @param oracle The oracle node's signing address.
    function addOracle(address oracle) external;

    /// @notice Removes `oracle` from the committee and starts a new committee epoch.
    /// @dev Admin only. Once a threshold is set, reverts `InvalidThreshold` if the current k is not
    ///      valid for the smaller committee (e.g. k > n): use `updateCommittee` to change both.
    /// @param oracle The oracle to remove.
    function removeOracle(address oracle) external;

    /// @notice Sets the number k of distinct committee approvals a clearing result needs.
    /// @dev Admin only. Requires 2 <= k <= n and 2k > n; starts a new committee epoch.
    /// @param threshold The new k.
    function setThreshold(uint256 threshold) external;

    /// @notice Adds and removes committee members and sets the threshold in one step, so a change of
    ///         n that needs a new k never passes through an invalid (n, k).
    /// @dev Admin only. One new committee epoch; emits `OracleAdded` / `OracleRemoved` per member and
    ///      `ThresholdChanged`, all with that epoch. Additions are applied before removals; reverts
    ///      `InvalidThreshold` unless 2 <= k <= n and 2k > n for the resulting committee.
    /// @param added Oracles to add (none may hold the role already).
    /// @param removed Oracles to remove (each must hold the role).
    /// @param threshold The k for the resulting committee.
    function updateCommittee(address[] calldata added, address[] calldata removed, uint256 threshold) external;

    /// @notice Grants the auditor role (recorded on chain; auditors read, they never write).
    /// @dev Admin only.
    /// @param auditor The auditor's address.
    function addAuditor(address auditor) external;

    /// @notice Revokes the auditor role.
    /// @dev Admin only.
    /// @param auditor The auditor's address.
    function removeAuditor(address auditor) external;

    /// @notice Sets the BIC and LEI by which back offices and ISO 20022 messages name `account`,
    ///         replacing any it had (a zero value: none).
    /// @dev Admin only. Each identifier names at most one participant (`BicTaken`, `LeiTaken`); the
    ///      identifiers the account held before are released. A BIC is stored as 11 ASCII characters
    ///      (an 8-character BIC is its branch-less form padded with `XXX`), an LEI as its 20 characters;
    ///      their format and check digits are validated by the operator tooling, not here. Reverts
    ///      `UnknownParticipant` for an account never registered.
    /// @param account A registered participant.
    /// @param bic Its BIC (ISO 9362), 11 characters, or zero.
    /// @param lei Its LEI (ISO 17442), 20 characters, or zero.
    function setParticipantIdentifiers(address account, bytes11 bic, bytes20 lei) external;

    /// @notice The BIC and LEI set for `account` (zero: none).
    /// @param account Address to look up.
    /// @return bic Its BIC, 11 characters, or zero.
    /// @return lei Its LEI, or zero.
    function identifiersOf(address account) external view returns (bytes11 bic, bytes20 lei);

    /// @notice The participant a BIC or an LEI names (the zero address when none).
    /// @param bic A BIC of 11 characters, or zero to look up by `lei`.
    /// @param lei An LEI, used when `bic` is zero.
    /// @return account The participant.
    function participantByIdentifier(bytes11 bic, bytes20 lei) external view returns (address account);

    /// @notice Returns the kind and status of `account` (None/None when unknown).
    /// @param account Address to look up.
    /// @return kind The participant kind.
    /// @return status The participant status.
    function participant(address account) external view returns (ParticipantKind kind, ParticipantStatus status);

    /// @notice Whether `account` is in the oracle committee.
    /// @param account Address to look up.
    /// @return True if a committee member.
    function isOracle(address account) external view returns (bool);

    /// @notice Whether `account` holds the auditor role.
    /// @param account Address to look up.
    /// @return True if an auditor.
    function isAuditor(address account) external view returns (bool);

    /// @notice The committee's size n, threshold k and current epoch.
    /// @return size Number of committee members.
    /// @return threshold Approvals required.
    /// @return epoch Incremented on every committee change.
    function committee() external view returns (uint256 size, uint256 threshold, uint64 epoch);
}
