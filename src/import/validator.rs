//! Reading a Microsoft SCIM Validator results export: its tests, and the raw request strings
//! each holds (`<METHOD> <URL> 1.1\r\nHost: …\r\n[Content-Type: …\r\n][<body>\r\n]`).
//!
//! Json.NET writes `$id` on every object and may write `{"$ref": "N"}` for an object already
//! written; references are resolved before anything else reads the document.

use super::ImportError;
use serde_json::{Map, Value};
use std::collections::HashMap;

/// The four lists of an export, in the order they are read.
pub const SECTIONS: [&str; 4] = ["PassedTests", "FailedTests", "Warnings", "PreviewTests"];

/// One recorded request and its answer.
#[derive(Clone, Debug, PartialEq)]
pub struct Request {
    pub method: String,
    pub url: String,
    pub body: Option<String>,
    pub status: Option<u16>,
    pub response_headers: Vec<(String, String)>,
    pub response_body: Option<String>,
}

/// One Validator test.
#[derive(Clone, Debug, PartialEq)]
pub struct Test {
    /// `PassedTests`, `FailedTests`, `Warnings` or `PreviewTests`.
    pub section: &'static str,
    /// Position in its section, from 0.
    pub index: usize,
    /// The endpoint label, e.g. `PATCH /Users/Id`.
    pub name: String,
    /// The test name (or, when its setup failed, an error text).
    pub description: String,
    pub passed: bool,
    pub setup: Vec<Request>,
    pub last: Request,
    /// Assertion messages with whether each passed.
    pub results: Vec<(String, bool)>,
}

impl Test {
    /// Where the test sits in the export, for messages: `/results/data/FailedTests/3`.
    pub fn pointer(&self) -> String {
        format!("/results/data/{}/{}", self.section, self.index)
    }
}

/// Parses an export into its tests.
pub fn parse(file: &str, text: &str) -> Result<Vec<Test>, ImportError> {
    let doc: Value = serde_json::from_str(text).map_err(|e| ImportError::syntax(file, &e))?;
    let doc = resolve_refs(&doc);
    let Some(data) = doc.pointer("/results/data").and_then(Value::as_object) else {
        return Err(ImportError::at(
            file,
            "/results/data",
            "not a SCIM Validator results export: expected an object at `results.data` holding \
             `PassedTests`, `FailedTests`, `Warnings` and `PreviewTests`",
        ));
    };
    if !SECTIONS
        .iter()
        .any(|s| data.get(*s).is_some_and(Value::is_array))
    {
        return Err(ImportError::at(
            file,
            "/results/data",
            "not a SCIM Validator results export: none of `PassedTests`, `FailedTests`, \
             `Warnings`, `PreviewTests` is a list",
        ));
    }
    let mut tests = Vec::new();
    for section in SECTIONS {
        let list = match data.get(section) {
            None | Some(Value::Null) => continue,
            Some(Value::Array(list)) => list,
            Some(_) => {
                return Err(ImportError::at(
                    file,
                    &format!("/results/data/{section}"),
                    "expected a list of tests",
                ));
            }
        };
        for (index, test) in list.iter().enumerate() {
            let pointer = format!("/results/data/{section}/{index}");
            tests.push(test_of(file, &pointer, section, index, test)?);
        }
    }
    Ok(tests)
}

fn string_at<'a>(
    file: &str,
    pointer: &str,
    test: &'a Value,
    key: &str,
) -> Result<&'a str, ImportError> {
    test.get(key)
        .and_then(Value::as_str)
        .ok_or_else(|| ImportError::at(file, &format!("{pointer}/{key}"), "expected a string"))
}

