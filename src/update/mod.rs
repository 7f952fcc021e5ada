//! Appliance updates (issue #6): the per-device state machine and its persistence (state),
//! the updater drivers (driver: mender, appliance, custom) over a [`link::DeviceLink`], the
//! journal every transition goes through, and group rollouts (rollout).

pub mod driver;
pub mod journal;
pub mod link;
pub mod progress;
pub mod rollout;
pub mod state;

pub use state::{StateStore, Step, UpdateRecord};
