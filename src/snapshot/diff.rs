//! Unified diffs of transcripts, coloured through `Styles` (plain by default).

use crate::report::styles::Styles;
use similar::{ChangeTag, DiffOp, TextDiff};
use std::ops::Range;

/// Lines of unchanged context around each change.
pub const CONTEXT: usize = 3;

/// A unified diff of `old` → `new` (hunks only, no file header): `-` lines painted as
/// removed, `+` lines as added, `@@` hunk headers dim. Empty when the texts are equal.
pub fn render_diff(old: &str, new: &str, styles: Styles) -> String {
    let diff = TextDiff::from_lines(old, new);
    let mut out = String::new();
    for group in diff.grouped_ops(CONTEXT) {
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
    out
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
