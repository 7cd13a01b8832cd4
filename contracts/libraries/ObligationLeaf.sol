// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

/// @title Merkle leaves of cleared obligations
/// @notice OpenZeppelin StandardMerkleTree leaf encoding, so that `@openzeppelin/merkle-tree`
///         (`StandardMerkleTree.of(values, ["uint64","address","address","bytes3","uint256","bytes32"])`)
///         and `MerkleProof` verify the same proofs:
///         leaf = keccak256(bytes.concat(keccak256(abi.encode(cycleId, payer, payee, currency, amount, ref))))
///         where `cycleId` is the cycle the obligation was submitted to (it stays the same when deferred).
library ObligationLeaf {
    /// @dev The leaf hash of one obligation.
    function hash(uint64 cycleId, address payer, address payee, bytes3 currencyCode, uint256 amount, bytes32 ref)
        internal
        pure
        returns (bytes32)
    {
        return keccak256(bytes.concat(keccak256(abi.encode(cycleId, payer, payee, currencyCode, amount, ref))));
    }
}
