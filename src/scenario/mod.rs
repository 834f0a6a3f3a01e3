//! Scenario files: the model, the loader with located errors, and selection.

pub mod model;
