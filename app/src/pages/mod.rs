//! One file per route.
pub mod home;
pub mod thread;
