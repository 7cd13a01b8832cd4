// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {HubTest, Model, Obligation} from "../utils/HubTest.sol";
import {ClearingResult, ResultChain} from "../utils/HubFixture.sol";
import {Vm} from "../utils/Vm.sol";
import {IClearingCycles} from "../../../contracts/interfaces/IClearingCycles.sol";
import {IClearingResults} from "../../../contracts/interfaces/IClearingResults.sol";
import {ISettlementAccounts} from "../../../contracts/interfaces/ISettlementAccounts.sol";
import {
    MAX_AMOUNT, CycleStatus, NetPosition, ObligationKind
} from "../../../contracts/types/SettlementTypes.sol";

/// @notice Obligations that end without settling: the per-currency maximum refused at submission,
///         recalls bound into the cycle's commitment, the recalled and expired sets of a result (their
///         roots, proofs and event), and the expiry setting.
contract ObligationEndingsTest is HubTest {
    address internal stranger = address(0x5757);

    // ============================================================================ per-currency maximum

    function test_maxAmount_newCurrencyStartsAtTheProtocolBound() public {
        vm.expectEmit(address(hub));
        emit ISettlementAccounts.CurrencyMaxAmountSet("EUR", MAX_AMOUNT);
        vm.prank(admin);
        hub.registerCurrency("EUR", 2);
        vm.assertEq(hub.currencyMaxAmount("EUR"), MAX_AMOUNT, "EUR");
        vm.assertEq(hub.currencyMaxAmount("XXX"), 0, "unregistered");
    }

    function test_setCurrencyMaxAmount_setsAndEmits() public {
        vm.expectEmit(address(hub));
        emit ISettlementAccounts.CurrencyMaxAmountSet(SGD, 1_000);
        vm.prank(admin);
        hub.setCurrencyMaxAmount(SGD, 1_000);
        vm.assertEq(hub.currencyMaxAmount(SGD), 1_000, "SGD");
        vm.assertEq(hub.currencyMaxAmount(USD), MAX_AMOUNT, "USD untouched");
    }

    function test_setCurrencyMaxAmount_refusals() public {
        vm.expectRevert(ownerError(stranger));
        vm.prank(stranger);
        hub.setCurrencyMaxAmount(SGD, 1_000);

        vm.startPrank(admin);
        vm.expectRevert(abi.encodeWithSelector(ISettlementAccounts.UnknownCurrency.selector, bytes3("EUR")));
        hub.setCurrencyMaxAmount("EUR", 1_000);
        vm.expectRevert(abi.encodeWithSelector(ISettlementAccounts.InvalidMaxAmount.selector, 0));
        hub.setCurrencyMaxAmount(SGD, 0);
        vm.expectRevert(abi.encodeWithSelector(ISettlementAccounts.InvalidMaxAmount.selector, MAX_AMOUNT + 1));
        hub.setCurrencyMaxAmount(SGD, MAX_AMOUNT + 1);
        vm.stopPrank();
    }

    function test_submit_aboveTheCurrencyMaximumIsRefused() public {
        vm.prank(admin);
        hub.setCurrencyMaxAmount(SGD, 1_000);
        submitOne(interbank(banks[0], banks[1], 1_000)); // at the maximum: accepted
        Obligation memory big = interbank(banks[0], banks[1], 1_001);
        vm.expectRevert(
            abi.encodeWithSelector(IClearingCycles.ObligationAmountAboveMaximum.selector, big.ref, 1_001, 1_000)
        );
        vm.prank(big.payer);
        hub.submit(Model.input(big));
        // another currency keeps the protocol bound
        submitOne(obligation(banks[0], banks[1], USD, ObligationKind.Interbank, 1_000_000, freshRef()));
        vm.assertEq(uint256(hub.cycle(1).count), 2, "two accepted");
    }

    function test_submitBatch_aboveTheCurrencyMaximumRefusesTheBatch() public {
        vm.prank(admin);
        hub.setCurrencyMaxAmount(SGD, 1_000);
        Obligation[] memory os = new Obligation[](3);
        os[0] = interbank(banks[0], banks[1], 999);
        os[1] = obligation(banks[0], banks[2], USD, ObligationKind.Interbank, 5_000, freshRef());
        os[2] = interbank(banks[0], banks[3], 1_001);
        bytes memory batch;
        for (uint256 i; i < os.length; ++i) {
            batch = bytes.concat(batch, Model.packed(os[i], i == 1));
        }
        vm.expectRevert(
            abi.encodeWithSelector(IClearingCycles.ObligationAmountAboveMaximum.selector, os[2].ref, 1_001, 1_000)
        );
        vm.prank(banks[0]);
        hub.submitBatch(batch);
        vm.assertEq(uint256(hub.cycle(1).count), 0, "nothing written");

        os[2].amount = 1_000;
        submitPacked(os, false);
        vm.assertEq(uint256(hub.cycle(1).count), 3, "within the maximum");
    }

    /// @dev Whatever the maximum and the amount, a batch is accepted exactly when the amount is within it.
    function testFuzz_maxAmount_batchAcceptedIffWithinMaximum(uint256 maximum, uint256 amount) public {
        maximum = bound(maximum, 1, MAX_AMOUNT);
        amount = bound(amount, 1, MAX_AMOUNT);
        vm.prank(admin);
        hub.setCurrencyMaxAmount(SGD, maximum);
        Obligation memory o = interbank(banks[0], banks[1], amount);
        if (amount > maximum) {
            vm.expectRevert(
                abi.encodeWithSelector(IClearingCycles.ObligationAmountAboveMaximum.selector, o.ref, amount, maximum)
            );
        }
        vm.prank(o.payer);
        hub.submitBatch(Model.packed(o, false));
        vm.assertEq(uint256(hub.cycle(1).count), amount > maximum ? 0 : 1, "count");
    }

    // ============================================================================ recall

    function test_recall_recordsTheRequestAndBindsItIntoTheCommitment() public {
        Obligation memory a = interbank(banks[0], banks[1], 500);
        Obligation memory b = interbank(banks[0], banks[2], 300);
        submitOne(a);
        submitOne(b);
        bytes32[] memory refs = new bytes32[](1);
        refs[0] = a.ref;
        vm.expectEmit(address(hub));
        emit IClearingCycles.RecallRequested(banks[0], 1, a.ref);
        vm.prank(banks[0]);
        vm.assertEq(uint256(hub.recall(refs)), 1, "recorded in the open cycle");
        bytes32 rh = Model.recallStep(bytes32(0), banks[0], a.ref);
        (bytes32 h, uint64 n) = hub.recalls(1);
        vm.assertEq(h, rh, "rolling hash");
        vm.assertEq(uint256(n), 1, "count");

        closeAsAdmin();
        bytes32 subs = Model.step(Model.step(bytes32(0), a), b);
        vm.assertEq(hub.cycle(1).inputCommitment, Model.inputCommitment(bytes32(0), subs, 2, rh, 1), "bound");
        vm.assertTrue(
            hub.cycle(1).inputCommitment != Model.inputCommitment(bytes32(0), subs, 2), "differs from no recall"
        );
    }

    function test_recall_refusals() public {
        Obligation memory a = interbank(banks[0], banks[1], 500);
        submitOne(a);
        bytes32[] memory refs = new bytes32[](1);

        vm.expectRevert(IClearingCycles.NothingToRecall.selector);
        vm.prank(banks[0]);
        hub.recall(new bytes32[](0));

        refs[0] = bytes32(uint256(0xdead));
        vm.expectRevert(abi.encodeWithSelector(IClearingCycles.UnknownReference.selector, banks[0], refs[0]));
        vm.prank(banks[0]);
        hub.recall(refs);

        refs[0] = a.ref; // another payer's reference is not the caller's
        vm.expectRevert(abi.encodeWithSelector(IClearingCycles.UnknownReference.selector, banks[1], a.ref));
        vm.prank(banks[1]);
        hub.recall(refs);

        vm.prank(admin);
        hub.pause();
        vm.expectRevert(abi.encodeWithSignature("EnforcedPause()"));
        vm.prank(banks[0]);
        hub.recall(refs);
        vm.prank(admin);
        hub.unpause();

        vm.prank(banks[0]);
        hub.recall(refs);
        vm.expectRevert(abi.encodeWithSelector(IClearingCycles.AlreadyRecalled.selector, banks[0], a.ref));
        vm.prank(banks[0]);
        hub.recall(refs);

        // all or nothing: a batch with one bad reference records none
        Obligation memory b = interbank(banks[0], banks[2], 300);
        submitOne(b);
        bytes32[] memory two = new bytes32[](2);
        two[0] = b.ref;
        two[1] = a.ref;
        vm.expectRevert(abi.encodeWithSelector(IClearingCycles.AlreadyRecalled.selector, banks[0], a.ref));
        vm.prank(banks[0]);
        hub.recall(two);
        (, uint64 n) = hub.recalls(1);
        vm.assertEq(uint256(n), 1, "only the first request");
    }

    function test_recall_bySuspendedPayerAndIntoTheNextCycle() public {
        Obligation memory a = interbank(banks[0], banks[1], 500);
        submitOne(a);
        closeAsAdmin(); // a is in closed cycle 1's input; the recall goes to cycle 2
        vm.prank(admin);
        hub.suspendParticipant(banks[0], "review");
        bytes32[] memory refs = new bytes32[](1);
        refs[0] = a.ref;
        vm.prank(banks[0]);
        vm.assertEq(uint256(hub.recall(refs)), 2, "recorded in the open cycle 2");
        (, uint64 n1) = hub.recalls(1);
        (, uint64 n2) = hub.recalls(2);
        vm.assertEq(uint256(n1), 0, "closed cycle 1 unchanged");
        vm.assertEq(uint256(n2), 1, "cycle 2");
    }

    // ============================================================================ ended sets of a result

    /// @dev Cycle 1: a recalled (b0 -> b1 500), b settled (b0 -> b2 300), c expired (b1 -> b3 200).
    function _endedResult() internal returns (ClearingResult memory r, Obligation memory a, Obligation memory c) {
        a = interbank(banks[0], banks[1], 500);
        Obligation memory b = interbank(banks[0], banks[2], 300);
        c = interbank(banks[1], banks[3], 200);
        submitOne(a);
        submitOne(b);
        submitOne(c);
        bytes32[] memory refs = new bytes32[](1);
        refs[0] = a.ref;
        vm.prank(banks[0]);
        hub.recall(refs);
        closeAsAdmin();
        r = realResult(1, one(b), new Obligation[](0));
        r.recalledRoot = Model.leaf(a);
        r.recalledCount = 1;
        r.expiredRoot = Model.leaf(c);
        r.expiredCount = 1;
    }

    function test_result_endedSetsSettleWithTheirEventRootsAndProofs() public {
        (ClearingResult memory r, Obligation memory a, Obligation memory c) = _endedResult();
        accept(r);
        bytes32 h = hub.cycle(1).resultHash;
        vm.expectEmit(address(hub));
        emit IClearingResults.ObligationsEnded(1, r.recalledRoot, 1, r.expiredRoot, 1);
        vm.expectEmit(address(hub));
        emit IClearingResults.CycleSettled(1, h, r.settledRoot, bytes32(0), 1, 0);
        applyAll(r);
        assertStatus(1, CycleStatus.Settled);

        (bytes32 rr, bytes32 er) = hub.endedRoots(1);
        vm.assertEq(rr, r.recalledRoot, "recalled root");
        vm.assertEq(er, r.expiredRoot, "expired root");
        bytes32[] memory none = new bytes32[](0);
        vm.assertTrue(hub.verifyEndedObligation(1, true, none, 1, a.payer, a.payee, SGD, a.amount, a.ref), "a");
        vm.assertFalse(hub.verifyEndedObligation(1, false, none, 1, a.payer, a.payee, SGD, a.amount, a.ref), "a");
        vm.assertTrue(hub.verifyEndedObligation(1, false, none, 1, c.payer, c.payee, SGD, c.amount, c.ref), "c");
        vm.assertFalse(hub.verifyObligation(1, true, none, 1, a.payer, a.payee, SGD, a.amount, a.ref), "a settled");
        (bytes32 carry, uint64 carried) = hub.carry();
        vm.assertEq(carry, bytes32(0), "nothing carries");
        vm.assertEq(uint256(carried), 0, "ended sets do not carry");
    }

    function test_result_endedSetsOfAResultWithoutPositions() public {
        (ClearingResult memory r,,) = _endedResult();
        // defer b instead: no positions, the accepting approval settles
        r.settledRoot = bytes32(0);
        r.settledCount = 0;
        r.deferredRoot = keccak256("deferred b");
        r.deferredCount = 1;
        r.positions = new NetPosition[](0);
        approveAs(0, r);
        vm.expectEmit(address(hub));
        emit IClearingResults.ObligationsEnded(1, r.recalledRoot, 1, r.expiredRoot, 1);
        approveAs(1, r);
        assertStatus(1, CycleStatus.Settled);
        (, uint64 carried) = hub.carry();
        vm.assertEq(uint256(carried), 1, "only the deferred one carries");
    }

    function test_result_noEndedSetsEmitsNoObligationsEnded() public {
        Obligation memory b = interbank(banks[0], banks[2], 300);
        submitOne(b);
        closeAsAdmin();
        ClearingResult memory r = realResult(1, one(b), new Obligation[](0));
        vm.recordLogs();
        settle(r);
        Vm.Log[] memory logs = vm.getRecordedLogs();
        for (uint256 i; i < logs.length; ++i) {
            vm.assertTrue(logs[i].topics[0] != IClearingResults.ObligationsEnded.selector, "no ObligationsEnded");
        }
        (bytes32 rr, bytes32 er) = hub.endedRoots(1);
        vm.assertEq(rr, bytes32(0), "no recalled root");
        vm.assertEq(er, bytes32(0), "no expired root");
    }

    function test_result_endedCountsAndRootsAreChecked() public {
        (ClearingResult memory r,,) = _endedResult();
        ClearingResult memory t = r;
        t.expiredCount = 2;
        vm.expectRevert(abi.encodeWithSelector(IClearingResults.CountMismatch.selector, 1, 3, 4));
        vm.prank(oracles[0]);
        hub.approveResult(ResultChain.header(t));

        (r,,) = _fresh();
        r.recalledRoot = bytes32(0);
        vm.expectRevert(abi.encodeWithSelector(IClearingResults.RootCountMismatch.selector, bytes32(0), 1));
        vm.prank(oracles[0]);
        hub.approveResult(ResultChain.header(r));

        (r,,) = _fresh();
        r.expiredCount = 0;
        r.settledCount = 2; // totals still 3
        vm.expectRevert(abi.encodeWithSelector(IClearingResults.RootCountMismatch.selector, r.expiredRoot, 0));
        vm.prank(oracles[0]);
        hub.approveResult(ResultChain.header(r));
    }

    function _fresh() internal view returns (ClearingResult memory r, bytes32, bytes32) {
        r.cycleId = 1;
        r.inputCommitment = hub.cycle(1).inputCommitment;
        r.settledRoot = keccak256("s");
        r.settledCount = 1;
        r.recalledRoot = keccak256("r");
        r.recalledCount = 1;
        r.expiredRoot = keccak256("e");
        r.expiredCount = 1;
        r.positions = new NetPosition[](0);
        return (r, bytes32(0), bytes32(0));
    }

    /// @dev The ended counts of a chunked settlement reach `ObligationsEnded` at its last chunk.
    function test_result_endedSetsOfAChunkedSettlement() public {
        (ClearingResult memory r,,) = _endedResult();
        accept(r);
        vm.assertEq(uint256(r.positions.length), 2, "two positions");
        applyChunk(r, 0, 1);
        assertStatus(1, CycleStatus.Settling);
        vm.expectEmit(address(hub));
        emit IClearingResults.ObligationsEnded(1, r.recalledRoot, 1, r.expiredRoot, 1);
        applyChunk(r, 1, 2);
        assertStatus(1, CycleStatus.Settled);
    }

    /// @dev Any split of the input count over the four sets is accepted, and only a split that adds up.
    function testFuzz_result_countsMustAddUp(uint64 s, uint64 d, uint64 rc, uint64 e) public {
        s = uint64(bound(s, 0, 4));
        d = uint64(bound(d, 0, 4));
        rc = uint64(bound(rc, 0, 4));
        e = uint64(bound(e, 0, 4));
        for (uint256 i; i < 3; ++i) {
            submitOne(interbank(banks[0], banks[1 + i], 100 + i));
        }
        closeAsAdmin();
        ClearingResult memory r;
        r.cycleId = 1;
        r.inputCommitment = hub.cycle(1).inputCommitment;
        r.settledRoot = s == 0 ? bytes32(0) : keccak256("s");
        r.deferredRoot = d == 0 ? bytes32(0) : keccak256("d");
        r.recalledRoot = rc == 0 ? bytes32(0) : keccak256("r");
        r.expiredRoot = e == 0 ? bytes32(0) : keccak256("e");
        (r.settledCount, r.deferredCount, r.recalledCount, r.expiredCount) = (s, d, rc, e);
        r.positions = new NetPosition[](0);
        uint64 total = s + d + rc + e;
        if (total != 3) {
            vm.expectRevert(abi.encodeWithSelector(IClearingResults.CountMismatch.selector, 1, 3, total));
        }
        vm.prank(oracles[0]);
        hub.approveResult(ResultChain.header(r));
        if (total != 3) return;
        vm.prank(oracles[1]);
        hub.approveResult(ResultChain.header(r));
        assertStatus(1, CycleStatus.Settled);
        (, uint64 carried) = hub.carry();
        vm.assertEq(uint256(carried), d, "only deferred obligations carry");
    }

    // ============================================================================ expiry setting

    function test_setObligationExpiry() public {
        vm.assertEq(uint256(hub.obligationExpiry()), 0, "never by default");
        vm.expectRevert(ownerError(stranger));
        vm.prank(stranger);
        hub.setObligationExpiry(3);
        vm.expectEmit(address(hub));
        emit IClearingCycles.ObligationExpirySet(3);
        vm.prank(admin);
        hub.setObligationExpiry(3);
        vm.assertEq(uint256(hub.obligationExpiry()), 3, "3 cycles");
    }

    /// @dev A failed cycle's recalls carry with its whole input: the next cycle's carry-in is the failed
    ///      cycle's commitment, which binds them.
    function test_recall_ofAFailedCycleIsBoundIntoTheCarry() public {
        Obligation memory a = interbank(banks[0], banks[1], 500);
        submitOne(a);
        bytes32[] memory refs = new bytes32[](1);
        refs[0] = a.ref;
        vm.prank(banks[0]);
        hub.recall(refs);
        closeAsAdmin();
        bytes32 ic1 = hub.cycle(1).inputCommitment;
        vm.prank(admin);
        hub.cancelCycle(1, "test");
        closeAsAdmin();
        (bytes32 carry, uint64 carried) = hub.carry();
        vm.assertEq(carry, ic1, "carry is cycle 1's commitment, recalls included");
        vm.assertEq(uint256(carried), 1, "one obligation");
        vm.assertEq(hub.cycle(2).inputCommitment, Model.inputCommitment(ic1, bytes32(0), 0), "2 binds the carry");
    }
}
