//! A report's answer as it leaves: JSON with CSV rows beside it, one page
//! of a long list, CSV text, or a plain-text table for the terminal.

use projections::reports::csv::ToCsvRows;
use serde::Serialize;
use serde_json::Value;

use super::ReportRequestError;

pub(super) fn render<R: Serialize + ToCsvRows>(report: &R) -> Result<(Value, Vec<Vec<String>>), ReportRequestError> {
    let rows = report.to_csv_rows();
    Ok((
        serde_json::to_value(report).map_err(ReportRequestError::internal)?,
        rows,
    ))
}

/// Writes rows as CSV text.
pub fn to_csv(rows: &[Vec<String>]) -> Result<String, ReportRequestError> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    for row in rows {
        writer.write_record(row).map_err(ReportRequestError::internal)?;
    }
    let bytes = writer.into_inner().map_err(ReportRequestError::internal)?;
    String::from_utf8(bytes).map_err(ReportRequestError::internal)
}

/// Writes rows as an aligned plain-text table for the terminal.
pub fn to_table(rows: &[Vec<String>]) -> String {
    let columns = rows.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> = (0..columns)
        .map(|c| {
            rows.iter()
                .filter_map(|r| r.get(c))
                .map(|s| s.chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut out = String::new();
    for (i, row) in rows.iter().enumerate() {
        let cells: Vec<String> = row
            .iter()
            .enumerate()
            .map(|(c, cell)| format!("{cell:<width$}", width = widths[c]))
            .collect();
        out.push_str(cells.join("  ").trim_end());
        out.push('\n');
        if i == 0 {
            out.push_str(&widths.iter().map(|w| "-".repeat(*w)).collect::<Vec<_>>().join("  "));
            out.push('\n');
        }
    }
    out
}

/// Keeps one page of a promotions answer's per-participant outcomes (which
/// grow with the population; the figures do not), and says how many there
/// are and where the next page starts (`null`: this is the last).
pub(super) fn page_participants(report: &mut Value, (offset, limit): (u64, u64)) {
    let Some(all) = report.get_mut("participants").and_then(Value::as_array_mut) else {
        return;
    };
    let total = all.len() as u64;
    let start = offset.min(total) as usize;
    let end = offset.saturating_add(limit).min(total) as usize;
    let page: Vec<Value> = all.drain(start..end).collect();
    *all = page;
    let next = (offset.saturating_add(limit) < total).then(|| offset + limit);
    report["participants_total"] = total.into();
    report["participants_offset"] = offset.into();
    report["participants_next_offset"] = next.into();
}
