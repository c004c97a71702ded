//! The engine: a [`plan::Plan`] (plain data) executed by the
//! [`runner::Runner`] over a [`transport::Transport`] per host, emitting
//! [`event::Event`]s and recording finished steps in a [`journal::Journal`].
//! It knows nothing of the front-ends that consume its events.

mod action;
pub mod command;
pub mod event;
pub mod journal;
pub mod plan;
pub mod runner;
pub mod source;
mod step;
pub mod transport;
