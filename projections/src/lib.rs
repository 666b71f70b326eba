//! tenure read models.
