//! Small, exact statistics behind the report figures (docs/metrics.md §2 and §3).
//!
//! Three tools, all pure functions over plain numbers:
//!
//! - [`compare_poisson_rates`]: the exact conditional test for two Poisson
//!   rates (before/after), with the Clopper–Pearson interval turned into a
//!   rate ratio;
//! - [`kaplan_meier`]: the Kaplan–Meier estimate with Greenwood's variance
//!   and 95% bounds on the log(−log) scale;
//! - [`median`]: the median of a list of values (months).

use serde::Serialize;
use statrs::distribution::{Beta, Binomial, ContinuousCDF, Discrete};

/// The normal quantile used for every 95% interval (docs/metrics.md uses 1.96).
pub const Z_95: f64 = 1.96;

/// Relative tolerance for "no more likely than the observed outcome", as R's
/// `binom.test` uses, so that outcomes tied in exact arithmetic but not in
/// floating point are treated as ties.
const TIE_TOLERANCE: f64 = 1e-7;

/// Result of the exact conditional comparison of two Poisson rates.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RateRatioTest {
    /// Events in the before period.
    pub before: u64,
    /// Events in the after period.
    pub after: u64,
    /// Exposure of the before period (person-days, or 1 for equal exposure).
    pub exposure_before: f64,
    /// Exposure of the after period.
    pub exposure_after: f64,
    /// π0 = exposure_after / (exposure_before + exposure_after): the
    /// probability that a leaver falls in the after period if the rate did
    /// not change.
    pub null_proportion: f64,
    /// Rate ratio after/before; `None` when it is infinite (no events before).
    pub rate_ratio: Option<f64>,
    /// Lower 95% bound of the rate ratio (0 when there are no events after).
    pub ci_lower: f64,
    /// Upper 95% bound; `None` when unbounded (no events before).
    pub ci_upper: Option<f64>,
    /// Two-sided p-value for "the rate did not change".
    pub p_value: f64,
}

/// Why no rate comparison could be made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, thiserror::Error)]
pub enum NoTest {
    /// n = 0: there is nothing to distribute between the two periods.
    #[error("no events in either period, so the rates cannot be compared")]
    NoEvents,
    /// An exposure was zero, negative or not finite.
    #[error("each period needs a positive, finite exposure")]
    InvalidExposure,
}

/// Exact conditional test of two Poisson rates (docs/metrics.md §2).
///
/// Given n = before + after, the after count is Binomial(n, π0) under "no
/// change". The two-sided p-value sums the probabilities of all outcomes no
/// more likely than the observed one; the 95% interval is Clopper–Pearson
/// for π, mapped to a rate ratio by RR = π/(1−π) · exposure_before /
/// exposure_after (the point estimate uses π̂ = after / n).
pub fn compare_poisson_rates(
    before: u64,
    after: u64,
    exposure_before: f64,
    exposure_after: f64,
) -> Result<RateRatioTest, NoTest> {
    let valid = |e: f64| e.is_finite() && e > 0.0;
    if !valid(exposure_before) || !valid(exposure_after) {
        return Err(NoTest::InvalidExposure);
    }
    let n = before + after;
    if n == 0 {
        return Err(NoTest::NoEvents);
    }
    let pi0 = exposure_after / (exposure_before + exposure_after);
    let to_ratio = |pi: f64| -> Option<f64> { (pi < 1.0).then(|| pi / (1.0 - pi) * exposure_before / exposure_after) };
    let (lower, upper) = clopper_pearson(after, n);
    Ok(RateRatioTest {
        before,
        after,
        exposure_before,
        exposure_after,
        null_proportion: pi0,
        rate_ratio: to_ratio(after as f64 / n as f64),
        ci_lower: to_ratio(lower).unwrap_or(0.0),
        ci_upper: to_ratio(upper),
        p_value: two_sided_binomial_p(after, n, pi0),
    })
}

/// Exact two-sided binomial p-value: the sum of P(X = k) over every k whose
/// probability is at most P(X = x) (with a 1e-7 relative tolerance).
pub fn two_sided_binomial_p(x: u64, n: u64, p: f64) -> f64 {
    let Ok(dist) = Binomial::new(p, n) else {
        return f64::NAN;
    };
    let observed = dist.pmf(x) * (1.0 + TIE_TOLERANCE);
    let total: f64 = (0..=n).map(|k| dist.pmf(k)).filter(|&pk| pk <= observed).sum();
    total.min(1.0)
}

