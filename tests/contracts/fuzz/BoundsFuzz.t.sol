// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {HubTest} from "../utils/HubTest.sol";
import {ClearingResult} from "../utils/HubFixture.sol";
import {IClearingResults} from "../../../contracts/interfaces/IClearingResults.sol";
import {ISettlementAccounts} from "../../../contracts/interfaces/ISettlementAccounts.sol";
import {
    MAX_AMOUNT,
    MAX_NET_POSITION,
    CycleStatus,
    NetPosition
} from "../../../contracts/types/SettlementTypes.sol";

/// @notice Random caps and funding anywhere up to the bounds: funding is accepted exactly while the
///         currency's total stays within MAX_AMOUNT, a receiver's inflow from payers at any caps settles
///         without overflow and stays below total + sum of caps, and any net beyond MAX_NET_POSITION is
///         refused with `NetPositionTooLarge`.
contract BoundsFuzzTest is HubTest {
    bytes3 internal constant EUR = "EUR";

    function _rand(uint256 seed, uint256 salt) internal pure returns (uint256) {
        return uint256(keccak256(abi.encode(seed, salt)));
    }

    /// @dev A random amount in [1, MAX_AMOUNT]: small, large, or exactly the bound.
    function _amount(uint256 r) internal pure returns (uint256) {
        uint256 mode = r % 4;
        if (mode == 0) return MAX_AMOUNT;
        if (mode == 1) return 1 + (r >> 8) % 1_000_000;
        return 1 + (r >> 8) % MAX_AMOUNT;
    }

    function setUp() public override {
        super.setUp();
        vm.prank(admin);
        hub.registerCurrency(EUR, 2);
    }

    /// @dev A sequence of random fundings: each is accepted iff the total stays <= MAX_AMOUNT, else refused
    ///      with the total it would have reached; the total is always the sum of the balances.
    function testFuzz_fundingBoundedByTotal(uint256 seed) public {
        address[] memory all = members();
        int256 total;
        vm.startPrank(admin);
        for (uint256 i; i < 12; ++i) {
            uint256 r = _rand(seed, i);
            address who = all[r % all.length];
            uint256 amount = r % 5 == 0 ? MAX_AMOUNT - uint256(total) : _amount(r >> 8);
            if (amount == 0) amount = 1;
            int256 next = total + int256(amount);
            if (next > int256(MAX_AMOUNT)) {
                vm.expectRevert(abi.encodeWithSelector(ISettlementAccounts.TotalTooLarge.selector, EUR, next));
                hub.fund(who, EUR, amount);
            } else {
                hub.fund(who, EUR, amount);
                total = next;
            }
            vm.assertEq(hub.totalBalance(EUR), total, "total");
        }
        vm.stopPrank();
        int256 sum;
        for (uint256 i; i < all.length; ++i) {
            sum += balanceOf(all[i], EUR);
        }
        vm.assertEq(sum, total, "sum of balances");
    }

    /// @dev Random funding (total <= MAX_AMOUNT) and caps in [0, MAX_AMOUNT]; every member but one pays a
    ///      random part of its headroom (often all of it) to the receiver. The cycle settles, money is
    ///      conserved, and the receiver's balance is at most total + sum of the others' caps.
    function testFuzz_largestInflowSettles(uint256 seed, uint256 receiverSel) public {
        address[] memory all = members();
        uint256 ri = receiverSel % all.length;
        uint256 left = MAX_AMOUNT;
        uint256 capSum;
        vm.startPrank(admin);
        for (uint256 i; i < all.length; ++i) {
            uint256 r = _rand(seed, 100 + i);
            if (left > 0 && r % 3 != 0) {
                uint256 f = 1 + (r >> 8) % left;
                if ((r >> 4) % 4 == 0) f = left;
                hub.fund(all[i], EUR, f);
                left -= f;
            }
            uint256 cap = (r >> 2) % 4 == 0 ? 0 : _amount(r >> 16);
            hub.setDebitCap(all[i], EUR, cap);
            if (i != ri) capSum += cap;
        }
        vm.stopPrank();
        int256 total = hub.totalBalance(EUR);

        NetPosition[] memory ps = new NetPosition[](all.length);
        uint256 n;
        uint256 inflow;
        for (uint256 i; i < all.length; ++i) {
            if (i == ri) {
                ps[n++] = NetPosition(all[i], EUR, 0); // filled below
                continue;
            }
            (int256 balance, uint256 cap) = hub.accountOf(all[i], EUR);
            uint256 room = uint256(balance + int256(cap));
            uint256 r = _rand(seed, 200 + i);
            uint256 pay = r % 2 == 0 ? room : (r >> 8) % (room + 1);
            if (pay == 0) continue;
            inflow += pay;
            ps[n++] = NetPosition(all[i], EUR, -int256(pay));
        }
        vm.assume(inflow > 0);
        assembly ("memory-safe") {
            mstore(ps, n)
        }
        for (uint256 i; i < n; ++i) {
            if (ps[i].participant == all[ri]) ps[i].net = int256(inflow);
        }
        int256 before = balanceOf(all[ri], EUR);

        uint64 id = closeAsAdmin();
        settle(resultFor(id, 0, 0, ps));
        vm.assertEq(uint256(hub.cycle(id).status), uint256(CycleStatus.Settled), "settled");
        int256 received = balanceOf(all[ri], EUR);
        vm.assertEq(received, before + int256(inflow), "inflow applied");
        vm.assertTrue(received <= total + int256(capSum), "below total + sum of caps");
        vm.assertEq(hub.totalBalance(EUR), total, "money conserved");
        int256 sum;
        for (uint256 i; i < all.length; ++i) {
            (int256 b, uint256 cap) = hub.accountOf(all[i], EUR);
            vm.assertTrue(b >= -int256(cap), "within its cap");
            sum += b;
        }
        vm.assertEq(sum, total, "sum of balances");
    }

    /// @dev One net beyond MAX_NET_POSITION in magnitude, anywhere in an otherwise valid result, of either
    ///      sign: refused with its index and value, nothing changes.
    function testFuzz_oversizedNetRefused(uint256 seed, uint256 pick, uint256 excess, bool negative) public {
        address[] memory all = members();
        uint256 n = 2 + seed % (all.length - 1);
        NetPosition[] memory ps = new NetPosition[](n);
        for (uint256 i; i < n; ++i) {
            int256 net = int256(1 + _rand(seed, i) % 1000);
            ps[i] = NetPosition(all[i], SGD, i % 2 == 0 ? net : -net);
        }
        uint256 idx = pick % n;
        // magnitude in (MAX_NET_POSITION, 2^255]
        uint256 magnitude = MAX_NET_POSITION + 1 + excess % ((uint256(1) << 255) - MAX_NET_POSITION);
        int256 big = negative
            ? (magnitude == uint256(1) << 255 ? type(int256).min : -int256(magnitude))
            : int256(magnitude == uint256(1) << 255 ? magnitude - 1 : magnitude);
        ps[idx].net = big;
        uint64 id = closeAsAdmin();
        int256[] memory before = new int256[](n);
        for (uint256 i; i < n; ++i) {
            before[i] = balanceOf(all[i], SGD);
        }
        ClearingResult memory r = resultFor(id, 0, 0, ps);
        expectSettleRevert(
            r,
            abi.encodeWithSelector(IClearingResults.NetPositionTooLarge.selector, idx, big)
        );
        for (uint256 i; i < n; ++i) {
            vm.assertEq(balanceOf(all[i], SGD), before[i], "unchanged");
        }
        vm.assertFalse(hub.hasApproved(id, oracles[0]), "not recorded");
    }
}
