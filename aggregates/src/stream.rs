//! What the three aggregates share: each keeps its events with their
//! sequences and the history they derive, decides a command by deriving the
//! history that would result, and retracts an event only when the history
//! without it is still valid.

use std::fmt::Display;

use crate::retraction::{check_target, retracted_set, Retractable, RetractionIssue};

/// An aggregate kept as its events and the history they derive.
pub(crate) trait EventStream {
    type Event: Retractable + Clone;
    /// The history derived from the live events.
    type History;
    type Error: From<RetractionIssue> + Display;

    /// Every event applied, as `(sequence, event)` in stream order.
    fn recorded(&self) -> &[(u64, Self::Event)];

    /// Derives the history from `events`, or the first rule they break.
    /// `self` supplies what the derivation is judged with besides the
    /// events (a participant's ladders), never its own events.
    fn derive(&self, events: &[(u64, Self::Event)]) -> Result<Self::History, Self::Error>;

    /// The event retracting `sequence`.
    fn retraction(sequence: u64, reason: String) -> Self::Event;

    /// The refusal of a retraction that would leave an impossible history.
    fn retraction_would_break(sequence: u64, because: String) -> Self::Error;

    /// The history with `event` recorded next.
    fn candidate(&self, event: &Self::Event) -> Result<Self::History, Self::Error> {
        let mut events = self.recorded().to_vec();
        events.push((events.len() as u64 + 1, event.clone()));
        self.derive(&events)
    }

    /// `event`, once the history with it recorded next is valid.
    fn checked(&self, event: Self::Event) -> Result<Self::Event, Self::Error> {
        self.candidate(&event)?;
        Ok(event)
    }

    /// The retraction of `sequence`, once it names a retractable live event
    /// and the history without that event is valid.
    fn retract(&self, sequence: u64, reason: String) -> Result<Self::Event, Self::Error> {
        let events = self.recorded();
        check_target(events, &retracted_set(events), sequence)?;
        let event = Self::retraction(sequence, reason);
        match self.candidate(&event) {
            Ok(_) => Ok(event),
            Err(e) => Err(Self::retraction_would_break(sequence, e.to_string())),
        }
    }
}

/// A history derived from an aggregate's events on first use after they
/// change. Deriving on every `apply` made loading a stream of N events
/// derive N times (quadratic); now a load derives once, when asked.
///
/// It is a cache of a function of the events, so it never makes two
/// aggregates unequal: equality is the events'.
#[derive(Debug, Clone)]
pub(crate) struct Lazy<T>(std::sync::OnceLock<Option<T>>);

impl<T> Default for Lazy<T> {
    fn default() -> Self {
        Lazy(std::sync::OnceLock::new())
    }
}

impl<T> PartialEq for Lazy<T> {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl<T> Lazy<T> {
    /// The history, derived with `derive` if it has not been since the
    /// last change.
    pub(crate) fn get_or_derive(&self, derive: impl FnOnce() -> Option<T>) -> Option<&T> {
        self.0.get_or_init(derive).as_ref()
    }
}

/// Implements cqrs-es's `Aggregate` for an [`EventStream`] with a
/// `decide(&self, command, &CommandContext)` method, an `events` field and
/// the derived history in the field `$history`: `handle` records what
/// `decide` returns; `apply` appends the event, and the history is derived
/// again on first use ([`Lazy`]).
macro_rules! impl_aggregate {
    ($aggregate:ty, $type:literal, $command:ty, $event:ty, $error:ty, $history:ident) => {
        impl cqrs_es::Aggregate for $aggregate {
            const TYPE: &'static str = $type;
            type Command = $command;
            type Event = $event;
            type Error = $error;
            type Services = crate::context::CommandContext;

            async fn handle(
                &mut self,
                command: Self::Command,
                services: &Self::Services,
                sink: &cqrs_es::event_sink::EventSink<Self>,
            ) -> Result<(), Self::Error> {
                let event = self.decide(command, services)?;
                sink.write(event, self).await;
                Ok(())
            }

            fn apply(&mut self, event: Self::Event) {
                let sequence = self.events.len() as u64 + 1;
                self.events.push((sequence, event));
                // Only valid histories are ever recorded, so this succeeds
                // for streams written through `handle`; a stream that fails
                // (written by other means) shows as having no history rather
                // than a wrong one.
                self.$history = crate::stream::Lazy::default();
            }
        }

        impl $aggregate {
            /// The history the events applied derive (`None` if they break a
            /// rule), derived on first use after the last `apply`.
            fn derived_history(&self) -> Option<&<$aggregate as crate::stream::EventStream>::History> {
                self.$history
                    .get_or_derive(|| <$aggregate as crate::stream::EventStream>::derive(self, &self.events).ok())
            }
        }
    };
}

pub(crate) use impl_aggregate;

/// The refusals every aggregate shares (an empty field, a date out of range
/// or too far in the future, a retraction of an unknown or settled event),
/// turned into that aggregate's own error: each error enum has the same
/// variants for them, so the conversions are written once.
macro_rules! impl_shared_refusals {
    ($error:ident) => {
        impl From<$crate::context::TooFarInFuture> for $error {
            fn from(e: $crate::context::TooFarInFuture) -> Self {
                $error::TooFarInFuture {
                    field: e.field,
                    effective_on: e.effective_on,
                    latest_allowed: e.latest_allowed,
                }
            }
        }

        impl From<$crate::retraction::RetractionIssue> for $error {
            fn from(issue: $crate::retraction::RetractionIssue) -> Self {
                use $crate::retraction::RetractionIssue;
                match issue {
                    RetractionIssue::Unknown(sequence) => $error::UnknownSequence { sequence },
                    RetractionIssue::AlreadyRetracted(sequence) => $error::AlreadyRetracted { sequence },
                    RetractionIssue::NotRetractable(sequence) => $error::RetractionNotRetractable { sequence },
                }
            }
        }

        impl From<$crate::field::Field> for $error {
            fn from(field: $crate::field::Field) -> Self {
                $error::EmptyField { field }
            }
        }

        impl From<$crate::context::DateOutOfRange> for $error {
            fn from(e: $crate::context::DateOutOfRange) -> Self {
                $error::DateOutOfRange {
                    field: e.field,
                    date: e.date,
                }
            }
        }

        impl From<$crate::context::DateRefused> for $error {
            fn from(e: $crate::context::DateRefused) -> Self {
                match e {
                    $crate::context::DateRefused::OutOfRange(e) => e.into(),
                    $crate::context::DateRefused::TooFarInFuture(e) => e.into(),
                }
            }
        }
    };
}

pub(crate) use impl_shared_refusals;
