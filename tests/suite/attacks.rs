//! The threat model in one place: each module attacks the server the way an outsider or an
//! ordinary signed-in user would (issue #12), and checks the control that stops it. The threats,
//! controls and settings are listed in `docs/SECURITY.md`.

mod files;
mod tokens;