/// Clopper–Pearson 95% interval for a binomial proportion x/n (n > 0).
/// The bounds are exactly 0 when x = 0 and exactly 1 when x = n.
pub fn clopper_pearson(x: u64, n: u64) -> (f64, f64) {
    let alpha = 0.05;
    let (xf, nf) = (x as f64, n as f64);
    let lower = if x == 0 {
        0.0
    } else {
        Beta::new(xf, nf - xf + 1.0).map_or(f64::NAN, |b| b.inverse_cdf(alpha / 2.0))
    };
    let upper = if x >= n {
        1.0
    } else {
        Beta::new(xf + 1.0, nf - xf).map_or(f64::NAN, |b| b.inverse_cdf(1.0 - alpha / 2.0))
    };
    (lower, upper)
}

/// One observation for [`kaplan_meier`]: follow-up time (any unit; the
/// retention report uses whole months) and whether it ended in the event
/// (`true`) or was censored (`false`).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Observation {
    /// Time at which follow-up ended.
    pub time: f64,
    /// `true` when follow-up ended with the event, `false` when censored.
    pub event: bool,
}

/// One step of a Kaplan–Meier table, at a distinct observed time.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct KmStep {
    /// The time.
    pub time: f64,
    /// Subjects still under observation just before this time.
    pub at_risk: u64,
    /// Events at this time.
    pub events: u64,
    /// Censorings at this time (counted at risk, removed after the events).
    pub censored: u64,
    /// Survival estimate S(t) just after this time.
    pub survival: f64,
    /// Lower 95% bound (log(−log) Greenwood).
    pub lower: f64,
    /// Upper 95% bound.
    pub upper: f64,
}

/// Kaplan–Meier estimate with Greenwood variance and 95% bounds on the
/// log(−log) scale: bounds are S^{exp(±1.96·se)} with
/// se = sqrt(Σ d/(n(n−d))) / |log S|; when S is 1 or 0 both bounds equal S.
/// Events at a time are taken before censorings at the same time.
/// Returns one step per distinct time, in increasing time order.
pub fn kaplan_meier(observations: &[Observation]) -> Vec<KmStep> {
    let mut sorted: Vec<Observation> = observations.iter().copied().filter(|o| o.time.is_finite()).collect();
    sorted.sort_by(|a, b| a.time.total_cmp(&b.time));
    let mut at_risk = sorted.len() as u64;
    let mut survival = 1.0_f64;
    let mut greenwood = 0.0_f64;
    let mut steps = Vec::new();
    let mut i = 0;
    while i < sorted.len() {
        let time = sorted[i].time;
        let same: Vec<&Observation> = sorted[i..].iter().take_while(|o| o.time == time).collect();
        let events = same.iter().filter(|o| o.event).count() as u64;
        let censored = same.len() as u64 - events;
        if events > 0 {
            survival *= 1.0 - events as f64 / at_risk as f64;
            if events < at_risk {
                greenwood += events as f64 / (at_risk as f64 * (at_risk - events) as f64);
            }
        }
        let (lower, upper) = log_log_bounds(survival, greenwood);
        steps.push(KmStep {
            time,
            at_risk,
            events,
            censored,
            survival,
            lower,
            upper,
        });
        at_risk -= same.len() as u64;
        i += same.len();
    }
    steps
}

/// 95% bounds for S on the log(−log) scale from Greenwood's sum.
fn log_log_bounds(survival: f64, greenwood: f64) -> (f64, f64) {
    if survival >= 1.0 || survival <= 0.0 {
        return (survival, survival);
    }
    let se = greenwood.sqrt() / survival.ln().abs();
    (survival.powf((Z_95 * se).exp()), survival.powf((-Z_95 * se).exp()))
}

