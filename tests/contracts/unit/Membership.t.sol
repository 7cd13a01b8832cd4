// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {HubTest} from "../utils/HubTest.sol";
import {IMembership} from "../../../contracts/interfaces/IMembership.sol";
import {IClearingCycles} from "../../../contracts/interfaces/IClearingCycles.sol";
import {SettlementHub} from "../../../contracts/SettlementHub.sol";
import {
    ObligationKind,
    ParticipantKind,
    ParticipantStatus
} from "../../../contracts/types/SettlementTypes.sol";

contract MembershipTest is HubTest {
    address internal newcomer = address(0xBEEF);
    address internal stranger = address(0x5757);

    // ---------------------------------------------------------------- registerParticipant

    function test_registerParticipant_bank() public {
        vm.expectEmit(true, false, false, true, address(hub));
        emit IMembership.ParticipantRegistered(newcomer, ParticipantKind.Bank, "New Bank");
        vm.prank(admin);
        hub.registerParticipant(newcomer, ParticipantKind.Bank, "New Bank");
        (ParticipantKind kind, ParticipantStatus status) = hub.participant(newcomer);
        vm.assertEq(uint256(kind), uint256(ParticipantKind.Bank), "kind");
        vm.assertEq(uint256(status), uint256(ParticipantStatus.Active), "status");
    }

    function test_registerParticipant_walletProvider() public {
        vm.expectEmit(true, false, false, true, address(hub));
        emit IMembership.ParticipantRegistered(newcomer, ParticipantKind.WalletProvider, "Wallet");
        vm.prank(admin);
        hub.registerParticipant(newcomer, ParticipantKind.WalletProvider, "Wallet");
        (ParticipantKind kind, ParticipantStatus status) = hub.participant(newcomer);
        vm.assertEq(uint256(kind), uint256(ParticipantKind.WalletProvider), "kind");
        vm.assertEq(uint256(status), uint256(ParticipantStatus.Active), "status");
    }

    function test_registerParticipant_canSubmitImmediately() public {
        vm.prank(admin);
        hub.registerParticipant(newcomer, ParticipantKind.Bank, "n");
        vm.prank(newcomer);
        hub.submit(input(banks[0], 1, bytes32(uint256(1))));
        vm.assertEq(uint256(hub.cycle(1).count), 1, "count");
    }

    function test_registerParticipant_revertsZeroAddress() public {
        vm.expectRevert(abi.encodeWithSelector(IMembership.ZeroAddress.selector));
        vm.prank(admin);
        hub.registerParticipant(address(0), ParticipantKind.Bank, "zero");
    }

    function test_registerParticipant_revertsKindNone() public {
        vm.expectRevert(
            abi.encodeWithSelector(IMembership.InvalidParticipantKind.selector, ParticipantKind.None)
        );
        vm.prank(admin);
        hub.registerParticipant(newcomer, ParticipantKind.None, "none");
    }

    function test_registerParticipant_revertsKindOutOfRange() public {
        // An enum value past the last member fails ABI decoding (no error data).
        vm.prank(admin);
        (bool ok, bytes memory ret) = address(hub)
            .call(abi.encodeWithSelector(hub.registerParticipant.selector, newcomer, uint256(3), "x"));
        vm.assertFalse(ok, "kind 3 refused");
        vm.assertEq(ret.length, 0, "no error data");
    }

    function test_registerParticipant_revertsAlreadyRegistered() public {
        vm.expectRevert(abi.encodeWithSelector(IMembership.AlreadyRegistered.selector, banks[0]));
        vm.prank(admin);
        hub.registerParticipant(banks[0], ParticipantKind.WalletProvider, "again");
    }

    function test_registerParticipant_revertsAlreadyRegisteredWhenSuspended() public {
        vm.prank(admin);
        hub.suspendParticipant(banks[0], "s");
        vm.expectRevert(abi.encodeWithSelector(IMembership.AlreadyRegistered.selector, banks[0]));
        vm.prank(admin);
        hub.registerParticipant(banks[0], ParticipantKind.Bank, "again");
    }

    function test_registerParticipant_onlyOwner() public {
        vm.expectRevert(ownerError(stranger));
        vm.prank(stranger);
        hub.registerParticipant(newcomer, ParticipantKind.Bank, "n");
    }

    function test_participant_unknownIsNone() public view {
        (ParticipantKind kind, ParticipantStatus status) = hub.participant(newcomer);
        vm.assertEq(uint256(kind), 0, "kind none");
        vm.assertEq(uint256(status), 0, "status none");
    }

    // ---------------------------------------------------------------- suspend / reinstate

    function test_suspendParticipant() public {
        vm.expectEmit(true, false, false, true, address(hub));
        emit IMembership.ParticipantSuspended(banks[1], "fraud investigation");
        vm.prank(admin);
        hub.suspendParticipant(banks[1], "fraud investigation");
        (ParticipantKind kind, ParticipantStatus status) = hub.participant(banks[1]);
        vm.assertEq(uint256(kind), uint256(ParticipantKind.Bank), "kind kept");
        vm.assertEq(uint256(status), uint256(ParticipantStatus.Suspended), "suspended");
    }

    function test_suspendParticipant_blocksSubmissionAsPayerAndPayee() public {
        vm.prank(admin);
        hub.suspendParticipant(banks[1], "s");

        vm.expectRevert(abi.encodeWithSelector(IMembership.NotActiveParticipant.selector, banks[1]));
        vm.prank(banks[1]);
        hub.submit(input(banks[0], 1, bytes32(uint256(1))));

        vm.expectRevert(abi.encodeWithSelector(IMembership.NotActiveParticipant.selector, banks[1]));
        vm.prank(banks[1]);
        hub.submitBatch(record(banks[0], SGD, ObligationKind.Interbank, 1, bytes32(uint256(1))));

        vm.expectRevert(
            abi.encodeWithSelector(IClearingCycles.InactivePayee.selector, bytes32(uint256(7)), banks[1])
        );
        vm.prank(banks[0]);
        hub.submit(input(banks[1], 1, bytes32(uint256(7))));

        vm.expectRevert(
            abi.encodeWithSelector(IClearingCycles.InactivePayee.selector, bytes32(uint256(8)), banks[1])
        );
        vm.prank(banks[0]);
        hub.submitBatch(record(banks[1], SGD, ObligationKind.Interbank, 1, bytes32(uint256(8))));
    }

    function test_suspendParticipant_pendingObligationsStillSettle() public {
        vm.prank(banks[0]);
        hub.submit(input(banks[1], 500, bytes32(uint256(1))));
        vm.prank(admin);
        hub.suspendParticipant(banks[0], "s");
        uint64 id = closeAsAdmin();
        settle(resultFor(id, 1, 0, positions2(banks[0], -500, banks[1], 500, SGD)));
        vm.assertEq(balanceOf(banks[0], SGD), int256(FUNDING) - 500, "suspended payer settled");
    }

    function test_suspendParticipant_revertsUnknown() public {
        vm.expectRevert(abi.encodeWithSelector(IMembership.UnknownParticipant.selector, newcomer));
        vm.prank(admin);
        hub.suspendParticipant(newcomer, "s");
    }

    function test_suspendParticipant_revertsAlreadySuspended() public {
        vm.startPrank(admin);
        hub.suspendParticipant(banks[1], "s");
        vm.expectRevert(
            abi.encodeWithSelector(
                IMembership.InvalidParticipantStatus.selector, banks[1], ParticipantStatus.Suspended
            )
        );
        hub.suspendParticipant(banks[1], "again");
        vm.stopPrank();
    }

    function test_suspendParticipant_onlyOwner() public {
        vm.expectRevert(ownerError(banks[0]));
        vm.prank(banks[0]);
        hub.suspendParticipant(banks[1], "s");
    }

    function test_reinstateParticipant() public {
        vm.startPrank(admin);
        hub.suspendParticipant(wallets[0], "s");
        vm.expectEmit(true, false, false, true, address(hub));
        emit IMembership.ParticipantReinstated(wallets[0]);
        hub.reinstateParticipant(wallets[0]);
        vm.stopPrank();
        (, ParticipantStatus status) = hub.participant(wallets[0]);
        vm.assertEq(uint256(status), uint256(ParticipantStatus.Active), "active again");
        vm.prank(wallets[0]);
        hub.submit(input(wallets[1], 1, bytes32(uint256(1))));
    }

    function test_reinstateParticipant_revertsUnknown() public {
        vm.expectRevert(abi.encodeWithSelector(IMembership.UnknownParticipant.selector, newcomer));
        vm.prank(admin);
        hub.reinstateParticipant(newcomer);
    }

    function test_reinstateParticipant_revertsWhenActive() public {
        vm.expectRevert(
            abi.encodeWithSelector(
                IMembership.InvalidParticipantStatus.selector, banks[2], ParticipantStatus.Active
            )
        );
        vm.prank(admin);
        hub.reinstateParticipant(banks[2]);
    }

    function test_reinstateParticipant_onlyOwner() public {
        vm.prank(admin);
        hub.suspendParticipant(banks[1], "s");
        vm.expectRevert(ownerError(banks[1]));
        vm.prank(banks[1]);
        hub.reinstateParticipant(banks[1]);
    }

    // ---------------------------------------------------------------- oracles

    function test_committee_afterFixture() public view {
        (uint256 size, uint256 threshold, uint64 epoch) = hub.committee();
        vm.assertEq(size, 3, "size");
        vm.assertEq(threshold, 2, "k");
        vm.assertEq(uint256(epoch), 4, "3 adds + setThreshold");
        for (uint256 i; i < 3; ++i) {
            vm.assertTrue(hub.isOracle(oracles[i]), "oracle");
        }
        vm.assertFalse(hub.isOracle(banks[0]), "bank is no oracle");
    }

    function test_addOracle() public {
        vm.prank(admin);
        hub.setThreshold(3); // epoch 5; 3 of 4 stays a valid majority
        vm.expectEmit(true, false, false, true, address(hub));
        emit IMembership.OracleAdded(newcomer, 6);
        vm.prank(admin);
        hub.addOracle(newcomer);
        (uint256 size, uint256 threshold, uint64 epoch) = hub.committee();
        vm.assertEq(size, 4, "size");
        vm.assertEq(threshold, 3, "threshold unchanged");
        vm.assertEq(uint256(epoch), 6, "epoch");
        vm.assertTrue(hub.isOracle(newcomer), "oracle");
    }

    /// @dev n = 4 with k = 2 would let two members settle against two: refused, nothing changes.
    function test_addOracle_revertsWhenKNoLongerAMajority() public {
        vm.expectRevert(abi.encodeWithSelector(IMembership.InvalidThreshold.selector, 2, 4));
        vm.prank(admin);
        hub.addOracle(newcomer);
        (uint256 size, uint256 threshold, uint64 epoch) = hub.committee();
        vm.assertEq(size, 3, "size unchanged");
        vm.assertEq(threshold, 2, "k unchanged");
        vm.assertEq(uint256(epoch), 4, "epoch unchanged");
        vm.assertFalse(hub.isOracle(newcomer), "not added");
    }

    /// @dev Removing down to n = 1 (or any n below k) would stop settlement for good: refused.
    function test_removeOracle_revertsWhenKWouldExceedN() public {
        vm.startPrank(admin);
        hub.removeOracle(oracles[0]); // n = 2, k = 2: valid
        vm.expectRevert(abi.encodeWithSelector(IMembership.InvalidThreshold.selector, 2, 1));
        hub.removeOracle(oracles[1]);
        vm.stopPrank();
        (uint256 size,,) = hub.committee();
        vm.assertEq(size, 2, "size unchanged");
        vm.assertTrue(hub.isOracle(oracles[1]), "still an oracle");
    }

    /// @dev While the committee is assembled (k not yet set) members come and go freely.
    function test_addRemoveOracle_freeBeforeThresholdIsSet() public {
        SettlementHub fresh = new SettlementHub(admin);
        vm.startPrank(admin);
        fresh.addOracle(oracles[0]);
        fresh.addOracle(oracles[1]);
        fresh.removeOracle(oracles[0]);
        vm.stopPrank();
        (uint256 size, uint256 threshold,) = fresh.committee();
        vm.assertEq(size, 1, "n");
        vm.assertEq(threshold, 0, "k unset");
    }

    // ---------------------------------------------------------------- updateCommittee

    function test_updateCommittee_addWithNewThreshold() public {
        address[] memory added = new address[](1);
        added[0] = newcomer;
        vm.expectEmit(true, false, false, true, address(hub));
        emit IMembership.OracleAdded(newcomer, 5);
        vm.expectEmit(false, false, false, true, address(hub));
        emit IMembership.ThresholdChanged(3, 5);
        vm.prank(admin);
        hub.updateCommittee(added, new address[](0), 3);
        (uint256 size, uint256 threshold, uint64 epoch) = hub.committee();
        vm.assertEq(size, 4, "n");
        vm.assertEq(threshold, 3, "k");
        vm.assertEq(uint256(epoch), 5, "one epoch for the whole change");
    }

    function test_updateCommittee_replaceMember() public {
        address[] memory added = new address[](1);
        added[0] = newcomer;
        address[] memory removed = new address[](1);
        removed[0] = oracles[0];
        vm.prank(admin);
        hub.updateCommittee(added, removed, 2);
        (uint256 size, uint256 threshold,) = hub.committee();
        vm.assertEq(size, 3, "n");
        vm.assertEq(threshold, 2, "k");
        vm.assertTrue(hub.isOracle(newcomer), "added");
        vm.assertFalse(hub.isOracle(oracles[0]), "removed");
    }

    function test_updateCommittee_revertsInvalidResult() public {
        address[] memory removed = new address[](2);
        removed[0] = oracles[0];
        removed[1] = oracles[1];
        vm.expectRevert(abi.encodeWithSelector(IMembership.InvalidThreshold.selector, 2, 1));
        vm.prank(admin);
        hub.updateCommittee(new address[](0), removed, 2);
        (uint256 size,, uint64 epoch) = hub.committee();
        vm.assertEq(size, 3, "all or nothing");
        vm.assertEq(uint256(epoch), 4, "epoch unchanged");
        vm.assertTrue(hub.isOracle(oracles[0]), "not removed");
    }

    function test_updateCommittee_revertsRoleErrors() public {
        address[] memory added = new address[](1);
        added[0] = oracles[1];
        vm.startPrank(admin);
        vm.expectRevert(abi.encodeWithSelector(IMembership.RoleAlreadyGranted.selector, oracles[1]));
        hub.updateCommittee(added, new address[](0), 2);
        added[0] = address(0);
        vm.expectRevert(abi.encodeWithSelector(IMembership.ZeroAddress.selector));
        hub.updateCommittee(added, new address[](0), 2);
        address[] memory removed = new address[](1);
        removed[0] = newcomer;
        vm.expectRevert(abi.encodeWithSelector(IMembership.RoleNotGranted.selector, newcomer));
        hub.updateCommittee(new address[](0), removed, 2);
        vm.stopPrank();
    }

    function test_updateCommittee_onlyOwner() public {
        vm.expectRevert(ownerError(oracles[0]));
        vm.prank(oracles[0]);
        hub.updateCommittee(new address[](0), new address[](0), 2);
    }

    function test_addOracle_revertsZeroAddress() public {
        vm.expectRevert(abi.encodeWithSelector(IMembership.ZeroAddress.selector));
        vm.prank(admin);
        hub.addOracle(address(0));
    }

    function test_addOracle_revertsAlreadyGranted() public {
        vm.expectRevert(abi.encodeWithSelector(IMembership.RoleAlreadyGranted.selector, oracles[1]));
        vm.prank(admin);
        hub.addOracle(oracles[1]);
    }

    function test_addOracle_onlyOwner() public {
        vm.expectRevert(ownerError(oracles[0]));
        vm.prank(oracles[0]);
        hub.addOracle(newcomer);
    }

    function test_removeOracle() public {
        vm.expectEmit(true, false, false, true, address(hub));
        emit IMembership.OracleRemoved(oracles[2], 5);
        vm.prank(admin);
        hub.removeOracle(oracles[2]);
        (uint256 size,, uint64 epoch) = hub.committee();
        vm.assertEq(size, 2, "size");
        vm.assertEq(uint256(epoch), 5, "epoch");
        vm.assertFalse(hub.isOracle(oracles[2]), "removed");
    }

    function test_removeOracle_revertsNotGranted() public {
        vm.expectRevert(abi.encodeWithSelector(IMembership.RoleNotGranted.selector, newcomer));
        vm.prank(admin);
        hub.removeOracle(newcomer);
    }

    function test_removeOracle_twiceReverts() public {
        vm.startPrank(admin);
        hub.removeOracle(oracles[0]);
        vm.expectRevert(abi.encodeWithSelector(IMembership.RoleNotGranted.selector, oracles[0]));
        hub.removeOracle(oracles[0]);
        vm.stopPrank();
    }

    function test_removeOracle_onlyOwner() public {
        vm.expectRevert(ownerError(oracles[0]));
        vm.prank(oracles[0]);
        hub.removeOracle(oracles[1]);
    }

    function test_oracle_readdBumpsEpochAgain() public {
        vm.startPrank(admin);
        hub.removeOracle(oracles[0]);
        hub.addOracle(oracles[0]);
        vm.stopPrank();
        (uint256 size,, uint64 epoch) = hub.committee();
        vm.assertEq(size, 3, "size back");
        vm.assertEq(uint256(epoch), 6, "two more epochs");
    }

    // ---------------------------------------------------------------- threshold

    function test_setThreshold() public {
        vm.expectEmit(false, false, false, true, address(hub));
        emit IMembership.ThresholdChanged(3, 5);
        vm.prank(admin);
        hub.setThreshold(3);
        (uint256 size, uint256 threshold, uint64 epoch) = hub.committee();
        vm.assertEq(size, 3, "size");
        vm.assertEq(threshold, 3, "k");
        vm.assertEq(uint256(epoch), 5, "epoch");
    }

    function test_setThreshold_sameValueStillBumpsEpoch() public {
        vm.prank(admin);
        hub.setThreshold(2);
        (,, uint64 epoch) = hub.committee();
        vm.assertEq(uint256(epoch), 5, "epoch");
    }

    function test_setThreshold_revertsBelowTwo() public {
        vm.startPrank(admin);
        vm.expectRevert(abi.encodeWithSelector(IMembership.InvalidThreshold.selector, 1, 3));
        hub.setThreshold(1);
        vm.expectRevert(abi.encodeWithSelector(IMembership.InvalidThreshold.selector, 0, 3));
        hub.setThreshold(0);
        vm.stopPrank();
    }

    function test_setThreshold_revertsAboveSize() public {
        vm.expectRevert(abi.encodeWithSelector(IMembership.InvalidThreshold.selector, 4, 3));
        vm.prank(admin);
        hub.setThreshold(4);
    }

    function test_setThreshold_revertsNoMajority() public {
        address[] memory added = new address[](1);
        added[0] = newcomer;
        vm.startPrank(admin);
        hub.updateCommittee(added, new address[](0), 3); // n = 4
        vm.expectRevert(abi.encodeWithSelector(IMembership.InvalidThreshold.selector, 2, 4));
        hub.setThreshold(2);
        hub.setThreshold(3);
        vm.stopPrank();
        (, uint256 threshold,) = hub.committee();
        vm.assertEq(threshold, 3, "3 of 4");
    }

    function test_setThreshold_revertsHuge() public {
        vm.expectRevert(abi.encodeWithSelector(IMembership.InvalidThreshold.selector, type(uint256).max, 3));
        vm.prank(admin);
        hub.setThreshold(type(uint256).max);
    }

    function test_setThreshold_onlyOwner() public {
        vm.expectRevert(ownerError(oracles[0]));
        vm.prank(oracles[0]);
        hub.setThreshold(3);
    }

    /// @dev 2 <= k <= n and 2k > n, for every committee size up to 12.
    function testFuzz_setThreshold(uint8 sizeSeed, uint256 threshold) public {
        uint256 size = bound(sizeSeed, 0, 12);
        SettlementHub h = new SettlementHub(admin);
        vm.startPrank(admin);
        for (uint256 i; i < size; ++i) {
            h.addOracle(address(uint160(0x7000 + i)));
        }
        threshold = bound(threshold, 0, 14);
        bool valid = threshold >= 2 && threshold <= size && 2 * threshold > size;
        if (!valid) {
            vm.expectRevert(abi.encodeWithSelector(IMembership.InvalidThreshold.selector, threshold, size));
        }
        h.setThreshold(threshold);
        vm.stopPrank();
        (, uint256 k,) = h.committee();
        vm.assertEq(k, valid ? threshold : 0, "threshold stored only when valid");
    }

    // ---------------------------------------------------------------- auditors

    function test_addAuditor() public {
        vm.expectEmit(true, false, false, true, address(hub));
        emit IMembership.AuditorAdded(newcomer);
        vm.prank(admin);
        hub.addAuditor(newcomer);
        vm.assertTrue(hub.isAuditor(newcomer), "auditor");
        vm.assertTrue(hub.isAuditor(auditor), "fixture auditor");
        (,, uint64 epoch) = hub.committee();
        vm.assertEq(uint256(epoch), 4, "auditors do not touch the committee");
    }

    function test_addAuditor_revertsZeroAddress() public {
        vm.expectRevert(abi.encodeWithSelector(IMembership.ZeroAddress.selector));
        vm.prank(admin);
        hub.addAuditor(address(0));
    }

    function test_addAuditor_revertsAlreadyGranted() public {
        vm.expectRevert(abi.encodeWithSelector(IMembership.RoleAlreadyGranted.selector, auditor));
        vm.prank(admin);
        hub.addAuditor(auditor);
    }

    function test_addAuditor_onlyOwner() public {
        vm.expectRevert(ownerError(auditor));
        vm.prank(auditor);
        hub.addAuditor(newcomer);
    }

    function test_removeAuditor() public {
        vm.expectEmit(true, false, false, true, address(hub));
        emit IMembership.AuditorRemoved(auditor);
        vm.prank(admin);
        hub.removeAuditor(auditor);
        vm.assertFalse(hub.isAuditor(auditor), "revoked");
    }

    function test_removeAuditor_revertsNotGranted() public {
        vm.expectRevert(abi.encodeWithSelector(IMembership.RoleNotGranted.selector, newcomer));
        vm.prank(admin);
        hub.removeAuditor(newcomer);
    }

    function test_removeAuditor_onlyOwner() public {
        vm.expectRevert(ownerError(auditor));
        vm.prank(auditor);
        hub.removeAuditor(auditor);
    }

    function test_auditorCannotWrite() public {
        vm.startPrank(auditor);
        vm.expectRevert(ownerError(auditor));
        hub.fund(banks[0], SGD, 1);
        vm.expectRevert(abi.encodeWithSelector(IMembership.NotActiveParticipant.selector, auditor));
        hub.submit(input(banks[0], 1, bytes32(uint256(1))));
        vm.stopPrank();
    }

    // ---------------------------------------------------------------- identifiers (BIC, LEI)

    bytes11 internal constant BIC_A = bytes11("DBSSSGSGXXX");
    bytes11 internal constant BIC_B = bytes11("OCBCSGSGXXX");
    bytes20 internal constant LEI_A = bytes20("549300QHV1TXQG2IO473");

    function test_setParticipantIdentifiers_setsAndLooksUp() public {
        vm.expectEmit(true, false, false, true, address(hub));
        emit IMembership.ParticipantIdentifiersSet(banks[0], BIC_A, LEI_A);
        vm.prank(admin);
        hub.setParticipantIdentifiers(banks[0], BIC_A, LEI_A);
        (bytes11 bic, bytes20 lei) = hub.identifiersOf(banks[0]);
        vm.assertEq(bytes32(bic), bytes32(BIC_A), "bic");
        vm.assertEq(bytes32(lei), bytes32(LEI_A), "lei");
        vm.assertEq(hub.participantByIdentifier(BIC_A, 0), banks[0], "by bic");
        vm.assertEq(hub.participantByIdentifier(0, LEI_A), banks[0], "by lei");
        vm.assertEq(hub.participantByIdentifier(BIC_B, 0), address(0), "unknown bic");
    }

    function test_setParticipantIdentifiers_replacingReleasesTheOldOnes() public {
        vm.startPrank(admin);
        hub.setParticipantIdentifiers(banks[0], BIC_A, LEI_A);
        hub.setParticipantIdentifiers(banks[0], BIC_B, 0);
        vm.assertEq(hub.participantByIdentifier(BIC_A, 0), address(0), "old bic released");
        vm.assertEq(hub.participantByIdentifier(0, LEI_A), address(0), "old lei released");
        vm.assertEq(hub.participantByIdentifier(BIC_B, 0), banks[0], "new bic");
        hub.setParticipantIdentifiers(banks[1], BIC_A, LEI_A); // free again
        vm.assertEq(hub.participantByIdentifier(BIC_A, 0), banks[1], "reused");
        vm.stopPrank();
    }

    function test_setParticipantIdentifiers_sameValuesAgainIsANoOpButEvented() public {
        vm.startPrank(admin);
        hub.setParticipantIdentifiers(banks[0], BIC_A, LEI_A);
        vm.expectEmit(true, false, false, true, address(hub));
        emit IMembership.ParticipantIdentifiersSet(banks[0], BIC_A, LEI_A);
        hub.setParticipantIdentifiers(banks[0], BIC_A, LEI_A);
        vm.stopPrank();
        vm.assertEq(hub.participantByIdentifier(BIC_A, 0), banks[0], "still held");
    }

    function test_setParticipantIdentifiers_revertsTaken() public {
        vm.startPrank(admin);
        hub.setParticipantIdentifiers(banks[0], BIC_A, LEI_A);
        vm.expectRevert(abi.encodeWithSelector(IMembership.BicTaken.selector, BIC_A, banks[0]));
        hub.setParticipantIdentifiers(banks[1], BIC_A, 0);
        vm.expectRevert(abi.encodeWithSelector(IMembership.LeiTaken.selector, LEI_A, banks[0]));
        hub.setParticipantIdentifiers(banks[1], BIC_B, LEI_A);
        vm.stopPrank();
        vm.assertEq(hub.participantByIdentifier(BIC_B, 0), address(0), "nothing half-written");
    }

    function test_setParticipantIdentifiers_revertsUnknownAndOnlyOwner() public {
        vm.expectRevert(abi.encodeWithSelector(IMembership.UnknownParticipant.selector, newcomer));
        vm.prank(admin);
        hub.setParticipantIdentifiers(newcomer, BIC_A, 0);
        vm.expectRevert(ownerError(stranger));
        vm.prank(stranger);
        hub.setParticipantIdentifiers(banks[0], BIC_A, 0);
    }

    function testFuzz_setParticipantIdentifiers_eachIdentifierHasOneHolder(bytes11 b1, bytes11 b2, uint8 who)
        public
    {
        vm.assume(b1 != 0 && b2 != 0 && b1 != b2);
        address first = banks[0];
        address second = banks[1 + (who % (banks.length - 1))];
        vm.startPrank(admin);
        hub.setParticipantIdentifiers(first, b1, 0);
        hub.setParticipantIdentifiers(first, b2, 0);
        hub.setParticipantIdentifiers(second, b1, 0);
        vm.stopPrank();
        vm.assertEq(hub.participantByIdentifier(b1, 0), second, "b1 moved");
        vm.assertEq(hub.participantByIdentifier(b2, 0), first, "b2 kept");
    }
}
