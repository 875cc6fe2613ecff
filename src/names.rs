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

/// The placeholders a namespace template may hold: Che's two (`defaultNamespace.template`), and
/// the seed's `{user}`, read as `<username>`.
const PLACEHOLDERS: &[&str] = &["<username>", "<userid>", "{user}"];
/// The least room a placeholder needs: a character, `--`, and the 10-character hash the Che
/// launcher gives a user name that is not a plain DNS label (`workspaces::namespace`).
const MIN_ROOM: usize = 1 + 2 + 10;

fn placeholders(template: &str) -> usize {
    PLACEHOLDERS
        .iter()
        .map(|p| template.matches(p).count())
        .sum()
}

fn fixed_len(template: &str) -> usize {
    PLACEHOLDERS
        .iter()
        .fold(template.to_owned(), |t, p| t.replace(p, ""))
        .len()
}

/// `template` with every placeholder filled with `part`.
pub fn fill_namespace_template(template: &str, part: &str) -> String {
    PLACEHOLDERS
        .iter()
        .fold(template.to_owned(), |t, p| t.replace(p, part))
}

/// The characters each placeholder of `template` may take for the namespace to fit 63.
pub fn namespace_template_room(template: &str) -> usize {
    63usize.saturating_sub(fixed_len(template)) / placeholders(template).max(1)
}

/// Why a namespace template (Che's `defaultNamespace.template`) cannot be used, if it cannot.
pub fn check_namespace_template(template: &str) -> Result<(), String> {
    let count = placeholders(template);
    if count == 0 {
        return Err(format!(
            "'{template}' must contain <username> or <userid> (Che's placeholders; {{user}} is read as <username>), e.g. che-<username>"
        ));
    }
    if fixed_len(template) + count * MIN_ROOM > 63 {
        return Err(format!(
            "'{template}' leaves too little room for user names (at most 63 characters, {MIN_ROOM} per placeholder)"
        ));
    }
    if !is_dns_label(&fill_namespace_template(template, "u")) {
        return Err(format!(
            "'{template}' must make a DNS label (lowercase letters, digits and '-') once <username> is filled in"
        ));
    }
    Ok(())
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

    #[test]
    fn namespace_templates() {
        assert!(check_namespace_template("che-<username>").is_ok());
        assert!(check_namespace_template("<userid>").is_ok());
        assert!(check_namespace_template("{user}-workspaces").is_ok());
        let problem = |t: &str| check_namespace_template(t).unwrap_err();
        assert!(problem("workspaces").contains("must contain"));
        assert!(problem("<username>_ws").contains("DNS label"));
        assert!(problem(&format!("{}-<username>", "x".repeat(55))).contains("too little room"));
        assert_eq!(namespace_template_room("che-<username>"), 59);
        assert_eq!(fill_namespace_template("<username>-<userid>", "a"), "a-a");
    }
}
