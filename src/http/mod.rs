//! HTTP: the reqwest client and the plain-data `Exchange` it produces.

pub mod exchange;
