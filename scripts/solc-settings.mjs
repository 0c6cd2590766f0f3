// Compiler settings of every contract ledgerlearn compiles: the shipped ones
// (compile-contracts.mjs) and those generated at run time (solc-standard-json.mjs).
export const SETTINGS = {
  evmVersion: "cancun",
  optimizer: { enabled: true, runs: 200 },
  viaIR: false,
};
