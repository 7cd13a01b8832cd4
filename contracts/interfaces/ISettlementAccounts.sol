// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

/// @title Currencies and per-participant settlement accounts
/// @notice Each participant holds a settlement balance per currency: the on-chain image of central-bank
///         or escrowed money, funded and defunded only by the settlement agent (the admin). A debit cap
///         per participant and currency bounds how far settlement may take a balance below zero
///         (intraday credit). Settlement moves money between balances and never creates or destroys it:
///         per currency, the sum of balances changes only by funding and defunding.
/// @dev Liquidity may not DECREASE (defund, lower cap) while a closed cycle awaits its clearing result:
///      the committee computes against balances at the cycle's ready block, and only increases keep
///      such a result valid. Increases are always allowed.
interface ISettlementAccounts {
    /// @notice `code` is not a registered currency.
    error UnknownCurrency(bytes3 code);
    /// @notice `code` is already registered.
    error CurrencyAlreadyRegistered(bytes3 code);
    /// @notice A currency code must be three upper-case ASCII letters (ISO 4217 alphabetic).
    error InvalidCurrencyCode(bytes3 code);
    /// @notice Minor-unit exponents above 18 are not supported.
    error InvalidMinorUnits(uint8 minorUnits);
    /// @notice Funding and defunding amounts must be positive.
    error ZeroAmount();
    /// @notice Defunding may not take a balance below zero: debit caps are for settlement only.
    error InsufficientBalance(address account, bytes3 currency, int256 balance, uint256 amount);
    /// @notice A liquidity decrease was attempted while `cycleId` awaits its clearing result.
    error LiquidityLocked(uint64 cycleId);
    /// @notice A funding or defunding amount, or a debit cap, exceeds `MAX_AMOUNT` (2^128 - 1 minor units).
    error AmountTooLarge(uint256 amount);
    /// @notice Funding would take the currency's total balance to `total`, above `MAX_AMOUNT`.
    error TotalTooLarge(bytes3 currency, int256 total);
    /// @notice A currency's maximum obligation amount must be between 1 and `MAX_AMOUNT`.
    error InvalidMaxAmount(uint256 maxAmount);

    /// @notice A currency was registered.
    event CurrencyRegistered(bytes3 indexed code, uint8 minorUnits);
    /// @notice The largest amount a single obligation in `code` may carry changed (a new currency starts
    ///         at `MAX_AMOUNT`).
    event CurrencyMaxAmountSet(bytes3 indexed code, uint256 maxAmount);
    /// @notice A participant's debit cap changed.
    event DebitCapSet(address indexed account, bytes3 indexed currency, uint256 cap);
    /// @notice The settlement agent credited a balance (money entering the system).
    event Funded(address indexed account, bytes3 indexed currency, uint256 amount, int256 balance);
    /// @notice The settlement agent debited a balance (money leaving the system).
    event Defunded(address indexed account, bytes3 indexed currency, uint256 amount, int256 balance);

    /// @notice Registers an ISO 4217 currency.
    /// @dev Admin only.
    /// @param code Alphabetic code, e.g. bytes3("EUR").
    /// @param minorUnits The minor-unit exponent (2 for EUR, 0 for JPY, 3 for KWD).
    function registerCurrency(bytes3 code, uint8 minorUnits) external;

    /// @notice Sets the largest amount one obligation in `code` may carry; larger submissions are
    ///         refused (`IClearingCycles.ObligationAmountAboveMaximum`), so a fat-finger amount never
    ///         enters a cycle. Applies to submissions from the next transaction on; obligations already
    ///         submitted are not affected.
    /// @dev Admin only. Reverts `InvalidMaxAmount` unless 1 <= maxAmount <= `MAX_AMOUNT`.
    /// @param code A registered currency.
    /// @param maxAmount The maximum, in minor units.
    function setCurrencyMaxAmount(bytes3 code, uint256 maxAmount) external;

    /// @notice Sets the debit cap (intraday credit) of `account` in `currency`.
    /// @dev Admin only; lowering it reverts `LiquidityLocked` while a cycle awaits settlement; a cap above
    ///      `MAX_AMOUNT` reverts `AmountTooLarge`.
    /// @param account A registered participant.
    /// @param currency A registered currency.
    /// @param cap Maximum negative balance, in minor units, <= `MAX_AMOUNT`.
    function setDebitCap(address account, bytes3 currency, uint256 cap) external;

    /// @notice Credits `amount` to the settlement balance of `account`.
    /// @dev Admin only (settlement agent). Reverts `AmountTooLarge` above `MAX_AMOUNT` and `TotalTooLarge`
    ///      when the currency's total balance would exceed `MAX_AMOUNT`.
    /// @param account A registered participant.
    /// @param currency A registered currency.
    /// @param amount Minor units, 0 < amount <= `MAX_AMOUNT`.
    function fund(address account, bytes3 currency, uint256 amount) external;

    /// @notice Debits `amount` from the settlement balance of `account`; the balance must stay >= 0.
    /// @dev Admin only (settlement agent); reverts `LiquidityLocked` while a cycle awaits settlement and
    ///      `AmountTooLarge` above `MAX_AMOUNT`.
    /// @param account A registered participant.
    /// @param currency A registered currency.
    /// @param amount Minor units, 0 < amount <= `MAX_AMOUNT`.
    function defund(address account, bytes3 currency, uint256 amount) external;

    /// @notice Registration data of a currency.
    /// @param code The currency code.
    /// @return registered Whether it is registered.
    /// @return minorUnits The minor-unit exponent.
    function currencyInfo(bytes3 code) external view returns (bool registered, uint8 minorUnits);

    /// @notice The largest amount one obligation in `code` may carry (0 for an unregistered currency).
    /// @param code The currency code.
    /// @return The maximum, in minor units.
    function currencyMaxAmount(bytes3 code) external view returns (uint256);

    /// @notice Balance and debit cap of one account.
    /// @param participant The participant.
    /// @param code The currency.
    /// @return balance Signed balance in minor units (negative means intraday credit in use).
    /// @return cap The debit cap.
    function accountOf(address participant, bytes3 code) external view returns (int256 balance, uint256 cap);

    /// @notice Balances and caps of many participants in one currency, for the oracles' liquidity read.
    /// @param participants Participants to read.
    /// @param code The currency.
    /// @return balances Signed balances, in the order of `participants`.
    /// @return caps Debit caps, in the order of `participants`.
    function accountsOf(address[] calldata participants, bytes3 code)
        external
        view
        returns (int256[] memory balances, uint256[] memory caps);

    /// @notice Sum of all balances in `code`: funded minus defunded, unchanged by settlement.
    /// @param code The currency.
    /// @return The total.
    function totalBalance(bytes3 code) external view returns (int256);
}
