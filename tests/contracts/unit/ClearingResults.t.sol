// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {HubTest, Model, Obligation} from "../utils/HubTest.sol";
import {ClearingResult} from "../utils/HubFixture.sol";
import {IMembership} from "../../../contracts/interfaces/IMembership.sol";
import {ISettlementAccounts} from "../../../contracts/interfaces/ISettlementAccounts.sol";
import {IClearingCycles} from "../../../contracts/interfaces/IClearingCycles.sol";
import {IClearingResults} from "../../../contracts/interfaces/IClearingResults.sol";
import {SettlementHub} from "../../../contracts/SettlementHub.sol";
import {
    CycleStatus,
    NetPosition,
    ObligationKind,
    ResultHeader,
    SettlementProgress
} from "../../../contracts/types/SettlementTypes.sol";

contract ClearingResultsTest is HubTest {
    address internal stranger = address(0x5757);
    bytes3 internal constant EUR = "EUR";

    Obligation internal a;
    Obligation internal b;
    Obligation internal c;

    /// @dev Cycle 1 holds three obligations and is closed (ready):
    ///      a: banks[0] -> banks[1] 500 SGD, b: banks[1] -> wallets[0] 200 SGD, c: banks[2] -> banks[0] 300 USD.
    function setUp() public override {
        super.setUp();
        a = interbank(banks[0], banks[1], 500);
        b = interbank(banks[1], wallets[0], 200);
        c = obligation(banks[2], banks[0], USD, ObligationKind.Interbank, 300, freshRef());
        submitOne(a);
        submitOne(b);
        submitOne(c);
        closeAsAdmin();
    }

    function _all() internal view returns (Obligation[] memory os) {
        os = new Obligation[](3);
        os[0] = a;
        os[1] = b;
        os[2] = c;
    }

    /// @dev Settles all three: SGD b0 -500, b1 +300, w0 +200; USD b0 +300, b2 -300.
    function _full() internal view returns (ClearingResult memory) {
        return realResult(1, _all(), new Obligation[](0));
    }

    function _expectRevertApprove(uint256 oracleIndex, ClearingResult memory r, bytes memory err) internal {
        vm.expectRevert(err);
        vm.prank(oracles[oracleIndex]);
        hub.approveResult(header(r));
    }

    function _epoch() internal view returns (uint64 e) {
        (,, e) = hub.committee();
    }

    // ============================================================================ happy path

    function test_fullResultPositionsAreCanonical() public view {
        NetPosition[] memory ps = _full().positions;
        vm.assertEq(ps.length, 5, "five non-zero nets");
        vm.assertTrue(ps[0].currency == SGD && ps[0].participant == banks[0] && ps[0].net == -500, "p0");
        vm.assertTrue(ps[1].currency == SGD && ps[1].participant == banks[1] && ps[1].net == 300, "p1");
        vm.assertTrue(ps[2].currency == SGD && ps[2].participant == wallets[0] && ps[2].net == 200, "p2");
        vm.assertTrue(ps[3].currency == USD && ps[3].participant == banks[0] && ps[3].net == 300, "p3");
        vm.assertTrue(ps[4].currency == USD && ps[4].participant == banks[2] && ps[4].net == -300, "p4");
    }

    function test_approve_firstApprovalRecordsOnly() public {
        ClearingResult memory r = _full();
        bytes32 expected = Model.resultHash(r, block.chainid, address(hub));
        vm.expectEmit(true, true, true, true, address(hub));
        emit IClearingResults.ResultApproved(1, oracles[0], expected, 1, 4);
        (bytes32 h, bool settled) = approveAs(0, r);
        vm.assertEq(h, expected, "hash");
        vm.assertEq(h, hub.hashResult(header(r)), "hashResult");
        vm.assertFalse(settled, "one of two");
        vm.assertEq(hub.approvals(1, h), 1, "count");
        vm.assertTrue(hub.hasApproved(1, oracles[0]), "o0");
        vm.assertFalse(hub.hasApproved(1, oracles[1]), "o1");
        vm.assertEq(balanceOf(banks[0], SGD), int256(FUNDING), "nothing applied");
        assertStatus(1, CycleStatus.Closed);
        (bytes32 sr, bytes32 dr) = hub.roots(1);
        vm.assertEq(sr, bytes32(0), "no roots yet");
        vm.assertEq(dr, bytes32(0), "no roots yet");
    }

    function test_settle_oneChunkAfterAcceptance() public {
        ClearingResult memory r = _full();
        int256 totalSgd = hub.totalBalance(SGD);
        int256 totalUsd = hub.totalBalance(USD);
        (bytes32 h,) = approveAs(0, r);

        (bytes32 h2, bool accepted) = approveAs(2, r);
        vm.assertEq(h2, h, "same hash");
        vm.assertTrue(accepted, "accepted");
        assertStatus(1, CycleStatus.Settling);
        vm.assertEq(balanceOf(banks[0], SGD), int256(FUNDING), "nothing applied at acceptance");

        vm.expectEmit(true, true, true, true, address(hub));
        emit IClearingResults.NetPositionSettled(1, banks[0], SGD, -500, int256(FUNDING) - 500);
        vm.expectEmit(true, true, true, true, address(hub));
        emit IClearingResults.NetPositionSettled(1, banks[1], SGD, 300, int256(FUNDING) + 300);
        vm.expectEmit(true, true, true, true, address(hub));
        emit IClearingResults.NetPositionSettled(1, wallets[0], SGD, 200, int256(FUNDING) + 200);
        vm.expectEmit(true, true, true, true, address(hub));
        emit IClearingResults.NetPositionSettled(1, banks[0], USD, 300, int256(FUNDING) + 300);
        vm.expectEmit(true, true, true, true, address(hub));
        emit IClearingResults.NetPositionSettled(1, banks[2], USD, -300, int256(FUNDING) - 300);
        vm.expectEmit(true, false, false, true, address(hub));
        emit IClearingResults.PositionsApplied(1, 0, 5, 5);
        vm.expectEmit(true, false, false, true, address(hub));
        emit IClearingResults.CycleSettled(1, h, r.settledRoot, bytes32(0), 3, 0);
        vm.prank(stranger); // anyone may apply
        (uint64 applied, bool settled) = applyAll(r);
        vm.assertEq(uint256(applied), 5, "applied");
        vm.assertTrue(settled, "settled");
        assertStatus(1, CycleStatus.Settled);
        vm.assertEq(hub.cycle(1).resultHash, h, "resultHash stored");
        (bytes32 sr, bytes32 dr) = hub.roots(1);
        vm.assertEq(sr, r.settledRoot, "settled root");
        vm.assertEq(dr, bytes32(0), "deferred root");
        vm.assertEq(uint256(hub.nextCycleToFinalize()), 2, "next");
        (bytes32 carry, uint64 carried) = hub.carry();
        vm.assertEq(carry, bytes32(0), "no carry");
        vm.assertEq(uint256(carried), 0, "no carry");
        vm.assertEq(balanceOf(banks[0], SGD), int256(FUNDING) - 500, "b0 SGD");
        vm.assertEq(balanceOf(banks[0], USD), int256(FUNDING) + 300, "b0 USD");
        vm.assertEq(balanceOf(banks[1], SGD), int256(FUNDING) + 300, "b1");
        vm.assertEq(balanceOf(wallets[0], SGD), int256(FUNDING) + 200, "w0");
        vm.assertEq(balanceOf(banks[2], USD), int256(FUNDING) - 300, "b2");
        vm.assertEq(hub.totalBalance(SGD), totalSgd, "SGD conserved");
        vm.assertEq(hub.totalBalance(USD), totalUsd, "USD conserved");
        // only the cycle awaiting its result has a ballot; the trail of a settled one is its events
        vm.assertEq(hub.approvals(1, h), 0, "no ballot for a settled cycle");
        vm.assertFalse(hub.hasApproved(1, oracles[0]), "no ballot for a settled cycle");
    }

    function test_approve_thresholdThree() public {
        vm.prank(admin);
        hub.setThreshold(3);
        ClearingResult memory r = _full();
        (, bool s0) = approveAs(0, r);
        (, bool s1) = approveAs(1, r);
        vm.assertFalse(s0 || s1, "two of three do not settle");
        assertStatus(1, CycleStatus.Closed);
        (, bool s2) = approveAs(2, r);
        vm.assertTrue(s2, "third settles");
    }

    function test_approve_emptyCycle() public {
        deferAll(1); // clear cycle 1
        uint64 id = closeAsAdmin();
        ClearingResult memory r = resultFor(id, 0, 3, new NetPosition[](0));
        // cycle 2 has no submissions but carries cycle 1's three deferred obligations
        bytes32 h = hub.hashResult(header(r));
        approveAs(0, r);
        vm.expectEmit(true, false, false, true, address(hub));
        emit IClearingResults.CycleSettled(id, h, bytes32(0), r.deferredRoot, 0, 3);
        approveAs(1, r);
        // cycle 3: nothing at all
        deferAllNothing();
    }

    function deferAllNothing() internal {
        (, uint64 carried) = hub.carry();
        vm.assertEq(uint256(carried), 3, "still carried");
        uint64 id = closeAsAdmin();
        ClearingResult memory r = realResult(id, new Obligation[](0), new Obligation[](0));
        r.deferredCount = 3;
        r.deferredRoot = keccak256("d");
        settle(r);
    }

    function test_approve_fundingBetweenApprovalsKeepsResultValid() public {
        ClearingResult memory r = _full();
        approveAs(0, r);
        vm.prank(admin);
        hub.fund(banks[0], SGD, 1);
        (, bool accepted) = approveAs(1, r);
        vm.assertTrue(accepted, "same hash, accepted");
        applyAll(r);
        vm.assertEq(balanceOf(banks[0], SGD), int256(FUNDING) + 1 - 500, "applied on current balance");
    }

    // ============================================================================ who may approve

    function test_approve_revertsNotOracle() public {
        ClearingResult memory r = _full();
        address[3] memory who = [banks[0], admin, auditor];
        for (uint256 i; i < who.length; ++i) {
            vm.expectRevert(abi.encodeWithSelector(IMembership.NotOracle.selector, who[i]));
            vm.prank(who[i]);
            hub.approveResult(header(r));
        }
    }

    function test_approve_revertsCommitteeMisconfigured_thresholdNeverSet() public {
        SettlementHub h = new SettlementHub(admin);
        vm.startPrank(admin);
        for (uint256 i; i < 3; ++i) {
            h.addOracle(oracles[i]);
        }
        h.closeCycle();
        vm.stopPrank();
        ClearingResult memory r;
        r.cycleId = 1;
        r.inputCommitment = h.cycle(1).inputCommitment;
        vm.expectRevert(abi.encodeWithSelector(IClearingResults.CommitteeMisconfigured.selector, 3, 0));
        vm.prank(oracles[0]);
        h.approveResult(header(r));
    }

    // ============================================================================ which cycle

    function test_approve_revertsCycleNotReady_open() public {
        deferAll(1);
        ClearingResult memory r = resultFor(2, 0, 3, new NetPosition[](0)); // 2 is open
        _expectRevertApprove(0, r, abi.encodeWithSelector(IClearingCycles.CycleNotReady.selector, uint64(2)));
    }

    function test_approve_revertsCycleNotReady_outOfOrder() public {
        closeAsAdmin(); // 2 closed while 1 awaits
        ClearingResult memory r = resultFor(2, 0, 3, new NetPosition[](0));
        _expectRevertApprove(0, r, abi.encodeWithSelector(IClearingCycles.CycleNotReady.selector, uint64(2)));
        ClearingResult memory future = resultFor(7, 0, 0, new NetPosition[](0));
        _expectRevertApprove(
            0, future, abi.encodeWithSelector(IClearingCycles.CycleNotReady.selector, uint64(7))
        );
        ClearingResult memory zero = resultFor(0, 0, 0, new NetPosition[](0));
        _expectRevertApprove(
            0, zero, abi.encodeWithSelector(IClearingCycles.CycleNotReady.selector, uint64(0))
        );
    }

    /// @dev Replay: once settled, the same result (or any other) for the cycle is refused, by every oracle.
    function test_approve_revertsCycleNotReady_replay() public {
        ClearingResult memory r = _full();
        settle(r);
        for (uint256 i; i < 3; ++i) {
            _expectRevertApprove(
                i, r, abi.encodeWithSelector(IClearingCycles.CycleNotReady.selector, uint64(1))
            );
        }
        // a new committee epoch does not reopen it either
        vm.prank(admin);
        hub.setThreshold(3);
        _expectRevertApprove(2, r, abi.encodeWithSelector(IClearingCycles.CycleNotReady.selector, uint64(1)));
        vm.assertEq(balanceOf(banks[0], SGD), int256(FUNDING) - 500, "applied once");
    }

    function test_approve_revertsCycleNotReady_cancelled() public {
        ClearingResult memory r = _full();
        vm.prank(admin);
        hub.cancelCycle(1, "x");
        _expectRevertApprove(0, r, abi.encodeWithSelector(IClearingCycles.CycleNotReady.selector, uint64(1)));
    }

    /// @dev The cycle id is inside the hash and the commitment: a result cannot be moved to another cycle.
    function test_approve_resultForOtherCycleRefused() public {
        ClearingResult memory r = _full();
        settle(r);
        closeAsAdmin();
        r.cycleId = 2;
        _expectRevertApprove(
            0,
            r,
            abi.encodeWithSelector(
                IClearingResults.CommitmentMismatch.selector,
                uint64(2),
                hub.cycle(2).inputCommitment,
                r.inputCommitment
            )
        );
    }

    // ============================================================================ shape of the result

    function test_approve_revertsCommitmentMismatch() public {
        ClearingResult memory r = _full();
        bytes32 expected = r.inputCommitment;
        r.inputCommitment = keccak256("other");
        _expectRevertApprove(
            0,
            r,
            abi.encodeWithSelector(
                IClearingResults.CommitmentMismatch.selector, uint64(1), expected, r.inputCommitment
            )
        );
        r.inputCommitment = bytes32(0);
        _expectRevertApprove(
            0,
            r,
            abi.encodeWithSelector(
                IClearingResults.CommitmentMismatch.selector, uint64(1), expected, bytes32(0)
            )
        );
    }

    function test_approve_revertsCountMismatch() public {
        ClearingResult memory r = _full();
        r.settledCount = 2;
        _expectRevertApprove(
            0,
            r,
            abi.encodeWithSelector(IClearingResults.CountMismatch.selector, uint64(1), uint64(3), uint64(2))
        );
        r.settledCount = 3;
        r.deferredCount = 1;
        r.deferredRoot = keccak256("d");
        _expectRevertApprove(
            0,
            r,
            abi.encodeWithSelector(IClearingResults.CountMismatch.selector, uint64(1), uint64(3), uint64(4))
        );
    }

    /// @dev The expected count includes what the cycle inherited.
    function test_approve_countIncludesCarry() public {
        ClearingResult memory r = _full();
        r.settledCount = 1;
        r.deferredCount = 2;
        r.deferredRoot = keccak256("d");
        settle(r);
        submitOne(interbank(banks[3], banks[4], 1));
        uint64 id = closeAsAdmin();
        ClearingResult memory r2 = resultFor(id, 1, 0, new NetPosition[](0));
        _expectRevertApprove(
            0, r2, abi.encodeWithSelector(IClearingResults.CountMismatch.selector, id, uint64(3), uint64(1))
        );
        r2 = resultFor(id, 0, 3, new NetPosition[](0));
        settle(r2);
    }

    function test_approve_revertsRootCountMismatch() public {
        ClearingResult memory r = _full();
        bytes32 root = r.settledRoot;
        r.settledRoot = 0;
        _expectRevertApprove(
            0, r, abi.encodeWithSelector(IClearingResults.RootCountMismatch.selector, bytes32(0), uint64(3))
        );
        // settled: root without count
        r = resultFor(1, 0, 3, new NetPosition[](0));
        r.settledRoot = root;
        _expectRevertApprove(
            0, r, abi.encodeWithSelector(IClearingResults.RootCountMismatch.selector, root, uint64(0))
        );
        // deferred: count without root
        r = resultFor(1, 0, 3, new NetPosition[](0));
        r.deferredRoot = 0;
        _expectRevertApprove(
            0, r, abi.encodeWithSelector(IClearingResults.RootCountMismatch.selector, bytes32(0), uint64(3))
        );
        // deferred: root without count
        r = _full();
        r.deferredRoot = keccak256("d");
        _expectRevertApprove(
            0,
            r,
            abi.encodeWithSelector(IClearingResults.RootCountMismatch.selector, r.deferredRoot, uint64(0))
        );
    }

    function test_approve_revertsPositionsNotCanonical_zeroNet() public {
        ClearingResult memory r = _full();
        r.positions[0].net = 0;
        expectSettleRevert(r, abi.encodeWithSelector(IClearingResults.PositionsNotCanonical.selector, 0));
        r = _full();
        NetPosition[] memory ps = new NetPosition[](6);
        for (uint256 i; i < 5; ++i) {
            ps[i] = r.positions[i];
        }
        ps[5] = NetPosition(banks[4], USD, 0); // sorted, but zero
        r.positions = ps;
        expectSettleRevert(r, abi.encodeWithSelector(IClearingResults.PositionsNotCanonical.selector, 5));
    }

    function test_approve_revertsPositionsNotCanonical_unsortedCurrency() public {
        ClearingResult memory r = _full();
        NetPosition[] memory ps = new NetPosition[](5);
        // USD group first, then SGD
        ps[0] = r.positions[3];
        ps[1] = r.positions[4];
        ps[2] = r.positions[0];
        ps[3] = r.positions[1];
        ps[4] = r.positions[2];
        r.positions = ps;
        expectSettleRevert(r, abi.encodeWithSelector(IClearingResults.PositionsNotCanonical.selector, 2));
    }

    /// @dev A currency may not come back after another: SGD, USD, SGD.
    function test_approve_revertsPositionsNotCanonical_currencyRepeated() public {
        NetPosition[] memory ps = new NetPosition[](6);
        ps[0] = NetPosition(banks[0], SGD, -1);
        ps[1] = NetPosition(banks[1], SGD, 1);
        ps[2] = NetPosition(banks[0], USD, -1);
        ps[3] = NetPosition(banks[1], USD, 1);
        ps[4] = NetPosition(banks[2], SGD, -1);
        ps[5] = NetPosition(banks[3], SGD, 1);
        expectSettleRevert(
            resultFor(1, 3, 0, ps),
            abi.encodeWithSelector(IClearingResults.PositionsNotCanonical.selector, 4)
        );
    }

    function test_approve_revertsPositionsNotCanonical_unsortedParticipant() public {
        ClearingResult memory r = _full();
        (r.positions[0], r.positions[1]) = (r.positions[1], r.positions[0]);
        expectSettleRevert(r, abi.encodeWithSelector(IClearingResults.PositionsNotCanonical.selector, 1));
        r = _full();
        (r.positions[3], r.positions[4]) = (r.positions[4], r.positions[3]);
        expectSettleRevert(r, abi.encodeWithSelector(IClearingResults.PositionsNotCanonical.selector, 4));
    }

    function test_approve_revertsPositionsNotCanonical_duplicateParticipant() public {
        NetPosition[] memory ps = new NetPosition[](3);
        ps[0] = NetPosition(banks[0], SGD, -500);
        ps[1] = NetPosition(banks[1], SGD, 250);
        ps[2] = NetPosition(banks[1], SGD, 250);
        expectSettleRevert(
            resultFor(1, 3, 0, ps),
            abi.encodeWithSelector(IClearingResults.PositionsNotCanonical.selector, 2)
        );
    }

    /// @dev The same participant in two currencies is canonical.
    function test_approve_sameParticipantTwoCurrencies() public {
        NetPosition[] memory ps = new NetPosition[](4);
        ps[0] = NetPosition(banks[0], SGD, -5);
        ps[1] = NetPosition(banks[1], SGD, 5);
        ps[2] = NetPosition(banks[0], USD, 7);
        ps[3] = NetPosition(banks[1], USD, -7);
        settle(resultFor(1, 3, 0, ps));
        vm.assertEq(balanceOf(banks[1], USD), int256(FUNDING) - 7, "applied");
    }

    function test_approve_revertsNetsDoNotBalance() public {
        ClearingResult memory r = _full();
        r.positions[4].net = -299; // USD sums to +1, found at the end
        expectSettleRevert(
            r,
            abi.encodeWithSelector(IClearingResults.NetsDoNotBalance.selector, USD, int256(1))
        );
        r = _full();
        r.positions[2].net = 199; // SGD sums to -1, found when USD starts
        expectSettleRevert(
            r,
            abi.encodeWithSelector(IClearingResults.NetsDoNotBalance.selector, SGD, int256(-1))
        );
        expectSettleRevert(
            resultFor(1, 3, 0, positions1(banks[0], SGD, 42)),
            abi.encodeWithSelector(IClearingResults.NetsDoNotBalance.selector, SGD, int256(42))
        );
    }

    function test_approve_revertsUnknownParticipant() public {
        // stranger (0x5757) sorts before the banks (0xB000..)
        NetPosition[] memory ps = positions2(stranger, 10, banks[0], -10, SGD);
        expectSettleRevert(
            resultFor(1, 3, 0, ps),
            abi.encodeWithSelector(IMembership.UnknownParticipant.selector, stranger)
        );
    }

    function test_approve_revertsUnknownCurrency() public {
        vm.prank(admin);
        hub.registerCurrency("JPY", 0); // registered but no balances: fine
        NetPosition[] memory ps = new NetPosition[](4);
        ps[0] = NetPosition(banks[0], EUR, -1);
        ps[1] = NetPosition(banks[1], EUR, 1);
        ps[2] = NetPosition(banks[0], SGD, -1);
        ps[3] = NetPosition(banks[1], SGD, 1);
        expectSettleRevert(
            resultFor(1, 3, 0, ps),
            abi.encodeWithSelector(ISettlementAccounts.UnknownCurrency.selector, EUR)
        );
        ps[0].currency = "JPY";
        ps[1].currency = "JPY";
        vm.prank(admin);
        hub.setDebitCap(banks[0], "JPY", 1);
        settle(resultFor(1, 3, 0, ps));
        vm.assertEq(balanceOf(banks[0], "JPY"), -1, "within cap");
    }

    function test_approve_revertsDebitCapExceeded() public {
        int256 limit = int256(FUNDING + CAP);
        NetPosition[] memory ps = positions2(banks[0], -(limit + 1), banks[1], limit + 1, SGD);
        expectSettleRevert(
            resultFor(1, 3, 0, ps),
            abi.encodeWithSelector(
                IClearingResults.DebitCapExceeded.selector, banks[0], SGD, -int256(CAP) - 1, CAP
            )
        );
        vm.assertEq(hub.approvals(1, hub.hashResult(header(resultFor(1, 3, 0, ps)))), 0, "nothing recorded");
        vm.assertFalse(hub.hasApproved(1, oracles[0]), "not approved");
        // exactly at the cap is fine
        ps = positions2(banks[0], -limit, banks[1], limit, SGD);
        settle(resultFor(1, 3, 0, ps));
        (int256 balance, uint256 cap) = hub.accountOf(banks[0], SGD);
        vm.assertEq(balance, -int256(cap), "at minus cap");
    }

    function test_approve_revertsDebitCapExceeded_zeroCapAccount() public {
        vm.startPrank(admin);
        hub.registerCurrency(EUR, 2);
        hub.fund(banks[1], EUR, 10);
        vm.stopPrank();
        NetPosition[] memory ps = positions2(banks[0], 10, banks[1], -11, EUR);
        expectSettleRevert(
            resultFor(1, 3, 0, ps),
            abi.encodeWithSelector(IClearingResults.DebitCapExceeded.selector, banks[1], EUR, int256(-1), 0)
        );
    }

    // ============================================================================ approvals and epochs

    function test_approve_revertsAlreadyApproved() public {
        ClearingResult memory r = _full();
        approveAs(0, r);
        _expectRevertApprove(
            0, r, abi.encodeWithSelector(IClearingResults.AlreadyApproved.selector, uint64(1), oracles[0])
        );
        ClearingResult memory other = _full();
        other.settledRoot = keccak256("other tree");
        _expectRevertApprove(
            0, other, abi.encodeWithSelector(IClearingResults.AlreadyApproved.selector, uint64(1), oracles[0])
        );
    }

    function test_approve_differentHashesDoNotCombine() public {
        ClearingResult memory r1 = _full();
        ClearingResult memory r2 = _full();
        r2.settledRoot = keccak256("another tree");
        (bytes32 h1, bool s1) = approveAs(0, r1);
        (bytes32 h2, bool s2) = approveAs(1, r2);
        vm.assertNotEq(h1, h2, "different hashes");
        vm.assertFalse(s1 || s2, "no settlement from 1 + 1");
        vm.assertEq(hub.approvals(1, h1), 1, "h1");
        vm.assertEq(hub.approvals(1, h2), 1, "h2");
        assertStatus(1, CycleStatus.Closed);
        vm.assertEq(balanceOf(banks[0], SGD), int256(FUNDING), "nothing applied");
        (, bool s3) = approveAs(2, r2);
        vm.assertTrue(s3, "r2 reaches k");
        vm.assertEq(hub.cycle(1).resultHash, h2, "r2 settled");
        (bytes32 sr,) = hub.roots(1);
        vm.assertEq(sr, r2.settledRoot, "r2's root");
    }

    function test_epoch_addOracleInvalidatesEarlierApprovals() public {
        ClearingResult memory r = _full();
        (bytes32 h,) = approveAs(0, r);
        address[] memory added = new address[](1);
        added[0] = stranger;
        vm.prank(admin);
        hub.updateCommittee(added, new address[](0), 3); // epoch 5, n = 4, k = 3
        vm.assertEq(uint256(_epoch()), 5, "epoch");
        vm.assertFalse(hub.hasApproved(1, oracles[0]), "old approval gone");
        vm.assertEq(hub.approvals(1, h), 0, "old count gone");
        vm.expectEmit(true, true, true, true, address(hub));
        emit IClearingResults.ResultApproved(1, oracles[1], h, 1, 5);
        approveAs(1, r);
        (, bool s) = approveAs(2, r);
        vm.assertFalse(s, "2 of 3 needed in the new epoch");
        (, s) = approveAs(0, r); // o0 may approve again in the new epoch
        vm.assertTrue(s, "third settles");
    }

    function test_epoch_removeOracleInvalidatesEarlierApprovals() public {
        ClearingResult memory r = _full();
        approveAs(0, r);
        vm.prank(admin);
        hub.removeOracle(oracles[2]); // n = 2, k = 2 still valid
        (, bool s) = approveAs(1, r);
        vm.assertFalse(s, "the old approval does not count");
        (, s) = approveAs(0, r);
        vm.assertTrue(s, "fresh pair settles");
    }

    /// @dev Removing and re-adding an oracle never revives its old approval.
    function test_epoch_removedThenReaddedOracleCannotRevive() public {
        ClearingResult memory r = _full();
        (bytes32 h,) = approveAs(0, r);
        vm.prank(admin);
        hub.removeOracle(oracles[0]);
        _expectRevertApprove(0, r, abi.encodeWithSelector(IMembership.NotOracle.selector, oracles[0]));
        vm.prank(admin);
        hub.addOracle(oracles[0]);
        vm.assertFalse(hub.hasApproved(1, oracles[0]), "not revived");
        vm.assertEq(hub.approvals(1, h), 0, "count not revived");
        (, bool s) = approveAs(1, r);
        vm.assertFalse(s, "o1 alone does not settle");
        vm.assertEq(hub.approvals(1, h), 1, "one");
        assertStatus(1, CycleStatus.Closed);
    }

    function test_epoch_setThresholdInvalidatesEarlierApprovals() public {
        ClearingResult memory r = _full();
        approveAs(0, r);
        vm.prank(admin);
        hub.setThreshold(2); // same k, new epoch
        (, bool s) = approveAs(1, r);
        vm.assertFalse(s, "earlier approval does not count");
        (, s) = approveAs(2, r);
        vm.assertTrue(s, "settles");
    }

    // ============================================================================ the header

    function _withOtherRoot(ClearingResult memory r) internal pure returns (ClearingResult memory t) {
        t = ClearingResult(
            r.cycleId, r.inputCommitment, keccak256("another tree"), r.deferredRoot, r.settledCount, r.deferredCount,
            r.positions, r.recalledRoot, r.recalledCount, r.expiredRoot, r.expiredCount
        );
    }

    /// @dev The header's positionsHash is the documented chain's H_0 and its count the positions'.
    function test_header_positionsHashIsTheChain() public view {
        ClearingResult memory r = _full();
        ResultHeader memory h = header(r);
        bytes32 chain;
        for (uint256 i = r.positions.length; i > 0; --i) {
            NetPosition memory p = r.positions[i - 1];
            chain = keccak256(abi.encode(p.participant, p.currency, p.net, chain));
        }
        vm.assertEq(h.positionsHash, chain, "H_0");
        vm.assertEq(uint256(h.positionCount), 5, "count");
    }

    /// @dev positionsHash is zero exactly when positionCount is.
    function test_approve_revertsPositionsHashCountMismatch() public {
        ResultHeader memory h = header(_full());
        h.positionCount = 0;
        vm.expectRevert(
            abi.encodeWithSelector(IClearingResults.RootCountMismatch.selector, h.positionsHash, uint64(0))
        );
        vm.prank(oracles[0]);
        hub.approveResult(h);
        h = header(_full());
        h.positionsHash = 0;
        vm.expectRevert(abi.encodeWithSelector(IClearingResults.RootCountMismatch.selector, bytes32(0), uint64(5)));
        vm.prank(oracles[0]);
        hub.approveResult(h);
    }

    /// @dev The k-th approval accepts: ResultApproved then ResultAccepted, the cycle is Settling with its
    ///      roots stored, nothing is applied yet and the next cycle is not ready.
    function test_approve_kthApprovalAccepts() public {
        ClearingResult memory r = _full();
        ResultHeader memory hd = header(r);
        (bytes32 h,) = approveAs(0, r);
        closeAsAdmin(); // cycle 2 closes while 1 awaits
        vm.recordLogs();
        vm.expectEmit(true, true, true, true, address(hub));
        emit IClearingResults.ResultApproved(1, oracles[1], h, 2, 4);
        vm.expectEmit(true, false, false, true, address(hub));
        emit IClearingResults.ResultAccepted(1, h, r.settledRoot, bytes32(0), 3, 0, 5, hd.positionsHash);
        (, bool accepted) = approveAs(1, r);
        vm.assertTrue(accepted, "accepted");
        assertStatus(1, CycleStatus.Settling);
        vm.assertEq(hub.cycle(1).resultHash, h, "resultHash stored");
        (bytes32 sr,) = hub.roots(1);
        vm.assertEq(sr, r.settledRoot, "roots of the accepted result");
        SettlementProgress memory p = hub.settlement();
        vm.assertEq(uint256(p.cycleId), 1, "settling");
        vm.assertEq(p.resultHash, h, "hash");
        vm.assertEq(uint256(p.applied), 0, "none applied");
        vm.assertEq(uint256(p.count), 5, "count");
        vm.assertEq(p.nextHash, hd.positionsHash, "next = H_0");
        vm.assertFalse(p.unwinding, "not unwinding");
        vm.assertEq(balanceOf(banks[0], SGD), int256(FUNDING), "nothing applied");
        vm.assertEq(uint256(hub.cycle(2).readyBlock), 0, "2 not ready");
        vm.assertEq(uint256(hub.nextCycleToFinalize()), 1, "1 still next");
        // the ballot is over: no approvals are reported, and no more are taken
        vm.assertEq(hub.approvals(1, h), 0, "no ballot");
        _expectRevertApprove(2, r, abi.encodeWithSelector(IClearingCycles.CycleNotReady.selector, uint64(1)));
    }

    /// @dev Competing headers are counted apart, each toward its own result.
    function test_approve_competingHeaders() public {
        vm.prank(admin);
        hub.setThreshold(3);
        ClearingResult memory r = _full();
        ClearingResult memory other = _withOtherRoot(r);
        approveAs(0, other);
        approveAs(1, r);
        vm.assertEq(hub.approvals(1, hub.hashResult(header(other))), 1, "other");
        vm.assertEq(hub.approvals(1, hub.hashResult(header(r))), 1, "r");
        (, bool s) = approveAs(2, r);
        vm.assertFalse(s, "two of three");
        vm.assertEq(hub.approvals(1, hub.hashResult(header(r))), 2, "r: two");
    }

    /// @dev Positions with the same count but other nets have another chain, so another header hash.
    function test_approve_tamperedPositionsDoNotCombine() public {
        ClearingResult memory r = _full();
        ClearingResult memory tampered = _full();
        tampered.positions[0].net -= 1;
        tampered.positions[1].net += 1;
        (bytes32 h,) = approveAs(0, r);
        (bytes32 ht, bool s) = approveAs(1, tampered);
        vm.assertNotEq(ht, h, "another hash");
        vm.assertFalse(s, "does not combine");
        (, s) = approveAs(2, r);
        vm.assertTrue(s, "the honest header is accepted");
        applyAll(r);
        vm.assertEq(balanceOf(banks[0], SGD), int256(FUNDING) - 500, "honest nets applied");
    }

    /// @dev A colluding majority's invalid result is accepted (the header cannot show it), but no chunk
    ///      of it applies; the admin cancels the cycle and its whole input carries.
    function test_approve_invalidAcceptedResultIsCancelled() public {
        ClearingResult memory bad = _full();
        bad.positions[4].net = -299; // USD does not balance
        accept(bad);
        vm.expectRevert(abi.encodeWithSelector(IClearingResults.NetsDoNotBalance.selector, USD, int256(1)));
        applyAll(bad);
        (uint64 applied,) = applyChunk(bad, 0, 3); // SGD is fine on its own
        vm.assertEq(uint256(applied), 3, "SGD applied");
        vm.expectRevert(abi.encodeWithSelector(IClearingResults.NetsDoNotBalance.selector, USD, int256(1)));
        applyChunk(bad, 3, 5);
        vm.prank(admin);
        hub.cancelCycle(1, "invalid result");
        unwindChunk(bad, 0, 3);
        assertStatus(1, CycleStatus.Cancelled);
        vm.assertEq(balanceOf(banks[0], SGD), int256(FUNDING), "restored");
        (, uint64 carried) = hub.carry();
        vm.assertEq(uint256(carried), 3, "whole input carries");
        (bytes32 sr,) = hub.roots(1);
        vm.assertEq(sr, bytes32(0), "roots withdrawn");
    }
    // ============================================================================ pause

    function test_approve_revertsWhenPaused() public {
        ClearingResult memory r = _full();
        vm.prank(admin);
        hub.pause();
        _expectRevertApprove(0, r, abi.encodeWithSignature("EnforcedPause()"));
        vm.prank(admin);
        hub.unpause();
        accept(r);
        // chunks are refused while paused, too
        vm.prank(admin);
        hub.pause();
        vm.expectRevert(abi.encodeWithSignature("EnforcedPause()"));
        applyAll(r);
        vm.prank(admin);
        hub.unpause();
        applyAll(r);
        assertStatus(1, CycleStatus.Settled);
    }

    // ============================================================================ hashResult

    function test_hashResult_bindsChainIdAndAddress() public {
        ClearingResult memory r = _full();
        bytes32 h = hub.hashResult(header(r));
        vm.assertEq(
            h,
            keccak256(
                abi.encode(keccak256("SettlementHub.ClearingResult.v3"), block.chainid, address(hub), header(r))
            ),
            "formula"
        );
        uint256 original = block.chainid;
        vm.chainId(original + 1);
        bytes32 other = hub.hashResult(header(r));
        vm.assertNotEq(other, h, "chain id bound");
        vm.assertEq(other, Model.resultHash(r, original + 1, address(hub)), "new chain id");
        vm.chainId(original);
        SettlementHub twin = new SettlementHub(admin);
        vm.assertNotEq(twin.hashResult(header(r)), h, "address bound");
        vm.assertEq(twin.hashResult(header(r)), Model.resultHash(r, block.chainid, address(twin)), "twin formula");
        ClearingResult memory moved = _full();
        moved.cycleId = 2;
        vm.assertNotEq(hub.hashResult(header(moved)), h, "cycle bound");
        ClearingResult memory tweaked = _full();
        tweaked.positions[0].net -= 1;
        tweaked.positions[1].net += 1;
        vm.assertNotEq(hub.hashResult(header(tweaked)), h, "positions bound");
    }

    /// @dev Approvals on another chain id count under another hash.
    function test_hashResult_approvalsFollowChainId() public {
        ClearingResult memory r = _full();
        (bytes32 h0,) = approveAs(0, r);
        vm.chainId(block.chainid + 7);
        (bytes32 h1, bool s) = approveAs(1, r);
        vm.assertNotEq(h0, h1, "different hash");
        vm.assertFalse(s, "does not combine with the approval made under the other chain id");
    }

    // ============================================================================ carry after settlement

    function test_settle_deferredCarry() public {
        ClearingResult memory r = realResult(1, one(a), concat(one(b), one(c)));
        settle(r);
        (bytes32 carry, uint64 carried) = hub.carry();
        vm.assertEq(carry, keccak256(abi.encode(r.deferredRoot, uint64(2))), "documented carry");
        vm.assertEq(uint256(carried), 2, "two deferred");
        vm.roll(block.number + 3);
        vm.expectEmit(true, false, false, true, address(hub));
        emit IClearingCycles.CycleReady(
            2, Model.inputCommitment(carry, bytes32(0), 0), carry, 2, uint64(block.number)
        );
        closeAsAdmin();
        // b and c settle in cycle 2 with their origin cycle 1
        settle(realResult(2, concat(one(b), one(c)), new Obligation[](0)));
        vm.assertEq(balanceOf(wallets[0], SGD), int256(FUNDING) + 200, "b settled");
        vm.assertEq(balanceOf(banks[2], USD), int256(FUNDING) - 300, "c settled");
    }

    // ============================================================================ verifyObligation

    function _hashPairManual(bytes32 x, bytes32 y) internal pure returns (bytes32) {
        return x < y ? keccak256(abi.encodePacked(x, y)) : keccak256(abi.encodePacked(y, x));
    }

    /// @dev A three-leaf StandardMerkleTree built by hand: leaves sorted s0 < s1 < s2 sit at tree[4],
    ///      tree[3], tree[2]; tree[1] = H(s1, s0); root = H(tree[1], s2).
    function test_verifyObligation_threeLeafTreeByHand() public {
        Obligation[] memory all = _all();
        bytes32[] memory ls = leaves(all);
        vm.assertEq(
            ls[0], leaf(1, a.payer, a.payee, a.currency, a.amount, a.ref), "leaf = ObligationLeaf.hash"
        );
        vm.assertEq(
            ls[0],
            keccak256(
                bytes.concat(keccak256(abi.encode(uint64(1), a.payer, a.payee, a.currency, a.amount, a.ref)))
            ),
            "documented leaf"
        );
        bytes32[] memory s = new bytes32[](3);
        s[0] = ls[0];
        s[1] = ls[1];
        s[2] = ls[2];
        Model.sortInPlace(s);
        bytes32 n1 = _hashPairManual(s[1], s[0]);
        bytes32 root = _hashPairManual(n1, s[2]);
        vm.assertEq(root, Model.root(ls), "builder agrees");

        ClearingResult memory r = _full();
        vm.assertEq(r.settledRoot, root, "result root");
        settle(r);

        for (uint256 i; i < 3; ++i) {
            Obligation memory o = all[i];
            bytes32 l = ls[i];
            bytes32[] memory p;
            if (l == s[2]) {
                p = new bytes32[](1);
                p[0] = n1;
            } else {
                p = new bytes32[](2);
                p[0] = l == s[0] ? s[1] : s[0];
                p[1] = s[2];
            }
            vm.assertTrue(
                hub.verifyObligation(1, true, p, 1, o.payer, o.payee, o.currency, o.amount, o.ref),
                "in settled set"
            );
            vm.assertFalse(
                hub.verifyObligation(1, false, p, 1, o.payer, o.payee, o.currency, o.amount, o.ref),
                "deferred set empty"
            );
            vm.assertFalse(
                hub.verifyObligation(1, true, p, 1, o.payer, o.payee, o.currency, o.amount + 1, o.ref),
                "amount bound"
            );
            vm.assertFalse(
                hub.verifyObligation(1, true, p, 2, o.payer, o.payee, o.currency, o.amount, o.ref),
                "origin bound"
            );
            vm.assertFalse(
                hub.verifyObligation(1, true, p, 1, o.payee, o.payer, o.currency, o.amount, o.ref),
                "direction bound"
            );
            vm.assertFalse(
                hub.verifyObligation(
                    1, true, p, 1, o.payer, o.payee, o.currency, o.amount, bytes32(uint256(o.ref) + 1)
                ),
                "ref bound"
            );
            vm.assertFalse(
                hub.verifyObligation(
                    1, true, p, 1, o.payer, o.payee, o.currency == SGD ? USD : SGD, o.amount, o.ref
                ),
                "currency bound"
            );
            vm.assertFalse(
                hub.verifyObligation(2, true, p, 1, o.payer, o.payee, o.currency, o.amount, o.ref),
                "other cycle"
            );
            p[0] = keccak256(abi.encode(p[0]));
            vm.assertFalse(
                hub.verifyObligation(1, true, p, 1, o.payer, o.payee, o.currency, o.amount, o.ref),
                "bad proof"
            );
        }
    }

    /// @dev Golden vector from @openzeppelin/merkle-tree 1.x (node_modules), so the hand-built tree is
    ///      the library's, not merely a tree:
    ///        values i = 1..5: [i, 0xB000+i, 0xC000+i, "0x534744", 100*i, bytes32(i)]
    ///        StandardMerkleTree.of(values, ["uint64","address","address","bytes3","uint256","bytes32"])
    function test_merkleTree_matchesOpenZeppelinLibraryVector() public pure {
        bytes32[] memory ls = new bytes32[](5);
        Obligation[] memory os = new Obligation[](5);
        for (uint256 i = 1; i <= 5; ++i) {
            os[i - 1] = Obligation(
                uint64(i),
                address(uint160(0xB000 + i)),
                address(uint160(0xC000 + i)),
                bytes3("SGD"),
                ObligationKind.Interbank,
                100 * i,
                bytes32(i),
                bytes32(0),
                bytes32(0)
            );
            ls[i - 1] = Model.leaf(os[i - 1]);
        }
        bytes32[] memory tree = Model.buildTree(ls);
        require(tree[0] == 0xa5b0a807f46daf41b734d466916e2ca8925e1ee4c916ce8a2a7e2d1df1723d76, "root");
        bytes32[] memory p = Model.proof(tree, ls[2]);
        require(p.length == 2, "proof length");
        require(p[0] == 0x7258771c2b6c418e3be09ff10300a6696ffb758f54477b8819ac60800b112eba, "proof[0]");
        require(p[1] == 0x1d31a0789e1aa940df81e0c0b9a3a3b47863cb83db025d5b76736a39e2ff7e2e, "proof[1]");
    }

    /// @dev Five leaves (two inner levels, uneven) for the settled set, and a deferred set of two.
    function test_verifyObligation_fiveSettledTwoDeferred() public {
        Obligation[] memory more = new Obligation[](4);
        more[0] = interbank(banks[3], banks[4], 11);
        more[1] = obligation(wallets[1], banks[3], SGD, ObligationKind.WalletWithdrawal, 22, freshRef());
        more[2] = obligation(wallets[2], wallets[1], USD, ObligationKind.WalletToWallet, 33, freshRef());
        more[3] = obligation(banks[4], wallets[2], SGD, ObligationKind.WalletTopUp, 44, freshRef());
        deferAll(1); // a, b, c deferred into cycle 2
        for (uint256 i; i < 4; ++i) {
            submitOne(more[i]);
        }
        uint64 id = closeAsAdmin();
        Obligation[] memory settled = new Obligation[](5);
        settled[0] = a;
        settled[1] = c;
        for (uint256 i; i < 3; ++i) {
            settled[2 + i] = more[i];
        }
        Obligation[] memory deferred = new Obligation[](2);
        deferred[0] = b;
        deferred[1] = more[3];
        ClearingResult memory r = realResult(id, settled, deferred);
        settle(r);

        bytes32[] memory st = Model.buildTree(leaves(settled));
        bytes32[] memory dt = Model.buildTree(leaves(deferred));
        vm.assertEq(st.length, 9, "2n-1 nodes");
        // the tree really is the OZ layout: every inner node is the sorted-pair hash of its children
        for (uint256 i; i < 4; ++i) {
            vm.assertEq(st[i], _hashPairManual(st[2 * i + 1], st[2 * i + 2]), "inner node");
        }
        for (uint256 i; i < 5; ++i) {
            Obligation memory o = settled[i];
            bytes32[] memory p = Model.proof(st, Model.leaf(o));
            vm.assertTrue(
                hub.verifyObligation(id, true, p, o.origin, o.payer, o.payee, o.currency, o.amount, o.ref),
                "settled"
            );
            vm.assertFalse(
                hub.verifyObligation(id, false, p, o.origin, o.payer, o.payee, o.currency, o.amount, o.ref),
                "not deferred"
            );
        }
        for (uint256 i; i < 2; ++i) {
            Obligation memory o = deferred[i];
            bytes32[] memory p = Model.proof(dt, Model.leaf(o));
            vm.assertEq(p.length, 1, "two-leaf tree");
            vm.assertTrue(
                hub.verifyObligation(id, false, p, o.origin, o.payer, o.payee, o.currency, o.amount, o.ref),
                "deferred"
            );
            vm.assertFalse(
                hub.verifyObligation(id, true, p, o.origin, o.payer, o.payee, o.currency, o.amount, o.ref),
                "not settled"
            );
        }
        vm.assertEq(uint256(a.origin), 1, "a from cycle 1");
        vm.assertEq(uint256(more[0].origin), 2, "more from cycle 2");
    }

    function test_verifyObligation_singleLeafAndUnsettled() public {
        // cycle 1 not settled yet: nothing verifies
        bytes32[] memory none = new bytes32[](0);
        vm.assertFalse(
            hub.verifyObligation(1, true, none, 1, a.payer, a.payee, a.currency, a.amount, a.ref), "unsettled"
        );
        ClearingResult memory r = realResult(1, one(a), concat(one(b), one(c)));
        vm.assertEq(r.settledRoot, Model.leaf(a), "one leaf: root is the leaf");
        settle(r);
        vm.assertTrue(
            hub.verifyObligation(1, true, none, 1, a.payer, a.payee, a.currency, a.amount, a.ref),
            "empty proof"
        );
        vm.assertFalse(
            hub.verifyObligation(1, true, none, 1, b.payer, b.payee, b.currency, b.amount, b.ref),
            "b not settled"
        );
        (bytes32 sr, bytes32 dr) = hub.roots(2);
        vm.assertEq(sr, bytes32(0), "no roots for unsettled");
        vm.assertEq(dr, bytes32(0), "no roots for unsettled");
    }
}
