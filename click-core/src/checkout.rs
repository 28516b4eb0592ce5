//! Checkout helpers (being written).
