//! Registering a location, as Backstage's catalog-import does it: a URL (or a file below the
//! configured roots), an analysis that previews the entities it would add (the service's dry
//! run, so the validation errors are the API's, shown inline), then "Import". And the locations
//! list: status, last refresh and the errors of each.

use askama::Template;
use axum::extract::{Query, State};
use axum::response::Response;
use serde::Deserialize;
use serde_json::Value;

use super::super::UiState;
use super::super::admin::time_text;
use super::super::page::{Chrome, UiError, html, html_with, see_other};
use super::super::session::{CsrfForm, Viewer};
use super::text_at;

pub struct Preview {
    pub kind: String,
    pub name: String,
    pub namespace: String,
}

#[derive(Template)]
#[template(path = "catalog/register.html")]
struct RegisterPage {
    chrome: Chrome,
    kind: String,
    target: String,
    error: Option<String>,
    preview: Option<Vec<Preview>>,
    exists: bool,
    allowed_hosts: Vec<String>,
    file_roots: Vec<String>,
}

fn register_page(ui: &UiState, viewer: &Viewer) -> RegisterPage {
    RegisterPage {
        chrome: Chrome::new(ui, viewer, "Register an existing component", "catalog"),
        kind: "url".into(),
        target: String::new(),
        error: None,
        preview: None,
        exists: false,
        allowed_hosts: ui
            .config
            .fetch
            .allow_hosts
            .iter()
            .map(|h| match h.port {
                Some(port) => format!("{}:{port}", h.host),
                None => h.host.clone(),
            })
            .collect(),
        file_roots: ui
            .config
            .catalog
            .file_roots
            .iter()
            .map(|p| p.display().to_string())
            .collect(),
    }
}

pub async fn page(State(ui): State<UiState>, viewer: Viewer) -> Result<Response, UiError> {
    html(&register_page(&ui, &viewer))
}

/// `action=analyze`: the dry run's preview; `action=import`: registers and goes to the
/// locations list.
pub async fn submit(
    State(ui): State<UiState>,
    viewer: Viewer,
    form: CsrfForm,
) -> Result<Response, UiError> {
    let mut page = register_page(&ui, &viewer);
    page.kind = form.get("type").unwrap_or("url").to_owned();
    page.target = form.get("target").unwrap_or_default().to_owned();
    let dry_run = form.get("action") != Some("import");
    match ui.catalog.register(&page.kind, &page.target, dry_run).await {
        Ok(registration) if dry_run => {
            page.exists = registration.exists;
            page.preview = Some(
                registration
                    .entities
                    .iter()
                    .map(|entity| {
                        let entity = Value::Object(entity.clone());
                        Preview {
                            kind: text_at(&entity, "kind").unwrap_or_default().to_owned(),
                            name: text_at(&entity, "metadata.name")
                                .unwrap_or_default()
                                .to_owned(),
                            namespace: text_at(&entity, "metadata.namespace")
                                .unwrap_or("default")
                                .to_owned(),
                        }
                    })
                    .collect(),
            );
            html(&page)
        }
        Ok(registration) => {
            let id: String =
                url::form_urlencoded::byte_serialize(registration.location.id.as_bytes()).collect();
            Ok(see_other(
                &ui.link(&format!("/catalog/locations?registered={id}")),
            ))
        }
        Err(e) => {
            let e = UiError::from(e);
            page.error = Some(e.message);
            html_with(e.status, &page)
        }
    }
}

pub struct LocationRow {
    pub id: String,
    pub kind: &'static str,
    pub target: String,
    pub status: &'static str,
    pub refreshed: String,
    pub next: String,
    pub errors: Vec<String>,
    pub registered: bool,
}

#[derive(Template)]
#[template(path = "catalog/locations.html")]
struct LocationsPage {
    chrome: Chrome,
    rows: Vec<LocationRow>,
    registered: Option<String>,
    catalog_link: String,
}

#[derive(Deserialize, Default)]
pub struct LocationsQuery {
    registered: Option<String>,
}

pub async fn locations(
    State(ui): State<UiState>,
    viewer: Viewer,
    Query(query): Query<LocationsQuery>,
) -> Result<Response, UiError> {
    let mut locations = ui.catalog.locations().await?;
    locations.sort_by_key(|l| std::cmp::Reverse(l.created_at));
    let registered = query
        .registered
        .filter(|id| locations.iter().any(|l| l.id == *id));
    let rows = locations
        .into_iter()
        .map(|l| LocationRow {
            registered: registered.as_deref() == Some(l.id.as_str()),
            kind: l.spec.kind.as_str(),
            status: l.status.as_str(),
            refreshed: l
                .last_refreshed_at
                .map(time_text)
                .unwrap_or_else(|| "not yet".into()),
            next: time_text(l.next_refresh_at),
            target: l.spec.target,
            errors: l.errors,
            id: l.id,
        })
        .collect();
    let page = LocationsPage {
        chrome: Chrome::new(&ui, &viewer, "Locations", "catalog"),
        rows,
        registered,
        catalog_link: ui.link("/catalog?kind=all"),
    };
    html(&page)
}
