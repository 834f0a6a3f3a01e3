//! Reporters: terminal, JSON, JUnit, Markdown, HTML, and the renderer for located input errors.
//!
//! The runner emits [`event::RunEvent`]s; each reporter implements [`event::Reporter`] and
//! matches every event. JSON, JUnit, Markdown, HTML and findings are pure functions of the final `RunReport`.

pub mod catalogue;
pub mod causes;
pub mod curl;
pub mod detail;
pub mod diagnostic;
pub mod event;
pub mod findings;
pub mod html;
pub mod json;
pub mod junit;
pub mod markdown;
pub mod show;
pub mod styles;
pub mod terminal;

#[cfg(test)]
pub(crate) mod test_support;
