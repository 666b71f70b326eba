//! Hand-worked metrics.md rules through the HTTP API (being written).
