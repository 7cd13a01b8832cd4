// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {NetPosition, ResultHeader} from "../types/SettlementTypes.sol";

/// @title The hash committee members approve, and the hash chain that binds a result's positions
/// @notice A result header's hash is keccak256(abi.encode(DOMAIN_TAG, chainId, hub, header)). Binding the
///         chain id and the hub's address keeps a result from being replayed on another deployment; the
///         cycle id inside the header keeps it from being replayed on another cycle; `positionsHash`
///         inside it binds every net position (see `ResultHeader`).
library ClearingResultHash {
    bytes32 internal constant DOMAIN_TAG = keccak256("SettlementHub.ClearingResult.v3");

    /// @dev Hash of `header` for the hub at `hub` on chain `chainId`.
    function hash(ResultHeader calldata header, uint256 chainId, address hub) internal pure returns (bytes32) {
        return keccak256(abi.encode(DOMAIN_TAG, chainId, hub, header));
    }

    /// @dev H_a of the positions' hash chain for a chunk p_a .. p_{b-1} (`positions`) followed by
    ///      `rest` (= H_b): folds the chunk from its end. `malformed` is the chunk-relative index + 1 of
    ///      the first position with dirty bits (an address or bytes3 word the ABI decoder would refuse),
    ///      0 if none; such a position cannot be part of any honest chain, and the hub refuses it.
    function chain(NetPosition[] calldata positions, bytes32 rest)
        internal
        pure
        returns (bytes32 h, uint256 malformed)
    {
        assembly ("memory-safe") {
            let m := mload(0x40)
            h := rest
            for { let i := positions.length } i {} {
                i := sub(i, 1)
                let p := add(positions.offset, mul(i, 0x60))
                calldatacopy(m, p, 0x60)
                // an address has its top 96 bits clear, a bytes3 its low 232 bits
                if or(shr(160, mload(m)), shl(24, mload(add(m, 0x20)))) { malformed := add(i, 1) }
                mstore(add(m, 0x60), h)
                h := keccak256(m, 0x80)
            }
        }
    }
}
