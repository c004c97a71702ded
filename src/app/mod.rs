//! The application layer under both faces: what the command line
//! ([`crate::cli`]) and the wizard ([`crate::tui`]) each need, written once.
//! The context (paths, registry settings, flags), the registry client,
//! the layer prescan, the spec of a Clusterfile, connecting hosts with a
//! host-key policy, the install [`session`] (resolve → plan → run with
//! journal, logs and status, yielding engine events), the [`teardown`] of
//! hosts and clusters, both as one [`work::Work`] a face runs, the
//! connection test, and how hosts are reached ([`reach`]: SSH, or the demo's simulated
//! ones). Faces parse and print, or draw; they never import each other.

pub mod arch;
pub mod cert_warning;
pub mod clusters;
pub mod connect;
pub mod context;
pub mod demo;
pub mod error;
pub mod fleet;
pub mod images;
pub mod inspect;
pub mod lock;
pub mod notice;
pub mod prescan;
pub mod probe;
pub mod reach;
pub mod registry;
pub mod session;
pub mod spec;
pub mod teardown;
pub mod upgrade;
pub mod work;

pub use context::{Cancelled, Context, Settings};
pub use error::AppError;
pub use notice::{Notice, Notify};
