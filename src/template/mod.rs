//! `{{variable}}` templates: syntax, the per-run context of values, and rendering of a step.
//!
//! The loader uses `syntax` to validate every template when a scenario file is read, so a
//! reference to an unknown or not-yet-captured name is an input error, not a runtime surprise.
//! The runner builds one `Context` per scenario run, renders each step just before sending it,
//! and records captures into the context; `RenderError::Missing` then means an earlier step
//! failed to capture a value, and the step is skipped.

pub mod context;
pub mod overrides;
pub mod request;
pub mod syntax;

pub use context::{Builtins, Context, RenderError, render_str, render_value};
pub use overrides::{VarOverrideError, apply_var_overrides};
pub use request::{render_capture, render_expect, render_request, render_step};
