//! Kubernetes-style names, checked alike by the catalog (entity namespaces), the Che launcher
//! (namespaces, workspace names, devfile ids) and the settings (the namespace template).

/// Whether `s` is a DNS-1123 label: 1 to 63 lowercase letters, digits and `-`, starting and
/// ending with a letter or digit (`^[a-z0-9]+(?:-+[a-z0-9]+)*$`).
pub fn is_dns_label(s: &str) -> bool {
    s.len() <= 63 && matches_label_pattern(s)
}

/// Whether `s` matches the DNS-1123 label pattern, whatever its length (the devfile schema's ids).
pub fn matches_label_pattern(s: &str) -> bool {
    let bytes = s.as_bytes();
    let alnum = |b: &u8| b.is_ascii_lowercase() || b.is_ascii_digit();
    match (bytes.first(), bytes.last()) {
        (Some(first), Some(last)) => {
            alnum(first) && alnum(last) && bytes.iter().all(|b| alnum(b) || *b == b'-')
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels() {
        assert!(is_dns_label("team-a") && is_dns_label("a") && is_dns_label("0-9"));
        for bad in ["", "Team", "a_b", "-a", "a-", "a.b", &"a".repeat(64)] {
            assert!(!is_dns_label(bad), "{bad}");
        }
        assert!(matches_label_pattern(&"a".repeat(64)));
    }
}
