//! The reader's attack on a suppressed table, for tests: for every withheld
//! cell, look for another table consistent with everything shown (the shown
//! cells, the sums, `<5` meaning 1 to 4) in which that cell differs.

use super::{Mark, Sum};

/// Whether some table other than `counts`, consistent with what `marks`
/// shows, gives `cell` another value.
fn can_differ(counts: &[u64], sums: &[Sum], marks: &[Mark], threshold: u64, cell: usize) -> bool {
    let cap = *counts.iter().max().unwrap();
    let hidden: Vec<usize> = (0..counts.len()).filter(|&i| marks[i].is_suppressed()).collect();
    let domain = |i: usize| match marks[i] {
        Mark::BelowThreshold => 1..=threshold - 1,
        _ => 0..=cap,
    };
    let mut values: Vec<Option<u64>> = counts
        .iter()
        .enumerate()
        .map(|(i, &c)| (!marks[i].is_suppressed()).then_some(c))
        .collect();
    // A sum fails as soon as its assigned parts exceed its total, or when
    // everything in it is assigned and does not add up.
    fn consistent(values: &[Option<u64>], sums: &[Sum]) -> bool {
        sums.iter().all(|s| {
            let assigned: u64 = s.parts.iter().filter_map(|&p| values[p]).sum();
            let complete = s.parts.iter().all(|&p| values[p].is_some());
            match values[s.total] {
                Some(t) => assigned <= t && (!complete || assigned == t),
                None => true,
            }
        })
    }
    fn search(
        depth: usize,
        hidden: &[usize],
        values: &mut Vec<Option<u64>>,
        sums: &[Sum],
        domain: &dyn Fn(usize) -> std::ops::RangeInclusive<u64>,
        goal: &dyn Fn(&[Option<u64>]) -> bool,
    ) -> bool {
        if depth == hidden.len() {
            return goal(values);
        }
        let cell = hidden[depth];
        for v in domain(cell) {
            values[cell] = Some(v);
            if consistent(values, sums) && search(depth + 1, hidden, values, sums, domain, goal) {
                return true;
            }
        }
        values[cell] = None;
        false
    }
    let truth = counts[cell];
    search(0, &hidden, &mut values, sums, &domain, &|v: &[Option<u64>]| {
        v[cell] != Some(truth)
    })
}

/// Every withheld count but a zero (zeros are shown) can take another
/// value, except counts nobody prints that are not small (`printed`).
pub(crate) fn assert_nothing_recoverable(
    counts: &[u64],
    sums: &[Sum],
    marks: &[Mark],
    threshold: u64,
    printed: &[bool],
) {
    let guarded = |i: usize| counts[i] > 0 && (printed[i] || marks[i] == Mark::BelowThreshold);
    for cell in (0..counts.len()).filter(|&i| marks[i].is_suppressed() && guarded(i)) {
        assert!(
            can_differ(counts, sums, marks, threshold, cell),
            "cell {cell} ({}) can be worked out from {counts:?} shown as {marks:?}",
            counts[cell]
        );
    }
}
