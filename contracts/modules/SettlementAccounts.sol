// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {ISettlementAccounts} from "../interfaces/ISettlementAccounts.sol";
import {Membership} from "./Membership.sol";
import {MAX_AMOUNT, ParticipantKind} from "../types/SettlementTypes.sol";

/// @title Settlement-accounts module of the settlement hub
/// @dev Balances are int256 minor units; `_totals` is the per-currency sum of balances, changed only by
///      `fund` and `defund` (settlement applies nets that sum to zero). Caps, funding amounts and every
///      currency's total are bounded by `MAX_AMOUNT`, which keeps every balance far inside int256 (the
///      argument is at `MAX_AMOUNT` in SettlementTypes.sol).
abstract contract SettlementAccounts is Membership, ISettlementAccounts {
    /// @dev One slot, read by the submission loop in assembly: registered (byte 0), minorUnits (byte 1),
    ///      maxAmount (bits 16 .. 143).
    struct Currency {
        bool registered;
        uint8 minorUnits;
        uint128 maxAmount;
    }

    struct Account {
        int256 balance;
        uint256 cap;
    }

    mapping(bytes3 code => Currency) internal _currencies;
    mapping(address participant => mapping(bytes3 code => Account)) internal _accounts;
    mapping(bytes3 code => int256) internal _totals;

    /// @inheritdoc ISettlementAccounts
    function registerCurrency(bytes3 code, uint8 minorUnits) external onlyOwner {
        for (uint256 i; i < 3; ++i) {
            if (code[i] < "A" || code[i] > "Z") revert InvalidCurrencyCode(code);
        }
        if (minorUnits > 18) revert InvalidMinorUnits(minorUnits);
        if (_currencies[code].registered) revert CurrencyAlreadyRegistered(code);
        _currencies[code] = Currency(true, minorUnits, uint128(MAX_AMOUNT));
        emit CurrencyRegistered(code, minorUnits);
        emit CurrencyMaxAmountSet(code, MAX_AMOUNT);
    }

    /// @inheritdoc ISettlementAccounts
    function setCurrencyMaxAmount(bytes3 code, uint256 maxAmount) external onlyOwner {
        if (!_currencies[code].registered) revert UnknownCurrency(code);
        if (maxAmount == 0 || maxAmount > MAX_AMOUNT) revert InvalidMaxAmount(maxAmount);
        _currencies[code].maxAmount = uint128(maxAmount);
        emit CurrencyMaxAmountSet(code, maxAmount);
    }

    /// @inheritdoc ISettlementAccounts
    function setDebitCap(address account, bytes3 code, uint256 cap) external onlyOwner {
        _requireAccount(account, code);
        if (cap > MAX_AMOUNT) revert AmountTooLarge(cap);
        Account storage a = _accounts[account][code];
        if (cap < a.cap) _requireLiquidityUnlocked();
        a.cap = cap;
        emit DebitCapSet(account, code, cap);
    }

    /// @inheritdoc ISettlementAccounts
    function fund(address account, bytes3 code, uint256 amount) external onlyOwner {
        _requireAccount(account, code);
        int256 delta = _signedAmount(amount);
        // total <= MAX_AMOUNT and delta <= MAX_AMOUNT, so the sum is exact; total is >= -(sum of caps).
        int256 total = _totals[code] + delta;
        if (total > int256(MAX_AMOUNT)) revert TotalTooLarge(code, total);
        _totals[code] = total;
        Account storage a = _accounts[account][code];
        int256 balance = a.balance + delta;
        a.balance = balance;
        emit Funded(account, code, amount, balance);
    }

    /// @inheritdoc ISettlementAccounts
    function defund(address account, bytes3 code, uint256 amount) external onlyOwner {
        _requireAccount(account, code);
        _requireLiquidityUnlocked();
        int256 delta = _signedAmount(amount);
        Account storage a = _accounts[account][code];
        if (a.balance < delta) revert InsufficientBalance(account, code, a.balance, amount);
        int256 balance = a.balance - delta;
        a.balance = balance;
        _totals[code] -= delta;
        emit Defunded(account, code, amount, balance);
    }

    /// @inheritdoc ISettlementAccounts
    function currencyInfo(bytes3 code) external view returns (bool registered, uint8 minorUnits) {
        Currency memory c = _currencies[code];
        return (c.registered, c.minorUnits);
    }

    /// @inheritdoc ISettlementAccounts
    function currencyMaxAmount(bytes3 code) external view returns (uint256) {
        return _currencies[code].maxAmount;
    }

    /// @inheritdoc ISettlementAccounts
    function accountOf(address participant_, bytes3 code) external view returns (int256 balance, uint256 cap) {
        Account memory a = _accounts[participant_][code];
        return (a.balance, a.cap);
    }

    /// @inheritdoc ISettlementAccounts
    function accountsOf(address[] calldata participants, bytes3 code)
        external
        view
        returns (int256[] memory balances, uint256[] memory caps)
    {
        uint256 n = participants.length;
        balances = new int256[](n);
        caps = new uint256[](n);
        for (uint256 i; i < n; ++i) {
            Account storage a = _accounts[participants[i]][code];
            balances[i] = a.balance;
            caps[i] = a.cap;
        }
    }

    /// @inheritdoc ISettlementAccounts
    function totalBalance(bytes3 code) external view returns (int256) {
        return _totals[code];
    }

    /// @dev The cycle whose pending result forbids liquidity decreases, or 0.
    function _liquidityLockedBy() internal view virtual returns (uint64);

    function _requireLiquidityUnlocked() private view {
        uint64 locked = _liquidityLockedBy();
        if (locked != 0) revert LiquidityLocked(locked);
    }

    function _requireAccount(address account, bytes3 code) private view {
        if (_members[account].kind == ParticipantKind.None) revert UnknownParticipant(account);
        if (!_currencies[code].registered) revert UnknownCurrency(code);
    }

    function _signedAmount(uint256 amount) private pure returns (int256) {
        if (amount == 0) revert ZeroAmount();
        if (amount > MAX_AMOUNT) revert AmountTooLarge(amount);
        return int256(amount);
    }
}
