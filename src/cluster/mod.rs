//! The Clusterfile: hosts, images, SSH settings, env, status.
pub mod env;
