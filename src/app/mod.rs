//! The application loop (The Elm Architecture): terminal and backend messages go through one
//! `update`, rendering is a pure function of the state.

pub mod action;
pub mod effect;
pub mod history;
pub mod last_view;
pub mod msg;
pub mod no_source;
pub mod pace;
pub mod state;
pub mod store;
mod table_changes;
pub mod update;
#[cfg(test)]
mod usage_doc;
pub mod waiting;

pub use effect::Effect;
pub use msg::Msg;
pub use state::AppState;
pub use update::update;
pub mod runtime;
