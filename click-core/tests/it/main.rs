//! click-core integration tests.

mod bad_inputs;
mod conformance;
mod memory;
mod model;
mod secrets;
mod shop;
