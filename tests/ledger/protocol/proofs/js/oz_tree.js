// Line-oriented driver for @openzeppelin/merkle-tree, used by tests/oracle/test_proofs.py.
// Run from the repository root (so require() finds node_modules). Each stdin line is one JSON
// request, or a JSON array of requests; each stdout line is the matching result (or array).
// A request that throws yields {"error": message}.
//
//   {"op": "of", "values": [...], "leafEncoding": [...], "sortLeaves"?: bool, "multi"?: [[i, ...], ...]}
//       -> {"root", "dump", "proofs": [getProof(i) for each value], "multiproofs": [getMultiProof(ix)]}
//   {"op": "load", "dump": {...}}
//       -> {"root", "length", "verified": each value's proof verifies (instance and static verify),
//           "proofs": [getProof(i)], "lookup": [leafLookup(value)]}
//   {"op": "leafHash", "leafEncoding": [...], "value": [...]}            -> {"hash"}
//   {"op": "verify", "root", "leafEncoding", "leaf", "proof"}            -> {"ok"}
//   {"op": "verifyMulti", "root", "leafEncoding", "multiproof"}          -> {"ok"}
'use strict';
const readline = require('readline');
const { StandardMerkleTree } = require('@openzeppelin/merkle-tree');
const { standardLeafHash } = require('@openzeppelin/merkle-tree/dist/hashes');

function handle(req) {
  switch (req.op) {
    case 'of': {
      const tree = StandardMerkleTree.of(req.values, req.leafEncoding, { sortLeaves: req.sortLeaves ?? true });
      return {
        root: tree.root,
        dump: tree.dump(),
        proofs: req.values.map((_, i) => tree.getProof(i)),
        multiproofs: (req.multi ?? []).map(ix => tree.getMultiProof(ix)),
      };
    }
    case 'load': {
      const tree = StandardMerkleTree.load(req.dump);
      const proofs = [];
      const lookup = [];
      let verified = true;
      for (const [i, v] of tree.entries()) {
        const proof = tree.getProof(i);
        proofs.push(proof);
        lookup.push(tree.leafLookup(v));
        verified =
          verified && tree.verify(i, proof) && StandardMerkleTree.verify(tree.root, req.dump.leafEncoding, v, proof);
      }
      return { root: tree.root, length: tree.length, verified, proofs, lookup };
    }
    case 'leafHash':
      return { hash: standardLeafHash(req.leafEncoding, req.value) };
    case 'verify':
      return { ok: StandardMerkleTree.verify(req.root, req.leafEncoding, req.leaf, req.proof) };
    case 'verifyMulti':
      return { ok: StandardMerkleTree.verifyMultiProof(req.root, req.leafEncoding, req.multiproof) };
    default:
      throw new Error(`unknown op ${req.op}`);
  }
}

function safe(req) {
  try {
    return handle(req);
  } catch (e) {
    return { error: String(e && e.message ? e.message : e) };
  }
}

const rl = readline.createInterface({ input: process.stdin, crlfDelay: Infinity });
rl.on('line', line => {
  if (!line.trim()) return;
  const req = JSON.parse(line);
  const out = Array.isArray(req) ? req.map(safe) : safe(req);
  process.stdout.write(JSON.stringify(out) + '\n');
});
