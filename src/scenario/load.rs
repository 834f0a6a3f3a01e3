//! Loading scenario files: text → validated `Scenario`, every problem located at
//! file:line:column with its step and JSON pointer.
//!
//! serde_json parses (its syntax errors carry line:column); `validate` checks the document
//! and reports by pointer; `locate` maps pointers back to the text. Files are read in a
//! sorted order so that runs, reports and errors are deterministic.

use super::error::{ScenarioError, ScenarioErrors};
use super::locate::Locator;
use super::model::{Origin, Scenario};
use super::validate::{self, Issue, Target};
use serde_json::Value;
use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};

/// One scenario file's text and how to name it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SourceFile {
    /// Display path, used in errors and reports.
    pub file: String,
    pub text: String,
    /// True for the catalogue compiled into the binary.
    pub builtin: bool,
}

/// Parses and validates one file, reporting as many problems as it can find.
pub fn parse_scenario(file: &str, source: &str, builtin: bool) -> Result<Scenario, ScenarioErrors> {
    let doc: Value = match serde_json::from_str(source) {
        Ok(doc) => doc,
        Err(e) => return Err(syntax_error(file, source, &e).into()),
    };
    let locator = Locator::new(source);
    let mut issues = duplicate_key_issues(&locator, &doc);
    let scenario = match validate::scenario(&doc) {
        Ok(s) => Some(s),
        Err(more) => {
            issues.extend(more);
            None
        }
    };
    match scenario {
        Some(mut s) if issues.is_empty() => {
            s.origin = Origin {
                file: file.to_string(),
                builtin,
            };
            Ok(s)
        }
        _ => {
            let mut errors: Vec<ScenarioError> =
                issues.iter().map(|i| locate(file, &locator, i)).collect();
            errors.sort_by_key(|e| (e.line, e.column));
            Err(errors.into())
        }
    }
}

/// Parses a JSON document of another kind (a mapping profile) with the same located
/// syntax and duplicate-key errors as a scenario file.
pub(crate) fn parse_document(file: &str, source: &str) -> Result<Value, ScenarioErrors> {
    let doc: Value = serde_json::from_str(source).map_err(|e| syntax_error(file, source, &e))?;
    let locator = Locator::new(source);
    let issues = duplicate_key_issues(&locator, &doc);
    if issues.is_empty() {
        Ok(doc)
    } else {
        Err(locate_all(file, source, &issues))
    }
}

/// Turns pointer-located issues found in `source` into file-located errors, in file order.
pub(crate) fn locate_all(file: &str, source: &str, issues: &[Issue]) -> ScenarioErrors {
    let locator = Locator::new(source);
    let mut errors: Vec<ScenarioError> = issues.iter().map(|i| locate(file, &locator, i)).collect();
    errors.sort_by_key(|e| (e.line, e.column));
    errors.into()
}

/// Parses every source, then checks that scenario names are unique across them.
pub fn load_sources(sources: &[SourceFile]) -> Result<Vec<Scenario>, ScenarioErrors> {
    let mut scenarios = Vec::with_capacity(sources.len());
    let mut errors = Vec::new();
    for source in sources {
        match parse_scenario(&source.file, &source.text, source.builtin) {
            Ok(s) => scenarios.push(s),
            Err(e) => errors.extend(e.into_vec()),
        }
    }
    if let Err(e) = check_unique(&scenarios) {
        errors.extend(e.into_vec());
    }
    if errors.is_empty() {
        Ok(scenarios)
    } else {
        Err(errors.into())
    }
}

