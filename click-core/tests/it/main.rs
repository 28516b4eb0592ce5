//! click-core integration tests.

mod conformance;
