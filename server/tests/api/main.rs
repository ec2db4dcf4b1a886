//! API tests: every route of API.md against the real server on port 0 with a fresh database.
mod helpers;
mod messages;
mod pages;
mod runs;
mod threads;
mod various;
