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

impl CommandContext {
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
}
