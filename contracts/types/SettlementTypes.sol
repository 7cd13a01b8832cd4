// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

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

/// @notice Lifecycle of a clearing cycle: Open -> Closed -> Settled | Failed | Cancelled.
enum CycleStatus {
    None,
    Open,
    Closed,
    Settled,
    Failed,
    Cancelled
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
/// @param amount Integer minor units, > 0.
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

/// @notice The oracle committee's clearing result for one cycle.
/// @param cycleId Cycle the result settles.
/// @param inputCommitment Must equal the cycle's on-chain `inputCommitment` (carried-in set + submissions).
/// @param settledRoot StandardMerkleTree root of the settled obligations (bytes32(0) when none).
/// @param deferredRoot StandardMerkleTree root of the deferred obligations (bytes32(0) when none).
/// @param settledCount Number of settled obligations.
/// @param deferredCount Number of deferred obligations; they carry into the next cycle.
/// @param positions Non-zero net positions sorted strictly by (currency, participant).
struct ClearingResult {
    uint64 cycleId;
    bytes32 inputCommitment;
    bytes32 settledRoot;
    bytes32 deferredRoot;
    uint64 settledCount;
    uint64 deferredCount;
    NetPosition[] positions;
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
/// @param resultHash Hash of the accepted clearing result (0 until settled).
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
