//! What can be asked of a post.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::ladder::{Basis, RoleRef};

/// A request to record something about one established post.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum PostCommand {
    /// Create the post.
    Establish {
        post_id: Uuid,
        organisation: String,
        title: String,
        role: RoleRef,
        established_on: NaiveDate,
        /// The authority's own reference for the post (e.g. its
        /// establishment number), unique within the organisation; how a
        /// facts file names the post. Absent in commands written before
        /// posts had one.
        #[serde(default)]
        reference: Option<String>,
    },
    /// A participant takes up the post on `effective_on`.
    Fill {
        participant_id: Uuid,
        basis: Basis,
        /// The occupant's FTE from then on (`None` keeps theirs). The post
        /// records no FTE: it goes on the occupant's role change when the
        /// post is filled from the post's side.
        fte: Option<f64>,
        effective_on: NaiveDate,
    },
    /// A participant stops occupying the post on `effective_on`.
    Vacate {
        participant_id: Uuid,
        effective_on: NaiveDate,
    },
    /// The post ceases to exist on `effective_on`.
    Disestablish { effective_on: NaiveDate },
    /// Withdraw the event with `sequence` (a correction).
    Retract { sequence: u64, reason: String },
}
