//! Shell completions and man pages, generated from the clap definitions so they never drift
//! from the flags (`scimreplay completions SHELL`, `scimreplay man`).

use super::args::Cli;
use super::output::Out;
use crate::exit::Outcome;
use clap::{Args, CommandFactory};
use clap_complete::Shell;
use std::io::Write;
use std::path::PathBuf;

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell to complete for.
    #[arg(value_enum)]
    pub shell: Shell,
}

#[derive(Debug, Args)]
pub struct ManArgs {
    /// Write `scimreplay.1` and one `scimreplay-<command>.1` per subcommand into DIR instead
    /// of printing the main page.
    #[arg(long, value_name = "DIR")]
    pub out_dir: Option<PathBuf>,
}

/// `scimreplay completions SHELL`: the script on stdout.
pub fn completions(args: CompletionsArgs, mut out: Out) -> Outcome {
    let mut command = Cli::command();
    let mut script = Vec::new();
    clap_complete::generate(args.shell, &mut command, "scimreplay", &mut script);
    match out.write_all(&script) {
        Ok(()) => Outcome::Passed,
        Err(_) => Outcome::EndpointOrHarness,
    }
}

/// `scimreplay man [--out-dir DIR]`.
pub fn man(args: ManArgs, mut out: Out, mut err: Out) -> Outcome {
    let command = Cli::command();
    if let Some(dir) = &args.out_dir {
        let written =
            std::fs::create_dir_all(dir).and_then(|()| clap_mangen::generate_to(command, dir));
        return match written {
            Ok(()) => {
                let _ = writeln!(out, "man pages written to {}", dir.display());
                Outcome::Passed
            }
            Err(e) => {
                let _ = writeln!(
                    err,
                    "error: failed to write man pages to {}: {e}",
                    dir.display()
                );
                Outcome::InvalidInput
            }
        };
    }
    let mut page = Vec::new();
    match clap_mangen::Man::new(command).render(&mut page) {
        Ok(()) if out.write_all(&page).is_ok() => Outcome::Passed,
        _ => Outcome::EndpointOrHarness,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn completions_name_the_subcommands_and_flags() {
        for shell in [Shell::Bash, Shell::Zsh, Shell::Fish, Shell::PowerShell] {
            let (out, buf) = Out::buffer();
            assert_eq!(completions(CompletionsArgs { shell }, out), Outcome::Passed);
            let script = buf.contents();
            for word in ["cleanup", "target", "token-env", "completions"] {
                assert!(script.contains(word), "{shell}: no `{word}` in the script");
            }
        }
    }

    #[test]
    fn man_page_is_roff_with_the_subcommands() {
        let (out, buf) = Out::buffer();
        let (err, _) = Out::buffer();
        assert_eq!(man(ManArgs { out_dir: None }, out, err), Outcome::Passed);
        let page = buf.contents();
        assert!(
            page.starts_with(".ie") || page.contains(".TH scimreplay"),
            "{page}"
        );
        assert!(
            page.contains("scimreplay\\-run") || page.contains("run"),
            "{page}"
        );
    }

    #[test]
    fn man_out_dir_writes_a_page_per_subcommand() {
        let scratch = tempfile::tempdir().unwrap();
        let dir = scratch.path().join("man");
        let (out, _) = Out::buffer();
        let (err, _) = Out::buffer();
        let args = ManArgs {
            out_dir: Some(dir.clone()),
        };
        assert_eq!(man(args, out, err), Outcome::Passed);
        let run_page = std::fs::read_to_string(dir.join("scimreplay-run.1")).unwrap();
        assert!(run_page.contains("token\\-env"), "{run_page}");
        assert!(dir.join("scimreplay-cleanup.1").exists());
    }
}
