//! Domain types of the Che launcher: workspace ids, names, owners, statuses and the workspace record
//! every driver returns.

use std::fmt;
use std::str::FromStr;

use serde::Serialize;
use sha2::{Digest, Sha256};
use utoipa::ToSchema;

use crate::principal::Principal;

/// Our stable workspace id: `workspace-` and 12 lowercase hex digits.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct WorkspaceId(String);

impl WorkspaceId {
    /// A new, random id.
    pub fn generate() -> WorkspaceId {
        let hex = uuid::Uuid::new_v4().simple().to_string();
        WorkspaceId(format!("workspace-{}", &hex[..12]))
    }

    /// An id as sent by a client; anything else cannot name a workspace.
    pub fn parse(text: &str) -> Option<WorkspaceId> {
        let hex = text.strip_prefix("workspace-")?;
        (hex.len() == 12
            && hex
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)))
        .then(|| WorkspaceId(text.to_owned()))
    }

    /// An id as we stored it ourselves (the simulated driver's rows).
    pub(crate) fn stored(id: String) -> WorkspaceId {
        WorkspaceId(id)
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for WorkspaceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Who owns a workspace: the principal's subject (`user:default/jdoe` or a service subject).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Owner(String);

impl Owner {
    /// The owner for `principal`.
    pub fn of(principal: &Principal) -> Owner {
        Owner(principal.subject.clone())
    }

    /// The owner with this subject.
    pub fn new(subject: impl Into<String>) -> Owner {
        Owner(subject.into())
    }

    /// The owner's subject.
    pub fn subject(&self) -> &str {
        &self.0
    }

    /// A Kubernetes label value standing for the owner (subjects hold `:` and `/`, which label
    /// values cannot): the first 40 hex digits of the subject's SHA-256.
    pub fn label(&self) -> String {
        let digest = Sha256::digest(self.0.as_bytes());
        digest.iter().take(20).map(|b| format!("{b:02x}")).collect()
    }
}

/// A workspace's state, as Che's dashboard shows it.
#[allow(
    missing_docs,
    reason = "a wire type: its doc comments are the OpenAPI document's descriptions"
)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
pub enum WorkspaceStatus {
    Starting,
    Running,
    Stopping,
    Stopped,
    Failed,
}

impl WorkspaceStatus {
    /// Every status, in the order of a workspace's life.
    pub const ALL: [WorkspaceStatus; 5] = [
        WorkspaceStatus::Starting,
        WorkspaceStatus::Running,
        WorkspaceStatus::Stopping,
        WorkspaceStatus::Stopped,
        WorkspaceStatus::Failed,
    ];

    /// The status as served (`Running`).
    pub fn as_str(self) -> &'static str {
        match self {
            WorkspaceStatus::Starting => "Starting",
            WorkspaceStatus::Running => "Running",
            WorkspaceStatus::Stopping => "Stopping",
            WorkspaceStatus::Stopped => "Stopped",
            WorkspaceStatus::Failed => "Failed",
        }
    }

    /// Whether it counts against the quota.
    pub fn is_active(self) -> bool {
        matches!(self, WorkspaceStatus::Starting | WorkspaceStatus::Running)
    }
}

impl FromStr for WorkspaceStatus {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        WorkspaceStatus::ALL
            .into_iter()
            .find(|status| status.as_str() == s)
            .ok_or_else(|| {
                format!(
                    "Invalid status '{s}': use one of Starting, Running, Stopping, Stopped, Failed"
                )
            })
    }
}

/// A workspace as a driver reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Workspace {
    /// Its id.
    pub id: WorkspaceId,
    /// Its name, unique in its namespace.
    pub name: String,
    /// The Kubernetes namespace it runs in.
    pub namespace: String,
    /// Who owns it.
    pub owner: Owner,
    /// Where its life stands.
    pub status: WorkspaceStatus,
    /// What was last asked of it (Che's `spec.started`).
    pub started: bool,
    /// Deleted, its finalizers still running (Kubernetes' Terminating).
    pub terminating: bool,
    /// Why it failed, for `Failed`.
    pub message: Option<String>,
    /// The IDE's URL once the cluster reports it (DevWorkspace `status.mainUrl`).
    pub main_url: Option<String>,
    /// The devfile's `metadata.name`.
    pub devfile_name: String,
    /// The devfile's `metadata.version` (empty when it has none).
    pub devfile_version: String,
    /// RFC 3339.
    pub created_at: String,
    /// RFC 3339 (Che's `che.eclipse.org/last-updated-timestamp`).
    pub last_used: String,
}

