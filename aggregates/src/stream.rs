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

    /// Whether the history with `event` recorded next is valid. When it
    /// is, it is kept: applying that very event next makes it the history
    /// without deriving it again (a decision derives the history with the
    /// event to check it, and the next decision would derive it once more).
    fn candidate(&self, event: &Self::Event) -> Result<(), Self::Error> {
        if let Some(checked) = self.check_next(event) {
            return checked;
        }
        let mut events = self.recorded().to_vec();
        events.push((events.len() as u64 + 1, event.clone()));
        let history = self.derive(&events)?;
        self.keep_ahead(events.len() - 1, event, history);
        Ok(())
    }

    /// Whether the history with `event` recorded next is valid, judged
    /// from the history as it stands, when `event` would simply apply
    /// after it; `None` otherwise (then it is derived from every event).
    /// Deriving a stream of N events from scratch for each of N decisions
    /// is quadratic: an import decides a person's facts one by one, mostly
    /// each dated after the last.
    fn check_next(&self, _event: &Self::Event) -> Option<Result<(), Self::Error>> {
        None
    }

    /// `now`, the history as it stands, with `event` applied next, when
    /// [`Self::check_next`] judges `event` that way; `None` otherwise
    /// (the history is then derived again on first use).
    fn history_with(&self, _now: Self::History, _event: &Self::Event) -> Option<Self::History> {
        None
    }

    /// Keeps `history`, derived with `event` after the first `recorded`
    /// events, for [`Lazy::ahead_of`].
    fn keep_ahead(&self, recorded: usize, event: &Self::Event, history: Self::History);

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
/// aggregates unequal: equality is the events'. It also keeps the history
/// one event ahead that the last decision derived to check its event
/// ([`EventStream::candidate`]): applying that event takes it instead of
/// deriving it again.
#[derive(Debug)]
pub(crate) struct Lazy<T, E> {
    now: std::sync::OnceLock<Option<T>>,
    ahead: std::sync::Mutex<Option<Ahead<T, E>>>,
}

/// A history derived with `event` recorded after the first `recorded` events.
#[derive(Debug)]
struct Ahead<T, E> {
    recorded: usize,
    event: E,
    history: T,
}

impl<T, E> Default for Lazy<T, E> {
    fn default() -> Self {
        Lazy {
            now: std::sync::OnceLock::new(),
            ahead: std::sync::Mutex::new(None),
        }
    }
}

impl<T: Clone, E> Clone for Lazy<T, E> {
    fn clone(&self) -> Self {
        Lazy {
            now: self.now.clone(),
            ahead: std::sync::Mutex::new(None),
        }
    }
}

impl<T, E> PartialEq for Lazy<T, E> {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl<T, E: PartialEq> Lazy<T, E> {
    /// The history, derived with `derive` if it has not been since the
    /// last change.
    pub(crate) fn get_or_derive(&self, derive: impl FnOnce() -> Option<T>) -> Option<&T> {
        self.now.get_or_init(derive).as_ref()
    }

    /// A history already derived.
    pub(crate) fn derived(history: T) -> Self {
        let lazy = Lazy::default();
        let _ = lazy.now.set(Some(history));
        lazy
    }

    /// The history, if it has been derived since the last change, taken
    /// out (to be extended rather than derived again).
    pub(crate) fn take_now(&mut self) -> Option<T> {
        self.now.take().flatten()
    }

    /// Keeps `history`, derived with `event` after the first `recorded` events.
    pub(crate) fn keep_ahead(&self, recorded: usize, event: E, history: T) {
        if let Ok(mut ahead) = self.ahead.lock() {
            *ahead = Some(Ahead {
                recorded,
                event,
                history,
            });
        }
    }

    /// The history once `event` is applied after the first `recorded`
    /// events: the one kept ahead if it was derived with that very event
    /// there, else to be derived on first use.
    pub(crate) fn ahead_of(&mut self, recorded: usize, event: &E) -> Lazy<T, E> {
        let kept = self.ahead.get_mut().ok().and_then(Option::take);
        let next = Lazy::default();
        if let Some(ahead) = kept.filter(|a| a.recorded == recorded && a.event == *event) {
            let _ = next.now.set(Some(ahead.history));
        }
        next
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
                let recorded = self.events.len();
                // Only valid histories are ever recorded, so deriving
                // succeeds for streams written through `handle`; a stream
                // that fails (written by other means) shows as having no
                // history rather than a wrong one.
                let extended = self
                    .$history
                    .take_now()
                    .and_then(|now| <$aggregate as crate::stream::EventStream>::history_with(self, now, &event));
                self.$history = match extended {
                    Some(history) => crate::stream::Lazy::derived(history),
                    None => self.$history.ahead_of(recorded, &event),
                };
                self.events.push((recorded as u64 + 1, event));
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

#[cfg(test)]
mod tests {
    use super::Lazy;

    fn history(lazy: &Lazy<&'static str, u32>) -> Option<&'static str> {
        lazy.get_or_derive(|| Some("derived")).copied()
    }

    #[test]
    fn a_history_kept_ahead_is_taken_only_by_the_event_it_was_derived_with_in_its_place() {
        let mut lazy: Lazy<&'static str, u32> = Lazy::default();
        lazy.keep_ahead(3, 7, "with 7");
        assert_eq!(history(&lazy.ahead_of(3, &7)), Some("with 7"));

        lazy.keep_ahead(3, 7, "with 7");
        assert_eq!(history(&lazy.ahead_of(3, &8)), Some("derived"), "another event");
        lazy.keep_ahead(3, 7, "with 7");
        assert_eq!(history(&lazy.ahead_of(4, &7)), Some("derived"), "another place");
        lazy.keep_ahead(3, 7, "with 7");
        let _ = lazy.ahead_of(3, &7);
        assert_eq!(history(&lazy.ahead_of(3, &7)), Some("derived"), "taken once");
        lazy.keep_ahead(3, 7, "with 7");
        assert_eq!(history(&lazy.clone().ahead_of(3, &7)), Some("derived"), "not cloned");
    }
}
