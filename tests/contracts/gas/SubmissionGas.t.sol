// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {HubFixture} from "../utils/HubFixture.sol";
import {ObligationKind} from "../../../contracts/types/SettlementTypes.sol";

/// @notice Gas of the submission paths, written to snapshots/submission.json by `forge test` (kept
///         current in the repo); settlement is measured in SettlementGas.t.sol.
contract SubmissionGasTest is HubFixture {
    function _batch(uint256 n) private {
        bytes memory batch = interbankBatch(n, 1);
        vm.prank(banks[0]);
        hub.submitBatch(batch);
        uint256 gasUsed = vm.snapshotGasLastCall("submission", string.concat("submitBatch_", vm.toString(n)));
        uint256 txGas = gasUsed + intrinsicGas(abi.encodeCall(hub.submitBatch, (batch)));
        vm.snapshotValue("submission", string.concat("perObligation_tx_batch", vm.toString(n)), txGas / n);
    }

    function test_gas_submitSingle() public {
        vm.prank(banks[0]);
        hub.submit(input(banks[1], 100, bytes32(uint256(1))));
        uint256 gasUsed = vm.snapshotGasLastCall("submission", "submit_single");
        uint256 txGas = gasUsed + intrinsicGas(abi.encodeCall(hub.submit, (input(banks[1], 100, bytes32(uint256(1))))));
        vm.snapshotValue("submission", "submit_single_tx", txGas);
    }

    function test_gas_batch1() public {
        _batch(1);
    }

    function test_gas_batch100() public {
        _batch(100);
    }

    function test_gas_batch500() public {
        _batch(500);
    }

    /// @dev Steady state: a second batch of 500 in the same cycle (storage words already warm-written
    ///      once), and the same batch with both account hashes present.
    function test_gas_batch500_steadyState() public {
        vm.prank(banks[0]);
        hub.submitBatch(interbankBatch(500, 1));
        bytes memory batch = interbankBatch(500, 1001);
        vm.prank(banks[0]);
        hub.submitBatch(batch);
        uint256 gasUsed = vm.snapshotGasLastCall("submission", "submitBatch_500_second");
        uint256 txGas = gasUsed + intrinsicGas(abi.encodeCall(hub.submitBatch, (batch)));
        vm.snapshotValue("submission", "perObligation_tx_batch500_second", txGas / 500);
    }

    function test_gas_batch500_withAccounts() public {
        bytes memory batch;
        for (uint256 i; i < 500; ++i) {
            batch = bytes.concat(
                batch,
                record(
                    wallets[i % 3],
                    SGD,
                    ObligationKind.WalletTopUp,
                    1_00 + i,
                    bytes32(i + 1),
                    keccak256(abi.encode("payer-account", i)),
                    keccak256(abi.encode("payee-account", i))
                )
            );
        }
        vm.prank(banks[0]);
        hub.submitBatch(batch);
        uint256 gasUsed = vm.snapshotGasLastCall("submission", "submitBatch_500_withAccounts");
        uint256 txGas = gasUsed + intrinsicGas(abi.encodeCall(hub.submitBatch, (batch)));
        vm.snapshotValue("submission", "perObligation_tx_batch500_withAccounts", txGas / 500);
    }

    /// @dev 500 random references (e.g. UETRs as they come) against the same 500 ids as *sequenced*
    ///      references (0x01535101 ‖ seq ‖ id, seq numbered from 1): the first pay a fresh bitmap word each.
    function _randomBatch(bool sequenced) private returns (bytes memory batch) {
        for (uint256 i; i < 500; ++i) {
            uint128 id = uint128(uint256(keccak256(abi.encode("uetr", i))));
            bytes32 ref = sequenced
                ? bytes32((uint256(0x01535101) << 224) | ((i + 1) << 128) | uint256(id))
                : keccak256(abi.encode("uetr", i));
            batch = bytes.concat(
                batch, record(banks[1 + (i % (banks.length - 1))], SGD, ObligationKind.Interbank, 1_00 + i, ref)
            );
        }
        vm.prank(banks[0]);
        hub.submitBatch(batch);
    }

    function test_gas_batch500_randomReferences() public {
        bytes memory batch = _randomBatch(false);
        uint256 gasUsed = vm.snapshotGasLastCall("submission", "submitBatch_500_random");
        uint256 txGas = gasUsed + intrinsicGas(abi.encodeCall(hub.submitBatch, (batch)));
        vm.snapshotValue("submission", "perObligation_tx_batch500_random", txGas / 500);
    }

    function test_gas_batch500_sequencedRandomIds() public {
        bytes memory batch = _randomBatch(true);
        uint256 gasUsed = vm.snapshotGasLastCall("submission", "submitBatch_500_sequenced");
        uint256 txGas = gasUsed + intrinsicGas(abi.encodeCall(hub.submitBatch, (batch)));
        vm.snapshotValue("submission", "perObligation_tx_batch500_sequenced", txGas / 500);
        // sequential references: ~5,000; a random 16-byte id adds ~280 of calldata, nothing of storage
        vm.assertLt(txGas / 500, 5_500, "a sequenced random id pays no fresh storage word");
    }
}