/// Everything a driver needs to create a workspace.
#[derive(Debug, Clone)]
pub struct NewWorkspace {
    /// The new workspace's id.
    pub id: WorkspaceId,
    /// Its name.
    pub name: String,
    /// Its namespace.
    pub namespace: String,
    /// Its owner.
    pub owner: Owner,
    /// Where the devfile was fetched from.
    pub devfile_url: String,
    /// The devfile text as fetched (Che keeps it in the `che.eclipse.org/devfile` annotation).
    pub devfile_text: String,
    /// The validated devfile, as JSON.
    pub devfile: serde_json::Value,
    /// The devfile's `metadata.name` (`workspace` when it has none).
    pub devfile_name: String,
    /// The devfile's `metadata.version`.
    pub devfile_version: String,
    /// RFC 3339 with milliseconds, as Che writes its timestamps.
    pub now: String,
    /// The Kubernetes objects it is (the simulated driver keeps only the record).
    pub resources: Resources,
}

/// A workspace's DevWorkspace and its editor's DevWorkspaceTemplate, as Che builds them
/// ([`crate::workspaces::generate`]). The template's owner reference gets the DevWorkspace's uid
/// once the cluster has given it one.
#[derive(Debug, Clone, Default)]
pub struct Resources {
    /// The DevWorkspace, created stopped.
    pub devworkspace: serde_json::Value,
    /// The editor's DevWorkspaceTemplate, owned by the DevWorkspace.
    pub editor: serde_json::Value,
}

/// `s` made a DNS label (as che-server normalises user names): lowercase, other characters to
/// `-`, runs of `-` collapsed, trimmed, at most `max` characters. Empty if nothing is left.
pub fn to_dns_label(s: &str, max: usize) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars().flat_map(char::to_lowercase) {
        let c = if c.is_ascii_lowercase() || c.is_ascii_digit() {
            c
        } else {
            '-'
        };
        if !(c == '-' && (out.is_empty() || out.ends_with('-'))) {
            out.push(c);
        }
    }
    out.truncate(max);
    out.trim_matches('-').to_owned()
}

/// `-` and four random `[a-z0-9]`: the suffix Che's dashboard gives a generated or taken name
/// (`generateName.ts`).
pub fn random_suffix() -> String {
    const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    let random = uuid::Uuid::new_v4();
    let chars: String = random.as_bytes()[..4]
        .iter()
        .map(|b| ALPHABET[usize::from(*b) % ALPHABET.len()] as char)
        .collect();
    format!("-{chars}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_ours_and_checked() {
        let id = WorkspaceId::generate();
        assert_eq!(WorkspaceId::parse(id.as_str()), Some(id.clone()));
        assert_eq!(id.as_str().len(), "workspace-".len() + 12);
        for bad in [
            "workspace-abc",
            "workspace-ABCDEF123456",
            "ws-0123456789ab",
            "",
        ] {
            assert!(WorkspaceId::parse(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn names_become_dns_labels() {
        assert_eq!(to_dns_label("John.Doe_42", 63), "john-doe-42");
        assert_eq!(to_dns_label("--a__b--", 63), "a-b");
        assert_eq!(to_dns_label(&"x".repeat(80), 63).len(), 63);
        let suffix = random_suffix();
        assert!(
            suffix.len() == 5
                && suffix.starts_with('-')
                && crate::names::is_dns_label(&suffix[1..])
        );
    }

    #[test]
    fn owner_labels_are_label_values() {
        let label = Owner::new("user:default/jdoe").label();
        assert_eq!(label.len(), 40);
        assert_ne!(label, Owner::new("user:default/jane").label());
    }
}
