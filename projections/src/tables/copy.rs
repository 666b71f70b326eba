//! Read-model rows in PostgreSQL's binary `COPY` format, for writing many
//! aggregates at once (a rebuild, a projector far behind).
//!
//! Binary rather than text: every value goes in as the same bytes the
//! `UNNEST` inserts of [`super::write`] bind (a date as days since
//! 2000-01-01, a float as its IEEE bits, text as UTF-8), so no value needs
//! escaping and the server checks each exactly as it checks a bound
//! parameter: a date it cannot hold, or text with a NUL byte, fails the
//! `COPY` with the same SQLSTATE class (22) as the insert would, and the
//! caller falls back to writing stream by stream to park the event.

use chrono::NaiveDate;
use sqlx::PgConnection;
use uuid::Uuid;

use crate::derive::Part;
use crate::reports::model::{Cohort, Person, Post};

/// The signature, flags and header extension of a binary `COPY`.
const HEADER: &[u8] = b"PGCOPY\n\xff\r\n\0\0\0\0\0\0\0\0\0";

/// The rows of one table, encoded.
struct Table {
    name: &'static str,
    columns: &'static str,
    bytes: Vec<u8>,
    rows: usize,
}

impl Table {
    fn new(name: &'static str, columns: &'static str) -> Self {
        Table {
            name,
            columns,
            bytes: HEADER.to_vec(),
            rows: 0,
        }
    }

    /// Starts a row of `fields` values.
    fn row(&mut self, fields: i16) -> &mut Self {
        self.rows += 1;
        self.bytes.extend_from_slice(&fields.to_be_bytes());
        self
    }

    fn value(&mut self, bytes: &[u8]) -> &mut Self {
        // A read-model value is far below 2 GiB; a longer one cannot be
        // sent as one field, and is sent as NULL so the server refuses it.
        match i32::try_from(bytes.len()) {
            Ok(len) => {
                self.bytes.extend_from_slice(&len.to_be_bytes());
                self.bytes.extend_from_slice(bytes);
            }
            Err(_) => self.null(),
        }
        self
    }

    fn null(&mut self) {
        self.bytes.extend_from_slice(&(-1_i32).to_be_bytes());
    }

    fn uuid(&mut self, id: Uuid) -> &mut Self {
        self.value(id.as_bytes())
    }

    fn opt_uuid(&mut self, id: Option<Uuid>) -> &mut Self {
        match id {
            Some(id) => self.uuid(id),
            None => self.nothing(),
        }
    }

    fn text(&mut self, text: &str) -> &mut Self {
        self.value(text.as_bytes())
    }

    fn opt_text(&mut self, text: Option<&str>) -> &mut Self {
        match text {
            Some(t) => self.text(t),
            None => self.nothing(),
        }
    }

    fn nothing(&mut self) -> &mut Self {
        self.null();
        self
    }

    /// A `date`: days since 2000-01-01, PostgreSQL's epoch.
    fn date(&mut self, date: NaiveDate) -> &mut Self {
        let days = (date - epoch()).num_days();
        // chrono's dates lie within ±262,143 years, so the days always fit.
        self.value(&i32::try_from(days).unwrap_or(i32::MAX).to_be_bytes())
    }

    fn opt_date(&mut self, date: Option<NaiveDate>) -> &mut Self {
        match date {
            Some(d) => self.date(d),
            None => self.nothing(),
        }
    }

    fn int(&mut self, n: i32) -> &mut Self {
        self.value(&n.to_be_bytes())
    }

    fn bigint(&mut self, n: i64) -> &mut Self {
        self.value(&n.to_be_bytes())
    }

    fn opt_smallint(&mut self, n: Option<u8>) -> &mut Self {
        match n {
            Some(n) => self.value(&i16::from(n).to_be_bytes()),
            None => self.nothing(),
        }
    }

    fn float(&mut self, x: f64) -> &mut Self {
        self.value(&x.to_bits().to_be_bytes())
    }

    fn bool(&mut self, b: bool) -> &mut Self {
        self.value(&[u8::from(b)])
    }
}

fn epoch() -> NaiveDate {
    NaiveDate::from_ymd_opt(2000, 1, 1).expect("2000-01-01 is a date")
}

/// The position of a child among its siblings, as the `ordinal` column.
fn ordinal(i: usize) -> i32 {
    i32::try_from(i).unwrap_or(i32::MAX)
}

/// The snake_case text of an enumeration's serde form (`"interim"`), as
/// [`super::write`] stores it.
fn text_of<T: serde::Serialize>(value: &T) -> String {
    super::write::text(value)
}

/// The rows of many aggregates, table by table, ready to `COPY`.
pub(crate) struct CopyRows {
    tables: [Table; 9],
}

const PARTICIPANTS: usize = 0;
const SPELLS: usize = 1;
const MOVES: usize = 2;
const LEAVINGS: usize = 3;
const EXCLUSIONS: usize = 4;
const COHORTS: usize = 5;
const COHORT_MEMBERS: usize = 6;
const POSTS: usize = 7;
const POST_OCCUPANCIES: usize = 8;

