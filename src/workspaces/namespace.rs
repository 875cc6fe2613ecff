//! Which namespace is a principal's, as Che decides it (che-server's `KubernetesNamespaceFactory`),
//! made injective: two principals never map to one namespace, whatever the template.
//!
//! - A principal's Che user name ([`username`]): the entity name of `user:default/<name>` (what Che
//!   knows a Fawkes user by, as Backstage signs users in by their GitHub login), else the whole
//!   subject with its kind (`user:team-a/alice`, `service:ci-bot`), which no Che user name can be.
//! - Che first looks for a namespace labelled `app.kubernetes.io/part-of=che.eclipse.org`,
//!   `app.kubernetes.io/component=workspaces-namespace` and annotated
//!   `che.eclipse.org/username=<user name>` (the driver does that lookup); else it fills the
//!   CheCluster's `defaultNamespace.template` ([`from_template`]).
//! - Filling the template: a user name that already is a lowercase DNS label without `--`
//!   (`jdoe`, `john-doe`) goes in as it is, exactly as Che would; any other (`John.Doe`,
//!   `john_doe`, a non-default entity namespace, a service, or one too long for the template) goes
//!   in as a readable part, `--`, and 10 characters of the SHA-256 of the user name. A plain name
//!   never holds `--` and a hashed one always does, so no plain name meets a hashed one; two
//!   hashed ones differ unless their hashes collide, which the ownership record then refuses.
//! - Ownership: a namespace's `che.eclipse.org/username` annotation (on the cluster) and the
//!   database's claim (`workspace_namespaces`, the first principal to use it) must both name the
//!   caller's user name, or the namespace is refused as someone else's.

use sha2::{Digest, Sha256};

use crate::names::{fill_namespace_template as fill, namespace_template_room};
use crate::principal::{Principal, PrincipalKind};

/// Che's labels on a workspaces namespace (che.properties `che.infra.kubernetes.namespace.labels`).
pub const LABELS: &[(&str, &str)] = &[
    ("app.kubernetes.io/part-of", "che.eclipse.org"),
    ("app.kubernetes.io/component", "workspaces-namespace"),
];
/// Che's annotation naming a workspaces namespace's user.
pub const USERNAME_ANNOTATION: &str = "che.eclipse.org/username";
/// Che's default template (CheCluster `defaultNamespace.template`).
pub const CHE_DEFAULT_TEMPLATE: &str = "<username>-che";

/// Characters of the hash that keeps a rewritten name distinct (the room
/// [`crate::names::check_namespace_template`] leaves a placeholder counts it).
const HASH_LEN: usize = 10;

/// The principal's user name as Che knows it (see the module documentation).
pub fn username(principal: &Principal) -> String {
    match principal.kind {
        PrincipalKind::User => match principal.subject.strip_prefix("user:default/") {
            Some(name) if !name.is_empty() && !name.contains(['/', ':']) => name.to_owned(),
            _ => principal.subject.clone(),
        },
        PrincipalKind::Service => format!("service:{}", principal.subject),
    }
}

/// The namespace `template` gives the user `username` (a template [`crate::names::check_namespace_template`] accepted).
pub fn from_template(template: &str, username: &str) -> String {
    let room = namespace_template_room(template);
    let plain =
        username.len() <= room && !username.contains("--") && crate::names::is_dns_label(username);
    if plain {
        return fill(template, username);
    }
    fill(template, &hashed(username, room))
}

/// A readable part of `username`, `--`, and [`HASH_LEN`] base-32 characters of its SHA-256, in at
/// most `room` characters.
fn hashed(username: &str, room: usize) -> String {
    let digest = Sha256::digest(username.as_bytes());
    const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz234567";
    let mut bits = 0u32;
    let mut nbits = 0;
    let mut hash = String::with_capacity(HASH_LEN);
    for byte in digest.iter() {
        bits = (bits << 8) | u32::from(*byte);
        nbits += 8;
        while nbits >= 5 && hash.len() < HASH_LEN {
            nbits -= 5;
            hash.push(ALPHABET[((bits >> nbits) & 31) as usize] as char);
        }
    }
    let readable = username
        .strip_prefix("user:default/")
        .or_else(|| username.strip_prefix("service:"))
        .unwrap_or(username);
    let mut part = crate::workspaces::model::to_dns_label(readable, room - 2 - HASH_LEN);
    if part.is_empty() {
        part = "u".into();
    }
    format!("{part}--{hash}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(subject: &str) -> Principal {
        Principal::user(subject)
    }

    #[test]
    fn plain_names_go_in_as_che_puts_them() {
        assert_eq!(username(&user("user:default/jdoe")), "jdoe");
        assert_eq!(from_template("che-<username>", "jdoe"), "che-jdoe");
        assert_eq!(
            from_template(CHE_DEFAULT_TEMPLATE, "john-doe"),
            "john-doe-che"
        );
        assert_eq!(
            from_template("{user}-workspaces", "jdoe"),
            "jdoe-workspaces"
        );
    }

    #[test]
    fn names_that_would_collide_get_distinct_stable_forms() {
        let subjects = [
            "user:default/john-doe",
            "user:default/john.doe",
            "user:default/john_doe",
            "user:default/John-Doe",
            "user:team-a/john-doe",
        ];
        let mut seen = std::collections::HashSet::new();
        for subject in subjects {
            let namespace = from_template("che-<username>", &username(&user(subject)));
            assert!(crate::names::is_dns_label(&namespace), "{namespace}");
            assert!(
                seen.insert(namespace.clone()),
                "{subject} shares {namespace}"
            );
            // Stable: the same subject, the same namespace.
            assert_eq!(
                namespace,
                from_template("che-<username>", &username(&user(subject)))
            );
        }
        let service = username(&Principal::service("john-doe"));
        assert_eq!(service, "service:john-doe");
        assert!(seen.insert(from_template("che-<username>", &service)));
        let dotted = from_template("che-<username>", "john.doe");
        assert!(
            dotted.starts_with("che-john-doe--") && dotted.len() == 4 + 8 + 2 + 10,
            "{dotted}"
        );
    }

    #[test]
    fn long_names_fit_the_template() {
        let long = "a".repeat(70);
        let namespace = from_template("<username>-workspaces", &long);
        assert!(namespace.len() <= 63, "{namespace}");
        assert!(namespace.ends_with("-workspaces") && namespace.contains("--"));
        let exact = "b".repeat(63 - "che-".len());
        assert_eq!(
            from_template("che-<username>", &exact),
            format!("che-{exact}")
        );
        assert!(from_template("<username>-<userid>", "jdoe") == "jdoe-jdoe");
    }
}