/// Loads files and folders (recursively, `*.json`, sorted by path).
pub fn load_paths(paths: &[PathBuf]) -> Result<Vec<Scenario>, ScenarioErrors> {
    let mut sources = Vec::new();
    let mut errors = Vec::new();
    for path in paths {
        let files = match collect_files(path) {
            Ok(files) => files,
            Err(e) => {
                errors.push(*e);
                continue;
            }
        };
        for file in files {
            let display = file.display().to_string();
            match std::fs::read_to_string(&file) {
                Ok(text) => sources.push(SourceFile {
                    file: display,
                    text,
                    builtin: false,
                }),
                Err(e) => errors.push(ScenarioError::whole_file(
                    display,
                    format!("failed to read scenario file: {e}"),
                )),
            }
        }
    }
    match load_sources(&sources) {
        Ok(scenarios) if errors.is_empty() => Ok(scenarios),
        Ok(_) => Err(errors.into()),
        Err(more) => {
            errors.extend(more.into_vec());
            Err(errors.into())
        }
    }
}

/// Scenario names must be unique: they name snapshot files and select scenarios. The error
/// points at the later file's `name` and names the earlier file.
pub fn check_unique(scenarios: &[Scenario]) -> Result<(), ScenarioErrors> {
    let mut first: BTreeMap<&str, &Scenario> = BTreeMap::new();
    let mut errors = Vec::new();
    for s in scenarios {
        match first.get(s.name.as_str()) {
            Some(earlier) => errors.push(duplicate_name(s, earlier)),
            None => {
                first.insert(&s.name, s);
            }
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors.into())
    }
}

fn duplicate_name(later: &Scenario, earlier: &Scenario) -> ScenarioError {
    let mut e = ScenarioError::whole_file(
        later.origin.file.clone(),
        format!(
            "duplicate scenario name `{}`: `{}` has it too",
            later.name, earlier.origin.file
        ),
    );
    e.pointer = "/name".into();
    e.hint = Some("scenario names must be unique; rename one of them".into());
    // The model keeps no positions, so read the text again to point at the name.
    if let Some(text) = source_text(&later.origin) {
        let locator = Locator::new(&text);
        if let Some(node) = locator.node("/name") {
            let pos = locator.position(&node.value);
            e.line = pos.line;
            e.column = pos.column;
            e.source_line = Some(pos.line_text);
            e.span = pos.span;
        }
    }
    e
}

fn source_text(origin: &Origin) -> Option<String> {
    if origin.builtin {
        super::builtin::source(&origin.file).map(str::to_string)
    } else {
        std::fs::read_to_string(&origin.file).ok()
    }
}

/// The `*.json` files a path names: itself, or those under it (sorted).
fn collect_files(path: &Path) -> Result<Vec<PathBuf>, Box<ScenarioError>> {
    let display = path.display().to_string();
    let meta = std::fs::metadata(path).map_err(|e| {
        Box::new(ScenarioError::whole_file(
            &display,
            format!("failed to read scenario path: {e}"),
        ))
    })?;
    if !meta.is_dir() {
        return Ok(vec![path.to_path_buf()]);
    }
    let mut files = Vec::new();
    walk(path, &mut files, &mut HashSet::new())?;
    files.sort();
    if files.is_empty() {
        let mut e = ScenarioError::whole_file(&display, "no scenario files in this folder");
        e.hint = Some("scenario files end in `.json`".into());
        return Err(Box::new(e));
    }
    Ok(files)
}

/// Collects `*.json` files under `dir`. A folder reached twice (a symlink loop, or two links
/// to one folder) is read once: `seen` holds the canonical folders already walked.
fn walk(
    dir: &Path,
    files: &mut Vec<PathBuf>,
    seen: &mut HashSet<PathBuf>,
) -> Result<(), Box<ScenarioError>> {
    if let Ok(canonical) = std::fs::canonicalize(dir) {
        if !seen.insert(canonical) {
            return Ok(());
        }
    }
    let fail = |e: std::io::Error| {
        Box::new(ScenarioError::whole_file(
            dir.display().to_string(),
            format!("failed to read scenario folder: {e}"),
        ))
    };
    for entry in std::fs::read_dir(dir).map_err(fail)? {
        let path = entry.map_err(fail)?.path();
        if path.is_dir() {
            walk(&path, files, seen)?;
        } else if path.extension().is_some_and(|x| x == "json") {
            files.push(path);
        }
    }
    Ok(())
}

