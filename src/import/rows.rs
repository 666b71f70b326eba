//! Reading a file's rows one by one: as bytes, then as text, so that a
//! row that is not UTF-8 is refused on its own and still names its person.

use std::io::Read;

use super::facts::RowError;

/// What reading one row gave.
pub(super) enum Parsed {
    /// A row, as text, at this line of the file.
    Row {
        line: u64,
        record: csv::StringRecord,
    },
    Refused(RowError),
}

/// Gives every row after the header of `reader` to `each`, in file
/// order; how many rows there were. `person_column` names the person of a
/// row that is not UTF-8.
pub(super) fn each_row<R: Read>(
    mut reader: csv::Reader<R>,
    person_column: Option<usize>,
    mut each: impl FnMut(Parsed),
) -> usize {
    let mut rows = 0;
    let mut rows_read = Rows::new(person_column);
    loop {
        each(match rows_read.next(&mut reader, &mut rows) {
            Next::End => return rows,
            Next::Row(line) => Parsed::Row {
                line,
                record: std::mem::take(&mut rows_read.record),
            },
            Next::Refused(error) => Parsed::Refused(error),
        });
    }
}

/// The person `record` names, if its person column is there.
pub(super) fn person_of(record: &csv::StringRecord, person_column: Option<usize>) -> Option<String> {
    person_column
        .and_then(|i| record.get(i))
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(str::to_string)
}

/// Rows read one by one as bytes, then as text: a row that is not UTF-8,
/// or has the wrong number of fields, still names its person when their
/// column can be made out, so that their other rows are refused with it.
struct Rows {
    raw: csv::ByteRecord,
    record: csv::StringRecord,
    person_column: Option<usize>,
}

/// What reading the next row gave.
enum Next {
    End,
    /// A row, read into `Rows::record`, at this line.
    Row(u64),
    Refused(RowError),
}

impl Rows {
    fn new(person_column: Option<usize>) -> Rows {
        Rows {
            raw: csv::ByteRecord::new(),
            record: csv::StringRecord::new(),
            person_column,
        }
    }

    fn next<R: Read>(&mut self, reader: &mut csv::Reader<R>, rows: &mut usize) -> Next {
        match reader.read_byte_record(&mut self.raw) {
            Ok(false) => Next::End,
            Ok(true) => {
                *rows += 1;
                let line = self.raw.position().map_or(*rows as u64 + 1, csv::Position::line);
                match csv::StringRecord::from_byte_record(std::mem::take(&mut self.raw)) {
                    Ok(record) => {
                        self.record = record;
                        Next::Row(line)
                    }
                    Err(e) => {
                        self.raw = e.into_byte_record();
                        let person = self
                            .person_column
                            .and_then(|i| self.raw.get(i))
                            .map(|p| String::from_utf8_lossy(p).trim().to_string())
                            .filter(|p| !p.is_empty());
                        Next::Refused(RowError {
                            line,
                            column: None,
                            person,
                            error: "unreadable_row".to_string(),
                            message: "the row is not UTF-8 text: save the file as UTF-8".to_string(),
                        })
                    }
                }
            }
            Err(e) => {
                *rows += 1;
                let line = e.position().map_or(*rows as u64 + 1, csv::Position::line);
                Next::Refused(unreadable(line, &e))
            }
        }
    }
}

pub(super) fn wrong_number_of_fields(line: u64, fields: usize, columns: usize, person: Option<String>) -> RowError {
    RowError {
        line,
        column: None,
        person,
        error: "wrong_number_of_fields".to_string(),
        message: format!("the row has {fields} fields and the header {columns}"),
    }
}

pub(super) fn unreadable(line: u64, e: &csv::Error) -> RowError {
    RowError {
        line,
        column: None,
        person: None,
        error: "unreadable_row".to_string(),
        message: format!("the row cannot be read as CSV in UTF-8: {e}"),
    }
}

#[cfg(test)]
mod tests {
    use super::{each_row, Parsed};

    #[test]
    fn every_row_is_given_in_file_order_with_its_line() {
        // 2,500 rows; row 1,500 (line 1,501) is not UTF-8 and still names
        // its person.
        let mut file = b"person,n\n".to_vec();
        for n in 1..=2_500 {
            if n == 1_500 {
                file.extend_from_slice(b"P-1500,\xff\n");
            } else {
                file.extend_from_slice(format!("P-{n},{n}\n").as_bytes());
            }
        }
        let reader = csv::ReaderBuilder::new().from_reader(file.as_slice());
        let mut seen = Vec::new();
        let rows = each_row(reader, Some(0), |parsed| match parsed {
            Parsed::Row { line, record } => seen.push((line, record[1].to_string())),
            Parsed::Refused(error) => seen.push((error.line, format!("refused {:?}", error.person))),
        });
        assert_eq!(rows, 2_500);
        assert_eq!(seen.len(), 2_500);
        assert_eq!(seen[0], (2, "1".to_string()));
        assert_eq!(seen[1_498], (1_500, "1499".to_string()));
        assert_eq!(seen[1_499], (1_501, "refused Some(\"P-1500\")".to_string()));
        assert_eq!(seen[2_499], (2_501, "2500".to_string()));
        assert!(seen.windows(2).all(|w| w[1].0 == w[0].0 + 1), "in file order");
    }
}
