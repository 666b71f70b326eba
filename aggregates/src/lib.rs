//! tenure domain.
