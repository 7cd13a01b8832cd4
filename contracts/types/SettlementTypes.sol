// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

/// @dev The protocol's one amount bound, in minor units: 2^128 - 1. An obligation amount, a debit cap and
///      a currency's total balance (the sum of its balances, see `ISettlementAccounts.totalBalance`) are
///      each at most this; `ledger.protocol.money.MAX_AMOUNT` is the same number (a test checks it).
///
///      Why no sequence of valid operations can overflow the int256 balances. Per currency, with N
///      participants, the total T = sum of balances only changes by `fund` (refused when T would exceed
///      MAX_AMOUNT) and `defund` (which lowers it), so T <= MAX_AMOUNT always. A balance only falls by a
///      payment, which settlement refuses below minus its cap, or by `defund`, which keeps it >= 0; so every
///      balance b_j >= -c_j >= -MAX_AMOUNT, where c_j <= MAX_AMOUNT is the largest cap j has had (lowering
///      a cap later leaves the balance where it was). Hence every balance b_i = T - sum_{j != i} b_j
///      <= T + sum_{j != i} c_j <= N * MAX_AMOUNT < 2^128 * N: with -MAX_AMOUNT <= b_i, |b_i| stays below
///      2^160 for up to 2^32 participants, far inside int256 (2^255). A net position is refused above `MAX_NET_POSITION` in
///      magnitude (2^192), so the running per-currency sum of a result (under 2^192 * positions, and a
///      result cannot carry 2^60 positions) and every balance after a net (under 2^160 + 2^192) stay inside
///      int256 too, whatever a committee posts: nothing in the settlement arithmetic can raise Panic(0x11).
uint256 constant MAX_AMOUNT = 0xffffffffffffffffffffffffffffffff;

/// @dev The largest magnitude of a net position a clearing result may carry: 2^192. Above every honest
///      net: a participant's net is at most the sum of the settled obligations it takes part in, so
///      |net| <= settledCount * MAX_AMOUNT < 2^64 * 2^128 = 2^192 (settledCount is a uint64). A result with a larger net is refused with `IClearingResults.NetPositionTooLarge`.
uint256 constant MAX_NET_POSITION = 0x1000000000000000000000000000000000000000000000000;

/// @notice What a member of the consortium is. Decides which obligation kinds it may pay or receive.
enum ParticipantKind {
    None,
    Bank,
    WalletProvider
}

/// @notice Lifecycle of a member. Only `Active` members submit or receive new obligations.
enum ParticipantStatus {
    None,
    Active,
    Suspended
}

/// @notice Business type of an obligation; each kind fixes the kinds of its payer and payee.
/// @dev Interbank: Bank -> Bank. WalletTopUp: Bank -> WalletProvider (a customer loads a wallet from a
///      bank account). WalletWithdrawal: WalletProvider -> Bank. WalletToWallet: WalletProvider -> WalletProvider.
enum ObligationKind {
    Interbank,
    WalletTopUp,
    WalletWithdrawal,
    WalletToWallet
}

/// @notice Lifecycle of a clearing cycle: Open -> Closed -> (Settling ->) Settled | Failed | Cancelled.
/// @dev `Settling`: the committee accepted a result (k approvals of its header) and its net positions
///      are being applied in chunks; the cycle is Settled once the last chunk is applied, or Cancelled
///      by the admin after every applied chunk has been reversed. Last in the enum so that the values of
///      the others stay as they were.
enum CycleStatus {
    None,
    Open,
    Closed,
    Settled,
    Failed,
    Cancelled,
    Settling
}

/// @notice Gridlock-resolution strategy the oracle committee must use; fixed on chain so all members agree.
enum NettingStrategy {
    Fifo,
    MaxValue
}

/// @notice One obligation as a payer submits it (ABI form used by `submit`).
/// @param payee Active member that receives `amount`.
/// @param currency ISO 4217 alphabetic code, e.g. "SGD" = 0x534744.
/// @param kind Business type, see `ObligationKind`.
/// @param amount Integer minor units, 0 < amount <= `MAX_AMOUNT`.
/// @param ref Payer's idempotency key, unique per payer forever.
/// @param payerAccount Hash of the end customer's wallet or account at the payer (zero if none). Never personal data.
/// @param payeeAccount Hash of the end customer's wallet or account at the payee (zero if none).
struct ObligationInput {
    address payee;
    bytes3 currency;
    ObligationKind kind;
    uint256 amount;
    bytes32 ref;
    bytes32 payerAccount;
    bytes32 payeeAccount;
}

