"""The tamper-evident audit log: RFC 6962 Merkle tree, signed checkpoints, proofs."""
