"""The evidence bundle: the writer (`write`), its fixed names, and the offline verifier the CLI
runs (`verify`, docs/verifying.md). The chain check it verifies with is app.exports.chain_check."""
