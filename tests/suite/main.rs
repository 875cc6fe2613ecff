//! The integration suite: one binary, so it links once. Each module tests one area through the
//! public API (HTTP in-process, the binary, or a store trait).

#![allow(
    clippy::unwrap_used,
    reason = "a test: a failed unwrap is a failed test"
)]

mod support;

mod attacks;
mod auth;
mod backstage;
mod catalog;
mod cli;
mod cluster;
mod config;
mod deploy;
mod dora;
mod errors;
mod examples;
mod fetch;
mod fetch_hops;
mod openapi;
mod rate_limit;
mod readiness;
mod store_contract;
mod ui;
mod workspaces;
