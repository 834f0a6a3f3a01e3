//! `scimreplay review`: step through pending snapshots, showing each diff, and ask.
//!
//! Input and output are parameters so tests can script the answers; without a terminal the
//! review refuses rather than blocking a pipeline on a question nobody sees.

use super::SnapshotError;
use super::diff::render_diff;
use super::pending::{Filter, Pending, pending};
use super::store::Store;
use crate::report::styles::Styles;
use std::io::{BufRead, Write};

/// What a review did with each pending snapshot it showed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ReviewOutcome {
    pub accepted: Vec<Pending>,
    pub rejected: Vec<Pending>,
    /// Skipped by answer, or left when the input ended.
    pub skipped: Vec<Pending>,
}

enum Answer {
    Accept,
    Reject,
    Skip,
    /// End of input: stop asking.
    Quit,
}

/// Shows each matching pending snapshot's diff and asks `a`ccept / `r`eject / `s`kip.
pub fn review<R: BufRead, W: Write>(
    store: &Store,
    baseline: Option<&str>,
    filter: &Filter,
    mut input: R,
    mut output: W,
    is_terminal: bool,
    styles: Styles,
) -> Result<ReviewOutcome, SnapshotError> {
    if !is_terminal {
        return Err(SnapshotError::NotATerminal);
    }
    let all = pending(store, baseline, filter)?;
    let mut outcome = ReviewOutcome::default();
    if all.is_empty() {
        writeln!(output, "no pending snapshots").map_err(SnapshotError::Terminal)?;
        return Ok(outcome);
    }
    let total = all.len();
    let mut queue = all.into_iter().enumerate();
    while let Some((i, p)) = queue.next() {
        show(store, &p, i + 1, total, &mut output, styles)?;
        match ask(&mut input, &mut output, styles)? {
            Answer::Accept => {
                p.accept()?;
                outcome.accepted.push(p);
            }
            Answer::Reject => {
                p.reject()?;
                outcome.rejected.push(p);
            }
            Answer::Skip => outcome.skipped.push(p),
            Answer::Quit => {
                outcome.skipped.push(p);
                outcome.skipped.extend(queue.map(|(_, p)| p));
                break;
            }
        }
    }
    writeln!(
        output,
        "accepted {}, rejected {}, skipped {}",
        outcome.accepted.len(),
        outcome.rejected.len(),
        outcome.skipped.len()
    )
    .map_err(SnapshotError::Terminal)?;
    Ok(outcome)
}

fn show<W: Write>(
    store: &Store,
    p: &Pending,
    n: usize,
    total: usize,
    output: &mut W,
    styles: Styles,
) -> Result<(), SnapshotError> {
    let new = p.read()?;
    let old = store.read(&p.baseline, &p.scenario)?;
    let title = format!("{}/{}", p.baseline, p.scenario);
    let mut text = format!("\n{} ({n}/{total})\n", styles.bold(&title));
    match &old {
        Some(stored) => text.push_str(&format!(
            "{}\n",
            styles.dim(&format!(
                "old: {}  new: {}",
                stored.source.display(),
                p.path.display()
            ))
        )),
        None => text.push_str(&format!(
            "{}\n",
            styles.dim("new snapshot, no baseline yet")
        )),
    }
    let old_text = old.map(|s| s.text).unwrap_or_default();
    text.push_str(&render_diff(&old_text, &new, styles));
    output
        .write_all(text.as_bytes())
        .map_err(SnapshotError::Terminal)
}

