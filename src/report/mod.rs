//! Reporters: terminal, JSON, JUnit, and the renderer for located input errors.

pub mod diagnostic;
pub mod styles;