/// A JSON syntax error, located by serde_json.
fn syntax_error(file: &str, source: &str, e: &serde_json::Error) -> ScenarioError {
    let full = e.to_string();
    let message = full
        .rfind(" at line ")
        .map_or(full.as_str(), |i| &full[..i]);
    let mut err = ScenarioError::whole_file(file, format!("invalid JSON: {message}"));
    err.line = e.line().max(1);
    let line = source.lines().nth(err.line - 1).unwrap_or("");
    // serde_json counts columns in bytes; errors are located in characters.
    err.column = char_column(line, e.column());
    err.source_line = Some(line.to_string());
    err.span = 1;
    err.hint = match message {
        "trailing comma" => Some("JSON allows no comma before `}` or `]`".into()),
        m if m.starts_with("key must be a string") => {
            Some("JSON keys are double-quoted strings".into())
        }
        m if m.starts_with("EOF while parsing") => {
            Some("the file ends early: a bracket or quote is not closed".into())
        }
        _ => None,
    };
    err
}

/// The 1-based character column of the 1-based byte column `byte_column` in `line`.
fn char_column(line: &str, byte_column: usize) -> usize {
    let mut end = byte_column.saturating_sub(1).min(line.len());
    while !line.is_char_boundary(end) {
        end -= 1;
    }
    line[..end].chars().count() + 1
}

/// serde_json keeps the last of repeated keys; a repeat is almost always a mistake.
fn duplicate_key_issues(locator: &Locator, doc: &Value) -> Vec<Issue> {
    locator
        .duplicates()
        .iter()
        .map(|(pointer, _)| Issue {
            pointer: pointer.clone(),
            target: Target::Key,
            step: step_of(doc, pointer),
            message: format!("duplicate key `{}`", last_token(pointer)),
            hint: Some("each key may appear once per object; the later one would win".into()),
        })
        .collect()
}

fn step_of(doc: &Value, pointer: &str) -> Option<String> {
    let rest = pointer.strip_prefix("/steps/")?;
    let index = rest.split('/').next()?;
    doc.pointer(&format!("/steps/{index}/id"))?
        .as_str()
        .map(str::to_string)
}

fn last_token(pointer: &str) -> String {
    let token = pointer.rsplit('/').next().unwrap_or("");
    token.replace("~1", "/").replace("~0", "~")
}

/// Turns a pointer-located issue into a file-located error. A pointer with no node (it
/// should not happen) falls back to its nearest ancestor.
fn locate(file: &str, locator: &Locator, issue: &Issue) -> ScenarioError {
    let mut pointer = issue.pointer.as_str();
    let node = loop {
        if let Some(node) = locator.node(pointer) {
            break Some(node);
        }
        match pointer.rfind('/') {
            Some(i) => pointer = &pointer[..i],
            None => break None,
        }
    };
    let span = node.map(|node| match &issue.target {
        Target::Value => node.value.clone(),
        Target::Key => node.key.clone().unwrap_or_else(|| node.value.clone()),
        Target::Text { key, chars } => {
            let token = if *key { node.key.as_ref() } else { None };
            let start = token.unwrap_or(&node.value).start;
            locator.offset_in_string(start, chars.start)..locator.offset_in_string(start, chars.end)
        }
    });
    let position = span.map(|s| locator.position(&s));
    ScenarioError {
        file: file.to_string(),
        line: position.as_ref().map_or(0, |p| p.line),
        column: position.as_ref().map_or(0, |p| p.column),
        step: issue.step.clone(),
        pointer: issue.pointer.clone(),
        message: issue.message.clone(),
        hint: issue.hint.clone(),
        span: position.as_ref().map_or(0, |p| p.span),
        source_line: position.map(|p| p.line_text),
    }
}

#[cfg(test)]
pub(crate) mod testing {
    //! Helpers for the error tests beside each validation file.
    use super::*;

