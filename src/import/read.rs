//! Reading a facts file into people's facts, in memory bounded whatever
//! the file's size.
//!
//! A person's rows may be anywhere in the file, so nobody can be decided
//! before the whole file is read. A small file is read whole into memory.
//! A large one is first split, in one streaming pass, into parts on disk
//! by a hash of the person column, so that every row of a person is in the
//! same part; each part is then read and imported on its own, and the
//! importer holds at most one part's facts at a time (a part is about
//! [`PART_BYTES`] of the file).

use std::collections::BTreeMap;
use std::hash::{Hash, Hasher};
use std::io::{BufReader, BufWriter, Read};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use super::census::{self, Observation, Returns};
use super::facts::{self, Fact, Header, RowError};
use super::rows::{each_row, person_of, unreadable, wrong_number_of_fields, Parsed};
use super::{FactsFile, FileFormat};

/// The size of the file a part holds, about, unless
/// `TENURE_IMPORT_PART_BYTES` says otherwise: a part's facts take roughly
/// six times its size in memory, so this keeps an import's memory near a
/// hundred megabytes whatever the file's size. A file up to twice this is
/// read whole.
const PART_BYTES: u64 = 12 << 20;

fn part_bytes() -> u64 {
    std::env::var("TENURE_IMPORT_PART_BYTES")
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|&bytes| bytes > 0)
        .unwrap_or(PART_BYTES)
}

/// Facts by person, each person's in date order (same-day facts in file
/// order).
pub(super) type FactsByPerson = BTreeMap<facts::Text, Vec<Fact>>;

/// One person's rows of a file.
#[derive(Debug)]
pub(super) enum PersonRows {
    /// Facts as a facts file states them, in date order.
    Facts(Vec<Fact>),
    /// What census returns observed of a worker: the facts are derived
    /// once their history is loaded (`census_derive.rs`).
    Observed(Vec<Observation>),
}

impl PersonRows {
    /// How many rows of the file these are (an absence from a return is none).
    pub(super) fn rows(&self) -> usize {
        match self {
            PersonRows::Facts(facts) => facts.len(),
            PersonRows::Observed(observed) => observed.iter().filter(|o| o.line() > 0).count(),
        }
    }
}

/// One part of a file, read: rows by person, the rows refused, how many
/// rows it had, and (a census return) the returns it holds.
pub(super) struct Part {
    pub(super) by_person: BTreeMap<facts::Text, PersonRows>,
    pub(super) errors: Vec<RowError>,
    pub(super) rows: usize,
    pub(super) returns: Option<Returns>,
}

/// The file as the importer takes it: its digest, the rows refused while
/// splitting it, and its parts.
pub(super) struct ReadFile {
    pub(super) sha256: String,
    /// Rows of a split file, the header excluded (a file read whole is
    /// counted as its one part is read).
    pub(super) rows: usize,
    /// Rows refused before any part was read (a header that is not a facts
    /// file's, an unreadable row, a row with the wrong number of fields).
    pub(super) errors: Vec<RowError>,
    pub(super) parts: Parts,
}

/// Where the rows of each part are.
pub(super) enum Parts {
    /// The whole file is one part (and it is a census return when the
    /// flag says so: a return has one row per worker and year, so even a
    /// national one is read whole).
    Whole(FactsFile, bool),
    /// The file was split into numbered CSV files (each row's first field
    /// its line in the original), removed when this is dropped: part 0
    /// holds the rows about no person (cohorts and posts, which an import
    /// decides before and after everyone), parts 1 to `count` the people.
    Split { dir: PartsDir, count: usize },
    /// The header is refused: nothing to read.
    None,
}

impl Parts {
    /// How many parts there are.
    pub(super) fn len(&self) -> usize {
        match self {
            Parts::Whole(..) => 1,
            Parts::Split { count, .. } => count + 1,
            Parts::None => 0,
        }
    }

