//! Suppression of hand-made and random tables, each attacked the way a
//! reader would ([`assert_nothing_recoverable`]).

use super::{suppress, Mark, Sum};
use crate::reports::board::attack::assert_nothing_recoverable;

/// A table of `rows × columns` inner cells, laid out row by row, then the
/// row totals, then the column totals, then the grand total; with every sum
/// that holds between them.
fn with_margins(inner: &[&[u64]]) -> (Vec<u64>, Vec<Sum>) {
    let (r, c) = (inner.len(), inner[0].len());
    let mut counts: Vec<u64> = inner.iter().flat_map(|row| row.iter().copied()).collect();
    let row_total = |i: usize| r * c + i;
    let column_total = |j: usize| r * c + r + j;
    let grand = r * c + r + c;
    counts.extend(inner.iter().map(|row| row.iter().sum::<u64>()));
    counts.extend((0..c).map(|j| inner.iter().map(|row| row[j]).sum::<u64>()));
    counts.push(inner.iter().flat_map(|row| row.iter()).sum());
    let mut sums: Vec<Sum> = (0..r)
        .map(|i| Sum {
            total: row_total(i),
            parts: (0..c).map(|j| i * c + j).collect(),
        })
        .collect();
    sums.extend((0..c).map(|j| Sum {
        total: column_total(j),
        parts: (0..r).map(|i| i * c + j).collect(),
    }));
    sums.push(Sum {
        total: grand,
        parts: (0..r).map(row_total).collect(),
    });
    sums.push(Sum {
        total: grand,
        parts: (0..c).map(column_total).collect(),
    });
    (counts, sums)
}

/// Every count printed.
fn all(counts: &[u64]) -> Vec<bool> {
    vec![true; counts.len()]
}

fn shown(counts: &[u64], marks: &[Mark]) -> Vec<String> {
    counts
        .iter()
        .zip(marks)
        .map(|(c, m)| match m {
            Mark::Shown => c.to_string(),
            Mark::BelowThreshold => "<5".into(),
            Mark::Protecting => "*".into(),
        })
        .collect()
}

#[test]
fn a_table_with_no_small_count_is_shown_whole() {
    let (counts, sums) = with_margins(&[&[12, 7], &[9, 30]]);
    let marks = suppress(&counts, &sums, 5, &all(&counts));
    assert!(marks.iter().all(|m| *m == Mark::Shown));
}

#[test]
fn one_small_cell_takes_the_smallest_cell_of_its_row_and_column_with_it() {
    // Outcomes by cohort, with row totals and column totals:
    //            c1  c2  c3 | total
    // promoted    3  10   8 |  21
    // left        6  12  20 |  38
    // ----------------------+------
    // total       9  22  28 |  59
    let (counts, sums) = with_margins(&[&[3, 10, 8], &[6, 12, 20]]);
    let marks = suppress(&counts, &sums, 5, &all(&counts));
    // Worked by hand: 3 is below 5. Its row would give it away (21 − 10 − 8),
    // so the smallest other cell of the row, 8, is withheld; its column would
    // too (9 − 6), so 6 is withheld; then column c3 (28 − 20) and row "left"
    // (38 − 6 − 12) each have one withheld cell, so 20 goes too; 20's
    // row already has 6 withheld.
    assert_eq!(
        shown(&counts, &marks),
        ["<5", "10", "*", "*", "12", "*", "21", "38", "9", "22", "28", "59"]
    );
    assert_nothing_recoverable(&counts, &sums, &marks, 5, &all(&counts));
}

#[test]
fn two_small_cells_that_add_up_to_a_shown_total_are_protected_by_a_third() {
    // Two cells of 4 under a total of 8: both are "<5", so both could only
    // be 4. The total's other cells are withheld until that no longer holds.
    let counts = vec![4, 4, 8];
    let sums = vec![Sum {
        total: 2,
        parts: vec![0, 1],
    }];
    let marks = suppress(&counts, &sums, 5, &all(&counts));
    assert_eq!(shown(&counts, &marks), ["<5", "<5", "*"]);
    assert_nothing_recoverable(&counts, &sums, &marks, 5, &all(&counts));
}

