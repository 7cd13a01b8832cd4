// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {TestBase} from "../../utils/Vm.sol";
import {Model, Obligation} from "../../utils/HubTest.sol";
import {ClearingResult, ResultChain} from "../../utils/HubFixture.sol";
import {SettlementHub} from "../../../../contracts/SettlementHub.sol";
import {IMembership} from "../../../../contracts/interfaces/IMembership.sol";
import {ISettlementAccounts} from "../../../../contracts/interfaces/ISettlementAccounts.sol";
import {IClearingCycles} from "../../../../contracts/interfaces/IClearingCycles.sol";
import {IClearingResults} from "../../../../contracts/interfaces/IClearingResults.sol";
import {
    Cycle,
    CycleStatus,
    NetPosition,
    ObligationKind,
    ParticipantKind,
    ResultHeader,
    SettlementProgress
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
    // recalls: obligations named by a request recorded in each cycle, and those carried by failed or
    // cancelled cycles into nextCycleToFinalize; the rolling hash and count of each cycle's requests
    mapping(uint64 => uint256[]) internal _cycleRecalls;
    uint256[] internal _pendingRecalls;
    mapping(uint256 => bool) internal _recallRequested;
    mapping(uint64 => bytes32) public modelRecallHash;
    mapping(uint64 => uint64) public modelRecallCount;
    mapping(uint256 => uint256) public ghostEnded; // obligation index => times it ended (recalled/expired)
    uint256 public ghostEndedTwice;
    uint256 public ghostEndedThenSettled;
    uint256 public totalEnded; // obligations recalled or expired
    bool internal _forcedExpiry; // the handler set expiry 1 to reach an expiry in this run
    mapping(uint64 => bytes32) public modelHash;
    uint64 public modelClosesAt; // deadline of the open cycle as announced when it opened
    bytes32 public modelCarry;
    uint64 public modelCarryCount;
    bytes internal _lastSettled; // abi-encoded ClearingResult
    bytes internal _accepted; // abi.encode(ClearingResult, settled, deferred) of the settling cycle
    uint64 public acceptedCycle; // the settling cycle (0 if none)
    uint64 public ghostApplied; // its positions applied
    uint64 public ghostUnwound; // and reversed
    bool public ghostUnwinding;
    bool internal _keepOne; // apply chunks but leave the last position (to cancel part way)
    /// @dev Balance of each of the settling result's accounts when it was accepted (plus funding since):
    ///      what unwinding must restore.
    mapping(address => mapping(bytes3 => int256)) internal _restore;

    // ---------------------------------------------------------------- ghosts
    mapping(bytes3 => int256) public ghostNet; // funded minus defunded
    /// @dev Nets of the settling result applied and not reversed, per currency (0 once a cycle is final).
    mapping(bytes3 => int256) public ghostInFlight;
    mapping(uint64 => bytes32) public ghostResultHash; // hash of the result accepted for a cycle
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

    // ============================================================================ recalls and expiry

    /// @dev The payer of an obligation recalls it (mostly one still outstanding: carried, or in the open
    ///      cycle), or a member recalls a reference it never used, refused with `UnknownReference`.
    function recallOne(uint256 seed) external tracked("recallOne") {
        if (_obls.length == 0) return;
        uint256 idx;
        uint64 open = hub.currentCycleId();
        uint256 pick = (seed >> 8) % 4; // mostly an obligation of the open cycle: its recall takes effect
        if (pick == 0 && _pending.length != 0) idx = _pending[seed % _pending.length];
        else if (pick != 3 && _cycleObls[open].length != 0) idx = _cycleObls[open][seed % _cycleObls[open].length];
        else idx = seed % _obls.length;
        Obl storage o = _obls[idx];
        bytes32[] memory refs = new bytes32[](1);
        refs[0] = o.ref;
        address payer = o.payer;
        bool unknown = (seed >> 16) % 6 == 0;
        if (unknown) refs[0] = keccak256(abi.encode(seed, "never used"));
        bytes memory expected;
        if (hub.paused()) expected = abi.encodeWithSignature("EnforcedPause()");
        else if (unknown) expected = abi.encodeWithSelector(IClearingCycles.UnknownReference.selector, payer, refs[0]);
        else if (_recallRequested[idx]) expected = abi.encodeWithSelector(IClearingCycles.AlreadyRecalled.selector, payer, refs[0]);
        (uint64 before, uint64 expectedId) = _expectedCycle();
        vm.prank(payer);
        try hub.recall(refs) returns (uint64 id) {
            if (expected.length != 0) return _unexpected("recall accepted", expected);
            if (id != expectedId) return _unexpected("recall entered an unexpected cycle", "");
            _afterRoll(before, id);
            ++calls["hit:recallRequested"];
            _recallRequested[idx] = true;
            _cycleRecalls[id].push(idx);
            modelRecallHash[id] = Model.recallStep(modelRecallHash[id], payer, refs[0]);
            ++modelRecallCount[id];
        } catch (bytes memory reason) {
            _check("recall", reason, expected);
        }
    }

    /// @dev The payer of an obligation of the open cycle `id` recalls it (if none was recalled yet).
    function _recallForCoverage(uint64 id, uint256 seed) internal {
        uint256[] storage own = _cycleObls[id];
        if (own.length == 0 || hub.paused() || hub.currentCycleId() != id) return;
        (uint64 before, uint64 expectedId) = _expectedCycle();
        if (expectedId != id) return; // the open cycle lapsed: a recall would enter the next one
        uint256 idx = own[seed % own.length];
        if (_recallRequested[idx]) return;
        bytes32[] memory refs = new bytes32[](1);
        refs[0] = _obls[idx].ref;
        vm.prank(_obls[idx].payer);
        try hub.recall(refs) returns (uint64 got) {
            if (got != id || before != id) return _unexpected("recall entered an unexpected cycle", "");
            ++calls["hit:recallRequested"];
            _recallRequested[idx] = true;
            _cycleRecalls[id].push(idx);
            modelRecallHash[id] = Model.recallStep(modelRecallHash[id], _obls[idx].payer, refs[0]);
            ++modelRecallCount[id];
        } catch (bytes memory reason) {
            _unexpected("valid recall refused", reason);
        }
    }

    /// @dev The admin sets the obligation expiry: never, or 1 to 3 cycles.
    function setExpiry(uint256 seed) external tracked("setExpiry") {
        uint64 cycles = uint64(seed % 4);
        vm.prank(admin);
        hub.setObligationExpiry(cycles);
        if (hub.obligationExpiry() != cycles) _unexpected("expiry not set", "");
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
        if (id == acceptedCycle) return _cancelSettling(seed, seed % 3 != 0); // the settling cycle
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
        if (c.status == CycleStatus.Settling) {
            // a settling cycle never fails: anyone can apply its chunks
            try hub.failCycle(id) {
                _unexpected("settling cycle failed", "");
            } catch (bytes memory reason) {
                _check("fail settling", reason, abi.encodeWithSelector(IClearingCycles.CycleNotReady.selector, id));
            }
            return;
        }
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

    /// @dev Computes a valid result for the ready cycle, approves it until it is accepted, and applies its
    ///      positions in random chunks (a cycle already settling is continued, one unwinding is unwound).
    ///      mode 0: defer everything; 1: greedy FIFO within headroom; 2: greedy with random deferrals.
    ///      With no cycle ready, the admin closes the open one first if it has any input, so that every
    ///      run settles obligations (``afterInvariant`` requires it) rather than depend on a close being
    ///      drawn between a submission and a settle. Each path (cancel before any chunk, cancel after
    ///      some chunks and unwind, settle in several chunks) is taken first while this run has not hit
    ///      it yet, one after the other in the same call, so that ``afterInvariant`` can require all.
    function settle(uint256 seed, uint256 mode) external tracked("settle") {
        // a cancellation path that this run had not hit yet is followed by the next path at once
        for (uint256 round; round < 3 && _settleOnce(seed, mode); ++round) {
            seed = uint256(keccak256(abi.encode(seed, "again")));
        }
    }

    /// @dev One settlement (or cancellation) of the cycle next in line; true when it cancelled the cycle
    ///      while some path is still missing from this run, so that `settle` goes on with the next cycle.
    function _settleOnce(uint256 seed, uint256 mode) internal returns (bool again) {
        uint64 id = hub.nextCycleToFinalize();
        CycleStatus status = hub.cycle(id).status;
        if (status == CycleStatus.Settling) {
            if (ghostUnwinding) _unwind(seed, true);
            else _applyChunks(seed, type(uint256).max);
            return false;
        }
        if (status != CycleStatus.Closed) {
            if (hub.cycle(id).count == 0 && _pending.length == 0) return false; // nothing to settle yet
            // so that every run recalls, once the chunk paths are covered
            if (calls["hit:recalled"] == 0 && !_pathMissing()) _recallForCoverage(id, seed);
            _close(1 + 3 * (seed % 5)); // as the admin
            ++calls["hit:closedToSettle"];
            if (hub.cycle(id).status != CycleStatus.Closed) {
                _unexpected("close to settle failed", "");
                return false;
            }
        }
        if (calls["hit:expired"] == 0 && _pending.length != 0) {
            // so that every run expires: an expiry that ends the oldest carried obligations only, leaving
            // the rest of the input (and its positions) to the paths below
            uint64 oldest = type(uint64).max;
            for (uint256 i; i < _pending.length; ++i) {
                uint64 origin = _obls[_pending[i]].origin;
                if (origin < oldest) oldest = origin;
            }
            vm.prank(admin);
            hub.setObligationExpiry(id - oldest);
            _forcedExpiry = true;
        }
        uint256 path = _nextPath(seed);
        if (path != 0 || calls["hit:settledInChunks"] == 0) mode = 1; // greedy: positions to apply
        (ClearingResult memory r, uint256[] memory settled, uint256[] memory deferred) =
            _compute(id, mode % 3, seed);
        if (hub.paused()) {
            vm.prank(_oracles[seed % 3]);
            try hub.approveResult(ResultChain.header(r)) {
                _unexpected("approved while paused", "");
            } catch (bytes memory reason) {
                _check("approve paused", reason, abi.encodeWithSignature("EnforcedPause()"));
            }
            return false;
        }
        if (!_approveUntilAccepted(r, settled, deferred, seed)) return false;
        uint256 n = r.positions.length;
        if (n == 0) return false; // settled by the accepting approval
        if (path == 1 && n >= 2) {
            _keepOne = true; // some chunks, never the last
            _applyChunks(seed, 1 + (seed >> 24) % 3);
            _keepOne = false;
            _cancelSettling(seed, true);
            return acceptedCycle == 0 && _pathMissing();
        }
        if (path == 2) {
            _cancelSettling(seed, true);
            return acceptedCycle == 0 && _pathMissing();
        }
        // now and then leave the cycle settling part way, for the other actions to meet
        _applyChunks(seed, calls["hit:settledInChunks"] != 0 && (seed >> 40) % 5 == 0 ? 1 : type(uint256).max);
        return false;
    }

    /// @dev Called by the suite after a run's random actions: drives the paths they did not reach
    ///      (recall taking effect, expiry, settlement in chunks, cancellation and unwinding) from
    ///      whatever state the run left, with the same actions a run takes, so that every run covers
    ///      them; the suite checks its invariants again afterwards. Bounded: at most 16 rounds.
    function cover(uint256 seed) external {
        for (uint256 i; i < 16 && coverageMissing(); ++i) {
            seed = uint256(keccak256(abi.encode(seed, "cover", i)));
            this.submitMany(seed, seed >> 8, 5);
            this.submitMany(seed >> 16, seed >> 24, 5);
            if (calls["hit:recallRequested"] == 0) this.recallOne(seed >> 48);
            this.settle(seed >> 32, seed >> 40);
        }
    }

    /// @dev Whether a path the suite requires of every run is still missing from this one.
    function coverageMissing() public view returns (bool) {
        return calls["hit:recallRequested"] == 0 || calls["hit:recalled"] == 0 || calls["hit:expired"] == 0
            || calls["hit:settledNonEmpty"] == 0 || _pathMissing();
    }

    function _pathMissing() internal view returns (bool) {
        return calls["hit:cancelledAccepted"] == 0 || calls["hit:unwound"] == 0 || calls["hit:settledInChunks"] == 0;
    }

    /// @dev 0: settle in chunks; 1: cancel after some chunks, then unwind; 2: cancel before any chunk.
    function _nextPath(uint256 seed) internal view returns (uint256) {
        if (calls["hit:cancelledAccepted"] == 0) return 2;
        if (calls["hit:unwound"] == 0) return 1;
        if (calls["hit:settledInChunks"] == 0) return 0;
        uint256 pick = (seed >> 16) % 6;
        return pick == 0 ? 1 : pick == 1 ? 2 : 0;
    }

    /// @dev Approves `r` as members in turn until it is accepted; false if it was not (unexpected).
    function _approveUntilAccepted(
        ClearingResult memory r,
        uint256[] memory settled,
        uint256[] memory deferred,
        uint256 seed
    ) internal returns (bool) {
        uint64 id = r.cycleId;
        ResultHeader memory hd = ResultChain.header(r);
        bytes32 h = hub.hashResult(hd);
        for (uint256 k; k < _oracles.length; ++k) {
            address oracle = _oracles[(seed % _oracles.length + k) % _oracles.length];
            if (hub.hasApproved(id, oracle)) continue;
            uint256 count = hub.approvals(id, h);
            vm.prank(oracle);
            try hub.approveResult(hd) returns (bytes32 got, bool accepted) {
                if (got != h) _unexpected("approval of another hash", "");
                if (!accepted) {
                    if (hub.approvals(id, h) != count + 1) _unexpected("approval miscounted", "");
                    continue;
                }
                ghostResultHash[id] = h;
                if (r.positions.length == 0) {
                    if (hub.cycle(id).status != CycleStatus.Settled) _unexpected("empty result not settled", "");
                    _onSettled(r, settled, deferred, seed);
                    return true;
                }
                if (hub.cycle(id).status != CycleStatus.Settling) _unexpected("accepted, not settling", "");
                ++calls["hit:accepted"];
                _accepted = abi.encode(r, settled, deferred);
                acceptedCycle = id;
                ghostApplied = 0;
                ghostUnwound = 0;
                ghostUnwinding = false;
                for (uint256 i; i < r.positions.length; ++i) {
                    NetPosition memory p = r.positions[i];
                    (_restore[p.participant][p.currency],) = hub.accountOf(p.participant, p.currency);
                }
                return true;
            } catch (bytes memory reason) {
                _unexpected("valid result refused", reason);
                return false;
            }
        }
        _unexpected("valid result not accepted", "");
        return false;
    }

    /// @dev Applies up to `maxChunks` chunks of random sizes of the settling cycle, trying a wrong chunk
    ///      before each (refused with its named error, nothing changed), and checks after every chunk that
    ///      money is conserved, caps hold, the cycle is settling and the next one not ready.
    function _applyChunks(uint256 seed, uint256 maxChunks) internal {
        (ClearingResult memory r, uint256[] memory settled, uint256[] memory deferred) =
            abi.decode(_accepted, (ClearingResult, uint256[], uint256[]));
        uint64 id = r.cycleId;
        uint256 n = r.positions.length;
        bytes32[] memory chain = ResultChain.hashes(r.positions);
        uint256 chunks;
        uint256 first = ghostApplied;
        while (ghostApplied < n && chunks < maxChunks) {
            uint256 start = ghostApplied;
            uint256 salt = uint256(keccak256(abi.encode(seed, start, "chunk")));
            uint256 left = n - start;
            // the first chunk of a cycle that must be split leaves at least one position
            bool split = left >= 2 && (_keepOne || (start == 0 && calls["hit:settledInChunks"] == 0));
            if (left == 1 && _keepOne) return;
            uint256 size = split ? 1 + salt % (left - 1) : 1 + salt % left;
            if (salt % 3 != 0 || calls["hit:wrongChunkRefused"] == 0) {
                _tryWrongChunk(r, chain, start, size, salt >> 8, false);
            }
            if (hub.paused()) {
                try hub.settlePositions(id, ResultChain.slice(r.positions, start, start + size), chain[start + size]) {
                    _unexpected("chunk applied while paused", "");
                } catch (bytes memory reason) {
                    _check("chunk paused", reason, abi.encodeWithSignature("EnforcedPause()"));
                }
                return;
            }
            try hub.settlePositions(id, ResultChain.slice(r.positions, start, start + size), chain[start + size])
            returns (uint64 applied, bool done) {
                ++chunks;
                if (applied != start + size) _unexpected("applied miscounted", "");
                if (done != (applied == n)) _unexpected("settled flag", "");
                ghostApplied = uint64(start + size);
                for (uint256 i = start; i < start + size; ++i) {
                    NetPosition memory p = r.positions[i];
                    ghostInFlight[p.currency] += p.net;
                    (int256 balance, uint256 cap) = hub.accountOf(p.participant, p.currency);
                    if (p.net < 0 && balance < -int256(cap)) ++ghostSettledBelowCap;
                }
                _checkConserved("after a chunk");
                if (!done) {
                    ++calls["hit:chunkApplied"];
                    if (hub.cycle(id).status != CycleStatus.Settling) _unexpected("not settling mid-way", "");
                    if (hub.cycle(id + 1).readyBlock != 0) _unexpected("next cycle ready mid-way", "");
                    if (chunks == 1 && settled.length != 0) _checkNoProofWhileSettling(id, settled, seed);
                    continue;
                }
                if (hub.cycle(id).status != CycleStatus.Settled) return _unexpected("last chunk did not settle", "");
                if (first == 0 && chunks >= 2) ++calls["hit:settledInChunks"];
                if (ghostInFlight[SGD] != 0 || ghostInFlight[USD] != 0) _unexpected("settled with nets in flight", "");
                acceptedCycle = 0;
                _onSettled(r, settled, deferred, seed);
                return;
            } catch (bytes memory reason) {
                return _unexpected("valid chunk refused", reason);
            }
        }
    }

    /// @dev Sends a wrong chunk at `start` (of `size`) and expects its named error, with nothing changed.
    function _tryWrongChunk(
        ClearingResult memory r,
        bytes32[] memory chain,
        uint256 start,
        uint256 size,
        uint256 salt,
        bool unwinding
    ) internal {
        uint64 id = r.cycleId;
        uint256 end = unwinding ? ghostApplied : r.positions.length;
        uint256 kind = salt % 6;
        NetPosition[] memory chunk = ResultChain.slice(r.positions, start, start + size);
        bytes32 rest = chain[start + size];
        bytes memory expected = abi.encodeWithSelector(IClearingResults.ChunkMismatch.selector, id, uint64(start));
        if (kind == 0) {
            rest = keccak256(abi.encode(rest)); // wrong rest
        } else if (kind == 1) {
            chunk[salt % size].net += 1; // wrong positions
        } else if (kind == 2 && start + size < end) {
            chunk = ResultChain.slice(r.positions, start + 1, start + size + 1); // skipped a position
            rest = chain[start + size + 1];
        } else if (kind == 3) {
            chunk = ResultChain.slice(r.positions, start, end + (end < r.positions.length ? 1 : 0));
            if (end == r.positions.length) {
                NetPosition[] memory longer = new NetPosition[](chunk.length + 1);
                for (uint256 i; i < chunk.length; ++i) {
                    longer[i] = chunk[i];
                }
                longer[chunk.length] = chunk[chunk.length - 1];
                chunk = longer;
            }
            rest = chain[end < r.positions.length ? end + 1 : end];
            expected = abi.encodeWithSelector(
                IClearingResults.ChunkOutOfRange.selector, id, uint64(start), chunk.length, uint64(end)
            ); // past the end
        } else if (kind == 5 && start != 0) {
            uint256 most = start < end - start ? start : end - start; // no longer than what is left
            uint256 from = start - 1 - salt % most; // replay of positions already applied
            chunk = ResultChain.slice(r.positions, from, start);
            rest = chain[start];
        } else {
            chunk = new NetPosition[](0); // empty
            expected = abi.encodeWithSelector(
                IClearingResults.ChunkOutOfRange.selector, id, uint64(start), uint256(0), uint64(end)
            );
        }
        (int256 before,) = hub.accountOf(r.positions[start].participant, r.positions[start].currency);
        bytes memory reason;
        bool ok;
        if (unwinding) {
            try hub.unwindPositions(id, chunk, rest) {
                ok = true;
            } catch (bytes memory why) {
                reason = why;
            }
        } else {
            if (hub.paused()) return;
            try hub.settlePositions(id, chunk, rest) {
                ok = true;
            } catch (bytes memory why) {
                reason = why;
            }
        }
        if (ok) return _unexpected(unwinding ? "wrong unwind chunk accepted" : "wrong chunk accepted", "");
        _check(unwinding ? "wrong unwind chunk" : "wrong chunk", reason, expected);
        ++calls[unwinding ? "hit:wrongUnwindRefused" : "hit:wrongChunkRefused"];
        (int256 after_,) = hub.accountOf(r.positions[start].participant, r.positions[start].currency);
        SettlementProgress memory p = hub.settlement();
        if (after_ != before || p.applied != ghostApplied || p.unwound != ghostUnwound) {
            _unexpected("a refused chunk changed state", "");
        }
    }

    /// @dev The admin cancels the settling cycle: at once with nothing applied, else it starts unwinding,
    ///      and is unwound (`full`) or unwound part way.
    function _cancelSettling(uint256 seed, bool full) internal {
        uint64 id = acceptedCycle;
        vm.prank(admin);
        try hub.cancelCycle(id, "handler") {
            if (ghostUnwinding) return _unexpected("cancelled twice", "");
            if (ghostApplied == 0) {
                if (hub.cycle(id).status != CycleStatus.Cancelled) return _unexpected("not cancelled", "");
                ++calls["hit:cancelledAccepted"];
                acceptedCycle = 0;
                _carryWhole(id);
                return;
            }
            ++calls["hit:unwindStarted"];
            ghostUnwinding = true;
            if (!hub.settlement().unwinding) _unexpected("not unwinding", "");
        } catch (bytes memory reason) {
            _check(
                "cancel settling",
                reason,
                ghostUnwinding
                    ? abi.encodeWithSelector(IClearingResults.SettlementIsUnwinding.selector, id)
                    : bytes("(no revert)")
            );
            if (!ghostUnwinding) return;
        }
        _unwind(seed, full);
    }

    /// @dev Reverses applied positions in random chunks (all of them when `full`, else at least one chunk),
    ///      checking that no position applies meanwhile and that the end restores every balance exactly.
    function _unwind(uint256 seed, bool full) internal {
        (ClearingResult memory r,,) = abi.decode(_accepted, (ClearingResult, uint256[], uint256[]));
        uint64 id = r.cycleId;
        bytes32[] memory chain = ResultChain.hashes(r.positions);
        if (ghostApplied < r.positions.length && !hub.paused()) {
            uint256 s = ghostApplied;
            try hub.settlePositions(id, ResultChain.slice(r.positions, s, s + 1), chain[s + 1]) {
                _unexpected("applied while unwinding", "");
            } catch (bytes memory reason) {
                _check("chunk while unwinding", reason, abi.encodeWithSelector(IClearingResults.SettlementIsUnwinding.selector, id));
                ++calls["hit:settleWhileUnwinding"];
            }
        }
        bool once;
        while (ghostUnwound < ghostApplied && (full || !once)) {
            once = true;
            uint256 start = ghostUnwound;
            uint256 salt = uint256(keccak256(abi.encode(seed, start, "unwind")));
            uint256 size = 1 + salt % (ghostApplied - start);
            if (salt % 2 == 0 || calls["hit:wrongUnwindRefused"] == 0) {
                _tryWrongChunk(r, chain, start, size, salt >> 8, true);
            }
            try hub.unwindPositions(id, ResultChain.slice(r.positions, start, start + size), chain[start + size])
            returns (uint64 unwound, bool cancelled) {
                if (unwound != start + size) _unexpected("unwound miscounted", "");
                ghostUnwound = uint64(start + size);
                if (cancelled != (ghostUnwound == ghostApplied)) _unexpected("cancelled flag", "");
                for (uint256 i = start; i < start + size; ++i) {
                    NetPosition memory p = r.positions[i];
                    ghostInFlight[p.currency] -= p.net;
                    if (balanceOf(p.participant, p.currency) != _restore[p.participant][p.currency]) {
                        _unexpected("unwound balance not restored", "");
                    }
                }
                _checkConserved("after an unwind chunk");
                ++calls["hit:unwindChunk"];
            } catch (bytes memory reason) {
                return _unexpected("valid unwind chunk refused", reason);
            }
        }
        if (ghostUnwound < ghostApplied) return;
        if (hub.cycle(id).status != CycleStatus.Cancelled) return _unexpected("unwound, not cancelled", "");
        if (ghostInFlight[SGD] != 0 || ghostInFlight[USD] != 0) _unexpected("unwound with nets in flight", "");
        ++calls["hit:unwound"];
        acceptedCycle = 0;
        ghostUnwinding = false;
        _carryWhole(id);
    }

    /// @dev verifyObligation answers false for a settling cycle, even with a valid proof of a settled one.
    function _checkNoProofWhileSettling(uint64 id, uint256[] memory idx, uint256 seed) internal {
        bytes32[] memory tree = Model.buildTree(_leaves(idx));
        Obligation memory o = _toObligation(idx[seed % idx.length]);
        bytes32[] memory proof = Model.proof(tree, Model.leaf(o));
        if (hub.verifyObligation(id, true, proof, o.origin, o.payer, o.payee, o.currency, o.amount, o.ref)) {
            _unexpected("obligation proved while settling", "");
        }
        ++calls["hit:noProofWhileSettling"];
    }

    /// @dev Applies one more chunk of the settling cycle (or reverses one while it unwinds).
    function applyChunk(uint256 seed) external tracked("applyChunk") {
        if (acceptedCycle == 0) return;
        if (ghostUnwinding) return _unwind(seed, false);
        _applyChunks(seed, 1);
    }

    /// @dev Per currency: sum of balances minus the nets in flight (applied, not yet settled) == totalBalance.
    function _checkConserved(string memory when) internal {
        bytes3[2] memory codes = [SGD, USD];
        for (uint256 c; c < 2; ++c) {
            int256 sum;
            for (uint256 i; i < _members.length; ++i) {
                sum += balanceOf(_members[i], codes[c]);
            }
            if (sum - ghostInFlight[codes[c]] != hub.totalBalance(codes[c])) _unexpected(when, "money");
        }
    }

    function balanceOf(address who, bytes3 code) internal view returns (int256 b) {
        (b,) = hub.accountOf(who, code);
    }

    /// @dev One oracle approves a valid result without settling (only when nobody approved yet).
    function partialApprove(uint256 seed) external tracked("partialApprove") {
        uint64 id = hub.nextCycleToFinalize();
        if (hub.paused() || hub.cycle(id).status != CycleStatus.Closed) return;
        for (uint256 k; k < _oracles.length; ++k) {
            if (hub.hasApproved(id, _oracles[k])) return;
        }
        (ClearingResult memory r,,) = _compute(id, 1 + seed % 2, seed);
        vm.prank(_oracles[seed % _oracles.length]);
        try hub.approveResult(ResultChain.header(r)) returns (bytes32, bool done) {
            if (done) _unexpected("a single approval accepted", "");
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
        try hub.approveResult(ResultChain.header(r)) returns (bytes32, bool done) {
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
        if (acceptedCycle != 0) _restore[who][code] += int256(amount); // funding while settling stays
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
        CycleStatus status = hub.cycle(id).status;
        return status == CycleStatus.Closed || status == CycleStatus.Settling ? id : 0;
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
        if (total == 0) {
            delete _pendingRecalls; // nothing outstanding: nothing a recall could name
        } else {
            uint256[] storage rs = _cycleRecalls[id];
            for (uint256 i; i < rs.length; ++i) {
                _pendingRecalls.push(rs[i]);
            }
            if (rs.length != 0) ++calls["hit:recallCarried"];
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
        uint256[] memory input = _input(id);
        (uint256[] memory live, uint256[] memory recalled) = _splitRecalled(id, input);
        uint256[] memory expired;
        (live, expired) = _splitExpired(id, live, hub.obligationExpiry());
        (settled, deferred, net) = _select(live, mode, seed);
        r.cycleId = id;
        r.inputCommitment = hub.cycle(id).inputCommitment;
        r.settledRoot = Model.root(_leaves(settled));
        r.deferredRoot = Model.root(_leaves(deferred));
        r.settledCount = uint64(settled.length);
        r.deferredCount = uint64(deferred.length);
        r.recalledRoot = Model.root(_leaves(recalled));
        r.recalledCount = uint64(recalled.length);
        r.expiredRoot = Model.root(_leaves(expired));
        r.expiredCount = uint64(expired.length);
        r.positions = _positions(net);
    }

    /// @dev Whether a recall request pending for cycle `id` (carried, or recorded in it) names `idx`.
    function _recalledIn(uint64 id, uint256 idx) internal view returns (bool) {
        uint256[] storage own = _cycleRecalls[id];
        for (uint256 i; i < own.length; ++i) {
            if (own[i] == idx) return true;
        }
        for (uint256 i; i < _pendingRecalls.length; ++i) {
            if (_pendingRecalls[i] == idx) return true;
        }
        return false;
    }

    /// @dev The input without the obligations a pending recall names, and those (input order kept).
    function _splitRecalled(uint64 id, uint256[] memory input)
        internal
        view
        returns (uint256[] memory live, uint256[] memory recalled)
    {
        live = new uint256[](input.length);
        recalled = new uint256[](input.length);
        uint256 nl;
        uint256 nr;
        for (uint256 i; i < input.length; ++i) {
            if (_recalledIn(id, input[i])) recalled[nr++] = input[i];
            else live[nl++] = input[i];
        }
        assembly ("memory-safe") {
            mstore(live, nl)
            mstore(recalled, nr)
        }
    }

    /// @dev The obligations the clearing of cycle `id` sees, and those that expire before it
    ///      (submitted `expiry` or more cycles before it; expiry 0 = never).
    function _splitExpired(uint64 id, uint256[] memory unsettled, uint64 expiry)
        internal
        view
        returns (uint256[] memory deferred, uint256[] memory expired)
    {
        deferred = new uint256[](unsettled.length);
        expired = new uint256[](unsettled.length);
        uint256 nd;
        uint256 ne;
        for (uint256 i; i < unsettled.length; ++i) {
            if (expiry != 0 && id - _obls[unsettled[i]].origin >= expiry) expired[ne++] = unsettled[i];
            else deferred[nd++] = unsettled[i];
        }
        assembly ("memory-safe") {
            mstore(deferred, nd)
            mstore(expired, ne)
        }
    }

    /// @dev The obligations of cycle `id`'s input in neither `settled` nor `deferred`: recalled, then
    ///      expired (what `_compute` put in the ended sets).
    function _endedSets(uint64 id, uint256[] memory settled, uint256[] memory deferred)
        internal
        view
        returns (uint256[] memory recalled, uint256[] memory expired)
    {
        uint256[] memory input = _input(id);
        recalled = new uint256[](input.length);
        expired = new uint256[](input.length);
        uint256 nr;
        uint256 ne;
        for (uint256 i; i < input.length; ++i) {
            uint256 idx = input[i];
            if (_contains(settled, idx) || _contains(deferred, idx)) continue;
            if (_recalledIn(id, idx)) recalled[nr++] = idx;
            else expired[ne++] = idx;
        }
        assembly ("memory-safe") {
            mstore(recalled, nr)
            mstore(expired, ne)
        }
    }

    function _contains(uint256[] memory xs, uint256 x) internal pure returns (bool) {
        for (uint256 i; i < xs.length; ++i) {
            if (xs[i] == x) return true;
        }
        return false;
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
        for (uint256 i; i < settled.length; ++i) {
            if (ghostEnded[settled[i]] != 0) ++ghostEndedThenSettled;
        }
        (uint256[] memory recalled, uint256[] memory expired) = _endedSets(id, settled, deferred);
        if (recalled.length != r.recalledCount || expired.length != r.expiredCount) {
            _unexpected("ended sets differ from the result", "");
        }
        for (uint256 i; i < recalled.length; ++i) {
            if (++ghostEnded[recalled[i]] > 1) ++ghostEndedTwice;
        }
        for (uint256 i; i < expired.length; ++i) {
            if (++ghostEnded[expired[i]] > 1) ++ghostEndedTwice;
        }
        totalEnded += recalled.length + expired.length;
        if (settled.length + deferred.length + recalled.length + expired.length != 0) {
            ++calls["hit:settledNonEmpty"];
        }
        if (recalled.length != 0) ++calls["hit:recalled"];
        if (expired.length != 0) {
            ++calls["hit:expired"];
            if (_forcedExpiry) {
                _forcedExpiry = false;
                vm.prank(admin); // back to never, so that the rest of the run carries and chunks as before
                hub.setObligationExpiry(0);
            }
        }
        delete _pendingRecalls; // a settled cycle spends every pending request
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
        if (recalled.length != 0) _checkEndedProof(id, true, recalled, seed);
        if (expired.length != 0) _checkEndedProof(id, false, expired, seed);
    }

    function _checkEndedProof(uint64 id, bool recalledSet, uint256[] memory idx, uint256 seed) internal {
        bytes32[] memory tree = Model.buildTree(_leaves(idx));
        Obligation memory o = _toObligation(idx[seed % idx.length]);
        bytes32[] memory proof = Model.proof(tree, Model.leaf(o));
        if (!hub.verifyEndedObligation(
                id, recalledSet, proof, o.origin, o.payer, o.payee, o.currency, o.amount, o.ref
            )) {
            _unexpected("proof of an ended obligation failed", "");
        }
        if (hub.verifyObligation(id, true, proof, o.origin, o.payer, o.payee, o.currency, o.amount, o.ref)) {
            _unexpected("ended obligation proved settled", "");
        }
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
