//! The config file: `scimreplay.toml` in the working directory, or `--config FILE`.
//!
//! Its keys are the long flags of `scimreplay run`, spelled as on the command line
//! (`target = "…"`, `token-env = "…"`, `jobs = 4`, `dialect = ["default"]`); a flag given on
//! the command line wins over its key. The file is turned into the flags it stands for and
//! parsed by the same clap definitions, so every value is checked exactly as a flag is; each
//! key is checked alone first, so a bad one is reported at its place in the file. Relative
//! paths in the file are taken from the file's folder. A secret never belongs in the file:
//! a `token` key is refused.

use super::args::{Cli, Command};
use crate::report::diagnostic::{Diagnostic, to_string};
use crate::report::styles::Styles;
use clap::parser::ValueSource;
use clap::{ArgAction, CommandFactory, Parser};
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use toml::de::{DeTable, DeValue};

/// The file looked for in the working directory.
pub const FILE_NAME: &str = "scimreplay.toml";

/// `run` flags that choose the config file.
#[derive(Debug, clap::Args, Clone, Default)]
pub struct ConfigArgs {
    /// Read settings from FILE (TOML; keys are `run`'s long flags, e.g. `target = "…"`,
    /// `token-env = "…"`, `jobs = 4`) instead of `./scimreplay.toml`; flags given on the
    /// command line override the file.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Ignore `./scimreplay.toml`.
    #[arg(long, conflicts_with = "config")]
    pub no_config: bool,
}

/// Why the command line could not be parsed.
#[derive(Debug)]
pub enum ParseFailure {
    /// clap's own error (help and version are "errors" too), printed by clap.
    Clap(clap::Error),
    /// A problem with the config file, already worded (exit 3).
    Config(String),
}

/// Flags that make no sense in a file.
const NOT_IN_FILE: &[&str] = &["config", "no-config", "help"];

/// Parses `argv`, applying the config file when the command is `run`.
pub fn parse(argv: Vec<OsString>, cwd: &Path) -> Result<Cli, ParseFailure> {
    let cli = Cli::try_parse_from(&argv).map_err(ParseFailure::Clap)?;
    let Command::Run(run) = &cli.command else {
        return Ok(cli);
    };
    let path = match (&run.config.config, run.config.no_config) {
        (Some(path), _) => cwd.join(path),
        (None, true) => return Ok(cli),
        (None, false) => {
            let path = cwd.join(FILE_NAME);
            if !path.is_file() {
                return Ok(cli);
            }
            path
        }
    };
    let shown = shown_path(&path, cwd);
    let text = std::fs::read_to_string(&path).map_err(|e| {
        ParseFailure::Config(format!("error: failed to read config file {shown}: {e}"))
    })?;
    let on_command_line = command_line_flags(&argv);
    let base = path.parent().unwrap_or(Path::new(""));
    let flags = to_flags(&text, &shown, base, &on_command_line).map_err(ParseFailure::Config)?;
    if flags.is_empty() {
        return Ok(cli);
    }
    // The subcommand is always the first argument (there are no global options).
    let mut merged = argv;
    let at = 2.min(merged.len());
    merged.splice(at..at, flags.into_iter().map(OsString::from));
    Cli::try_parse_from(&merged).map_err(|e| {
        ParseFailure::Config(format!(
            "{}\n(with the settings from {shown}; a flag on the command line overrides its key, \
             and --no-config ignores the file)",
            e.render().to_string().trim_end()
        ))
    })
}

/// The long flags the user gave `run` on the command line.
fn command_line_flags(argv: &[OsString]) -> Vec<String> {
    let Ok(matches) = Cli::command().try_get_matches_from(argv) else {
        return Vec::new();
    };
    let Some(("run", run)) = matches.subcommand() else {
        return Vec::new();
    };
    run_command()
        .get_arguments()
        .filter(|a| run.value_source(a.get_id().as_str()) == Some(ValueSource::CommandLine))
        .filter_map(|a| a.get_long().map(str::to_string))
        .collect()
}

fn run_command() -> clap::Command {
    Cli::command()
        .find_subcommand("run")
        .cloned()
        .expect("`run` is a subcommand")
}

