// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {TestBase} from "./Vm.sol";
import {SettlementHub} from "../../../contracts/SettlementHub.sol";
import {ObligationLeaf} from "../../../contracts/libraries/ObligationLeaf.sol";
import {
    NetPosition,
    ObligationInput,
    ObligationKind,
    ParticipantKind,
    ResultHeader
} from "../../../contracts/types/SettlementTypes.sol";

/// @notice A clearing result as the tests build it: the header's fields plus the positions its hash
///         chain binds (`ResultChain.header` turns it into what members approve).
struct ClearingResult {
    uint64 cycleId;
    bytes32 inputCommitment;
    bytes32 settledRoot;
    bytes32 deferredRoot;
    uint64 settledCount;
    uint64 deferredCount;
    NetPosition[] positions;
    bytes32 recalledRoot;
    uint64 recalledCount;
    bytes32 expiredRoot;
    uint64 expiredCount;
}

/// @notice The documented hash chain over a result's positions, rebuilt independently of the hub:
///         H_n = 0, H_i = keccak256(abi.encode(p_i.participant, p_i.currency, p_i.net, H_{i+1})).
library ResultChain {
    /// @dev Every chain value H_0 .. H_n (n + 1 of them; H_n = 0).
    function hashes(NetPosition[] memory ps) internal pure returns (bytes32[] memory hs) {
        uint256 n = ps.length;
        hs = new bytes32[](n + 1);
        for (uint256 i = n; i > 0; --i) {
            NetPosition memory p = ps[i - 1];
            hs[i - 1] = keccak256(abi.encode(p.participant, p.currency, p.net, hs[i]));
        }
    }

    /// @dev H_0, the header's `positionsHash` (0 for no positions).
    function root(NetPosition[] memory ps) internal pure returns (bytes32) {
        return hashes(ps)[0];
    }

    /// @dev The header members approve for `r`.
    function header(ClearingResult memory r) internal pure returns (ResultHeader memory h) {
        h = ResultHeader(
            r.cycleId,
            r.inputCommitment,
            r.settledRoot,
            r.deferredRoot,
            r.settledCount,
            r.deferredCount,
            uint64(r.positions.length),
            root(r.positions),
            r.recalledRoot,
            r.recalledCount,
            r.expiredRoot,
            r.expiredCount
        );
    }

    /// @dev Positions `start` .. `end - 1` of `ps`, copied (a test may tamper with the chunk alone).
    function slice(NetPosition[] memory ps, uint256 start, uint256 end)
        internal
        pure
        returns (NetPosition[] memory out)
    {
        out = new NetPosition[](end - start);
        for (uint256 i = start; i < end; ++i) {
            out[i - start] = NetPosition(ps[i].participant, ps[i].currency, ps[i].net);
        }
    }
}

