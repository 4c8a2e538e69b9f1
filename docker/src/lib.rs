//! The Docker engine as the fpm-ondemand tools see it: a small trait ([`ContainerRuntime`]), the
//! typed answers it gives, and its bollard implementation ([`DockerClient`]). The waker does not
//! link this crate: a cold request's path never speaks to Docker.

pub mod activity;
mod client;
mod error;
mod probe;
mod runtime;
mod setup;
mod stats;
mod top;
mod types;

pub use client::{state_of, DockerClient};
pub use error::DockerError;
pub use probe::ImageCommand;
pub use runtime::{ContainerRuntime, MIN_API, WATCHED_EVENTS};
pub use setup::Setup;
pub use top::Process;
pub use types::{ContainerEvent, ContainerState, Inspection, LastLog};
