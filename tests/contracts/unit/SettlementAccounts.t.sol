// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {HubTest, Obligation} from "../utils/HubTest.sol";
import {ClearingResult} from "../utils/HubFixture.sol";
import {IMembership} from "../../../contracts/interfaces/IMembership.sol";
import {ISettlementAccounts} from "../../../contracts/interfaces/ISettlementAccounts.sol";
import {
    MAX_AMOUNT, NetPosition, ParticipantKind
} from "../../../contracts/types/SettlementTypes.sol";

contract SettlementAccountsTest is HubTest {
    bytes3 internal constant EUR = "EUR";
    address internal stranger = address(0x5757);
    uint256 internal constant INT_MAX = uint256(type(int256).max);

    // ---------------------------------------------------------------- registerCurrency

    function test_registerCurrency() public {
        vm.expectEmit(true, false, false, true, address(hub));
        emit ISettlementAccounts.CurrencyRegistered(EUR, 2);
        vm.prank(admin);
        hub.registerCurrency(EUR, 2);
        (bool registered, uint8 minor) = hub.currencyInfo(EUR);
        vm.assertTrue(registered, "registered");
        vm.assertEq(uint256(minor), 2, "minor units");
    }

    function test_registerCurrency_minorUnitBounds() public {
        vm.startPrank(admin);
        hub.registerCurrency("JPY", 0);
        hub.registerCurrency("ABC", 18);
        vm.expectRevert(abi.encodeWithSelector(ISettlementAccounts.InvalidMinorUnits.selector, uint8(19)));
        hub.registerCurrency("KWD", 19);
        vm.expectRevert(abi.encodeWithSelector(ISettlementAccounts.InvalidMinorUnits.selector, uint8(255)));
        hub.registerCurrency("KWD", 255);
        vm.stopPrank();
        (bool r0, uint8 m0) = hub.currencyInfo("JPY");
        (bool r18, uint8 m18) = hub.currencyInfo("ABC");
        (bool rk,) = hub.currencyInfo("KWD");
        vm.assertTrue(r0 && r18 && !rk, "registered");
        vm.assertEq(uint256(m0) + uint256(m18), 18, "minor units stored");
    }

    function test_registerCurrency_revertsInvalidCode() public {
        bytes3[8] memory bad = [
            bytes3("sgd"),
            bytes3("SgD"),
            bytes3("S1D"),
            bytes3(0),
            bytes3("@AA"),
            bytes3("AA["),
            bytes3("AB "),
            bytes3(0xffffff)
        ];
        vm.startPrank(admin);
        for (uint256 i; i < bad.length; ++i) {
            vm.expectRevert(abi.encodeWithSelector(ISettlementAccounts.InvalidCurrencyCode.selector, bad[i]));
            hub.registerCurrency(bad[i], 2);
        }
        // boundary letters are valid
        hub.registerCurrency("AZZ", 2);
        hub.registerCurrency("ZAA", 2);
        vm.stopPrank();
    }

    function test_registerCurrency_invalidCodeCheckedBeforeMinorUnits() public {
        vm.expectRevert(
            abi.encodeWithSelector(ISettlementAccounts.InvalidCurrencyCode.selector, bytes3("eur"))
        );
        vm.prank(admin);
        hub.registerCurrency("eur", 99);
    }

    function test_registerCurrency_revertsAlreadyRegistered() public {
        vm.expectRevert(abi.encodeWithSelector(ISettlementAccounts.CurrencyAlreadyRegistered.selector, SGD));
        vm.prank(admin);
        hub.registerCurrency(SGD, 3);
        (, uint8 minor) = hub.currencyInfo(SGD);
        vm.assertEq(uint256(minor), 2, "unchanged");
    }

    function test_registerCurrency_onlyOwner() public {
        vm.expectRevert(ownerError(stranger));
        vm.prank(stranger);
        hub.registerCurrency(EUR, 2);
    }

    function test_currencyInfo_unknown() public view {
        (bool registered, uint8 minor) = hub.currencyInfo(EUR);
        vm.assertFalse(registered, "not registered");
        vm.assertEq(uint256(minor), 0, "zero");
    }

    // ---------------------------------------------------------------- setDebitCap

    function test_setDebitCap() public {
        vm.expectEmit(true, true, false, true, address(hub));
        emit ISettlementAccounts.DebitCapSet(banks[0], SGD, 42);
        vm.prank(admin);
        hub.setDebitCap(banks[0], SGD, 42);
        (int256 balance, uint256 cap) = hub.accountOf(banks[0], SGD);
        vm.assertEq(cap, 42, "cap");
        vm.assertEq(balance, int256(FUNDING), "balance untouched");
    }

    /// @dev The cap bound is MAX_AMOUNT: exactly MAX_AMOUNT is accepted, MAX_AMOUNT + 1 (and anything up to
    ///      int256 max, which used to be allowed, and uint256 max) is refused with the amount.
    function test_setDebitCap_maxAndTooLarge() public {
        vm.startPrank(admin);
        hub.setDebitCap(banks[0], SGD, MAX_AMOUNT);
        vm.expectRevert(abi.encodeWithSelector(ISettlementAccounts.AmountTooLarge.selector, MAX_AMOUNT + 1));
        hub.setDebitCap(banks[0], SGD, MAX_AMOUNT + 1);
        vm.expectRevert(abi.encodeWithSelector(ISettlementAccounts.AmountTooLarge.selector, INT_MAX));
        hub.setDebitCap(banks[0], SGD, INT_MAX);
        vm.expectRevert(
            abi.encodeWithSelector(ISettlementAccounts.AmountTooLarge.selector, type(uint256).max)
        );
        hub.setDebitCap(banks[0], SGD, type(uint256).max);
        vm.stopPrank();
        (, uint256 cap) = hub.accountOf(banks[0], SGD);
        vm.assertEq(cap, MAX_AMOUNT, "max cap");
    }

    function test_setDebitCap_revertsUnknownParticipant() public {
        vm.expectRevert(abi.encodeWithSelector(IMembership.UnknownParticipant.selector, stranger));
        vm.prank(admin);
        hub.setDebitCap(stranger, SGD, 1);
    }

    function test_setDebitCap_revertsUnknownCurrency() public {
        vm.expectRevert(abi.encodeWithSelector(ISettlementAccounts.UnknownCurrency.selector, EUR));
        vm.prank(admin);
        hub.setDebitCap(banks[0], EUR, 1);
    }

    function test_setDebitCap_onlyOwner() public {
        vm.expectRevert(ownerError(banks[0]));
        vm.prank(banks[0]);
        hub.setDebitCap(banks[0], SGD, 1);
    }

    /// @dev A cap may be lowered below the current usage when nothing awaits settlement (the documented
    ///      way to stop a member's payments): the balance stays, only payments are refused until it recovers.
    function test_setDebitCap_belowCurrentUsage() public {
        vm.prank(banks[0]);
        hub.submit(input(banks[1], FUNDING + 10, bytes32(uint256(1))));
        uint64 id = closeAsAdmin();
        settle(
            resultFor(
                id, 1, 0, positions2(banks[0], -int256(FUNDING + 10), banks[1], int256(FUNDING + 10), SGD)
            )
        );
        vm.prank(admin);
        hub.setDebitCap(banks[0], SGD, 0);
        (int256 balance, uint256 cap) = hub.accountOf(banks[0], SGD);
        vm.assertEq(balance, -10, "usage kept");
        vm.assertEq(cap, 0, "cap below usage");
        id = closeAsAdmin();
        NetPosition[] memory paying = positions2(banks[0], -1, banks[1], 1, SGD);
        ClearingResult memory r = resultFor(id, 0, 0, paying);
        expectSettleRevert(
            r,
            abi.encodeWithSignature(
                "DebitCapExceeded(address,bytes3,int256,uint256)", banks[0], SGD, int256(-11), uint256(0)
            )
        );
        settle(resultFor(id, 0, 0, positions2(banks[0], 4, banks[1], -4, SGD)));
        vm.assertEq(balanceOf(banks[0], SGD), -6, "receiving is allowed");
    }

    function test_setDebitCap_suspendedParticipantAllowed() public {
        vm.startPrank(admin);
        hub.suspendParticipant(banks[0], "s");
        hub.setDebitCap(banks[0], SGD, 0);
        vm.stopPrank();
        (, uint256 cap) = hub.accountOf(banks[0], SGD);
        vm.assertEq(cap, 0, "lowered for a suspended member");
    }

    // ---------------------------------------------------------------- fund

    function test_fund() public {
        int256 totalBefore = hub.totalBalance(SGD);
        vm.expectEmit(true, true, false, true, address(hub));
        emit ISettlementAccounts.Funded(banks[2], SGD, 250, int256(FUNDING) + 250);
        vm.prank(admin);
        hub.fund(banks[2], SGD, 250);
        vm.assertEq(balanceOf(banks[2], SGD), int256(FUNDING) + 250, "balance");
        vm.assertEq(hub.totalBalance(SGD), totalBefore + 250, "total");
        vm.assertEq(hub.totalBalance(USD), int256(8 * FUNDING), "other currency untouched");
    }

    function test_fund_newAccountStartsAtZero() public {
        vm.startPrank(admin);
        hub.registerCurrency(EUR, 2);
        hub.fund(banks[0], EUR, 7);
        vm.stopPrank();
        (int256 balance, uint256 cap) = hub.accountOf(banks[0], EUR);
        vm.assertEq(balance, 7, "balance");
        vm.assertEq(cap, 0, "no cap by default");
        vm.assertEq(hub.totalBalance(EUR), 7, "total");
    }

    function test_fund_reverts() public {
        vm.startPrank(admin);
        vm.expectRevert(abi.encodeWithSelector(IMembership.UnknownParticipant.selector, stranger));
        hub.fund(stranger, SGD, 1);
        vm.expectRevert(abi.encodeWithSelector(ISettlementAccounts.UnknownCurrency.selector, EUR));
        hub.fund(banks[0], EUR, 1);
        vm.expectRevert(abi.encodeWithSelector(ISettlementAccounts.ZeroAmount.selector));
        hub.fund(banks[0], SGD, 0);
        vm.expectRevert(abi.encodeWithSelector(ISettlementAccounts.AmountTooLarge.selector, MAX_AMOUNT + 1));
        hub.fund(banks[0], SGD, MAX_AMOUNT + 1);
        vm.expectRevert(abi.encodeWithSelector(ISettlementAccounts.AmountTooLarge.selector, INT_MAX + 1));
        hub.fund(banks[0], SGD, INT_MAX + 1);
        vm.stopPrank();
    }

    /// @dev The per-currency total reaches MAX_AMOUNT exactly; one more unit, to any account, is refused
    ///      with `TotalTooLarge` (not a panic), and a defund makes room again.
    function test_fund_totalBoundedByMaxAmount() public {
        vm.startPrank(admin);
        uint256 room = MAX_AMOUNT - 8 * FUNDING;
        vm.expectEmit(true, true, false, true, address(hub));
        emit ISettlementAccounts.Funded(banks[0], SGD, room, int256(FUNDING + room));
        hub.fund(banks[0], SGD, room);
        vm.assertEq(hub.totalBalance(SGD), int256(MAX_AMOUNT), "total at MAX_AMOUNT");
        vm.expectRevert(
            abi.encodeWithSelector(ISettlementAccounts.TotalTooLarge.selector, SGD, int256(MAX_AMOUNT) + 1)
        );
        hub.fund(banks[1], SGD, 1);
        vm.expectRevert(
            abi.encodeWithSelector(ISettlementAccounts.TotalTooLarge.selector, SGD, int256(2 * MAX_AMOUNT))
        );
        hub.fund(banks[0], SGD, MAX_AMOUNT);
        vm.assertEq(hub.totalBalance(SGD), int256(MAX_AMOUNT), "unchanged");
        vm.assertEq(hub.totalBalance(USD), int256(8 * FUNDING), "other currency has its own total");
        hub.defund(banks[0], SGD, 5);
        hub.fund(banks[1], SGD, 5);
        vm.assertEq(hub.totalBalance(SGD), int256(MAX_AMOUNT), "back at MAX_AMOUNT");
        vm.stopPrank();
    }

    /// @dev A single funding of exactly MAX_AMOUNT into an empty currency is accepted.
    function test_fund_exactlyMaxAmountIntoEmptyCurrency() public {
        vm.startPrank(admin);
        hub.registerCurrency(EUR, 2);
        hub.fund(banks[0], EUR, MAX_AMOUNT);
        vm.assertEq(hub.totalBalance(EUR), int256(MAX_AMOUNT), "total");
        vm.expectRevert(
            abi.encodeWithSelector(ISettlementAccounts.TotalTooLarge.selector, EUR, int256(MAX_AMOUNT) + 1)
        );
        hub.fund(banks[1], EUR, 1);
        vm.stopPrank();
    }

    function test_fund_onlyOwner() public {
        vm.expectRevert(ownerError(banks[0]));
        vm.prank(banks[0]);
        hub.fund(banks[0], SGD, 1);
    }

    function test_fund_allowedWhileLocked() public {
        uint64 id = closeAsAdmin();
        vm.prank(admin);
        hub.fund(banks[0], SGD, 1);
        vm.assertEq(balanceOf(banks[0], SGD), int256(FUNDING) + 1, "increase allowed during lock");
        vm.assertEq(uint256(hub.nextCycleToFinalize()), id, "still awaiting");
    }

    // ---------------------------------------------------------------- defund

    function test_defund() public {
        int256 totalBefore = hub.totalBalance(USD);
        vm.expectEmit(true, true, false, true, address(hub));
        emit ISettlementAccounts.Defunded(wallets[1], USD, 300, int256(FUNDING) - 300);
        vm.prank(admin);
        hub.defund(wallets[1], USD, 300);
        vm.assertEq(balanceOf(wallets[1], USD), int256(FUNDING) - 300, "balance");
        vm.assertEq(hub.totalBalance(USD), totalBefore - 300, "total");
    }

    function test_defund_toExactlyZero() public {
        vm.prank(admin);
        hub.defund(banks[0], SGD, FUNDING);
        vm.assertEq(balanceOf(banks[0], SGD), 0, "zero");
    }

    function test_defund_revertsInsufficientBalance() public {
        vm.expectRevert(
            abi.encodeWithSelector(
                ISettlementAccounts.InsufficientBalance.selector, banks[0], SGD, int256(FUNDING), FUNDING + 1
            )
        );
        vm.prank(admin);
        hub.defund(banks[0], SGD, FUNDING + 1);
    }

    /// @dev Debit caps are for settlement only: a negative balance cannot be defunded further.
    function test_defund_revertsOnNegativeBalance() public {
        vm.prank(banks[0]);
        hub.submit(input(banks[1], FUNDING + 10, bytes32(uint256(1))));
        uint64 id = closeAsAdmin();
        settle(
            resultFor(
                id, 1, 0, positions2(banks[0], -int256(FUNDING + 10), banks[1], int256(FUNDING + 10), SGD)
            )
        );
        vm.assertEq(balanceOf(banks[0], SGD), -10, "intraday credit in use");
        vm.expectRevert(
            abi.encodeWithSelector(
                ISettlementAccounts.InsufficientBalance.selector, banks[0], SGD, int256(-10), 1
            )
        );
        vm.prank(admin);
        hub.defund(banks[0], SGD, 1);
    }

    function test_defund_reverts() public {
        vm.startPrank(admin);
        vm.expectRevert(abi.encodeWithSelector(IMembership.UnknownParticipant.selector, stranger));
        hub.defund(stranger, SGD, 1);
        vm.expectRevert(abi.encodeWithSelector(ISettlementAccounts.UnknownCurrency.selector, EUR));
        hub.defund(banks[0], EUR, 1);
        vm.expectRevert(abi.encodeWithSelector(ISettlementAccounts.ZeroAmount.selector));
        hub.defund(banks[0], SGD, 0);
        vm.expectRevert(abi.encodeWithSelector(ISettlementAccounts.AmountTooLarge.selector, MAX_AMOUNT + 1));
        hub.defund(banks[0], SGD, MAX_AMOUNT + 1);
        vm.stopPrank();
    }

    function test_defund_onlyOwner() public {
        vm.expectRevert(ownerError(banks[0]));
        vm.prank(banks[0]);
        hub.defund(banks[0], SGD, 1);
    }

    // ---------------------------------------------------------------- liquidity lock

    function test_liquidityLock_whileClosedCycleAwaitsResult() public {
        uint64 id = closeAsAdmin();
        vm.startPrank(admin);
        vm.expectRevert(abi.encodeWithSelector(ISettlementAccounts.LiquidityLocked.selector, id));
        hub.defund(banks[0], SGD, 1);
        vm.expectRevert(abi.encodeWithSelector(ISettlementAccounts.LiquidityLocked.selector, id));
        hub.setDebitCap(banks[0], SGD, CAP - 1);
        vm.expectRevert(abi.encodeWithSelector(ISettlementAccounts.LiquidityLocked.selector, id));
        hub.setDebitCap(banks[0], USD, 0);
        // increases and no-op caps stay allowed
        hub.setDebitCap(banks[0], SGD, CAP);
        hub.setDebitCap(banks[0], SGD, CAP + 1);
        hub.fund(banks[0], SGD, 1);
        vm.stopPrank();
        (int256 balance, uint256 cap) = hub.accountOf(banks[0], SGD);
        vm.assertEq(balance, int256(FUNDING) + 1, "funded");
        vm.assertEq(cap, CAP + 1, "raised");
    }

    /// @dev The lock is checked before the amount: even a zero defund reports the lock.
    function test_liquidityLock_reportedBeforeZeroAmount() public {
        uint64 id = closeAsAdmin();
        vm.expectRevert(abi.encodeWithSelector(ISettlementAccounts.LiquidityLocked.selector, id));
        vm.prank(admin);
        hub.defund(banks[0], SGD, 0);
    }

    function test_liquidityLock_releasedBySettlement() public {
        uint64 id = closeAsAdmin();
        settle(resultFor(id, 0, 0, new NetPosition[](0)));
        vm.startPrank(admin);
        hub.defund(banks[0], SGD, 1);
        hub.setDebitCap(banks[0], SGD, 0);
        vm.stopPrank();
        vm.assertEq(balanceOf(banks[0], SGD), int256(FUNDING) - 1, "defunded");
    }

    function test_liquidityLock_releasedByCancel() public {
        uint64 id = closeAsAdmin();
        vm.startPrank(admin);
        hub.cancelCycle(id, "ops");
        hub.defund(banks[0], SGD, 1);
        vm.stopPrank();
    }

    function test_liquidityLock_releasedByFailure() public {
        vm.prank(admin);
        hub.setSettlementTimeout(60);
        uint64 id = closeAsAdmin();
        vm.warp(block.timestamp + 60);
        hub.failCycle(id);
        vm.prank(admin);
        hub.defund(banks[0], SGD, 1);
    }

    /// @dev Cycle 2 closed before cycle 1 finalised: finalising 1 makes 2 ready, which keeps the lock.
    function test_liquidityLock_passesToNextClosedCycle() public {
        uint64 first = closeAsAdmin();
        uint64 second = closeAsAdmin();
        vm.expectRevert(abi.encodeWithSelector(ISettlementAccounts.LiquidityLocked.selector, first));
        vm.prank(admin);
        hub.defund(banks[0], SGD, 1);
        settle(resultFor(first, 0, 0, new NetPosition[](0)));
        vm.expectRevert(abi.encodeWithSelector(ISettlementAccounts.LiquidityLocked.selector, second));
        vm.prank(admin);
        hub.defund(banks[0], SGD, 1);
        settle(resultFor(second, 0, 0, new NetPosition[](0)));
        vm.prank(admin);
        hub.defund(banks[0], SGD, 1);
    }

    function test_liquidityLock_notWhileOnlyOpen() public {
        vm.prank(banks[0]);
        hub.submit(input(banks[1], 1, bytes32(uint256(1))));
        vm.prank(admin);
        hub.defund(banks[0], SGD, 1);
    }

    // ---------------------------------------------------------------- views

    function test_accountsOf() public {
        vm.prank(admin);
        hub.setDebitCap(banks[1], USD, 77);
        address[] memory who = new address[](3);
        who[0] = banks[1];
        who[1] = stranger;
        who[2] = wallets[2];
        (int256[] memory balances, uint256[] memory caps) = hub.accountsOf(who, USD);
        vm.assertEq(balances.length, 3, "len");
        vm.assertEq(caps.length, 3, "len");
        vm.assertEq(balances[0], int256(FUNDING), "b0");
        vm.assertEq(caps[0], 77, "c0");
        vm.assertEq(balances[1], 0, "unknown reads zero");
        vm.assertEq(caps[1], 0, "unknown cap zero");
        vm.assertEq(balances[2], int256(FUNDING), "b2");
        vm.assertEq(caps[2], CAP, "c2");
        (int256[] memory none, uint256[] memory noCaps) = hub.accountsOf(new address[](0), USD);
        vm.assertEq(none.length + noCaps.length, 0, "empty");
    }

    function test_totalBalance_unchangedBySettlement() public {
        int256 totalBefore = hub.totalBalance(SGD);
        Obligation memory a = interbank(banks[0], banks[1], 700);
        Obligation memory b = interbank(banks[1], wallets[0], 200);
        submitOne(a);
        submitOne(b);
        uint64 id = closeAsAdmin();
        settle(realResult(id, concat(one(a), one(b)), new Obligation[](0)));
        vm.assertEq(hub.totalBalance(SGD), totalBefore, "settlement conserves money");
        vm.assertEq(balanceOf(banks[0], SGD), int256(FUNDING) - 700, "payer");
        vm.assertEq(balanceOf(banks[1], SGD), int256(FUNDING) + 500, "intermediary");
        vm.assertEq(balanceOf(wallets[0], SGD), int256(FUNDING) + 200, "payee");
    }

    /// @dev Random fund/defund sequences keep totalBalance equal to the sum of balances.
    function testFuzz_fundDefundConserves(uint256[8] memory amounts, uint256 seed) public {
        address[] memory all = members();
        int256[] memory expected = new int256[](all.length);
        for (uint256 i; i < all.length; ++i) {
            expected[i] = int256(FUNDING);
        }
        int256 total = int256(FUNDING * all.length);
        vm.startPrank(admin);
        for (uint256 i; i < amounts.length; ++i) {
            uint256 who = uint256(keccak256(abi.encode(seed, i))) % all.length;
            uint256 amount = bound(amounts[i], 1, 2 * FUNDING);
            if (uint256(keccak256(abi.encode(seed, i, "op"))) % 2 == 0) {
                hub.fund(all[who], SGD, amount);
                expected[who] += int256(amount);
                total += int256(amount);
            } else if (expected[who] >= int256(amount)) {
                hub.defund(all[who], SGD, amount);
                expected[who] -= int256(amount);
                total -= int256(amount);
            } else {
                vm.expectRevert(
                    abi.encodeWithSelector(
                        ISettlementAccounts.InsufficientBalance.selector, all[who], SGD, expected[who], amount
                    )
                );
                hub.defund(all[who], SGD, amount);
            }
        }
        vm.stopPrank();
        int256 sum;
        for (uint256 i; i < all.length; ++i) {
            vm.assertEq(balanceOf(all[i], SGD), expected[i], "balance");
            sum += expected[i];
        }
        vm.assertEq(hub.totalBalance(SGD), total, "total");
        vm.assertEq(sum, total, "sum");
    }

    function test_registeredAfterFundingStartsEmpty() public {
        address late = address(0x1A7E);
        vm.prank(admin);
        hub.registerParticipant(late, ParticipantKind.Bank, "late");
        (int256 balance, uint256 cap) = hub.accountOf(late, SGD);
        vm.assertEq(balance, 0, "zero");
        vm.assertEq(cap, 0, "zero");
    }
}