/// The flags the file stands for, leaving out those given on the command line.
fn to_flags(
    text: &str,
    shown: &str,
    base: &Path,
    on_command_line: &[String],
) -> Result<Vec<String>, String> {
    let place = |span: std::ops::Range<usize>, message: String, help: Option<String>| {
        located(text, shown, span, true, message, help)
    };
    let table = DeTable::parse(text).map_err(|e| {
        let span = e.span().unwrap_or(0..0);
        place(
            span,
            format!("invalid TOML: {}", e.message().trim_end()),
            None,
        )
    })?;
    let run = run_command();
    let known: Vec<&str> = run
        .get_arguments()
        .filter_map(|a| a.get_long())
        .filter(|l| !NOT_IN_FILE.contains(l))
        .collect();
    let mut entries: Vec<_> = table.get_ref().iter().collect();
    entries.sort_by_key(|(k, _)| k.span().start);
    let mut flags = Vec::new();
    for (key, value) in entries {
        let name = key.get_ref().as_ref();
        if name == "token" {
            // No excerpt: the line holds the secret.
            return Err(located(
                text,
                shown,
                key.span(),
                false,
                "a config file must not hold the token".into(),
                Some(
                    "keep the token in an environment variable and name it with \
                     `token-env = \"SCIMREPLAY_TOKEN\"` (the default)"
                        .into(),
                ),
            ));
        }
        let Some(arg) = run
            .get_arguments()
            .find(|a| a.get_long() == Some(name) && !NOT_IN_FILE.contains(&name))
        else {
            let help = crate::scenario::error::did_you_mean(name, &known)
                .or_else(|| Some("keys are the long flags of `scimreplay run --help`".into()));
            return Err(place(
                key.span(),
                format!("unknown key `{}`", crate::escape::line(name)),
                help,
            ));
        };
        let pieces = value_flags(name, arg, value.get_ref(), base)
            .map_err(|why| place(value.span(), why, None))?;
        // Each key alone, so a bad value is reported at its place in the file.
        let alone = ["scimreplay", "run"]
            .into_iter()
            .map(String::from)
            .chain(pieces.iter().cloned());
        if let Err(e) = Cli::try_parse_from(alone) {
            let why = e.to_string();
            let first = why.lines().next().unwrap_or_default();
            let first = first.strip_prefix("error: ").unwrap_or(first);
            return Err(place(value.span(), first.to_string(), None));
        }
        if !overridden(&run, arg, on_command_line) {
            flags.extend(pieces);
        }
    }
    Ok(flags)
}

/// True when the command line gives this flag, or one that cannot go with it (a flag
/// overrides the file: `--update-snapshots` wins over `no-snapshots = true`).
fn overridden(run: &clap::Command, arg: &clap::Arg, on_command_line: &[String]) -> bool {
    on_command_line.iter().any(|given| {
        let Some(other) = run.get_arguments().find(|a| a.get_long() == Some(given)) else {
            return false;
        };
        other.get_id() == arg.get_id()
            || run
                .get_arg_conflicts_with(arg)
                .iter()
                .any(|c| c.get_id() == other.get_id())
            || run
                .get_arg_conflicts_with(other)
                .iter()
                .any(|c| c.get_id() == arg.get_id())
    })
}

/// The command-line form of one key: `--name value`, once per value of a list.
fn value_flags(
    name: &str,
    arg: &clap::Arg,
    value: &DeValue<'_>,
    base: &Path,
) -> Result<Vec<String>, String> {
    let flag = format!("--{name}");
    if !arg.get_action().takes_values() {
        return match value {
            DeValue::Boolean(true) => Ok(vec![flag]),
            DeValue::Boolean(false) => Ok(Vec::new()),
            _ => Err(format!(
                "`{name}` is a switch: write `{name} = true` or `false`"
            )),
        };
    }
    let is_path = arg.get_value_names().is_some_and(|n| {
        n.iter()
            .any(|v| ["FILE", "DIR", "PATH"].contains(&v.as_str()))
    });
    let scalar = |v: &DeValue<'_>| -> Result<String, String> {
        let text = match v {
            DeValue::String(s) => s.to_string(),
            DeValue::Integer(i) => i64::from_str_radix(i.as_str(), i.radix())
                .map(|n| n.to_string())
                .map_err(|_| format!("`{name}`: {} is out of range", i.as_str()))?,
            DeValue::Float(f) => f.as_str().to_string(),
            DeValue::Boolean(_) => {
                return Err(format!(
                    "`{name}` takes a value, not true or false (e.g. `{name} = \"…\"`)"
                ));
            }
            other => return Err(format!("`{name}` cannot be a {}", other.type_str())),
        };
        Ok(if is_path {
            relative_to(base, &text)
        } else {
            text
        })
    };
    match value {
        DeValue::Array(items) if matches!(arg.get_action(), ArgAction::Append) => items
            .iter()
            .map(|item| scalar(item.get_ref()).map(|v| vec![flag.clone(), v]))
            .collect::<Result<Vec<_>, _>>()
            .map(|v| v.concat()),
        DeValue::Array(_) => Err(format!("`{name}` takes one value, not a list")),
        v => Ok(vec![flag.clone(), scalar(v)?]),
    }
}

