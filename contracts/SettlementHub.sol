// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {ISettlementHub} from "./interfaces/ISettlementHub.sol";
import {ClearingResults} from "./modules/ClearingResults.sol";

/// @title SettlementHub
/// @notice The consortium's settlement contract: membership and roles, settlement accounts per currency,
///         clearing cycles with batched obligation submission, and k-of-n committee settlement of net
///         positions. See the interfaces for the behaviour of every function.
/// @custom:security-contact security@settlement-ledger.invalid
contract SettlementHub is ClearingResults, ISettlementHub {
    /// @param admin The consortium operator and settlement agent (transferable in two steps).
    constructor(address admin) Ownable(admin) {}

    /// @inheritdoc ISettlementHub
    function pause() external onlyOwner {
        _pause();
    }

    /// @inheritdoc ISettlementHub
    function unpause() external onlyOwner {
        _unpause();
    }
}
