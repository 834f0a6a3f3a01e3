//! Unified diffs of transcripts, coloured through `Styles` (plain by default).

use crate::report::styles::Styles;
use crate::stop::{Stop, Stopped};
use similar::{ChangeTag, DiffOp, TextDiff};
use std::ops::Range;
use std::time::Duration;

/// Lines of unchanged context around each change.
pub const CONTEXT: usize = 3;

/// How long the search for the smallest diff may take before it settles for a larger one
/// (still correct, less minimal): two texts of millions of lines that differ everywhere would
/// otherwise keep a run, and a signal, waiting for minutes.
pub const DIFF_TIME_LIMIT: Duration = Duration::from_secs(1);

/// A unified diff of `old` → `new` (hunks only, no file header): `-` lines painted as
/// removed, `+` lines as added, `@@` hunk headers dim. Empty when the texts are equal.
pub fn render_diff(old: &str, new: &str, styles: Styles) -> String {
    render_diff_until(old, new, styles, &Stop::never()).unwrap_or_default()
}

/// [`render_diff`], unless `stop` is raised first (read between hunks; the search itself
/// ends within [`DIFF_TIME_LIMIT`]).
pub fn render_diff_until(
    old: &str,
    new: &str,
    styles: Styles,
    stop: &Stop,
) -> Result<String, Stopped> {
    let diff = TextDiff::configure()
        .timeout(DIFF_TIME_LIMIT)
        .diff_lines(old, new);
    stop.check()?;
    let mut out = String::new();
    for group in diff.grouped_ops(CONTEXT) {
        stop.check()?;
        let (Some(first), Some(last)) = (group.first(), group.last()) else {
            continue;
        };
        let old_range = first.old_range().start..last.old_range().end;
        let new_range = first.new_range().start..last.new_range().end;
        let header = format!("@@ -{} +{} @@", range(&old_range), range(&new_range));
        out.push_str(&styles.dim(&header));
        out.push('\n');
        for op in &group {
            hunk_lines(&diff, op, styles, &mut out);
        }
    }
    Ok(out)
}

fn hunk_lines<'a>(diff: &TextDiff<'a, 'a, 'a, str>, op: &DiffOp, styles: Styles, out: &mut String) {
    for change in diff.iter_changes(op) {
        let text = change.value().strip_suffix('\n').unwrap_or(change.value());
        let line = match change.tag() {
            ChangeTag::Equal => format!(" {text}"),
            ChangeTag::Delete => styles.removed(&format!("-{text}")),
            ChangeTag::Insert => styles.added(&format!("+{text}")),
        };
        out.push_str(&line);
        out.push('\n');
    }
}

/// `start,len` with 1-based lines; an empty range names the line before it, as `diff -u` does.
fn range(r: &Range<usize>) -> String {
    let len = r.end - r.start;
    match len {
        0 => format!("{},0", r.start),
        1 => format!("{}", r.start + 1),
        _ => format!("{},{len}", r.start + 1),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const OLD: &str = "## create\n< 201\n< {\n<   \"active\": true,\n<   \"id\": \"[id:1]\",\n<   \"name\": \"a\",\n<   \"x\": 1,\n<   \"y\": 2\n< }\n";

    #[test]
    fn equal_texts_have_no_diff() {
        assert_eq!(render_diff(OLD, OLD, Styles::colored()), "");
    }

    #[test]
    fn plain_diff_with_context_three() {
        let new = OLD.replace("\"active\": true", "\"active\": \"True\"");
        insta::assert_snapshot!(render_diff(OLD, &new, Styles::plain()));
    }

    #[test]
    fn coloured_diff_paints_changed_lines_and_dims_headers() {
        let new = OLD.replace("< 201", "< 200");
        let out = render_diff(OLD, &new, Styles::colored());
        assert!(
            out.starts_with("\x1b[2m@@ -1,5 +1,5 @@\x1b[0m\n"),
            "{out:?}"
        );
        assert!(out.contains("\x1b[31m-< 201\x1b[0m\n"), "{out:?}");
        assert!(out.contains("\x1b[32m+< 200\x1b[0m\n"), "{out:?}");
        assert!(out.contains("\n ## create\n"), "{out:?}");
    }

    #[test]
    fn a_raised_stop_ends_the_diff_and_a_huge_one_ends_in_time() {
        let signals = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(1));
        let stop = Stop::on(signals);
        assert_eq!(
            render_diff_until(OLD, "x\n", Styles::plain(), &stop),
            Err(Stopped)
        );
        // Two texts of 200 000 lines that share few: the search gives up at its time limit
        // with a diff that, though not minimal, is still one.
        let old: String = (0..200_000)
            .map(|i| format!("a{}\n", i * 7 % 1000))
            .collect();
        let new: String = (0..200_000)
            .map(|i| format!("a{}\n", i * 13 % 997))
            .collect();
        let started = std::time::Instant::now();
        let diff = render_diff(&old, &new, Styles::plain());
        assert!(
            started.elapsed() < DIFF_TIME_LIMIT * 20,
            "{:?}",
            started.elapsed()
        );
        let removed = diff.lines().filter(|l| l.starts_with('-')).count();
        let added = diff.lines().filter(|l| l.starts_with('+')).count();
        assert!(removed > 100_000 && removed <= 200_000, "{removed}");
        assert!(added > 100_000 && added <= 200_000, "{added}");
    }

    #[test]
    fn ranges_follow_unified_format() {
        assert_eq!(range(&(0..0)), "0,0");
        assert_eq!(range(&(4..5)), "5");
        assert_eq!(range(&(4..7)), "5,3");
        assert_eq!(
            render_diff("", "a\n", Styles::plain()),
            "@@ -0,0 +1 @@\n+a\n"
        );
    }
}
