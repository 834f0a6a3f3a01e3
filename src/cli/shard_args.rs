//! `run` flags for splitting a run across CI machines and stopping early.

use crate::scenario::partition::Partition;
use clap::Args;

#[derive(Debug, Args, Clone, Default)]
pub struct ShardArgs {
    /// Run one shard of the selected scenarios, for a CI matrix: `hash:K/N` (by the
    /// scenario's name, so a scenario keeps its shard when others are added) or `count:K/N`
    /// (round-robin by name, the most even split); shards are numbered 1 to N, and the N
    /// runs together cover the selection exactly once.
    #[arg(long, value_name = "hash:K/N|count:K/N")]
    pub partition: Option<Partition>,
    /// Start no new scenario once one has failed (those running finish and clean up).
    #[arg(long)]
    pub fail_fast: bool,
}
