// Writes tests/ledger/protocol/proofs/vectors/merkle_vectors.json to stdout: StandardMerkleTree test vectors made by
// @openzeppelin/merkle-tree itself, for the Python implementation (tests/oracle/test_proofs.py) and
// for on-chain checks of ObligationLeaf / MerkleProof (verifyObligation).
//
//   node tests/ledger/protocol/proofs/js/gen_vectors.js > tests/ledger/protocol/proofs/vectors/merkle_vectors.json   (from the repo root)
//
// Deterministic: every value is derived from keccak256 of a label, so the output never changes.
'use strict';
const { StandardMerkleTree } = require('@openzeppelin/merkle-tree');
const { keccak256 } = require('ethereum-cryptography/keccak');
const { bytesToHex, utf8ToBytes } = require('ethereum-cryptography/utils');

const OBLIGATION = ['uint64', 'address', 'address', 'bytes3', 'uint256', 'bytes32'];
const h = label => bytesToHex(keccak256(utf8ToBytes(label)));

function checksum(hex40) {
  const digest = h(hex40);
  return '0x' + [...hex40].map((c, i) => (parseInt(digest[i], 16) >= 8 ? c.toUpperCase() : c)).join('');
}

const banks = ['bank-a', 'bank-b', 'bank-c', 'wallet-d'].map(name => checksum(h(name).slice(0, 40)));
const currencies = { SGD: '0x534744', USD: '0x555344', EUR: '0x455552' };

function obligation(i, cycle = 7) {
  const payer = banks[i % banks.length];
  let payee = banks[(i + 1 + (i >> 2)) % banks.length];
  if (payee === payer) payee = banks[(i + 2) % banks.length];
  const currency = Object.values(currencies)[i % 3];
  const amount = (BigInt('0x' + h(`amount-${i}`).slice(0, 12)) + 1n).toString();
  return [String(cycle - (i % 4 === 3 ? 1 : 0)), payer, payee, currency, amount, '0x' + h(`ref-${i}`)];
}

function vector(name, description, leafEncoding, values) {
  const tree = StandardMerkleTree.of(values, leafEncoding);
  return {
    name,
    description,
    leafEncoding,
    root: tree.root,
    leaves: values.map((value, i) => ({
      value,
      leafHash: tree.leafHash(value),
      treeIndex: tree.dump().values[i].treeIndex,
      proof: tree.getProof(i),
    })),
    dump: tree.dump(),
  };
}

const range = n => [...Array(n).keys()];
const big = obligation(5);
big[4] = (2n ** 256n - 1n).toString(); // max uint256 amount: exercises the full-width encoding
const vectors = [
  vector('obligation-1', 'single obligation: root = leaf hash, empty proof', OBLIGATION, [obligation(0)]),
  vector('obligation-2', 'two obligations', OBLIGATION, range(2).map(i => obligation(i))),
  vector('obligation-3', 'three obligations (unbalanced heap)', OBLIGATION, range(3).map(i => obligation(i))),
  vector('obligation-5', 'five obligations, one with a max uint256 amount', OBLIGATION, [
    ...range(4).map(i => obligation(i)),
    big,
  ]),
  vector('obligation-13', 'thirteen obligations across cycles 6 and 7', OBLIGATION, range(13).map(i => obligation(i))),
  vector('obligation-duplicates', 'the same obligation twice plus one other', OBLIGATION, [
    obligation(1),
    obligation(2),
    obligation(1),
  ]),
  vector('address-uint256', 'the classic airdrop encoding', ['address', 'uint256'], range(6).map(i => [banks[i % 4], String(i * 1000 + 1)])),
  vector('dynamic-types', 'dynamic ABI types (string, bytes, arrays)', ['string', 'bytes', 'uint8[]', 'bool'], [
    ['hello', '0x', ['1', '2'], true],
    ['', '0xdeadbeef', [], false],
    ['settlement', '0x00', ['255'], true],
  ]),
];

process.stdout.write(
  JSON.stringify(
    {
      generator: 'tests/ledger/protocol/proofs/js/gen_vectors.js with @openzeppelin/merkle-tree ' + require('@openzeppelin/merkle-tree/package.json').version,
      emptySetRoot: '0x' + '00'.repeat(32),
      vectors,
    },
    null,
    2,
  ) + '\n',
);