fn ask<R: BufRead, W: Write>(
    input: &mut R,
    output: &mut W,
    styles: Styles,
) -> Result<Answer, SnapshotError> {
    loop {
        write!(
            output,
            "{}ccept, {}eject, {}kip? ",
            styles.pass("a"),
            styles.fail("r"),
            styles.warn("s")
        )
        .and_then(|_| output.flush())
        .map_err(SnapshotError::Terminal)?;
        let mut line = String::new();
        if input
            .read_line(&mut line)
            .map_err(SnapshotError::Terminal)?
            == 0
        {
            writeln!(output).map_err(SnapshotError::Terminal)?;
            return Ok(Answer::Quit);
        }
        match line.trim().to_ascii_lowercase().as_str() {
            "a" | "accept" => return Ok(Answer::Accept),
            "r" | "reject" => return Ok(Answer::Reject),
            "s" | "skip" => return Ok(Answer::Skip),
            _ => writeln!(output, "answer a, r or s").map_err(SnapshotError::Terminal)?,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::snapshot::store::{self, tests::TempDir};
    use std::io::Cursor;

    fn setup(tag: &str) -> (TempDir, Store) {
        let tmp = TempDir::new(tag);
        let store = Store::new(&tmp.0);
        let dir = store.dir("ref").unwrap();
        store::write(&dir.join("a.snap"), "## s\n< 200\n").unwrap();
        store::write(&dir.join("a.snap.new"), "## s\n< 201\n").unwrap();
        store::write(&dir.join("b.snap.new"), "## s\n< 204\n").unwrap();
        store::write(&dir.join("c.snap.new"), "## s\n< 404\n").unwrap();
        (tmp, store)
    }

    fn run(
        store: &Store,
        answers: &str,
        tty: bool,
    ) -> (Result<ReviewOutcome, SnapshotError>, String) {
        let mut out = Vec::new();
        let result = review(
            store,
            Some("ref"),
            &Filter::all(),
            Cursor::new(answers),
            &mut out,
            tty,
            Styles::plain(),
        );
        (result, String::from_utf8(out).unwrap())
    }

    fn names(p: &[Pending]) -> Vec<&str> {
        p.iter().map(|p| p.scenario.as_str()).collect()
    }

    #[test]
    fn scripted_answers_accept_reject_and_skip() {
        let (_tmp, store) = setup("answers");
        let (result, out) = run(&store, "x\na\nr\ns\n", true);
        let outcome = result.unwrap();
        assert_eq!(names(&outcome.accepted), ["a"]);
        assert_eq!(names(&outcome.rejected), ["b"]);
        assert_eq!(names(&outcome.skipped), ["c"]);
        assert_eq!(
            store.read("ref", "a").unwrap().unwrap().text,
            "## s\n< 201\n"
        );
        assert!(store.read("ref", "b").unwrap().is_none());
        assert_eq!(
            names(&pending(&store, None, &Filter::all()).unwrap()),
            ["c"]
        );
        assert!(out.contains("ref/a (1/3)"), "{out}");
        assert!(out.contains("-< 200\n+< 201\n"), "{out}");
        assert!(out.contains("new snapshot, no baseline yet"), "{out}");
        assert!(out.contains("answer a, r or s"), "{out}");
        assert!(
            out.ends_with("accepted 1, rejected 1, skipped 1\n"),
            "{out}"
        );
    }

    #[test]
    fn end_of_input_skips_the_rest() {
        let (_tmp, store) = setup("eof");
        let (result, _) = run(&store, "accept\n", true);
        let outcome = result.unwrap();
        assert_eq!(names(&outcome.accepted), ["a"]);
        assert_eq!(names(&outcome.skipped), ["b", "c"]);
        assert_eq!(pending(&store, None, &Filter::all()).unwrap().len(), 2);
    }

    #[test]
    fn refuses_without_a_terminal_and_names_the_commands() {
        let (_tmp, store) = setup("tty");
        let (result, out) = run(&store, "a\na\na\n", false);
        let err = result.unwrap_err();
        let msg = err.to_string();
        assert!(
            msg.contains("`scimreplay accept`") && msg.contains("`scimreplay reject`"),
            "{msg}"
        );
        assert!(out.is_empty());
        assert_eq!(pending(&store, None, &Filter::all()).unwrap().len(), 3);
    }

    #[test]
    fn nothing_pending_says_so() {
        let tmp = TempDir::new("empty");
        let store = Store::new(&tmp.0);
        let (result, out) = run(&store, "", true);
        assert_eq!(result.unwrap(), ReviewOutcome::default());
        assert_eq!(out, "no pending snapshots\n");
    }
}
