// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {TestBase} from "../../utils/Vm.sol";
import {Model, Obligation} from "../../utils/HubTest.sol";
import {SettlementHub} from "../../../../contracts/SettlementHub.sol";
import {IMembership} from "../../../../contracts/interfaces/IMembership.sol";
import {ISettlementAccounts} from "../../../../contracts/interfaces/ISettlementAccounts.sol";
import {IClearingCycles} from "../../../../contracts/interfaces/IClearingCycles.sol";
import {IClearingResults} from "../../../../contracts/interfaces/IClearingResults.sol";
import {
    ClearingResult,
    Cycle,
    CycleStatus,
    NetPosition,
    ObligationKind,
    ParticipantKind
} from "../../../../contracts/types/SettlementTypes.sol";

/// @notice Drives the hub through random sequences of submissions (valid and invalid), closings,
///         funding, cap changes, settlements it computes itself (defer everything, or a greedy FIFO
///         pass that settles every obligation whose payer still has headroom), partial approvals,
///         committee churn, cancellations, failures and replays. It keeps its own model of every
///         obligation, of each cycle's rolling hash and of the carried set, and ghost counters the
///         invariants read. Every action predicts its outcome: a valid action that reverts, or an
///         invalid one that passes or fails with another error than predicted, counts as unexpected.
contract SettlementHandler is TestBase {
    struct Obl {
        uint64 origin;
        address payer;
        address payee;
        bytes3 currency;
        uint256 amount;
        bytes32 ref;
    }

    SettlementHub public immutable hub;
    address public immutable admin;
    uint256 public immutable funding;
    address[] internal _members; // ascending, so slot order is canonical order
    address[] internal _oracles;
    mapping(address => uint256) internal _memberIndex; // 1-based
    mapping(address => bool) internal _isWallet;
    mapping(address => bool) internal _suspended;
    mapping(address => uint256) internal _refCounter;
    mapping(address => bytes32) internal _lastRef;

    // ---------------------------------------------------------------- model
    Obl[] internal _obls;
    mapping(uint64 => uint256[]) internal _cycleObls;
    uint256[] internal _pending; // carried into nextCycleToFinalize
    mapping(uint64 => bytes32) public modelHash;
    uint64 public modelClosesAt; // deadline of the open cycle as announced when it opened
    bytes32 public modelCarry;
    uint64 public modelCarryCount;
    bytes internal _lastSettled; // abi-encoded ClearingResult

    // ---------------------------------------------------------------- ghosts
    mapping(bytes3 => int256) public ghostNet; // funded minus defunded
    mapping(uint64 => uint256) public ghostSettleCount;
    mapping(uint64 => uint256) public ghostFinalCount; // settled, failed or cancelled
    mapping(bytes32 => uint256) public ghostObligationSettled; // keccak(payer, ref) => times settled
    uint256 public ghostCyclesSettledTwice;
    uint256 public ghostObligationsSettledTwice;
    uint256 public ghostUnexpected;
    /// @dev Balance at the moment the admin lowered the cap below the account's usage (the documented way
    ///      to stop a member's outgoing payments); until the account is back within its cap its balance
    ///      may only rise from here.
    mapping(address => mapping(bytes3 => int256)) public ghostFloor;
    /// @dev Settlements that left a paying participant below minus its cap.
    uint256 public ghostSettledBelowCap;
    string public lastUnexpected;
    uint64 public ghostMaxNext;
    bool public ghostNextDecreased;
    uint256 public totalSubmitted;
    uint256 public totalSettled;
    mapping(string => uint256) public calls;
    uint256 public totalCalls;
    bool internal ghostCarryHadPartial;
    uint256 internal _pausedAtCall;
    uint256 internal _suspendedCount;

    bytes3 internal constant SGD = "SGD";
    bytes3 internal constant USD = "USD";

    constructor(
        SettlementHub hub_,
        address admin_,
        address[] memory members_,
        address[] memory oracles_,
        uint256 funding_
    ) {
        hub = hub_;
        admin = admin_;
        funding = funding_;
        for (uint256 i; i < members_.length; ++i) {
            require(i == 0 || members_[i] > members_[i - 1], "members ascending");
            _members.push(members_[i]);
            _memberIndex[members_[i]] = i + 1;
            (ParticipantKind k,) = hub_.participant(members_[i]);
            _isWallet[members_[i]] = k == ParticipantKind.WalletProvider;
        }
        for (uint256 i; i < oracles_.length; ++i) {
            _oracles.push(oracles_[i]);
        }
        ghostNet[SGD] = hub_.totalBalance(SGD);
        ghostNet[USD] = hub_.totalBalance(USD);
        ghostMaxNext = hub_.nextCycleToFinalize();
    }

    modifier tracked(string memory name) {
        ++calls[name];
        ++totalCalls;
        // a pause lasts a few actions, so that most of a run is live
        if (hub.paused() && totalCalls > _pausedAtCall + 3) {
            vm.prank(admin);
            hub.unpause();
        }
        _;
        uint64 next = hub.nextCycleToFinalize();
        if (next < ghostMaxNext) ghostNextDecreased = true;
        else ghostMaxNext = next;
    }

    // ============================================================================ views for invariants

    function members() external view returns (address[] memory) {
        return _members;
    }

    function pendingCount() external view returns (uint256) {
        return _pending.length;
    }

    function cycleCount(uint64 id) external view returns (uint256) {
        return _cycleObls[id].length;
    }

    // ============================================================================ submissions

    function submitOne(uint256 payerSeed, uint256 payeeSeed, uint256 amountSeed, uint256 flags)
        external
        tracked("submitOne")
    {
        (address payer, address payee) = _pair(payerSeed, payeeSeed);
        Obligation memory o = _make(payer, payee, amountSeed, flags, 0);
        bytes memory expected = _admissionError(payer);
        if (expected.length == 0 && _suspended[payee]) {
            expected = abi.encodeWithSelector(IClearingCycles.InactivePayee.selector, o.ref, payee);
        }
        (uint64 before, uint64 expectedId) = _expectedCycle();
        vm.prank(payer);
        try hub.submit(Model.input(o)) returns (uint64 id) {
            if (expected.length != 0) return _unexpected("submit accepted", expected);
            if (id != expectedId) return _unexpected("submit entered an unexpected cycle", "");
            _afterRoll(before, id);
            _record(id, o);
        } catch (bytes memory reason) {
            _check("submit", reason, expected);
        }
    }

    function submitMany(uint256 payerSeed, uint256 seed, uint256 nSeed) external tracked("submitMany") {
        uint256 n = bound(nSeed, 1, 5);
        (address payer,) = _pair(payerSeed, 0);
        Obligation[] memory os = new Obligation[](n);
        bytes memory batch;
        bytes memory expected = _admissionError(payer);
        for (uint256 i; i < n; ++i) {
            uint256 r = uint256(keccak256(abi.encode(seed, i)));
            (, address payee) = _pair(payerSeed, r);
            os[i] = _make(payer, payee, r >> 16, r >> 64, i);
            bool full = (r >> 128) % 2 == 0;
            if (full && (r >> 136) % 2 == 0) {
                os[i].payerAccount = keccak256(abi.encode(r, "payer"));
                os[i].payeeAccount = keccak256(abi.encode(r, "payee"));
            }
            batch = bytes.concat(batch, Model.packed(os[i], full));
            if (expected.length == 0 && _suspended[payee]) {
                expected = abi.encodeWithSelector(IClearingCycles.InactivePayee.selector, os[i].ref, payee);
            }
        }
        (uint64 before, uint64 expectedId) = _expectedCycle();
        vm.prank(payer);
        try hub.submitBatch(batch) returns (uint64 id) {
            if (expected.length != 0) return _unexpected("batch accepted", expected);
            if (id != expectedId) return _unexpected("batch entered an unexpected cycle", "");
            _afterRoll(before, id);
            for (uint256 i; i < n; ++i) {
                _record(id, os[i]);
            }
        } catch (bytes memory reason) {
            _check("submitBatch", reason, expected);
        }
    }

    /// @dev Invalid submissions must be refused with their exact error and change nothing.
    function submitInvalid(uint256 payerSeed, uint256 mode, uint256 x) external tracked("submitInvalid") {
        (address payer, address payee) = _pair(payerSeed, x);
        if (hub.paused() || _suspended[payer] || _suspended[payee]) return;
        Obligation memory o = _make(payer, payee, x, x >> 8, 0);
        uint64 current = hub.currentCycleId();
        uint256 countBefore = hub.cycle(current).count;
        bytes memory expected;
        bytes memory batch;
        bool viaSubmit;
        mode = mode % 6;
        if (mode == 0) {
            o.amount = 0;
            viaSubmit = true;
            expected = abi.encodeWithSelector(IClearingCycles.ZeroObligationAmount.selector, o.ref);
        } else if (mode == 1) {
            if (_lastRef[payer] == 0) return;
            o.ref = _lastRef[payer];
            expected = abi.encodeWithSelector(IClearingCycles.DuplicateReference.selector, payer, o.ref);
        } else if (mode == 2) {
            o.payee = address(0);
            o.kind = ObligationKind.Interbank;
            expected = abi.encodeWithSelector(IClearingCycles.InactivePayee.selector, o.ref, address(0));
        } else if (mode == 3) {
            o.currency = bytes3(0);
            expected =
                abi.encodeWithSelector(IClearingCycles.UnknownObligationCurrency.selector, o.ref, bytes3(0));
        } else if (mode == 4) {
            batch = Model.packed(o, true);
            assembly ("memory-safe") {
                mstore(batch, sub(mload(batch), 1))
            }
            expected = abi.encodeWithSelector(IClearingCycles.MalformedBatch.selector, uint256(151));
        } else {
            // a wallet kind that is not the pair's (bank->bank allows none of them)
            uint8 allowed = (_isWallet[payer] ? 2 : 0) + (_isWallet[payee] ? 1 : 0);
            uint8 wrong = allowed == 1 ? 2 : 1;
            o.kind = ObligationKind(wrong);
            viaSubmit = true;
            expected =
                abi.encodeWithSelector(IClearingCycles.KindMismatch.selector, o.ref, ObligationKind(wrong));
        }
        if (!viaSubmit && batch.length == 0) batch = Model.packed(o, x % 2 == 0);
        vm.prank(payer);
        (bool ok, bytes memory reason) = viaSubmit
            ? address(hub).call(abi.encodeCall(hub.submit, (Model.input(o))))
            : address(hub).call(abi.encodeCall(hub.submitBatch, (batch)));
        if (ok) return _unexpected("invalid submission accepted", expected);
        _check("submitInvalid", reason, expected);
        if (hub.currentCycleId() != current || hub.cycle(current).count != countBefore) {
            _unexpected("refused submission left a trace", "");
        }
    }

    // ============================================================================ cycles

    /// @dev Closes the open cycle; an empty one (nothing submitted, nothing carried) only one time in four,
    ///      so that most settlements clear obligations.
    function close(uint256 seed) external tracked("close") {
        if (hub.cycle(hub.currentCycleId()).count == 0 && _pending.length == 0 && (seed >> 4) % 4 != 0) {
            return;
        }
        _close(seed);
    }

    /// @dev Closes the open cycle as the admin, or (seed % 3 == 0) as anyone, refused unless it lapsed.
    function _close(uint256 seed) internal {
        uint64 id = hub.currentCycleId();
        bool asAdmin = seed % 3 != 0;
        address caller = asAdmin ? admin : address(uint160(0xCA11E0 + seed % 5));
        bool lapsed = modelClosesAt != 0 && block.timestamp >= modelClosesAt;
        vm.prank(caller);
        try hub.closeCycle() returns (uint64 closed) {
            if (!asAdmin && !lapsed) return _unexpected("non-admin closed a running cycle", "");
            if (closed != id) return _unexpected("closed another cycle", "");
            if (!asAdmin) ++calls["hit:closedByAnyone"];
            _opened();
        } catch (bytes memory reason) {
            bytes memory expected = asAdmin || lapsed
                ? bytes("(no revert)")
                : abi.encodeWithSelector(IClearingCycles.CycleStillRunning.selector, id, modelClosesAt);
            _check("closeCycle", reason, expected);
        }
    }

    function advanceTime(uint256 secondsSeed) external tracked("advanceTime") {
        vm.warp(block.timestamp + bound(secondsSeed, 1, 3 hours));
        vm.roll(block.number + 1);
    }

    function setDuration(uint256 seed) external tracked("setDuration") {
        uint64[3] memory options = [uint64(0), 30 minutes, 2 hours];
        vm.prank(admin);
        hub.setCycleDuration(options[seed % 3]);
    }

    function cancel(uint256 seed) external tracked("cancel") {
        uint64 id = hub.nextCycleToFinalize();
        if (seed % 4 == 0) id = hub.currentCycleId(); // sometimes the open cycle: refused
        bool ready = id == hub.nextCycleToFinalize() && hub.cycle(id).status == CycleStatus.Closed;
        vm.prank(admin);
        try hub.cancelCycle(id, "handler") {
            if (!ready) return _unexpected("cancelled a cycle that is not ready", "");
            ++calls["hit:cancelled"];
            _carryWhole(id);
        } catch (bytes memory reason) {
            _check(
                "cancelCycle",
                reason,
                ready
                    ? bytes("(no revert)")
                    : abi.encodeWithSelector(IClearingCycles.CycleNotReady.selector, id)
            );
        }
    }

    function fail(uint256 seed) external tracked("fail") {
        uint64 id = hub.nextCycleToFinalize();
        Cycle memory c = hub.cycle(id);
        if (c.status != CycleStatus.Closed) return;
        (, uint64 timeout,) = hub.cycleConfig();
        if (timeout == 0) {
            timeout = 1 hours;
            vm.prank(admin);
            hub.setSettlementTimeout(timeout);
        }
        uint64 failsAt = c.readyAt + timeout;
        address caller = address(uint160(0xFA11E0 + seed % 5));
        if (block.timestamp < failsAt) {
            vm.prank(caller);
            try hub.failCycle(id) {
                return _unexpected("failed before the timeout", "");
            } catch (bytes memory reason) {
                _check(
                    "failCycle early",
                    reason,
                    abi.encodeWithSelector(IClearingCycles.SettlementTimeoutNotReached.selector, id, failsAt)
                );
            }
            if (seed % 2 == 0) return;
            vm.warp(failsAt);
            vm.roll(block.number + 1);
        }
        vm.prank(caller);
        try hub.failCycle(id) {
            ++calls["hit:failed"];
            _carryWhole(id);
        } catch (bytes memory reason) {
            _check("failCycle", reason, "(no revert)");
        }
        if (seed % 3 == 0) {
            vm.prank(admin);
            hub.setSettlementTimeout(0);
        }
    }

    // ============================================================================ settlement

    /// @dev Computes a valid result for the ready cycle and approves it until it settles.
    ///      mode 0: defer everything; 1: greedy FIFO within headroom; 2: greedy with random deferrals.
    ///      With no cycle ready, the admin closes the open one first if it has any input, so that every
    ///      run settles obligations (``afterInvariant`` requires it) rather than depend on a close being
    ///      drawn between a submission and a settle.
    function settle(uint256 seed, uint256 mode) external tracked("settle") {
        uint64 id = hub.nextCycleToFinalize();
        if (hub.cycle(id).status != CycleStatus.Closed) {
            if (hub.cycle(id).count == 0 && _pending.length == 0) return; // nothing to settle yet
            _close(1 + 3 * (seed % 5)); // as the admin
            ++calls["hit:closedToSettle"];
            if (hub.cycle(id).status != CycleStatus.Closed) return _unexpected("close to settle failed", "");
        }
        (ClearingResult memory r, uint256[] memory settled, uint256[] memory deferred) =
            _compute(id, mode % 3, seed);
        if (hub.paused()) {
            vm.prank(_oracles[seed % 3]);
            try hub.approveResult(r) {
                _unexpected("approved while paused", "");
            } catch (bytes memory reason) {
                _check("approve paused", reason, abi.encodeWithSignature("EnforcedPause()"));
            }
            bytes32 hp = hub.hashResult(r);
            vm.prank(_oracles[(seed % 3 + 1) % 3]);
            try hub.approveResultHash(id, hp) {
                _unexpected("approved a hash while paused", "");
            } catch (bytes memory reason) {
                _check("approve hash paused", reason, abi.encodeWithSignature("EnforcedPause()"));
            }
            return;
        }
        bytes32 h = hub.hashResult(r);
        (, uint256 threshold,) = hub.committee();
        for (uint256 k; k < _oracles.length; ++k) {
            address oracle = _oracles[(seed % _oracles.length + k) % _oracles.length];
            if (hub.hasApproved(id, oracle)) continue;
            uint256 count = hub.approvals(id, h);
            if (count + 1 < threshold && (seed >> k) % 2 == 0) {
                // below the threshold a member may approve by hash (what the oracle node does)
                vm.prank(oracle);
                try hub.approveResultHash(id, h) returns (uint256 now_) {
                    if (now_ != count + 1) _unexpected("hash approval miscounted", "");
                    ++calls["hit:hashApproval"];
                } catch (bytes memory reason) {
                    return _unexpected("valid hash approval refused", reason);
                }
                continue;
            }
            if (count + 1 >= threshold && seed % 3 == 0) {
                // the k-th approval must carry the result
                vm.prank(oracle);
                try hub.approveResultHash(id, h) {
                    return _unexpected("a hash approval reached k", "");
                } catch (bytes memory reason) {
                    _check(
                        "hash approval at k",
                        reason,
                        abi.encodeWithSelector(IClearingResults.ResultRequired.selector, id, h)
                    );
                }
            }
            vm.prank(oracle);
            try hub.approveResult(r) returns (bytes32, bool done) {
                if (done) return _onSettled(r, settled, deferred, seed);
            } catch (bytes memory reason) {
                return _unexpected("valid result refused", reason);
            }
        }
        _unexpected("valid result did not settle", "");
    }

    /// @dev One oracle approves a valid result without settling (only when nobody approved yet).
    function partialApprove(uint256 seed) external tracked("partialApprove") {
        uint64 id = hub.nextCycleToFinalize();
        if (hub.paused() || hub.cycle(id).status != CycleStatus.Closed) return;
        for (uint256 k; k < _oracles.length; ++k) {
            if (hub.hasApproved(id, _oracles[k])) return;
        }
        (ClearingResult memory r,,) = _compute(id, 1 + seed % 2, seed);
        bytes32 h = hub.hashResult(r);
        vm.prank(_oracles[seed % _oracles.length]);
        if ((seed >> 8) % 2 == 0) {
            try hub.approveResultHash(id, h) returns (uint256 count) {
                if (count != 1) _unexpected("a first hash approval miscounted", "");
                ghostCarryHadPartial = true;
            } catch (bytes memory reason) {
                _unexpected("valid partial hash approval refused", reason);
            }
            return;
        }
        try hub.approveResult(r) returns (bytes32, bool done) {
            if (done) _unexpected("a single approval settled", "");
            ghostCarryHadPartial = true;
        } catch (bytes memory reason) {
            _unexpected("valid partial approval refused", reason);
        }
    }

    /// @dev Committee change: earlier approvals stop counting.
    function churnCommittee(uint256 seed) external tracked("churnCommittee") {
        vm.startPrank(admin);
        if (seed % 2 == 0) {
            address o = _oracles[seed % _oracles.length];
            hub.removeOracle(o);
            hub.addOracle(o);
        } else {
            hub.setThreshold(2);
        }
        vm.stopPrank();
        ghostCarryHadPartial = false;
        uint64 id = hub.nextCycleToFinalize();
        for (uint256 k; k < _oracles.length; ++k) {
            if (hub.hasApproved(id, _oracles[k])) _unexpected("approval survived an epoch change", "");
        }
    }

    /// @dev Replaying the last settled result must be refused; success would settle a cycle twice.
    function replaySettled(uint256 seed) external tracked("replaySettled") {
        if (_lastSettled.length == 0) return;
        ClearingResult memory r = abi.decode(_lastSettled, (ClearingResult));
        bytes memory expected = hub.paused()
            ? abi.encodeWithSignature("EnforcedPause()")
            : abi.encodeWithSelector(IClearingCycles.CycleNotReady.selector, r.cycleId);
        vm.prank(_oracles[seed % _oracles.length]);
        try hub.approveResult(r) returns (bytes32, bool done) {
            if (done) ++ghostCyclesSettledTwice;
            _unexpected("replayed result accepted", "");
        } catch (bytes memory reason) {
            _check("replay", reason, expected);
        }
        // a finalised cycle cannot be cancelled or failed either
        vm.prank(admin);
        try hub.cancelCycle(r.cycleId, "replay") {
            _unexpected("settled cycle cancelled", "");
        } catch (bytes memory reason) {
            _check(
                "cancel settled",
                reason,
                abi.encodeWithSelector(IClearingCycles.CycleNotReady.selector, r.cycleId)
            );
        }
    }

    // ============================================================================ accounts

    function fund(uint256 whoSeed, uint256 codeSeed, uint256 amount) external tracked("fund") {
        address who = _members[whoSeed % _members.length];
        bytes3 code = codeSeed % 2 == 0 ? SGD : USD;
        amount = bound(amount, 1, funding);
        vm.prank(admin);
        hub.fund(who, code, amount);
        ghostNet[code] += int256(amount);
    }

    function defund(uint256 whoSeed, uint256 codeSeed, uint256 amount) external tracked("defund") {
        address who = _members[whoSeed % _members.length];
        bytes3 code = codeSeed % 2 == 0 ? SGD : USD;
        amount = bound(amount, 1, funding);
        (int256 balance,) = hub.accountOf(who, code);
        uint64 locked = _lockedBy();
        bytes memory expected;
        if (locked != 0) {
            expected = abi.encodeWithSelector(ISettlementAccounts.LiquidityLocked.selector, locked);
        } else if (balance < int256(amount)) {
            expected = abi.encodeWithSelector(
                ISettlementAccounts.InsufficientBalance.selector, who, code, balance, amount
            );
        }
        vm.prank(admin);
        try hub.defund(who, code, amount) {
            if (expected.length != 0) return _unexpected("defund accepted", expected);
            ghostNet[code] -= int256(amount);
        } catch (bytes memory reason) {
            _check("defund", reason, expected.length == 0 ? bytes("(no revert)") : expected);
        }
    }

    function setCap(uint256 whoSeed, uint256 codeSeed, uint256 cap) external tracked("setCap") {
        address who = _members[whoSeed % _members.length];
        bytes3 code = codeSeed % 2 == 0 ? SGD : USD;
        cap = bound(cap, 0, 2 * funding);
        (, uint256 current) = hub.accountOf(who, code);
        uint64 locked = _lockedBy();
        bytes memory expected;
        if (cap < current && locked != 0) {
            expected = abi.encodeWithSelector(ISettlementAccounts.LiquidityLocked.selector, locked);
        }
        vm.prank(admin);
        try hub.setDebitCap(who, code, cap) {
            if (expected.length != 0) return _unexpected("cap lowered while locked", expected);
            (int256 balance,) = hub.accountOf(who, code);
            if (balance < -int256(cap)) {
                ghostFloor[who][code] = balance;
                ++calls["hit:capBelowUsage"];
            }
        } catch (bytes memory reason) {
            _check("setDebitCap", reason, expected.length == 0 ? bytes("(no revert)") : expected);
        }
    }

    /// @dev Suspends or reinstates a member; at most two are suspended at a time.
    function toggleSuspension(uint256 whoSeed) external tracked("toggleSuspension") {
        address who = _members[whoSeed % _members.length];
        if (!_suspended[who] && _suspendedCount >= 2) {
            for (uint256 i; i < _members.length; ++i) {
                if (_suspended[_members[i]]) {
                    who = _members[i];
                    break;
                }
            }
        }
        vm.prank(admin);
        if (_suspended[who]) hub.reinstateParticipant(who);
        else hub.suspendParticipant(who, "handler");
        _suspended[who] = !_suspended[who];
        if (_suspended[who]) ++_suspendedCount;
        else --_suspendedCount;
    }

    function togglePause(uint256 seed) external tracked("togglePause") {
        if (hub.paused()) {
            vm.prank(admin);
            hub.unpause();
        } else if (seed % 2 == 0) {
            vm.prank(admin);
            hub.pause();
            _pausedAtCall = totalCalls;
        }
    }

    // ============================================================================ internals

    function _pair(uint256 payerSeed, uint256 payeeSeed)
        internal
        view
        returns (address payer, address payee)
    {
        uint256 n = _members.length;
        uint256 p = payerSeed % n;
        uint256 q = (p + 1 + payeeSeed % (n - 1)) % n;
        return (_members[p], _members[q]);
    }

    /// @dev A valid obligation (kind allowed for the pair) with a fresh reference: consecutive per payer
    ///      (sharing bitmap words), or a random one.
    function _make(address payer, address payee, uint256 amountSeed, uint256 flags, uint256 offset)
        internal
        view
        returns (Obligation memory o)
    {
        uint8 kind = flags % 2 == 0 ? 0 : (_isWallet[payer] ? 2 : 0) + (_isWallet[payee] ? 1 : 0);
        uint256 counter = _refCounter[payer] + offset + 1;
        bytes32 ref =
            (flags >> 1) % 4 == 0 ? keccak256(abi.encode(payer, counter, "random")) : bytes32(counter);
        o = Obligation(
            0,
            payer,
            payee,
            (flags >> 3) % 2 == 0 ? SGD : USD,
            ObligationKind(kind),
            bound(amountSeed, 1, funding / 4),
            ref,
            bytes32(0),
            bytes32(0)
        );
    }

    function _admissionError(address payer) internal view returns (bytes memory) {
        if (hub.paused()) return abi.encodeWithSignature("EnforcedPause()");
        if (_suspended[payer]) {
            return abi.encodeWithSelector(IMembership.NotActiveParticipant.selector, payer);
        }
        return "";
    }

    /// @dev The open cycle, and the cycle a submission now enters (the next one if the open one lapsed).
    function _expectedCycle() internal view returns (uint64 current, uint64 expected) {
        current = hub.currentCycleId();
        expected = modelClosesAt != 0 && block.timestamp >= modelClosesAt ? current + 1 : current;
    }

    function _afterRoll(uint64 before, uint64 id) internal {
        if (id != before) {
            ++calls["hit:rollover"];
            _opened();
        }
    }

    /// @dev A cycle opened now: its deadline is fixed by the duration configured at this moment.
    function _opened() internal {
        (uint64 duration,,) = hub.cycleConfig();
        modelClosesAt = duration == 0 ? 0 : uint64(block.timestamp) + duration;
    }

    function _record(uint64 id, Obligation memory o) internal {
        o.origin = id;
        _obls.push(Obl(id, o.payer, o.payee, o.currency, o.amount, o.ref));
        _cycleObls[id].push(_obls.length - 1);
        modelHash[id] = Model.step(modelHash[id], o);
        if (uint256(o.ref) <= type(uint64).max) _refCounter[o.payer] = uint256(o.ref);
        else ++_refCounter[o.payer];
        _lastRef[o.payer] = o.ref;
        ++totalSubmitted;
    }

    function _lockedBy() internal view returns (uint64) {
        uint64 id = hub.nextCycleToFinalize();
        return hub.cycle(id).status == CycleStatus.Closed ? id : 0;
    }

    /// @dev A failed or cancelled cycle: its whole input carries on.
    function _carryWhole(uint64 id) internal {
        Cycle memory c = hub.cycle(id);
        uint64 total = modelCarryCount + c.count;
        modelCarry = total == 0 ? bytes32(0) : c.inputCommitment;
        modelCarryCount = total;
        uint256[] storage ids = _cycleObls[id];
        for (uint256 i; i < ids.length; ++i) {
            _pending.push(ids[i]);
        }
        ++ghostFinalCount[id];
    }

    function _toObligation(uint256 index) internal view returns (Obligation memory) {
        Obl storage s = _obls[index];
        return Obligation(
            s.origin,
            s.payer,
            s.payee,
            s.currency,
            ObligationKind.Interbank,
            s.amount,
            s.ref,
            bytes32(0),
            bytes32(0)
        );
    }

    function _compute(uint64 id, uint256 mode, uint256 seed)
        internal
        view
        returns (ClearingResult memory r, uint256[] memory settled, uint256[] memory deferred)
    {
        int256[] memory net;
        (settled, deferred, net) = _select(_input(id), mode, seed);
        r.cycleId = id;
        r.inputCommitment = hub.cycle(id).inputCommitment;
        r.settledRoot = Model.root(_leaves(settled));
        r.deferredRoot = Model.root(_leaves(deferred));
        r.settledCount = uint64(settled.length);
        r.deferredCount = uint64(deferred.length);
        r.positions = _positions(net);
    }

    /// @dev The cycle's input in FIFO order: carried obligations first, then its own submissions.
    function _input(uint64 id) internal view returns (uint256[] memory input) {
        uint256[] storage fresh = _cycleObls[id];
        uint256 carried = _pending.length;
        input = new uint256[](carried + fresh.length);
        for (uint256 i; i < carried; ++i) {
            input[i] = _pending[i];
        }
        for (uint256 i; i < fresh.length; ++i) {
            input[carried + i] = fresh[i];
        }
    }

    /// @dev Greedy selection: an obligation settles when its payer's headroom (balance + cap + running
    ///      net) covers it. Nets are indexed currency-major by member, which is canonical order.
    function _select(uint256[] memory input, uint256 mode, uint256 seed)
        internal
        view
        returns (uint256[] memory settled, uint256[] memory deferred, int256[] memory net)
    {
        uint256 m = _members.length;
        int256[] memory room = new int256[](2 * m);
        net = new int256[](2 * m);
        for (uint256 i; i < m; ++i) {
            (int256 b, uint256 cap) = hub.accountOf(_members[i], SGD);
            room[i] = b + int256(cap);
            (b, cap) = hub.accountOf(_members[i], USD);
            room[m + i] = b + int256(cap);
        }
        settled = new uint256[](input.length);
        deferred = new uint256[](input.length);
        uint256 ns;
        uint256 nd;
        for (uint256 i; i < input.length; ++i) {
            Obl storage o = _obls[input[i]];
            uint256 p = (o.currency == SGD ? 0 : m) + _memberIndex[o.payer] - 1;
            bool take = mode != 0 && room[p] + net[p] >= int256(o.amount);
            if (take && mode == 2 && uint256(keccak256(abi.encode(seed, i))) % 3 == 0) take = false;
            if (take) {
                net[p] -= int256(o.amount);
                net[(o.currency == SGD ? 0 : m) + _memberIndex[o.payee] - 1] += int256(o.amount);
                settled[ns++] = input[i];
            } else {
                deferred[nd++] = input[i];
            }
        }
        assembly ("memory-safe") {
            mstore(settled, ns)
            mstore(deferred, nd)
        }
    }

    function _positions(int256[] memory net) internal view returns (NetPosition[] memory ps) {
        uint256 m = _members.length;
        uint256 np;
        for (uint256 i; i < net.length; ++i) {
            if (net[i] != 0) ++np;
        }
        ps = new NetPosition[](np);
        uint256 k;
        for (uint256 i; i < net.length; ++i) {
            if (net[i] != 0) ps[k++] = NetPosition(_members[i % m], i < m ? SGD : USD, net[i]);
        }
    }

    function _leaves(uint256[] memory idx) internal view returns (bytes32[] memory ls) {
        ls = new bytes32[](idx.length);
        for (uint256 i; i < idx.length; ++i) {
            ls[i] = Model.leaf(_toObligation(idx[i]));
        }
    }

    function _onSettled(
        ClearingResult memory r,
        uint256[] memory settled,
        uint256[] memory deferred,
        uint256 seed
    ) internal {
        uint64 id = r.cycleId;
        ++calls["hit:settled"];
        if (settled.length + deferred.length != 0) ++calls["hit:settledNonEmpty"];
        if (settled.length != 0 && deferred.length != 0) ++calls["hit:settledMixed"];
        if (ghostCarryHadPartial) ++calls["hit:settledAfterPartial"];
        ghostCarryHadPartial = false;
        if (++ghostSettleCount[id] > 1) ++ghostCyclesSettledTwice;
        ++ghostFinalCount[id];
        for (uint256 i; i < settled.length; ++i) {
            Obl storage o = _obls[settled[i]];
            if (++ghostObligationSettled[keccak256(abi.encode(o.payer, o.ref))] > 1) {
                ++ghostObligationsSettledTwice;
            }
        }
        totalSettled += settled.length;
        for (uint256 i; i < r.positions.length; ++i) {
            NetPosition memory p = r.positions[i];
            (int256 balance, uint256 cap) = hub.accountOf(p.participant, p.currency);
            if (p.net < 0 && balance < -int256(cap)) ++ghostSettledBelowCap;
        }
        delete _pending;
        for (uint256 i; i < deferred.length; ++i) {
            _pending.push(deferred[i]);
        }
        modelCarry = Model.deferredCarry(r.deferredRoot, r.deferredCount);
        modelCarryCount = r.deferredCount;
        _lastSettled = abi.encode(r);

        // a settled obligation proves against the settled root, a deferred one against the deferred root
        if (settled.length != 0) _checkProof(id, true, settled, seed);
        if (deferred.length != 0) _checkProof(id, false, deferred, seed);
    }

    function _checkProof(uint64 id, bool settledSet, uint256[] memory idx, uint256 seed) internal {
        bytes32[] memory tree = Model.buildTree(_leaves(idx));
        Obligation memory o = _toObligation(idx[seed % idx.length]);
        bytes32[] memory proof = Model.proof(tree, Model.leaf(o));
        if (!hub.verifyObligation(
                id, settledSet, proof, o.origin, o.payer, o.payee, o.currency, o.amount, o.ref
            )) {
            _unexpected("proof of a cleared obligation failed", "");
        }
        if (hub.verifyObligation(
                id, !settledSet, proof, o.origin, o.payer, o.payee, o.currency, o.amount, o.ref
            )) {
            _unexpected("obligation proved in the other set", "");
        }
    }

    function _check(string memory what, bytes memory reason, bytes memory expected) internal {
        if (keccak256(reason) != keccak256(expected)) return _unexpected(what, reason);
        ++calls[string.concat("refused:", what)];
    }

    function _unexpected(string memory what, bytes memory detail) internal {
        ++ghostUnexpected;
        lastUnexpected =
            string.concat(what, " ", vm.toString(bytes32(detail.length >= 4 ? bytes4(detail) : bytes4(0))));
    }
}
