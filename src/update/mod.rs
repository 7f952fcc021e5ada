//! Appliance updates (issue #6): the per-device state machine and its persistence (state),
//! the updater drivers (driver: mender, appliance, custom) over a [`link::DeviceLink`], the
//! journal every transition goes through, installs detached on the device (job), and group
//! rollouts (rollout).

pub mod driver;
pub mod job;
pub mod journal;
pub mod link;
pub mod owner;
pub mod progress;
pub mod rollout;
pub mod state;

pub use state::{StateStore, Step, UpdateRecord};
