//! What the two kinds of import file share: a header of named columns
//! (each known, none twice, the required ones present), the values of a
//! row by column name, and the dates they hold.

use std::collections::BTreeMap;

use chrono::NaiveDate;

use super::facts::RowError;

/// The columns of a file's header, by position.
#[derive(Debug, Clone)]
pub(super) struct Columns {
    positions: BTreeMap<&'static str, usize>,
}

impl Columns {
    /// Reads a header row against `known` columns, `required` among them;
    /// `file` names the kind of file and `listed` the columns it may have,
    /// for the messages.
    pub(super) fn read(
        names: &csv::StringRecord,
        known: &[&'static str],
        required: &[&'static str],
        file: &str,
        listed: &str,
    ) -> Result<Columns, Vec<RowError>> {
        let mut positions = BTreeMap::new();
        let mut errors = Vec::new();
        for (i, name) in names.iter().enumerate() {
            let name = name.trim().trim_start_matches('\u{feff}');
            match known.iter().find(|c| **c == name) {
                Some(column) if positions.insert(*column, i).is_some() => errors.push(RowError::at(
                    1,
                    name,
                    "duplicate_column",
                    format!("the column {name} appears twice"),
                )),
                Some(_) => {}
                None => errors.push(RowError::at(
                    1,
                    name,
                    "unknown_column",
                    format!("{name:?} is not a column of {file}; the columns are {listed}"),
                )),
            }
        }
        for column in required {
            if !positions.contains_key(column) {
                errors.push(RowError::at(
                    1,
                    column,
                    "missing_column",
                    format!("{file} needs a {column} column"),
                ));
            }
        }
        if errors.is_empty() {
            Ok(Columns { positions })
        } else {
            Err(errors)
        }
    }

    /// Moves every column `fields` places to the right.
    pub(super) fn shift(&mut self, fields: usize) {
        for position in self.positions.values_mut() {
            *position += fields;
        }
    }

    /// The columns the header has.
    pub(super) fn names(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.positions.keys().copied()
    }

    /// Every column of `row` that has a value, with the value trimmed (what
    /// a check of every column walks: no lookup by name per column).
    pub(super) fn values<'r>(
        &'r self,
        row: &'r csv::StringRecord,
    ) -> impl Iterator<Item = (&'static str, &'r str)> + 'r {
        self.positions.iter().filter_map(|(&column, &i)| {
            let value = row.get(i)?.trim();
            (!value.is_empty()).then_some((column, value))
        })
    }

    /// The value of `column` in `row`, trimmed; `None` when empty or absent.
    pub(super) fn value<'r>(&self, row: &'r csv::StringRecord, column: &str) -> Option<&'r str> {
        self.positions
            .get(column)
            .and_then(|&i| row.get(i))
            .map(str::trim)
            .filter(|v| !v.is_empty())
    }
}

/// The date `text` in `column` of the row at `line`, written YYYY-MM-DD.
pub(super) fn date(line: u64, column: &str, text: &str) -> Result<NaiveDate, RowError> {
    let well_formed = text.len() == 10
        && text.bytes().enumerate().all(|(i, c)| {
            if i == 4 || i == 7 {
                c == b'-'
            } else {
                c.is_ascii_digit()
            }
        });
    // Well formed, the fields are digits at known places: read them as
    // numbers (a format string parsed for every row cost more than the
    // rest of reading the date).
    let number = |range: std::ops::Range<usize>| text[range].parse::<u32>().ok();
    well_formed
        .then(|| NaiveDate::from_ymd_opt(number(0..4)? as i32, number(5..7)?, number(8..10)?))
        .flatten()
        .ok_or_else(|| {
            RowError::at(
                line,
                column,
                "invalid_field",
                format!("{text:?} is not a date written YYYY-MM-DD, such as 2018-09-30"),
            )
        })
}

/// The refusal of a row at `line` without a value in `column`.
pub(super) fn missing(line: u64, column: &str, which_rows: &str) -> RowError {
    RowError::at(
        line,
        column,
        "missing_field",
        format!("{column} is required on {which_rows}"),
    )
}

#[cfg(test)]
mod tests {
    use chrono::NaiveDate;

    use super::date;

    #[test]
    fn a_date_is_a_real_day_written_yyyy_mm_dd() {
        let day = |text: &str| date(2, "effective_on", text).ok();
        assert_eq!(day("2018-09-30"), NaiveDate::from_ymd_opt(2018, 9, 30));
        assert_eq!(day("2020-02-29"), NaiveDate::from_ymd_opt(2020, 2, 29), "a leap day");
        for refused in [
            "2019-02-29",
            "2018-02-30",
            "2018-13-01",
            "2018-00-10",
            "2018-1-01",
            "30/09/2018",
            "2018-09-3x",
        ] {
            assert_eq!(day(refused), None, "{refused}");
        }
        let error = date(7, "ends_on", "2018-02-30").unwrap_err();
        assert_eq!(
            (error.line, error.column.as_deref(), error.error.as_str()),
            (7, Some("ends_on"), "invalid_field")
        );
    }
}