impl Default for CopyRows {
    fn default() -> Self {
        CopyRows {
            tables: [
                Table::new("participants", "participant_id, external_ref, joined_on, version"),
                Table::new(
                    "spells",
                    "participant_id, ordinal, organisation, team, role_code, role_level, post_id, basis, fte, \
                     from_on, until_on, ended_by",
                ),
                Table::new(
                    "moves",
                    "participant_id, ordinal, effective_on, from_role, from_level, from_organisation, to_role, \
                     to_level, to_organisation, kind, internal, rejoining",
                ),
                Table::new(
                    "leavings",
                    "participant_id, ordinal, effective_on, organisation, role_code, fte",
                ),
                Table::new("exclusions", "participant_id, ordinal, from_on, until_on, reason"),
                Table::new("cohorts", "cohort_id, programme, name, starts_on, version"),
                Table::new(
                    "cohort_members",
                    "cohort_id, participant_id, enrolled_on, completed_on, withdrawn_on",
                ),
                Table::new(
                    "posts",
                    "post_id, organisation, title, role_code, established_on, disestablished_on, version",
                ),
                Table::new(
                    "post_occupancies",
                    "post_id, ordinal, participant_id, basis, from_on, until_on",
                ),
            ],
        }
    }
}

impl CopyRows {
    /// Adds the rows of one aggregate at stream version `version`.
    pub(crate) fn add(&mut self, part: &Part, version: i64) {
        match part {
            Part::Person(p) => self.person(p, version),
            Part::Cohort(c) => self.cohort(c, version),
            Part::Post(p) => self.post(p, version),
            Part::Nothing => {}
        }
    }

    fn person(&mut self, p: &Person, version: i64) {
        let id = p.participant_id;
        self.tables[PARTICIPANTS]
            .row(4)
            .uuid(id)
            .text(&p.external_ref)
            .opt_date(p.spells.first().map(|s| s.from))
            .bigint(version);
        let t = &mut self.tables[SPELLS];
        for (i, s) in p.spells.iter().enumerate() {
            t.row(12)
                .uuid(id)
                .int(ordinal(i))
                .text(&s.organisation)
                .opt_text(s.team.as_deref())
                .text(&s.role_code)
                .opt_smallint(s.role_level)
                .opt_uuid(s.post_id)
                .text(&text_of(&s.basis))
                .float(s.fte)
                .date(s.from)
                .opt_date(s.until)
                .opt_text(s.ended_by.as_ref().map(text_of).as_deref());
        }
        let t = &mut self.tables[MOVES];
        for (i, m) in p.moves.iter().enumerate() {
            t.row(12)
                .uuid(id)
                .int(ordinal(i))
                .date(m.effective_on)
                .text(&m.from_role)
                .opt_smallint(m.from_level)
                .text(&m.from_organisation)
                .text(&m.to_role)
                .opt_smallint(m.to_level)
                .text(&m.to_organisation)
                .text(&text_of(&m.kind))
                .bool(m.internal)
                .bool(m.rejoining);
        }
        let t = &mut self.tables[LEAVINGS];
        for (i, l) in p.leavings.iter().enumerate() {
            t.row(6)
                .uuid(id)
                .int(ordinal(i))
                .date(l.effective_on)
                .text(&l.organisation)
                .text(&l.role_code)
                .float(l.fte);
        }
        let t = &mut self.tables[EXCLUSIONS];
        for (i, x) in p.exclusions.iter().enumerate() {
            t.row(5)
                .uuid(id)
                .int(ordinal(i))
                .date(x.from)
                .opt_date(x.until)
                .text(&x.reason);
        }
    }

    fn cohort(&mut self, c: &Cohort, version: i64) {
        self.tables[COHORTS]
            .row(5)
            .uuid(c.cohort_id)
            .text(&c.programme)
            .text(&c.name)
            .date(c.starts_on)
            .bigint(version);
        let t = &mut self.tables[COHORT_MEMBERS];
        for m in &c.members {
            t.row(5)
                .uuid(c.cohort_id)
                .uuid(m.participant_id)
                .date(m.enrolled_on)
                .opt_date(m.completed_on)
                .opt_date(m.withdrawn_on);
        }
    }

    fn post(&mut self, p: &Post, version: i64) {
        self.tables[POSTS]
            .row(7)
            .uuid(p.post_id)
            .text(&p.organisation)
            .text(&p.title)
            .text(&p.role_code)
            .date(p.established_on)
            .opt_date(p.disestablished_on)
            .bigint(version);
        let t = &mut self.tables[POST_OCCUPANCIES];
        for (i, o) in p.occupancies.iter().enumerate() {
            t.row(6)
                .uuid(p.post_id)
                .int(ordinal(i))
                .uuid(o.participant_id)
                .text(&text_of(&o.basis))
                .date(o.from)
                .opt_date(o.until);
        }
    }

    /// Sends every table's rows into the tables of `schema`, one `COPY`
    /// per table that has any.
    pub(crate) async fn copy_into(self, conn: &mut PgConnection, schema: &str) -> Result<(), sqlx::Error> {
        for mut table in self.tables {
            if table.rows == 0 {
                continue;
            }
            table.bytes.extend_from_slice(&(-1_i16).to_be_bytes());
            let mut copy = conn
                .copy_in_raw(&format!(
                    "COPY {schema}.{} ({}) FROM STDIN (FORMAT binary)",
                    table.name, table.columns
                ))
                .await?;
            copy.send(table.bytes).await?;
            copy.finish().await?;
        }
        Ok(())
    }
}
