// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {HubTest, Model, Obligation} from "../utils/HubTest.sol";
import {ClearingResult} from "../utils/HubFixture.sol";
import {Vm} from "../utils/Vm.sol";
import {IMembership} from "../../../contracts/interfaces/IMembership.sol";
import {IClearingCycles} from "../../../contracts/interfaces/IClearingCycles.sol";
import {
    MAX_AMOUNT,
    Cycle,
    CycleStatus,
    NetPosition,
    NettingStrategy,
    ObligationKind,
    ParticipantKind
} from "../../../contracts/types/SettlementTypes.sol";

contract ClearingCyclesTest is HubTest {
    address internal stranger = address(0x5757);
    bytes3 internal constant EUR = "EUR";
    uint64 internal constant DURATION = 3600;

    // ============================================================================ helpers

    function _batch(Obligation[] memory os, bool withAccounts) internal pure returns (bytes memory b) {
        for (uint256 i; i < os.length; ++i) {
            b = bytes.concat(b, Model.packed(os[i], withAccounts));
        }
    }

    function _ob(address payer, address payee, ObligationKind kind, uint256 amount, uint256 ref)
        internal
        view
        returns (Obligation memory)
    {
        return obligation(payer, payee, SGD, kind, amount, bytes32(ref));
    }

    function _withAccounts(Obligation memory o, uint256 salt) internal pure returns (Obligation memory) {
        o.payerAccount = keccak256(abi.encode("payer-account", salt));
        o.payeeAccount = keccak256(abi.encode("payee-account", salt));
        return o;
    }

    /// @dev Three valid interbank obligations from banks[0] (refs base, base+1, base+2).
    function _three(uint256 base) internal view returns (Obligation[] memory os) {
        os = new Obligation[](3);
        os[0] = _ob(banks[0], banks[1], ObligationKind.Interbank, 100, base);
        os[1] = _ob(banks[0], wallets[0], ObligationKind.WalletTopUp, 200, base + 1);
        os[2] = _ob(banks[0], banks[2], ObligationKind.Interbank, 300, base + 2);
        os[2].currency = USD;
    }

    function _submitBatchExpectRevert(address payer, bytes memory batch, bytes memory err) internal {
        vm.expectRevert(err);
        vm.prank(payer);
        hub.submitBatch(batch);
    }

    function _count(uint64 id) internal view returns (uint256) {
        return hub.cycle(id).count;
    }

    function _hasTopic(Vm.Log[] memory logs, bytes32 topic0) internal view returns (bool) {
        for (uint256 i; i < logs.length; ++i) {
            if (logs[i].emitter == address(hub) && logs[i].topics[0] == topic0) return true;
        }
        return false;
    }

    function _used(address payer, bytes32 ref) internal view returns (bool) {
        bytes32[] memory refs = new bytes32[](1);
        refs[0] = ref;
        return hub.referencesUsed(payer, refs)[0] & 1 == 1;
    }

    // ============================================================================ initial state

    function test_initialState() public view {
        vm.assertEq(uint256(hub.currentCycleId()), 1, "cycle 1 open from deployment");
        vm.assertEq(uint256(hub.nextCycleToFinalize()), 1, "next to finalise");
        Cycle memory c = hub.cycle(1);
        vm.assertEq(uint256(c.status), uint256(CycleStatus.Open), "open");
        vm.assertEq(uint256(c.openedAt), 1, "opened at deployment");
        vm.assertEq(uint256(c.count), 0, "empty");
        (bytes32 carry, uint64 carried) = hub.carry();
        vm.assertEq(carry, bytes32(0), "no carry");
        vm.assertEq(uint256(carried), 0, "no carry");
        (uint64 duration, uint64 timeout, NettingStrategy strategy) = hub.cycleConfig();
        vm.assertEq(uint256(duration) + uint256(timeout) + uint256(strategy), 0, "default config");
        vm.assertEq(uint256(hub.cycle(2).status), uint256(CycleStatus.None), "cycle 2 does not exist yet");
    }

    // ============================================================================ submit

    function test_submit_recordsHashesAndEmits() public {
        Obligation memory o =
            _withAccounts(_ob(banks[0], wallets[1], ObligationKind.WalletTopUp, 12_345, 77), 1);
        vm.expectEmit(true, true, false, true, address(hub));
        emit IClearingCycles.ObligationSubmitted(
            banks[0],
            wallets[1],
            1,
            o.ref,
            SGD,
            ObligationKind.WalletTopUp,
            12_345,
            o.payerAccount,
            o.payeeAccount
        );
        uint64 id = submitOne(o);
        vm.assertEq(uint256(id), 1, "cycle");
        Cycle memory c = hub.cycle(1);
        vm.assertEq(uint256(c.count), 1, "count");
        vm.assertEq(c.submissionsHash, Model.step(bytes32(0), o), "rolling hash of one");
        vm.assertEq(
            c.submissionsHash,
            keccak256(
                abi.encodePacked(
                    bytes32(0),
                    banks[0],
                    wallets[1],
                    SGD,
                    uint8(1),
                    uint256(12_345),
                    o.ref,
                    o.payerAccount,
                    o.payeeAccount
                )
            ),
            "documented formula"
        );
        vm.assertTrue(_used(banks[0], o.ref), "reference used");
        vm.assertFalse(_used(banks[1], o.ref), "per payer");
    }

    function test_submit_rollingHashOverSeveralPayers() public {
        Obligation[] memory os = new Obligation[](4);
        os[0] = _ob(banks[0], banks[1], ObligationKind.Interbank, 1, 1);
        os[1] = _withAccounts(_ob(wallets[0], banks[3], ObligationKind.WalletWithdrawal, 2, 1), 2);
        os[2] = _ob(wallets[1], wallets[2], ObligationKind.WalletToWallet, 3, 1);
        os[3] = _ob(banks[4], wallets[0], ObligationKind.Interbank, 4, 2);
        os[3].currency = USD;
        for (uint256 i; i < os.length; ++i) {
            submitOne(os[i]);
        }
        Cycle memory c = hub.cycle(1);
        vm.assertEq(uint256(c.count), 4, "count");
        vm.assertEq(c.submissionsHash, Model.rolling(bytes32(0), os), "rolling hash");
    }

    function test_submit_revertsNotActiveParticipant() public {
        vm.expectRevert(abi.encodeWithSelector(IMembership.NotActiveParticipant.selector, stranger));
        vm.prank(stranger);
        hub.submit(input(banks[0], 1, bytes32(uint256(1))));
    }

    function test_submit_revertsZeroReference() public {
        vm.expectRevert(abi.encodeWithSelector(IClearingCycles.ZeroReference.selector, 0));
        vm.prank(banks[0]);
        hub.submit(input(banks[1], 1, bytes32(0)));
    }

    function test_submit_revertsInactivePayee() public {
        vm.prank(admin);
        hub.suspendParticipant(banks[3], "s");
        address[3] memory payees = [stranger, address(0), banks[3]];
        for (uint256 i; i < payees.length; ++i) {
            bytes32 ref = bytes32(i + 1);
            vm.expectRevert(abi.encodeWithSelector(IClearingCycles.InactivePayee.selector, ref, payees[i]));
            vm.prank(banks[0]);
            hub.submit(input(payees[i], 1, ref));
        }
    }

    function test_submit_revertsUnknownCurrency() public {
        bytes3[3] memory codes = [EUR, bytes3(0), bytes3("sgd")];
        for (uint256 i; i < codes.length; ++i) {
            Obligation memory o = _ob(banks[0], banks[1], ObligationKind.Interbank, 1, i + 1);
            o.currency = codes[i];
            vm.expectRevert(
                abi.encodeWithSelector(IClearingCycles.UnknownObligationCurrency.selector, o.ref, codes[i])
            );
            submitOne(o);
        }
    }

    function test_submit_revertsZeroAmount() public {
        vm.expectRevert(
            abi.encodeWithSelector(IClearingCycles.ZeroObligationAmount.selector, bytes32(uint256(5)))
        );
        vm.prank(banks[0]);
        hub.submit(input(banks[1], 0, bytes32(uint256(5))));
    }

    function test_submit_revertsPayerIsPayee() public {
        vm.expectRevert(abi.encodeWithSelector(IClearingCycles.PayerIsPayee.selector, bytes32(uint256(5))));
        vm.prank(banks[0]);
        hub.submit(input(banks[0], 1, bytes32(uint256(5))));
    }

    /// @dev `submit` takes the kind as an ABI enum: an out-of-range value fails decoding (no error data),
    ///      so `InvalidKind` is only reachable through `submitBatch`.
    function test_submit_kindOutOfRangeFailsDecoding() public {
        bytes memory data = abi.encodeWithSelector(
            hub.submit.selector,
            banks[1],
            SGD,
            uint256(4),
            uint256(1),
            bytes32(uint256(1)),
            bytes32(0),
            bytes32(0)
        );
        vm.prank(banks[0]);
        (bool ok, bytes memory ret) = address(hub).call(data);
        vm.assertFalse(ok, "refused");
        vm.assertEq(ret.length, 0, "decoder revert");
        vm.assertEq(_count(1), 0, "nothing recorded");
    }

    function test_submit_revertsDuplicateReference() public {
        vm.startPrank(banks[0]);
        hub.submit(input(banks[1], 1, bytes32(uint256(9))));
        vm.expectRevert(
            abi.encodeWithSelector(IClearingCycles.DuplicateReference.selector, banks[0], bytes32(uint256(9)))
        );
        hub.submit(input(banks[2], 2, bytes32(uint256(9))));
        vm.stopPrank();
        // another payer may use the same reference
        vm.prank(banks[1]);
        hub.submit(input(banks[0], 1, bytes32(uint256(9))));
        vm.assertEq(_count(1), 2, "count");
    }

    function test_submit_duplicateAcrossCycles() public {
        vm.prank(banks[0]);
        hub.submit(input(banks[1], 1, bytes32(uint256(9))));
        closeAsAdmin();
        vm.expectRevert(
            abi.encodeWithSelector(IClearingCycles.DuplicateReference.selector, banks[0], bytes32(uint256(9)))
        );
        vm.prank(banks[0]);
        hub.submit(input(banks[1], 1, bytes32(uint256(9))));
    }

    /// @dev The checks run in the documented order: reference, payee, currency, amount, payer, kind, duplicate.
    function test_submit_checkOrder() public {
        Obligation memory o = _ob(banks[0], stranger, ObligationKind.WalletTopUp, 0, 0);
        o.currency = EUR;
        vm.expectRevert(abi.encodeWithSelector(IClearingCycles.ZeroReference.selector, 0));
        submitOne(o);
        o.ref = bytes32(uint256(1));
        vm.expectRevert(abi.encodeWithSelector(IClearingCycles.InactivePayee.selector, o.ref, stranger));
        submitOne(o);
        o.payee = banks[0];
        vm.expectRevert(
            abi.encodeWithSelector(IClearingCycles.UnknownObligationCurrency.selector, o.ref, EUR)
        );
        submitOne(o);
        o.currency = SGD;
        vm.expectRevert(abi.encodeWithSelector(IClearingCycles.ZeroObligationAmount.selector, o.ref));
        submitOne(o);
        o.amount = 1;
        vm.expectRevert(abi.encodeWithSelector(IClearingCycles.PayerIsPayee.selector, o.ref));
        submitOne(o);
        o.payee = banks[1];
        vm.expectRevert(
            abi.encodeWithSelector(IClearingCycles.KindMismatch.selector, o.ref, ObligationKind.WalletTopUp)
        );
        submitOne(o);
        o.kind = ObligationKind.Interbank;
        submitOne(o);
        vm.expectRevert(abi.encodeWithSelector(IClearingCycles.DuplicateReference.selector, banks[0], o.ref));
        submitOne(o);
    }

    function test_submit_revertsWhenPaused() public {
        vm.prank(admin);
        hub.pause();
        vm.expectRevert(abi.encodeWithSignature("EnforcedPause()"));
        vm.prank(banks[0]);
        hub.submit(input(banks[1], 1, bytes32(uint256(1))));
    }

    /// @dev The largest amount the protocol takes (MAX_AMOUNT; above it: Bounds.t.sol), the top reference.
    function test_submit_largeAmountAndHighReference() public {
        Obligation memory o = _ob(banks[0], banks[1], ObligationKind.Interbank, MAX_AMOUNT, 0);
        o.ref = bytes32(type(uint256).max);
        submitOne(o);
        vm.assertEq(hub.cycle(1).submissionsHash, Model.step(bytes32(0), o), "hash");
        vm.assertTrue(_used(banks[0], o.ref), "top bit of the top word");
    }

    // ============================================================================ kind rules

    /// @dev Interbank between any pair; top-up Bank->WP; withdrawal WP->Bank; wallet-to-wallet WP->WP.
    ///      Checked through both `submit` and `submitBatch`.
    function test_kindRules_matrix() public {
        address[2] memory byKind = [banks[0], wallets[0]];
        address[2] memory otherByKind = [banks[1], wallets[1]];
        uint256 ref = 1000;
        for (uint256 payerIsWallet; payerIsWallet < 2; ++payerIsWallet) {
            for (uint256 payeeIsWallet; payeeIsWallet < 2; ++payeeIsWallet) {
                address payer = byKind[payerIsWallet];
                address payee = otherByKind[payeeIsWallet];
                for (uint8 k; k < 4; ++k) {
                    bool allowed = k == 0 || k == 2 * payerIsWallet + payeeIsWallet;
                    for (uint256 viaBatch; viaBatch < 2; ++viaBatch) {
                        Obligation memory o = _ob(payer, payee, ObligationKind(k), 10, ++ref);
                        uint256 before = _count(1);
                        if (!allowed) {
                            vm.expectRevert(
                                abi.encodeWithSelector(
                                    IClearingCycles.KindMismatch.selector, o.ref, ObligationKind(k)
                                )
                            );
                        }
                        if (viaBatch == 0) submitOne(o);
                        else submitPacked(one(o), false);
                        vm.assertEq(_count(1), before + (allowed ? 1 : 0), "accepted iff allowed");
                    }
                }
            }
        }
        // 4 pairs x (interbank + exactly one wallet kind for every pair but bank->bank) x 2 paths
        vm.assertEq(_count(1), 2 * (4 + 3), "accepted count");
    }

    // ============================================================================ submitBatch: valid

    function test_submitBatch_shortRecords() public {
        Obligation[] memory os = _three(1);
        bytes memory batch = _batch(os, false);
        vm.assertEq(batch.length, 3 * 88, "88-byte records");
        vm.recordLogs();
        vm.prank(banks[0]);
        uint64 id = hub.submitBatch(batch);
        Obligation[] memory seen = decodeSubmitted(vm.getRecordedLogs());
        vm.assertEq(uint256(id), 1, "cycle");
        vm.assertEq(_count(1), 3, "count");
        vm.assertEq(hub.cycle(1).submissionsHash, Model.rolling(bytes32(0), os), "hash");
        vm.assertEq(seen.length, 3, "events");
        for (uint256 i; i < 3; ++i) {
            os[i].origin = 1;
            vm.assertEq(
                keccak256(abi.encode(seen[i])), keccak256(abi.encode(os[i])), "event carries every field"
            );
        }
    }

    function test_submitBatch_fullRecords() public {
        Obligation[] memory os = _three(1);
        for (uint256 i; i < os.length; ++i) {
            _withAccounts(os[i], i);
        }
        bytes memory batch = _batch(os, true);
        vm.assertEq(batch.length, 3 * 152, "152-byte records");
        vm.recordLogs();
        vm.prank(banks[0]);
        hub.submitBatch(batch);
        Obligation[] memory seen = decodeSubmitted(vm.getRecordedLogs());
        vm.assertEq(_count(1), 3, "count");
        vm.assertEq(
            hub.cycle(1).submissionsHash, Model.rolling(bytes32(0), os), "hash over canonical records"
        );
        for (uint256 i; i < 3; ++i) {
            vm.assertEq(seen[i].payerAccount, os[i].payerAccount, "payer account in event");
            vm.assertEq(seen[i].payeeAccount, os[i].payeeAccount, "payee account in event");
            vm.assertEq(uint256(seen[i].kind), uint256(os[i].kind), "plain kind in event");
        }
    }

    function test_submitBatch_mixedRecordSizes() public {
        Obligation[] memory os = new Obligation[](5);
        bytes memory batch;
        for (uint256 i; i < os.length; ++i) {
            os[i] = _ob(banks[1], i % 2 == 0 ? banks[2] : wallets[2], ObligationKind(i % 2), 1 + i, 50 + i);
            bool full = i == 1 || i == 2 || i == 4;
            if (full) _withAccounts(os[i], i);
            batch = bytes.concat(batch, Model.packed(os[i], full));
        }
        vm.assertEq(batch.length, 2 * 88 + 3 * 152, "mixed sizes");
        vm.prank(banks[1]);
        hub.submitBatch(batch);
        vm.assertEq(_count(1), 5, "count");
        vm.assertEq(hub.cycle(1).submissionsHash, Model.rolling(bytes32(0), os), "hash");
    }

    /// @dev A 152-byte record whose account hashes are zero hashes like the 88-byte record.
    function test_submitBatch_fullRecordWithZeroAccountsEqualsShort() public {
        Obligation[] memory os = _three(1);
        uint256 snap = vm.snapshotState();
        submitPacked(os, false);
        bytes32 short = hub.cycle(1).submissionsHash;
        vm.revertToState(snap);
        submitPacked(os, true);
        vm.assertEq(hub.cycle(1).submissionsHash, short, "same canonical record");
        vm.assertEq(short, Model.rolling(bytes32(0), os), "formula");
    }

    /// @dev `submit` and `submitBatch` advance the same rolling hash for the same obligations.
    function test_submitBatch_matchesSubmit() public {
        Obligation[] memory os = _three(1);
        _withAccounts(os[1], 9);
        uint256 snap = vm.snapshotState();
        for (uint256 i; i < os.length; ++i) {
            submitOne(os[i]);
        }
        bytes32 viaSubmit = hub.cycle(1).submissionsHash;
        vm.revertToState(snap);
        bytes memory batch =
            bytes.concat(Model.packed(os[0], false), Model.packed(os[1], true), Model.packed(os[2], false));
        vm.prank(banks[0]);
        hub.submitBatch(batch);
        vm.assertEq(hub.cycle(1).submissionsHash, viaSubmit, "identical");
        vm.assertEq(viaSubmit, Model.rolling(bytes32(0), os), "formula");
    }

    /// @dev An observer recomputes submissionsHash from the ObligationSubmitted events alone.
    function test_rollingHash_recomputedFromEvents() public {
        vm.recordLogs();
        submitOne(_withAccounts(_ob(banks[3], wallets[0], ObligationKind.WalletTopUp, 5, 1), 3));
        submitPacked(_three(10), false);
        Obligation[] memory w = new Obligation[](2);
        w[0] = _withAccounts(_ob(wallets[2], wallets[1], ObligationKind.WalletToWallet, 6, 1), 4);
        w[1] = _ob(wallets[2], banks[4], ObligationKind.WalletWithdrawal, 7, 2);
        submitPacked(w, true);
        submitOne(_ob(banks[4], banks[3], ObligationKind.Interbank, 8, 1));
        Obligation[] memory seen = decodeSubmitted(vm.getRecordedLogs());
        vm.assertEq(seen.length, 7, "events");
        vm.assertEq(hub.cycle(1).submissionsHash, Model.rolling(bytes32(0), seen), "from events");
        vm.assertEq(_count(1), 7, "count");
    }

    function test_submitBatch_singleRecordBoundaries() public {
        Obligation memory o = _ob(banks[0], banks[1], ObligationKind.Interbank, 1, 1);
        submitPacked(one(o), false);
        Obligation memory p = _withAccounts(_ob(banks[0], banks[1], ObligationKind.Interbank, 1, 2), 1);
        submitPacked(one(p), true);
        vm.assertEq(_count(1), 2, "88 and 152 alone");
        vm.assertEq(hub.cycle(1).submissionsHash, Model.step(Model.step(bytes32(0), o), p), "hash");
    }

    // ============================================================================ submitBatch: failures

    function test_submitBatch_malformed() public {
        bytes memory good = _batch(_three(1), false);
        bytes memory full =
            Model.packed(_withAccounts(_ob(banks[0], banks[1], ObligationKind.Interbank, 1, 9), 1), true);
        bytes[6] memory bad = [
            bytes(""),
            _slice(good, 0, 87),
            _slice(good, 0, 88 + 50),
            _slice(full, 0, 88), // flag says 152, only 88 present
            bytes.concat(full, _slice(full, 0, 151)),
            bytes.concat(good, new bytes(1))
        ];
        for (uint256 i; i < bad.length; ++i) {
            _submitBatchExpectRevert(
                banks[0],
                bad[i],
                abi.encodeWithSelector(IClearingCycles.MalformedBatch.selector, bad[i].length)
            );
        }
        vm.assertEq(_count(1), 0, "nothing recorded");
        vm.assertFalse(_used(banks[0], bytes32(uint256(1))), "valid prefix not recorded");
    }

    /// @dev The length check runs first, before membership.
    function test_submitBatch_malformedBeforeMembership() public {
        _submitBatchExpectRevert(
            stranger, "", abi.encodeWithSelector(IClearingCycles.MalformedBatch.selector, 0)
        );
        _submitBatchExpectRevert(
            stranger,
            _batch(_three(1), false),
            abi.encodeWithSelector(IMembership.NotActiveParticipant.selector, stranger)
        );
    }

    function test_submitBatch_zeroReferenceReportsIndex() public {
        Obligation[] memory os = _three(1);
        os[2].ref = 0;
        _submitBatchExpectRevert(
            banks[0], _batch(os, false), abi.encodeWithSelector(IClearingCycles.ZeroReference.selector, 2)
        );
        os[2].ref = bytes32(uint256(3));
        os[0].ref = 0;
        _submitBatchExpectRevert(
            banks[0], _batch(os, true), abi.encodeWithSelector(IClearingCycles.ZeroReference.selector, 0)
        );
    }

    function test_submitBatch_zeroAmount() public {
        Obligation[] memory os = _three(1);
        os[1].amount = 0;
        _submitBatchExpectRevert(
            banks[0],
            _batch(os, false),
            abi.encodeWithSelector(IClearingCycles.ZeroObligationAmount.selector, os[1].ref)
        );
    }

    function test_submitBatch_payerIsPayee() public {
        Obligation[] memory os = _three(1);
        os[2].payee = banks[0];
        _submitBatchExpectRevert(
            banks[0],
            _batch(os, false),
            abi.encodeWithSelector(IClearingCycles.PayerIsPayee.selector, os[2].ref)
        );
    }

    function test_submitBatch_invalidKind() public {
        Obligation[] memory os = _three(1);
        bytes memory head = _batch(os, false);
        bytes32 ref = bytes32(uint256(99));
        // kind 4 in a short record, kind 4 and kind 127 with the account flag
        bytes memory k4 = abi.encodePacked(banks[1], SGD, uint8(4), uint256(1), ref);
        bytes memory k4full =
            abi.encodePacked(banks[1], SGD, uint8(0x84), uint256(1), ref, bytes32("a"), bytes32("b"));
        bytes memory k127 =
            abi.encodePacked(banks[1], SGD, uint8(0xff), uint256(1), ref, bytes32("a"), bytes32("b"));
        bytes memory k127short = abi.encodePacked(banks[1], SGD, uint8(0x7f), uint256(1), ref);
        _submitBatchExpectRevert(
            banks[0],
            bytes.concat(head, k4),
            abi.encodeWithSelector(IClearingCycles.InvalidKind.selector, ref, uint8(4))
        );
        _submitBatchExpectRevert(
            banks[0],
            bytes.concat(head, k4full),
            abi.encodeWithSelector(IClearingCycles.InvalidKind.selector, ref, uint8(4))
        );
        _submitBatchExpectRevert(
            banks[0],
            bytes.concat(k127, head),
            abi.encodeWithSelector(IClearingCycles.InvalidKind.selector, ref, uint8(127))
        );
        _submitBatchExpectRevert(
            banks[0], k127short, abi.encodeWithSelector(IClearingCycles.InvalidKind.selector, ref, uint8(127))
        );
    }

    function test_submitBatch_inactivePayee() public {
        vm.prank(admin);
        hub.suspendParticipant(banks[3], "s");
        address[2] memory payees = [stranger, banks[3]];
        for (uint256 i; i < payees.length; ++i) {
            Obligation[] memory os = _three(1);
            os[1].payee = payees[i];
            os[1].kind = ObligationKind.Interbank;
            _submitBatchExpectRevert(
                banks[0],
                _batch(os, false),
                abi.encodeWithSelector(IClearingCycles.InactivePayee.selector, os[1].ref, payees[i])
            );
        }
    }

    /// @dev address(0) is never a member: refused as the first record, and after a cached payee that
    ///      shares its cache slot (low nibble 0).
    function test_submitBatch_zeroAddressPayee() public {
        Obligation memory z = _ob(banks[1], address(0), ObligationKind.Interbank, 1, 1);
        _submitBatchExpectRevert(
            banks[1],
            _batch(one(z), false),
            abi.encodeWithSelector(IClearingCycles.InactivePayee.selector, z.ref, address(0))
        );
        Obligation[] memory os = new Obligation[](2);
        os[0] = _ob(banks[1], banks[0], ObligationKind.Interbank, 1, 2); // 0xB000: cache slot 0
        os[1] = z;
        _submitBatchExpectRevert(
            banks[1],
            _batch(os, true),
            abi.encodeWithSelector(IClearingCycles.InactivePayee.selector, z.ref, address(0))
        );
        // a payee in another slot first leaves slot 0 empty
        os[0] = _ob(banks[1], banks[2], ObligationKind.Interbank, 1, 2);
        _submitBatchExpectRevert(
            banks[1],
            _batch(os, false),
            abi.encodeWithSelector(IClearingCycles.InactivePayee.selector, z.ref, address(0))
        );
        vm.assertEq(_count(1), 0, "nothing recorded");
    }

    function test_submitBatch_unknownCurrency() public {
        bytes3[4] memory codes = [EUR, bytes3(0), bytes3("sgd"), bytes3(0xffffff)];
        for (uint256 i; i < codes.length; ++i) {
            // as the first record (nothing cached yet) and after SGD and USD records
            Obligation memory bad = _ob(banks[0], banks[1], ObligationKind.Interbank, 1, 100 + i);
            bad.currency = codes[i];
            _submitBatchExpectRevert(
                banks[0],
                _batch(one(bad), false),
                abi.encodeWithSelector(IClearingCycles.UnknownObligationCurrency.selector, bad.ref, codes[i])
            );
            Obligation[] memory os = concat(_three(1), one(bad));
            _submitBatchExpectRevert(
                banks[0],
                _batch(os, true),
                abi.encodeWithSelector(IClearingCycles.UnknownObligationCurrency.selector, bad.ref, codes[i])
            );
        }
        vm.assertEq(_count(1), 0, "nothing recorded");
    }

    function test_submitBatch_kindMismatch() public {
        Obligation[] memory os = _three(1);
        os[2].kind = ObligationKind.WalletWithdrawal; // bank payer
        _submitBatchExpectRevert(
            banks[0],
            _batch(os, false),
            abi.encodeWithSelector(
                IClearingCycles.KindMismatch.selector, os[2].ref, ObligationKind.WalletWithdrawal
            )
        );
    }

    /// @dev With several faults in one record the batch reports them in its loop order.
    function test_submitBatch_checkOrder() public {
        Obligation memory o = _ob(banks[0], banks[0], ObligationKind.WalletToWallet, 0, 0);
        o.currency = EUR;
        bytes memory err = abi.encodeWithSelector(IClearingCycles.ZeroReference.selector, 0);
        _submitBatchExpectRevert(banks[0], _batch(one(o), false), err);
        o.ref = bytes32(uint256(1));
        _submitBatchExpectRevert(
            banks[0],
            _batch(one(o), false),
            abi.encodeWithSelector(IClearingCycles.ZeroObligationAmount.selector, o.ref)
        );
        o.amount = 1;
        _submitBatchExpectRevert(
            banks[0],
            _batch(one(o), false),
            abi.encodeWithSelector(IClearingCycles.PayerIsPayee.selector, o.ref)
        );
        o.payee = stranger;
        _submitBatchExpectRevert(
            banks[0],
            _batch(one(o), false),
            abi.encodeWithSelector(IClearingCycles.InactivePayee.selector, o.ref, stranger)
        );
        o.payee = banks[1];
        _submitBatchExpectRevert(
            banks[0],
            _batch(one(o), false),
            abi.encodeWithSelector(IClearingCycles.UnknownObligationCurrency.selector, o.ref, EUR)
        );
        o.currency = USD;
        _submitBatchExpectRevert(
            banks[0],
            _batch(one(o), false),
            abi.encodeWithSelector(
                IClearingCycles.KindMismatch.selector, o.ref, ObligationKind.WalletToWallet
            )
        );
        o.kind = ObligationKind.Interbank;
        submitPacked(one(o), false);
        _submitBatchExpectRevert(
            banks[0],
            _batch(one(o), false),
            abi.encodeWithSelector(IClearingCycles.DuplicateReference.selector, banks[0], o.ref)
        );
    }

    function test_submitBatch_revertsWhenPaused() public {
        vm.prank(admin);
        hub.pause();
        _submitBatchExpectRevert(
            banks[0], _batch(_three(1), false), abi.encodeWithSignature("EnforcedPause()")
        );
    }

    /// @dev All or nothing: a bad last record leaves no count, hash or reference bit behind.
    function test_submitBatch_atomic() public {
        Obligation[] memory os = _three(1);
        Obligation memory bad = _ob(banks[0], banks[1], ObligationKind.Interbank, 0, 4);
        _submitBatchExpectRevert(
            banks[0],
            _batch(concat(os, one(bad)), false),
            abi.encodeWithSelector(IClearingCycles.ZeroObligationAmount.selector, bad.ref)
        );
        Cycle memory c = hub.cycle(1);
        vm.assertEq(uint256(c.count), 0, "count");
        vm.assertEq(c.submissionsHash, bytes32(0), "hash");
        for (uint256 i; i < os.length; ++i) {
            vm.assertFalse(_used(banks[0], os[i].ref), "no reference bit");
        }
        submitPacked(os, false); // the same references are still free
        vm.assertEq(_count(1), 3, "accepted afterwards");
    }

    // ============================================================================ duplicates and bitmap words

    function test_duplicate_withinBatchAdjacent() public {
        Obligation[] memory os = _three(1);
        os[2].ref = os[1].ref;
        _submitBatchExpectRevert(
            banks[0],
            _batch(os, false),
            abi.encodeWithSelector(IClearingCycles.DuplicateReference.selector, banks[0], os[1].ref)
        );
    }

    /// @dev ref 5, then a reference in another bitmap word, then 5 again: the first word is written
    ///      back when the word changes and re-read when it comes back.
    function test_duplicate_withinBatchAcrossWordSwitch() public {
        Obligation[] memory os = _three(5);
        os[1].ref = bytes32(uint256(0x1005));
        os[2].ref = bytes32(uint256(5));
        _submitBatchExpectRevert(
            banks[0],
            _batch(os, false),
            abi.encodeWithSelector(IClearingCycles.DuplicateReference.selector, banks[0], bytes32(uint256(5)))
        );
        // and without the duplicate, all three words end up set
        os[2].ref = bytes32(uint256(0x2005));
        submitPacked(os, false);
        vm.assertTrue(_used(banks[0], bytes32(uint256(5))), "word 0");
        vm.assertTrue(_used(banks[0], bytes32(uint256(0x1005))), "word 0x10");
        vm.assertTrue(_used(banks[0], bytes32(uint256(0x2005))), "word 0x20");
    }

    function test_duplicate_acrossBatches() public {
        submitPacked(_three(1), false);
        Obligation[] memory again = _three(3); // refs 3, 4, 5: 3 was used
        _submitBatchExpectRevert(
            banks[0],
            _batch(again, true),
            abi.encodeWithSelector(IClearingCycles.DuplicateReference.selector, banks[0], bytes32(uint256(3)))
        );
    }

    function test_duplicate_betweenSubmitAndBatch() public {
        submitOne(_ob(banks[0], banks[1], ObligationKind.Interbank, 1, 2));
        _submitBatchExpectRevert(
            banks[0],
            _batch(_three(1), false),
            abi.encodeWithSelector(IClearingCycles.DuplicateReference.selector, banks[0], bytes32(uint256(2)))
        );
        submitPacked(_three(10), false);
        Obligation memory o = _ob(banks[0], banks[1], ObligationKind.Interbank, 1, 11);
        vm.expectRevert(abi.encodeWithSelector(IClearingCycles.DuplicateReference.selector, banks[0], o.ref));
        submitOne(o);
    }

    /// @dev References differing only in their last byte share one bitmap word; each keeps its own bit.
    function test_referencesSharingBitmapWord() public {
        Obligation[] memory os = new Obligation[](3);
        os[0] = _ob(banks[0], banks[1], ObligationKind.Interbank, 1, 0xAB00);
        os[1] = _ob(banks[0], banks[1], ObligationKind.Interbank, 1, 0xABFF);
        os[2] = _ob(banks[0], banks[1], ObligationKind.Interbank, 1, 0xAB7F);
        submitPacked(os, false);
        submitOne(_ob(banks[0], banks[1], ObligationKind.Interbank, 1, 0xAB80)); // same word, via submit
        submitOne(_ob(banks[0], banks[1], ObligationKind.Interbank, 1, 0xAC00)); // next word
        submitOne(_ob(banks[0], banks[1], ObligationKind.Interbank, 1, 0xAB00 | (1 << 255))); // same low bits, other word
        bytes32[] memory refs = new bytes32[](7);
        uint256[7] memory q = [uint256(0xAB00), 0xABFF, 0xAB7F, 0xAB80, 0xAC00, 0xAB01, 0xAAFF];
        for (uint256 i; i < 7; ++i) {
            refs[i] = bytes32(q[i]);
        }
        uint256 used = hub.referencesUsed(banks[0], refs)[0];
        vm.assertEq(used, 0x1f, "first five used, neighbours free");
        Obligation memory dup = _ob(banks[0], banks[2], ObligationKind.Interbank, 1, 0xABFF);
        vm.expectRevert(
            abi.encodeWithSelector(
                IClearingCycles.DuplicateReference.selector, banks[0], bytes32(uint256(0xABFF))
            )
        );
        submitOne(dup);
        _submitBatchExpectRevert(
            banks[0],
            _batch(one(_ob(banks[0], banks[2], ObligationKind.Interbank, 1, 0xAB80)), false),
            abi.encodeWithSelector(
                IClearingCycles.DuplicateReference.selector, banks[0], bytes32(uint256(0xAB80))
            )
        );
        // 256 references in one word, in one batch
        Obligation[] memory full = new Obligation[](256);
        for (uint256 i; i < 256; ++i) {
            full[i] = _ob(banks[1], banks[2], ObligationKind.Interbank, 1, 0x5500 + i);
        }
        submitPacked(full, false);
        bytes32[] memory all = new bytes32[](258);
        for (uint256 i; i < 258; ++i) {
            all[i] = bytes32(0x54FF + i);
        }
        uint256[] memory bits = hub.referencesUsed(banks[1], all);
        vm.assertEq(bits.length, 2, "two result words");
        vm.assertEq(bits[0], type(uint256).max - 1, "0x54FF free, 0x5500..0x55FE used");
        vm.assertEq(bits[1], 1, "0x55FF used, 0x5600 free");
    }

    function test_referencesUsed_layout() public {
        bytes32[] memory refs = new bytes32[](300);
        for (uint256 i; i < 300; ++i) {
            refs[i] = keccak256(abi.encode("ref", i));
        }
        Obligation[] memory os = new Obligation[](100);
        for (uint256 i; i < 100; ++i) {
            os[i] = obligation(banks[2], banks[3], SGD, ObligationKind.Interbank, 1, refs[3 * i]);
        }
        submitPacked(os, false);
        uint256[] memory used = hub.referencesUsed(banks[2], refs);
        vm.assertEq(used.length, 2, "ceil(300/256)");
        for (uint256 i; i < 300; ++i) {
            bool set = (used[i / 256] >> (i % 256)) & 1 == 1;
            vm.assertEq(set, i % 3 == 0, "bit i");
        }
        vm.assertEq(hub.referencesUsed(banks[3], refs)[0], 0, "another payer");
        vm.assertEq(hub.referencesUsed(banks[2], new bytes32[](0)).length, 0, "empty query");
    }

    // ============================================================================ payee cache

    /// @dev banks[0] (0xB000) and wallets[0] (0xC000) share cache slot 0: alternating them must re-read
    ///      membership and kind each time.
    function test_payeeCache_collisionKeepsKinds() public {
        Obligation[] memory os = new Obligation[](6);
        for (uint256 i; i < 6; ++i) {
            bool toWallet = i % 2 == 1;
            os[i] = _ob(
                banks[2],
                toWallet ? wallets[0] : banks[0],
                toWallet ? ObligationKind.WalletTopUp : ObligationKind.Interbank,
                1 + i,
                1 + i
            );
        }
        submitPacked(os, false);
        vm.assertEq(_count(1), 6, "all accepted");
        vm.assertEq(hub.cycle(1).submissionsHash, Model.rolling(bytes32(0), os), "hash");

        // a top-up to the bank after the wallet evicted it is refused with the bank's kind
        Obligation[] memory bad = new Obligation[](3);
        bad[0] = _ob(banks[2], banks[0], ObligationKind.Interbank, 1, 100);
        bad[1] = _ob(banks[2], wallets[0], ObligationKind.WalletTopUp, 1, 101);
        bad[2] = _ob(banks[2], banks[0], ObligationKind.WalletTopUp, 1, 102);
        _submitBatchExpectRevert(
            banks[2],
            _batch(bad, false),
            abi.encodeWithSelector(
                IClearingCycles.KindMismatch.selector, bad[2].ref, ObligationKind.WalletTopUp
            )
        );
        // and an interbank payment to the wallet after the bank is accepted (interbank is any pair)
        bad[2] = _ob(banks[2], wallets[0], ObligationKind.Interbank, 1, 102);
        submitPacked(bad, true);
        vm.assertEq(_count(1), 9, "accepted");
    }

    function test_payeeCache_collisionWithSuspendedPayee() public {
        vm.prank(admin);
        hub.suspendParticipant(wallets[0], "s");
        Obligation[] memory os = new Obligation[](2);
        os[0] = _ob(banks[2], banks[0], ObligationKind.Interbank, 1, 1);
        os[1] = _ob(banks[2], wallets[0], ObligationKind.WalletTopUp, 1, 2);
        _submitBatchExpectRevert(
            banks[2],
            _batch(os, false),
            abi.encodeWithSelector(IClearingCycles.InactivePayee.selector, os[1].ref, wallets[0])
        );
        // same-nibble payees registered on purpose, one active and one suspended, repeatedly alternated
        address a = address(0xD010);
        address b = address(0xE010);
        vm.startPrank(admin);
        hub.registerParticipant(a, ParticipantKind.Bank, "a");
        hub.registerParticipant(b, ParticipantKind.Bank, "b");
        hub.suspendParticipant(b, "s");
        vm.stopPrank();
        Obligation[] memory xs = new Obligation[](4);
        xs[0] = _ob(banks[2], a, ObligationKind.Interbank, 1, 10);
        xs[1] = _ob(banks[2], banks[0], ObligationKind.Interbank, 1, 11);
        xs[2] = _ob(banks[2], a, ObligationKind.Interbank, 1, 12);
        xs[3] = _ob(banks[2], b, ObligationKind.Interbank, 1, 13);
        _submitBatchExpectRevert(
            banks[2],
            _batch(xs, false),
            abi.encodeWithSelector(IClearingCycles.InactivePayee.selector, xs[3].ref, b)
        );
    }

    /// @dev A payee suspended between two batches is refused by the second (the cache is per call).
    function test_payeeCache_doesNotOutliveTheCall() public {
        submitPacked(one(_ob(banks[2], banks[0], ObligationKind.Interbank, 1, 1)), false);
        vm.prank(admin);
        hub.suspendParticipant(banks[0], "s");
        Obligation memory o = _ob(banks[2], banks[0], ObligationKind.Interbank, 1, 2);
        _submitBatchExpectRevert(
            banks[2],
            _batch(one(o), false),
            abi.encodeWithSelector(IClearingCycles.InactivePayee.selector, o.ref, banks[0])
        );
    }

    // ============================================================================ closing

    function test_closeCycle_byAdmin() public {
        Obligation[] memory os = _three(1);
        submitPacked(os, false);
        bytes32 h = Model.rolling(bytes32(0), os);
        bytes32 ic = Model.inputCommitment(bytes32(0), h, 3);
        vm.warp(1000);
        vm.roll(42);
        vm.expectEmit(true, false, false, true, address(hub));
        emit IClearingCycles.CycleClosed(1, 3, h, admin);
        vm.expectEmit(true, false, false, true, address(hub));
        emit IClearingCycles.CycleOpened(2, 1000, 0);
        vm.expectEmit(true, false, false, true, address(hub));
        emit IClearingCycles.CycleReady(1, ic, bytes32(0), 0, 42);
        uint64 id = closeAsAdmin();
        vm.assertEq(uint256(id), 1, "closed id");
        Cycle memory c = hub.cycle(1);
        vm.assertEq(uint256(c.status), uint256(CycleStatus.Closed), "closed");
        vm.assertEq(uint256(c.closedAt), 1000, "closedAt");
        vm.assertEq(uint256(c.readyAt), 1000, "readyAt");
        vm.assertEq(uint256(c.readyBlock), 42, "readyBlock");
        vm.assertEq(c.inputCommitment, ic, "inputCommitment");
        vm.assertEq(
            c.inputCommitment,
            keccak256(abi.encode(bytes32(0), h, uint64(3), bytes32(0), uint64(0))),
            "documented formula"
        );
        vm.assertEq(c.resultHash, bytes32(0), "no result yet");
        vm.assertEq(uint256(hub.currentCycleId()), 2, "next open");
        vm.assertEq(uint256(hub.cycle(2).status), uint256(CycleStatus.Open), "2 open");
        vm.assertEq(uint256(hub.cycle(2).openedAt), 1000, "2 openedAt");
        vm.assertEq(uint256(hub.nextCycleToFinalize()), 1, "1 awaits result");
        // submissions go to cycle 2 now
        vm.assertEq(uint256(submitOne(_ob(banks[0], banks[1], ObligationKind.Interbank, 1, 50))), 2, "into 2");
    }

    function test_closeCycle_empty() public {
        uint64 id = closeAsAdmin();
        Cycle memory c = hub.cycle(id);
        vm.assertEq(c.submissionsHash, bytes32(0), "empty hash");
        vm.assertEq(
            c.inputCommitment, Model.inputCommitment(bytes32(0), bytes32(0), 0), "commitment of nothing"
        );
    }

    function test_closeCycle_nonAdminWithoutDuration() public {
        vm.warp(1_000_000);
        vm.expectRevert(
            abi.encodeWithSelector(IClearingCycles.CycleStillRunning.selector, uint64(1), uint64(0))
        );
        vm.prank(stranger);
        hub.closeCycle();
    }

    function test_closeCycle_anyoneAfterDuration() public {
        vm.expectEmit(false, false, false, true, address(hub));
        emit IClearingCycles.CycleDurationSet(DURATION);
        vm.prank(admin);
        hub.setCycleDuration(DURATION);
        vm.warp(500);
        vm.expectEmit(true, false, false, true, address(hub));
        emit IClearingCycles.CycleOpened(2, 500, 500 + DURATION);
        closeAsAdmin();
        vm.warp(500 + DURATION - 1);
        vm.expectRevert(
            abi.encodeWithSelector(
                IClearingCycles.CycleStillRunning.selector, uint64(2), uint64(500 + DURATION)
            )
        );
        vm.prank(stranger);
        hub.closeCycle();
        vm.warp(500 + DURATION);
        vm.expectEmit(true, false, false, true, address(hub));
        emit IClearingCycles.CycleClosed(2, 0, bytes32(0), stranger);
        vm.prank(stranger);
        uint64 id = hub.closeCycle();
        vm.assertEq(uint256(id), 2, "closed by anyone");
        vm.assertEq(uint256(hub.currentCycleId()), 3, "3 open");
    }

    function test_closeCycle_adminBeforeDuration() public {
        vm.startPrank(admin);
        hub.setCycleDuration(DURATION);
        hub.closeCycle();
        hub.closeCycle(); // cycle 2 closed right away by the admin
        vm.stopPrank();
        vm.assertEq(uint256(hub.currentCycleId()), 3, "3 open");
    }

    /// @dev "applies from the next cycle": the open cycle keeps the deadline announced in CycleOpened.
    function test_setCycleDuration_appliesFromNextCycle() public {
        vm.warp(100);
        vm.prank(admin);
        hub.setCycleDuration(DURATION);
        vm.warp(100 + 10 * DURATION);
        // cycle 1 opened without a duration: still manual
        vm.expectRevert(
            abi.encodeWithSelector(IClearingCycles.CycleStillRunning.selector, uint64(1), uint64(0))
        );
        vm.prank(stranger);
        hub.closeCycle();
        vm.assertEq(
            uint256(submitOne(_ob(banks[0], banks[1], ObligationKind.Interbank, 1, 1))), 1, "no rollover"
        );
        uint256 t2 = block.timestamp;
        closeAsAdmin(); // cycle 2 gets the duration
        // switching back to manual does not take cycle 2's deadline away
        vm.prank(admin);
        hub.setCycleDuration(0);
        vm.warp(t2 + DURATION);
        vm.prank(stranger);
        vm.assertEq(uint256(hub.closeCycle()), 2, "2 closes at its announced time");
        vm.warp(t2 + 100 * DURATION);
        vm.expectRevert(
            abi.encodeWithSelector(IClearingCycles.CycleStillRunning.selector, uint64(3), uint64(0))
        );
        vm.prank(stranger);
        hub.closeCycle();
    }

    // ============================================================================ lazy rollover

    function _openTimedCycle2(uint256 t) internal {
        vm.prank(admin);
        hub.setCycleDuration(DURATION);
        vm.warp(t);
        closeAsAdmin();
    }

    function test_lazyRollover_submit() public {
        _openTimedCycle2(1000);
        vm.warp(1000 + DURATION - 1);
        vm.assertEq(uint256(submitOne(_ob(banks[0], banks[1], ObligationKind.Interbank, 1, 1))), 2, "still 2");
        bytes32 h2 = hub.cycle(2).submissionsHash;
        vm.warp(1000 + DURATION);
        Obligation memory o = _ob(banks[3], banks[1], ObligationKind.Interbank, 1, 2);
        vm.expectEmit(true, false, false, true, address(hub));
        emit IClearingCycles.CycleClosed(2, 1, h2, banks[3]);
        vm.expectEmit(true, false, false, true, address(hub));
        emit IClearingCycles.CycleOpened(3, 1000 + DURATION, 1000 + 2 * DURATION);
        vm.expectEmit(true, true, false, true, address(hub));
        emit IClearingCycles.ObligationSubmitted(
            banks[3], banks[1], 3, o.ref, SGD, ObligationKind.Interbank, 1, bytes32(0), bytes32(0)
        );
        uint64 id = submitOne(o);
        vm.assertEq(uint256(id), 3, "rolled into 3");
        vm.assertEq(uint256(hub.cycle(2).status), uint256(CycleStatus.Closed), "2 closed by the submission");
        vm.assertEq(uint256(hub.cycle(2).closedAt), 1000 + DURATION, "closedAt");
        vm.assertEq(uint256(hub.cycle(2).readyBlock), 0, "2 waits for 1");
        vm.assertEq(_count(3), 1, "in 3");
        vm.assertEq(hub.cycle(3).submissionsHash, Model.step(bytes32(0), o), "3 starts a fresh hash");
    }

    /// @dev A rollover by a batch makes the lapsed cycle ready when it is next in line.
    function test_lazyRollover_submitBatchMakesReady() public {
        _openTimedCycle2(1000);
        settle(resultFor(1, 0, 0, new NetPosition[](0)));
        submitPacked(_three(1), false);
        bytes32 h2 = hub.cycle(2).submissionsHash;
        vm.warp(1000 + DURATION + 5);
        vm.roll(77);
        vm.expectEmit(true, false, false, true, address(hub));
        emit IClearingCycles.CycleReady(2, Model.inputCommitment(bytes32(0), h2, 3), bytes32(0), 0, 77);
        bytes memory batch = _batch(one(_ob(banks[1], banks[2], ObligationKind.Interbank, 9, 1)), false);
        vm.prank(banks[1]);
        uint64 id = hub.submitBatch(batch);
        vm.assertEq(uint256(id), 3, "rolled");
        vm.assertEq(uint256(hub.cycle(2).readyBlock), 77, "ready at the rollover block");
        vm.assertEq(uint256(hub.cycle(3).openedAt), 1000 + DURATION + 5, "3 opens at the rollover");
    }

    function test_lazyRollover_onlyOneCycleAfterLongIdle() public {
        _openTimedCycle2(1000);
        vm.warp(1000 + 50 * DURATION);
        vm.assertEq(
            uint256(submitOne(_ob(banks[0], banks[1], ObligationKind.Interbank, 1, 1))), 3, "one roll"
        );
        vm.assertEq(uint256(hub.currentCycleId()), 3, "3");
        vm.assertEq(uint256(hub.cycle(4).status), uint256(CycleStatus.None), "no empty cycles created");
    }

    function test_lazyRollover_undoneWhenSubmissionReverts() public {
        _openTimedCycle2(1000);
        vm.warp(1000 + DURATION);
        Obligation memory z = _ob(banks[0], banks[1], ObligationKind.Interbank, 0, 1);
        vm.expectRevert(
            abi.encodeWithSelector(IClearingCycles.ZeroObligationAmount.selector, bytes32(uint256(1)))
        );
        submitOne(z);
        _submitBatchExpectRevert(
            banks[0],
            _batch(one(_ob(banks[0], banks[1], ObligationKind.Interbank, 0, 1)), false),
            abi.encodeWithSelector(IClearingCycles.ZeroObligationAmount.selector, bytes32(uint256(1)))
        );
        vm.assertEq(uint256(hub.currentCycleId()), 2, "not rolled");
        vm.assertEq(uint256(hub.cycle(2).status), uint256(CycleStatus.Open), "2 still open");
    }

    // ============================================================================ failCycle

    function test_failCycle_noTimeoutConfigured() public {
        uint64 id = closeAsAdmin();
        vm.warp(10 ** 9);
        vm.expectRevert(
            abi.encodeWithSelector(IClearingCycles.SettlementTimeoutNotReached.selector, id, uint64(0))
        );
        hub.failCycle(id);
    }

    function test_failCycle_afterTimeout() public {
        vm.expectEmit(false, false, false, true, address(hub));
        emit IClearingCycles.SettlementTimeoutSet(600);
        vm.prank(admin);
        hub.setSettlementTimeout(600);
        Obligation[] memory os = _three(1);
        submitPacked(os, false);
        vm.warp(2000);
        uint64 id = closeAsAdmin();
        bytes32 ic = hub.cycle(id).inputCommitment;
        vm.warp(2599);
        vm.expectRevert(
            abi.encodeWithSelector(IClearingCycles.SettlementTimeoutNotReached.selector, id, uint64(2600))
        );
        vm.prank(stranger);
        hub.failCycle(id);
        vm.warp(2600);
        vm.expectEmit(true, false, false, true, address(hub));
        emit IClearingCycles.CycleFailed(id, "settlement timeout");
        vm.prank(stranger);
        hub.failCycle(id);
        vm.assertEq(uint256(hub.cycle(id).status), uint256(CycleStatus.Failed), "failed");
        vm.assertEq(uint256(hub.nextCycleToFinalize()), 2, "next");
        (bytes32 carry, uint64 carried) = hub.carry();
        vm.assertEq(carry, ic, "whole input carried");
        vm.assertEq(uint256(carried), 3, "count carried");
    }

    function test_failCycle_notReady() public {
        vm.prank(admin);
        hub.setSettlementTimeout(1);
        vm.expectRevert(abi.encodeWithSelector(IClearingCycles.CycleNotReady.selector, uint64(1)));
        hub.failCycle(1); // open
        closeAsAdmin();
        closeAsAdmin();
        vm.warp(block.timestamp + 10);
        vm.expectRevert(abi.encodeWithSelector(IClearingCycles.CycleNotReady.selector, uint64(2)));
        hub.failCycle(2); // closed, not next
        vm.expectRevert(abi.encodeWithSelector(IClearingCycles.CycleNotReady.selector, uint64(0)));
        hub.failCycle(0);
        vm.expectRevert(abi.encodeWithSelector(IClearingCycles.CycleNotReady.selector, uint64(9)));
        hub.failCycle(9);
        hub.failCycle(1);
        vm.expectRevert(abi.encodeWithSelector(IClearingCycles.CycleNotReady.selector, uint64(1)));
        hub.failCycle(1); // already failed
    }

    /// @dev The timeout counts from readiness, not from closing: cycle 2 closed long before it became ready.
    function test_failCycle_timeoutCountsFromReadiness() public {
        vm.prank(admin);
        hub.setSettlementTimeout(600);
        vm.warp(1000);
        closeAsAdmin();
        closeAsAdmin(); // 2 closed at 1000, not ready
        vm.warp(5000);
        vm.prank(admin);
        hub.cancelCycle(1, "x"); // 2 ready at 5000
        vm.assertEq(uint256(hub.cycle(2).readyAt), 5000, "readyAt");
        vm.warp(5599);
        vm.expectRevert(
            abi.encodeWithSelector(
                IClearingCycles.SettlementTimeoutNotReached.selector, uint64(2), uint64(5600)
            )
        );
        hub.failCycle(2);
        vm.warp(5600);
        hub.failCycle(2);
    }

    // ============================================================================ cancelCycle and carry

    function test_cancelCycle() public {
        submitPacked(_three(1), false);
        uint64 id = closeAsAdmin();
        bytes32 ic = hub.cycle(id).inputCommitment;
        vm.expectEmit(true, false, false, true, address(hub));
        emit IClearingCycles.CycleCancelled(id, "wrong cut-off");
        vm.prank(admin);
        hub.cancelCycle(id, "wrong cut-off");
        vm.assertEq(uint256(hub.cycle(id).status), uint256(CycleStatus.Cancelled), "cancelled");
        (bytes32 carry, uint64 carried) = hub.carry();
        vm.assertEq(carry, ic, "carry");
        vm.assertEq(uint256(carried), 3, "carried");
        vm.assertEq(uint256(hub.nextCycleToFinalize()), 2, "next");
    }

    function test_cancelCycle_reverts() public {
        vm.expectRevert(abi.encodeWithSelector(IClearingCycles.CycleNotReady.selector, uint64(1)));
        vm.prank(admin);
        hub.cancelCycle(1, "open");
        closeAsAdmin();
        closeAsAdmin();
        vm.startPrank(admin);
        vm.expectRevert(abi.encodeWithSelector(IClearingCycles.CycleNotReady.selector, uint64(2)));
        hub.cancelCycle(2, "out of order");
        vm.stopPrank();
        vm.expectRevert(ownerError(stranger));
        vm.prank(stranger);
        hub.cancelCycle(1, "not admin");
        vm.startPrank(admin);
        hub.cancelCycle(1, "ok");
        vm.expectRevert(abi.encodeWithSelector(IClearingCycles.CycleNotReady.selector, uint64(1)));
        hub.cancelCycle(1, "again");
        vm.stopPrank();
    }

    function test_cancelCycle_emptyCarriesNothing() public {
        uint64 id = closeAsAdmin();
        vm.prank(admin);
        hub.cancelCycle(id, "empty");
        (bytes32 carry, uint64 carried) = hub.carry();
        vm.assertEq(carry, bytes32(0), "nothing to carry");
        vm.assertEq(uint256(carried), 0, "zero");
        closeAsAdmin();
        vm.assertEq(
            hub.cycle(2).inputCommitment, Model.inputCommitment(bytes32(0), bytes32(0), 0), "2 starts clean"
        );
    }

    /// @dev An empty cycle cancelled while something is carried keeps carrying it, wrapped in its own commitment.
    function test_cancelCycle_emptyCycleKeepsCarry() public {
        submitOne(_ob(banks[0], banks[1], ObligationKind.Interbank, 1, 1));
        closeAsAdmin();
        vm.prank(admin);
        hub.cancelCycle(1, "a");
        (bytes32 c1,) = hub.carry();
        closeAsAdmin();
        bytes32 ic2 = hub.cycle(2).inputCommitment;
        vm.assertEq(ic2, Model.inputCommitment(c1, bytes32(0), 0), "2 binds the carry");
        vm.prank(admin);
        hub.cancelCycle(2, "b");
        (bytes32 c2, uint64 n2) = hub.carry();
        vm.assertEq(c2, ic2, "carry is 2's input");
        vm.assertEq(uint256(n2), 1, "still one obligation");
    }

    /// @dev Cancel, fail, then settle: every carried obligation reaches the cycle that settles it, and
    ///      the settled root proves them with their original cycle ids.
    function test_carry_chainsThroughCancelFailAndSettle() public {
        vm.prank(admin);
        hub.setSettlementTimeout(60);
        Obligation[] memory c1 = _three(1);
        submitPacked(c1, false);
        closeAsAdmin();
        bytes32 ic1 = hub.cycle(1).inputCommitment;
        vm.prank(admin);
        hub.cancelCycle(1, "ops");

        Obligation[] memory c2 = new Obligation[](2);
        c2[0] = _ob(wallets[0], banks[4], ObligationKind.WalletWithdrawal, 40, 1);
        c2[1] = _ob(wallets[1], wallets[2], ObligationKind.WalletToWallet, 50, 1);
        submitOne(c2[0]);
        submitOne(c2[1]);
        bytes32 h2 = Model.rolling(bytes32(0), c2);
        vm.roll(10);
        vm.expectEmit(true, false, false, true, address(hub));
        emit IClearingCycles.CycleReady(2, Model.inputCommitment(ic1, h2, 2), ic1, 3, 10);
        closeAsAdmin();
        bytes32 ic2 = hub.cycle(2).inputCommitment;
        vm.warp(block.timestamp + 60);
        hub.failCycle(2);
        (bytes32 carry, uint64 carried) = hub.carry();
        vm.assertEq(carry, ic2, "carry after failure");
        vm.assertEq(uint256(carried), 5, "3 + 2");

        uint64 id = closeAsAdmin(); // cycle 3, empty, input = the 5 carried
        vm.assertEq(
            hub.cycle(id).inputCommitment, Model.inputCommitment(ic2, bytes32(0), 0), "3's commitment"
        );
        Obligation[] memory all = concat(c1, c2);
        ClearingResult memory r = realResult(id, all, new Obligation[](0));
        r.settledCount = 4;
        vm.expectRevert(
            abi.encodeWithSignature("CountMismatch(uint64,uint64,uint64)", id, uint64(5), uint64(4))
        );
        approveAs(0, r);
        r.settledCount = 5;
        settle(r);
        (carry, carried) = hub.carry();
        vm.assertEq(carry, bytes32(0), "nothing deferred");
        vm.assertEq(uint256(carried), 0, "zero");
        bytes32[] memory tree = Model.buildTree(leaves(all));
        for (uint256 i; i < all.length; ++i) {
            Obligation memory o = all[i];
            vm.assertTrue(
                hub.verifyObligation(
                    id,
                    true,
                    Model.proof(tree, Model.leaf(o)),
                    o.origin,
                    o.payer,
                    o.payee,
                    o.currency,
                    o.amount,
                    o.ref
                ),
                "proved with its origin cycle"
            );
        }
        vm.assertEq(balanceOf(wallets[2], SGD), int256(FUNDING) + 50, "settled w2w");
    }

    // ============================================================================ readiness chaining

    /// @dev Cycle 2 closes before 1 is final: it becomes ready (CycleReady, readyBlock, commitment with
    ///      1's deferred carry) only in the transaction that settles 1.
    function test_readiness_chainsWhenNextClosesEarly() public {
        Obligation memory a = _ob(banks[0], banks[1], ObligationKind.Interbank, 100, 1);
        Obligation memory b = _ob(banks[1], banks[2], ObligationKind.Interbank, 30, 1);
        submitOne(a);
        submitOne(b);
        vm.roll(5);
        closeAsAdmin();
        Obligation memory c = _ob(banks[2], banks[3], ObligationKind.Interbank, 7, 1);
        submitOne(c);
        vm.roll(6);
        vm.recordLogs();
        closeAsAdmin();
        vm.assertFalse(
            _hasTopic(vm.getRecordedLogs(), IClearingCycles.CycleReady.selector), "2 not ready yet"
        );
        Cycle memory c2 = hub.cycle(2);
        vm.assertEq(uint256(c2.status), uint256(CycleStatus.Closed), "closed");
        vm.assertEq(uint256(c2.readyBlock) + uint256(c2.readyAt), 0, "not ready");
        vm.assertEq(c2.inputCommitment, bytes32(0), "no commitment yet");
        ClearingResult memory early = resultFor(2, 1, 0, new NetPosition[](0));
        vm.expectRevert(abi.encodeWithSelector(IClearingCycles.CycleNotReady.selector, uint64(2)));
        approveAs(0, early);

        // settle 1: a settles, b is deferred
        ClearingResult memory r = realResult(1, one(a), one(b));
        bytes32 carryIn = Model.deferredCarry(r.deferredRoot, 1);
        bytes32 ic2 = Model.inputCommitment(carryIn, Model.step(bytes32(0), c), 1);
        vm.roll(9);
        vm.warp(777);
        accept(r);
        vm.assertEq(uint256(hub.cycle(2).readyBlock), 0, "2 not ready while 1 settles");
        vm.expectEmit(true, false, false, true, address(hub));
        emit IClearingCycles.CycleReady(2, ic2, carryIn, 1, 9);
        applyAll(r);
        c2 = hub.cycle(2);
        vm.assertEq(uint256(c2.readyBlock), 9, "ready in the settling block");
        vm.assertEq(uint256(c2.readyAt), 777, "readyAt");
        vm.assertEq(c2.inputCommitment, ic2, "commitment binds 1's deferred set");
        vm.assertEq(uint256(hub.nextCycleToFinalize()), 2, "2 next");

        // 2 settles b (carried, origin 1) and c (origin 2)
        b.origin = 1;
        c.origin = 2;
        settle(realResult(2, concat(one(b), one(c)), new Obligation[](0)));
        vm.assertEq(balanceOf(banks[3], SGD), int256(FUNDING) + 7, "c settled");
        vm.assertEq(balanceOf(banks[2], SGD), int256(FUNDING) + 30 - 7, "b settled");
    }

    function test_readiness_threeClosedCycles() public {
        closeAsAdmin();
        closeAsAdmin();
        closeAsAdmin();
        vm.assertEq(uint256(hub.currentCycleId()), 4, "4 open");
        vm.assertEq(uint256(hub.cycle(2).readyBlock), 0, "2 waits");
        vm.assertEq(uint256(hub.cycle(3).readyBlock), 0, "3 waits");
        vm.roll(20);
        vm.prank(admin);
        hub.cancelCycle(1, "x");
        vm.assertEq(uint256(hub.cycle(2).readyBlock), 20, "2 ready");
        vm.assertEq(uint256(hub.cycle(3).readyBlock), 0, "3 still waits");
        vm.roll(21);
        deferAll(2);
        vm.assertEq(uint256(hub.cycle(3).readyBlock), 21, "3 ready");
        vm.assertEq(uint256(hub.nextCycleToFinalize()), 3, "3 next");
        vm.roll(22);
        deferAll(3);
        vm.assertEq(uint256(hub.nextCycleToFinalize()), 4, "4 next, still open");
        vm.assertEq(uint256(hub.cycle(4).readyBlock), 0, "open cycles are never ready");
        vm.roll(23);
        closeAsAdmin();
        vm.assertEq(uint256(hub.cycle(4).readyBlock), 23, "4 ready on close");
    }

    // ============================================================================ pause, config

    function test_pause_blocksSubmissionButNotClosing() public {
        vm.prank(admin);
        hub.pause();
        Obligation memory o = _ob(banks[0], banks[1], ObligationKind.Interbank, 1, 1);
        vm.expectRevert(abi.encodeWithSignature("EnforcedPause()"));
        submitOne(o);
        _submitBatchExpectRevert(
            banks[0], _batch(_three(1), false), abi.encodeWithSignature("EnforcedPause()")
        );
        closeAsAdmin();
        vm.prank(admin);
        hub.unpause();
        vm.assertEq(uint256(submitOne(_ob(banks[0], banks[1], ObligationKind.Interbank, 1, 1))), 2, "resumed");
    }

    function test_setNettingStrategy() public {
        vm.expectEmit(false, false, false, true, address(hub));
        emit IClearingCycles.NettingStrategySet(NettingStrategy.MaxValue);
        vm.prank(admin);
        hub.setNettingStrategy(NettingStrategy.MaxValue);
        (,, NettingStrategy s) = hub.cycleConfig();
        vm.assertEq(uint256(s), uint256(NettingStrategy.MaxValue), "strategy");
    }

    function test_cycleConfig() public {
        vm.startPrank(admin);
        hub.setCycleDuration(11);
        hub.setSettlementTimeout(22);
        vm.stopPrank();
        (uint64 d, uint64 t,) = hub.cycleConfig();
        vm.assertEq(uint256(d), 11, "duration");
        vm.assertEq(uint256(t), 22, "timeout");
    }

    function test_configSetters_onlyOwner() public {
        vm.startPrank(stranger);
        vm.expectRevert(ownerError(stranger));
        hub.setCycleDuration(1);
        vm.expectRevert(ownerError(stranger));
        hub.setSettlementTimeout(1);
        vm.expectRevert(ownerError(stranger));
        hub.setNettingStrategy(NettingStrategy.MaxValue);
        vm.stopPrank();
    }

    function _slice(bytes memory b, uint256 from, uint256 to) internal pure returns (bytes memory out) {
        out = new bytes(to - from);
        for (uint256 i; i < out.length; ++i) {
            out[i] = b[from + i];
        }
    }

    // ---------------------------------------------------------------- sequenced references

    function _sequenced(uint256 seq, uint128 id) private pure returns (bytes32) {
        return bytes32((uint256(0x01535101) << 224) | (seq << 128) | uint256(id));
    }

    function test_submit_sequencedReferenceIsKeyedBySequenceNumber() public {
        vm.startPrank(banks[0]);
        hub.submit(input(banks[1], 1, _sequenced(7, 0xAAAA)));
        bytes32 again = _sequenced(7, 0xBBBB); // same sequence number, another id
        vm.expectRevert(abi.encodeWithSelector(IClearingCycles.DuplicateReference.selector, banks[0], again));
        hub.submit(input(banks[1], 1, again));
        hub.submit(input(banks[1], 1, _sequenced(8, 0xAAAA))); // the same id under a new number
        // a plain reference with the same low bytes lives in other words
        hub.submit(input(banks[1], 1, bytes32(uint256(7))));
        vm.stopPrank();
        vm.assertEq(_count(1), 3, "count");
    }

    function test_submitBatch_sequencedDuplicateInsideAndAcrossBatches() public {
        bytes memory batch = bytes.concat(
            record(banks[1], SGD, ObligationKind.Interbank, 1, _sequenced(1, 11)),
            record(banks[2], SGD, ObligationKind.Interbank, 1, _sequenced(2, 12))
        );
        vm.prank(banks[0]);
        hub.submitBatch(batch);
        bytes memory dup = bytes.concat(
            record(banks[1], SGD, ObligationKind.Interbank, 1, _sequenced(3, 13)),
            record(banks[2], SGD, ObligationKind.Interbank, 1, _sequenced(2, 99))
        );
        vm.expectRevert(
            abi.encodeWithSelector(IClearingCycles.DuplicateReference.selector, banks[0], _sequenced(2, 99))
        );
        vm.prank(banks[0]);
        hub.submitBatch(dup);
        vm.assertEq(_count(1), 2, "the refused batch left nothing");
    }

    function test_referencesUsed_andRecall_followTheSequencedKey() public {
        vm.prank(banks[0]);
        hub.submit(input(banks[1], 1, _sequenced(300, 5)));
        bytes32[] memory refs = new bytes32[](3);
        refs[0] = _sequenced(300, 5);
        refs[1] = _sequenced(301, 5);
        refs[2] = _sequenced(300, 6); // the number is used, whatever id it carries
        uint256[] memory used = hub.referencesUsed(banks[0], refs);
        vm.assertEq(used[0], 0x5, "bits 0 and 2");
        bytes32[] memory recall = new bytes32[](1);
        recall[0] = _sequenced(300, 5);
        vm.prank(banks[0]);
        hub.recall(recall);
        recall[0] = _sequenced(301, 5);
        vm.expectRevert(abi.encodeWithSelector(IClearingCycles.UnknownReference.selector, banks[0], recall[0]));
        vm.prank(banks[0]);
        hub.recall(recall);
    }

    function testFuzz_sequencedAndPlainReferencesNeverCollide(uint96 seq, uint128 id, bytes32 plain) public {
        vm.assume(uint256(plain) >> 224 != 0x01535101 && plain != 0);
        vm.startPrank(banks[0]);
        hub.submit(input(banks[1], 1, _sequenced(seq, id)));
        hub.submit(input(banks[1], 1, plain));
        vm.stopPrank();
        vm.assertEq(_count(1), 2, "both recorded");
    }
}
