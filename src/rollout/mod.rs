//! The device rollout engine (appliance updates, issue #6): the per-device state machine and
//! its persistence (state), the updater drivers (driver: mender, appliance, custom) over a
//! [`link::DeviceLink`], the journal every transition goes through, installs detached on the
//! device (job), the one-driver-per-rollout lock (owner), and group rollouts (engine).

pub mod driver;
pub mod engine;
pub mod job;
pub mod journal;
pub mod link;
pub mod owner;
pub mod progress;
pub mod state;

pub use state::{StateStore, Step, UpdateRecord};
