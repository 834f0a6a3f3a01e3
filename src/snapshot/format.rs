//! The `.snap` file layout: a `---` header block, then one `## <step>` section per step.
//!
//! Comparison is section by section so the runner can mark exactly the steps that drifted.

use super::diff::render_diff_until;
use crate::report::styles::Styles;
use crate::stop::{Stop, Stopped};

/// A transcript split into its header and its step sections.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Sections {
    /// The `---` block, delimiters included.
    pub header: String,
    /// Step id and the section text, heading included, trailing blank lines dropped.
    pub steps: Vec<(String, String)>,
}

/// Which part of a snapshot a diff belongs to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Section {
    /// The header: scenario name, normalization rules, redactions.
    Header,
    /// One step's section (present in the old text, the new one, or both).
    Step(String),
    /// Same sections, but in another order or otherwise laid out differently.
    Order,
}

/// The unified diff of one section (plain text).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SectionDiff {
    pub section: Section,
    pub diff: String,
}

/// Line endings made `\n` and the end made exactly one newline, so a checkout that rewrote
/// line endings does not count as drift.
pub fn canonical(text: &str) -> String {
    let mut out = text.replace("\r\n", "\n");
    out.truncate(out.trim_end().len());
    out.push('\n');
    out
}

/// Splits a transcript into header and sections.
pub fn split(text: &str) -> Sections {
    let text = canonical(text);
    let mut lines = text.lines().peekable();
    let mut sections = Sections::default();
    if lines.peek() == Some(&"---") {
        for line in lines.by_ref().skip(1) {
            if line == "---" {
                break;
            }
            push_line(&mut sections.header, line);
        }
        sections.header = format!("---\n{}---\n", sections.header);
    }
    for line in lines {
        if let Some(id) = line.strip_prefix("## ") {
            sections.steps.push((id.trim().to_string(), String::new()));
        }
        match sections.steps.last_mut() {
            Some((_, text)) => push_line(text, line),
            // Stray text before the first step is compared as part of the header.
            None if !line.trim().is_empty() => push_line(&mut sections.header, line),
            None => {}
        }
    }
    for (_, text) in &mut sections.steps {
        text.truncate(text.trim_end().len());
        text.push('\n');
    }
    sections
}

fn push_line(out: &mut String, line: &str) {
    out.push_str(line);
    out.push('\n');
}

/// How much of one section's diff a result keeps: a report shows the start of a change, the
/// `.snap.new` holds the whole transcript.
pub const MAX_DIFF_BYTES: usize = 256 * 1024;

/// The sections that differ between `old` and `new`, header first, then steps in the new
/// order, then steps only the old text has.
pub fn section_diffs(old: &str, new: &str) -> Vec<SectionDiff> {
    section_diffs_until(old, new, &Stop::never()).unwrap_or_default()
}

/// [`section_diffs`], unless `stop` is raised first.
pub fn section_diffs_until(old: &str, new: &str, stop: &Stop) -> Result<Vec<SectionDiff>, Stopped> {
    let (o, n) = (split(old), split(new));
    let plain = |a: &str, b: &str| -> Result<String, Stopped> {
        render_diff_until(a, b, Styles::plain(), stop).map(bounded)
    };
    let mut out = Vec::new();
    if o.header != n.header {
        out.push(SectionDiff {
            section: Section::Header,
            diff: plain(&o.header, &n.header)?,
        });
    }
    let find = |steps: &[(String, String)], id: &str| -> Option<String> {
        steps.iter().find(|(i, _)| i == id).map(|(_, t)| t.clone())
    };
    for (id, text) in &n.steps {
        let before = find(&o.steps, id).unwrap_or_default();
        if &before != text {
            out.push(SectionDiff {
                section: Section::Step(id.clone()),
                diff: plain(&before, text)?,
            });
        }
    }
    for (id, text) in &o.steps {
        if find(&n.steps, id).is_none() {
            out.push(SectionDiff {
                section: Section::Step(id.clone()),
                diff: plain(text, "")?,
            });
        }
    }
    if out.is_empty() && canonical(old) != canonical(new) {
        out.push(SectionDiff {
            section: Section::Order,
            diff: plain(&canonical(old), &canonical(new))?,
        });
    }
    Ok(out)
}

