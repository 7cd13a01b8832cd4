// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {HubTest} from "../utils/HubTest.sol";
import {ClearingResult} from "../utils/HubFixture.sol";
import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {Ownable2Step} from "@openzeppelin/contracts/access/Ownable2Step.sol";
import {Pausable} from "@openzeppelin/contracts/utils/Pausable.sol";
import {SettlementHub} from "../../../contracts/SettlementHub.sol";
import {ISettlementHub} from "../../../contracts/interfaces/ISettlementHub.sol";
import {IClearingCycles} from "../../../contracts/interfaces/IClearingCycles.sol";
import {
    CycleStatus,
    NetPosition,
    NettingStrategy,
    ParticipantKind
} from "../../../contracts/types/SettlementTypes.sol";

contract SettlementHubTest is HubTest {
    address internal newAdmin = address(0xAD2);
    address internal stranger = address(0x5757);

    // ============================================================================ deployment

    function test_constructor() public {
        vm.warp(12345);
        vm.expectEmit(true, false, false, true);
        emit IClearingCycles.CycleOpened(1, 12345, 0);
        SettlementHub h = new SettlementHub(newAdmin);
        vm.assertEq(h.owner(), newAdmin, "owner");
        vm.assertEq(h.pendingOwner(), address(0), "no pending owner");
        vm.assertFalse(h.paused(), "not paused");
        vm.assertEq(uint256(h.currentCycleId()), 1, "cycle 1 open");
        vm.assertEq(uint256(h.nextCycleToFinalize()), 1, "next 1");
        (uint256 size, uint256 k, uint64 epoch) = h.committee();
        vm.assertEq(size + k + epoch, 0, "empty committee");
    }

    function test_constructor_revertsZeroAdmin() public {
        vm.expectRevert(abi.encodeWithSelector(Ownable.OwnableInvalidOwner.selector, address(0)));
        new SettlementHub(address(0));
    }

    // ============================================================================ pause

    function test_pause_emitsAndGates() public {
        vm.expectEmit(false, false, false, true, address(hub));
        emit Pausable.Paused(admin);
        vm.prank(admin);
        hub.pause();
        vm.assertTrue(hub.paused(), "paused");

        bytes memory batch = interbankBatch(2, 1);
        bytes memory err = abi.encodeWithSelector(Pausable.EnforcedPause.selector);
        vm.expectRevert(err);
        vm.prank(banks[0]);
        hub.submit(input(banks[1], 1, bytes32(uint256(1))));
        vm.expectRevert(err);
        vm.prank(banks[0]);
        hub.submitBatch(batch);

        // closing, admin work and views go on
        closeAsAdmin();
        ClearingResult memory r = resultFor(1, 0, 0, new NetPosition[](0));
        vm.expectRevert(err);
        vm.prank(oracles[0]);
        hub.approveResult(header(r));
        vm.startPrank(admin);
        hub.fund(banks[0], SGD, 1);
        hub.registerParticipant(stranger, ParticipantKind.Bank, "s");
        hub.setDebitCap(banks[0], SGD, CAP + 1);
        vm.stopPrank();
        vm.assertEq(uint256(hub.cycle(1).status), uint256(CycleStatus.Closed), "views work");

        vm.expectEmit(false, false, false, true, address(hub));
        emit Pausable.Unpaused(admin);
        vm.prank(admin);
        hub.unpause();
        vm.assertFalse(hub.paused(), "unpaused");
        settle(r);
        vm.assertEq(uint256(hub.cycle(1).status), uint256(CycleStatus.Settled), "settles after unpause");
        vm.prank(banks[0]);
        hub.submitBatch(batch);
    }

    /// @dev Cancelling and failing are the admin's and everyone's way out while paused.
    function test_pause_doesNotBlockCancelOrFail() public {
        vm.startPrank(admin);
        hub.setSettlementTimeout(10);
        hub.closeCycle();
        hub.closeCycle();
        hub.pause();
        hub.cancelCycle(1, "paused");
        vm.stopPrank();
        vm.warp(block.timestamp + 10);
        hub.failCycle(2);
        vm.assertEq(uint256(hub.nextCycleToFinalize()), 3, "both finalised while paused");
    }

    function test_pause_revertsWhenPaused() public {
        vm.startPrank(admin);
        hub.pause();
        vm.expectRevert(abi.encodeWithSelector(Pausable.EnforcedPause.selector));
        hub.pause();
        vm.stopPrank();
    }

    function test_unpause_revertsWhenNotPaused() public {
        vm.expectRevert(abi.encodeWithSelector(Pausable.ExpectedPause.selector));
        vm.prank(admin);
        hub.unpause();
    }

    function test_pause_onlyOwner() public {
        vm.expectRevert(ownerError(stranger));
        vm.prank(stranger);
        hub.pause();
        vm.prank(admin);
        hub.pause();
        vm.expectRevert(ownerError(oracles[0]));
        vm.prank(oracles[0]);
        hub.unpause();
    }

    // ============================================================================ Ownable2Step

    function test_transferOwnership_twoSteps() public {
        vm.expectEmit(true, true, false, true, address(hub));
        emit Ownable2Step.OwnershipTransferStarted(admin, newAdmin);
        vm.prank(admin);
        hub.transferOwnership(newAdmin);
        vm.assertEq(hub.owner(), admin, "still the old admin");
        vm.assertEq(hub.pendingOwner(), newAdmin, "pending");

        // the pending admin has no rights yet
        vm.expectRevert(ownerError(newAdmin));
        vm.prank(newAdmin);
        hub.fund(banks[0], SGD, 1);
        // nobody else may accept
        vm.expectRevert(ownerError(stranger));
        vm.prank(stranger);
        hub.acceptOwnership();

        vm.expectEmit(true, true, false, true, address(hub));
        emit Ownable.OwnershipTransferred(admin, newAdmin);
        vm.prank(newAdmin);
        hub.acceptOwnership();
        vm.assertEq(hub.owner(), newAdmin, "new admin");
        vm.assertEq(hub.pendingOwner(), address(0), "cleared");

        vm.expectRevert(ownerError(admin));
        vm.prank(admin);
        hub.fund(banks[0], SGD, 1);
        vm.prank(newAdmin);
        hub.fund(banks[0], SGD, 1);

        // closing at will moved with the role
        vm.expectRevert(
            abi.encodeWithSelector(IClearingCycles.CycleStillRunning.selector, uint64(1), uint64(0))
        );
        vm.prank(admin);
        hub.closeCycle();
        vm.prank(newAdmin);
        hub.closeCycle();
    }

    function test_transferOwnership_replacesPending() public {
        vm.startPrank(admin);
        hub.transferOwnership(stranger);
        hub.transferOwnership(newAdmin);
        vm.stopPrank();
        vm.expectRevert(ownerError(stranger));
        vm.prank(stranger);
        hub.acceptOwnership();
        vm.prank(admin);
        hub.transferOwnership(address(0)); // cancels the transfer
        vm.expectRevert(ownerError(newAdmin));
        vm.prank(newAdmin);
        hub.acceptOwnership();
        vm.assertEq(hub.owner(), admin, "unchanged");
    }

    function test_transferOwnership_onlyOwner() public {
        vm.expectRevert(ownerError(stranger));
        vm.prank(stranger);
        hub.transferOwnership(stranger);
        vm.expectRevert(ownerError(banks[0]));
        vm.prank(banks[0]);
        hub.renounceOwnership();
    }

    function test_renounceOwnership_freezesAdministration() public {
        vm.prank(admin);
        hub.renounceOwnership();
        vm.assertEq(hub.owner(), address(0), "no owner");
        vm.expectRevert(ownerError(admin));
        vm.prank(admin);
        hub.pause();
        vm.expectRevert(
            abi.encodeWithSelector(IClearingCycles.CycleStillRunning.selector, uint64(1), uint64(0))
        );
        vm.prank(admin);
        hub.closeCycle();
        // members keep submitting
        vm.prank(banks[0]);
        hub.submit(input(banks[1], 1, bytes32(uint256(1))));
    }

    // ============================================================================ every admin function

    function _adminCalls() internal view returns (bytes[] memory calls) {
        calls = new bytes[](21);
        calls[0] = abi.encodeCall(hub.registerParticipant, (stranger, ParticipantKind.Bank, "x"));
        calls[1] = abi.encodeCall(hub.suspendParticipant, (banks[0], "x"));
        calls[2] = abi.encodeCall(hub.reinstateParticipant, (banks[0]));
        calls[3] = abi.encodeCall(hub.addOracle, (stranger));
        calls[4] = abi.encodeCall(hub.removeOracle, (oracles[0]));
        calls[5] = abi.encodeCall(hub.setThreshold, (3));
        calls[6] = abi.encodeCall(hub.addAuditor, (stranger));
        calls[7] = abi.encodeCall(hub.removeAuditor, (auditor));
        calls[8] = abi.encodeCall(hub.registerCurrency, (bytes3("EUR"), 2));
        calls[9] = abi.encodeCall(hub.setDebitCap, (banks[0], SGD, 1));
        calls[10] = abi.encodeCall(hub.fund, (banks[0], SGD, 1));
        calls[11] = abi.encodeCall(hub.defund, (banks[0], SGD, 1));
        calls[12] = abi.encodeCall(hub.cancelCycle, (1, "x"));
        calls[13] = abi.encodeCall(hub.setCycleDuration, (1));
        calls[14] = abi.encodeCall(hub.setSettlementTimeout, (1));
        calls[15] = abi.encodeCall(hub.setNettingStrategy, (NettingStrategy.MaxValue));
        calls[16] = abi.encodeCall(hub.pause, ());
        calls[17] = abi.encodeCall(hub.unpause, ());
        calls[18] = abi.encodeCall(hub.transferOwnership, (stranger));
        calls[19] = abi.encodeCall(hub.renounceOwnership, ());
        calls[20] = abi.encodeCall(hub.updateCommittee, (new address[](0), new address[](0), 2));
    }

    /// @dev Every admin function refuses members, oracles, the auditor and strangers with
    ///      OwnableUnauthorizedAccount(caller).
    function test_onlyOwner_everyAdminFunction() public {
        bytes[] memory calls = _adminCalls();
        address[4] memory callers = [stranger, banks[0], oracles[0], auditor];
        for (uint256 c; c < callers.length; ++c) {
            for (uint256 i; i < calls.length; ++i) {
                vm.expectRevert(ownerError(callers[c]));
                vm.prank(callers[c]);
                (bool ok,) = address(hub).call(calls[i]);
                ok; // the expectRevert above checks the outcome
            }
        }
    }

    function test_interfaceIsImplemented() public view {
        ISettlementHub h = ISettlementHub(address(hub));
        vm.assertEq(uint256(h.currentCycleId()), 1, "ISettlementHub view");
    }
}
