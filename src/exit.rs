//! Process exit codes: one documented table, one exhaustive mapping.
//!
//! The README carries the same table; `tests/integration/exit_codes.rs` proves each row.

use crate::model::Verdict;
use std::process::ExitCode;

/// Why a command ended. Ordered by precedence: when several apply, the highest wins.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Outcome {
    /// Every check passed and every snapshot matched (new snapshots are not drift).
    Passed,
    /// Only snapshot drift: every check passed, some responses differ from the baseline.
    SnapshotDrift,
    /// At least one conformance check with severity `fail` failed (or a warning under `--strict`).
    ChecksFailed,
    /// Cleanup could not delete everything this run created; the ledger names what is left.
    CleanupIncomplete,
    /// The endpoint rejected the token (401/403 to Entra's Test Connection query); nothing
    /// else was sent. A bad secret, not a non-conformant endpoint.
    CredentialsRejected,
    /// The endpoint could not be reached at all, the harness itself failed, or the run was
    /// interrupted (SIGINT/SIGTERM) before it finished.
    EndpointOrHarness,
    /// Bad input: flags, scenario files, variables. Nothing was sent.
    InvalidInput,
}

impl Outcome {
    /// The process exit code of this outcome.
    pub const fn code(self) -> u8 {
        match self {
            Outcome::Passed => 0,
            Outcome::ChecksFailed => 1,
            Outcome::SnapshotDrift => 2,
            Outcome::InvalidInput => 3,
            Outcome::EndpointOrHarness => 4,
            Outcome::CleanupIncomplete => 5,
            Outcome::CredentialsRejected => 6,
        }
    }

    /// One line for the README table and `--help`.
    pub const fn meaning(self) -> &'static str {
        match self {
            Outcome::Passed => "every check passed and every snapshot matched",
            Outcome::ChecksFailed => "a conformance check failed",
            Outcome::SnapshotDrift => "only snapshot drift: responses differ from the baseline",
            Outcome::InvalidInput => "invalid input (flags, scenario files); nothing was sent",
            Outcome::EndpointOrHarness => {
                "the endpoint could not be reached, the harness failed, or the run was interrupted"
            }
            Outcome::CleanupIncomplete => {
                "cleanup left objects behind; the ledger and `scimreplay cleanup` finish it"
            }
            Outcome::CredentialsRejected => {
                "the endpoint rejected the token (401/403 to the Test Connection query); nothing else was sent"
            }
        }
    }

    /// All outcomes, in exit-code order.
    pub const ALL: [Outcome; 7] = [
        Outcome::Passed,
        Outcome::ChecksFailed,
        Outcome::SnapshotDrift,
        Outcome::InvalidInput,
        Outcome::EndpointOrHarness,
        Outcome::CleanupIncomplete,
        Outcome::CredentialsRejected,
    ];

    /// The worse of two outcomes.
    pub fn worst(self, other: Outcome) -> Outcome {
        self.max(other)
    }
}

impl From<Verdict> for Outcome {
    /// The one mapping from a run's verdict to its exit outcome.
    fn from(verdict: Verdict) -> Outcome {
        match verdict {
            Verdict::Passed => Outcome::Passed,
            Verdict::Drift => Outcome::SnapshotDrift,
            Verdict::Failed => Outcome::ChecksFailed,
            Verdict::LeftBehind => Outcome::CleanupIncomplete,
            Verdict::CredentialsRejected => Outcome::CredentialsRejected,
            Verdict::HarnessFailed | Verdict::Interrupted | Verdict::Unreachable => {
                Outcome::EndpointOrHarness
            }
        }
    }
}

impl From<Outcome> for ExitCode {
    fn from(outcome: Outcome) -> ExitCode {
        ExitCode::from(outcome.code())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_distinct_and_dense() {
        let mut codes: Vec<u8> = Outcome::ALL.iter().map(|o| o.code()).collect();
        codes.sort();
        assert_eq!(codes, vec![0, 1, 2, 3, 4, 5, 6]);
    }

    #[test]
    fn the_readme_table_matches_the_code() {
        let readme = include_str!("../README.md");
        for outcome in Outcome::ALL {
            let row = format!("| {} | {} |", outcome.code(), outcome.meaning());
            assert!(readme.contains(&row), "README lacks the row `{row}`");
        }
    }

    #[test]
    fn precedence_prefers_the_more_serious_outcome() {
        assert_eq!(
            Outcome::SnapshotDrift.worst(Outcome::ChecksFailed),
            Outcome::ChecksFailed
        );
        assert_eq!(
            Outcome::ChecksFailed.worst(Outcome::CleanupIncomplete),
            Outcome::CleanupIncomplete
        );
        assert_eq!(
            Outcome::EndpointOrHarness.worst(Outcome::InvalidInput),
            Outcome::InvalidInput
        );
        assert_eq!(
            Outcome::Passed.worst(Outcome::SnapshotDrift),
            Outcome::SnapshotDrift
        );
        assert_eq!(
            Outcome::CleanupIncomplete.worst(Outcome::CredentialsRejected),
            Outcome::CredentialsRejected
        );
        assert_eq!(
            Outcome::CredentialsRejected.worst(Outcome::EndpointOrHarness),
            Outcome::EndpointOrHarness
        );
    }

    #[test]
    fn verdicts_map_to_their_rows() {
        assert_eq!(Outcome::from(Verdict::CredentialsRejected).code(), 6);
        assert_eq!(Outcome::from(Verdict::Unreachable).code(), 4);
        assert_eq!(Outcome::from(Verdict::Interrupted).code(), 4);
        assert_eq!(Outcome::from(Verdict::LeftBehind).code(), 5);
        assert_eq!(Outcome::from(Verdict::Failed).code(), 1);
        assert_eq!(Outcome::from(Verdict::Drift).code(), 2);
        assert_eq!(Outcome::from(Verdict::Passed).code(), 0);
    }
}
