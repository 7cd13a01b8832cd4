// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {Pausable} from "@openzeppelin/contracts/utils/Pausable.sol";
import {IClearingCycles} from "../interfaces/IClearingCycles.sol";
import {ObligationCodec} from "../libraries/ObligationCodec.sol";
import {SettlementAccounts} from "./SettlementAccounts.sol";
import {
    MAX_AMOUNT,
    Cycle,
    CycleStatus,
    NettingStrategy,
    ObligationInput,
    ObligationKind,
    ParticipantKind,
    ParticipantStatus
} from "../types/SettlementTypes.sol";

/// @title Clearing-cycle and submission module of the settlement hub
/// @dev Storage per submission is O(1) amortised: the cycle's count and rolling hash are written once
///      per batch, and duplicate references are tracked in a bitmap shared by 256 neighbouring
///      references. Nothing here loops over storage that grows with history.
abstract contract ClearingCycles is SettlementAccounts, Pausable, IClearingCycles {
    mapping(uint64 cycleId => Cycle) internal _cycles;
    mapping(address payer => mapping(uint256 word => uint256 bits)) internal _referenceBits;
    /// @dev References each payer has recalled, in the layout of `_referenceBits`.
    mapping(address payer => mapping(uint256 word => uint256 bits)) internal _recallBits;
    /// @dev The recalls recorded while each cycle was open (see `recalls`).
    mapping(uint64 cycleId => Recalls) internal _recalls;

    uint64 internal _currentCycleId;
    uint64 internal _nextToFinalize;
    uint64 internal _cycleDuration;
    /// @dev Deadline of the open cycle, fixed when it opened (0 = close by admin only), so that a new
    ///      `_cycleDuration` applies from the next cycle as documented.
    uint64 internal _currentClosesAt;
    uint64 internal _settlementTimeout;
    NettingStrategy internal _strategy;
    /// @dev Cycles after its submission cycle at which an unsettled obligation expires (0 = never).
    uint64 internal _obligationExpiry;

    /// @dev A cycle's recall requests: the rolling hash keccak256(prev ‖ payer ‖ ref) and their count.
    struct Recalls {
        bytes32 hash;
        uint64 count;
    }

    /// @dev The cycle next in line (`_nextToFinalize`), in one slot: `carryCount` obligations carried
    ///      into it, and the ballot of its approvals (ClearingResults: the cycle and committee epoch they
    ///      were counted in, and the approvals of the lead hash). The slot is never zero after
    ///      construction, so finalising a cycle and recording an approval rewrite it (2,900 gas) instead of
    ///      allocating it (20,000). The carried set's commitment is not stored: it follows from the cycle
    ///      finalised last (see `_carryIn`).
    struct Pending {
        uint64 carryCount;
        uint64 ballotCycle;
        uint64 ballotEpoch;
        uint64 leadApprovals;
    }

    Pending internal _pending;

    uint256 private constant _OK = 0;
    /// @dev A sequenced reference starts with these 4 bytes (`_referenceKey`); its sequence number
    ///      is bytes 4-15.
    uint256 private constant SEQUENCED_MAGIC = 0x01535101;
    uint256 private constant SEQUENCE_MASK = 0xffffffffffffffffffffffff;

    constructor() {
        _nextToFinalize = 1;
        _pending.ballotEpoch = type(uint64).max; // a ballot of no cycle in no epoch: the slot is non-zero
        _openCycle(1);
    }

    /// @inheritdoc IClearingCycles
    function submit(ObligationInput calldata o) external whenNotPaused returns (uint64 cycleId) {
        ParticipantKind payerKind = _requireActive(msg.sender);
        cycleId = _openCycleForSubmission();
        bytes32 ref = o.ref;
        if (ref == 0) revert ZeroReference(0);
        ParticipantKind payeeKind = _payeeKind(o.payee, ref);
        Currency memory currency = _currencies[o.currency];
        if (!currency.registered) revert UnknownObligationCurrency(ref, o.currency);
        _checkObligation(payerKind, payeeKind, o.payee, uint8(o.kind), o.amount, ref);
        if (o.amount > currency.maxAmount) revert ObligationAmountAboveMaximum(ref, o.amount, currency.maxAmount);

        mapping(uint256 => uint256) storage bits = _referenceBits[msg.sender];
        (uint256 key, uint256 bit) = _referenceKey(ref);
        uint256 word = bits[key];
        if (word & bit != 0) revert DuplicateReference(msg.sender, ref);
        bits[key] = word | bit;

        Cycle storage c = _cycles[cycleId];
        c.submissionsHash = ObligationCodec.step(c.submissionsHash, msg.sender, o);
        ++c.count;
        emit ObligationSubmitted(
            msg.sender, o.payee, cycleId, ref, o.currency, o.kind, o.amount, o.payerAccount, o.payeeAccount
        );
    }

    /// @inheritdoc IClearingCycles
    function submitBatch(bytes calldata records) external whenNotPaused returns (uint64 cycleId) {
        if (records.length < ObligationCodec.SHORT_RECORD_SIZE) revert MalformedBatch(records.length);
        ParticipantKind payerKind = _requireActive(msg.sender);
        cycleId = _openCycleForSubmission();
        Cycle storage c = _cycles[cycleId];
        (bytes32 h, uint256 n, uint256 failure, uint256 failedAt) =
            _ingest(records, cycleId, payerKind, c.submissionsHash);
        if (failure != _OK) _revertRecord(failure, failedAt, n, records.length);
        c.submissionsHash = h;
        c.count += uint64(n);
    }

    /// @dev The batch hot loop, in assembly because it runs hundreds of times per transaction: it costs
    ///      about 900 gas per record besides the event (3,300) and calldata, where the Solidity version
    ///      cost 1,500. It applies `_checkObligation`'s rules to each record, sets the payer's reference
    ///      bits, advances the rolling hash over the record's canonical 152-byte form and emits
    ///      `ObligationSubmitted`. On the first bad record it stops and returns a failure code, the
    ///      record's index and calldata offset; `_revertRecord` raises the typed error and the
    ///      transaction reverts, so nothing is half-written. Payee and currency lookups are cached while
    ///      consecutive records repeat them; the current reference-bitmap word stays on the stack and is
    ///      written back when the word changes.
    function _ingest(bytes calldata records, uint64 cycleId, ParticipantKind payerKind, bytes32 h)
        private
        returns (bytes32, uint256 n, uint256 failure, uint256 ptr)
    {
        bytes32 topic0 = ObligationSubmitted.selector;
        assembly ("memory-safe") {
            // Memory above the free pointer:
            //   ev    = m          224-byte ObligationSubmitted data (cycleId written once)
            //   hb    = m + 0x100  204-byte hash input: h ‖ payer (written once) ‖ canonical record
            //   state = m + 0x200  loop state read rarely
            //   cache = m + 0x300  16-entry direct-mapped cache of active payees: (payee << 8) | kind; empty
            //                      entries hold not(0), which no address matches (0 would match address(0))
            let ev := mload(0x40)
            let hb := add(ev, 0x100)
            let state := add(ev, 0x200)
            let cache := add(ev, 0x300)
            for { let i := 0 } lt(i, 0x200) { i := add(i, 0x20) } { mstore(add(cache, i), not(0)) }
            mstore(ev, cycleId)
            mstore(add(hb, 32), shl(96, caller()))
            mstore(0x00, caller())
            mstore(0x20, _referenceBits.slot)
            mstore(state, keccak256(0x00, 0x40)) // the payer's bitmap mapping slot
            mstore(add(state, 0x60), not(0)) // last currency (none: not(0) never equals a 3-byte code, 0 would)
            mstore(add(state, 0x80), not(0)) // current bitmap word key (none)
            mstore(add(state, 0xa0), 0) // current bitmap word slot
            let payerWallet2 := shl(1, eq(payerKind, 2)) // 2 if the payer is a wallet provider
            let word := 0
            ptr := records.offset
            let end := add(ptr, records.length)
            for {} lt(ptr, end) {} {
                let flags := byte(3, calldataload(add(ptr, 20)))
                let kind := and(flags, 0x7f)
                let size := 88
                if and(flags, 0x80) { size := 152 }
                if gt(add(ptr, size), end) {
                    failure := 9
                    break
                }
                let payee := shr(96, calldataload(ptr))
                let amount := calldataload(add(ptr, 24))
                let ref := calldataload(add(ptr, 56))
                if iszero(ref) {
                    failure := 1
                    break
                }
                // 0 < amount <= MAX_AMOUNT in one comparison: amount - 1 wraps to 2^256 - 1 for 0
                if iszero(lt(sub(amount, 1), MAX_AMOUNT)) {
                    failure := 2 // ZeroObligationAmount or ObligationAmountTooLarge
                    break
                }
                if eq(payee, caller()) {
                    failure := 3
                    break
                }
                if gt(kind, 3) {
                    failure := 4
                    break
                }
                let entry := add(cache, shl(5, and(payee, 0x0f)))
                let cached := mload(entry)
                if iszero(eq(shr(8, cached), payee)) {
                    mstore(0x00, payee)
                    mstore(0x20, _members.slot)
                    let member := sload(keccak256(0x00, 0x40))
                    // Member { kind (byte 0), status (byte 1) }; Active = 1
                    if iszero(eq(and(shr(8, member), 0xff), 1)) {
                        failure := 5
                        break
                    }
                    cached := or(shl(8, payee), and(member, 0xff))
                    mstore(entry, cached)
                }
                let code := and(calldataload(add(ptr, 20)), shl(232, 0xffffff))
                if iszero(eq(code, mload(add(state, 0x60)))) {
                    mstore(0x00, code)
                    mstore(0x20, _currencies.slot)
                    // Currency { registered (byte 0), minorUnits (byte 1), maxAmount (bits 16 .. 143) }
                    let currency := sload(keccak256(0x00, 0x40))
                    if iszero(and(currency, 0xff)) {
                        failure := 6
                        break
                    }
                    mstore(add(state, 0x60), code)
                    mstore(add(state, 0x40), and(shr(16, currency), MAX_AMOUNT))
                }
                if gt(amount, mload(add(state, 0x40))) {
                    failure := 10
                    break
                }
                // wallet kinds: kind == 2 * payerIsWallet + payeeIsWallet (interbank, 0, is unrestricted)
                if kind {
                    if iszero(eq(kind, add(payerWallet2, eq(and(cached, 0xff), 2)))) {
                        failure := 7
                        break
                    }
                }
                // the duplicate bitmap's word and bit (`_referenceKey`)
                let key := shr(8, ref)
                let bitIndex := and(ref, 0xff)
                if eq(shr(224, ref), SEQUENCED_MAGIC) {
                    let seq := and(shr(128, ref), SEQUENCE_MASK)
                    key := or(shl(248, 1), shr(8, seq))
                    bitIndex := and(seq, 0xff)
                }
                if iszero(eq(key, mload(add(state, 0x80)))) {
                    if iszero(eq(mload(add(state, 0x80)), not(0))) { sstore(mload(add(state, 0xa0)), word) }
                    mstore(0x00, key)
                    mstore(0x20, mload(state))
                    let slot := keccak256(0x00, 0x40)
                    word := sload(slot)
                    mstore(add(state, 0x80), key)
                    mstore(add(state, 0xa0), slot)
                }
                let bit := shl(bitIndex, 1)
                if and(word, bit) {
                    failure := 8
                    break
                }
                word := or(word, bit)
                // canonical record at hb+52: payee ‖ currency ‖ kind ‖ amount ‖ ref ‖ payerAccount ‖ payeeAccount
                calldatacopy(add(hb, 52), ptr, 88)
                mstore8(add(hb, 75), kind)
                switch size
                case 88 {
                    mstore(add(hb, 140), 0)
                    mstore(add(hb, 172), 0)
                    mstore(add(ev, 160), 0)
                    mstore(add(ev, 192), 0)
                }
                default {
                    calldatacopy(add(hb, 140), add(ptr, 88), 64)
                    calldatacopy(add(ev, 160), add(ptr, 88), 64)
                }
                // rolling hash: keccak256(h ‖ payer ‖ canonical record)
                mstore(hb, h)
                h := keccak256(hb, 204)
                // ObligationSubmitted(payer, payee, cycleId, ref, currency, kind, amount, payerAccount, payeeAccount)
                mstore(add(ev, 32), ref)
                mstore(add(ev, 64), code)
                mstore(add(ev, 96), kind)
                mstore(add(ev, 128), amount)
                log3(ev, 224, topic0, caller(), payee)
                ptr := add(ptr, size)
                n := add(n, 1)
            }
            if iszero(failure) { sstore(mload(add(state, 0xa0)), word) }
        }
        return (h, n, failure, ptr);
    }

    /// @dev Raises the typed error for record `index` of the batch, at calldata offset `ptr`.
    function _revertRecord(uint256 failure, uint256 ptr, uint256 index, uint256 length) private view {
        if (failure == 9) revert MalformedBatch(length);
        (address payee, bytes3 code, uint8 kind, bytes32 ref) = ObligationCodec.decodeHead(ptr);
        if (failure == 1) revert ZeroReference(index);
        if (failure == 2) {
            uint256 amount = ObligationCodec.decodeAmount(ptr);
            if (amount == 0) revert ZeroObligationAmount(ref);
            revert ObligationAmountTooLarge(ref, amount);
        }
        if (failure == 3) revert PayerIsPayee(ref);
        if (failure == 4) revert InvalidKind(ref, kind);
        if (failure == 5) revert InactivePayee(ref, payee);
        if (failure == 6) revert UnknownObligationCurrency(ref, code);
        if (failure == 7) revert KindMismatch(ref, ObligationKind(kind));
        if (failure == 10) {
            uint256 amount = ObligationCodec.decodeAmount(ptr);
            revert ObligationAmountAboveMaximum(ref, amount, _currencies[code].maxAmount);
        }
        revert DuplicateReference(msg.sender, ref);
    }

    /// @inheritdoc IClearingCycles
    function recall(bytes32[] calldata refs) external whenNotPaused returns (uint64 cycleId) {
        uint256 n = refs.length;
        if (n == 0) revert NothingToRecall();
        cycleId = _openCycleForSubmission();
        Recalls storage r = _recalls[cycleId];
        bytes32 h = r.hash;
        mapping(uint256 => uint256) storage used = _referenceBits[msg.sender];
        mapping(uint256 => uint256) storage recalled = _recallBits[msg.sender];
        for (uint256 i; i < n; ++i) {
            bytes32 ref = refs[i];
            (uint256 key, uint256 bit) = _referenceKey(ref);
            if (used[key] & bit == 0) revert UnknownReference(msg.sender, ref);
            uint256 word = recalled[key];
            if (word & bit != 0) revert AlreadyRecalled(msg.sender, ref);
            recalled[key] = word | bit;
            h = keccak256(abi.encodePacked(h, msg.sender, ref));
            emit RecallRequested(msg.sender, cycleId, ref);
        }
        r.hash = h;
        r.count += uint64(n);
    }

    /// @inheritdoc IClearingCycles
    function closeCycle() external returns (uint64 closedId) {
        closedId = _currentCycleId;
        if (msg.sender != owner()) {
            uint64 closesAt = _currentClosesAt;
            if (closesAt == 0 || block.timestamp < closesAt) revert CycleStillRunning(closedId, closesAt);
        }
        _closeAndRoll(closedId);
    }

    /// @inheritdoc IClearingCycles
    function failCycle(uint64 cycleId) external {
        Cycle storage c = _requireReady(cycleId);
        uint64 timeout = _settlementTimeout;
        uint64 failsAt = timeout == 0 ? 0 : c.readyAt + timeout;
        if (failsAt == 0 || block.timestamp < failsAt) revert SettlementTimeoutNotReached(cycleId, failsAt);
        c.status = CycleStatus.Failed;
        emit CycleFailed(cycleId, "settlement timeout");
        _carryWholeInput(cycleId, c);
    }

    /// @inheritdoc IClearingCycles
    function cancelCycle(uint64 cycleId, string calldata reason) external onlyOwner {
        Cycle storage c = _cycles[cycleId];
        if (cycleId == _nextToFinalize && c.status == CycleStatus.Settling) {
            _cancelSettling(cycleId, c, reason);
            return;
        }
        c = _requireReady(cycleId);
        c.status = CycleStatus.Cancelled;
        emit CycleCancelled(cycleId, reason);
        _carryWholeInput(cycleId, c);
    }

    /// @inheritdoc IClearingCycles
    function setCycleDuration(uint64 duration) external onlyOwner {
        _cycleDuration = duration;
        emit CycleDurationSet(duration);
    }

    /// @inheritdoc IClearingCycles
    function setSettlementTimeout(uint64 timeout) external onlyOwner {
        _settlementTimeout = timeout;
        emit SettlementTimeoutSet(timeout);
    }

    /// @inheritdoc IClearingCycles
    function setNettingStrategy(NettingStrategy strategy) external onlyOwner {
        _strategy = strategy;
        emit NettingStrategySet(strategy);
    }

    /// @inheritdoc IClearingCycles
    function setObligationExpiry(uint64 cycles) external onlyOwner {
        _obligationExpiry = cycles;
        emit ObligationExpirySet(cycles);
    }

    /// @inheritdoc IClearingCycles
    function obligationExpiry() external view returns (uint64) {
        return _obligationExpiry;
    }

    /// @inheritdoc IClearingCycles
    function recalls(uint64 cycleId) external view returns (bytes32 hash, uint64 count) {
        Recalls memory r = _recalls[cycleId];
        return (r.hash, r.count);
    }

    /// @inheritdoc IClearingCycles
    function currentCycleId() external view returns (uint64) {
        return _currentCycleId;
    }

    /// @inheritdoc IClearingCycles
    function nextCycleToFinalize() external view returns (uint64) {
        return _nextToFinalize;
    }

    /// @inheritdoc IClearingCycles
    function cycle(uint64 cycleId) external view returns (Cycle memory) {
        return _cycles[cycleId];
    }

    /// @inheritdoc IClearingCycles
    function carry() external view returns (bytes32 commitment, uint64 count) {
        return (_carryIn(), _pending.carryCount);
    }

    /// @inheritdoc IClearingCycles
    function cycleConfig() external view returns (uint64 duration, uint64 settlementTimeout, NettingStrategy strategy) {
        return (_cycleDuration, _settlementTimeout, _strategy);
    }

    /// @inheritdoc IClearingCycles
    function referencesUsed(address payer, bytes32[] calldata refs) external view returns (uint256[] memory used) {
        uint256 n = refs.length;
        used = new uint256[]((n + 255) / 256);
        mapping(uint256 => uint256) storage bits = _referenceBits[payer];
        for (uint256 i; i < n; ++i) {
            (uint256 key, uint256 bit) = _referenceKey(refs[i]);
            if (bits[key] & bit != 0) used[i / 256] |= 1 << (i % 256);
        }
    }

    /// @dev The word and bit of `ref` in a payer's duplicate bitmap. A *sequenced* reference
    ///      (`0x01535101` ‖ sequence number (12 bytes) ‖ the payment's own id, e.g. a UETR (16 bytes);
    ///      the magic starts with a non-printable byte, so no text reference has it, and a hash has
    ///      it with probability 2^-32) is keyed by its sequence number alone, in words of their own
    ///      (key >= 2^248):
    ///      a payer that numbers its payments pays ~90 gas per reference for duplicate protection even
    ///      when the ids are random, and a sequence number can be used once only, whatever id it
    ///      carries. Any other reference is keyed by `ref >> 8` (key < 2^248), bit `ref & 0xff`.
    function _referenceKey(bytes32 ref) private pure returns (uint256 key, uint256 bit) {
        uint256 r = uint256(ref);
        if (r >> 224 == SEQUENCED_MAGIC) {
            uint256 seq = (r >> 128) & SEQUENCE_MASK;
            return ((1 << 248) | (seq >> 8), 1 << (seq & 0xff));
        }
        return (r >> 8, 1 << (r & 0xff));
    }

    // ---------------------------------------------------------------------------------------------
    // Internal: cycle lifecycle
    // ---------------------------------------------------------------------------------------------

    /// @dev The open cycle, after rolling it over if its duration has passed.
    function _openCycleForSubmission() internal returns (uint64 id) {
        id = _currentCycleId;
        uint64 closesAt = _currentClosesAt;
        if (closesAt != 0 && block.timestamp >= closesAt) {
            _closeAndRoll(id);
            id = _currentCycleId;
        }
    }

    function _openCycle(uint64 id) private {
        _currentCycleId = id;
        Cycle storage c = _cycles[id];
        c.status = CycleStatus.Open;
        c.openedAt = uint40(block.timestamp);
        uint64 duration = _cycleDuration;
        uint64 closesAt = duration == 0 ? 0 : uint64(block.timestamp) + duration;
        _currentClosesAt = closesAt;
        emit CycleOpened(id, uint64(block.timestamp), closesAt);
    }

    function _closeAndRoll(uint64 id) private {
        Cycle storage c = _cycles[id];
        c.status = CycleStatus.Closed;
        c.closedAt = uint40(block.timestamp);
        emit CycleClosed(id, c.count, c.submissionsHash, msg.sender);
        _openCycle(id + 1);
        if (id == _nextToFinalize) _makeReady(id, c);
    }

    /// @dev Fixes the cycle's input (carried-in set, submissions and recalls) and the block liquidity is
    ///      read at.
    function _makeReady(uint64 id, Cycle storage c) private {
        bytes32 carryIn = _carryIn();
        Recalls memory r = _recalls[id];
        bytes32 commitment = keccak256(abi.encode(carryIn, c.submissionsHash, c.count, r.hash, r.count));
        c.inputCommitment = commitment;
        c.readyBlock = uint64(block.number);
        c.readyAt = uint40(block.timestamp);
        emit CycleReady(id, commitment, carryIn, _pending.carryCount, uint64(block.number));
    }

    /// @dev Records what the next cycle inherits and makes it ready if it is already closed.
    ///      `id` must already have its final status (and, when settled, its roots).
    function _finalize(uint64 id, uint64 carryCount) internal {
        _pending.carryCount = carryCount;
        uint64 next = id + 1;
        _nextToFinalize = next;
        Cycle storage n = _cycles[next];
        if (n.status == CycleStatus.Closed) _makeReady(next, n);
    }

    function _carryWholeInput(uint64 id, Cycle storage c) internal {
        _finalize(id, _pending.carryCount + c.count);
    }

    /// @dev The commitment to the carried set (see `carry`), from the cycle finalised last: 0 when nothing
    ///      is carried; after a settlement keccak256(abi.encode(deferredRoot, deferredCount)); after a
    ///      failure or cancellation that cycle's inputCommitment (its whole input carries).
    function _carryIn() internal view returns (bytes32) {
        uint64 count = _pending.carryCount;
        if (count == 0) return 0;
        uint64 last = _nextToFinalize - 1; // >= 1: only a finalised cycle leaves a carry
        Cycle storage c = _cycles[last];
        if (c.status == CycleStatus.Settled) return keccak256(abi.encode(_deferredRoot(last), count));
        return c.inputCommitment;
    }

    /// @dev Cancels settling cycle `id` (ClearingResults): at once if none of its accepted result is
    ///      applied yet, else by reversing the applied positions first.
    function _cancelSettling(uint64 id, Cycle storage c, string calldata reason) internal virtual;

    /// @dev The deferred root of settled cycle `id`.
    function _deferredRoot(uint64 id) internal view virtual returns (bytes32);

    /// @dev The cycle if it is closed and next in line for finalisation.
    function _requireReady(uint64 id) internal view returns (Cycle storage c) {
        c = _cycles[id];
        if (id != _nextToFinalize || c.status != CycleStatus.Closed) revert CycleNotReady(id);
    }

    /// @inheritdoc SettlementAccounts
    function _liquidityLockedBy() internal view override returns (uint64) {
        uint64 id = _nextToFinalize;
        CycleStatus status = _cycles[id].status;
        return status == CycleStatus.Closed || status == CycleStatus.Settling ? id : 0;
    }

    // ---------------------------------------------------------------------------------------------
    // Internal: obligation checks
    // ---------------------------------------------------------------------------------------------

    function _payeeKind(address payee, bytes32 ref) private view returns (ParticipantKind) {
        Member memory m = _members[payee];
        if (m.status != ParticipantStatus.Active) revert InactivePayee(ref, payee);
        return m.kind;
    }

    /// @dev Interbank is allowed between any members; wallet kinds fix both sides:
    ///      top-up Bank -> WalletProvider, withdrawal WalletProvider -> Bank, wallet-to-wallet between providers.
    function _checkObligation(
        ParticipantKind payerKind,
        ParticipantKind payeeKind,
        address payee,
        uint8 kind,
        uint256 amount,
        bytes32 ref
    ) private view {
        if (amount == 0) revert ZeroObligationAmount(ref);
        if (amount > MAX_AMOUNT) revert ObligationAmountTooLarge(ref, amount);
        if (payee == msg.sender) revert PayerIsPayee(ref);
        if (kind > uint8(type(ObligationKind).max)) revert InvalidKind(ref, kind);
        if (kind != uint8(ObligationKind.Interbank)) {
            uint8 expected = (payerKind == ParticipantKind.WalletProvider ? 2 : 0)
                + (payeeKind == ParticipantKind.WalletProvider ? 1 : 0);
            if (kind != expected) revert KindMismatch(ref, ObligationKind(kind));
        }
    }
}
