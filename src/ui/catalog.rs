//! The catalog pages, as Backstage's catalog plugins have them: the index (kind, type, owner,
//! lifecycle, tag and namespace filters, a text search, columns by kind, server-side pages
//! through by-query cursors), the entity page ([`entity`], with its relations graph in
//! [`graph`] and "Open in Che" from [`che`]), registering a location ([`register`], with a
//! dry-run preview) and the locations list. Every read and write is the catalog service's.

pub mod che;
pub mod entity;
pub mod graph;
pub mod register;

use askama::Template;
use axum::Router;
use axum::extract::{FromRef, Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::get;
use serde::Deserialize;
use serde_json::{Value, json};

use super::UiState;
use super::page::{Chrome, UiError, html, is_htmx};
use super::session::Viewer;
use crate::catalog::entities::{Cursor, FieldPath, Fields, Order};
use crate::catalog::filter::Filter;
use crate::catalog::predicate::predicate_filter;
use crate::catalog::query::{EntityQuery, FullText, QueryFrom, QueryStart};

/// Entities per page of the index.
pub const PAGE_SIZE: u64 = 20;
/// Values offered per filter at most (the most common first).
const MAX_FACET_VALUES: usize = 200;

pub fn routes<S>() -> Router<S>
where
    UiState: FromRef<S>,
    S: Clone + Send + Sync + 'static,
{
    Router::new()
        .route("/catalog", get(index))
        .route(
            "/catalog/register",
            get(register::page).post(register::submit),
        )
        .route("/catalog/locations", get(register::locations))
        .route("/catalog/{namespace}/{kind}/{name}", get(entity::page))
}

/// The string at a dotted path of an entity (`spec.owner`), if it is one.
pub fn text_at<'a>(entity: &'a Value, path: &str) -> Option<&'a str> {
    path.split('.')
        .try_fold(entity, |value, key| value.get(key))
        .and_then(Value::as_str)
}

/// The link to an entity's page from its ref parts.
pub fn entity_link(base: &str, kind: &str, namespace: &str, name: &str) -> String {
    let part = |s: &str| -> String { url::form_urlencoded::byte_serialize(s.as_bytes()).collect() };
    format!(
        "{base}/catalog/{}/{}/{}",
        part(namespace),
        part(&kind.to_lowercase()),
        part(name)
    )
}

/// The link to `entity`'s page (its kind, namespace, default `default`, and name).
pub fn link_of(base: &str, entity: &Value) -> String {
    entity_link(
        base,
        text_at(entity, "kind").unwrap_or_default(),
        text_at(entity, "metadata.namespace").unwrap_or("default"),
        text_at(entity, "metadata.name").unwrap_or_default(),
    )
}

/// A column of the index: header and dotted path.
type Column = (&'static str, &'static str);

/// Backstage's columns for each kind.
fn columns(kind: &str) -> Vec<Column> {
    match kind {
        "component" | "api" => vec![
            ("System", "spec.system"),
            ("Owner", "spec.owner"),
            ("Type", "spec.type"),
            ("Lifecycle", "spec.lifecycle"),
            ("Description", "metadata.description"),
        ],
        "resource" => vec![
            ("System", "spec.system"),
            ("Owner", "spec.owner"),
            ("Type", "spec.type"),
            ("Description", "metadata.description"),
        ],
        "system" => vec![
            ("Domain", "spec.domain"),
            ("Owner", "spec.owner"),
            ("Description", "metadata.description"),
        ],
        "domain" => vec![
            ("Owner", "spec.owner"),
            ("Description", "metadata.description"),
        ],
        "group" => vec![
            ("Type", "spec.type"),
            ("Display name", "spec.profile.displayName"),
            ("Description", "metadata.description"),
        ],
        "user" => vec![
            ("Display name", "spec.profile.displayName"),
            ("Email", "spec.profile.email"),
        ],
        "template" => vec![
            ("Owner", "spec.owner"),
            ("Type", "spec.type"),
            ("Description", "metadata.description"),
        ],
        "location" => vec![("Type", "spec.type"), ("Target", "spec.target")],
        _ => vec![
            ("Kind", "kind"),
            ("Owner", "spec.owner"),
            ("Description", "metadata.description"),
        ],
    }
}

