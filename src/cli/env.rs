//! The environment, captured once at start-up so that nothing else reads `std::env`.

use std::collections::BTreeMap;
use std::io::IsTerminal;

/// What the process was started with, besides its flags.
#[derive(Clone, Debug, Default)]
pub struct Environment {
    vars: BTreeMap<String, String>,
    pub stdout_is_terminal: bool,
    pub stdin_is_terminal: bool,
}

impl Environment {
    /// Reads the real process environment.
    pub fn capture() -> Environment {
        Environment {
            vars: std::env::vars().collect(),
            stdout_is_terminal: std::io::stdout().is_terminal(),
            stdin_is_terminal: std::io::stdin().is_terminal(),
        }
    }

    /// A fixed environment, for tests.
    pub fn fixed(vars: &[(&str, &str)], terminal: bool) -> Environment {
        Environment {
            vars: vars
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            stdout_is_terminal: terminal,
            stdin_is_terminal: terminal,
        }
    }

    pub fn var(&self, name: &str) -> Option<&str> {
        self.vars
            .get(name)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    }

    /// The proxies named by `HTTPS_PROXY`, `HTTP_PROXY`, `ALL_PROXY` and `NO_PROXY`.
    pub fn proxies(&self) -> Result<crate::http::ProxySettings, String> {
        crate::http::ProxySettings::from_vars(|name| self.var(name))
    }

    /// Running under CI (`CI` set to anything but `false`/`0`).
    pub fn in_ci(&self) -> bool {
        self.var("CI").is_some_and(|v| v != "false" && v != "0")
    }

    /// Colour decision: the flag, then `NO_COLOR` / `CLICOLOR_FORCE`, then the terminal.
    pub fn color(&self, choice: super::args::ColorChoice) -> bool {
        use super::args::ColorChoice;
        match choice {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => {
                if self.var("NO_COLOR").is_some() {
                    false
                } else if self.var("CLICOLOR_FORCE").is_some_and(|v| v != "0") {
                    true
                } else {
                    self.stdout_is_terminal
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::args::ColorChoice;
    use super::*;

    #[test]
    fn colour_follows_flag_then_env_then_terminal() {
        let tty = Environment::fixed(&[], true);
        assert!(tty.color(ColorChoice::Auto));
        assert!(!tty.color(ColorChoice::Never));
        let no_color = Environment::fixed(&[("NO_COLOR", "1")], true);
        assert!(!no_color.color(ColorChoice::Auto));
        assert!(no_color.color(ColorChoice::Always));
        let forced = Environment::fixed(&[("CLICOLOR_FORCE", "1")], false);
        assert!(forced.color(ColorChoice::Auto));
        assert!(!Environment::fixed(&[], false).color(ColorChoice::Auto));
    }

    #[test]
    fn ci_detection_ignores_false() {
        assert!(Environment::fixed(&[("CI", "true")], false).in_ci());
        assert!(!Environment::fixed(&[("CI", "false")], false).in_ci());
        assert!(!Environment::fixed(&[], false).in_ci());
    }
}
