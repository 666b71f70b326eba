//! Reading reports over HTTP, and CSV answers as rows keyed by column.

use std::collections::HashMap;

use super::{Reply, TestApp};

/// One CSV row: column name to cell.
pub(crate) type Row = HashMap<String, String>;

/// CSV text as rows keyed by header.
pub(crate) fn csv_rows(text: &str) -> Vec<Row> {
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let headers = reader.headers().expect("header").clone();
    reader
        .records()
        .map(|r| {
            let r = r.expect("row");
            headers
                .iter()
                .zip(r.iter())
                .map(|(h, v)| (h.to_string(), v.to_string()))
                .collect()
        })
        .collect()
}

/// The row whose `key` column is `value`.
pub(crate) fn row<'a>(rows: &'a [Row], key: &str, value: &str) -> &'a Row {
    rows.iter()
        .find(|r| r.get(key).map(String::as_str) == Some(value))
        .unwrap_or_else(|| panic!("no row with {key} = {value} in {rows:?}"))
}

/// `row[column]` as `&str`.
pub(crate) fn cell<'a>(row: &'a Row, column: &str) -> &'a str {
    row.get(column)
        .unwrap_or_else(|| panic!("no column {column} in {row:?}"))
        .as_str()
}

/// A recorded time as a `known_at` query value (`+` must be sent as `%2B`).
pub(crate) fn encode(at: &str) -> String {
    at.replace('+', "%2B")
}

impl TestApp {
    /// `GET /api/v1/reports/{kind}?{query}`, whatever the answer.
    pub(crate) async fn report(&self, kind: &str, query: &str) -> Reply {
        self.get(&format!("/api/v1/reports/{kind}?{query}")).await
    }

    /// A report's CSV text (insisting on 200). Without `known_at`, from the
    /// live read models once the projector has caught up with every event
    /// recorded so far; with it, as known at that recorded time.
    pub(crate) async fn report_csv_text(&self, kind: &str, query: &str, known_at: Option<&str>) -> String {
        let query = match known_at {
            Some(at) => format!("{query}&format=csv&known_at={}", encode(at)),
            None => format!("{query}&format=csv&min_position={}", self.max_position().await),
        };
        // The server waits up to 5 s for the projector; on a busy machine ask
        // again a few times ("retry shortly", as its 503 says).
        for _ in 0..5 {
            let reply = self.report(kind, &query).await;
            if reply.status != 503 {
                assert_eq!(reply.status, 200, "{kind}?{query}: {}", reply.text);
                return reply.text;
            }
        }
        panic!("{kind}?{query}: the projector stayed behind for 25 s")
    }

    /// A report as CSV rows from the live read models, once the projector
    /// has caught up with every event recorded so far.
    pub(crate) async fn report_csv(&self, kind: &str, query: &str) -> Vec<Row> {
        csv_rows(&self.report_csv_text(kind, query, None).await)
    }

    /// A report as CSV rows as known at a recorded time.
    pub(crate) async fn report_csv_known_at(&self, kind: &str, query: &str, known_at: &str) -> Vec<Row> {
        csv_rows(&self.report_csv_text(kind, query, Some(known_at)).await)
    }
}
