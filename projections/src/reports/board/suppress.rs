//! Small-number suppression of one table of counts, for the board view.
//!
//! A table is its cells' counts and the sums that hold between them (each a
//! [`Sum`]: a total and the cells it adds up). Suppression marks:
//!
//! - **below the threshold**: every count from 1 to `threshold − 1` (shown
//!   `<5` by default). Zero is shown: a board needs to see that nobody left,
//!   and the secondary rule below protects the cells a zero sits beside;
//! - **protecting**: cells withheld only so that no suppressed cell can be
//!   worked out from what is shown (secondary suppression).
//!
//! A suppressed cell other than a zero (zeros are shown anyway) is
//! *exposed* when what is shown pins its value, either
//! through the sums taken together (it is a linear combination of shown
//! values: subtraction from a row and a column total, say) or through one sum
//! and what readers know of the other suppressed cells (a cell below the
//! threshold lies between 1 and `threshold − 1`, so two of them adding to 8
//! are both 4), narrowed sum by sum until nothing moves. While a cell is exposed, the smallest shown cell
//! of a sum it is in is withheld too: parts before totals, zeros last. The loop ends
//! because every round withholds one more cell.
//!
//! Narrowing bounds sum by sum is not a full integer programme; the tests
//! enumerate every value the suppressed cells of hand-made tables
//! could take to show that none is pinned.

/// One sum that holds in a table: `cells[total] = Σ cells[parts]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sum {
    pub total: usize,
    pub parts: Vec<usize>,
}

/// What a reader assumes a withheld cell that is not below the threshold
/// may be: any count (far above any real one, small enough not to overflow).
const UNBOUNDED: i128 = 1 << 40;

/// Why a cell is shown or not.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mark {
    Shown,
    /// From 1 to `threshold − 1`.
    BelowThreshold,
    /// Withheld so that a suppressed cell cannot be worked out.
    Protecting,
}

impl Mark {
    pub fn is_suppressed(self) -> bool {
        self != Mark::Shown
    }
}

/// The marks of `counts` under `sums` at `threshold` (at least 2).
/// `printed[i]` is false for a count that no view prints but that readers
/// could get by subtraction: it starts withheld, and is protected only when
/// small.
pub fn suppress(counts: &[u64], sums: &[Sum], threshold: u64, printed: &[bool]) -> Vec<Mark> {
    let mut marks: Vec<Mark> = counts
        .iter()
        .zip(printed)
        .map(|(&c, &printed)| match (c > 0 && c < threshold, printed) {
            (true, _) => Mark::BelowThreshold,
            (false, true) => Mark::Shown,
            (false, false) => Mark::Protecting,
        })
        .collect();
    // The cells that must not be worked out: small ones, and every printed
    // one withheld (a `*` a reader can undo protects nothing); never a zero.
    let guarded = |c: usize, marks: &[Mark]| {
        counts[c] > 0 && (marks[c] == Mark::BelowThreshold || (printed[c] && marks[c] == Mark::Protecting))
    };
    loop {
        // First the plain case, a sum with one withheld cell, which a total
        // minus the other cells gives away: withhold its smallest shown part.
        let single = sums.iter().find(|s| {
            let mut hidden = cells_of(s).filter(|&c| marks[c].is_suppressed());
            matches!((hidden.next(), hidden.next()), (Some(c), None) if guarded(c, &marks))
        });
        let fix = match single {
            Some(s) => smallest_shown(counts, std::iter::once(s), &marks, usize::MAX, &|c| {
                // A cell that also ends another sum's single withheld cell.
                sums.iter().any(|o| {
                    o != s
                        && cells_of(o).any(|x| x == c)
                        && cells_of(o).filter(|&x| marks[x].is_suppressed()).count() == 1
                })
            }),
            None => match exposed(counts, sums, &marks, threshold, &|c| guarded(c, &marks)) {
                // The sums the cell is in, else (all withheld already) any
                // sum holding a withheld cell: the bounds that pinned it
                // came through them.
                Some(cell) => smallest_shown(
                    counts,
                    sums.iter().filter(|s| cells_of(s).any(|c| c == cell)),
                    &marks,
                    cell,
                    &|_| false,
                )
                .or_else(|| {
                    smallest_shown(
                        counts,
                        sums.iter().filter(|s| cells_of(s).any(|c| marks[c].is_suppressed())),
                        &marks,
                        cell,
                        &|_| false,
                    )
                }),
                None => break,
            },
        };
        match fix {
            Some(p) => marks[p] = Mark::Protecting,
            // Every sum holding the cell is withheld whole: nothing shown
            // is left to withhold (cannot happen with the reports' tables).
            None => break,
        }
    }
    marks
}

fn cells_of(s: &Sum) -> impl Iterator<Item = usize> + '_ {
    std::iter::once(s.total).chain(s.parts.iter().copied())
}

