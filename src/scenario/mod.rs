//! Scenario files: the model, the loader with located errors, selection, and the catalogue
//! compiled into the binary.

pub mod builtin;
pub mod error;
pub mod expand;
pub mod load;
pub mod locate;
pub mod model;
pub mod partition;
pub mod schema;
pub mod select;
pub(crate) mod validate;
