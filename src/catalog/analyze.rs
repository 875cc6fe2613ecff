//! `POST /analyze-location` (Backstage's catalog-import uses it for a repository URL): the
//! catalog file of the repository if it has one, else the Component Backstage proposes to create.
//!
//! The repository is read from the URL as Backstage's `git-url-parse` reads it: GitHub's
//! `owner/repo[/tree|blob/<ref>/...]`, GitLab's `group/.../project[/-/tree|blob/<ref>/...]`.
//! Stock Backstage never looks for the file itself (its GitHub module asks GitHub's search API);
//! here `<repo>/blob/<ref>/catalog-info.yaml` (the URL's ref, else `main`, then `master`) is read
//! through the guarded fetcher, so it works for any host the fetcher allows.

use serde_json::{Value, json};

use super::model::{LocationSpec, LocationType};
use super::read::ReadOutcome;
use super::service::{Catalog, CatalogError};

/// The file looked for when the request names none.
const DEFAULT_FILENAME: &str = "catalog-info.yaml";
/// Longest `catalogFilename` accepted.
const MAX_FILENAME: usize = 255;

/// What the analysis found.
pub struct Analysis {
    /// The repository's catalog file: `(location read, registered already, entity)` per entity.
    pub existing: Vec<(LocationSpec, bool, Value)>,
    /// Without one: the entity Backstage proposes to create.
    pub generate: Vec<Value>,
}

/// A repository as its URL names it.
struct Repo {
    base: String,
    /// Path segments of the repository (`owner/repo`, or GitLab's `group/sub/project`).
    path: Vec<String>,
    git_ref: Option<String>,
    /// GitLab's `/-/` layout.
    gitlab: bool,
}

impl Repo {
    fn of(url: &url::Url) -> Repo {
        let host = url.host_str().unwrap_or_default().to_ascii_lowercase();
        let segments: Vec<String> = url
            .path_segments()
            .map(|s| s.filter(|s| !s.is_empty()).map(str::to_owned).collect())
            .unwrap_or_default();
        let base = match url.port() {
            Some(port) => format!("{}://{host}:{port}", url.scheme()),
            None => format!("{}://{host}", url.scheme()),
        };
        let after_ref = |rest: &[String]| match rest {
            [kind, git_ref, ..] if kind == "tree" || kind == "blob" => Some(git_ref.clone()),
            _ => None,
        };
        if let Some(dash) = segments.iter().position(|s| s == "-") {
            return Repo {
                base,
                git_ref: after_ref(&segments[dash + 1..]),
                path: segments[..dash].to_vec(),
                gitlab: true,
            };
        }
        if host == "gitlab.com" {
            return Repo {
                base,
                path: segments,
                git_ref: None,
                gitlab: true,
            };
        }
        let split = segments.len().min(2);
        Repo {
            base,
            git_ref: after_ref(&segments[split..]),
            path: segments[..split].to_vec(),
            gitlab: false,
        }
    }

    fn name(&self) -> &str {
        self.path
            .last()
            .map_or("", |n| n.strip_suffix(".git").unwrap_or(n))
    }

    /// Where the catalog file would be, most likely first.
    fn catalog_urls(&self, filename: &str) -> Vec<String> {
        if self.path.len() < 2 {
            return Vec::new();
        }
        let refs = match &self.git_ref {
            Some(r) => vec![r.as_str()],
            None => vec!["main", "master"],
        };
        let repo = format!("{}/{}", self.base, self.path.join("/"));
        let blob = if self.gitlab { "-/blob" } else { "blob" };
        refs.into_iter()
            .map(|r| format!("{repo}/{blob}/{r}/{filename}"))
            .collect()
    }

