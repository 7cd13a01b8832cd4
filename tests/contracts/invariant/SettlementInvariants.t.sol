// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {HubFixture} from "../utils/HubFixture.sol";
import {Model} from "../utils/HubTest.sol";
import {SettlementHandler} from "./handlers/SettlementHandler.sol";
import {Cycle, CycleStatus, SettlementProgress} from "../../../contracts/types/SettlementTypes.sol";

/// @notice Properties that hold after any sequence of the handler's actions.
contract SettlementInvariantsTest is HubFixture {
    SettlementHandler internal handler;

    function setUp() public override {
        super.setUp();
        handler = new SettlementHandler(hub, admin, members(), oracles, FUNDING);
        targetContract(address(handler));
        bytes4[] memory selectors = new bytes4[](34);
        selectors[0] = SettlementHandler.submitOne.selector;
        selectors[1] = SettlementHandler.submitMany.selector;
        selectors[2] = SettlementHandler.submitInvalid.selector;
        selectors[3] = SettlementHandler.close.selector;
        selectors[4] = SettlementHandler.advanceTime.selector;
        selectors[5] = SettlementHandler.setDuration.selector;
        selectors[6] = SettlementHandler.cancel.selector;
        selectors[7] = SettlementHandler.fail.selector;
        selectors[8] = SettlementHandler.settle.selector;
        selectors[9] = SettlementHandler.partialApprove.selector;
        selectors[10] = SettlementHandler.churnCommittee.selector;
        selectors[11] = SettlementHandler.replaySettled.selector;
        selectors[12] = SettlementHandler.fund.selector;
        selectors[13] = SettlementHandler.defund.selector;
        selectors[14] = SettlementHandler.setCap.selector;
        selectors[15] = SettlementHandler.toggleSuspension.selector;
        selectors[16] = SettlementHandler.togglePause.selector;
        // submissions, closings, settlements and their chunks are the point: give them extra tickets
        selectors[17] = SettlementHandler.settle.selector;
        selectors[18] = SettlementHandler.submitOne.selector;
        selectors[19] = SettlementHandler.submitMany.selector;
        selectors[20] = SettlementHandler.submitMany.selector;
        selectors[21] = SettlementHandler.close.selector;
        selectors[22] = SettlementHandler.settle.selector;
        selectors[23] = SettlementHandler.settle.selector;
        selectors[24] = SettlementHandler.applyChunk.selector;
        selectors[25] = SettlementHandler.applyChunk.selector;
        selectors[26] = SettlementHandler.settle.selector;
        selectors[27] = SettlementHandler.settle.selector;
        selectors[28] = SettlementHandler.submitOne.selector;
        selectors[29] = SettlementHandler.submitMany.selector;
        selectors[30] = SettlementHandler.recallOne.selector;
        selectors[31] = SettlementHandler.recallOne.selector;
        selectors[32] = SettlementHandler.setExpiry.selector;
        selectors[33] = SettlementHandler.recallOne.selector;
        targetSelector(FuzzSelector(address(handler), selectors));
    }

    /// @dev Per currency: sum of balances minus the nets of the settling result applied so far (and not
    ///      reversed) == totalBalance == funded minus defunded. The nets in flight are 0 whenever no cycle
    ///      is settling, and those of every currency but the one being applied (or unwound) sum to 0.
    function invariant_moneyConservedPerCurrency() public view {
        bytes3[2] memory codes = [SGD, USD];
        address[] memory all = handler.members();
        for (uint256 c; c < 2; ++c) {
            int256 sum;
            for (uint256 i; i < all.length; ++i) {
                (int256 b,) = hub.accountOf(all[i], codes[c]);
                sum += b;
            }
            int256 inFlight = handler.ghostInFlight(codes[c]);
            if (handler.acceptedCycle() == 0) vm.assertEq(inFlight, int256(0), "nothing in flight");
            vm.assertEq(sum - inFlight, hub.totalBalance(codes[c]), "sum of balances - in flight == totalBalance");
            vm.assertEq(hub.totalBalance(codes[c]), handler.ghostNet(codes[c]), "== funded minus defunded");
        }
    }

    /// @dev No balance below minus its cap. The one documented exception: the admin may lower a cap below
    ///      an account's current usage (IMembership: "the admin lowers its debit cap to zero" to stop a
    ///      member's payments); from then on the balance may only rise, so it never goes below the balance
    ///      it had when the cap was lowered. Settlement itself never leaves a payer below minus its cap.
    function invariant_noBalanceBelowMinusCap() public view {
        vm.assertEq(handler.ghostSettledBelowCap(), 0, "settlement left a payer below -cap");
        bytes3[2] memory codes = [SGD, USD];
        address[] memory all = handler.members();
        for (uint256 c; c < 2; ++c) {
            for (uint256 i; i < all.length; ++i) {
                (int256 b, uint256 cap) = hub.accountOf(all[i], codes[c]);
                if (b >= -int256(cap)) continue;
                vm.assertGe(b, handler.ghostFloor(all[i], codes[c]), "over-limit balance fell further");
            }
        }
    }

    /// @dev No cycle settled twice; exactly the cycles before nextCycleToFinalize are final, each once.
    function invariant_noCycleSettledTwice() public view {
        vm.assertEq(handler.ghostCyclesSettledTwice(), 0, "cycle settled twice");
        uint64 next = hub.nextCycleToFinalize();
        uint64 current = hub.currentCycleId();
        for (uint64 id = 1; id <= current; ++id) {
            Cycle memory c = hub.cycle(id);
            bool final_ = c.status == CycleStatus.Settled || c.status == CycleStatus.Failed
                || c.status == CycleStatus.Cancelled;
            vm.assertEq(final_, id < next, "final exactly below nextCycleToFinalize");
            vm.assertEq(handler.ghostFinalCount(id), final_ ? 1 : 0, "finalised once");
            vm.assertEq(handler.ghostSettleCount(id), c.status == CycleStatus.Settled ? 1 : 0, "settled once");
            vm.assertEq(c.resultHash, handler.ghostResultHash(id), "result hash iff a result was accepted");
            if (c.status == CycleStatus.Settled || c.status == CycleStatus.Settling) {
                vm.assertTrue(c.resultHash != bytes32(0), "settled or settling has its result");
            }
        }
    }

    /// @dev No obligation settled twice, and none lost: settled + carried + in unfinalised cycles == submitted.
    function invariant_noObligationSettledTwice() public view {
        vm.assertEq(handler.ghostObligationsSettledTwice(), 0, "obligation settled twice");
        uint256 open;
        uint64 current = hub.currentCycleId();
        for (uint64 id = hub.nextCycleToFinalize(); id <= current; ++id) {
            open += hub.cycle(id).count;
        }
        vm.assertEq(
            handler.totalSettled() + handler.totalEnded() + handler.pendingCount() + open,
            handler.totalSubmitted(),
            "obligations conserved"
        );
    }

    /// @dev A recalled or expired obligation ends once and never settles afterwards.
    function invariant_endedObligationsStayEnded() public view {
        vm.assertEq(handler.ghostEndedTwice(), 0, "obligation ended twice");
        vm.assertEq(handler.ghostEndedThenSettled(), 0, "ended obligation settled later");
    }

    function invariant_nextCycleToFinalizeMonotone() public view {
        vm.assertFalse(handler.ghostNextDecreased(), "nextCycleToFinalize decreased");
        vm.assertGe(
            uint256(hub.nextCycleToFinalize()), uint256(handler.ghostMaxNext()), "behind the maximum seen"
        );
        vm.assertLe(
            uint256(hub.nextCycleToFinalize()), uint256(hub.currentCycleId()), "never past the open cycle"
        );
    }

    /// @dev The carry is the model's: count == carried obligations, commitment as documented; a ready
    ///      cycle's inputCommitment binds exactly that carry and its own submissions.
    function invariant_carryConsistent() public view {
        (bytes32 carry, uint64 count) = hub.carry();
        vm.assertEq(uint256(count), handler.pendingCount(), "carry count == carried obligations");
        vm.assertEq(uint256(count), uint256(handler.modelCarryCount()), "model count");
        vm.assertEq(carry, handler.modelCarry(), "carry commitment");
        vm.assertEq(carry == bytes32(0), count == 0, "zero commitment iff nothing carried");
        uint64 next = hub.nextCycleToFinalize();
        Cycle memory c = hub.cycle(next);
        if (c.status == CycleStatus.Closed) {
            vm.assertEq(
                c.inputCommitment,
                Model.inputCommitment(
                    carry, c.submissionsHash, c.count, handler.modelRecallHash(next), handler.modelRecallCount(next)
                ),
                "ready cycle binds the carry"
            );
            vm.assertTrue(c.readyBlock != 0, "closed and next means ready");
        }
    }

    /// @dev Every cycle's count and rolling hash equal the model's, recomputed from the documented formula.
    function invariant_submissionsMatchModel() public view {
        uint64 current = hub.currentCycleId();
        for (uint64 id = 1; id <= current; ++id) {
            Cycle memory c = hub.cycle(id);
            vm.assertEq(uint256(c.count), handler.cycleCount(id), "count");
            vm.assertEq(c.submissionsHash, handler.modelHash(id), "rolling hash");
            (bytes32 rh, uint64 rc) = hub.recalls(id);
            vm.assertEq(rh, handler.modelRecallHash(id), "recalls' rolling hash");
            vm.assertEq(uint256(rc), uint256(handler.modelRecallCount(id)), "recall count");
        }
    }

    /// @dev The hub's settlement progress is the handler's: the settling cycle, positions applied and
    ///      reversed, and the chain value the next chunk must match.
    function invariant_settlementProgressMatchesModel() public view {
        SettlementProgress memory p = hub.settlement();
        uint64 id = handler.acceptedCycle();
        vm.assertEq(uint256(p.cycleId), uint256(id), "settling cycle");
        if (id == 0) return;
        vm.assertEq(uint256(hub.cycle(id).status), uint256(CycleStatus.Settling), "settling");
        vm.assertEq(uint256(hub.nextCycleToFinalize()), uint256(id), "the settling cycle is next");
        vm.assertEq(uint256(p.applied), uint256(handler.ghostApplied()), "applied");
        vm.assertEq(p.unwinding, handler.ghostUnwinding(), "unwinding");
        if (p.unwinding) vm.assertEq(uint256(p.unwound), uint256(handler.ghostUnwound()), "unwound");
        vm.assertLt(uint256(p.applied), uint256(p.count), "not all applied");
        vm.assertEq(p.resultHash, hub.cycle(id).resultHash, "result hash");
        vm.assertEq(uint256(hub.cycle(id + 1).readyBlock), 0, "the next cycle is not ready");
    }

    /// @dev Every action behaved as predicted (exact errors for refused actions, success for valid ones).
    function invariant_noUnexpectedOutcome() public view {
        vm.assertEq(handler.ghostUnexpected(), 0, handler.lastUnexpected());
    }

    /// @dev After every run: the run reached what the invariants are about. Invariants that hold because
    ///      nothing happened prove nothing, so a run that accepted no obligation or settled no cycle
    ///      fails (a handler whose settle always returns early, say, or a contract change that refuses
    ///      every result the handler computes).
    ///      A run of random actions reaches the rarer paths (a recall taking effect, an expiry, a
    ///      settlement in chunks, a cancellation with unwinding) only now and then, so the handler first
    ///      drives what is missing from the state the run left (`cover`), and every invariant is
    ///      checked again after it.
    function afterInvariant() public {
        handler.cover(0x5e771e);
        invariant_moneyConservedPerCurrency();
        invariant_noBalanceBelowMinusCap();
        invariant_noCycleSettledTwice();
        invariant_noObligationSettledTwice();
        invariant_endedObligationsStayEnded();
        invariant_nextCycleToFinalizeMonotone();
        invariant_carryConsistent();
        invariant_submissionsMatchModel();
        invariant_settlementProgressMatchesModel();
        vm.assertEq(handler.ghostUnexpected(), 0, handler.lastUnexpected());
        vm.assertGt(handler.totalSubmitted(), 0, "no obligation was accepted in this run");
        vm.assertGt(handler.calls("hit:settled"), 0, "no cycle settled in this run");
        vm.assertGt(handler.calls("hit:settledNonEmpty"), 0, "no settled cycle had obligations");
        vm.assertGt(handler.calls("hit:settledInChunks"), 0, "no cycle settled in several chunks");
        vm.assertGt(handler.calls("hit:chunkApplied"), 0, "no chunk left a cycle settling");
        vm.assertGt(handler.calls("hit:wrongChunkRefused"), 0, "no wrong chunk was tried");
        vm.assertGt(handler.calls("hit:noProofWhileSettling"), 0, "no proof was tried while settling");
        vm.assertGt(handler.calls("hit:cancelledAccepted"), 0, "no accepted result was cancelled unapplied");
        vm.assertGt(handler.calls("hit:unwindStarted"), 0, "no settling cycle was cancelled part way");
        vm.assertGt(handler.calls("hit:settleWhileUnwinding"), 0, "no chunk was tried while unwinding");
        vm.assertGt(handler.calls("hit:wrongUnwindRefused"), 0, "no wrong unwind chunk was tried");
        vm.assertGt(handler.calls("hit:unwound"), 0, "no settlement was unwound to the end");
        vm.assertGt(handler.calls("hit:recallRequested"), 0, "no recall was recorded");
        vm.assertGt(handler.calls("hit:recalled"), 0, "no settled cycle recalled an obligation");
        vm.assertGt(handler.calls("hit:expired"), 0, "no settled cycle expired an obligation");
    }
}
