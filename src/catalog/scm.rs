//! The annotations Backstage adds to entities read from a `url` location (its
//! `AnnotateLocationEntityProcessor`): `backstage.io/view-url` (the file) for every host, and
//! `backstage.io/edit-url` and `backstage.io/source-location` only for hosts with a source-control
//! integration: github.com and gitlab.com, as a Backstage without `integrations:` config knows them.
//! Values an entity sets itself win.

use serde_json::{Map, Value};

use super::model::{LocationSpec, LocationType};

const VIEW_URL: &str = "backstage.io/view-url";
const EDIT_URL: &str = "backstage.io/edit-url";
const SOURCE_LOCATION: &str = "backstage.io/source-location";

/// The source-control hosts Backstage knows without configuration, and their URL layouts.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Host {
    GitHub,
    GitLab,
}

fn host_of(url: &url::Url) -> Option<Host> {
    // Backstage compares the host with its port.
    match (url.host_str()?, url.port()) {
        ("github.com", None) => Some(Host::GitHub),
        ("gitlab.com", None) => Some(Host::GitLab),
        _ => None,
    }
}

/// Adds the default annotations of an entity read from `spec` to `annotations` (its own win).
pub fn annotate_source(annotations: &mut Map<String, Value>, spec: &LocationSpec) {
    if spec.kind != LocationType::Url {
        return;
    }
    let target = &spec.target;
    annotations
        .entry(VIEW_URL)
        .or_insert_with(|| target.clone().into());
    let Some(url) = url::Url::parse(target).ok() else {
        return;
    };
    let Some(host) = host_of(&url) else {
        return;
    };
    if !names_a_commit(target)
        && let Some(edit) = edit_url(host, &url)
    {
        annotations.entry(EDIT_URL).or_insert_with(|| edit.into());
    }
    if let Some(source) = source_location(host, &url) {
        annotations
            .entry(SOURCE_LOCATION)
            .or_insert_with(|| format!("url:{source}").into());
    }
}

/// Whether the URL holds a run of 40 or more lower-case hex digits (a commit: no edit link).
fn names_a_commit(target: &str) -> bool {
    target
        .split(|c: char| !c.is_ascii_alphanumeric() && c != '_')
        .any(|word| word.len() >= 40 && word.chars().all(|c| matches!(c, '0'..='9' | 'a'..='f')))
}

/// The path segments of `url` with the GitHub `blob|tree|edit` (after `owner/repo`) or GitLab
/// `-/blob|tree|edit` segment replaced by `kind`; `None` when the URL has no such segment.
fn with_kind(host: Host, url: &url::Url, kind: &str) -> Option<url::Url> {
    let mut segments: Vec<String> = url.path_segments()?.map(str::to_owned).collect();
    let index = match host {
        Host::GitHub => (segments.len() > 3
            && matches!(segments[2].as_str(), "blob" | "tree" | "edit"))
        .then_some(2)?,
        Host::GitLab => {
            let dash = segments.iter().position(|s| s == "-")?;
            (segments.len() > dash + 1
                && matches!(segments[dash + 1].as_str(), "blob" | "tree" | "edit"))
            .then_some(dash + 1)?
        }
    };
    segments[index] = kind.to_owned();
    let mut out = url.clone();
    out.set_path(&segments.join("/"));
    Some(out)
}

fn edit_url(host: Host, url: &url::Url) -> Option<String> {
    match host {
        Host::GitHub => with_kind(host, url, "edit").map(|u| u.to_string()),
        // Without `/-/` GitLab's edit URL is the target itself.
        Host::GitLab => {
            Some(with_kind(host, url, "edit").map_or_else(|| url.to_string(), |u| u.to_string()))
        }
    }
}

/// The directory of the file: GitHub's as a `tree` URL, GitLab's as written.
fn source_location(host: Host, url: &url::Url) -> Option<String> {
    let url = match host {
        Host::GitHub => with_kind(host, url, "tree").unwrap_or_else(|| url.clone()),
        Host::GitLab => url.clone(),
    };
    url.join("./").ok().map(|u| u.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn annotations(target: &str) -> Map<String, Value> {
        let mut map = Map::new();
        annotate_source(
            &mut map,
            &LocationSpec {
                kind: LocationType::Url,
                target: target.into(),
            },
        );
        map
    }

    fn get<'a>(map: &'a Map<String, Value>, key: &str) -> Option<&'a str> {
        map.get(key).and_then(Value::as_str)
    }

    #[test]
    fn integrated_hosts_get_edit_and_source_links_as_backstage_forms_them() {
        let cases = [
            (
                "https://github.com/o/r/blob/main/dir/catalog-info.yaml",
                Some("https://github.com/o/r/edit/main/dir/catalog-info.yaml"),
                Some("url:https://github.com/o/r/tree/main/dir/"),
            ),
            (
                "https://github.com/o/r/tree/main/dir/c.yaml",
                Some("https://github.com/o/r/edit/main/dir/c.yaml"),
                Some("url:https://github.com/o/r/tree/main/dir/"),
            ),
            (
                "https://github.com/o/r/blob/0123456789abcdef0123456789abcdef01234567/c.yaml",
                None,
                Some("url:https://github.com/o/r/tree/0123456789abcdef0123456789abcdef01234567/"),
            ),
            (
                "https://gitlab.com/g/sub/p/-/blob/main/dir/catalog-info.yaml",
                Some("https://gitlab.com/g/sub/p/-/edit/main/dir/catalog-info.yaml"),
                Some("url:https://gitlab.com/g/sub/p/-/blob/main/dir/"),
            ),
            (
                "https://gitlab.com/g/p/blob/main/c.yaml",
                Some("https://gitlab.com/g/p/blob/main/c.yaml"),
                Some("url:https://gitlab.com/g/p/blob/main/"),
            ),
            ("https://ghe.example.com/o/r/blob/main/c.yaml", None, None),
            ("https://github.com:8443/o/r/blob/main/c.yaml", None, None),
        ];
        for (target, edit, source) in cases {
            let map = annotations(target);
            assert_eq!(get(&map, VIEW_URL), Some(target));
            assert_eq!(get(&map, EDIT_URL), edit, "{target}");
            assert_eq!(get(&map, SOURCE_LOCATION), source, "{target}");
        }
    }

    #[test]
    fn an_entity_s_own_values_win_and_files_get_none() {
        let mut map = Map::new();
        map.insert(VIEW_URL.into(), "https://docs/x".into());
        annotate_source(
            &mut map,
            &LocationSpec {
                kind: LocationType::Url,
                target: "https://github.com/o/r/blob/main/c.yaml".into(),
            },
        );
        assert_eq!(get(&map, VIEW_URL), Some("https://docs/x"));
        let mut map = Map::new();
        annotate_source(
            &mut map,
            &LocationSpec {
                kind: LocationType::File,
                target: "/srv/c.yaml".into(),
            },
        );
        assert!(map.is_empty());
    }
}
