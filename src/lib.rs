//! tenure server library.