    /// The Component Backstage proposes for a repository without a catalog file.
    fn proposed_entity(&self, host: &str) -> Value {
        let mut metadata = json!({"name": self.name()});
        let slug_host = match host {
            "github.com" => Some("github.com"),
            "gitlab.com" => Some("gitlab.com"),
            _ => None,
        };
        if let Some(slug_host) = slug_host {
            let slug = if self.gitlab {
                self.path.join("/")
            } else {
                format!("{}/{}", self.path.first().map_or("", |s| s), self.name())
            };
            metadata["annotations"] = json!({format!("{slug_host}/project-slug"): slug});
        }
        json!({
            "apiVersion": "backstage.io/v1alpha1",
            "kind": "Component",
            "metadata": metadata,
            "spec": {"type": "other", "lifecycle": "unknown"},
        })
    }
}

impl Catalog {
    /// Analyses the repository at `target` (`kind` must be `url`).
    pub async fn analyze_location(
        &self,
        kind: &str,
        target: &str,
        catalog_filename: Option<&str>,
    ) -> Result<Analysis, CatalogError> {
        if kind != "url" {
            return Err(CatalogError::Invalid(format!(
                "Invalid location type '{kind}': only url locations can be analyzed"
            )));
        }
        let url = url::Url::parse(target)
            .map_err(|_| CatalogError::Invalid("The given location.target is not a URL".into()))?;
        let filename = catalog_filename.unwrap_or(DEFAULT_FILENAME);
        if filename.is_empty()
            || filename.len() > MAX_FILENAME
            || filename.starts_with('/')
            || filename.split('/').any(|s| s == ".." || s == ".")
        {
            return Err(CatalogError::Invalid(format!(
                "Invalid catalogFilename '{filename}': a relative path inside the repository"
            )));
        }
        let repo = Repo::of(&url);
        for candidate in repo.catalog_urls(filename) {
            let spec = LocationSpec {
                kind: LocationType::Url,
                target: candidate,
            };
            let Ok(ReadOutcome::Body { bytes, .. }) = self.ingest.reader.read(&spec, None).await
            else {
                continue;
            };
            let (entities, _) = self.ingest.entities_of(&bytes, &spec, &spec).await;
            if entities.is_empty() {
                continue;
            }
            let registered = self.store.location_by_spec(&spec).await?.is_some();
            return Ok(Analysis {
                existing: entities
                    .into_iter()
                    .map(|(entity, _)| (spec.clone(), registered, Value::Object(entity)))
                    .collect(),
                generate: Vec::new(),
            });
        }
        let host = url.host_str().unwrap_or_default().to_ascii_lowercase();
        Ok(Analysis {
            existing: Vec::new(),
            generate: vec![repo.proposed_entity(&host)],
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn repo(url: &str) -> Repo {
        Repo::of(&url::Url::parse(url).unwrap())
    }

    #[test]
    fn repositories_are_read_from_github_and_gitlab_urls() {
        let gh = repo("https://github.com/acme/my-repo");
        assert_eq!(
            gh.proposed_entity("github.com")["metadata"],
            json!({"name": "my-repo", "annotations": {"github.com/project-slug": "acme/my-repo"}})
        );
        assert_eq!(
            gh.catalog_urls("catalog-info.yaml"),
            [
                "https://github.com/acme/my-repo/blob/main/catalog-info.yaml",
                "https://github.com/acme/my-repo/blob/master/catalog-info.yaml"
            ]
        );
        let gl = repo("https://gitlab.com/grp/sub/proj/-/tree/dev");
        assert_eq!(
            gl.proposed_entity("gitlab.com")["metadata"],
            json!({"name": "proj", "annotations": {"gitlab.com/project-slug": "grp/sub/proj"}})
        );
        assert_eq!(
            gl.catalog_urls("c.yaml"),
            ["https://gitlab.com/grp/sub/proj/-/blob/dev/c.yaml"]
        );
        let other = repo("http://127.0.0.1:8901/t/a.yaml");
        assert_eq!(
            other.proposed_entity("127.0.0.1")["metadata"],
            json!({"name": "a.yaml"})
        );
    }
}