/// The index's parameters.
#[derive(Debug, Deserialize, Default, Clone)]
pub struct IndexQuery {
    pub kind: Option<String>,
    #[serde(rename = "type")]
    pub spec_type: Option<String>,
    pub owner: Option<String>,
    pub lifecycle: Option<String>,
    pub tag: Option<String>,
    pub namespace: Option<String>,
    pub q: Option<String>,
    pub cursor: Option<String>,
}

impl IndexQuery {
    fn value(field: &Option<String>) -> Option<&str> {
        field.as_deref().map(str::trim).filter(|v| !v.is_empty())
    }

    /// The kind shown: the one asked for, Component by default; `all` for every kind.
    fn kind(&self) -> String {
        Self::value(&self.kind)
            .unwrap_or("component")
            .to_lowercase()
    }

    /// The filters as a by-query predicate (`$all` of `{key: value}`); `None` for everything.
    fn predicate(&self) -> Option<Value> {
        let kind = self.kind();
        let mut all = Vec::new();
        if kind != "all" {
            all.push(json!({"kind": kind}));
        }
        for (key, field) in [
            ("spec.type", &self.spec_type),
            ("spec.owner", &self.owner),
            ("spec.lifecycle", &self.lifecycle),
            ("metadata.tags", &self.tag),
            ("metadata.namespace", &self.namespace),
        ] {
            if let Some(value) = Self::value(field) {
                all.push(json!({ key: value }));
            }
        }
        (!all.is_empty()).then(|| json!({ "$all": all }))
    }

    /// The query string of the filters (without a cursor), for links.
    pub fn filters_query(&self) -> String {
        let mut out = url::form_urlencoded::Serializer::new(String::new());
        for (key, field) in [
            ("kind", &self.kind),
            ("type", &self.spec_type),
            ("owner", &self.owner),
            ("lifecycle", &self.lifecycle),
            ("tag", &self.tag),
            ("namespace", &self.namespace),
            ("q", &self.q),
        ] {
            if let Some(value) = Self::value(field) {
                out.append_pair(key, value);
            }
        }
        out.finish()
    }
}

/// A filter's select: its label, parameter, the current value and the values offered.
pub struct Select {
    pub label: &'static str,
    pub name: &'static str,
    pub current: String,
    pub options: Vec<(String, i64)>,
}

pub struct Row {
    pub link: String,
    pub name: String,
    pub title: Option<String>,
    pub cells: Vec<String>,
    pub tags: Vec<String>,
}

/// A by-query page as the API answers it.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct QueryAnswer {
    items: Vec<Value>,
    total_items: i64,
    page_info: PageInfo,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct PageInfo {
    next_cursor: Option<String>,
    prev_cursor: Option<String>,
}

/// The results (also a fragment of their own, for the search box).
#[derive(Template)]
#[template(path = "catalog/results.html")]
pub struct Results {
    pub base: std::sync::Arc<str>,
    /// "12 components", "1 entity".
    pub count_text: String,
    pub headers: Vec<&'static str>,
    pub rows: Vec<Row>,
    pub next: Option<String>,
    pub prev: Option<String>,
}

#[derive(Template)]
#[template(path = "catalog/index.html")]
struct IndexPage {
    chrome: Chrome,
    query: IndexQuery,
    kinds: Vec<(String, i64)>,
    kind: String,
    selects: Vec<Select>,
    results: Results,
}

/// How many entities of `kind` (`all` for any) a result holds, in words.
fn count_text(total: i64, kind: &str) -> String {
    let noun = match (kind, total) {
        ("all", 1) => "entity".to_owned(),
        ("all", _) => "entities".to_owned(),
        (kind, 1) => kind.to_owned(),
        (kind, _) if kind.ends_with('s') => kind.to_owned(),
        (kind, _) => format!("{kind}s"),
    };
    format!("{total} {noun}")
}

fn cursor_link(base: &str, filters: &str, cursor: &str) -> String {
    let cursor: String = url::form_urlencoded::byte_serialize(cursor.as_bytes()).collect();
    if filters.is_empty() {
        format!("{base}/catalog?cursor={cursor}")
    } else {
        format!("{base}/catalog?{filters}&cursor={cursor}")
    }
}

