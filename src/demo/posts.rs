//! Eastbrook Council's posts: an example for the vacancy and cover report
//! (docs/metrics.md §5). No published figure; the numbers are worked by hand.
//!
//! Six team manager posts are established on 2019-04-01. Four team managers
//! join that day straight into posts: two on a permanent basis, one interim,
//! one through an agency. Two posts stay vacant. On 2019-06-30:
//!
//! - vacancy rate = vacant / (vacant + filled) = 2 / (2 + 4) = 33.3%;
//! - cover rate = filled posts held on an interim or agency basis / filled
//!   posts = 2 / 4 = 50.0%.

use aggregates::Basis;

use super::{date, demo_id, participant_id, Action, Step};

/// The organisation of this example.
pub(super) const ORGANISATION: &str = "Eastbrook Council";

/// The example's steps, in load order.
pub(super) fn steps() -> Vec<Step> {
    let opened = date(2019, 4, 1);
    let mut steps = Vec::new();
    let bases = [Basis::Permanent, Basis::Permanent, Basis::Interim, Basis::Agency];
    for n in 1..=6 {
        steps.push(Step {
            name: format!("posts:establish:{n}"),
            action: Action::EstablishPost {
                post: demo_id(&format!("post:eastbrook:{n}")),
                organisation: ORGANISATION.to_string(),
                title: format!("Team manager, area {n}"),
                role: "team_manager",
                established_on: opened,
            },
        });
    }
    for (n, basis) in (1..).zip(bases) {
        let external_ref = format!("EB-{n}");
        steps.push(Step {
            name: format!("posts:register:{n}"),
            action: Action::RegisterInPost {
                participant: participant_id(&external_ref),
                external_ref,
                organisation: ORGANISATION.to_string(),
                team: Some(format!("area {n}")),
                role: "team_manager",
                post: demo_id(&format!("post:eastbrook:{n}")),
                basis,
                joined_on: opened,
            },
        });
    }
    steps
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn four_of_six_posts_are_filled_two_of_them_by_cover() {
        let fills: Vec<Basis> = steps()
            .iter()
            .filter_map(|s| match &s.action {
                Action::RegisterInPost { basis, .. } => Some(*basis),
                _ => None,
            })
            .collect();
        let established = steps()
            .iter()
            .filter(|s| matches!(s.action, Action::EstablishPost { .. }))
            .count();
        assert_eq!(established, 6);
        assert_eq!(fills.len(), 4);
        assert_eq!(
            fills
                .iter()
                .filter(|b| matches!(b, Basis::Interim | Basis::Agency))
                .count(),
            2
        );
    }
}
