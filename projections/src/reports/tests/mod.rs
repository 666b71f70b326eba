//! Hand-worked tests of every report rule. Every expected number is worked
//! out by hand in the comments beside it.

pub(crate) mod fixtures;
mod leavers;
mod promotions;
mod retention;
mod same_day_and_late;
mod selection;
mod turnover_vacancies;
