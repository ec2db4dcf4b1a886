//! API tests: every route of API.md against the real server on port 0 with a fresh database.
mod abuse;
mod chat;
mod docs;
mod durability;
mod fake_model;
mod helpers;
mod instances;
mod messages;
mod models;
mod ops;
mod outage;
mod pages;
mod restart;
mod runs;
mod slack;
mod threads;
mod various;