/// @notice A deployed hub with a small consortium: 5 banks, 3 wallet providers, 3 oracles (k = 2),
///         an auditor, SGD and USD registered, every account funded and given a debit cap.
abstract contract HubFixture is TestBase {
    SettlementHub internal hub;

    address internal admin = address(0xAD);
    address internal auditor = address(0xA0D1);
    address[] internal banks;
    address[] internal wallets;
    address[] internal oracles;

    bytes3 internal constant SGD = "SGD";
    bytes3 internal constant USD = "USD";
    uint256 internal constant FUNDING = 1_000_000_00;
    uint256 internal constant CAP = 100_000_00;

    function setUp() public virtual {
        hub = new SettlementHub(admin);
        vm.startPrank(admin);
        hub.registerCurrency(SGD, 2);
        hub.registerCurrency(USD, 2);
        for (uint256 i; i < 5; ++i) {
            address b = address(uint160(0xB000 + i));
            banks.push(b);
            hub.registerParticipant(b, ParticipantKind.Bank, "bank");
        }
        for (uint256 i; i < 3; ++i) {
            address w = address(uint160(0xC000 + i));
            wallets.push(w);
            hub.registerParticipant(w, ParticipantKind.WalletProvider, "wallet");
        }
        for (uint256 i; i < 3; ++i) {
            address o = vm.addr(0x0A11CE + i);
            oracles.push(o);
            hub.addOracle(o);
        }
        hub.setThreshold(2);
        hub.addAuditor(auditor);
        address[] memory all = members();
        for (uint256 i; i < all.length; ++i) {
            hub.fund(all[i], SGD, FUNDING);
            hub.fund(all[i], USD, FUNDING);
            hub.setDebitCap(all[i], SGD, CAP);
            hub.setDebitCap(all[i], USD, CAP);
        }
        vm.stopPrank();
    }

    function members() internal view returns (address[] memory all) {
        all = new address[](banks.length + wallets.length);
        for (uint256 i; i < banks.length; ++i) all[i] = banks[i];
        for (uint256 i; i < wallets.length; ++i) all[banks.length + i] = wallets[i];
    }

    /// @dev One packed 88-byte record (no account hashes).
    function record(address payee, bytes3 code, ObligationKind kind, uint256 amount, bytes32 ref)
        internal
        pure
        returns (bytes memory)
    {
        return abi.encodePacked(payee, code, uint8(kind), amount, ref);
    }

    function record(
        address payee,
        bytes3 code,
        ObligationKind kind,
        uint256 amount,
        bytes32 ref,
        bytes32 payerAccount,
        bytes32 payeeAccount
    ) internal pure returns (bytes memory) {
        return abi.encodePacked(payee, code, uint8(kind) | 0x80, amount, ref, payerAccount, payeeAccount);
    }

    /// @dev `n` interbank SGD obligations from banks[0] round-robin to the other banks, references
    ///      `firstRef`, `firstRef + 1`, ...
    function interbankBatch(uint256 n, uint256 firstRef) internal view returns (bytes memory out) {
        for (uint256 i; i < n; ++i) {
            out = bytes.concat(
                out, record(banks[1 + (i % (banks.length - 1))], SGD, ObligationKind.Interbank, 1_00 + i, bytes32(firstRef + i))
            );
        }
    }

    function input(address payee, uint256 amount, bytes32 ref) internal pure returns (ObligationInput memory) {
        return ObligationInput(payee, SGD, ObligationKind.Interbank, amount, ref, bytes32(0), bytes32(0));
    }

    function leaf(uint64 cycleId, address payer, address payee, bytes3 code, uint256 amount, bytes32 ref)
        internal
        pure
        returns (bytes32)
    {
        return ObligationLeaf.hash(cycleId, payer, payee, code, amount, ref);
    }

    /// @dev Intrinsic gas of a transaction carrying `data` (21,000 plus 4 per zero and 16 per non-zero
    ///      byte; no access list), which `snapshotGasLastCall` leaves out.
    function intrinsicGas(bytes memory data) internal pure returns (uint256 gas) {
        gas = 21_000;
        for (uint256 i; i < data.length; ++i) {
            gas += data[i] == 0 ? 4 : 16;
        }
    }

    /// @dev Closes the open cycle as admin and returns its id.
    function closeAsAdmin() internal returns (uint64 id) {
        vm.prank(admin);
        id = hub.closeCycle();
    }

    /// @dev The header members approve for `r`.
    function header(ClearingResult memory r) internal pure returns (ResultHeader memory) {
        return ResultChain.header(r);
    }

    /// @dev A result settling everything with the given positions (roots are opaque non-zero tags).
    function resultFor(uint64 id, uint64 settledCount, uint64 deferredCount, NetPosition[] memory positions)
        internal
        view
        returns (ClearingResult memory r)
    {
        r.cycleId = id;
        r.inputCommitment = hub.cycle(id).inputCommitment;
        r.settledRoot = settledCount == 0 ? bytes32(0) : keccak256(abi.encode("settled", id));
        r.deferredRoot = deferredCount == 0 ? bytes32(0) : keccak256(abi.encode("deferred", id));
        r.settledCount = settledCount;
        r.deferredCount = deferredCount;
        r.positions = positions;
    }
}
