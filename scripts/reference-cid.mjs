// Reference CIDs from the JS UnixFS importer that Helia uses, configured as kubo's
// `ipfs add --cid-version=1 --raw-leaves` (fixed 256 KiB chunks, balanced layout with 174
// links per node, raw leaves, a single leaf reduced to itself). Used by the tests as an
// independent implementation to compare ledgerlearn.storage CIDs against.
//
//   node scripts/reference-cid.mjs FILE [FILE ...]   prints "<cid> <file>" per file
import fs from "node:fs";
import { importer } from "ipfs-unixfs-importer";
import { fixedSize } from "ipfs-unixfs-importer/chunker";
import { balanced } from "ipfs-unixfs-importer/layout";

const blockstore = {
  blocks: new Map(),
  async put(cid, bytes) { this.blocks.set(cid.toString(), bytes); return cid; },
  async get(cid) { return this.blocks.get(cid.toString()); },
  async has(cid) { return this.blocks.has(cid.toString()); },
};

for (const file of process.argv.slice(2)) {
  const options = {
    cidVersion: 1,
    rawLeaves: true,
    reduceSingleLeafToSelf: true,
    chunker: fixedSize({ chunkSize: 262144 }),
    layout: balanced({ maxChildrenPerNode: 174 }),
  };
  let root;
  for await (const entry of importer([{ content: fs.createReadStream(file) }], blockstore, options)) {
    root = entry.cid;
  }
  blockstore.blocks.clear();
  process.stdout.write(`${root.toString()} ${file}\n`);
}
