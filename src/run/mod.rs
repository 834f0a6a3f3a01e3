//! The async runner: scenarios in parallel, steps in order, ledger and cleanup.

pub mod guard;
pub mod ledger;
pub mod report;
