//! An entity's page, as Backstage's has it: a header with kind, name and owner; the processing
//! errors of its location on top; tabs for the overview (the About card: description, owner,
//! system, type, lifecycle, tags, links, annotations, "View source"), the relations (a graph and
//! a list), the raw YAML, and DORA for Components (their project by the same rule the DevLake
//! plugin uses); "Open in Che" when an annotation names a devfile.

use std::collections::{HashMap, HashSet};

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use serde::Deserialize;
use serde_json::Value;

use super::super::UiState;
use super::super::dora::{Card, cards};
use super::super::page::{Chrome, UiError, html};
use super::super::session::Viewer;
use super::graph::{Graph, layout};
use super::{entity_link, text_at};
use crate::catalog::CatalogError;
use crate::catalog::entities::Fields;
use crate::catalog::filter::Filter;
use crate::catalog::model::EntityRef;
use crate::catalog::search::search_rows;
use crate::dora::directory::{PROJECT_KEYS, project_of};
use crate::dora::service::MetricsRequest;
use crate::error::AppError;

#[derive(Deserialize, Default)]
pub struct EntityQuery {
    tab: Option<String>,
}

/// A reference shown as a link when the catalog has the entity.
pub struct RefLink {
    pub text: String,
    pub link: Option<String>,
}

