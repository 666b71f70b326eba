//! The organisations a bulk append's events name, linked in
//! `event_organisations` by the append itself.
//!
//! Every other append leaves that to the statement trigger of migration
//! 0008, which parses each new event's payload in PL/pgSQL: during an
//! import that was a sixth of PostgreSQL's work, and PostgreSQL is what an
//! import waits on. A bulk append reads the same field here (a few hundred
//! bytes of JSON per event, for four event types), writes one row per
//! (organisation, stream) of the chunk, and tells the trigger, for its own
//! transaction only, that the links are written (migration 0015).

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::value::RawValue;
use sqlx::PgConnection;

/// The transaction-local setting that tells the trigger the links of this
/// transaction's events are written already.
pub(super) const LINKED_HERE: &str = "SELECT set_config('tenure.organisations_linked', 'on', true)";

/// The first commit (its index in the append) of each (organisation,
/// stream) of an append: its recorded time is known once appended.
#[derive(Default)]
pub(super) struct OrganisationLinks {
    first: HashMap<(String, &'static str, String), usize>,
}

impl OrganisationLinks {
    /// Notes the organisation `payload` names, if any, in commit `n`.
    /// The same rule as the SQL function `tenure_event_organisation`.
    pub(super) fn note(
        &mut self,
        aggregate_type: &'static str,
        aggregate_id: &str,
        event_type: &str,
        payload: &RawValue,
        n: usize,
    ) {
        if let Some(organisation) = named_organisation(event_type, payload) {
            self.first
                .entry((organisation, aggregate_type, aggregate_id.to_string()))
                .or_insert(n);
        }
    }

    /// Writes the links (one statement) of an append whose first commit
    /// is recorded at `stamp` (each next one a microsecond later), keeping
    /// the earlier first recorded time of a link already there.
    pub(super) async fn write(&self, tx: &mut PgConnection, stamp: DateTime<Utc>) -> Result<(), sqlx::Error> {
        if self.first.is_empty() {
            return Ok(());
        }
        let mut organisations = Vec::with_capacity(self.first.len());
        let mut types = Vec::with_capacity(self.first.len());
        let mut ids = Vec::with_capacity(self.first.len());
        let mut times = Vec::with_capacity(self.first.len());
        for ((organisation, aggregate_type, aggregate_id), n) in &self.first {
            organisations.push(organisation.as_str());
            types.push(*aggregate_type);
            ids.push(aggregate_id.as_str());
            times.push(stamp + chrono::Duration::microseconds(*n as i64));
        }
        sqlx::query(
            "INSERT INTO event_organisations (organisation, aggregate_type, aggregate_id, first_recorded_at) \
             SELECT * FROM UNNEST($1::text[], $2::text[], $3::text[], $4::timestamptz[]) \
                 ON CONFLICT (organisation, aggregate_type, aggregate_id) DO UPDATE \
                SET first_recorded_at = excluded.first_recorded_at \
              WHERE excluded.first_recorded_at < event_organisations.first_recorded_at",
        )
        .bind(&organisations)
        .bind(&types)
        .bind(&ids)
        .bind(&times)
        .execute(tx)
        .await?;
        Ok(())
    }
}

/// The `organisation` field of a payload's one variant.
#[derive(Deserialize)]
struct Named {
    organisation: Option<String>,
}

/// The organisation an event names: a registration's, role change's or
/// rejoining's, or a post's establishment's.
fn named_organisation(event_type: &str, payload: &RawValue) -> Option<String> {
    let variant = match event_type {
        "ParticipantRegistered" => "Registered",
        "RoleChanged" => "RoleChanged",
        "RejoiningRecorded" => "RejoiningRecorded",
        "PostEstablished" => "Established",
        _ => return None,
    };
    let mut payload: HashMap<&str, Named> = serde_json::from_str(payload.get()).ok()?;
    payload.remove(variant)?.organisation
}

#[cfg(test)]
mod tests {
    use serde_json::json;
    use serde_json::value::to_raw_value;

    use super::named_organisation;

    #[test]
    fn the_organisation_is_read_from_the_four_kinds_of_event_that_name_one() {
        let named = |event_type: &str, payload: serde_json::Value| {
            named_organisation(event_type, &to_raw_value(&payload).unwrap())
        };
        let registered = json!({"Registered": {"organisation": "Northshire", "team": "East"}});
        assert_eq!(
            named("ParticipantRegistered", registered).as_deref(),
            Some("Northshire")
        );
        let established = json!({"Established": {"organisation": "Riverside \"North\""}});
        assert_eq!(
            named("PostEstablished", established).as_deref(),
            Some("Riverside \"North\"")
        );
        // Another event's field of that name, a null, or another variant: none.
        assert_eq!(
            named(
                "ParticipantEnrolled",
                json!({"ParticipantEnrolled": {"organisation": "X"}})
            ),
            None
        );
        assert_eq!(
            named("RoleChanged", json!({"RoleChanged": {"organisation": null}})),
            None
        );
        assert_eq!(named("RoleChanged", json!({"Registered": {"organisation": "X"}})), None);
    }
}