    /// Part `n`, read.
    pub(super) fn read(&self, n: usize) -> std::io::Result<Part> {
        let facts = |(by_person, errors, rows): (FactsByPerson, Vec<RowError>, usize)| Part {
            by_person: by_person.into_iter().map(|(p, f)| (p, PersonRows::Facts(f))).collect(),
            errors,
            rows,
            returns: None,
        };
        match self {
            Parts::Whole(FactsFile::Bytes(bytes), true) => Ok(read_return(bytes.as_slice())),
            Parts::Whole(FactsFile::Path(path), true) => Ok(read_return(open(path)?)),
            Parts::Whole(FactsFile::Bytes(bytes), false) => Ok(facts(read_rows(bytes.as_slice(), Lines::FromPosition))),
            Parts::Whole(FactsFile::Path(path), false) => Ok(facts(read_rows(open(path)?, Lines::FromPosition))),
            Parts::Split { dir, .. } => Ok(facts(read_rows(open(&dir.part(n))?, Lines::FirstField))),
            Parts::None => Ok(facts((BTreeMap::new(), Vec::new(), 0))),
        }
    }
}

/// Every row of a census return (`census.rs`).
fn read_return(file: impl Read) -> Part {
    let mut reader = csv::ReaderBuilder::new().flexible(true).from_reader(file);
    let names = match reader.headers() {
        Ok(names) => names.clone(),
        Err(e) => {
            return Part {
                by_person: BTreeMap::new(),
                errors: vec![unreadable(1, &e)],
                rows: 0,
                returns: None,
            }
        }
    };
    let (observed, errors, rows, returns) = census::read_rows(&mut reader, &names);
    Part {
        by_person: observed
            .into_iter()
            .map(|(p, o)| (p, PersonRows::Observed(o)))
            .collect(),
        errors,
        rows,
        returns: Some(returns),
    }
}

/// Whether `file` is to be read as a census return.
fn is_census(file: &FactsFile, format: FileFormat) -> std::io::Result<bool> {
    let header = |file: &mut dyn Read| {
        let mut reader = csv::ReaderBuilder::new().flexible(true).from_reader(file);
        reader.headers().map(census::is_census_header).unwrap_or(false)
    };
    Ok(match format {
        FileFormat::Facts => false,
        FileFormat::Census => true,
        FileFormat::Auto => match file {
            FactsFile::Bytes(bytes) => header(&mut bytes.as_slice()),
            FactsFile::Path(path) => header(&mut open(path)?),
        },
    })
}

fn open(path: &Path) -> std::io::Result<BufReader<std::fs::File>> {
    Ok(BufReader::with_capacity(1 << 16, std::fs::File::open(path)?))
}

/// Reads `file` far enough to import it part by part.
pub(super) fn read_file(file: FactsFile, format: FileFormat) -> std::io::Result<ReadFile> {
    let census = is_census(&file, format)?;
    match file {
        FactsFile::Bytes(bytes) => {
            let sha256 = facts::hex(&Sha256::digest(&bytes));
            whole(sha256, FactsFile::Bytes(bytes), census)
        }
        FactsFile::Path(path) => {
            let mut digest = Sha256::new();
            std::io::copy(&mut std::fs::File::open(&path)?, &mut digest)?;
            let sha256 = facts::hex(&digest.finalize());
            let size = std::fs::metadata(&path)?.len();
            let part_bytes = part_bytes();
            if census || size <= 2 * part_bytes {
                whole(sha256, FactsFile::Path(path), census)
            } else {
                let count = size.div_ceil(part_bytes) as usize;
                split(sha256, &path, count)
            }
        }
    }
}

/// A file read whole (its rows are counted as they are read).
fn whole(sha256: String, file: FactsFile, census: bool) -> std::io::Result<ReadFile> {
    Ok(ReadFile {
        sha256,
        rows: 0,
        errors: Vec::new(),
        parts: Parts::Whole(file, census),
    })
}