/// @notice A multilateral net position: positive receives, negative pays.
struct NetPosition {
    address participant;
    bytes3 currency;
    int256 net;
}

/// @notice The header of the oracle committee's clearing result for one cycle: what members approve.
/// @dev The positions themselves travel afterwards, in chunks of any size (`settlePositions`), each
///      checked against `positionsHash` as it arrives, so a result of any size settles under a block's
///      gas limit and a node's transaction size limit. `positionsHash` is a hash chain over the positions
///      in canonical order, built from the end: with n positions p_0 .. p_{n-1},
///        H_n = 0,  H_i = keccak256(abi.encode(p_i.participant, p_i.currency, p_i.net, H_{i+1})),
///        positionsHash = H_0,
///      so a chunk p_a .. p_{b-1} sent with H_b proves itself against H_a, the value the hub holds.
/// @param cycleId Cycle the result settles.
/// @param inputCommitment Must equal the cycle's on-chain `inputCommitment` (carried-in set + submissions).
/// @param settledRoot StandardMerkleTree root of the settled obligations (bytes32(0) when none).
/// @param deferredRoot StandardMerkleTree root of the deferred obligations (bytes32(0) when none).
/// @param settledCount Number of settled obligations.
/// @param deferredCount Number of deferred obligations; they carry into the next cycle.
/// @param positionCount Number of non-zero net positions, sorted strictly by (currency, participant).
/// @param positionsHash H_0 of the positions' hash chain (bytes32(0) when there are none).
/// @param recalledRoot StandardMerkleTree root of the obligations their payers recalled (bytes32(0) when none).
/// @param recalledCount Number of recalled obligations; they end here and do not carry.
/// @param expiredRoot StandardMerkleTree root of the obligations that expired (bytes32(0) when none).
/// @param expiredCount Number of expired obligations; they end here and do not carry.
struct ResultHeader {
    uint64 cycleId;
    bytes32 inputCommitment;
    bytes32 settledRoot;
    bytes32 deferredRoot;
    uint64 settledCount;
    uint64 deferredCount;
    uint64 positionCount;
    bytes32 positionsHash;
    bytes32 recalledRoot;
    uint64 recalledCount;
    bytes32 expiredRoot;
    uint64 expiredCount;
}

/// @notice Progress of the accepted result of the cycle that is settling (see `settlement`).
/// @param cycleId The cycle (0 when no cycle is settling).
/// @param resultHash The accepted result's hash.
/// @param applied Positions applied so far.
/// @param count Positions in the result.
/// @param nextHash The hash-chain value the next chunk must prove itself against (H_applied).
/// @param unwinding Whether the admin cancelled the cycle and applied positions are being reversed.
/// @param unwound Positions reversed so far (while unwinding).
struct SettlementProgress {
    uint64 cycleId;
    bytes32 resultHash;
    uint64 applied;
    uint64 count;
    bytes32 nextHash;
    bool unwinding;
    uint64 unwound;
}

/// @notice Storage image of a clearing cycle (three slots; the first two are written per batch).
/// @param status Lifecycle state.
/// @param openedAt Block timestamp the cycle opened.
/// @param closedAt Block timestamp the cycle closed (0 while open).
/// @param readyAt Block timestamp the cycle became ready (0 until then).
/// @param count Obligations submitted into this cycle.
/// @param readyBlock Block at whose end the oracles read liquidity; set when the cycle is closed and every
///        earlier cycle is final (0 until then).
/// @param submissionsHash Rolling hash of every submission in order (see `ObligationCodec`).
/// @param inputCommitment Commitment to carried-in obligations plus submissions, set with `readyBlock`.
/// @param resultHash Hash of the accepted clearing result's header (0 until accepted).
struct Cycle {
    CycleStatus status;
    uint40 openedAt;
    uint40 closedAt;
    uint40 readyAt;
    uint64 count;
    uint64 readyBlock;
    bytes32 submissionsHash;
    bytes32 inputCommitment;
    bytes32 resultHash;
}
