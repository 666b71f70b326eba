//! tenure's domain: the `Participant`, `Cohort` and `Post` aggregates, their
//! commands, events and rules, and the [`decisions`] that span them. Pure
//! code: no I/O, no clock (today's date arrives in [`CommandContext`]), no
//! database or HTTP types.
//!
//! # Design
//!
//! * **Two clocks.** Every fact carries an *effective* date. Facts may be
//!   recorded in any order ("late records"), so each aggregate checks its rules
//!   against the whole history ordered by `(effective date, sequence)`: the
//!   candidate history (all live events plus the new one) must be valid, not
//!   just the latest state. Events of one stream on the same effective date
//!   apply in recorded order.
//! * **Corrections append.** A `Retract` command appends an `…EventRetracted`
//!   event naming the sequence it withdraws. The retraction is accepted only
//!   when the history without that event is still valid. Registrations,
//!   openings and establishments cannot be retracted (they create the
//!   stream), nor can retractions (record the fact again instead).
//! * **Derived, not stored.** Events store what was said (for example the
//!   move kind *given*, never the derived one), so a correction earlier in
//!   history re-derives everything after it. [`participant::Timeline`] is the
//!   one place those derivations live; the projections reuse it.
//! * **Sequences.** Aggregates count the events applied to them; the n-th
//!   event applied has sequence n (1-based), matching the event store's
//!   sequence column. A new event gets `version() + 1`.
//! * **Cost.** Aggregates rebuild their derived history on every `apply`,
//!   which is quadratic in stream length. Streams are one person, cohort or
//!   post (tens of events), so simplicity wins.

pub mod cohort;
pub mod context;
pub mod days;
pub mod decisions;
pub mod field;
pub mod ladder;
pub mod participant;
pub mod post;
mod retraction;
mod stream;

pub use context::{CommandContext, TooFarInFuture};
pub use field::Field;
pub use ladder::{derive_move_kind, Basis, Ladder, LadderError, Levels, MoveKind, Role, RoleRef};
