//! The application loop (The Elm Architecture): terminal and backend messages go through one
//! `update`, rendering is a pure function of the state.

pub mod action;
pub mod effect;
pub mod msg;
pub mod pace;
pub mod state;
pub mod update;
#[cfg(test)]
mod usage_doc;
pub mod waiting;

pub use effect::Effect;
pub use msg::Msg;
pub use state::AppState;
pub use update::update;
pub mod runtime;
