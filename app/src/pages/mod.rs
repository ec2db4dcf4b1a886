//! One file per route.
pub mod embed;
pub mod home;
pub mod thread;
