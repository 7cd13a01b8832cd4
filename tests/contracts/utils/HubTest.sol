// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {ClearingResult, HubFixture, ResultChain} from "./HubFixture.sol";
import {Vm} from "./Vm.sol";
import {IClearingCycles} from "../../../contracts/interfaces/IClearingCycles.sol";
import {
    Cycle,
    CycleStatus,
    NetPosition,
    ObligationInput,
    ObligationKind,
    SettlementProgress
} from "../../../contracts/types/SettlementTypes.sol";

/// @notice An obligation as the tests model it (what the leaf and the canonical record are made of).
struct Obligation {
    uint64 origin;
    address payer;
    address payee;
    bytes3 currency;
    ObligationKind kind;
    uint256 amount;
    bytes32 ref;
    bytes32 payerAccount;
    bytes32 payeeAccount;
}

/// @notice Independent re-implementations of the documented commitments and the OpenZeppelin
///         StandardMerkleTree, shared by the unit, fuzz and invariant tests.
library Model {
    bytes32 internal constant DOMAIN_TAG = keccak256("SettlementHub.ClearingResult.v3");

    /// @dev The canonical 152-byte record: payee ‖ currency ‖ kind ‖ amount ‖ ref ‖ payerAccount ‖ payeeAccount.
    function canonical(Obligation memory o) internal pure returns (bytes memory) {
        return
            abi.encodePacked(
                o.payee, o.currency, uint8(o.kind), o.amount, o.ref, o.payerAccount, o.payeeAccount
            );
    }

    /// @dev The packed form `submitBatch` takes: 88 bytes without account hashes, 152 with (flag 0x80).
    function packed(Obligation memory o, bool withAccounts) internal pure returns (bytes memory) {
        if (!withAccounts) return abi.encodePacked(o.payee, o.currency, uint8(o.kind), o.amount, o.ref);
        return abi.encodePacked(
            o.payee, o.currency, uint8(o.kind) | 0x80, o.amount, o.ref, o.payerAccount, o.payeeAccount
        );
    }

    /// @dev submissionsHash_i = keccak256(submissionsHash_{i-1} ‖ payer (20) ‖ canonical record).
    function step(bytes32 previous, Obligation memory o) internal pure returns (bytes32) {
        bytes memory rec = canonical(o);
        require(rec.length == 152, "canonical record is 152 bytes");
        return keccak256(abi.encodePacked(previous, o.payer, rec));
    }

    function rolling(bytes32 start, Obligation[] memory os) internal pure returns (bytes32 h) {
        h = start;
        for (uint256 i; i < os.length; ++i) {
            h = step(h, os[i]);
        }
    }

    /// @dev inputCommitment of a cycle without recalls.
    function inputCommitment(bytes32 carryIn, bytes32 submissionsHash, uint64 count)
        internal
        pure
        returns (bytes32)
    {
        return inputCommitment(carryIn, submissionsHash, count, bytes32(0), 0);
    }

    /// @dev inputCommitment = keccak256(abi.encode(carryIn, submissionsHash, count, recallsHash, recallCount)).
    function inputCommitment(
        bytes32 carryIn,
        bytes32 submissionsHash,
        uint64 count,
        bytes32 recallsHash,
        uint64 recallCount
    ) internal pure returns (bytes32) {
        return keccak256(abi.encode(carryIn, submissionsHash, count, recallsHash, recallCount));
    }

    /// @dev recallsHash_i = keccak256(recallsHash_{i-1} ‖ payer ‖ ref).
    function recallStep(bytes32 previous, address payer, bytes32 ref) internal pure returns (bytes32) {
        return keccak256(abi.encodePacked(previous, payer, ref));
    }

    /// @dev Carry after a settlement with deferrals.
    function deferredCarry(bytes32 deferredRoot, uint64 deferredCount) internal pure returns (bytes32) {
        return deferredCount == 0 ? bytes32(0) : keccak256(abi.encode(deferredRoot, deferredCount));
    }

    function resultHash(ClearingResult memory r, uint256 chainId, address hub)
        internal
        pure
        returns (bytes32)
    {
        return keccak256(abi.encode(DOMAIN_TAG, chainId, hub, ResultChain.header(r)));
    }

    function input(Obligation memory o) internal pure returns (ObligationInput memory) {
        return ObligationInput(o.payee, o.currency, o.kind, o.amount, o.ref, o.payerAccount, o.payeeAccount);
    }

    // ---------------------------------------------------------------------------------------------
    // StandardMerkleTree (OpenZeppelin @openzeppelin/merkle-tree), rebuilt by hand
    // ---------------------------------------------------------------------------------------------

    /// @dev leaf = keccak256(bytes.concat(keccak256(abi.encode(cycleId, payer, payee, currency, amount, ref)))).
    function leaf(Obligation memory o) internal pure returns (bytes32) {
        return keccak256(
            bytes.concat(keccak256(abi.encode(o.origin, o.payer, o.payee, o.currency, o.amount, o.ref)))
        );
    }

    /// @dev Commutative pair hash: keccak256 of the two nodes in ascending order.
    function hashPair(bytes32 a, bytes32 b) internal pure returns (bytes32) {
        return a < b ? keccak256(abi.encodePacked(a, b)) : keccak256(abi.encodePacked(b, a));
    }

    function sortInPlace(bytes32[] memory xs) internal pure {
        for (uint256 i = 1; i < xs.length; ++i) {
            bytes32 x = xs[i];
            uint256 j = i;
            while (j > 0 && xs[j - 1] > x) {
                xs[j] = xs[j - 1];
                --j;
            }
            xs[j] = x;
        }
    }

    /// @dev StandardMerkleTree layout: leaves sorted ascending, stored from the end of a 2n-1 array
    ///      (tree[2n-2-i] = sorted[i]), every inner node i = hashPair(tree[2i+1], tree[2i+2]).
    function buildTree(bytes32[] memory leaves) internal pure returns (bytes32[] memory tree) {
        uint256 n = leaves.length;
        require(n > 0, "empty tree");
        bytes32[] memory sorted = new bytes32[](n);
        for (uint256 i; i < n; ++i) {
            sorted[i] = leaves[i];
        }
        sortInPlace(sorted);
        tree = new bytes32[](2 * n - 1);
        for (uint256 i; i < n; ++i) {
            tree[tree.length - 1 - i] = sorted[i];
        }
        for (uint256 i = n - 1; i > 0; --i) {
            tree[i - 1] = hashPair(tree[2 * (i - 1) + 1], tree[2 * (i - 1) + 2]);
        }
    }

    function root(bytes32[] memory leaves) internal pure returns (bytes32) {
        if (leaves.length == 0) return bytes32(0);
        return buildTree(leaves)[0];
    }

    /// @dev Proof of the leaf `l` of `tree`: the siblings on the path to the root.
    function proof(bytes32[] memory tree, bytes32 l) internal pure returns (bytes32[] memory out) {
        uint256 index = type(uint256).max;
        for (uint256 i = tree.length; i > 0; --i) {
            if (tree[i - 1] == l) {
                index = i - 1;
                break;
            }
        }
        require(index != type(uint256).max, "leaf not in tree");
        uint256 depth;
        for (uint256 i = index; i > 0; i = (i - 1) / 2) {
            ++depth;
        }
        out = new bytes32[](depth);
        uint256 k;
        while (index > 0) {
            out[k++] = tree[index % 2 == 1 ? index + 1 : index - 1];
            index = (index - 1) / 2;
        }
    }

    // ---------------------------------------------------------------------------------------------
    // Net positions
    // ---------------------------------------------------------------------------------------------

    /// @dev Sorts positions strictly by (currency, participant) (insertion sort, small inputs).
    function sortPositions(NetPosition[] memory ps) internal pure {
        for (uint256 i = 1; i < ps.length; ++i) {
            NetPosition memory x = ps[i];
            uint256 j = i;
            while (j > 0 && _after(ps[j - 1], x)) {
                ps[j] = ps[j - 1];
                --j;
            }
            ps[j] = x;
        }
    }

    function _after(NetPosition memory a, NetPosition memory b) private pure returns (bool) {
        if (a.currency != b.currency) return a.currency > b.currency;
        return a.participant > b.participant;
    }

    /// @dev Multilateral nets of `os` (payer -amount, payee +amount), zero nets dropped, canonical order.
    function nets(Obligation[] memory os) internal pure returns (NetPosition[] memory out) {
        NetPosition[] memory acc = new NetPosition[](2 * os.length);
        uint256 n;
        for (uint256 i; i < os.length; ++i) {
            n = _add(acc, n, os[i].payer, os[i].currency, -int256(os[i].amount));
            n = _add(acc, n, os[i].payee, os[i].currency, int256(os[i].amount));
        }
        uint256 nonZero;
        for (uint256 i; i < n; ++i) {
            if (acc[i].net != 0) ++nonZero;
        }
        out = new NetPosition[](nonZero);
        uint256 k;
        for (uint256 i; i < n; ++i) {
            if (acc[i].net != 0) out[k++] = acc[i];
        }
        sortPositions(out);
    }

    function _add(NetPosition[] memory acc, uint256 n, address who, bytes3 code, int256 delta)
        private
        pure
        returns (uint256)
    {
        for (uint256 i; i < n; ++i) {
            if (acc[i].participant == who && acc[i].currency == code) {
                acc[i].net += delta;
                return n;
            }
        }
        acc[n] = NetPosition(who, code, delta);
        return n + 1;
    }
}

