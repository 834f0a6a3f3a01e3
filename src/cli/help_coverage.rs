//! Every argument of every subcommand explains itself in `--help`, and every flag of `run`
//! sits under a heading: walks over the whole clap tree that name each argument missing
//! either, so the man page, `--help` and the completion descriptions are never blank.

#[cfg(test)]
mod tests {
    use crate::cli::args::Cli;
    use clap::CommandFactory;

    fn blank(text: Option<&clap::builder::StyledStr>) -> bool {
        text.is_none_or(|t| t.to_string().trim().is_empty())
    }

    fn missing_help(cmd: &clap::Command, path: &str, out: &mut Vec<String>) {
        for arg in cmd.get_arguments() {
            if arg.is_hide_set() {
                continue;
            }
            if blank(arg.get_help()) && blank(arg.get_long_help()) {
                out.push(format!("{path} {}", arg.get_id()));
            }
        }
        for sub in cmd.get_subcommands() {
            if blank(sub.get_about()) && blank(sub.get_long_about()) {
                out.push(format!("{path} {} (subcommand)", sub.get_name()));
            }
            missing_help(sub, &format!("{path} {}", sub.get_name()), out);
        }
    }

    /// The flags of `cmd` that `--help` would list under the plain "Options" heading
    /// (clap's own `--help` and `--version` belong there).
    fn without_heading(cmd: &clap::Command) -> Vec<String> {
        cmd.get_arguments()
            .filter(|a| !a.is_hide_set() && !a.is_positional())
            .filter(|a| !matches!(a.get_id().as_str(), "help" | "version"))
            .filter(|a| a.get_help_heading().is_none())
            .map(|a| a.get_id().to_string())
            .collect()
    }

    fn built() -> clap::Command {
        let mut cmd = Cli::command();
        cmd.build();
        cmd
    }

    #[test]
    fn every_argument_has_help() {
        let mut missing = Vec::new();
        missing_help(&built(), "scimreplay", &mut missing);
        assert!(
            missing.is_empty(),
            "arguments without help text: {missing:#?}"
        );
    }

    #[test]
    fn the_walk_sees_an_argument_without_help() {
        let cmd = clap::Command::new("x")
            .arg(clap::Arg::new("bare").long("bare"))
            .arg(clap::Arg::new("empty").long("empty").help("  "))
            .subcommand(clap::Command::new("sub").arg(clap::Arg::new("deep").long("deep")));
        let mut missing = Vec::new();
        missing_help(&cmd, "x", &mut missing);
        assert_eq!(
            missing,
            ["x bare", "x empty", "x sub (subcommand)", "x sub deep"]
        );
    }

    #[test]
    fn every_flag_of_run_sits_under_a_heading() {
        let cmd = built();
        let run = cmd.find_subcommand("run").expect("a run subcommand");
        assert_eq!(without_heading(run), Vec::<String>::new());
        // The credential flags are one group wherever they appear.
        for name in ["run", "cleanup", "load"] {
            let sub = cmd.find_subcommand(name).unwrap();
            for id in [
                "token_env",
                "oauth_token_url",
                "oauth_client_id",
                "oauth_secret_env",
            ] {
                let arg = sub.get_arguments().find(|a| a.get_id() == id);
                let heading = arg.and_then(|a| a.get_help_heading());
                assert_eq!(heading, Some("Authentication"), "{name} --{id}");
            }
        }
    }

    #[test]
    fn the_heading_check_sees_a_flag_without_one() {
        let mut cmd = clap::Command::new("x")
            .arg(
                clap::Arg::new("grouped")
                    .long("grouped")
                    .help_heading("Target"),
            )
            .arg(clap::Arg::new("loose").long("loose"));
        cmd.build();
        assert_eq!(without_heading(&cmd), ["loose"]);
    }
}