fn strings(test: &Value, key: &str) -> Vec<Option<String>> {
    test.get(key)
        .and_then(Value::as_array)
        .map(|items| {
            items
                .iter()
                .map(|v| v.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

fn test_of(
    file: &str,
    pointer: &str,
    section: &'static str,
    index: usize,
    test: &Value,
) -> Result<Test, ImportError> {
    if !test.is_object() {
        return Err(ImportError::at(file, pointer, "expected a test object"));
    }
    let name = string_at(file, pointer, test, "Name")?.to_string();
    let description = string_at(file, pointer, test, "Description")?.to_string();
    let request = string_at(file, pointer, test, "RequestBody")?;
    let status = string_at(file, pointer, test, "ResponseStatus")?;
    let mut last = request_of(file, &format!("{pointer}/RequestBody"), request)?;
    last.status = status_of(status);
    if last.status.is_none() {
        return Err(ImportError::at(
            file,
            &format!("{pointer}/ResponseStatus"),
            "expected `<code> <name>`, e.g. `201 Created`",
        ));
    }
    last.response_headers = test
        .get("ResponseHeaders")
        .and_then(Value::as_str)
        .map(headers_of)
        .unwrap_or_default();
    last.response_body = test
        .get("ResponseBody")
        .and_then(Value::as_str)
        .map(str::to_string);
    let bodies = strings(test, "InitialRequestBodies");
    let statuses = strings(test, "InitialResponseStatuses");
    let responses = strings(test, "InitialResponses");
    let mut setup = Vec::new();
    for (i, raw) in bodies.iter().enumerate() {
        let place = format!("{pointer}/InitialRequestBodies/{i}");
        let raw = raw
            .as_deref()
            .ok_or_else(|| ImportError::at(file, &place, "expected a string"))?;
        let mut r = request_of(file, &place, raw)?;
        r.status = statuses
            .get(i)
            .cloned()
            .flatten()
            .as_deref()
            .and_then(status_of);
        r.response_body = responses.get(i).cloned().flatten();
        setup.push(r);
    }
    let results = test
        .get("Results")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|r| {
            let message = r.get("Message")?.as_str()?.to_string();
            Some((message, r.get("Outcome").and_then(Value::as_i64) == Some(0)))
        })
        .collect();
    Ok(Test {
        section,
        index,
        name,
        description,
        passed: test
            .get("HasTestPassed")
            .and_then(Value::as_bool)
            .unwrap_or(section == "PassedTests"),
        setup,
        last,
        results,
    })
}

/// `"201 Created"` → 201.
fn status_of(text: &str) -> Option<u16> {
    text.split_whitespace()
        .next()?
        .parse()
        .ok()
        .filter(|s| (100..600).contains(s))
}

/// Raw `Name: value\r\n` lines.
fn headers_of(text: &str) -> Vec<(String, String)> {
    text.lines()
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .filter(|(k, _)| !k.is_empty())
        .collect()
}

/// Parses one raw request string of the export.
pub fn request_of(file: &str, pointer: &str, raw: &str) -> Result<Request, ImportError> {
    let mut lines = raw.split("\r\n").flat_map(|l| l.split('\n'));
    let first = lines.next().unwrap_or_default();
    let mut parts = first.split(' ');
    let (Some(method), Some(url)) = (parts.next(), parts.next()) else {
        return Err(ImportError::at(
            file,
            pointer,
            "expected `<METHOD> <URL> 1.1` on the first line",
        ));
    };
    if !method.chars().all(|c| c.is_ascii_uppercase())
        || !(url.starts_with("http://") || url.starts_with("https://"))
    {
        return Err(ImportError::at(
            file,
            pointer,
            &format!(
                "expected `<METHOD> <URL> 1.1` on the first line, found `{}`",
                first.chars().take(80).collect::<String>()
            ),
        ));
    }
    let mut body = Vec::new();
    let mut in_body = false;
    for line in lines {
        if !in_body && (line.starts_with('{') || line.starts_with('[')) {
            in_body = true;
        }
        if in_body {
            body.push(line);
        }
    }
    let body = body.join("\n").trim().to_string();
    Ok(Request {
        method: method.to_string(),
        url: url.to_string(),
        body: (!body.is_empty()).then_some(body),
        status: None,
        response_headers: Vec::new(),
        response_body: None,
    })
}

/// Replaces every `{"$ref": "N"}` with the object whose `$id` is N (a reference cycle, or
/// one to an unknown id, is left as it is).
fn resolve_refs(doc: &Value) -> Value {
    let mut ids = HashMap::new();
    collect_ids(doc, &mut ids);
    resolve(doc, &ids, 0)
}

fn collect_ids<'a>(value: &'a Value, ids: &mut HashMap<String, &'a Value>) {
    match value {
        Value::Object(map) => {
            if let Some(id) = map.get("$id").and_then(Value::as_str) {
                ids.insert(id.to_string(), value);
            }
            map.values().for_each(|v| collect_ids(v, ids));
        }
        Value::Array(items) => items.iter().for_each(|v| collect_ids(v, ids)),
        _ => {}
    }
}

fn resolve(value: &Value, ids: &HashMap<String, &Value>, depth: usize) -> Value {
    if depth > 64 {
        return value.clone();
    }
    match value {
        Value::Object(map) => {
            if let (Some(target), 1) = (map.get("$ref").and_then(Value::as_str), map.len()) {
                if let Some(found) = ids.get(target) {
                    return resolve(found, ids, depth + 1);
                }
            }
            let out: Map<String, Value> = map
                .iter()
                .map(|(k, v)| (k.clone(), resolve(v, ids, depth + 1)))
                .collect();
            Value::Object(out)
        }
        Value::Array(items) => {
            Value::Array(items.iter().map(|v| resolve(v, ids, depth + 1)).collect())
        }
        other => other.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_request_grammar_of_the_export() {
        let raw = "PATCH http://h:6000/scim/Users/abc 1.1\r\nHost: h\r\nContent-Type: application/scim+json; charset=utf-8\r\n{\"schemas\":[]}\r\n";
        let r = request_of("f", "/p", raw).unwrap();
        assert_eq!(
            (r.method.as_str(), r.url.as_str()),
            ("PATCH", "http://h:6000/scim/Users/abc")
        );
        assert_eq!(r.body.as_deref(), Some("{\"schemas\":[]}"));
        let get = request_of(
            "f",
            "/p",
            "GET http://h/scim/Users?filter=userName+eq+\"a\" 1.1\r\nHost: h\r\n",
        )
        .unwrap();
        assert_eq!(get.body, None);
        let bad =
            request_of("f.json", "/results/data/PassedTests/0/RequestBody", "hello").unwrap_err();
        assert!(
            bad.to_string().contains(
                "f.json: at /results/data/PassedTests/0/RequestBody: expected `<METHOD> <URL> 1.1`"
            ),
            "{bad}"
        );
    }

    #[test]
    fn references_are_resolved_and_other_documents_refused() {
        let text = r#"{"results": {"$id": "1", "data": {"$id": "2",
            "PassedTests": [{"$id": "3", "Name": "POST /Users", "Description": "Create a new User",
              "RequestBody": "GET http://h/scim/Users 1.1\r\nHost: h\r\n", "ResponseStatus": "200 OK",
              "Results": [{"$id": "4", "Message": "m", "Outcome": 0}]}],
            "FailedTests": [{"$ref": "3"}]}}}"#;
        let tests = parse("f", text).unwrap();
        assert_eq!(tests.len(), 2);
        assert_eq!(tests[1].description, "Create a new User");
        assert_eq!(tests[1].section, "FailedTests");
        assert_eq!(tests[0].results, vec![("m".to_string(), true)]);
        let e = parse("har.json", r#"{"log": {"entries": []}}"#).unwrap_err();
        assert!(
            e.to_string()
                .starts_with("har.json: at /results/data: not a SCIM Validator results export"),
            "{e}"
        );
        let e = parse(
            "cut.json",
            r#"{"results": {"data": {"PassedTests": [{"Name": "#,
        )
        .unwrap_err();
        assert!(e.to_string().starts_with("cut.json:1:"), "{e}");
        let e = parse("f", r#"{"results": {"data": {"PassedTests": [{"Name": "x", "Description": "d", "RequestBody": "GET http://h/Users 1.1", "ResponseStatus": "OK"}]}}}"#).unwrap_err();
        assert!(
            e.to_string()
                .contains("/results/data/PassedTests/0/ResponseStatus"),
            "{e}"
        );
    }
}