#[test]
fn a_zero_stays_shown_and_a_count_above_it_protects_the_small_cell() {
    // 2 + 0 + 9 = 11: without a second cell withheld the reader gets
    // 11 − 9 − 0 = 2. Withholding the zero would not do (2 + z = 2 with z
    // at least 0 pins both), so the 9 goes.
    let counts = vec![2, 0, 9, 11];
    let sums = vec![Sum {
        total: 3,
        parts: vec![0, 1, 2],
    }];
    let marks = suppress(&counts, &sums, 5, &all(&counts));
    assert_eq!(shown(&counts, &marks), ["<5", "0", "*", "11"]);
    assert_nothing_recoverable(&counts, &sums, &marks, 5, &all(&counts));
    let zeros_only = vec![0, 0, 9, 9];
    let marks = suppress(&zeros_only, &sums, 5, &all(&zeros_only));
    assert_eq!(shown(&zeros_only, &marks), ["0", "0", "9", "9"]);
}

#[test]
fn a_cell_alone_in_its_column_with_a_small_total_is_withheld_with_the_total() {
    // A row total below 5 is itself suppressed; its parts then give it away
    // unless one of them is withheld as well.
    let (counts, sums) = with_margins(&[&[1, 2, 0], &[7, 8, 9]]);
    let marks = suppress(&counts, &sums, 5, &all(&counts));
    assert_nothing_recoverable(&counts, &sums, &marks, 5, &all(&counts));
    assert_eq!(marks[0], Mark::BelowThreshold);
    assert_eq!(marks[1], Mark::BelowThreshold);
    // The row total (3) is below 5.
    assert_eq!(marks[6], Mark::BelowThreshold);
}

#[test]
fn a_higher_threshold_suppresses_more() {
    let (counts, sums) = with_margins(&[&[6, 12], &[15, 30]]);
    assert!(suppress(&counts, &sums, 5, &all(&counts))
        .iter()
        .all(|m| *m == Mark::Shown));
    let marks = suppress(&counts, &sums, 10, &all(&counts));
    assert_eq!(marks[0], Mark::BelowThreshold);
    assert_nothing_recoverable(&counts, &sums, &marks, 10, &all(&counts));
}

#[test]
fn random_tables_with_row_and_column_totals_give_nothing_away() {
    // A small deterministic generator: the tables are 2×3 or 3×2 with cells
    // from 0 to 11, so most have one or more small cells.
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = |bound: u64| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state % bound
    };
    for round in 0..200 {
        let (r, c) = if round % 2 == 0 { (2, 3) } else { (3, 2) };
        let inner: Vec<Vec<u64>> = (0..r).map(|_| (0..c).map(|_| next(10)).collect()).collect();
        let rows: Vec<&[u64]> = inner.iter().map(Vec::as_slice).collect();
        let (counts, sums) = with_margins(&rows);
        let marks = suppress(&counts, &sums, 5, &all(&counts));
        for (i, (&count, mark)) in counts.iter().zip(&marks).enumerate() {
            if count > 0 && count < 5 {
                assert_eq!(*mark, Mark::BelowThreshold, "cell {i} of {counts:?}");
            }
        }
        assert_nothing_recoverable(&counts, &sums, &marks, 5, &all(&counts));
    }
}

#[test]
fn a_count_nobody_prints_protects_the_small_cell_beside_it() {
    // Filled posts 45 = covered 3 + acting only 0 + permanent 42, where the
    // permanent posts are printed nowhere: the 3 needs nothing more
    // withheld, and the permanent count may be got by subtraction.
    let counts = vec![45, 3, 0, 42];
    let sums = vec![Sum {
        total: 0,
        parts: vec![1, 2, 3],
    }];
    let printed = [true, true, true, false];
    let marks = suppress(&counts, &sums, 5, &printed);
    assert_eq!(
        marks,
        [Mark::Shown, Mark::BelowThreshold, Mark::Shown, Mark::Protecting]
    );
    assert_nothing_recoverable(&counts, &sums, &marks, 5, &printed);
    // Printed, the 42 would have to be withheld (45 − 0 − 42 = 3).
    let marks = suppress(&counts, &sums, 5, &all(&counts));
    assert_eq!(shown(&counts, &marks), ["45", "<5", "0", "*"]);
}
