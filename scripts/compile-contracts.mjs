// Compile every .sol under contracts/ with the pinned solc-js through standard JSON and
// write one artifact per contract into src/ledgerlearn/ledger/artifacts/.
//
//   node scripts/compile-contracts.mjs          write artifacts
//   node scripts/compile-contracts.mjs --check  exit 1 if committed artifacts are stale
//
// An artifact holds the ABI, creation and runtime bytecode, the compiler version and
// settings, and the sha256 of every source file the contract was built from, so the Python
// side can tell when a source changed and its artifact was not rebuilt.
import { createHash } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import solc from "solc";

import { SETTINGS } from "./solc-settings.mjs";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const CONTRACTS = path.join(ROOT, "contracts");
const OUT = path.join(ROOT, "src", "ledgerlearn", "ledger", "artifacts");
const NODE_MODULES = path.join(ROOT, "node_modules");


function listSol(dir) {
  const found = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) found.push(...listSol(full));
    else if (entry.name.endsWith(".sol")) found.push(full);
  }
  return found.sort();
}

function resolveSource(importPath) {
  const candidates = [path.join(ROOT, importPath), path.join(NODE_MODULES, importPath)];
  for (const candidate of candidates) {
    if (fs.existsSync(candidate)) return fs.readFileSync(candidate, "utf8");
  }
  return null;
}

const sha256 = (text) => createHash("sha256").update(text, "utf8").digest("hex");

function compile() {
  const sources = {};
  for (const file of listSol(CONTRACTS)) {
    sources[path.relative(ROOT, file).split(path.sep).join("/")] = {
      content: fs.readFileSync(file, "utf8"),
    };
  }
  const input = {
    language: "Solidity",
    sources,
    settings: {
      ...SETTINGS,
      metadata: { bytecodeHash: "ipfs" },
      outputSelection: {
        "*": { "": ["ast"], "*": ["abi", "evm.bytecode", "evm.deployedBytecode", "metadata"] },
      },
    },
  };
  const findImports = (importPath) => {
    const content = resolveSource(importPath);
    return content === null ? { error: `import not found: ${importPath}` } : { contents: content };
  };
  const output = JSON.parse(solc.compile(JSON.stringify(input), { import: findImports }));
  const errors = (output.errors ?? []).filter((e) => e.severity === "error");
  // solc warns about every tstore; OpenZeppelin's ReentrancyGuardTransient clears its slot
  // at the end of each call, the use the warning itself calls safe, so that one is not shown.
  const known = (m) =>
    m.severity === "warning" && m.sourceLocation?.file?.endsWith("utils/TransientSlot.sol");
  for (const message of output.errors ?? []) {
    if (!known(message)) process.stderr.write(message.formattedMessage + "\n");
  }
  if (errors.length > 0) {
    process.stderr.write(`solc failed with ${errors.length} error(s)\n`);
    process.exit(1);
  }

  // Enum definitions by contract, its own and its bases' (Governor's ProposalState), from
  // the AST (the ABI has only uint8): the Python bindings (ledgerlearn.ledger.enums) are
  // generated from them.
  const byId = new Map();
  for (const source of Object.values(output.sources ?? {})) {
    for (const node of source.ast?.nodes ?? []) {
      if (node.nodeType !== "ContractDefinition") continue;
      const own = {};
      for (const member of node.nodes ?? []) {
        if (member.nodeType === "EnumDefinition") own[member.name] = member.members.map((m) => m.name);
      }
      byId.set(node.id, { name: node.name, own, bases: node.linearizedBaseContracts ?? [] });
    }
  }
  const enums = {};
  for (const contract of byId.values()) {
    const merged = {};
    for (const id of [...contract.bases].reverse()) Object.assign(merged, byId.get(id)?.own ?? {});
    enums[contract.name] = Object.fromEntries(Object.entries(merged).sort());
  }

  const artifacts = {};
  for (const sourceName of Object.keys(sources)) {
    for (const [contractName, compiled] of Object.entries(output.contracts[sourceName] ?? {})) {
      const bytecode = compiled.evm.bytecode;
      if (bytecode.object.length === 0) continue; // interfaces and abstract contracts
      if (Object.keys(bytecode.linkReferences).length > 0) {
        process.stderr.write(`${contractName}: external library links are not supported; make the library internal\n`);
        process.exit(1);
      }
      const metadata = JSON.parse(compiled.metadata);
      const deps = {};
      for (const dep of Object.keys(metadata.sources).sort()) {
        deps[dep] = sha256(resolveSource(dep));
      }
      artifacts[contractName] = {
        contractName,
        sourceName,
        compiler: { name: "solc-js", version: solc.version() },
        settings: SETTINGS,
        sources: deps,
        sourceHash: sha256(JSON.stringify(deps)),
        abi: compiled.abi,
        enums: enums[contractName] ?? {},
        bytecode: "0x" + bytecode.object,
        deployedBytecode: "0x" + compiled.evm.deployedBytecode.object,
        // Byte ranges of the runtime code that the constructor fills in (immutables); a
        // deployed contract's code equals deployedBytecode outside these ranges.
        immutableReferences: Object.values(compiled.evm.deployedBytecode.immutableReferences ?? {})
          .flat()
          .sort((a, b) => a.start - b.start),
      };
    }
  }
  return artifacts;
}

const render = (artifact) => JSON.stringify(artifact, null, 2) + "\n";

const artifacts = compile();
const check = process.argv.includes("--check");
fs.mkdirSync(OUT, { recursive: true });
const existing = new Set(fs.readdirSync(OUT).filter((f) => f.endsWith(".json")));
let stale = 0;
for (const [name, artifact] of Object.entries(artifacts)) {
  const file = path.join(OUT, `${name}.json`);
  existing.delete(`${name}.json`);
  const text = render(artifact);
  const current = fs.existsSync(file) ? fs.readFileSync(file, "utf8") : null;
  if (current === text) continue;
  if (check) {
    process.stderr.write(`stale artifact: ${path.relative(ROOT, file)} (run: make contracts)\n`);
    stale += 1;
  } else {
    const tmp = `${file}.tmp`;
    fs.writeFileSync(tmp, text);
    fs.renameSync(tmp, file);
    process.stdout.write(`compiled ${name}\n`);
  }
}
for (const orphan of existing) {
  if (check) {
    process.stderr.write(`artifact without a source: ${orphan} (run: make contracts)\n`);
    stale += 1;
  } else {
    fs.unlinkSync(path.join(OUT, orphan));
    process.stdout.write(`removed ${orphan}\n`);
  }
}
if (check && stale > 0) process.exit(1);
