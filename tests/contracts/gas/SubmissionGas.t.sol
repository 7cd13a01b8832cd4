// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {HubFixture} from "../utils/HubFixture.sol";
import {ClearingResult, NetPosition, ObligationKind, ParticipantKind} from "../../../contracts/types/SettlementTypes.sol";

/// @notice Gas of the hot paths, written to snapshots/ by `forge test` (kept current in the repo).
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

    /// @dev Settlement of `n` participants' positions (ring of payments), both approvals measured.
    function _settle(uint256 n) private {
        vm.startPrank(admin);
        address[] memory ps = new address[](n);
        for (uint256 i; i < n; ++i) {
            ps[i] = address(uint160(0x10000 + i));
            hub.registerParticipant(ps[i], ParticipantKind.Bank, "p");
            hub.fund(ps[i], SGD, FUNDING);
        }
        vm.stopPrank();
        for (uint256 i; i < n; ++i) {
            vm.prank(ps[i]);
            hub.submit(input(ps[(i + 1) % n], 100 + i, bytes32(uint256(1))));
        }
        uint64 id = closeAsAdmin();
        // nets: participant i pays 100+i and receives 100+(i-1): -1 for all but p0, which gets +(n-1)
        NetPosition[] memory positions = new NetPosition[](n);
        for (uint256 i; i < n; ++i) {
            int256 net = i == 0 ? int256(n - 1) : int256(-1);
            positions[i] = NetPosition(ps[i], SGD, net);
        }
        ClearingResult memory r = resultFor(id, uint64(n), 0, positions);
        vm.prank(oracles[0]);
        hub.approveResult(r);
        uint256 first = vm.snapshotGasLastCall("settlement", string.concat("approve_first_", vm.toString(n)));
        vm.prank(oracles[1]);
        hub.approveResult(r);
        uint256 second = vm.snapshotGasLastCall("settlement", string.concat("approve_settling_", vm.toString(n)));
        uint256 txGas = first + second + 2 * intrinsicGas(abi.encodeCall(hub.approveResult, (r)));
        vm.snapshotValue("settlement", string.concat("perPosition_tx_", vm.toString(n)), txGas / n);
    }

    function test_gas_settle10() public {
        _settle(10);
    }

    function test_gas_settle50() public {
        _settle(50);
    }
}
