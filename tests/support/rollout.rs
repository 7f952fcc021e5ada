//! Waiting for a rollout (src/rollout) to end, for the update tests.

#![allow(dead_code)]

use std::time::Duration;

use fleetdeck::rollout::UpdateRecord;
use fleetdeck::rollout::engine::{RolloutState, Updates};

/// The rollout's final state and records; panics with the records after `timeout`.
pub async fn finish(u: &Updates, id: &str, timeout: Duration) -> (RolloutState, Vec<UpdateRecord>) {
    let mut changes = u.subscribe();
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        let (spec, records) = u.snapshot(id).expect("rollout");
        if spec.state.is_final() {
            return (spec.state, records);
        }
        tokio::select! {
            _ = changes.changed() => {}
            _ = tokio::time::sleep_until(deadline) => panic!("rollout {id} did not finish: {records:#?}"),
        }
    }
}
