//! Importers: other tools' records of SCIM traffic turned into ordinary scenario files.
//!
//! `validator` reads Microsoft SCIM Validator results exports and `validator_plan` turns each
//! test into a scenario (steps the export leaves out synthesized); `har` reads HAR 1.2
//! files; `provisioning_logs` reads Entra's provisioning logs, which hold values and intent
//! rather than requests, into `directory` + `entra` steps rendered by the Entra model. The
//! Validator and HAR importers produce [`RawExchange`](crate::record::raw::RawExchange)s and go
//! through the recorder's converter, so captures, `{{run.prefix}}` names and the guard work
//! the same for every source.

pub mod har;
pub mod provisioning_logs;
pub mod validator;
pub mod validator_plan;

use thiserror::Error;

/// Bad input: names the file, the place in it and what was expected.
#[derive(Debug, Error)]
pub enum ImportError {
    #[error("{file}: failed to read: {message}")]
    Read { file: String, message: String },
    #[error("{file}:{line}:{column}: not valid JSON ({message})")]
    Syntax {
        file: String,
        line: usize,
        column: usize,
        message: String,
    },
    #[error("{file}: at {pointer}: {message}")]
    At {
        file: String,
        pointer: String,
        message: String,
    },
}

impl ImportError {
    pub fn syntax(file: &str, e: &serde_json::Error) -> ImportError {
        let message = if e.is_eof() {
            "the file ends early; is it truncated?".to_string()
        } else {
            e.to_string()
        };
        ImportError::Syntax {
            file: file.to_string(),
            line: e.line(),
            column: e.column(),
            message,
        }
    }

    pub fn at(file: &str, pointer: &str, message: &str) -> ImportError {
        ImportError::At {
            file: file.to_string(),
            pointer: pointer.to_string(),
            message: message.to_string(),
        }
    }
}

/// Reads an input file as text.
pub fn read(path: &std::path::Path) -> Result<String, ImportError> {
    std::fs::read_to_string(path).map_err(|e| ImportError::Read {
        file: path.display().to_string(),
        message: e.to_string(),
    })
}

/// The SCIM base of a request URL: everything before its `/Users`, `/Groups` or discovery
/// segment (the whole origin when there is none).
pub fn scim_base(url: &str) -> String {
    let path_start = url
        .find("://")
        .map(|i| i + 3)
        .and_then(|i| url[i..].find('/').map(|j| i + j));
    let Some(start) = path_start else {
        return url.to_string();
    };
    let path = url[start..].split(['?', '#']).next().unwrap_or_default();
    let lower = path.to_ascii_lowercase();
    let cut = [
        "/users",
        "/groups",
        "/schemas",
        "/serviceproviderconfig",
        "/resourcetypes",
    ]
    .iter()
    .filter_map(|c| {
        lower
            .rfind(&format!("{c}/"))
            .or_else(|| lower.ends_with(c).then(|| lower.len() - c.len()))
    })
    .max();
    match cut {
        Some(i) => url[..start + i].to_string(),
        None => url[..start].to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_scim_base_is_what_precedes_the_resource() {
        assert_eq!(
            scim_base("http://localhost:6000/scim/endpoints/x/Users?filter=a"),
            "http://localhost:6000/scim/endpoints/x"
        );
        assert_eq!(scim_base("https://h/scim/Groups/42"), "https://h/scim");
        assert_eq!(scim_base("https://h/Users"), "https://h");
        assert_eq!(scim_base("https://h/other"), "https://h");
    }
}
