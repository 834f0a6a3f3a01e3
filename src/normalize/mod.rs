//! Normalization of transcripts so snapshots compare behaviour, not volatile values.