/// The first guarded withheld cell whose value the shown cells pin, if any.
fn exposed(
    counts: &[u64],
    sums: &[Sum],
    marks: &[Mark],
    threshold: u64,
    guarded: &dyn Fn(usize) -> bool,
) -> Option<usize> {
    let hidden: Vec<usize> = (0..counts.len()).filter(|&i| marks[i].is_suppressed()).collect();
    if hidden.is_empty() {
        return None;
    }
    let column_of = |cell: usize| hidden.iter().position(|&h| h == cell);
    // Each sum as `Σ coefficient × hidden cell = known`.
    let equations: Vec<(Vec<(usize, f64)>, i128)> = sums
        .iter()
        .filter_map(|s| {
            let mut terms = Vec::new();
            let mut known: i128 = 0;
            for (cell, sign) in std::iter::once((s.total, -1i128)).chain(s.parts.iter().map(|&p| (p, 1))) {
                match column_of(cell) {
                    Some(col) => terms.push((col, sign as f64)),
                    None => known -= sign * counts[cell] as i128,
                }
            }
            (!terms.is_empty()).then_some((terms, known))
        })
        .collect();
    let rows: Vec<Vec<f64>> = equations
        .iter()
        .map(|(terms, _)| {
            let mut row = vec![0.0; hidden.len()];
            for &(col, c) in terms {
                row[col] += c;
            }
            row
        })
        .collect();
    let determined = determined_columns(rows, hidden.len());
    if let Some(col) = (0..hidden.len()).find(|&col| determined[col] && guarded(hidden[col])) {
        return Some(hidden[col]);
    }
    // Bounds: what a reader knows of each hidden cell, narrowed by every
    // sum in turn until nothing moves (`Σ c·x = known` gives
    // `c_j·x_j = known − Σ_{i≠j} c_i·x_i`).
    let mut bounds: Vec<(i128, i128)> = hidden
        .iter()
        .map(|&cell| match marks[cell] {
            Mark::BelowThreshold => (1, threshold as i128 - 1),
            _ => (0, UNBOUNDED),
        })
        .collect();
    let mut moved = true;
    let mut rounds = 0;
    while moved && rounds < 1_000 {
        moved = false;
        rounds += 1;
        for (terms, known) in &equations {
            for (j, &(col, cj)) in terms.iter().enumerate() {
                let (mut rest_min, mut rest_max) = (0i128, 0i128);
                for (i, &(other, ci)) in terms.iter().enumerate() {
                    if i != j {
                        let (lo, hi) = bounds[other];
                        let (lo, hi) = if ci > 0.0 { (lo, hi) } else { (-hi, -lo) };
                        rest_min += lo;
                        rest_max += hi;
                    }
                }
                let (low, high) = (known - rest_max, known - rest_min);
                let (x_low, x_high) = if cj > 0.0 { (low, high) } else { (-high, -low) };
                let (lo, hi) = bounds[col];
                let narrowed = (lo.max(x_low), hi.min(x_high));
                if narrowed != (lo, hi) && narrowed.0 <= narrowed.1 {
                    bounds[col] = narrowed;
                    moved = true;
                }
            }
        }
    }
    hidden
        .iter()
        .zip(&bounds)
        .find(|(&cell, &(lo, hi))| guarded(cell) && lo == hi)
        .map(|(&cell, _)| cell)
}

/// The shown cell to withhold from `sums`: their smallest shown part, else
/// their smallest shown total (never `except`); a zero only when nothing
/// else is left, since a withheld zero is soon pinned again by the sums
/// (counts are never negative) and protects little; among equals, one that
/// also protects another sum's single withheld cell.
fn smallest_shown<'a>(
    counts: &[u64],
    sums: impl Iterator<Item = &'a Sum>,
    marks: &[Mark],
    except: usize,
    protects_another: &dyn Fn(usize) -> bool,
) -> Option<usize> {
    let mut best: Option<(bool, bool, bool, u64, usize)> = None;
    for s in sums {
        let candidates = s
            .parts
            .iter()
            .map(|&p| (false, p))
            .chain(std::iter::once((true, s.total)));
        for (is_total, c) in candidates {
            if c == except || marks[c].is_suppressed() {
                continue;
            }
            let key = (counts[c] == 0, is_total, !protects_another(c), counts[c], c);
            if best.is_none_or(|b| key < b) {
                best = Some(key);
            }
        }
    }
    best.map(|(_, _, _, _, c)| c)
}

/// Which unknowns the equations `rows` pin, whatever the others are: those
/// whose unit vector lies in the rows' span. Gauss–Jordan elimination (with
/// partial pivoting; the entries are small integers, so a fixed tolerance
/// is safe) leaves each pivot column zero in every other row, so a pivot
/// row pins its pivot unknown exactly when it is zero in every free column.
/// One elimination answers for every unknown: cubic in the table's size.
fn determined_columns(mut rows: Vec<Vec<f64>>, columns: usize) -> Vec<bool> {
    let mut pivots: Vec<(usize, usize)> = Vec::new();
    for col in 0..columns {
        let rank = pivots.len();
        let Some(pivot) = (rank..rows.len())
            .filter(|&r| rows[r][col].abs() > 1e-9)
            .max_by(|&a, &b| rows[a][col].abs().total_cmp(&rows[b][col].abs()))
        else {
            continue;
        };
        rows.swap(rank, pivot);
        let pivot_row = rows[rank].clone();
        for (r, row) in rows.iter_mut().enumerate() {
            if r != rank && row[col].abs() > 1e-9 {
                let factor = row[col] / pivot_row[col];
                for (x, p) in row[col..].iter_mut().zip(&pivot_row[col..]) {
                    *x -= factor * p;
                }
            }
        }
        pivots.push((rank, col));
    }
    let is_pivot: Vec<bool> = (0..columns).map(|c| pivots.iter().any(|&(_, p)| p == c)).collect();
    let mut determined = vec![false; columns];
    for &(row, col) in &pivots {
        determined[col] = (0..columns).all(|c| is_pivot[c] || rows[row][c].abs() <= 1e-9);
    }
    determined
}

#[cfg(test)]
#[path = "suppress_tests.rs"]
mod tests;
