//! "Open in Che": which devfile an entity's annotations point to. The spellings in use: Che's
//! `che.eclipse.org/devfile-url`, Fawkes' launcher config `eclipse.org/che-devfile-url` (a URL),
//! `eclipse.org/che-devfile` (a golden path by name) and `eclipse.org/che-enabled` (the default
//! golden path), and the Backstage README's `che.eclipse.org/devfile` (a path in the entity's
//! repository, found through `github.com/project-slug` or `backstage.io/source-location`).

use serde_json::Value;

use crate::config::ui::GoldenPath;

fn annotation<'a>(entity: &'a Value, key: &str) -> Option<&'a str> {
    entity["metadata"]["annotations"][key]
        .as_str()
        .map(str::trim)
        .filter(|v| !v.is_empty())
}

fn https(text: &str) -> Option<String> {
    url::Url::parse(text)
        .ok()
        .filter(|u| u.scheme() == "https")
        .map(|u| u.to_string())
}

/// The devfile URL "Open in Che" launches for `entity`, if its annotations name one.
pub fn devfile_url(entity: &Value, golden_paths: &[GoldenPath]) -> Option<String> {
    for key in ["che.eclipse.org/devfile-url", "eclipse.org/che-devfile-url"] {
        if let Some(url) = annotation(entity, key).and_then(https) {
            return Some(url);
        }
    }
    if let Some(name) = annotation(entity, "eclipse.org/che-devfile") {
        if let Some(url) = https(name) {
            return Some(url);
        }
        if let Some(path) = golden_paths.iter().find(|p| p.name == name) {
            return Some(path.url.clone());
        }
    }
    if let Some(path) = annotation(entity, "che.eclipse.org/devfile") {
        if let Some(url) = https(path) {
            return Some(url);
        }
        let path = path.trim_start_matches("./").trim_start_matches('/');
        if let Some(slug) = annotation(entity, "github.com/project-slug") {
            return https(&format!("https://github.com/{slug}/blob/HEAD/{path}"));
        }
        if let Some(source) = annotation(entity, "backstage.io/source-location")
            .and_then(|s| s.strip_prefix("url:"))
            .and_then(|s| url::Url::parse(s).ok())
        {
            let mut base = source;
            if !base.path().ends_with('/') {
                base.set_path(&format!("{}/", base.path()));
            }
            return base.join(path).ok().and_then(|u| https(u.as_str()));
        }
    }
    if annotation(entity, "eclipse.org/che-enabled") == Some("true") {
        return golden_paths.first().map(|p| p.url.clone());
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn paths() -> Vec<GoldenPath> {
        vec![GoldenPath {
            name: "goldenpath-python".into(),
            title: "Python".into(),
            description: String::new(),
            url: "https://example.com/python.yaml".into(),
        }]
    }

    fn with(annotations: Value) -> Value {
        json!({"kind": "Component", "metadata": {"name": "x", "annotations": annotations}})
    }

    #[test]
    fn every_spelling_finds_its_devfile() {
        let cases = [
            (
                json!({"che.eclipse.org/devfile-url": "https://a/d.yaml"}),
                Some("https://a/d.yaml"),
            ),
            (
                json!({"eclipse.org/che-devfile-url": "https://b/d.yaml"}),
                Some("https://b/d.yaml"),
            ),
            (
                json!({"eclipse.org/che-devfile": "goldenpath-python"}),
                Some("https://example.com/python.yaml"),
            ),
            (
                json!({"eclipse.org/che-enabled": "true"}),
                Some("https://example.com/python.yaml"),
            ),
            (
                json!({"che.eclipse.org/devfile": ".devfile.yaml", "github.com/project-slug": "paruff/fawkes"}),
                Some("https://github.com/paruff/fawkes/blob/HEAD/.devfile.yaml"),
            ),
            (
                json!({"che.eclipse.org/devfile": "devfile.yaml",
                    "backstage.io/source-location": "url:https://github.com/o/r/tree/main/svc"}),
                Some("https://github.com/o/r/tree/main/svc/devfile.yaml"),
            ),
            (
                json!({"che.eclipse.org/devfile-url": "http://insecure/d.yaml"}),
                None,
            ),
            (json!({"eclipse.org/che-devfile": "unknown"}), None),
            (json!({}), None),
        ];
        for (annotations, expected) in cases {
            assert_eq!(
                devfile_url(&with(annotations.clone()), &paths()).as_deref(),
                expected,
                "{annotations}"
            );
        }
    }
}
