//! The Che launcher: devfile validation (with the official schema as an oracle), the simulated
//! driver's lifecycle through HTTP, the Kubernetes driver against an in-process API server, and
//! the simulated store's contract on SQLite and PostgreSQL.

mod devfile;
mod devfile_versions;
mod flatten;
mod golden;
mod kube_api;
pub mod kube_server;
pub mod kubernetes;
mod kubernetes_http;
mod namespaces;
mod parents;
mod requests;
pub mod simulated;
mod store;