/// A path from the file, taken from the file's folder unless it is absolute.
fn relative_to(base: &Path, value: &str) -> String {
    let path = Path::new(value);
    if path.is_absolute() || base.as_os_str().is_empty() {
        value.to_string()
    } else {
        base.join(path).display().to_string()
    }
}

/// The config path as the user would write it: relative to the working directory when it
/// is inside it.
fn shown_path(path: &Path, cwd: &Path) -> String {
    path.strip_prefix(cwd).unwrap_or(path).display().to_string()
}

/// An error at a byte span of the file, rendered like a scenario error (with the line
/// quoted unless `excerpt` is false).
fn located(
    text: &str,
    file: &str,
    span: std::ops::Range<usize>,
    excerpt: bool,
    message: String,
    help: Option<String>,
) -> String {
    let start = span.start.min(text.len());
    let start = (0..=start)
        .rev()
        .find(|i| text.is_char_boundary(*i))
        .unwrap_or(0);
    let line_start = text[..start].rfind('\n').map_or(0, |i| i + 1);
    let line_end = text[start..].find('\n').map_or(text.len(), |i| start + i);
    let line = text[..start].matches('\n').count() + 1;
    let column = text[line_start..start].chars().count() + 1;
    let end = span.end.clamp(start, line_end);
    let width = text.get(start..end).map_or(1, |s| s.chars().count().max(1));
    let d = Diagnostic {
        message,
        file: Some(file.to_string()),
        line,
        column,
        source_line: excerpt.then(|| {
            text[line_start..line_end]
                .trim_end_matches('\r')
                .to_string()
        }),
        span: width,
        notes: Vec::new(),
        help,
    };
    to_string(&d, Styles::plain())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flags(text: &str, on_command_line: &[&str]) -> Result<Vec<String>, String> {
        let given: Vec<String> = on_command_line.iter().map(|s| s.to_string()).collect();
        to_flags(text, "scimreplay.toml", Path::new("conf"), &given)
    }

    #[test]
    fn keys_become_the_flags_they_name() {
        let got = flags(
            "target = \"https://x.example/scim\"\njobs = 4\nstrict = true\nno-snapshots = false\n\
             dialect = [\"default\", \"any\"]\njunit = \"out/j.xml\"\njson = \"/abs/r.json\"\n\
             html = \"out/r.html\"\n",
            &[],
        )
        .unwrap();
        assert_eq!(
            got,
            [
                "--target",
                "https://x.example/scim",
                "--jobs",
                "4",
                "--strict",
                "--dialect",
                "default",
                "--dialect",
                "any",
                "--junit",
                "conf/out/j.xml",
                "--json",
                "/abs/r.json",
                "--html",
                "conf/out/r.html"
            ]
        );
    }

    #[test]
    fn a_flag_on_the_command_line_wins() {
        let got = flags("target = \"https://a.example\"\njobs = 2\n", &["jobs"]).unwrap();
        assert_eq!(got, ["--target", "https://a.example"]);
        // Also when the flag only conflicts with the key.
        let got = flags(
            "no-snapshots = true\nstrict = true\n",
            &["update-snapshots"],
        )
        .unwrap();
        assert_eq!(got, ["--strict"]);
    }

    #[test]
    fn an_unknown_key_is_located_with_a_suggestion() {
        let err = flags("jobs = 2\n\ntoken-evn = \"X\"\n", &[]).unwrap_err();
        assert!(err.contains("unknown key `token-evn`"), "{err}");
        assert!(err.contains("scimreplay.toml:3:1"), "{err}");
        assert!(err.contains("did you mean `token-env`?"), "{err}");
    }

    #[test]
    fn a_token_in_the_file_is_refused() {
        let err = flags("token = \"s3cret\"\n", &[]).unwrap_err();
        assert!(err.contains("must not hold the token"), "{err}");
        assert!(err.contains("token-env"), "{err}");
    }

    #[test]
    fn bad_values_are_located() {
        for (text, says, place) in [
            (
                "jobs = \"many\"\n",
                "invalid value 'many' for '--jobs",
                ":1:8",
            ),
            ("strict = \"yes\"\n", "is a switch", ":1:10"),
            ("target = true\n", "takes a value", ":1:10"),
            ("target = [\"a\", \"b\"]\n", "takes one value", ":1:10"),
            ("dialect = [\"nope\"]\n", "invalid value 'nope'", ":1:11"),
            ("jobs = 2\njobs = 3\n", "invalid TOML", ":2:1"),
            ("config = \"x.toml\"\n", "unknown key `config`", ":1:1"),
        ] {
            let err = flags(text, &[]).unwrap_err();
            assert!(err.contains(says), "{text}: {err}");
            assert!(
                err.contains(&format!("scimreplay.toml{place}")),
                "{text}: {err}"
            );
        }
    }
}