/// Median of a list of values; for an even count, the mean of the two
/// middle values. `None` for an empty list.
pub fn median(values: &[f64]) -> Option<f64> {
    let mut v: Vec<f64> = values.iter().copied().filter(|x| !x.is_nan()).collect();
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    let mid = v.len() / 2;
    Some(if v.len() % 2 == 1 {
        v[mid]
    } else {
        (v[mid - 1] + v[mid]) / 2.0
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(actual: f64, expected: f64, tol: f64) -> bool {
        (actual - expected).abs() <= tol
    }

    /// Sum of C(n, k) for k in 0..=x, the exact tail used by hand below.
    fn binomial_coefficient(n: u64, k: u64) -> f64 {
        (0..k).fold(1.0, |acc, i| acc * (n - i) as f64 / (i + 1) as f64)
    }

    fn upper_tail(x: u64, n: u64, p: f64) -> f64 {
        (x..=n)
            .map(|k| binomial_coefficient(n, k) * p.powi(k as i32) * (1.0 - p).powi((n - k) as i32))
            .sum()
    }

    #[test]
    fn nineteen_before_and_nine_after_with_equal_exposure_is_the_worked_example() {
        // docs/metrics.md §2: RR = 9/19 = 0.4737; CI 0.19–1.10; p = 0.087.
        // By hand: n = 28, π0 = 0.5, Σ_{k=0..9} C(28,k) = 1+28+378+3276+20475
        // +98280+376740+1184040+3108105+6906900 = 11 698 223; over 2^28 =
        // 268 435 456 that is 0.043579; the distribution is symmetric, so
        // p = 2 × 0.043579 = 0.087158.
        let t = compare_poisson_rates(19, 9, 1.0, 1.0).unwrap();
        assert!(close(t.rate_ratio.unwrap(), 9.0 / 19.0, 1e-12));
        assert!(close(t.p_value, 0.087158, 1e-5), "p = {}", t.p_value);
        assert_eq!(format!("{:.3}", t.p_value), "0.087");
        assert_eq!(format!("{:.2}", t.ci_lower), "0.19");
        assert_eq!(format!("{:.2}", t.ci_upper.unwrap()), "1.10");
    }

    #[test]
    fn six_before_and_three_after_is_fragile_evidence() {
        // n = 9, π0 = 0.5: P(X ≤ 3) = (1+9+36+84)/512 = 130/512 = 0.25390625;
        // two-sided p = 0.5078125. RR = 3/6 = 0.5.
        let t = compare_poisson_rates(6, 3, 1.0, 1.0).unwrap();
        assert!(close(t.p_value, 0.5078125, 1e-9));
        assert!(close(t.rate_ratio.unwrap(), 0.5, 1e-12));
        // The Clopper–Pearson bounds solve P(X ≥ 3 | π_L) = 0.025 and
        // P(X ≤ 3 | π_U) = 0.025; RR = π/(1−π) for equal exposure.
        let pi_l = t.ci_lower / (1.0 + t.ci_lower);
        let pi_u = t.ci_upper.unwrap() / (1.0 + t.ci_upper.unwrap());
        assert!(close(upper_tail(3, 9, pi_l), 0.025, 1e-6));
        assert!(close(1.0 - upper_tail(4, 9, pi_u), 0.025, 1e-6));
    }

    #[test]
    fn thirteen_before_and_six_after() {
        // n = 19: Σ_{k=0..6} C(19,k) = 1+19+171+969+3876+11628+27132 = 43 796;
        // over 2^19 = 524 288 is 0.0835342; p = 0.1670685. RR = 6/13.
        let t = compare_poisson_rates(13, 6, 1.0, 1.0).unwrap();
        assert!(close(t.p_value, 43796.0 * 2.0 / 524288.0, 1e-9));
        assert!(close(t.rate_ratio.unwrap(), 6.0 / 13.0, 1e-12));
    }

    #[test]
    fn unequal_exposure_weights_the_null_and_the_ratio() {
        // 1 before over exposure 1, 1 after over exposure 3: π0 = 3/4, n = 2.
        // P(0) = 1/16, P(1) = 2·3/16 = 6/16, P(2) = 9/16. Observed 1 has
        // probability 6/16; outcomes no more likely: 0 and 1 → p = 7/16.
        // RR = (0.5/0.5)·(1/3) = 1/3.
        let t = compare_poisson_rates(1, 1, 1.0, 3.0).unwrap();
        assert!(close(t.null_proportion, 0.75, 1e-12));
        assert!(close(t.p_value, 7.0 / 16.0, 1e-9));
        assert!(close(t.rate_ratio.unwrap(), 1.0 / 3.0, 1e-12));
    }

    #[test]
    fn extremes_give_open_bounds_and_no_events_gives_no_test() {
        // 0 after: RR 0, lower bound 0. 0 before: RR and upper bound infinite.
        let t = compare_poisson_rates(4, 0, 1.0, 1.0).unwrap();
        assert_eq!(t.rate_ratio, Some(0.0));
        assert_eq!(t.ci_lower, 0.0);
        // Observed 0 of 4 has probability 1/16; so has 4 of 4: p = 2/16.
        assert!(close(t.p_value, 0.125, 1e-12));
        let t = compare_poisson_rates(0, 4, 1.0, 1.0).unwrap();
        assert_eq!(t.rate_ratio, None);
        assert_eq!(t.ci_upper, None);
        assert_eq!(compare_poisson_rates(0, 0, 1.0, 1.0), Err(NoTest::NoEvents));
        assert_eq!(compare_poisson_rates(1, 0, 0.0, 1.0), Err(NoTest::InvalidExposure));
    }

    #[test]
    fn kaplan_meier_matches_a_hand_worked_table() {
        // Ten subjects: times 1E 2C 3E 3E 4C 5E 6C 7E 8C 9C (E event, C censored).
        // t=1: n=10 d=1 → S = 0.9;               Σ = 1/(10·9) = 0.0111111
        // t=2: n=9 censored 1                     S = 0.9
        // t=3: n=8 d=2 → S = 0.9·6/8 = 0.675;     Σ += 2/(8·6) → 0.0527778
        // t=4: n=6 censored 1
        // t=5: n=5 d=1 → S = 0.675·4/5 = 0.54;    Σ += 1/(5·4) → 0.1027778
        // t=6: n=4 censored 1
        // t=7: n=3 d=1 → S = 0.54·2/3 = 0.36;     Σ += 1/(3·2) → 0.2694444
        // Median: first S ≤ 0.5 is at t = 7.
        // Bounds at t=1: se = sqrt(0.0111111)/|ln 0.9| = 0.1054093/0.1053605
        // = 1.000463; lower = 0.9^exp(1.96·1.000463) = 0.9^7.10524 = 0.47305,
        // upper = 0.9^exp(−1.960908) = 0.9^0.140742 = 0.98528.
        let data = [
            (1, true),
            (2, false),
            (3, true),
            (3, true),
            (4, false),
            (5, true),
            (6, false),
            (7, true),
            (8, false),
            (9, false),
        ];
        let obs: Vec<Observation> = data
            .iter()
            .map(|&(t, e)| Observation {
                time: f64::from(t),
                event: e,
            })
            .collect();
        let steps = kaplan_meier(&obs);
        assert_eq!(steps.len(), 9);
        let at = |t: f64| steps.iter().find(|s| s.time == t).unwrap();
        assert_eq!((at(1.0).at_risk, at(1.0).events), (10, 1));
        assert_eq!((at(3.0).at_risk, at(3.0).events, at(3.0).censored), (8, 2, 0));
        assert_eq!((at(4.0).at_risk, at(4.0).censored), (6, 1));
        assert!(close(at(2.0).survival, 0.9, 1e-12));
        assert!(close(at(3.0).survival, 0.675, 1e-12));
        assert!(close(at(5.0).survival, 0.54, 1e-12));
        assert!(close(at(7.0).survival, 0.36, 1e-12));
        assert!(close(at(1.0).lower, 0.47305, 1e-4));
        assert!(close(at(1.0).upper, 0.98528, 1e-4));
        // t=7: se = sqrt(0.2694444)/|ln 0.36| = 0.519080/1.021651 = 0.508080;
        // lower = 0.36^exp(0.995837) = 0.36^2.70700 = exp(−2.76561)
        // = 0.06294; upper = 0.36^exp(−0.995837) = 0.36^0.369413
        // = exp(−0.377411) = 0.68564.
        assert!(close(at(7.0).lower, 0.06294, 1e-4));
        assert!(close(at(7.0).upper, 0.68564, 1e-4));
    }

    #[test]
    fn kaplan_meier_bounds_collapse_at_one_and_zero() {
        let obs = [
            Observation {
                time: 1.0,
                event: false,
            },
            Observation { time: 2.0, event: true },
        ];
        let steps = kaplan_meier(&obs);
        assert_eq!((steps[0].survival, steps[0].lower, steps[0].upper), (1.0, 1.0, 1.0));
        // The last subject at risk has the event: S = 0, bounds 0.
        assert_eq!((steps[1].survival, steps[1].lower, steps[1].upper), (0.0, 0.0, 0.0));
    }

    #[test]
    fn median_of_even_count_is_mean_of_middle_two() {
        assert_eq!(median(&[]), None);
        assert_eq!(median(&[5.0, 1.0, 3.0]), Some(3.0));
        assert_eq!(median(&[4.0, 1.0, 3.0, 10.0]), Some(3.5));
    }
}
