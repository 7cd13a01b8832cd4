// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {HubTest} from "../utils/HubTest.sol";
import {ClearingResult, ResultChain} from "../utils/HubFixture.sol";
import {Vm} from "../utils/Vm.sol";
import {IClearingResults} from "../../../contracts/interfaces/IClearingResults.sol";
import {CycleStatus, NetPosition} from "../../../contracts/types/SettlementTypes.sol";

/// @notice Random net positions against random balances and caps: balanced nets within caps settle
///         exactly and conserve money; unbalanced nets and nets beyond a cap are refused with the exact
///         error and change nothing.
contract ResultFuzzTest is HubTest {
    uint256 internal constant SCALE = 3 * FUNDING;

    function _rand(uint256 seed, uint256 salt) internal pure returns (uint256) {
        return uint256(keccak256(abi.encode(seed, salt)));
    }

    /// @dev Random funding, defunding and caps for every member in both currencies (before any cycle closes).
    function _randomiseAccounts(uint256 seed) internal {
        address[] memory all = members();
        bytes3[2] memory codes = [SGD, USD];
        vm.startPrank(admin);
        for (uint256 i; i < all.length; ++i) {
            for (uint256 c; c < 2; ++c) {
                uint256 r = _rand(seed, 10 * i + c);
                uint256 mode = r % 3;
                if (mode == 1) hub.fund(all[i], codes[c], 1 + (r >> 8) % FUNDING);
                else if (mode == 2) hub.defund(all[i], codes[c], 1 + (r >> 8) % FUNDING);
                uint256 capMode = (r >> 128) % 4;
                uint256 cap = capMode == 0 ? 0 : capMode == 1 ? (r >> 64) % 1000 : (r >> 64) % (2 * FUNDING);
                hub.setDebitCap(all[i], codes[c], cap);
            }
        }
        vm.stopPrank();
    }

    /// @dev Headroom of an account: how much it may pay before hitting minus its cap.
    function _headroom(address who, bytes3 code) internal view returns (uint256) {
        (int256 balance, uint256 cap) = hub.accountOf(who, code);
        int256 room = balance + int256(cap);
        return room > 0 ? uint256(room) : 0;
    }

    /// @dev Balanced nets within caps: random payers pay at most their headroom, random receivers share
    ///      the total. Participants are disjoint per currency; output is canonical.
    function _balanced(uint256 seed) internal view returns (NetPosition[] memory ps) {
        address[] memory all = members();
        bytes3[2] memory codes = [SGD, USD];
        NetPosition[] memory tmp = new NetPosition[](2 * all.length);
        uint256 n;
        for (uint256 c; c < 2; ++c) {
            if (_rand(seed, 1000 + c) % 5 == 0) continue; // sometimes a currency has no positions
            // role per member: 0 none, 1 payer, 2 receiver
            uint256[] memory role = new uint256[](all.length);
            uint256 total;
            uint256 receivers;
            for (uint256 i; i < all.length; ++i) {
                uint256 r = _rand(seed, 2000 + 10 * i + c);
                role[i] = r % 3;
                if (role[i] == 1) {
                    uint256 room = _headroom(all[i], codes[c]);
                    if (room == 0) {
                        role[i] = 0;
                        continue;
                    }
                    uint256 pay = 1 + (r >> 8) % room;
                    total += pay;
                    tmp[n + i] = NetPosition(all[i], codes[c], -int256(pay));
                } else if (role[i] == 2) {
                    ++receivers;
                }
            }
            if (total == 0 || receivers == 0) {
                for (uint256 i; i < all.length; ++i) {
                    delete tmp[n + i];
                }
                continue;
            }
            // share `total` among the receivers, each at least 1 when possible
            uint256 left = total;
            uint256 seen;
            for (uint256 i; i < all.length; ++i) {
                if (role[i] != 2) continue;
                ++seen;
                uint256 share = seen == receivers
                    ? left
                    : (left > 1 ? 1 + _rand(seed, 3000 + i + c) % (left / 2 + 1) : 0);
                if (share > left) share = left;
                left -= share;
                if (share == 0) continue;
                tmp[n + i] = NetPosition(all[i], codes[c], int256(share));
            }
            // compact this currency's block
            uint256 k = n;
            for (uint256 i; i < all.length; ++i) {
                if (tmp[n + i].net != 0) tmp[k++] = tmp[n + i];
            }
            for (uint256 i = k; i < n + all.length; ++i) {
                delete tmp[i];
            }
            n = k;
        }
        ps = new NetPosition[](n);
        for (uint256 i; i < n; ++i) {
            ps[i] = tmp[i];
        }
    }

    function _snapshotBalances() internal view returns (int256[] memory out) {
        address[] memory all = members();
        out = new int256[](2 * all.length);
        for (uint256 i; i < all.length; ++i) {
            out[2 * i] = balanceOf(all[i], SGD);
            out[2 * i + 1] = balanceOf(all[i], USD);
        }
    }

    function _assertBalances(int256[] memory expected) internal view {
        address[] memory all = members();
        for (uint256 i; i < all.length; ++i) {
            vm.assertEq(balanceOf(all[i], SGD), expected[2 * i], "SGD balance");
            vm.assertEq(balanceOf(all[i], USD), expected[2 * i + 1], "USD balance");
        }
    }

    function _index(address who, bytes3 code) internal view returns (uint256) {
        address[] memory all = members();
        for (uint256 i; i < all.length; ++i) {
            if (all[i] == who) return 2 * i + (code == SGD ? 0 : 1);
        }
        revert("unknown");
    }

    function _assertWithinCaps() internal view {
        address[] memory all = members();
        for (uint256 i; i < all.length; ++i) {
            (int256 b, uint256 cap) = hub.accountOf(all[i], SGD);
            vm.assertGe(b, -int256(cap), "SGD within cap");
            (b, cap) = hub.accountOf(all[i], USD);
            vm.assertGe(b, -int256(cap), "USD within cap");
        }
    }

    // ============================================================================ balanced nets

    function testFuzz_balancedNetsWithinCapsSettle(uint256 seed) public {
        _randomiseAccounts(seed);
        uint64 id = closeAsAdmin();
        NetPosition[] memory ps = _balanced(seed);
        int256 totalSgd = hub.totalBalance(SGD);
        int256 totalUsd = hub.totalBalance(USD);
        int256[] memory expected = _snapshotBalances();
        for (uint256 i; i < ps.length; ++i) {
            expected[_index(ps[i].participant, ps[i].currency)] += ps[i].net;
        }

        ClearingResult memory r = resultFor(id, 0, 0, ps);
        int256[] memory before = _snapshotBalances();
        bytes32 h = hub.hashResult(header(r));
        (bytes32 h0, bool s) = approveAs(0, r);
        vm.assertEq(h0, h, "hash");
        vm.assertFalse(s, "first approval");
        (, s) = approveAs(1, r);
        vm.assertTrue(s, "accepted");
        _assertBalances(before); // nothing moves before the positions arrive
        if (seed % 2 == 0 || ps.length == 0) {
            applyAll(r);
        } else {
            vm.assertTrue(applyInChunks(r, 1 + (seed >> 8) % ps.length), "settled in chunks");
        }
        assertStatus(id, CycleStatus.Settled);
        _assertBalances(expected);
        _assertWithinCaps();
        vm.assertEq(hub.totalBalance(SGD), totalSgd, "SGD conserved");
        vm.assertEq(hub.totalBalance(USD), totalUsd, "USD conserved");
        vm.assertEq(hub.cycle(id).resultHash, h, "result");
    }

    /// @dev One receiver's net changed by `delta` != 0: NetsDoNotBalance(currency, delta), nothing recorded.
    function testFuzz_unbalancedNetsRefused(uint256 seed, uint256 pick, int256 delta) public {
        _randomiseAccounts(seed);
        uint64 id = closeAsAdmin();
        NetPosition[] memory ps = _balanced(seed);
        uint256 receivers;
        for (uint256 i; i < ps.length; ++i) {
            if (ps[i].net > 0) ++receivers;
        }
        vm.assume(receivers > 0);
        uint256 target = pick % receivers;
        uint256 idx;
        for (uint256 i; i < ps.length; ++i) {
            if (ps[i].net > 0) {
                if (target == 0) {
                    idx = i;
                    break;
                }
                --target;
            }
        }
        // keep the receiver's net positive (so the positions stay canonical) and bounded
        uint256 magnitude = bound(uint256(delta < 0 ? -(delta + 1) : delta), 1, SCALE);
        delta = delta < 0 ? -int256(magnitude) : int256(magnitude);
        if (ps[idx].net + delta <= 0) delta = 1 - ps[idx].net;
        if (delta == 0) delta = 1;
        ps[idx].net += delta;
        ClearingResult memory r = resultFor(id, 0, 0, ps);
        expectSettleRevert(
            r,
            abi.encodeWithSelector(IClearingResults.NetsDoNotBalance.selector, ps[idx].currency, delta)
        );
        vm.assertFalse(hub.hasApproved(id, oracles[0]), "not recorded");
    }

    /// @dev The cap boundary for a random balance and cap: exactly minus the cap settles, one more refuses.
    function testFuzz_capBoundary(uint256 fundSeed, uint256 capSeed, bool over) public {
        address payer = wallets[1];
        address payee = banks[3];
        uint256 cap = bound(capSeed, 0, 10 * FUNDING);
        vm.startPrank(admin);
        uint256 fundMode = fundSeed % 3;
        if (fundMode == 1) hub.fund(payer, SGD, bound(fundSeed, 1, 10 * FUNDING));
        else if (fundMode == 2) hub.defund(payer, SGD, bound(fundSeed, 1, FUNDING));
        hub.setDebitCap(payer, SGD, cap);
        vm.stopPrank();
        uint64 id = closeAsAdmin();
        (int256 balance,) = hub.accountOf(payer, SGD);
        int256 pay = balance + int256(cap) + (over ? int256(1) : int256(0));
        vm.assume(pay > 0);
        NetPosition[] memory ps = positions2(payee, pay, payer, -pay, SGD); // banks sort before wallets
        ClearingResult memory r = resultFor(id, 0, 0, ps);
        if (over) {
            expectSettleRevert(
                r,
                abi.encodeWithSelector(
                    IClearingResults.DebitCapExceeded.selector, payer, SGD, -int256(cap) - 1, cap
                )
            );
        } else {
            settle(r);
            vm.assertEq(balanceOf(payer, SGD), -int256(cap), "exactly at minus the cap");
        }
    }

    /// @dev Random caps and random balanced nets that may exceed them: the first position (in canonical
    ///      order) beyond its cap is reported exactly; otherwise the result settles.
    function testFuzz_randomCapsModel(uint256 seed) public {
        _randomiseAccounts(seed);
        uint64 id = closeAsAdmin();
        address[] memory all = members();
        // every member in SGD with a random net, the last member absorbs the sum
        NetPosition[] memory ps = new NetPosition[](all.length);
        int256 sum;
        for (uint256 i; i < all.length; ++i) {
            int256 net;
            if (i + 1 < all.length) {
                net = int256(_rand(seed, 500 + i) % (2 * SCALE)) - int256(SCALE);
                if (net == 0) net = 1;
                sum += net;
            } else {
                net = sum == 0 ? int256(0) : -sum;
            }
            ps[i] = NetPosition(all[i], SGD, net);
        }
        vm.assume(ps[all.length - 1].net != 0);

        bytes memory err;
        for (uint256 i; i < ps.length && err.length == 0; ++i) {
            (int256 balance, uint256 cap) = hub.accountOf(ps[i].participant, SGD);
            int256 after_ = balance + ps[i].net;
            if (ps[i].net < 0 && after_ < -int256(cap)) {
                err = abi.encodeWithSelector(
                    IClearingResults.DebitCapExceeded.selector, ps[i].participant, SGD, after_, cap
                );
            }
        }
        ClearingResult memory r = resultFor(id, 0, 0, ps);
        int256[] memory before = _snapshotBalances();
        if (err.length != 0) {
            expectSettleRevert(r, err);
            _assertBalances(before);
            vm.assertEq(uint256(hub.cycle(id).status), uint256(CycleStatus.Closed), "still closed");
        } else {
            settle(r);
            _assertWithinCaps();
            for (uint256 i; i < ps.length; ++i) {
                before[_index(ps[i].participant, SGD)] += ps[i].net;
            }
            _assertBalances(before);
        }
    }

    /// @dev An account pushed below minus its cap by a cap cut (the admin's way to stop its payments) may
    ///      still receive, and may not pay: its balance only rises until it is back within the cap.
    function testFuzz_overLimitAccountOnlyRises(uint256 usedSeed, uint256 newCapSeed, int256 netSeed) public {
        address m = banks[2];
        address other = banks[4];
        uint256 used = bound(usedSeed, 1, CAP);
        uint64 id = closeAsAdmin();
        settle(
            resultFor(id, 0, 0, positions2(m, -int256(FUNDING + used), other, int256(FUNDING + used), SGD))
        );
        uint256 newCap = bound(newCapSeed, 0, used - 1);
        vm.prank(admin);
        hub.setDebitCap(m, SGD, newCap);
        int256 balance = balanceOf(m, SGD);
        vm.assertEq(balance, -int256(used), "usage");
        vm.assertTrue(balance < -int256(newCap), "now over its cap");

        id = closeAsAdmin();
        int256 net = int256(bound(uint256(netSeed < 0 ? -(netSeed + 1) : netSeed), 1, 2 * CAP));
        if (netSeed < 0) net = -net;
        ClearingResult memory r = resultFor(id, 0, 0, positions2(m, net, other, -net, SGD));
        if (net < 0) {
            expectSettleRevert(
                r,
                abi.encodeWithSelector(
                    IClearingResults.DebitCapExceeded.selector, m, SGD, balance + net, newCap
                )
            );
        } else {
            settle(r);
            vm.assertEq(balanceOf(m, SGD), balance + net, "receipt applied");
        }
    }

    // ============================================================================ chunks

    /// @dev Chunk ends of `n` positions from `cutSeed`: each boundary 1 .. n-1 is cut with probability 1/2.
    function _cuts(uint256 n, uint256 cutSeed) internal pure returns (uint256[] memory ends) {
        ends = new uint256[](n);
        uint256 k;
        for (uint256 i = 1; i < n; ++i) {
            if (_rand(cutSeed, i) % 2 == 0) ends[k++] = i;
        }
        ends[k++] = n;
        assembly ("memory-safe") {
            mstore(ends, k)
        }
    }

    /// @dev Per currency: sum of balances - the applied nets of positions 0 .. applied-1 == totalBalance.
    function _assertConserved(NetPosition[] memory ps, uint256 applied, int256 totalSgd, int256 totalUsd)
        internal
        view
    {
        address[] memory all = members();
        bytes3[2] memory codes = [SGD, USD];
        int256[2] memory totals = [totalSgd, totalUsd];
        for (uint256 c; c < 2; ++c) {
            int256 sum;
            for (uint256 i; i < all.length; ++i) {
                sum += balanceOf(all[i], codes[c]);
            }
            for (uint256 i; i < applied; ++i) {
                if (ps[i].currency == codes[c]) sum -= ps[i].net;
            }
            vm.assertEq(sum, totals[c], "sum of balances - in flight == totalBalance");
            vm.assertEq(hub.totalBalance(codes[c]), totals[c], "totalBalance unchanged");
        }
    }

    /// @dev Keccak of every NetPositionSettled log (topics and data), in order.
    function _settledLogs() internal returns (bytes32[] memory out) {
        Vm.Log[] memory logs = vm.getRecordedLogs();
        out = new bytes32[](logs.length);
        uint256 k;
        for (uint256 i; i < logs.length; ++i) {
            if (logs[i].topics.length != 0 && logs[i].topics[0] == IClearingResults.NetPositionSettled.selector) {
                out[k++] = keccak256(abi.encode(logs[i].topics, logs[i].data));
            }
        }
        assembly ("memory-safe") {
            mstore(out, k)
        }
    }

    /// @dev Any chunking of a valid result settles the same balances and emits the same nets as one
    ///      chunk; after every chunk money is conserved, caps hold, and the cycle is settled only by the last.
    function testFuzz_anyChunkingSettlesTheSame(uint256 seed, uint256 cutSeed) public {
        _randomiseAccounts(seed);
        uint64 id = closeAsAdmin();
        closeAsAdmin(); // the next cycle waits
        NetPosition[] memory ps = _balanced(seed);
        vm.assume(ps.length != 0);
        ClearingResult memory r = resultFor(id, 0, 0, ps);
        int256 totalSgd = hub.totalBalance(SGD);
        int256 totalUsd = hub.totalBalance(USD);

        uint256 snap = vm.snapshotState();
        accept(r);
        vm.recordLogs();
        applyAll(r);
        bytes32[] memory oneChunk = _settledLogs();
        int256[] memory expected = _snapshotBalances();
        vm.revertToState(snap);

        accept(r);
        uint256[] memory ends = _cuts(ps.length, cutSeed);
        vm.recordLogs();
        uint256 start;
        for (uint256 k; k < ends.length; ++k) {
            (uint64 applied, bool settled) = applyChunk(r, start, ends[k]);
            start = ends[k];
            vm.assertEq(uint256(applied), start, "applied");
            vm.assertEq(settled, start == ps.length, "settled by the last chunk only");
            _assertConserved(ps, start, totalSgd, totalUsd);
            _assertWithinCaps();
            if (!settled) {
                vm.assertEq(uint256(hub.cycle(id).status), uint256(CycleStatus.Settling), "settling");
                vm.assertEq(uint256(hub.cycle(id + 1).readyBlock), 0, "next not ready");
            }
        }
        bytes32[] memory chunked = _settledLogs();
        vm.assertEq(uint256(hub.cycle(id).status), uint256(CycleStatus.Settled), "settled");
        vm.assertTrue(hub.cycle(id + 1).readyBlock != 0, "next ready");
        _assertBalances(expected);
        vm.assertEq(chunked.length, oneChunk.length, "as many nets");
        for (uint256 i; i < chunked.length; ++i) {
            vm.assertEq(chunked[i], oneChunk[i], "the same nets and balances");
        }
    }

    /// @dev Cancelled after a random prefix in random chunks, then unwound in random chunks: every balance
    ///      is restored exactly, money is conserved after every chunk and the input carries.
    function testFuzz_cancelAfterChunksUnwindsExactly(uint256 seed, uint256 cutSeed, uint256 unwindSeed) public {
        _randomiseAccounts(seed);
        submitOne(interbank(banks[0], banks[1], 1));
        uint64 id = closeAsAdmin();
        NetPosition[] memory ps = _balanced(seed);
        vm.assume(ps.length >= 2);
        ClearingResult memory r = resultFor(id, 1, 0, ps);
        int256 totalSgd = hub.totalBalance(SGD);
        int256 totalUsd = hub.totalBalance(USD);
        int256[] memory original = _snapshotBalances();
        accept(r);
        uint256[] memory ends = _cuts(ps.length, cutSeed);
        uint256 stop = 1 + seed % (ends.length > 1 ? ends.length - 1 : 1); // chunks applied before the cancel
        if (ends.length == 1) ends[0] = 1 + cutSeed % (ps.length - 1); // one chunk short of the end
        uint256 applied;
        for (uint256 k; k < stop && k < ends.length; ++k) {
            applyChunk(r, applied, ends[k]);
            applied = ends[k];
        }
        vm.assertLt(applied, ps.length, "not all applied");
        vm.prank(admin);
        hub.cancelCycle(id, "unwind");
        uint256 unwound;
        while (unwound < applied) {
            uint256 end = unwound + 1 + _rand(unwindSeed, unwound) % (applied - unwound);
            (uint64 u, bool cancelled) = unwindChunk(r, unwound, end);
            unwound = end;
            vm.assertEq(uint256(u), unwound, "unwound");
            vm.assertEq(cancelled, unwound == applied, "cancelled by the last reversal only");
            // positions unwound .. applied-1 are still in flight
            NetPosition[] memory inFlight = new NetPosition[](applied);
            for (uint256 i = unwound; i < applied; ++i) {
                inFlight[i] = ps[i];
            }
            _assertConserved(inFlight, applied, totalSgd, totalUsd);
        }
        vm.assertEq(uint256(hub.cycle(id).status), uint256(CycleStatus.Cancelled), "cancelled");
        _assertBalances(original);
        (, uint64 carried) = hub.carry();
        vm.assertEq(uint256(carried), 1, "the input carries");
    }

    /// @dev A wrong chunk at a random point is refused with its named error and changes nothing; the
    ///      right chunk then applies.
    function testFuzz_wrongChunkRefused(uint256 seed, uint256 prefixSeed, uint256 kind, uint256 salt) public {
        _randomiseAccounts(seed);
        uint64 id = closeAsAdmin();
        NetPosition[] memory ps = _balanced(seed);
        vm.assume(ps.length >= 2);
        ClearingResult memory r = resultFor(id, 0, 0, ps);
        bytes32[] memory chain = ResultChain.hashes(ps);
        uint256 n = ps.length;
        accept(r);
        uint256 start = prefixSeed % n;
        if (start != 0) applyChunk(r, 0, start);
        uint256 size = 1 + salt % (n - start);
        NetPosition[] memory chunk = ResultChain.slice(ps, start, start + size);
        bytes32 rest = chain[start + size];
        bytes memory err = abi.encodeWithSelector(IClearingResults.ChunkMismatch.selector, id, uint64(start));
        kind %= 6;
        if (kind == 0) {
            rest = bytes32(uint256(rest) ^ (1 << (salt % 256))); // wrong rest
        } else if (kind == 1) {
            chunk[(salt >> 8) % size].net += (salt >> 16) % 2 == 0 ? int256(1) : int256(-1); // wrong net
        } else if (kind == 2 && start + size < n) {
            chunk = ResultChain.slice(ps, start + 1, start + size + 1); // skipped a position
            rest = chain[start + size + 1];
        } else if (kind == 3) {
            NetPosition[] memory longer = new NetPosition[](n - start + 1); // past the end
            for (uint256 i = start; i < n; ++i) {
                longer[i - start] = ps[i];
            }
            longer[n - start] = ps[n - 1];
            chunk = longer;
            rest = bytes32(0);
            err = abi.encodeWithSelector(IClearingResults.ChunkOutOfRange.selector, id, uint64(start), n - start + 1, uint64(n));
        } else if (kind == 4 && start != 0) {
            uint256 most = start < n - start ? start : n - start; // a replay no longer than what is left
            chunk = ResultChain.slice(ps, start - 1 - (salt >> 8) % most, start); // replayed
            rest = chain[start];
        } else {
            chunk = new NetPosition[](0); // empty
            err = abi.encodeWithSelector(IClearingResults.ChunkOutOfRange.selector, id, uint64(start), 0, uint64(n));
        }
        int256[] memory before = _snapshotBalances();
        vm.expectRevert(err);
        hub.settlePositions(id, chunk, rest);
        _assertBalances(before);
        vm.assertEq(uint256(hub.settlement().applied), start, "nothing applied");
        vm.assertEq(hub.settlement().nextHash, chain[start], "chain value unchanged");
        (, bool settled) = applyChunk(r, start, n);
        vm.assertTrue(settled, "the right chunk settles");
    }
}
