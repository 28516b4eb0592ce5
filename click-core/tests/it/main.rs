//! click-core integration tests.

mod bad_inputs;
mod conformance;
