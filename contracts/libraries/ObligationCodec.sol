// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {ObligationInput, ObligationKind} from "../types/SettlementTypes.sol";

/// @title Packed obligation records and the submission commitment
/// @notice `submitBatch` takes records of 88 or 152 bytes:
///           payee (20) ‖ currency (3) ‖ flags (1) ‖ amount (32) ‖ ref (32) [‖ payerAccount (32) ‖ payeeAccount (32)]
///         The flags byte holds the obligation kind in its low seven bits; bit 7 set means the two account
///         hashes follow (152 bytes), clear means they are zero and omitted (88 bytes), which saves 256
///         gas of calldata per obligation without end-customer identifiers. Integers are big-endian.
///         The canonical record is always the 152-byte form with the plain kind byte, and the rolling
///         submission hash is keccak256(previous ‖ payer (20) ‖ canonical record), identical for `submit`
///         and `submitBatch`, so an observer recomputes it from `ObligationSubmitted` events alone.
library ObligationCodec {
    uint256 internal constant SHORT_RECORD_SIZE = 88;
    uint256 internal constant FULL_RECORD_SIZE = 152;
    uint8 internal constant HAS_ACCOUNTS = 0x80;

    /// @dev Reads the head fields of the record at calldata offset `ptr` (kind without the flag bit).
    function decodeHead(uint256 ptr) internal pure returns (address payee, bytes3 currencyCode, uint8 kind, bytes32 ref) {
        assembly ("memory-safe") {
            payee := shr(96, calldataload(ptr))
            currencyCode := and(calldataload(add(ptr, 20)), shl(232, 0xffffff))
            kind := and(byte(3, calldataload(add(ptr, 20))), 0x7f)
            ref := calldataload(add(ptr, 56))
        }
    }

    /// @dev Reads the amount of the record at calldata offset `ptr`.
    function decodeAmount(uint256 ptr) internal pure returns (uint256 amount) {
        assembly ("memory-safe") {
            amount := calldataload(add(ptr, 24))
        }
    }

    /// @dev Next rolling hash after an ABI-form obligation; `submitBatch` computes the same hash over the
    ///      packed record in place (keccak256(previous ‖ payer ‖ record)).
    function step(bytes32 previous, address payer, ObligationInput calldata o) internal pure returns (bytes32) {
        return keccak256(
            abi.encodePacked(
                previous,
                payer,
                o.payee,
                o.currency,
                uint8(o.kind),
                o.amount,
                o.ref,
                o.payerAccount,
                o.payeeAccount
            )
        );
    }
}
