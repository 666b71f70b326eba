//! What a command is decided with besides the aggregate's own history: today's
//! date and how far ahead effective dates may lie. It is the `Services` type of
//! every aggregate, so the aggregates never read a clock and stay pure.

use chrono::{Days, NaiveDate};
use serde::{Deserialize, Serialize};

use crate::field::Field;

/// The clock and margins an aggregate decides with.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CommandContext {
    /// Today's date where the command is decided.
    pub today: NaiveDate,
    /// How many days after `today` an effective date may lie (facts are
    /// sometimes recorded just before they take effect, but a date far in the
    /// future is almost always a typing error).
    pub future_margin_days: u32,
}

/// An effective date later than `today + future_margin_days` was given.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TooFarInFuture {
    /// The field holding the date.
    pub field: Field,
    /// The date given.
    pub effective_on: NaiveDate,
    /// The latest date accepted today.
    pub latest_allowed: NaiveDate,
}

/// The earliest effective date any command accepts (and reports ask about).
pub const EARLIEST_DATE: NaiveDate = match NaiveDate::from_ymd_opt(1900, 1, 1) {
    Some(d) => d,
    None => panic!("1900-01-01 is a date"),
};
/// The latest effective date any command accepts (and reports ask about).
pub const LATEST_DATE: NaiveDate = match NaiveDate::from_ymd_opt(2199, 12, 31) {
    Some(d) => d,
    None => panic!("2199-12-31 is a date"),
};

/// An effective date outside [`EARLIEST_DATE`]..=[`LATEST_DATE`]: a typo
/// (`0202` for `2020`), and a date PostgreSQL's `date` may not even hold.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DateOutOfRange {
    /// The field holding the date.
    pub field: Field,
    /// The date given.
    pub date: NaiveDate,
}

/// Refuses `date` (held in `field`) outside 1900–2199: for dates that may
/// lie far ahead (a cohort's planned start) but must still be real.
pub fn check_in_range(field: Field, date: NaiveDate) -> Result<(), DateOutOfRange> {
    if (EARLIEST_DATE..=LATEST_DATE).contains(&date) {
        Ok(())
    } else {
        Err(DateOutOfRange { field, date })
    }
}

/// Why an effective date was refused.
#[derive(Debug, Clone, PartialEq)]
pub enum DateRefused {
    OutOfRange(DateOutOfRange),
    TooFarInFuture(TooFarInFuture),
}

impl CommandContext {
    /// Refuses `date` (held in `field`) outside 1900–2199 or beyond the
    /// future margin: the check every command's effective dates go through.
    pub fn check_date(&self, field: Field, date: NaiveDate) -> Result<(), DateRefused> {
        check_in_range(field, date).map_err(DateRefused::OutOfRange)?;
        self.check_not_too_far(field, date).map_err(DateRefused::TooFarInFuture)
    }

    /// The latest effective date accepted today.
    pub fn latest_allowed(&self) -> NaiveDate {
        self.today
            .checked_add_days(Days::new(u64::from(self.future_margin_days)))
            .unwrap_or(NaiveDate::MAX)
    }

    /// Refuses `date` (held in `field`) when it lies beyond the margin.
    pub fn check_not_too_far(&self, field: Field, date: NaiveDate) -> Result<(), TooFarInFuture> {
        let latest_allowed = self.latest_allowed();
        if date > latest_allowed {
            Err(TooFarInFuture {
                field,
                effective_on: date,
                latest_allowed,
            })
        } else {
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn a_date_within_the_margin_is_accepted_and_one_beyond_it_refused() {
        let ctx = CommandContext {
            today: day("2024-01-10"),
            future_margin_days: 5,
        };
        assert_eq!(ctx.latest_allowed(), day("2024-01-15"));
        assert!(ctx.check_not_too_far(Field::EffectiveOn, day("2024-01-15")).is_ok());
        let refused = ctx
            .check_not_too_far(Field::EffectiveOn, day("2024-01-16"))
            .unwrap_err();
        assert_eq!(refused.latest_allowed, day("2024-01-15"));
        assert_eq!(refused.field, Field::EffectiveOn);
    }

    #[test]
    fn dates_outside_1900_to_2199_are_refused_naming_the_field() {
        let ctx = CommandContext {
            today: day("2024-01-10"),
            future_margin_days: 365 * 300,
        };
        assert!(ctx.check_date(Field::JoinedOn, day("1900-01-01")).is_ok());
        assert!(ctx.check_date(Field::JoinedOn, day("2199-12-31")).is_ok());
        for (given, field) in [("1899-12-31", Field::JoinedOn), ("2200-01-01", Field::EstablishedOn)] {
            assert_eq!(
                ctx.check_date(field, day(given)),
                Err(DateRefused::OutOfRange(DateOutOfRange {
                    field,
                    date: day(given)
                }))
            );
        }
        let bc = NaiveDate::from_ymd_opt(-5000, 1, 1).unwrap();
        assert!(matches!(
            ctx.check_date(Field::JoinedOn, bc),
            Err(DateRefused::OutOfRange(_))
        ));
    }
}
