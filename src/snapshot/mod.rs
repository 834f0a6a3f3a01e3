//! Snapshot store, format, diff and update modes.