#[derive(Template)]
#[template(path = "catalog/entity.html")]
struct EntityPage {
    chrome: Chrome,
    tab: &'static str,
    kind: String,
    title: String,
    namespace: String,
    description: String,
    entity_ref: String,
    owner: Option<RefLink>,
    system: Option<RefLink>,
    about: Vec<(&'static str, String)>,
    tags: Vec<String>,
    links: Vec<(String, String)>,
    annotations: Vec<(String, String)>,
    source: Option<String>,
    location: Option<String>,
    location_errors: Vec<String>,
    relations: Vec<(String, RefLink)>,
    graph: Option<Graph>,
    yaml: String,
    devfile_url: Option<String>,
    project: Option<String>,
    dora_cards: Vec<Card>,
    dora_error: Option<String>,
    /// (current, label, link).
    tab_links: Vec<(bool, &'static str, String)>,
}

/// A ref's link, when the catalog has the entity.
fn ref_link(base: &str, target: &str, existing: &HashSet<String>) -> Option<String> {
    let parsed = EntityRef::parse(target, None, "default").ok()?;
    existing
        .contains(&parsed.to_string())
        .then(|| entity_link(base, &parsed.kind, &parsed.namespace, &parsed.name))
}

pub async fn page(
    State(ui): State<UiState>,
    viewer: Viewer,
    Path((namespace, kind, name)): Path<(String, String, String)>,
    Query(query): Query<EntityQuery>,
) -> Result<Response, UiError> {
    let entity_ref = EntityRef::new(&kind, &namespace, &name);
    let body = ui.catalog.entity_by_name(&kind, &namespace, &name).await?;
    let entity: Value =
        serde_json::from_str(&body).map_err(|e| UiError::from(AppError::Internal(e.into())))?;
    let relations: Vec<(String, String)> = entity["relations"]
        .as_array()
        .map(|relations| {
            relations
                .iter()
                .filter_map(|r| {
                    Some((
                        r["type"].as_str()?.to_owned(),
                        r["targetRef"].as_str()?.to_owned(),
                    ))
                })
                .collect()
        })
        .unwrap_or_default();
    // Which related entities the catalog has (their nodes and names link to their pages).
    let mut targets: Vec<String> = relations.iter().map(|(_, t)| t.to_lowercase()).collect();
    let owner = text_at(&entity, "spec.owner")
        .and_then(|o| EntityRef::parse(o, Some("group"), &entity_ref.namespace).ok());
    let system = text_at(&entity, "spec.system")
        .and_then(|s| EntityRef::parse(s, Some("system"), &entity_ref.namespace).ok());
    targets.extend(owner.iter().chain(system.iter()).map(ToString::to_string));
    targets.sort();
    targets.dedup();
    let existing: HashSet<String> = ui
        .catalog
        .entities_by_refs(&targets, &Filter::default(), &Fields::default())
        .await?
        .iter()
        .filter_map(Value::as_object)
        .map(|entity| EntityRef::of(entity).to_string())
        .collect();
    let base = ui.base.clone();
    let link_of = |r: &EntityRef| RefLink {
        text: r.to_string(),
        link: ref_link(&base, &r.to_string(), &existing),
    };
    let location = match ui
        .catalog
        .location_of_entity(&entity_ref.kind, &entity_ref.namespace, &entity_ref.name)
        .await
    {
        Ok(location) => Some(location),
        Err(CatalogError::NotFound(_)) => None,
        Err(e) => return Err(e.into()),
    };
    let tab = match query.tab.as_deref() {
        Some("relations") => "relations",
        Some("yaml") => "yaml",
        Some("dora") => "dora",
        _ => "overview",
    };
    // The DORA tab: a Component's project, by the DevLake plugin's own rule.
    let values: HashMap<String, String> = entity
        .as_object()
        .map(search_rows)
        .unwrap_or_default()
        .into_iter()
        .filter(|row| PROJECT_KEYS.contains(&row.key.as_str()))
        .filter_map(|row| Some((row.key, row.original?)))
        .collect();
    let project = project_of(&values).filter(|_| entity_ref.kind == "component");
    let (dora_cards, dora_error) = match (&project, tab) {
        (Some(project), "dora") => {
            let request = MetricsRequest {
                project: Some(project.clone()),
                last_days: Some(30),
                ..MetricsRequest::default()
            };
            match ui.dora.metrics(request).await {
                Ok(answer) => (cards(&answer), None),
                Err(e) => (Vec::new(), Some(UiError::from(e).message)),
            }
        }
        _ => (Vec::new(), None),
    };
    let annotations: Vec<(String, String)> = entity["metadata"]["annotations"]
        .as_object()
        .map(|a| {
            a.iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_owned()))
                .collect()
        })
        .unwrap_or_default();
    let source = annotations
        .iter()
        .find(|(k, _)| k == "backstage.io/source-location" || k == "backstage.io/view-url")
        .and_then(|(_, v)| v.strip_prefix("url:").or(Some(v.as_str())))
        .filter(|v| v.starts_with("https://") || v.starts_with("http://"))
        .map(str::to_owned);
    let links = entity["metadata"]["links"]
        .as_array()
        .map(|links| {
            links
                .iter()
                .filter_map(|l| {
                    let url = l["url"].as_str()?;
                    (url.starts_with("https://") || url.starts_with("http://")).then(|| {
                        (
                            url.to_owned(),
                            l["title"].as_str().unwrap_or(url).to_owned(),
                        )
                    })
                })
                .collect()
        })
        .unwrap_or_default();
    let mut about = Vec::new();
    for (label, path) in [
        ("Type", "spec.type"),
        ("Lifecycle", "spec.lifecycle"),
        ("Domain", "spec.domain"),
        ("Display name", "spec.profile.displayName"),
        ("Email", "spec.profile.email"),
    ] {
        if let Some(value) = text_at(&entity, path) {
            about.push((label, value.to_owned()));
        }
    }
    let graph = (tab == "relations").then(|| {
        layout(&entity_ref, &relations, |target| {
            ref_link(&base, target, &existing)
        })
    });
    let tabs = [
        ("overview", "Overview"),
        ("relations", "Relations"),
        ("yaml", "YAML"),
    ];
    let page_link = entity_link(
        &base,
        &entity_ref.kind,
        &entity_ref.namespace,
        &entity_ref.name,
    );
    let mut tab_links: Vec<(bool, &'static str, String)> = tabs
        .iter()
        .map(|(key, label)| (*key == tab, *label, format!("{page_link}?tab={key}")))
        .collect();
    if project.is_some() {
        tab_links.push((
            tab == "dora",
            "DORA Metrics",
            format!("{page_link}?tab=dora"),
        ));
    }
    let page = EntityPage {
        chrome: Chrome::new(
            &ui,
            &viewer,
            format!("{} {}", entity_ref.kind, entity_ref.name),
            "catalog",
        ),
        tab,
        kind: text_at(&entity, "kind").unwrap_or_default().to_owned(),
        title: text_at(&entity, "metadata.title")
            .or(text_at(&entity, "metadata.name"))
            .unwrap_or_default()
            .to_owned(),
        namespace: entity_ref.namespace.clone(),
        description: text_at(&entity, "metadata.description")
            .unwrap_or_default()
            .to_owned(),
        owner: owner.as_ref().map(link_of),
        system: system.as_ref().map(link_of),
        about,
        tags: entity["metadata"]["tags"]
            .as_array()
            .map(|t| {
                t.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default(),
        links,
        annotations,
        source,
        location: location
            .as_ref()
            .map(|l| format!("{}:{}", l.spec.kind.as_str(), l.spec.target)),
        location_errors: location.map(|l| l.errors).unwrap_or_default(),
        relations: relations
            .iter()
            .map(|(kind, target)| {
                (
                    kind.clone(),
                    RefLink {
                        text: target.clone(),
                        link: ref_link(&base, target, &existing),
                    },
                )
            })
            .collect(),
        graph,
        yaml: if tab == "yaml" {
            serde_saphyr::to_string(&entity).unwrap_or_else(|e| format!("# {e}"))
        } else {
            String::new()
        },
        devfile_url: super::che::devfile_url(&entity, &ui.config.ui.golden_paths),
        project,
        dora_cards,
        dora_error,
        tab_links,
        entity_ref: entity_ref.to_string(),
    };
    html(&page)
}
