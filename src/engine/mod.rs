//! The engine: a [`plan::Plan`] (plain data) executed by the
//! [`runner::Runner`] over a [`transport::Transport`] per host, emitting
//! [`event::Event`]s and recording finished steps in a [`journal::Journal`].
//! It knows nothing of the front-ends that consume its events.

mod action;
pub mod certs;
pub mod command;
pub mod configs;
pub mod event;
pub mod fleet;
pub mod health;
mod host_id;
pub mod inputs;
pub mod install;
pub mod journal;
pub mod layer_caches;
pub mod layer_scan;
pub mod layer_split;
pub mod plan;
pub mod record;
pub mod reset;
pub mod resolve;
pub mod runner;
pub mod source;
pub mod spec;
mod step;
pub mod transport;
pub mod upgrade;
