//! Source-hosting URLs people paste (a file's page) mapped to the raw file behind them.

/// Where to read a URL's content, and how.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawSource {
    /// The URL to fetch.
    pub url: url::Url,
    /// Read through the GitHub API (needs the token; sees private repositories).
    pub github_api: bool,
}

/// `github.com/<owner>/<repo>/blob/<ref>/<path>` → raw.githubusercontent.com (or, with a token, the
/// contents API); `gitlab.com/<group...>/<project>/-/blob/<ref>/<path>` → `.../-/raw/<ref>/<path>`.
/// Anything else is read as it is.
pub fn raw_source(url: &url::Url, github_token: bool) -> RawSource {
    let as_is = RawSource {
        url: url.clone(),
        github_api: false,
    };
    let Some(host) = url.host_str() else {
        return as_is;
    };
    let segments: Vec<&str> = url
        .path_segments()
        .map(Iterator::collect)
        .unwrap_or_default();
    if host.eq_ignore_ascii_case("github.com") {
        if let [owner, repo, "blob", git_ref, path @ ..] = segments.as_slice()
            && !path.is_empty()
        {
            let path = path.join("/");
            let target = if github_token {
                format!("https://api.github.com/repos/{owner}/{repo}/contents/{path}?ref={git_ref}")
            } else {
                format!("https://raw.githubusercontent.com/{owner}/{repo}/{git_ref}/{path}")
            };
            if let Ok(url) = url::Url::parse(&target) {
                return RawSource {
                    url,
                    github_api: github_token,
                };
            }
        }
        return as_is;
    }
    if let Some(at) = segments.iter().position(|s| *s == "-")
        && segments.get(at + 1) == Some(&"blob")
        && at >= 2
    {
        let mut raw = url.clone();
        let mut rewritten: Vec<&str> = segments.clone();
        rewritten[at + 1] = "raw";
        raw.set_path(&rewritten.join("/"));
        return RawSource {
            url: raw,
            github_api: false,
        };
    }
    as_is
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(url: &str, token: bool) -> RawSource {
        raw_source(&url::Url::parse(url).unwrap(), token)
    }

    #[test]
    fn github_blob_urls_are_read_raw() {
        let source = raw(
            "https://github.com/paruff/fawkes/blob/main/platform/devfiles/goldenpath-python.yaml",
            false,
        );
        assert_eq!(
            source.url.as_str(),
            "https://raw.githubusercontent.com/paruff/fawkes/main/platform/devfiles/goldenpath-python.yaml"
        );
        let api = raw(
            "https://github.com/paruff/fawkes/blob/v1.2/catalog-info.yaml",
            true,
        );
        assert_eq!(
            api.url.as_str(),
            "https://api.github.com/repos/paruff/fawkes/contents/catalog-info.yaml?ref=v1.2"
        );
        assert!(api.github_api);
    }

    #[test]
    fn gitlab_blob_urls_are_read_raw() {
        let source = raw(
            "https://gitlab.com/group/sub/project/-/blob/main/catalog-info.yaml",
            false,
        );
        assert_eq!(
            source.url.as_str(),
            "https://gitlab.com/group/sub/project/-/raw/main/catalog-info.yaml"
        );
    }

    #[test]
    fn other_urls_are_read_as_they_are() {
        for url in [
            "https://raw.githubusercontent.com/a/b/main/x.yaml",
            "https://github.com/a/b",
            "https://example.com/blob/x.yaml",
        ] {
            assert_eq!(raw(url, false).url.as_str(), url);
        }
    }
}
