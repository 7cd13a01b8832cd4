// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {HubTest, Model, Obligation} from "../utils/HubTest.sol";
import {IClearingCycles} from "../../../contracts/interfaces/IClearingCycles.sol";
import {MAX_AMOUNT, ObligationKind, ParticipantKind} from "../../../contracts/types/SettlementTypes.sol";

/// @notice Random batches: valid ones are accepted with the exact count and rolling hash, every single
///         corruption is refused with its exact error and leaves no trace.
contract SubmissionFuzzTest is HubTest {
    uint256 internal constant MAX_RECORDS = 24;

    struct Gen {
        Obligation[] os;
        bool[] full;
        address payer;
    }

    function _rand(uint256 seed, uint256 salt) internal pure returns (uint256) {
        return uint256(keccak256(abi.encode(seed, salt)));
    }

    function _isWallet(address who) internal view returns (bool) {
        (ParticipantKind k,) = hub.participant(who);
        return k == ParticipantKind.WalletProvider;
    }

    function _expectedKind(address payer, address payee) internal view returns (uint8) {
        return (_isWallet(payer) ? 2 : 0) + (_isWallet(payee) ? 1 : 0);
    }

    function _isMember(address who) internal view returns (bool) {
        (ParticipantKind k,) = hub.participant(who);
        return k != ParticipantKind.None;
    }

    /// @dev n valid obligations from one random payer: random payees, kinds allowed for the pair,
    ///      both currencies, amounts anywhere in [1, MAX_AMOUNT], references either consecutive
    ///      (sharing bitmap words) or random, and a random mix of 88- and 152-byte records.
    function _generate(uint256 seed, uint256 n) internal view returns (Gen memory g) {
        address[] memory all = members();
        g.payer = all[_rand(seed, 0) % all.length];
        g.os = new Obligation[](n);
        g.full = new bool[](n);
        uint256 base = (_rand(seed, 1) >> 2) | 1;
        bool sequential = _rand(seed, 2) % 2 == 0;
        for (uint256 i; i < n; ++i) {
            uint256 r = _rand(seed, 100 + i);
            address payee = all[r % all.length];
            if (payee == g.payer) payee = all[(r % all.length + 1) % all.length];
            uint8 kind = (r >> 8) % 2 == 0 ? 0 : _expectedKind(g.payer, payee);
            uint256 amount = _rand(seed, 200 + i) >> (128 + (r >> 16) % 128);
            if (amount == 0) amount = 1;
            if ((r >> 56) % 16 == 0) amount = MAX_AMOUNT; // the bound itself
            bytes32 ref = sequential ? bytes32(base + i) : bytes32(_rand(seed, 300 + i) | 1);
            Obligation memory o = Obligation(
                1,
                g.payer,
                payee,
                (r >> 24) % 2 == 0 ? SGD : USD,
                ObligationKind(kind),
                amount,
                ref,
                bytes32(0),
                bytes32(0)
            );
            g.full[i] = (r >> 32) % 2 == 0;
            if (g.full[i] && (r >> 40) % 4 != 0) {
                o.payerAccount = bytes32(_rand(seed, 400 + i));
                o.payeeAccount = (r >> 48) % 3 == 0 ? bytes32(0) : bytes32(_rand(seed, 500 + i));
            }
            g.os[i] = o;
        }
    }

    function _encode(Gen memory g) internal pure returns (bytes memory b) {
        for (uint256 i; i < g.os.length; ++i) {
            b = bytes.concat(b, Model.packed(g.os[i], g.full[i]));
        }
    }

    function _allUsed(address payer, Obligation[] memory os) internal view returns (bool) {
        bytes32[] memory refs = new bytes32[](os.length);
        for (uint256 i; i < os.length; ++i) {
            refs[i] = os[i].ref;
        }
        uint256[] memory used = hub.referencesUsed(payer, refs);
        for (uint256 i; i < os.length; ++i) {
            if ((used[i / 256] >> (i % 256)) & 1 == 0) return false;
        }
        return true;
    }

    function _noneUsed(address payer, Obligation[] memory os) internal view returns (bool) {
        bytes32[] memory refs = new bytes32[](os.length);
        for (uint256 i; i < os.length; ++i) {
            refs[i] = os[i].ref;
        }
        uint256[] memory used = hub.referencesUsed(payer, refs);
        for (uint256 i; i < used.length; ++i) {
            if (used[i] != 0) return false;
        }
        return true;
    }

    // ============================================================================ valid batches

    function testFuzz_validBatchAccepted(uint256 seed, uint256 nSeed) public {
        Gen memory g = _generate(seed, bound(nSeed, 1, MAX_RECORDS));
        bytes memory batch = _encode(g);
        vm.recordLogs();
        vm.prank(g.payer);
        uint64 id = hub.submitBatch(batch);
        Obligation[] memory seen = decodeSubmitted(vm.getRecordedLogs());
        vm.assertEq(uint256(id), 1, "cycle");
        vm.assertEq(uint256(hub.cycle(1).count), g.os.length, "exact count");
        vm.assertEq(hub.cycle(1).submissionsHash, Model.rolling(bytes32(0), g.os), "exact rolling hash");
        vm.assertEq(seen.length, g.os.length, "one event per record");
        for (uint256 i; i < seen.length; ++i) {
            vm.assertEq(keccak256(abi.encode(seen[i])), keccak256(abi.encode(g.os[i])), "event = record");
        }
        vm.assertTrue(_allUsed(g.payer, g.os), "every reference marked");
        // the same batch again is a duplicate of its first record
        vm.expectRevert(
            abi.encodeWithSelector(IClearingCycles.DuplicateReference.selector, g.payer, g.os[0].ref)
        );
        vm.prank(g.payer);
        hub.submitBatch(batch);
    }

    /// @dev One batch or two consecutive batches of the same records: same count, same hash.
    function testFuzz_splitBatchSameHash(uint256 seed, uint256 nSeed, uint256 splitSeed) public {
        Gen memory g = _generate(seed, bound(nSeed, 2, MAX_RECORDS));
        uint256 split = bound(splitSeed, 1, g.os.length - 1);
        bytes memory whole = _encode(g);
        uint256 snap = vm.snapshotState();
        vm.prank(g.payer);
        hub.submitBatch(whole);
        bytes32 h = hub.cycle(1).submissionsHash;
        vm.revertToState(snap);
        bytes memory first;
        bytes memory second;
        for (uint256 i; i < g.os.length; ++i) {
            bytes memory rec = Model.packed(g.os[i], g.full[i]);
            if (i < split) first = bytes.concat(first, rec);
            else second = bytes.concat(second, rec);
        }
        vm.prank(g.payer);
        hub.submitBatch(first);
        vm.prank(g.payer);
        hub.submitBatch(second);
        vm.assertEq(hub.cycle(1).submissionsHash, h, "split invariant");
        vm.assertEq(uint256(hub.cycle(1).count), g.os.length, "count");
    }

    /// @dev `submit` one by one and `submitBatch` produce the same hash and events.
    function testFuzz_submitEqualsBatch(uint256 seed, uint256 nSeed) public {
        Gen memory g = _generate(seed, bound(nSeed, 1, 6));
        uint256 snap = vm.snapshotState();
        vm.recordLogs();
        for (uint256 i; i < g.os.length; ++i) {
            vm.prank(g.payer);
            hub.submit(Model.input(g.os[i]));
        }
        Obligation[] memory viaSubmit = decodeSubmitted(vm.getRecordedLogs());
        bytes32 h = hub.cycle(1).submissionsHash;
        vm.revertToState(snap);
        vm.recordLogs();
        vm.prank(g.payer);
        hub.submitBatch(_encode(g));
        Obligation[] memory viaBatch = decodeSubmitted(vm.getRecordedLogs());
        vm.assertEq(hub.cycle(1).submissionsHash, h, "same hash");
        vm.assertEq(keccak256(abi.encode(viaSubmit)), keccak256(abi.encode(viaBatch)), "same events");
    }

    // ============================================================================ corrupted batches

    /// @dev Exactly one fault in record j of an otherwise valid batch: the exact error, and no trace.
    function testFuzz_corruptedBatchRefused(
        uint256 seed,
        uint256 nSeed,
        uint256 jSeed,
        uint256 modeSeed,
        uint256 x
    ) public {
        Gen memory g = _generate(seed, bound(nSeed, 1, MAX_RECORDS));
        uint256 n = g.os.length;
        uint256 j = bound(jSeed, 0, n - 1);
        uint256 mode = bound(modeSeed, 0, 10);
        Obligation memory o = g.os[j];
        bytes memory err;
        bytes memory batch;
        uint8 rawKind = uint8(o.kind);

        if (mode == 0) {
            o.ref = 0;
            err = abi.encodeWithSelector(IClearingCycles.ZeroReference.selector, j);
        } else if (mode == 1) {
            o.amount = 0;
            err = abi.encodeWithSelector(IClearingCycles.ZeroObligationAmount.selector, o.ref);
        } else if (mode == 2) {
            o.payee = g.payer;
            err = abi.encodeWithSelector(IClearingCycles.PayerIsPayee.selector, o.ref);
        } else if (mode == 3) {
            rawKind = uint8(bound(x, 4, 127));
            err = abi.encodeWithSelector(IClearingCycles.InvalidKind.selector, o.ref, rawKind);
        } else if (mode == 4) {
            address stranger = address(uint160(x >> 8));
            if (x % 4 == 0) stranger = address(0);
            if (_isMember(stranger)) stranger = address(uint160(stranger) ^ 0xFFFF0000);
            o.payee = stranger;
            err = abi.encodeWithSelector(IClearingCycles.InactivePayee.selector, o.ref, stranger);
        } else if (mode == 5) {
            bytes3 code = bytes3(uint24(x));
            if (x % 4 == 0) code = bytes3(0);
            if (code == SGD || code == USD) code = "EUR";
            o.currency = code;
            err = abi.encodeWithSelector(IClearingCycles.UnknownObligationCurrency.selector, o.ref, code);
        } else if (mode == 6) {
            uint8 expected = _expectedKind(g.payer, o.payee);
            uint8 k = uint8(bound(x, 1, 3));
            if (k == expected) k = k % 3 + 1;
            rawKind = k;
            err = abi.encodeWithSelector(IClearingCycles.KindMismatch.selector, o.ref, ObligationKind(k));
        } else if (mode == 7) {
            if (j == 0) {
                // used by an earlier transaction
                Obligation memory earlier = g.os[0];
                vm.prank(g.payer);
                hub.submit(Model.input(earlier));
            } else {
                o.ref = g.os[bound(x, 0, j - 1)].ref;
            }
            err = abi.encodeWithSelector(IClearingCycles.DuplicateReference.selector, g.payer, o.ref);
        } else if (mode == 10) {
            // anywhere above MAX_AMOUNT, from MAX_AMOUNT + 1 up to 2^256 - 1
            o.amount = MAX_AMOUNT + 1 + (x >> 1) % (type(uint256).max - MAX_AMOUNT);
            err = abi.encodeWithSelector(IClearingCycles.ObligationAmountTooLarge.selector, o.ref, o.amount);
        }

        if (mode <= 7 || mode == 10) {
            for (uint256 i; i < n; ++i) {
                bytes memory rec = Model.packed(g.os[i], g.full[i]);
                if (i == j) rec[23] = bytes1(rawKind | (g.full[i] ? 0x80 : 0));
                batch = bytes.concat(batch, rec);
            }
        } else {
            batch = _encode(g);
            if (mode == 8) {
                // cut the last record short
                uint256 lastSize = g.full[n - 1] ? 152 : 88;
                uint256 cut = bound(x, 1, lastSize - 1);
                bytes memory shorter = new bytes(batch.length - cut);
                for (uint256 i; i < shorter.length; ++i) {
                    shorter[i] = batch[i];
                }
                batch = shorter;
            } else {
                // trailing garbage shorter than a record
                uint256 extra = bound(x, 1, 87);
                bytes memory tail = new bytes(extra);
                for (uint256 i; i < extra; ++i) {
                    tail[i] = bytes1(uint8(_rand(x, i)));
                }
                batch = bytes.concat(batch, tail);
            }
            err = abi.encodeWithSelector(IClearingCycles.MalformedBatch.selector, batch.length);
        }

        uint256 countBefore = hub.cycle(1).count;
        bytes32 hashBefore = hub.cycle(1).submissionsHash;
        vm.expectRevert(err);
        vm.prank(g.payer);
        hub.submitBatch(batch);
        vm.assertEq(uint256(hub.cycle(1).count), countBefore, "count unchanged");
        vm.assertEq(hub.cycle(1).submissionsHash, hashBefore, "hash unchanged");
        if (mode != 7 || j != 0) vm.assertTrue(_noneUsed(g.payer, g.os), "no reference marked");
    }

    // ============================================================================ duplicates across words

    /// @dev References drawn from a small range (a few bitmap words), submitted in random groups by
    ///      `submit` or `submitBatch`: a group is refused with its first duplicate (against earlier groups
    ///      or itself) and leaves nothing; otherwise every reference is marked.
    function testFuzz_duplicateDetectionModel(uint256 seed, uint256 groupsSeed) public {
        uint256 groups = bound(groupsSeed, 1, 8);
        address payer = banks[1];
        uint256[4] memory used; // bitmap over references 0..1023
        uint256 accepted;
        for (uint256 gI; gI < groups; ++gI) {
            uint256 size = 1 + _rand(seed, gI) % 12;
            bool viaSubmit = size == 1 && _rand(seed, gI + 1000) % 2 == 0;
            Obligation[] memory os = new Obligation[](size);
            bytes memory batch;
            uint256[4] memory inBatch;
            uint256 firstDup = type(uint256).max;
            for (uint256 i; i < size; ++i) {
                uint256 ref = 1 + _rand(seed, gI * 100 + i) % 1023;
                os[i] =
                    obligation(payer, banks[2 + i % 3], SGD, ObligationKind.Interbank, 1 + i, bytes32(ref));
                batch = bytes.concat(batch, Model.packed(os[i], i % 2 == 0));
                bool seen = (used[ref >> 8] | inBatch[ref >> 8]) >> (ref & 0xff) & 1 == 1;
                if (firstDup == type(uint256).max && seen) firstDup = ref;
                inBatch[ref >> 8] |= 1 << (ref & 0xff);
            }
            if (firstDup != type(uint256).max) {
                vm.expectRevert(
                    abi.encodeWithSelector(
                        IClearingCycles.DuplicateReference.selector, payer, bytes32(firstDup)
                    )
                );
            }
            vm.prank(payer);
            if (viaSubmit) hub.submit(Model.input(os[0]));
            else hub.submitBatch(batch);
            if (firstDup == type(uint256).max) {
                for (uint256 w; w < 4; ++w) {
                    used[w] |= inBatch[w];
                }
                accepted += size;
            }
        }
        bytes32[] memory all = new bytes32[](1024);
        for (uint256 i; i < 1024; ++i) {
            all[i] = bytes32(i);
        }
        uint256[] memory bits = hub.referencesUsed(payer, all);
        for (uint256 w; w < 4; ++w) {
            vm.assertEq(bits[w], used[w], "bitmap matches the model");
        }
        vm.assertEq(uint256(hub.cycle(1).count), accepted, "count");
    }

    // ============================================================================ single submissions

    /// @dev `submit` with random fields from small pools (members, strangers, the payer itself, unknown
    ///      currencies, every kind, zero amounts and references, a used reference): the model predicts
    ///      the exact outcome in the documented order.
    function testFuzz_submitModel(
        uint256 payerSel,
        uint256 payeeSel,
        uint256 codeSel,
        uint256 kindSel,
        uint256 amount,
        uint256 refSel
    ) public {
        address[] memory all = members();
        address payer = all[payerSel % all.length];
        bytes32 usedRef = bytes32(uint256(0xAB01));
        vm.prank(payer);
        hub.submit(input(payer == banks[0] ? banks[1] : banks[0], 1, usedRef));

        address payee;
        uint256 p = payeeSel % 12;
        if (p < 8) payee = all[p];
        else if (p == 8) payee = address(0);
        else if (p == 9) payee = address(uint160(payeeSel >> 8));
        else payee = payer;
        if (p == 9 && _isMember(payee)) payee = address(0xDEAD);
        bytes3[4] memory codes = [SGD, USD, bytes3("EUR"), bytes3(0)];
        bytes3 code = codes[codeSel % 4];
        uint8 kind = uint8(kindSel % 4);
        // zero, within the bound, or anywhere in uint256 (mostly above MAX_AMOUNT)
        amount = amount % 3 == 0 ? 0 : amount % 3 == 1 ? (amount >> 129) | 1 : amount;
        bytes32 ref = refSel % 4 == 0 ? bytes32(0) : refSel % 4 == 1 ? usedRef : bytes32(refSel | 1 << 200);

        bytes memory err;
        if (ref == 0) {
            err = abi.encodeWithSelector(IClearingCycles.ZeroReference.selector, 0);
        } else if (!_isMember(payee)) {
            err = abi.encodeWithSelector(IClearingCycles.InactivePayee.selector, ref, payee);
        } else if (code != SGD && code != USD) {
            err = abi.encodeWithSelector(IClearingCycles.UnknownObligationCurrency.selector, ref, code);
        } else if (amount == 0) {
            err = abi.encodeWithSelector(IClearingCycles.ZeroObligationAmount.selector, ref);
        } else if (amount > MAX_AMOUNT) {
            err = abi.encodeWithSelector(IClearingCycles.ObligationAmountTooLarge.selector, ref, amount);
        } else if (payee == payer) {
            err = abi.encodeWithSelector(IClearingCycles.PayerIsPayee.selector, ref);
        } else if (kind != 0 && kind != _expectedKind(payer, payee)) {
            err = abi.encodeWithSelector(IClearingCycles.KindMismatch.selector, ref, ObligationKind(kind));
        } else if (ref == usedRef) {
            err = abi.encodeWithSelector(IClearingCycles.DuplicateReference.selector, payer, ref);
        }

        Obligation memory o =
            Obligation(1, payer, payee, code, ObligationKind(kind), amount, ref, bytes32(0), bytes32(0));
        bytes32 before = hub.cycle(1).submissionsHash;
        if (err.length != 0) vm.expectRevert(err);
        vm.prank(payer);
        hub.submit(Model.input(o));
        if (err.length == 0) {
            vm.assertEq(hub.cycle(1).submissionsHash, Model.step(before, o), "hash");
            vm.assertEq(uint256(hub.cycle(1).count), 2, "count");
        } else {
            vm.assertEq(hub.cycle(1).submissionsHash, before, "unchanged");
            vm.assertEq(uint256(hub.cycle(1).count), 1, "unchanged");
        }
    }
}
