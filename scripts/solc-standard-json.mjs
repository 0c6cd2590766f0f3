// Run the pinned solc-js on a standard-JSON input read from stdin, with the settings of the
// shipped contracts (solc-settings.mjs) merged in; write solc's output to stdout. ledgerlearn
// uses it for contracts generated at run time (EZKL's verifiers), so they are compiled by the
// same compiler as the shipped contracts, never by a downloaded one.
//
//   node scripts/solc-standard-json.mjs < input.json > output.json
import solc from "solc";

import { SETTINGS } from "./solc-settings.mjs";

const chunks = [];
for await (const chunk of process.stdin) chunks.push(chunk);
const input = JSON.parse(Buffer.concat(chunks).toString("utf8"));
input.settings = { ...(input.settings ?? {}), ...SETTINGS };
process.stdout.write(solc.compile(JSON.stringify(input)));