/// Splits the file at `path` into `count` parts by person.
fn split(sha256: String, path: &Path, count: usize) -> std::io::Result<ReadFile> {
    let mut reader = csv::ReaderBuilder::new().flexible(true).from_reader(open(path)?);
    let mut errors = Vec::new();
    let names = match reader.headers() {
        Ok(names) => names.clone(),
        Err(e) => {
            return Ok(ReadFile {
                sha256,
                rows: 0,
                errors: vec![unreadable(1, &e)],
                parts: Parts::None,
            })
        }
    };
    if let Err(header_errors) = Header::read(&names) {
        return Ok(ReadFile {
            sha256,
            rows: 0,
            errors: header_errors,
            parts: Parts::None,
        });
    }
    let person_column = names.iter().position(|name| name.trim() == "person");
    let dir = PartsDir::create()?;
    let mut writers = (0..=count)
        .map(|n| {
            let mut writer =
                csv::Writer::from_writer(BufWriter::with_capacity(1 << 16, std::fs::File::create(dir.part(n))?));
            writer.write_record(std::iter::once("line").chain(names.iter()))?;
            Ok(writer)
        })
        .collect::<std::io::Result<Vec<_>>>()?;
    let mut written = Ok(());
    let rows = each_row(reader, person_column, |parsed| match parsed {
        Parsed::Refused(error) => errors.push(error),
        Parsed::Row { line, record } => {
            if record.len() != names.len() {
                errors.push(wrong_number_of_fields(
                    line,
                    record.len(),
                    names.len(),
                    person_of(&record, person_column),
                ));
                return;
            }
            let person = person_column.and_then(|i| record.get(i)).map_or("", str::trim);
            let part = if person.is_empty() {
                0
            } else {
                let mut hasher = std::collections::hash_map::DefaultHasher::new();
                person.hash(&mut hasher);
                1 + (hasher.finish() % count as u64) as usize
            };
            let line = line.to_string();
            if written.is_ok() {
                written = writers[part].write_record(std::iter::once(line.as_str()).chain(record.iter()));
            }
        }
    });
    written?;
    for mut writer in writers {
        writer.flush()?;
    }
    Ok(ReadFile {
        sha256,
        rows,
        errors,
        parts: Parts::Split { dir, count },
    })
}

/// Where a row's line number comes from.
#[derive(Clone, Copy)]
enum Lines {
    /// The reader's position in the original file.
    FromPosition,
    /// The first field of a part's row (the rest is the original row).
    FirstField,
}

/// Every row of `file`: facts by person, in date order (same-day facts in
/// file order), and the rows refused.
fn read_rows(file: impl Read, lines: Lines) -> (FactsByPerson, Vec<RowError>, usize) {
    let mut reader = csv::ReaderBuilder::new().flexible(true).from_reader(file);
    let mut by_person = FactsByPerson::new();
    let mut texts = facts::Interner::default();
    let mut errors = Vec::new();
    let names = match reader.headers() {
        Ok(names) => numbered(names, lines),
        Err(e) => return (by_person, vec![unreadable(1, &e)], 0),
    };
    // A part's rows start with their line: the person, and every column,
    // is one field further.
    let shift = usize::from(matches!(lines, Lines::FirstField));
    let header = match Header::read(&names) {
        Ok(header) => header.after_fields(shift),
        Err(header_errors) => return (by_person, header_errors, 0),
    };
    let person_column = names.iter().position(|name| name.trim() == "person").map(|i| i + shift);
    let rows = each_row(reader, person_column, |parsed| match parsed {
        Parsed::Refused(error) => errors.push(error),
        Parsed::Row { line: position, record } => {
            let line = match lines {
                Lines::FromPosition => position,
                Lines::FirstField => record.get(0).and_then(|l| l.parse().ok()).unwrap_or_default(),
            };
            if record.len() != names.len() + shift {
                errors.push(wrong_number_of_fields(
                    line,
                    record.len() - shift.min(record.len()),
                    names.len(),
                    person_of(&record, person_column),
                ));
                return;
            }
            match header.fact(line, &record, &mut texts) {
                Ok(fact) => by_person.entry(fact.person.clone()).or_default().push(fact),
                Err(row_errors) => errors.extend(row_errors),
            }
        }
    });
    for facts in by_person.values_mut() {
        facts.sort_by_key(|f| (f.effective_on, f.line));
    }
    (by_person, errors, rows)
}

/// The original row of a part's row (its line number dropped).
fn numbered(record: &csv::StringRecord, lines: Lines) -> csv::StringRecord {
    match lines {
        Lines::FromPosition => record.clone(),
        Lines::FirstField => record.iter().skip(1).collect(),
    }
}

/// A directory of parts in the system's temporary directory, removed
/// (with its parts) when dropped, whatever way the import ends.
pub(super) struct PartsDir(PathBuf);

impl PartsDir {
    fn create() -> std::io::Result<PartsDir> {
        let dir = std::env::temp_dir().join(format!("tenure-import-parts-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir(&dir)?;
        Ok(PartsDir(dir))
    }

    fn part(&self, n: usize) -> PathBuf {
        self.0.join(format!("part-{n}.csv"))
    }
}

impl Drop for PartsDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[cfg(test)]
#[path = "read_tests.rs"]
mod tests;
