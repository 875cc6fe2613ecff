//! The checks of `[server]` settings for running behind browsers and proxies: CORS origins and
//! the public base path.

use super::ConfigError;

/// Which browser origins may call the API.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Cors {
    /// No CORS headers: browsers allow same-origin calls only (calls through Backstage's proxy
    /// are same-origin for the browser).
    #[default]
    Off,
    /// Any origin (`*`); safe with bearer tokens, which browsers never attach on their own.
    Any,
    /// These origins exactly, each `scheme://host[:port]`, lower case.
    Origins(Vec<String>),
}

pub(super) fn cors(origins: &[String]) -> Result<Cors, ConfigError> {
    let origins: Vec<&str> = origins
        .iter()
        .map(|o| o.trim())
        .filter(|o| !o.is_empty())
        .collect();
    if origins.is_empty() {
        return Ok(Cors::Off);
    }
    if origins.contains(&"*") {
        if origins.len() > 1 {
            return Err(ConfigError::new(
                "server.cors_origins",
                "'*' allows every origin; list either '*' alone or the origins",
            ));
        }
        return Ok(Cors::Any);
    }
    let mut checked = Vec::new();
    for origin in origins {
        let invalid = || {
            ConfigError::new(
                "server.cors_origins",
                format!(
                    "'{origin}' is not an origin such as https://backstage.example.com \
                     (a scheme, a host and an optional port, no path)"
                ),
            )
        };
        let url = url::Url::parse(origin).map_err(|_| invalid())?;
        if !matches!(url.scheme(), "http" | "https")
            || url.host_str().is_none()
            || url.path() != "/"
            || origin.ends_with('/')
            || url.query().is_some()
            || url.fragment().is_some()
            || !url.username().is_empty()
        {
            return Err(invalid());
        }
        checked.push(url.origin().ascii_serialization());
    }
    Ok(Cors::Origins(checked))
}

pub(super) fn base_path(path: &str) -> Result<String, ConfigError> {
    let path = path.trim().trim_end_matches('/');
    if path.is_empty() {
        return Ok(String::new());
    }
    let valid = path.starts_with('/')
        && !path.contains("//")
        && path
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "/-._~".contains(c))
        && !path
            .split('/')
            .any(|segment| segment == ".." || segment == ".");
    if !valid {
        return Err(ConfigError::new(
            "server.public_base_path",
            format!(
                "'{path}' is not a URL path such as /api/proxy/fawkes-portal \
                 (letters, digits, -._~ between slashes)"
            ),
        ));
    }
    Ok(path.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn cors_origins_are_origins_or_a_lone_star() {
        assert_eq!(cors(&[]).unwrap(), Cors::Off);
        assert_eq!(cors(&strings(&["*"])).unwrap(), Cors::Any);
        assert_eq!(
            cors(&strings(&[
                "https://Backstage.Example.com",
                "http://localhost:3000"
            ]))
            .unwrap(),
            Cors::Origins(strings(&[
                "https://backstage.example.com",
                "http://localhost:3000"
            ]))
        );
        for bad in [
            "backstage.example.com",
            "https://backstage.example.com/",
            "https://backstage.example.com/app",
            "ftp://x.example",
            "https://u@x.example",
        ] {
            let err = cors(&strings(&[bad])).unwrap_err();
            assert_eq!(err.setting, "server.cors_origins", "{bad}");
            assert!(err.problem.contains(bad), "{err}");
        }
        assert!(cors(&strings(&["*", "https://x.example"])).is_err());
    }

    #[test]
    fn the_base_path_is_a_clean_absolute_path() {
        assert_eq!(base_path("").unwrap(), "");
        assert_eq!(base_path("/").unwrap(), "");
        assert_eq!(
            base_path("/api/proxy/fawkes-portal/").unwrap(),
            "/api/proxy/fawkes-portal"
        );
        for bad in [
            "api/proxy",
            "/a//b",
            "/a/../b",
            "/a?b",
            "/a b",
            "https://x/y",
        ] {
            assert_eq!(
                base_path(bad).unwrap_err().setting,
                "server.public_base_path",
                "{bad}"
            );
        }
    }
}
