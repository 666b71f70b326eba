//! The day rule every figure shares (docs/metrics.md "Days"): a state holds
//! "on D" when it holds at the *end* of D, so every span of days (a spell
//! of employment, an exclusion, an occupancy, an established post) is
//! half-open `[from, until)`: it starts on `from` and no longer holds on
//! `until`.
//!
//! The aggregates judge commands with this rule and the read side computes
//! reports with it, so "employed on D" and "excluded on D" cannot drift
//! apart between the two.

use chrono::NaiveDate;

/// Whether the span `[from, until)` covers the end of `day`; `until` is
/// `None` while the span is open.
pub fn covers(from: NaiveDate, until: Option<NaiveDate>, day: NaiveDate) -> bool {
    from <= day && until.is_none_or(|until| day < until)
}

/// Something that holds over a half-open span of days `[from, until)`.
pub trait Span {
    /// The first day it holds, and the first day it no longer holds
    /// (`None` while open).
    fn span(&self) -> (NaiveDate, Option<NaiveDate>);

    /// Whether it holds at the end of `day`.
    fn covers(&self, day: NaiveDate) -> bool {
        let (from, until) = self.span();
        covers(from, until, day)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn a_span_holds_from_its_first_day_up_to_the_day_before_its_end() {
        let (from, until) = (d("2020-03-10"), Some(d("2020-03-12")));
        assert!(!covers(from, until, d("2020-03-09")));
        assert!(covers(from, until, d("2020-03-10")));
        assert!(covers(from, until, d("2020-03-11")));
        // Ended on the 12th: no longer held at the end of the 12th.
        assert!(!covers(from, until, d("2020-03-12")));
    }

    #[test]
    fn an_open_span_holds_from_its_first_day_on() {
        assert!(!covers(d("2020-03-10"), None, d("2020-03-09")));
        assert!(covers(d("2020-03-10"), None, d("2199-12-31")));
    }

    #[test]
    fn a_span_ending_on_its_first_day_never_holds() {
        // Joined and left on one day: not employed at the end of any day.
        let day = d("2020-03-10");
        assert!(!covers(day, Some(day), day));
        assert!(!covers(day, Some(day), d("2020-03-09")));
    }
}
