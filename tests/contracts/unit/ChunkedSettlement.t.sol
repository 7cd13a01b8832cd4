// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {HubTest, Model, Obligation} from "../utils/HubTest.sol";
import {ClearingResult, ResultChain} from "../utils/HubFixture.sol";
import {Vm} from "../utils/Vm.sol";
import {ISettlementAccounts} from "../../../contracts/interfaces/ISettlementAccounts.sol";
import {IClearingCycles} from "../../../contracts/interfaces/IClearingCycles.sol";
import {IClearingResults} from "../../../contracts/interfaces/IClearingResults.sol";
import {IMembership} from "../../../contracts/interfaces/IMembership.sol";
import {
    CycleStatus,
    NetPosition,
    ObligationKind,
    SettlementProgress
} from "../../../contracts/types/SettlementTypes.sol";

/// @notice An accepted result applied in chunks (`settlePositions`) and, after a cancellation, reversed
///         in chunks (`unwindPositions`): every chunking settles the same; a wrong chunk is refused with
///         its named error and changes nothing; money is conserved and caps hold after every chunk.
contract ChunkedSettlementTest is HubTest {
    uint256 internal constant N = 15; // positions of `_big`

    /// @dev Cycle 1 holds three obligations and is closed (ready); cycle 2 holds one and is closed too,
    ///      waiting for 1.
    Obligation internal oa;
    Obligation internal ob;
    Obligation internal oc;

    function setUp() public override {
        super.setUp();
        oa = interbank(banks[0], banks[1], 500);
        ob = interbank(banks[1], wallets[0], 200);
        oc = obligation(banks[2], banks[0], USD, ObligationKind.Interbank, 300, freshRef());
        submitOne(oa);
        submitOne(ob);
        submitOne(oc);
        closeAsAdmin();
        submitOne(interbank(banks[3], banks[4], 9));
        closeAsAdmin();
    }

    /// @dev 15 balanced positions: all 8 members in SGD, 7 in USD (opaque roots, 3 obligations settled).
    function _big() internal view returns (ClearingResult memory) {
        address[] memory all = members();
        int256[8] memory sgd = [int256(-100), 50, -30, 20, 60, -40, 25, 15];
        int256[7] memory usd = [int256(70), -20, -50, 10, -10, 5, -5];
        NetPosition[] memory ps = new NetPosition[](N);
        for (uint256 i; i < 8; ++i) {
            ps[i] = NetPosition(all[i], SGD, sgd[i]);
        }
        for (uint256 i; i < 7; ++i) {
            ps[8 + i] = NetPosition(all[i], USD, usd[i]);
        }
        return resultFor(1, 3, 0, ps);
    }

    function _balances() internal view returns (int256[] memory out) {
        address[] memory all = members();
        out = new int256[](2 * all.length);
        for (uint256 i; i < all.length; ++i) {
            out[i] = balanceOf(all[i], SGD);
            out[all.length + i] = balanceOf(all[i], USD);
        }
    }

    function _assertBalances(int256[] memory expected, string memory what) internal view {
        int256[] memory got = _balances();
        for (uint256 i; i < got.length; ++i) {
            vm.assertEq(got[i], expected[i], what);
        }
    }

    /// @dev For every currency: sum of balances - applied nets of it == totalBalance; no payer below -cap.
    function _assertConservedAndCapped(ClearingResult memory r, uint256 applied, int256 sgdTotal, int256 usdTotal)
        internal
        view
    {
        address[] memory all = members();
        bytes3[2] memory codes = [SGD, USD];
        int256[2] memory totals = [sgdTotal, usdTotal];
        for (uint256 c; c < 2; ++c) {
            int256 sum;
            for (uint256 i; i < all.length; ++i) {
                (int256 b, uint256 cap) = hub.accountOf(all[i], codes[c]);
                vm.assertGe(b, -int256(cap), "within its cap");
                sum += b;
            }
            int256 inFlight;
            for (uint256 i; i < applied; ++i) {
                if (r.positions[i].currency == codes[c]) inFlight += r.positions[i].net;
            }
            vm.assertEq(sum - inFlight, hub.totalBalance(codes[c]), "sum - in flight == totalBalance");
            vm.assertEq(hub.totalBalance(codes[c]), totals[c], "totalBalance unchanged");
        }
    }

    function _assertProgress(uint64 applied, bytes32 nextHash) internal view {
        SettlementProgress memory p = hub.settlement();
        vm.assertEq(uint256(p.cycleId), 1, "cycle 1 settling");
        vm.assertEq(uint256(p.applied), uint256(applied), "applied");
        vm.assertEq(p.nextHash, nextHash, "next chain value");
    }

    // ============================================================================ any chunking

    /// @dev Every chunk size from 1 to N settles the same balances as one chunk, and each chunk leaves the
    ///      cycle settling, the next cycle not ready, money conserved and caps held.
    function test_chunks_everyChunkSizeSettlesTheSame() public {
        ClearingResult memory r = _big();
        int256 sgdTotal = hub.totalBalance(SGD);
        int256 usdTotal = hub.totalBalance(USD);
        uint256 snap = vm.snapshotState();
        settle(r);
        int256[] memory expected = _balances();
        vm.revertToState(snap);
        bytes32[] memory chain = ResultChain.hashes(r.positions);
        for (uint256 size = 1; size <= N; ++size) {
            snap = vm.snapshotState();
            accept(r);
            for (uint256 start; start < N; start += size) {
                uint256 end = start + size < N ? start + size : N;
                vm.expectEmit(true, false, false, true, address(hub));
                emit IClearingResults.PositionsApplied(1, uint64(start), uint64(end), uint64(N));
                (uint64 applied, bool settled) = applyChunk(r, start, end);
                vm.assertEq(uint256(applied), end, "applied so far");
                vm.assertEq(settled, end == N, "settled by the last chunk only");
                _assertConservedAndCapped(r, end, sgdTotal, usdTotal);
                if (end < N) {
                    assertStatus(1, CycleStatus.Settling);
                    _assertProgress(uint64(end), chain[end]);
                    vm.assertEq(uint256(hub.cycle(2).readyBlock), 0, "2 not ready before the last chunk");
                    vm.assertEq(uint256(hub.nextCycleToFinalize()), 1, "1 still next");
                }
            }
            assertStatus(1, CycleStatus.Settled);
            vm.assertTrue(hub.cycle(2).readyBlock != 0, "2 ready after the last chunk");
            vm.assertEq(uint256(hub.settlement().cycleId), 0, "nothing settling");
            _assertBalances(expected, "same balances whatever the chunking");
            vm.revertToState(snap);
        }
    }

    /// @dev Each chunk emits NetPositionSettled for its positions, then PositionsApplied; the last one
    ///      CycleSettled, and the next cycle becomes ready in the same transaction.
    function test_chunks_events() public {
        ClearingResult memory r = _big();
        bytes32 h = accept(r);
        for (uint256 i; i < 6; ++i) {
            NetPosition memory p = r.positions[i];
            vm.expectEmit(true, true, true, true, address(hub));
            emit IClearingResults.NetPositionSettled(1, p.participant, p.currency, p.net, int256(FUNDING) + p.net);
        }
        vm.expectEmit(true, false, false, true, address(hub));
        emit IClearingResults.PositionsApplied(1, 0, 6, uint64(N));
        applyChunk(r, 0, 6);
        for (uint256 i = 6; i < N; ++i) {
            NetPosition memory p = r.positions[i];
            vm.expectEmit(true, true, true, true, address(hub));
            emit IClearingResults.NetPositionSettled(1, p.participant, p.currency, p.net, int256(FUNDING) + p.net);
        }
        vm.expectEmit(true, false, false, true, address(hub));
        emit IClearingResults.PositionsApplied(1, 6, uint64(N), uint64(N));
        vm.expectEmit(true, false, false, true, address(hub));
        emit IClearingResults.CycleSettled(1, h, r.settledRoot, bytes32(0), 3, 0);
        vm.expectEmit(true, false, false, false, address(hub));
        emit IClearingCycles.CycleReady(2, bytes32(0), bytes32(0), 0, 0);
        applyChunk(r, 6, N);
    }

    /// @dev A committee member publishes a settled cycle's deferred-set bitmap as an event; others, and
    ///      cycles not yet settled, are refused.
    function test_publishDeferredSet_settledCyclesAndCommitteeOnly() public {
        ClearingResult memory r = _big();
        bytes memory bits = hex"05";
        vm.prank(oracles[2]);
        vm.expectRevert(abi.encodeWithSelector(IClearingResults.NotSettled.selector, uint64(1)));
        hub.publishDeferredSet(1, 0, bits);
        accept(r);
        vm.prank(oracles[0]);
        vm.expectRevert(abi.encodeWithSelector(IClearingResults.NotSettled.selector, uint64(1)));
        hub.publishDeferredSet(1, 0, bits); // settling is not settled
        applyChunk(r, 0, N);
        vm.prank(banks[0]);
        vm.expectRevert(abi.encodeWithSelector(IMembership.NotOracle.selector, banks[0]));
        hub.publishDeferredSet(1, 0, bits);
        vm.expectEmit(true, true, false, true, address(hub));
        emit IClearingResults.DeferredSetPublished(1, oracles[2], 3, bits);
        vm.prank(oracles[2]); // any member, whether or not it approved
        hub.publishDeferredSet(1, 3, bits);
    }

    /// @dev The roots verify only once the last chunk settled the cycle.
    function test_chunks_verifyObligationFalseWhileSettling() public {
        // cycle 1's three real obligations, all settled
        Obligation[] memory os = decodeSubmittedCycle1();
        ClearingResult memory r = realResult(1, os, new Obligation[](0));
        vm.assertEq(r.positions.length, 5, "five positions");
        accept(r);
        bytes32[] memory tree = Model.buildTree(leaves(os));
        bytes32[] memory proof = Model.proof(tree, Model.leaf(os[0]));
        Obligation memory o = os[0];
        applyChunk(r, 0, 2);
        vm.assertFalse(
            hub.verifyObligation(1, true, proof, 1, o.payer, o.payee, o.currency, o.amount, o.ref), "settling"
        );
        (bytes32 sr,) = hub.roots(1);
        vm.assertEq(sr, r.settledRoot, "the accepted result's root is visible");
        applyChunk(r, 2, 5);
        vm.assertTrue(
            hub.verifyObligation(1, true, proof, 1, o.payer, o.payee, o.currency, o.amount, o.ref), "settled"
        );
    }

    function decodeSubmittedCycle1() internal view returns (Obligation[] memory os) {
        os = new Obligation[](3);
        os[0] = oa;
        os[1] = ob;
        os[2] = oc;
    }

    // ============================================================================ wrong chunks

    /// @dev Sends `chunk` with `rest` and expects `err`; nothing changes.
    function _expectRefused(uint64 id, NetPosition[] memory chunk, bytes32 rest, bytes memory err) internal {
        int256[] memory before = _balances();
        SettlementProgress memory p = hub.settlement();
        vm.expectRevert(err);
        hub.settlePositions(id, chunk, rest);
        _assertBalances(before, "a refused chunk changes nothing");
        SettlementProgress memory q = hub.settlement();
        vm.assertEq(uint256(q.applied), uint256(p.applied), "applied unchanged");
        vm.assertEq(q.nextHash, p.nextHash, "next hash unchanged");
    }

    function _mismatch(uint256 start) internal pure returns (bytes memory) {
        return abi.encodeWithSelector(IClearingResults.ChunkMismatch.selector, uint64(1), uint64(start));
    }

    function test_chunks_wrongChunksRefused() public {
        ClearingResult memory r = _big();
        bytes32[] memory chain = ResultChain.hashes(r.positions);
        // before acceptance: nothing is settling
        _expectRefused(
            1,
            r.positions,
            bytes32(0),
            abi.encodeWithSelector(IClearingResults.NotSettling.selector, uint64(1))
        );
        accept(r);
        applyChunk(r, 0, 4);
        // wrong positions
        NetPosition[] memory chunk = ResultChain.slice(r.positions, 4, 8);
        chunk[1].net += 1;
        _expectRefused(1, chunk, chain[8], _mismatch(4));
        chunk = ResultChain.slice(r.positions, 4, 8);
        chunk[2].participant = banks[4] == chunk[2].participant ? banks[3] : banks[4];
        _expectRefused(1, chunk, chain[8], _mismatch(4));
        // wrong rest
        _expectRefused(1, ResultChain.slice(r.positions, 4, 8), chain[9], _mismatch(4));
        _expectRefused(1, ResultChain.slice(r.positions, 4, 8), bytes32(0), _mismatch(4));
        // a skipped chunk: positions 6 .. 9 while 4 is next
        _expectRefused(1, ResultChain.slice(r.positions, 6, 10), chain[10], _mismatch(4));
        // a replayed chunk: 0 .. 3 again
        _expectRefused(1, ResultChain.slice(r.positions, 0, 4), chain[4], _mismatch(4));
        _expectRefused(1, ResultChain.slice(r.positions, 3, 4), chain[4], _mismatch(4));
        // empty
        _expectRefused(
            1,
            new NetPosition[](0),
            chain[4],
            abi.encodeWithSelector(IClearingResults.ChunkOutOfRange.selector, uint64(1), uint64(4), 0, uint64(N))
        );
        // past the end: the rest and one more
        NetPosition[] memory longer = new NetPosition[](N - 4 + 1);
        for (uint256 i = 4; i < N; ++i) {
            longer[i - 4] = r.positions[i];
        }
        longer[N - 4] = r.positions[N - 1];
        _expectRefused(
            1,
            longer,
            bytes32(0),
            abi.encodeWithSelector(
                IClearingResults.ChunkOutOfRange.selector, uint64(1), uint64(4), N - 3, uint64(N)
            )
        );
        // another cycle
        _expectRefused(
            2,
            ResultChain.slice(r.positions, 4, 8),
            chain[8],
            abi.encodeWithSelector(IClearingResults.NotSettling.selector, uint64(2))
        );
        // the right chunk still applies, and after the last nothing more does
        applyChunk(r, 4, N);
        assertStatus(1, CycleStatus.Settled);
        _expectRefused(
            1,
            ResultChain.slice(r.positions, 14, 15),
            bytes32(0),
            abi.encodeWithSelector(IClearingResults.NotSettling.selector, uint64(1))
        );
    }

    /// @dev A chunk whose words have dirty bits cannot belong to an honest chain: refused.
    function test_chunks_dirtyAddressRefused() public {
        ClearingResult memory r = _big();
        accept(r);
        bytes memory data = abi.encodeCall(hub.settlePositions, (1, ResultChain.slice(r.positions, 0, 1), bytes32(0)));
        // the first position's address word starts at 4 + 32 * 3 + 32 (selector, id, offset, rest, length)
        data[4 + 32 * 4] = 0x01;
        (bool ok,) = address(hub).call(data);
        vm.assertFalse(ok, "refused");
        vm.assertEq(uint256(hub.settlement().applied), 0, "nothing applied");
    }

    // ============================================================================ errors found part way

    /// @dev A currency is balanced only once its last position is known: a chunk that ends on SGD's last
    ///      position applies; the chunk that starts USD shows the imbalance and is refused.
    function test_chunks_netsDoNotBalanceFoundWhenTheNextCurrencyStarts() public {
        ClearingResult memory r = _big();
        r.positions[7].net += 1; // SGD sums to +1
        accept(r);
        applyChunk(r, 0, 8);
        vm.expectRevert(abi.encodeWithSelector(IClearingResults.NetsDoNotBalance.selector, SGD, int256(1)));
        applyChunk(r, 8, 10);
        vm.assertEq(uint256(hub.settlement().applied), 8, "SGD stays applied");
    }

    function test_chunks_netsDoNotBalanceAtTheLastChunk() public {
        ClearingResult memory r = _big();
        r.positions[14].net -= 2; // USD sums to -2
        accept(r);
        applyChunk(r, 0, 12);
        vm.expectRevert(abi.encodeWithSelector(IClearingResults.NetsDoNotBalance.selector, USD, int256(-2)));
        applyChunk(r, 12, N);
        assertStatus(1, CycleStatus.Settling);
    }

    /// @dev PositionsNotCanonical counts from the result's first position, also across a chunk boundary.
    function test_chunks_positionsNotCanonicalGlobalIndex() public {
        ClearingResult memory r = _big();
        (r.positions[10], r.positions[11]) = (r.positions[11], r.positions[10]);
        accept(r);
        applyChunk(r, 0, 9);
        vm.expectRevert(abi.encodeWithSelector(IClearingResults.PositionsNotCanonical.selector, 11));
        applyChunk(r, 9, 13);
        applyChunk(r, 9, 11); // the chunk ending before the bad position applies
        vm.expectRevert(abi.encodeWithSelector(IClearingResults.PositionsNotCanonical.selector, 11));
        applyChunk(r, 11, 12); // the order continues from the previous chunk's last position
    }

    function test_chunks_currencyOrderAcrossChunks() public {
        ClearingResult memory r = _big();
        // USD first, then SGD: refused when SGD (a lower code) starts, in its own chunk
        NetPosition[] memory ps = new NetPosition[](N);
        for (uint256 i; i < 7; ++i) {
            ps[i] = r.positions[8 + i];
        }
        for (uint256 i; i < 8; ++i) {
            ps[7 + i] = r.positions[i];
        }
        r.positions = ps;
        accept(r);
        applyChunk(r, 0, 7);
        vm.expectRevert(abi.encodeWithSelector(IClearingResults.PositionsNotCanonical.selector, 7));
        applyChunk(r, 7, N);
    }

    /// @dev A debit cap exceeded in a later chunk: the chunk is refused, the earlier ones stay applied.
    function test_chunks_debitCapExceededInALaterChunk() public {
        ClearingResult memory r = _big();
        int256 limit = int256(FUNDING + CAP);
        r.positions[12].net = -(limit + 1); // banks[4] in USD (was -10)
        r.positions[8].net += limit + 1 - 10; // keep USD balanced
        accept(r);
        applyChunk(r, 0, 10);
        vm.expectRevert(
            abi.encodeWithSelector(
                IClearingResults.DebitCapExceeded.selector, r.positions[12].participant, USD, -int256(CAP) - 1, CAP
            )
        );
        applyChunk(r, 10, N);
        vm.assertEq(uint256(hub.settlement().applied), 10, "earlier chunks stay");
    }

    // ============================================================================ liquidity

    function test_chunks_liquidityLockedWhileSettling() public {
        ClearingResult memory r = _big();
        accept(r);
        applyChunk(r, 0, 5);
        bytes memory locked = abi.encodeWithSelector(ISettlementAccounts.LiquidityLocked.selector, uint64(1));
        vm.startPrank(admin);
        vm.expectRevert(locked);
        hub.defund(banks[1], SGD, 1);
        vm.expectRevert(locked);
        hub.setDebitCap(banks[1], SGD, CAP - 1);
        hub.fund(banks[1], SGD, 1); // more liquidity is always welcome
        hub.setDebitCap(banks[1], SGD, CAP + 1);
        vm.stopPrank();
        applyChunk(r, 5, N);
        // cycle 2 is ready now: still locked
        vm.prank(admin);
        vm.expectRevert(abi.encodeWithSelector(ISettlementAccounts.LiquidityLocked.selector, uint64(2)));
        hub.defund(banks[1], SGD, 1);
    }

    /// @dev A settling cycle cannot fail: anyone can apply its chunks.
    function test_chunks_settlingCycleCannotFail() public {
        vm.prank(admin);
        hub.setSettlementTimeout(1);
        accept(_big());
        vm.warp(block.timestamp + 1 days);
        vm.expectRevert(abi.encodeWithSelector(IClearingCycles.CycleNotReady.selector, uint64(1)));
        hub.failCycle(1);
    }

    // ============================================================================ cancel and unwind

    /// @dev Nothing applied yet: the cancellation is immediate, the roots are withdrawn and the whole
    ///      input carries.
    function test_cancel_settlingWithNothingApplied() public {
        ClearingResult memory r = _big();
        accept(r);
        vm.expectEmit(true, false, false, true, address(hub));
        emit IClearingCycles.CycleCancelled(1, "bad result");
        vm.prank(admin);
        hub.cancelCycle(1, "bad result");
        assertStatus(1, CycleStatus.Cancelled);
        (bytes32 sr, bytes32 dr) = hub.roots(1);
        vm.assertEq(sr, bytes32(0), "roots withdrawn");
        vm.assertEq(dr, bytes32(0), "roots withdrawn");
        (bytes32 carry, uint64 carried) = hub.carry();
        vm.assertEq(uint256(carried), 3, "whole input carries");
        vm.assertEq(carry, hub.cycle(1).inputCommitment, "carry = 1's input commitment");
        vm.assertEq(uint256(hub.nextCycleToFinalize()), 2, "2 next");
        vm.assertTrue(hub.cycle(2).readyBlock != 0, "2 ready");
        vm.assertEq(uint256(hub.settlement().cycleId), 0, "nothing settling");
        vm.expectRevert(abi.encodeWithSelector(IClearingResults.NotSettling.selector, uint64(1)));
        applyAll(r);
    }

    function _unwindRefused(ClearingResult memory r, uint256 start, uint256 end, bytes32 rest, bytes memory err)
        internal
    {
        int256[] memory before = _balances();
        NetPosition[] memory chunk = ResultChain.slice(r.positions, start, end);
        vm.expectRevert(err);
        hub.unwindPositions(1, chunk, rest);
        _assertBalances(before, "a refused unwind changes nothing");
    }

    /// @dev Cancelled after two chunks (9 positions): the applied prefix is reversed in chunks, wrong
    ///      chunks are refused, no position applies meanwhile, and the last reversal cancels the cycle
    ///      with every balance restored exactly and the whole input carried.
    function test_cancel_afterChunksUnwindsInChunks() public {
        ClearingResult memory r = _big();
        int256[] memory original = _balances();
        int256 sgdTotal = hub.totalBalance(SGD);
        int256 usdTotal = hub.totalBalance(USD);
        bytes32[] memory chain = ResultChain.hashes(r.positions);
        accept(r);
        vm.expectRevert(abi.encodeWithSelector(IClearingResults.NotSettling.selector, uint64(1)));
        unwindChunk(r, 0, 1); // not unwinding
        applyChunk(r, 0, 4);
        applyChunk(r, 4, 9);

        vm.expectEmit(true, false, false, true, address(hub));
        emit IClearingResults.SettlementUnwinding(1, 9, "colluding majority");
        vm.prank(admin);
        hub.cancelCycle(1, "colluding majority");
        assertStatus(1, CycleStatus.Settling);
        SettlementProgress memory p = hub.settlement();
        vm.assertTrue(p.unwinding, "unwinding");
        vm.assertEq(uint256(p.applied), 9, "applied");
        vm.assertEq(uint256(p.unwound), 0, "none reversed yet");

        // no position applies, no second cancel
        vm.expectRevert(abi.encodeWithSelector(IClearingResults.SettlementIsUnwinding.selector, uint64(1)));
        applyChunk(r, 9, N);
        vm.prank(admin);
        vm.expectRevert(abi.encodeWithSelector(IClearingResults.SettlementIsUnwinding.selector, uint64(1)));
        hub.cancelCycle(1, "again");

        // wrong unwind chunks
        _unwindRefused(r, 1, 4, chain[4], _mismatch(0)); // not from position 0
        _unwindRefused(r, 0, 4, chain[5], _mismatch(0)); // wrong rest
        _unwindRefused(
            r,
            0,
            10,
            chain[10],
            abi.encodeWithSelector(IClearingResults.ChunkOutOfRange.selector, uint64(1), uint64(0), 10, uint64(9))
        ); // past the applied positions
        _unwindRefused(
            r,
            0,
            0,
            chain[0],
            abi.encodeWithSelector(IClearingResults.ChunkOutOfRange.selector, uint64(1), uint64(0), 0, uint64(9))
        ); // empty
        NetPosition[] memory tampered = ResultChain.slice(r.positions, 0, 3);
        tampered[0].net -= 1;
        vm.expectRevert(_mismatch(0));
        hub.unwindPositions(1, tampered, chain[3]);

        // reverse 0 .. 2, then 3 .. 8
        for (uint256 i; i < 3; ++i) {
            NetPosition memory q = r.positions[i];
            vm.expectEmit(true, true, true, true, address(hub));
            emit IClearingResults.NetPositionReversed(1, q.participant, q.currency, q.net, int256(FUNDING));
        }
        (uint64 unwound, bool cancelled) = unwindChunk(r, 0, 3);
        vm.assertEq(uint256(unwound), 3, "three reversed");
        vm.assertFalse(cancelled, "not yet");
        assertStatus(1, CycleStatus.Settling);
        vm.assertEq(uint256(hub.settlement().unwound), 3, "progress");
        // money: the reversed prefix leaves positions 3 .. 8 in flight
        {
            address[] memory all = members();
            int256 sum;
            for (uint256 i; i < all.length; ++i) {
                sum += balanceOf(all[i], SGD);
            }
            int256 inFlight;
            for (uint256 i = 3; i < 8; ++i) {
                inFlight += r.positions[i].net;
            }
            vm.assertEq(sum - inFlight, sgdTotal, "SGD conserved part way through the unwinding");
        }
        _unwindRefused(r, 0, 3, chain[3], _mismatch(3)); // replayed
        _unwindRefused(r, 4, 9, chain[9], _mismatch(3)); // skipped

        vm.expectEmit(true, false, false, true, address(hub));
        emit IClearingCycles.CycleCancelled(1, "settlement unwound");
        (unwound, cancelled) = unwindChunk(r, 3, 9);
        vm.assertEq(uint256(unwound), 9, "all reversed");
        vm.assertTrue(cancelled, "cancelled");
        assertStatus(1, CycleStatus.Cancelled);
        _assertBalances(original, "every balance restored exactly");
        vm.assertEq(hub.totalBalance(SGD), sgdTotal, "SGD total");
        vm.assertEq(hub.totalBalance(USD), usdTotal, "USD total");
        (bytes32 carry, uint64 carried) = hub.carry();
        vm.assertEq(uint256(carried), 3, "whole input carries");
        vm.assertEq(carry, hub.cycle(1).inputCommitment, "carry commitment");
        (bytes32 sr,) = hub.roots(1);
        vm.assertEq(sr, bytes32(0), "roots withdrawn");
        vm.assertEq(uint256(hub.nextCycleToFinalize()), 2, "2 next");
        vm.assertTrue(hub.cycle(2).readyBlock != 0, "2 ready");
        vm.assertEq(uint256(hub.settlement().cycleId), 0, "nothing settling");
        vm.expectRevert(abi.encodeWithSelector(IClearingResults.NotSettling.selector, uint64(1)));
        unwindChunk(r, 0, 1);

        // cycle 2 settles the carried three and its own one
        ClearingResult memory r2 = resultFor(2, 4, 0, positions2(banks[3], -9, banks[4], 9, SGD));
        settle(r2);
        vm.assertEq(balanceOf(banks[4], SGD), int256(FUNDING) + 9, "2 settled");
    }

    /// @dev Unwinding works while the hub is paused (it only restores balances).
    function test_cancel_unwindWhilePaused() public {
        ClearingResult memory r = _big();
        int256[] memory original = _balances();
        accept(r);
        applyChunk(r, 0, 5);
        vm.startPrank(admin);
        hub.pause();
        hub.cancelCycle(1, "x");
        vm.stopPrank();
        unwindChunk(r, 0, 5);
        assertStatus(1, CycleStatus.Cancelled);
        _assertBalances(original, "restored");
    }

    function test_recordedNetsEqualAcrossChunkings() public {
        ClearingResult memory r = _big();
        uint256 snap = vm.snapshotState();
        accept(r);
        vm.recordLogs();
        applyAll(r);
        bytes32[] memory one = _nets(vm.getRecordedLogs());
        vm.revertToState(snap);
        accept(r);
        vm.recordLogs();
        applyChunk(r, 0, 1);
        applyChunk(r, 1, 8);
        applyChunk(r, 8, 9);
        applyChunk(r, 9, N);
        bytes32[] memory four = _nets(vm.getRecordedLogs());
        vm.assertEq(one.length, N, "one event per position");
        vm.assertEq(four.length, N, "one event per position");
        for (uint256 i; i < N; ++i) {
            vm.assertEq(one[i], four[i], "same nets");
        }
    }

    /// @dev Each NetPositionSettled as keccak(topics, data).
    function _nets(Vm.Log[] memory logs) internal view returns (bytes32[] memory out) {
        uint256 n;
        for (uint256 i; i < logs.length; ++i) {
            if (logs[i].emitter == address(hub) && logs[i].topics[0] == IClearingResults.NetPositionSettled.selector) {
                ++n;
            }
        }
        out = new bytes32[](n);
        uint256 k;
        for (uint256 i; i < logs.length; ++i) {
            Vm.Log memory l = logs[i];
            if (l.emitter != address(hub) || l.topics[0] != IClearingResults.NetPositionSettled.selector) continue;
            out[k++] = keccak256(abi.encode(l.topics, l.data));
        }
    }
}
