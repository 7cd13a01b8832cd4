// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {HubTest, Model, Obligation} from "../utils/HubTest.sol";
import {ClearingResult} from "../utils/HubFixture.sol";
import {IClearingCycles} from "../../../contracts/interfaces/IClearingCycles.sol";
import {IClearingResults} from "../../../contracts/interfaces/IClearingResults.sol";
import {ISettlementAccounts} from "../../../contracts/interfaces/ISettlementAccounts.sol";
import {
    MAX_AMOUNT,
    MAX_NET_POSITION,
    CycleStatus,
    NetPosition,
    ObligationKind
} from "../../../contracts/types/SettlementTypes.sol";

/// @notice The protocol's bounds (`MAX_AMOUNT`, `MAX_NET_POSITION`) at their edges: obligations, the
///         largest inflow any valid sequence can produce, and results that try to overflow.
contract BoundsTest is HubTest {
    bytes3 internal constant EUR = "EUR";

    function test_constants() public pure {
        vm.assertEq(MAX_AMOUNT, type(uint128).max, "MAX_AMOUNT = 2^128 - 1");
        vm.assertEq(MAX_NET_POSITION, uint256(1) << 192, "MAX_NET_POSITION = 2^192");
        // every honest net is at most settledCount * MAX_AMOUNT, and settledCount is a uint64
        vm.assertTrue(uint256(type(uint64).max) * MAX_AMOUNT < MAX_NET_POSITION, "above every honest net");
    }

    // ============================================================================ obligations

    function test_submit_exactlyMaxAmountAccepted() public {
        Obligation memory o = interbank(banks[0], banks[1], MAX_AMOUNT);
        submitOne(o);
        vm.assertEq(hub.cycle(1).submissionsHash, Model.step(bytes32(0), o), "hash");
        vm.assertEq(uint256(hub.cycle(1).count), 1, "count");
    }

    function test_submit_aboveMaxAmountRefused() public {
        uint256[3] memory tooLarge = [MAX_AMOUNT + 1, uint256(type(int256).max), type(uint256).max];
        for (uint256 i; i < tooLarge.length; ++i) {
            Obligation memory o = interbank(banks[0], banks[1], tooLarge[i]);
            vm.expectRevert(
                abi.encodeWithSelector(IClearingCycles.ObligationAmountTooLarge.selector, o.ref, tooLarge[i])
            );
            vm.prank(o.payer);
            hub.submit(Model.input(o));
        }
        vm.assertEq(uint256(hub.cycle(1).count), 0, "nothing entered");
    }

    function test_submitBatch_exactlyMaxAmountAccepted() public {
        Obligation[] memory os = new Obligation[](3);
        os[0] = interbank(banks[0], banks[1], MAX_AMOUNT);
        os[1] = interbank(banks[0], banks[2], 1);
        os[2] = interbank(banks[0], banks[1], MAX_AMOUNT);
        submitPacked(os, false);
        vm.assertEq(uint256(hub.cycle(1).count), 3, "count");
        vm.assertEq(hub.cycle(1).submissionsHash, Model.rolling(bytes32(0), os), "hash");
        os[0].ref = freshRef();
        os[1].ref = freshRef();
        os[2].ref = freshRef();
        submitPacked(os, true);
        vm.assertEq(uint256(hub.cycle(1).count), 6, "count, 152-byte records");
    }

    /// @dev A record above the bound anywhere in the batch (short or full form) refuses the whole batch.
    function test_submitBatch_aboveMaxAmountRefused() public {
        for (uint256 form; form < 2; ++form) {
            bytes32 bad = freshRef();
            bytes memory over = form == 0
                ? record(banks[2], SGD, ObligationKind.Interbank, MAX_AMOUNT + 1, bad)
                : record(banks[2], SGD, ObligationKind.Interbank, MAX_AMOUNT + 1, bad, "p", "q");
            bytes memory batch = bytes.concat(
                record(banks[1], SGD, ObligationKind.Interbank, MAX_AMOUNT, freshRef()),
                over,
                record(banks[1], SGD, ObligationKind.Interbank, 5, freshRef())
            );
            vm.expectRevert(
                abi.encodeWithSelector(IClearingCycles.ObligationAmountTooLarge.selector, bad, MAX_AMOUNT + 1)
            );
            vm.prank(banks[0]);
            hub.submitBatch(batch);
        }
        bytes32 top = freshRef();
        vm.expectRevert(
            abi.encodeWithSelector(IClearingCycles.ObligationAmountTooLarge.selector, top, type(uint256).max)
        );
        vm.prank(banks[0]);
        hub.submitBatch(record(banks[1], SGD, ObligationKind.Interbank, type(uint256).max, top));
        vm.assertEq(uint256(hub.cycle(1).count), 0, "nothing entered");
    }

    // ============================================================================ results

    /// @dev The largest inflow a receiver can ever get: the currency's whole total (MAX_AMOUNT) is its
    ///      own, and every other participant pays down to minus a cap of MAX_AMOUNT. Its balance reaches
    ///      total + sum of the others' caps = 8 * MAX_AMOUNT (about 2^131) and settles without overflow;
    ///      nobody can pay it more, and it can pay it all back.
    function test_largestInflowSettles() public {
        address[] memory all = members();
        address receiver = all[0]; // the lowest address: first in canonical order
        vm.startPrank(admin);
        hub.registerCurrency(EUR, 2);
        hub.fund(receiver, EUR, MAX_AMOUNT);
        for (uint256 i = 1; i < all.length; ++i) {
            hub.setDebitCap(all[i], EUR, MAX_AMOUNT);
        }
        vm.stopPrank();

        uint256 payers = all.length - 1;
        NetPosition[] memory ps = new NetPosition[](all.length);
        ps[0] = NetPosition(receiver, EUR, int256(payers * MAX_AMOUNT));
        for (uint256 i = 1; i < all.length; ++i) {
            ps[i] = NetPosition(all[i], EUR, -int256(MAX_AMOUNT));
        }
        uint64 id = closeAsAdmin();
        settle(resultFor(id, 0, 0, ps));
        assertStatus(id, CycleStatus.Settled);
        int256 peak = int256(all.length * MAX_AMOUNT);
        vm.assertEq(balanceOf(receiver, EUR), peak, "total + sum of caps");
        for (uint256 i = 1; i < all.length; ++i) {
            vm.assertEq(balanceOf(all[i], EUR), -int256(MAX_AMOUNT), "at minus the cap");
        }
        vm.assertEq(hub.totalBalance(EUR), int256(MAX_AMOUNT), "money conserved");

        // one more unit from anybody is beyond its cap
        id = closeAsAdmin();
        ClearingResult memory more = resultFor(id, 0, 0, positions2(receiver, 1, all[1], -1, EUR));
        expectSettleRevert(
            more,
            abi.encodeWithSelector(
                IClearingResults.DebitCapExceeded.selector, all[1], EUR, -int256(MAX_AMOUNT) - 1, MAX_AMOUNT
            )
        );

        // and the receiver can pay all of it back
        for (uint256 i; i < all.length; ++i) {
            ps[i].net = -ps[i].net;
        }
        settle(resultFor(id, 0, 0, ps));
        vm.assertEq(balanceOf(receiver, EUR), int256(MAX_AMOUNT), "back to its funding");
        vm.assertEq(balanceOf(all[1], EUR), 0, "back to zero");
    }

    /// @dev What used to panic: a cap of int256 max let a receiver's balance overflow. Now the cap is
    ///      refused, and a result that tries the same with nets beyond MAX_NET_POSITION is refused with a
    ///      named error.
    function test_overflowResultRefusedWithNamedError() public {
        vm.expectRevert(
            abi.encodeWithSelector(ISettlementAccounts.AmountTooLarge.selector, uint256(type(int256).max))
        );
        vm.prank(admin);
        hub.setDebitCap(banks[1], SGD, uint256(type(int256).max));

        uint64 id = closeAsAdmin();
        int256 max = type(int256).max;
        _expectTooLarge(id, positions2(banks[0], max, banks[1], -max, SGD), 0, max);
        _expectTooLarge(id, positions2(banks[0], -max, banks[1], max, SGD), 0, -max);
        _expectTooLarge(id, positions2(banks[0], type(int256).min, banks[1], 1, SGD), 0, type(int256).min);
        // the running sum would overflow: +max, +1, ... is refused at the first too-large net
        NetPosition[] memory ps = new NetPosition[](3);
        ps[0] = NetPosition(banks[0], SGD, 1);
        ps[1] = NetPosition(banks[1], SGD, max);
        ps[2] = NetPosition(banks[2], SGD, type(int256).min + 1);
        _expectTooLarge(id, ps, 1, max);
        vm.assertEq(uint256(hub.cycle(id).status), uint256(CycleStatus.Closed), "still awaiting a result");
        vm.assertFalse(hub.hasApproved(id, oracles[0]), "nothing recorded");
    }

    /// @dev The net bound's edge: a magnitude of exactly MAX_NET_POSITION passes the bound (and meets the
    ///      debit cap), one more is refused; the same in the second currency of a result.
    function test_netPositionBoundEdge() public {
        uint64 id = closeAsAdmin();
        int256 edge = int256(MAX_NET_POSITION);
        _expectTooLarge(id, positions2(banks[0], edge + 1, banks[1], -edge - 1, SGD), 0, edge + 1);
        _expectTooLarge(id, positions2(banks[0], -edge - 1, banks[1], edge + 1, SGD), 0, -edge - 1);
        (int256 balance, uint256 cap) = hub.accountOf(banks[1], SGD);
        ClearingResult memory atEdge = resultFor(id, 0, 0, positions2(banks[0], edge, banks[1], -edge, SGD));
        expectSettleRevert(
            atEdge,
            abi.encodeWithSelector(
                IClearingResults.DebitCapExceeded.selector, banks[1], SGD, balance - edge, cap
            )
        );

        NetPosition[] memory ps = new NetPosition[](4);
        ps[0] = NetPosition(banks[0], SGD, 5);
        ps[1] = NetPosition(banks[1], SGD, -5);
        ps[2] = NetPosition(banks[0], USD, -edge - 1);
        ps[3] = NetPosition(banks[1], USD, edge + 1);
        _expectTooLarge(id, ps, 2, -edge - 1);
        ps[2].net = -5;
        ps[3].net = 5;
        settle(resultFor(id, 0, 0, ps));
        assertStatus(id, CycleStatus.Settled);
    }

    function _expectTooLarge(uint64 id, NetPosition[] memory ps, uint256 index, int256 net) internal {
        ClearingResult memory r = resultFor(id, 0, 0, ps);
        expectSettleRevert(
            r,
            abi.encodeWithSelector(IClearingResults.NetPositionTooLarge.selector, index, net)
        );
    }
}
