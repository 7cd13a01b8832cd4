// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {IMembership} from "./IMembership.sol";
import {ISettlementAccounts} from "./ISettlementAccounts.sol";
import {IClearingCycles} from "./IClearingCycles.sol";
import {IClearingResults} from "./IClearingResults.sol";

/// @title The consortium's settlement hub
/// @notice Membership, settlement accounts, clearing cycles and k-of-n settlement in one contract, so
///         that submission checks and atomic settlement read membership and balances without external
///         calls. Admin transfer is two-step (OpenZeppelin Ownable2Step); submission and settlement can
///         be paused in an emergency (OpenZeppelin Pausable events).
interface ISettlementHub is IMembership, ISettlementAccounts, IClearingCycles, IClearingResults {
    /// @notice Pauses submission and settlement.
    /// @dev Admin only. Emits `Paused(account)`.
    function pause() external;

    /// @notice Resumes submission and settlement.
    /// @dev Admin only. Emits `Unpaused(account)`.
    function unpause() external;
}