/// @notice HubFixture plus helpers for the unit tests.
abstract contract HubTest is HubFixture {
    uint256 internal _refCounter = 0x1000;

    function freshRef() internal returns (bytes32) {
        return bytes32(++_refCounter);
    }

    function obligation(
        address payer,
        address payee,
        bytes3 code,
        ObligationKind kind,
        uint256 amount,
        bytes32 ref
    ) internal view returns (Obligation memory o) {
        o = Obligation(hub.currentCycleId(), payer, payee, code, kind, amount, ref, bytes32(0), bytes32(0));
    }

    function interbank(address payer, address payee, uint256 amount) internal returns (Obligation memory) {
        return obligation(payer, payee, SGD, ObligationKind.Interbank, amount, freshRef());
    }

    /// @dev Submits `o` with `submit` as its payer; checks the returned cycle and sets `o.origin`.
    function submitOne(Obligation memory o) internal returns (uint64 id) {
        vm.prank(o.payer);
        id = hub.submit(Model.input(o));
        o.origin = id;
    }

    /// @dev Submits `os` (all from the same payer) as one packed batch.
    function submitPacked(Obligation[] memory os, bool withAccounts) internal returns (uint64 id) {
        bytes memory batch;
        for (uint256 i; i < os.length; ++i) {
            batch = bytes.concat(batch, Model.packed(os[i], withAccounts));
        }
        vm.prank(os[0].payer);
        id = hub.submitBatch(batch);
        for (uint256 i; i < os.length; ++i) {
            os[i].origin = id;
        }
    }

    function one(Obligation memory o) internal pure returns (Obligation[] memory os) {
        os = new Obligation[](1);
        os[0] = o;
    }

    function concat(Obligation[] memory a, Obligation[] memory b)
        internal
        pure
        returns (Obligation[] memory out)
    {
        out = new Obligation[](a.length + b.length);
        for (uint256 i; i < a.length; ++i) {
            out[i] = a[i];
        }
        for (uint256 i; i < b.length; ++i) {
            out[a.length + i] = b[i];
        }
    }

    function leaves(Obligation[] memory os) internal pure returns (bytes32[] memory ls) {
        ls = new bytes32[](os.length);
        for (uint256 i; i < os.length; ++i) {
            ls[i] = Model.leaf(os[i]);
        }
    }

    /// @dev The result that settles `settled` and defers `deferred` for cycle `id` (real roots, real nets).
    function realResult(uint64 id, Obligation[] memory settled, Obligation[] memory deferred)
        internal
        view
        returns (ClearingResult memory r)
    {
        r.cycleId = id;
        r.inputCommitment = hub.cycle(id).inputCommitment;
        r.settledRoot = Model.root(leaves(settled));
        r.deferredRoot = Model.root(leaves(deferred));
        r.settledCount = uint64(settled.length);
        r.deferredCount = uint64(deferred.length);
        r.positions = Model.nets(settled);
    }

    /// @dev Approves `r`'s header as oracle `oracleIndex`; `accepted` when this approval reached k.
    function approveAs(uint256 oracleIndex, ClearingResult memory r)
        internal
        returns (bytes32 h, bool accepted)
    {
        vm.prank(oracles[oracleIndex]);
        return hub.approveResult(header(r));
    }

    /// @dev Two approvals (k = 2) of `r`'s header, as oracles 0 and 1: the second accepts it.
    function accept(ClearingResult memory r) internal returns (bytes32 h) {
        (, bool first) = approveAs(0, r);
        vm.assertFalse(first, "one approval does not accept");
        bool accepted;
        (h, accepted) = approveAs(1, r);
        vm.assertTrue(accepted, "second approval accepts");
    }

    /// @dev Applies positions `start` .. `end - 1` of `r` with their chain value H_end as `rest`.
    function applyChunk(ClearingResult memory r, uint256 start, uint256 end)
        internal
        returns (uint64 applied, bool settled)
    {
        NetPosition[] memory chunk = ResultChain.slice(r.positions, start, end);
        bytes32 rest = ResultChain.hashes(r.positions)[end];
        return hub.settlePositions(r.cycleId, chunk, rest);
    }

    /// @dev Applies every position of `r` in one chunk (nothing when it has none).
    function applyAll(ClearingResult memory r) internal returns (uint64 applied, bool settled) {
        if (r.positions.length == 0) return (0, statusOf(r.cycleId) == CycleStatus.Settled);
        return applyChunk(r, 0, r.positions.length);
    }

    /// @dev Applies `r` from `settlement().applied` in chunks of `size` positions (the last may be shorter).
    function applyInChunks(ClearingResult memory r, uint256 size) internal returns (bool settled) {
        uint256 n = r.positions.length;
        for (uint256 start = hub.settlement().applied; start < n; start += size) {
            uint256 end = start + size < n ? start + size : n;
            (, settled) = applyChunk(r, start, end);
            vm.assertEq(settled, end == n, "settled with the last chunk only");
        }
    }

    /// @dev Reverses applied positions `start` .. `end - 1` of `r` (`unwindPositions`).
    function unwindChunk(ClearingResult memory r, uint256 start, uint256 end)
        internal
        returns (uint64 unwound, bool cancelled)
    {
        NetPosition[] memory chunk = ResultChain.slice(r.positions, start, end);
        bytes32 rest = ResultChain.hashes(r.positions)[end];
        return hub.unwindPositions(r.cycleId, chunk, rest);
    }

    /// @dev Approval by two oracles (k = 2), then every position in one chunk: settles `r`.
    function settle(ClearingResult memory r) internal returns (bytes32 h) {
        h = accept(r);
        if (r.positions.length != 0) {
            (uint64 applied, bool settled) = applyAll(r);
            vm.assertEq(uint256(applied), r.positions.length, "all applied");
            vm.assertTrue(settled, "the last chunk settles");
        }
        assertStatus(r.cycleId, CycleStatus.Settled);
    }

    /// @dev `r` is accepted, then its positions in one chunk are refused with `err`; the state is then
    ///      rolled back to before the approvals, so the test can go on with another result.
    function expectSettleRevert(ClearingResult memory r, bytes memory err) internal {
        uint256 snap = vm.snapshotState();
        accept(r);
        NetPosition[] memory ps = r.positions;
        vm.expectRevert(err);
        hub.settlePositions(r.cycleId, ps, bytes32(0));
        vm.assertEq(uint256(hub.settlement().applied), 0, "nothing applied");
        vm.revertToState(snap);
    }

    function progress() internal view returns (SettlementProgress memory) {
        return hub.settlement();
    }

    /// @dev Settles cycle `id` deferring everything (no positions).
    function deferAll(uint64 id) internal returns (ClearingResult memory r) {
        (, uint64 carried) = hub.carry();
        uint64 total = carried + hub.cycle(id).count;
        r = resultFor(id, 0, total, new NetPosition[](0));
        settle(r);
    }

    function positions1(address a, bytes3 code, int256 net) internal pure returns (NetPosition[] memory ps) {
        ps = new NetPosition[](1);
        ps[0] = NetPosition(a, code, net);
    }

    function positions2(address a, int256 na, address b, int256 nb, bytes3 code)
        internal
        pure
        returns (NetPosition[] memory ps)
    {
        ps = new NetPosition[](2);
        ps[0] = NetPosition(a, code, na);
        ps[1] = NetPosition(b, code, nb);
    }

    function balanceOf(address who, bytes3 code) internal view returns (int256 b) {
        (b,) = hub.accountOf(who, code);
    }

    function statusOf(uint64 id) internal view returns (CycleStatus) {
        return hub.cycle(id).status;
    }

    function assertStatus(uint64 id, CycleStatus s) internal view {
        vm.assertEq(uint256(hub.cycle(id).status), uint256(s), "cycle status");
    }

    function ownerError(address who) internal pure returns (bytes memory) {
        return abi.encodeWithSignature("OwnableUnauthorizedAccount(address)", who);
    }

    /// @dev Recorded ObligationSubmitted logs decoded back into obligations (the observer's view).
    function decodeSubmitted(Vm.Log[] memory logs) internal view returns (Obligation[] memory os) {
        uint256 n;
        for (uint256 i; i < logs.length; ++i) {
            if (
                logs[i].emitter == address(hub)
                    && logs[i].topics[0] == IClearingCycles.ObligationSubmitted.selector
            ) {
                ++n;
            }
        }
        os = new Obligation[](n);
        uint256 k;
        for (uint256 i; i < logs.length; ++i) {
            Vm.Log memory l = logs[i];
            if (l.emitter != address(hub) || l.topics[0] != IClearingCycles.ObligationSubmitted.selector) {
                continue;
            }
            Obligation memory o;
            o.payer = address(uint160(uint256(l.topics[1])));
            o.payee = address(uint160(uint256(l.topics[2])));
            (o.origin, o.ref, o.currency, o.kind, o.amount, o.payerAccount, o.payeeAccount) =
                abi.decode(l.data, (uint64, bytes32, bytes3, ObligationKind, uint256, bytes32, bytes32));
            os[k++] = o;
        }
    }

    function cycleOf(uint64 id) internal view returns (Cycle memory) {
        return hub.cycle(id);
    }
}