/// A diff cut after [`MAX_DIFF_BYTES`] at a line end, with a line saying so.
fn bounded(diff: String) -> String {
    if diff.len() <= MAX_DIFF_BYTES {
        return diff;
    }
    // A newline byte is always a char boundary.
    let cut = diff.as_bytes()[..MAX_DIFF_BYTES]
        .iter()
        .rposition(|b| *b == b'\n')
        .map_or(0, |at| at + 1);
    let rest = diff[cut..].lines().count();
    format!(
        "{}… the diff goes on for {rest} more lines (the whole transcript is in the .snap.new)\n",
        &diff[..cut]
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const OLD: &str = "---\nscenario: s\nnormalized: ids\n---\n## create\n> POST /Users\n< 201\n\n## get\n> GET /Users/[id:1]\n< 200\n";

    #[test]
    fn split_finds_header_and_sections() {
        let s = split(OLD);
        assert_eq!(s.header, "---\nscenario: s\nnormalized: ids\n---\n");
        assert_eq!(
            s.steps,
            vec![
                (
                    "create".to_string(),
                    "## create\n> POST /Users\n< 201\n".to_string()
                ),
                (
                    "get".to_string(),
                    "## get\n> GET /Users/[id:1]\n< 200\n".to_string()
                ),
            ]
        );
    }

    #[test]
    fn a_huge_section_diff_is_kept_bounded() {
        let body: String = (0..100_000).map(|i| format!("< \"é{i}\",\n")).collect();
        let new = format!("{OLD}\n## huge\n{body}");
        let diffs = section_diffs(OLD, &new);
        let diff = &diffs.last().unwrap().diff;
        assert!(diff.len() <= MAX_DIFF_BYTES + 200, "{}", diff.len());
        assert!(
            diff.ends_with("(the whole transcript is in the .snap.new)\n"),
            "{diff}"
        );
        assert!(diff.contains("+< \"é0\","));
    }

    #[test]
    fn crlf_and_trailing_space_do_not_differ() {
        let crlf = OLD.replace('\n', "\r\n") + "\r\n\r\n";
        assert!(section_diffs(OLD, &crlf).is_empty());
    }

    #[test]
    fn only_changed_steps_are_reported() {
        let new = OLD.replace("< 200", "< 404");
        let diffs = section_diffs(OLD, &new);
        assert_eq!(diffs.len(), 1);
        assert_eq!(diffs[0].section, Section::Step("get".to_string()));
        assert!(
            diffs[0].diff.contains("-< 200\n+< 404\n"),
            "{}",
            diffs[0].diff
        );
    }

    #[test]
    fn appended_and_removed_steps() {
        let appended = format!("{OLD}\n## delete\n> DELETE /Users/[id:1]\n< 204\n");
        let diffs = section_diffs(OLD, &appended);
        assert_eq!(diffs.len(), 1, "{diffs:?}");
        assert_eq!(diffs[0].section, Section::Step("delete".to_string()));
        let back = section_diffs(&appended, OLD);
        assert_eq!(back[0].section, Section::Step("delete".to_string()));
        assert!(back[0].diff.contains("-< 204"));
    }

    #[test]
    fn header_changes_alone_are_reported() {
        let new = OLD.replace("normalized: ids", "normalized: ids, sorted");
        let diffs = section_diffs(OLD, &new);
        assert_eq!(diffs.len(), 1);
        assert_eq!(diffs[0].section, Section::Header);
        assert!(diffs[0].diff.contains("+normalized: ids, sorted"));
    }

    #[test]
    fn reordered_steps_are_reported_as_order() {
        let s = split(OLD);
        let swapped = format!("{}{}\n{}", s.header, s.steps[1].1, s.steps[0].1);
        let diffs = section_diffs(OLD, &swapped);
        assert_eq!(diffs.len(), 1);
        assert_eq!(diffs[0].section, Section::Order);
    }

    #[test]
    fn text_without_header_still_splits() {
        let s = split("junk\n## a\nx\n");
        assert_eq!(s.header, "junk\n");
        assert_eq!(s.steps.len(), 1);
    }
}