    /// The errors of a source that must fail to load.
    pub fn errors(source: &str) -> Vec<ScenarioError> {
        match parse_scenario("t.json", source, false) {
            Ok(s) => panic!("expected errors, loaded {s:?}"),
            Err(e) => e.into_vec(),
        }
    }

    /// The single error of a source.
    pub fn error(source: &str) -> ScenarioError {
        let mut all = errors(source);
        assert_eq!(all.len(), 1, "expected one error, got {all:#?}");
        all.remove(0)
    }

    /// 1-based line and column of the first occurrence of `needle` (which the test makes
    /// unique), to say where an error must point without counting by hand.
    pub fn at(source: &str, needle: &str) -> (usize, usize) {
        let offset = source.find(needle).expect("needle in source");
        let before = &source[..offset];
        let line = before.matches('\n').count() + 1;
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        (line, source[line_start..offset].chars().count() + 1)
    }

    /// Asserts the single error of `source`: its message, that it points at the first
    /// occurrence of `needle`, and its hint.
    pub fn expect_error(
        source: &str,
        needle: &str,
        message: &str,
        hint: Option<&str>,
    ) -> ScenarioError {
        let e = error(source);
        assert_eq!(e.message, message, "{e:#?}");
        assert_eq!((e.line, e.column), at(source, needle), "position of {e:#?}");
        assert_eq!(e.hint.as_deref(), hint, "{e:#?}");
        e
    }

    /// A valid scenario whose single step is `step` (a JSON fragment).
    pub fn with_step(step: &str) -> String {
        format!(
            "{{\n  \"name\": \"t\",\n  \"summary\": \"s\",\n  \"dialect\": \"any\",\n  \"vars\": {{ \"domain\": \"example.com\" }},\n  \"steps\": [\n    {step}\n  ]\n}}\n"
        )
    }
}

#[cfg(test)]
mod tests {
    use super::testing::*;
    use super::*;
    use crate::scenario::model::{CaptureSource, Dialect, Method, Predicate, QueryParam};

