//! click-core integration tests.

mod bad_inputs;
mod conformance;
mod model;
mod secrets;
mod shop;