async fn results(ui: &UiState, query: &IndexQuery) -> Result<Results, UiError> {
    let kind = query.kind();
    let from = match IndexQuery::value(&query.cursor) {
        Some(cursor) => QueryFrom::Cursor(Cursor::new(cursor)),
        None => QueryFrom::Start(QueryStart {
            predicate: query.predicate(),
            order: Some(Order {
                field: FieldPath::new("metadata.name"),
                descending: false,
            }),
            full_text: IndexQuery::value(&query.q).map(|term| FullText {
                term: term.to_owned(),
                fields: Some(vec![
                    "metadata.name".into(),
                    "metadata.title".into(),
                    "spec.profile.displayName".into(),
                ]),
            }),
            include_total: true,
            ..QueryStart::default()
        }),
    };
    // The API's by-query page itself, kept until the catalog changes: a first page at 50,000
    // entities orders and counts every match.
    let answer = ui
        .catalog
        .query_json(EntityQuery {
            from,
            fields: Fields::default(),
            limit: Some(PAGE_SIZE),
        })
        .await?;
    let page: QueryAnswer = serde_json::from_slice(&answer.chunks().concat())
        .map_err(|e| AppErrorText(format!("a by-query page did not parse: {e}")))?;
    let headers: Vec<Column> = columns(&kind);
    let rows = page
        .items
        .into_iter()
        .map(|entity| {
            let name = text_at(&entity, "metadata.name")
                .unwrap_or_default()
                .to_owned();
            Row {
                link: link_of(&ui.base, &entity),
                title: text_at(&entity, "metadata.title").map(str::to_owned),
                cells: headers
                    .iter()
                    .map(|(_, path)| text_at(&entity, path).unwrap_or_default().to_owned())
                    .collect(),
                tags: entity["metadata"]["tags"]
                    .as_array()
                    .map(|tags| {
                        tags.iter()
                            .filter_map(Value::as_str)
                            .map(str::to_owned)
                            .collect()
                    })
                    .unwrap_or_default(),
                name,
            }
        })
        .collect();
    let filters = query.filters_query();
    Ok(Results {
        base: ui.base.clone(),
        count_text: count_text(page.total_items, &kind),
        headers: headers.iter().map(|(h, _)| *h).collect(),
        rows,
        next: page
            .page_info
            .next_cursor
            .map(|c| cursor_link(&ui.base, &filters, &c)),
        prev: page
            .page_info
            .prev_cursor
            .map(|c| cursor_link(&ui.base, &filters, &c)),
    })
}

/// The catalog index; with htmx (the search box, a filter change), only the results.
pub async fn index(
    State(ui): State<UiState>,
    viewer: Viewer,
    headers: HeaderMap,
    Query(query): Query<IndexQuery>,
) -> Result<Response, UiError> {
    let results = results(&ui, &query).await?;
    // htmx asks for the results alone, except when it restores a page from history.
    if is_htmx(&headers) && !headers.contains_key("hx-history-restore-request") {
        return html(&results);
    }
    let kind = query.kind();
    let kinds = facet(&ui, "kind", &Filter::default()).await?;
    let scope = match (kind != "all").then(|| json!({ "kind": kind })) {
        Some(predicate) => predicate_filter(&predicate).map_err(AppErrorText)?,
        None => Filter::default(),
    };
    let mut selects = Vec::new();
    for (label, name, key, current) in [
        ("Type", "type", "spec.type", &query.spec_type),
        ("Owner", "owner", "spec.owner", &query.owner),
        ("Lifecycle", "lifecycle", "spec.lifecycle", &query.lifecycle),
        ("Tag", "tag", "metadata.tags", &query.tag),
        (
            "Namespace",
            "namespace",
            "metadata.namespace",
            &query.namespace,
        ),
    ] {
        let mut options = facet(&ui, key, &scope).await?;
        options.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        options.truncate(MAX_FACET_VALUES);
        options.sort();
        selects.push(Select {
            label,
            name,
            current: current.clone().unwrap_or_default(),
            options,
        });
    }
    let page = IndexPage {
        chrome: Chrome::new(&ui, &viewer, "Catalog", "catalog"),
        kinds,
        kind,
        selects,
        results,
        query,
    };
    html(&page)
}

/// The values of one facet over the entities matching `filter`.
async fn facet(ui: &UiState, key: &str, filter: &Filter) -> Result<Vec<(String, i64)>, UiError> {
    let mut facets = ui.catalog.facets(vec![key.to_owned()], filter).await?;
    Ok(facets.remove(key).unwrap_or_default())
}

/// A predicate the UI built itself failed to parse: a bug, reported as a 500.
struct AppErrorText(String);

impl From<AppErrorText> for UiError {
    fn from(err: AppErrorText) -> Self {
        UiError::from(crate::error::AppError::Internal(anyhow::anyhow!(err.0)))
    }
}