    const VALID: &str = r#"{
  "name": "user-create",
  "summary": "create a user",
  "dialect": "default",
  "tags": ["users"],
  "vars": { "domain": "example.com" },
  "steps": [
    { "id": "create",
      "request": { "method": "POST", "path": "/Users",
                   "query": { "z": "1", "a": "{{domain}}", "n": 5 },
                   "body": { "userName": "{{run.prefix}}a@{{domain}}" } },
      "expect": { "status": [200, 201], "json": [ { "pointer": "/active", "absent": true } ] },
      "capture": { "user_id": "/id", "where": "header:Location" } },
    { "id": "read", "request": { "method": "GET", "path": "/Users/{{user_id}}" } }
  ]
}"#;

    #[test]
    fn a_valid_file_becomes_the_model() {
        let s = parse_scenario("a.json", VALID, true).expect("valid");
        assert_eq!(s.name, "user-create");
        assert_eq!(s.dialect, Dialect::Default);
        assert_eq!(
            s.origin,
            Origin {
                file: "a.json".into(),
                builtin: true
            }
        );
        let create = &s.steps[0];
        assert_eq!(create.request.method, Method::Post);
        let query: Vec<QueryParam> = ["z", "a", "n"]
            .iter()
            .zip(["1", "{{domain}}", "5"])
            .map(|(n, v)| QueryParam {
                name: n.to_string(),
                value: v.to_string(),
            })
            .collect();
        assert_eq!(create.request.query, query, "query keeps the file's order");
        assert_eq!(create.expect.status, vec![200, 201]);
        assert_eq!(create.expect.json[0].predicate, Predicate::Absent);
        assert_eq!(
            create.capture["where"],
            CaptureSource::Header("Location".into())
        );
        assert!(s.steps[1].expect.status.is_empty(), "no status means any");
    }

    #[test]
    fn the_documented_example_loads() {
        let doc = include_str!("../../docs/scenario-format.md");
        let start = doc.find("## A complete example").expect("example section");
        let body = &doc[start..];
        let open = body.find("```json\n").expect("json block") + "```json\n".len();
        let close = body[open..].find("```").expect("closed block");
        let s = parse_scenario("docs", &body[open..open + close], false)
            .unwrap_or_else(|e| panic!("the documented example has errors:\n{e}"));
        assert_eq!(s.name, "user-disable-default");
        assert_eq!(s.steps.len(), 3);
    }

    #[test]
    fn damaged_files_never_panic_and_always_locate_their_errors() {
        // About a hundred cut points per file keeps this quick as the catalogue grows; the
        // fuzz target explores the rest.
        for (_, text) in crate::scenario::builtin::files() {
            let stride = (text.len() / 100).max(3);
            for (i, c) in text.char_indices().step_by(stride) {
                let deleted = format!("{}{}", &text[..i], &text[i + c.len_utf8()..]);
                let braced = format!("{}{{{{{}", &text[..i], &text[i..]);
                for damaged in [&text[..i], deleted.as_str(), braced.as_str()] {
                    if let Err(errs) = parse_scenario("d.json", damaged, false) {
                        assert!(!errs.is_empty());
                        for e in errs.errors() {
                            assert!(e.line >= 1 && e.column >= 1 && e.span >= 1, "{e:?}");
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn json_syntax_errors_are_located() {
        let src = "{\n  \"name\": \"x\",\n  \"steps\": [1,]\n}";
        let e = error(src);
        assert_eq!(e.message, "invalid JSON: trailing comma");
        assert_eq!((e.line, e.column), (3, 15), "at the `]` after the comma");
        assert_eq!(
            e.hint.as_deref(),
            Some("JSON allows no comma before `}` or `]`")
        );
        assert_eq!(e.source_line.as_deref(), Some("  \"steps\": [1,]"));
        let e = error("{\n  \"name\": \"x\"");
        assert!(
            e.message.starts_with("invalid JSON: EOF while parsing"),
            "{e:?}"
        );
        assert_eq!(e.line, 2);
        let e = error("");
        assert_eq!((e.line, e.column), (1, 1));
        // Columns count characters, not the bytes serde_json counts.
        let e = error("{\"summary\": \"§§§\",]");
        assert_eq!((e.line, e.column), (1, 19), "{e:?}");
    }

    #[test]
    fn a_document_that_is_not_an_object_is_refused() {
        expect_error(
            "[1, 2]",
            "[",
            "expected a scenario (a JSON object), found an array",
            None,
        );
    }

    #[test]
    fn duplicate_keys_are_errors_at_the_second_key() {
        let src = with_step(
            r#"{ "id": "a", "request": { "method": "GET", "path": "/x", "path": "/y" } }"#,
        );
        let needle = r#""path": "/y""#;
        let e = expect_error(
            &src,
            needle,
            "duplicate key `path`",
            Some("each key may appear once per object; the later one would win"),
        );
        assert_eq!(e.step.as_deref(), Some("a"));
        assert_eq!(e.pointer, "/steps/0/request/path");
    }

    #[test]
    fn errors_come_sorted_by_position_with_excerpts() {
        let src = "{\n  \"nmae\": \"x\",\n  \"summary\": \"s\",\n  \"dialect\": \"nope\",\n  \"steps\": []\n}";
        let all = errors(src);
        let lines: Vec<usize> = all.iter().map(|e| e.line).collect();
        let mut sorted = lines.clone();
        sorted.sort();
        assert_eq!(lines, sorted);
        assert_eq!(all.len(), 4, "{all:#?}"); // missing name, unknown key, dialect, empty steps
        assert!(all.iter().all(|e| e.source_line.is_some() && e.span >= 1));
    }

    #[cfg(unix)]
    #[test]
    fn symlink_loops_under_a_scenario_folder_are_walked_once() {
        let scratch = temp_dir("loop");
        let dir = scratch.path().to_path_buf();
        std::fs::write(dir.join("a.json"), scenario_text("looped")).unwrap();
        std::fs::create_dir(dir.join("sub")).unwrap();
        // Two links back to the top: the old walk went 2^depth ways until paths got too long.
        std::os::unix::fs::symlink(&dir, dir.join("sub").join("up1")).unwrap();
        std::os::unix::fs::symlink(&dir, dir.join("sub").join("up2")).unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        let path = dir.clone();
        std::thread::spawn(move || {
            let _ = tx.send(
                load_paths(&[path])
                    .map(|s| s.len())
                    .map_err(|e| e.to_string()),
            );
        });
        let loaded = rx
            .recv_timeout(std::time::Duration::from_secs(20))
            .expect("the walk finishes");
        assert_eq!(loaded, Ok(1));
        let _ = std::fs::remove_dir_all(&dir);
    }

    fn temp_dir(tag: &str) -> tempfile::TempDir {
        tempfile::Builder::new()
            .prefix(&format!("scimreplay-load-{tag}-"))
            .tempdir()
            .expect("temp dir")
    }

    fn scenario_text(name: &str) -> String {
        with_step(r#"{ "id": "a", "request": { "method": "GET", "path": "/Users" } }"#)
            .replace("\"name\": \"t\"", &format!("\"name\": \"{name}\""))
    }

    #[test]
    fn folders_load_recursively_sorted_and_json_only() {
        let scratch = temp_dir("walk");
        let dir = scratch.path().to_path_buf();
        std::fs::create_dir_all(dir.join("b/deeper")).expect("mkdir");
        std::fs::write(dir.join("b/deeper/z.json"), scenario_text("z")).expect("write");
        std::fs::write(dir.join("b/a.json"), scenario_text("ba")).expect("write");
        std::fs::write(dir.join("a.json"), scenario_text("a")).expect("write");
        std::fs::write(dir.join("notes.md"), "not a scenario").expect("write");
        let loaded = load_paths(std::slice::from_ref(&dir)).expect("loads");
        let names: Vec<&str> = loaded.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["a", "ba", "z"]);
        assert!(loaded[2].origin.file.ends_with("z.json"));
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn missing_paths_and_empty_folders_are_named() {
        let scratch = temp_dir("missing");
        let dir = scratch.path().to_path_buf();
        let gone = dir.join("nope.json");
        let errs = load_paths(&[gone.clone(), dir.clone()])
            .expect_err("fails")
            .into_vec();
        assert_eq!(errs.len(), 2, "{errs:#?}");
        assert_eq!(errs[0].file, gone.display().to_string());
        assert!(
            errs[0].message.starts_with("failed to read scenario path"),
            "{errs:?}"
        );
        assert_eq!(errs[1].message, "no scenario files in this folder");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn duplicate_names_across_files_name_both() {
        let scratch = temp_dir("dups");
        let dir = scratch.path().to_path_buf();
        std::fs::write(dir.join("one.json"), scenario_text("same")).expect("write");
        std::fs::write(dir.join("two.json"), scenario_text("same")).expect("write");
        let errs = load_paths(std::slice::from_ref(&dir))
            .expect_err("dup")
            .into_vec();
        assert_eq!(errs.len(), 1);
        let e = &errs[0];
        assert!(e.file.ends_with("two.json"));
        assert!(
            e.message.contains("duplicate scenario name `same`"),
            "{e:?}"
        );
        assert!(e.message.contains("one.json"), "{e:?}");
        assert_eq!((e.line, e.column), at(&scenario_text("same"), "\"same\""));
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn check_unique_accepts_distinct_names() {
        let a = parse_scenario("a.json", &scenario_text("a"), false).expect("a");
        let b = parse_scenario("b.json", &scenario_text("b"), false).expect("b");
        assert!(check_unique(&[a.clone(), b]).is_ok());
        let errs = check_unique(&[a.clone(), a]).expect_err("dup");
        // `a.json` is not on disk: the error still names the files, without a position.
        assert_eq!(errs.errors()[0].line, 0);
    }
}
