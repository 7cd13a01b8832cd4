// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {ClearingResult} from "../types/SettlementTypes.sol";

/// @title The hash committee members approve
/// @notice keccak256(abi.encode(DOMAIN_TAG, chainId, hub, result)). Binding the chain id and the hub's
///         address keeps a result from being replayed on another deployment; the cycle id inside the
///         result keeps it from being replayed on another cycle.
library ClearingResultHash {
    bytes32 internal constant DOMAIN_TAG = keccak256("SettlementHub.ClearingResult.v1");

    /// @dev Hash of `result` for the hub at `hub` on chain `chainId`.
    function hash(ClearingResult calldata result, uint256 chainId, address hub) internal pure returns (bytes32) {
        return keccak256(abi.encode(DOMAIN_TAG, chainId, hub, result));
    }
}
