//! The Clusterfile: hosts, images, SSH settings, env, status.

pub mod clusterfile;
pub mod create;
pub mod hosts;
pub mod model;
pub mod problem;
pub mod secret;
pub mod validate;
