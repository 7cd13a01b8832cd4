// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {HubFixture} from "../utils/HubFixture.sol";
import {ClearingResult, NetPosition, ParticipantKind} from "../../../contracts/types/SettlementTypes.sol";

contract IsolationProbe {
    function poke() external {}
}

/// @notice Whole-transaction gas of settling one cycle, written to snapshots/settlement.json.
/// @dev Runs in isolation mode (the inline config below): every top-level call is its own transaction,
///      so a figure is the transaction's `gasUsed` as a node reports it - 21,000 intrinsic gas and
///      calldata included, every account and slot cold at the start of each transaction (it matches
///      anvil's receipts for the same transactions). Without isolation forge keeps one transaction per
///      test: slots touched while setting up stay warm and the intrinsic gas is missing, which is how
///      an earlier version of this test reported 28,000 per position at 10 participants where a real
///      node measured 46,000.
///
///      The scenario is `benchmarks/settlement_gas.py`'s: `n` banks with random-looking addresses (as
///      real keys have: few zero bytes, so calldata costs what it costs on a real chain), each funded
///      and capped, pay the next one in a ring (1,000.00 + 0.07 i SGD), so every bank has a non-zero
///      net: n positions. Then the committee (k = 2 of 3) sends what the oracle node sends
///      (`oracle.node.committee.approve`): the first member approves the result's hash, the second the
///      full result, which settles. `perPosition_tx_n` = (both transactions' gas) / n, the figure the
///      issue targets at <= 30,000; `_oneDeferred` is the same cycle with one obligation deferred.
/// forge-config: default.isolate = true
/// forge-config: ci.isolate = true
contract SettlementGasTest is HubFixture {
    string private constant GROUP = "settlement";

    function _bank(uint256 i) private pure returns (address) {
        // keccak-derived like real keys, not 0x000...0i whose zero bytes would make calldata cheap
        return address(uint160(uint256(keccak256(abi.encode("settlement-gas-bank", i))) | (1 << 159)));
    }

    /// @dev `n` fresh banks paying each other in a ring; returns the ready cycle's result, which settles
    ///      every obligation, or (`deferLast`) defers the last one (bank n-1 to bank 0).
    function _ring(uint256 n, bool deferLast) private returns (ClearingResult memory r) {
        address[] memory ps = new address[](n);
        vm.startPrank(admin);
        for (uint256 i; i < n; ++i) {
            ps[i] = _bank(i);
            hub.registerParticipant(ps[i], ParticipantKind.Bank, "bench");
            hub.fund(ps[i], SGD, FUNDING);
            hub.setDebitCap(ps[i], SGD, CAP);
        }
        vm.stopPrank();
        for (uint256 i; i < n; ++i) {
            vm.prank(ps[i]);
            hub.submit(input(ps[(i + 1) % n], 1_000_00 + 7 * i, bytes32(uint256(1))));
        }
        uint64 id = closeAsAdmin();
        // bank i pays 1,000.00 + 0.07 i and receives 1,000.00 + 0.07 (i - 1): -7 for all but bank 0,
        // which receives 1,000.00 + 0.07 (n - 1) and pays 1,000.00: +7 (n - 1). Without the last
        // obligation bank 0 only pays (-1,000.00) and bank n-1 only receives (+1,000.00 + 0.07 (n - 2)).
        NetPosition[] memory positions = new NetPosition[](n);
        for (uint256 i; i < n; ++i) {
            int256 net = i == 0 ? int256(7 * (n - 1)) : int256(-7);
            if (deferLast && i == 0) net = -1_000_00;
            if (deferLast && i == n - 1) net = int256(1_000_00 + 7 * (n - 2));
            positions[i] = NetPosition(ps[i], SGD, net);
        }
        _sortByParticipant(positions);
        r = deferLast ? resultFor(id, uint64(n - 1), 1, positions) : resultFor(id, uint64(n), 0, positions);
    }

    function _sortByParticipant(NetPosition[] memory ps) private pure {
        for (uint256 i = 1; i < ps.length; ++i) {
            NetPosition memory p = ps[i];
            uint256 j = i;
            while (j > 0 && ps[j - 1].participant > p.participant) {
                ps[j] = ps[j - 1];
                --j;
            }
            ps[j] = p;
        }
    }

    /// @dev Refuses to report figures unless calls are whole transactions: in isolation mode a call to an
    ///      empty function costs the 21,000 intrinsic gas, otherwise a few hundred.
    function _requireIsolation() private {
        IsolationProbe probe = new IsolationProbe();
        probe.poke();
        vm.assertGe(uint256(vm.lastCallGas().gasTotalUsed), 21_000, "run in isolation mode (forge-config isolate)");
    }

    function _settle(uint256 n, bool deferLast) private {
        _requireIsolation();
        ClearingResult memory r = _ring(n, deferLast);
        string memory size = string.concat(vm.toString(n), deferLast ? "_oneDeferred" : "");

        bytes32 h = hub.hashResult(r);
        vm.prank(oracles[0]);
        uint256 count = hub.approveResultHash(r.cycleId, h);
        uint256 gas1 = vm.snapshotGasLastCall(GROUP, string.concat("approval1_tx_", size));
        vm.assertEq(count, 1, "first approval, by hash");

        vm.prank(oracles[1]);
        (, bool settled) = hub.approveResult(r);
        uint256 gasK = vm.snapshotGasLastCall(GROUP, string.concat("approvalK_tx_", size));
        vm.assertTrue(settled, "second approval settles");

        vm.snapshotValue(GROUP, string.concat("cycle_tx_", size), gas1 + gasK);
        vm.snapshotValue(GROUP, string.concat("perPosition_tx_", size), (gas1 + gasK) / n);
    }

    function test_gas_settle10() public {
        _settle(10, false);
    }

    function test_gas_settle50() public {
        _settle(50, false);
    }

    function test_gas_settle100() public {
        _settle(100, false);
    }

    /// @dev The same with one obligation deferred: the deferred root is stored too (a fresh slot), and
    ///      the next cycle inherits a carry.
    function test_gas_settle10_oneDeferred() public {
        _settle(10, true);
    }
}
